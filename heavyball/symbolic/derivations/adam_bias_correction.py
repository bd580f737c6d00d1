"""The derivation ``adam_bias_correction`` (see :func:`adam_bias_correction`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..algebra import assumption_texts, given_positive, pos, real
from ..claims import Derivation, claim

#: position in the catalogue of derivations
ORDER = 120

#: what the derivation shows, in words
FINDINGS = (
    "For a constant gradient $m_t = (1 − β_1^t)g$ and $v_t = (1 − β_2^t)g²$, so the bias-corrected moments "
    "are exactly $g$ and $g²$ at every $t$ (the lecture's formulas; torch's lerp form is the same recurrence).",
    "torch adds $ε$ after the bias correction: the first step is $θ_1 = θ_0 − γg/(|g| + ε)$, a step of "
    "length $≈ γ$ whatever the scale of $g$. Adding $ε$ before the correction (Kingma & Ba's efficient "
    "form) gives $θ_0 − γg/(|g| + ε/√(1 − β_2))$: $ε$ is effectively $1/√(1 − β_2) ≈ 31.6$ times larger "
    "for $β_2 = 0.999$, which matters when $|g|$ is comparable to $ε$.",
)


@functools.cache
def adam_bias_correction(*, beta1: Any = None, beta2: Any = None, lr: Any = None, eps: Any = None) -> Derivation:
    r"""Adam with a constant gradient: ``m_t = (1 − β1ᵗ)g``, ``v_t = (1 − β2ᵗ)g²``; the
    corrected moments are ``g`` and ``g²``; torch's first step is ``θ₁ = θ₀ − γg/(|g| + ε)``.

    The recurrences are solved with ``rsolve`` from ``m_0 = v_0 = 0``. torch adds ε after
    the bias correction (``denom = √v/√(1 − β2ᵗ) + ε``); adding it before
    (``(√v + ε)/√(1 − β2ᵗ)``, the "efficient" form of Kingma & Ba) makes the first step
    ``θ₀ − γg/(|g| + ε/√(1 − β2))``.

    Examples
    --------
    >>> adam_bias_correction().result["m_t"]
    -beta1**t*g + g
    """
    beta1, beta2, lr, eps = given_positive(beta1=beta1, beta2=beta2, lr=lr, eps=eps)
    g, theta0 = real("g"), real("theta_0")
    w = pos("w")  # w = 1 − β2 > 0, for the exact reduction of √(1 − β2)
    t = sp.Symbol("t", integer=True, nonnegative=True)
    M, V = sp.Function("m"), sp.Function("v")
    m_prev, _v_prev = sp.Symbol("m_prev"), sp.Symbol("v_prev")
    lerp = m_prev + (1 - beta1) * (g - m_prev)  # torch: exp_avg.lerp_(grad, 1 - beta1)
    ema = beta1 * m_prev + (1 - beta1) * g
    m_t = sp.rsolve(M(t) - beta1 * M(t - 1) - (1 - beta1) * g, M(t), {M(0): 0})
    v_t = sp.rsolve(V(t) - beta2 * V(t - 1) - (1 - beta2) * g**2, V(t), {V(0): 0})
    m_hat, v_hat = sp.cancel(m_t / (1 - beta1**t)), sp.cancel(v_t / (1 - beta2**t))
    m1, v1 = m_t.subs(t, 1), v_t.subs(t, 1)
    bc1, bc2 = 1 - beta1, 1 - beta2
    # torch: denom = sqrt(v)/sqrt(bc2) + eps ; theta += (-lr/bc1) * m / denom
    theta_torch = theta0 + (-lr / bc1) * m1 / (sp.sqrt(v1) / sp.sqrt(bc2) + eps)
    theta_before = theta0 + (-lr / bc1) * m1 / ((sp.sqrt(v1) + eps) / sp.sqrt(bc2))
    region = {beta2: 1 - w}
    box = {
        beta1: (0.05, 0.999),
        beta2: (0.05, 0.9999),
        lr: (1e-4, 1.0),
        eps: (1e-8, 1e-1),
        g: (-3.0, 3.0),
        theta0: (-2.0, 2.0),
        m_prev: (-2.0, 2.0),
        t: (1, 60),
    }
    claims = (
        claim("lerp_form", lerp, ema, box, note="torch's lerp is the exponential moving average"),
        claim("first_moment", m_t, (1 - beta1**t) * g, box),
        claim("second_moment", v_t, (1 - beta2**t) * g**2, box),
        claim("m_hat", m_hat, g, box),
        claim("v_hat", v_hat, g**2, box),
        claim(
            "first_step_torch",
            theta_torch,
            theta0 - lr * g / (sp.Abs(g) + eps),
            box,
            region=region,
            note="ε added after the bias correction",
        ),
        claim(
            "first_step_eps_before",
            theta_before,
            theta0 - lr * g / (sp.Abs(g) + eps / sp.sqrt(1 - beta2)),
            box,
            region=region,
            note="ε added before it: effectively ε/√(1 − β2)",
        ),
        claim(
            "effective_eps_factor_default",
            1 / sp.sqrt(1 - sp.Rational(999, 1000)),
            10 * sp.sqrt(10),
            {},
            note="β2 = 0.999: ε is effectively 31.6 times larger",
        ),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "m_t": m_t,
        "v_t": v_t,
        "m_hat": m_hat,
        "v_hat": v_hat,
        "theta_1_torch": theta_torch,
        "theta_1_eps_before": theta_before,
    }
    steps_ = (
        ("first moment recurrence", sp.Eq(M(t), beta1 * M(t - 1) + (1 - beta1) * g)),
        ("solution ($m_0 = 0$)", sp.Eq(M(t), m_t)),
        ("second moment", sp.Eq(V(t), v_t)),
        ("torch's first step", sp.Eq(sp.Symbol("theta_1"), theta_torch)),
        ("$ε$ added before the correction", sp.Eq(sp.Symbol("theta_1"), theta_before)),
    )
    return Derivation(
        name="adam_bias_correction",
        title="Adam's bias correction and the placement of $ε$",
        assumptions=assumption_texts(
            (beta1, beta2, lr, eps, g, t), "$0 < β_1, β_2 < 1$; a constant gradient $g$; $m_0 = v_0 = 0$"
        ),
        symbols={"beta1": beta1, "beta2": beta2, "lr": lr, "eps": eps, "g": g, "t": t, "theta_0": theta0},
        result=result,
        steps=steps_,
        claims=claims,
        findings=FINDINGS,
        references=("Kingma & Ba (2015)", "torch.optim.Adam source (torch/optim/adam.py)"),
    )
