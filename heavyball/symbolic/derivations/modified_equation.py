"""The derivation ``modified_equation`` (see :func:`modified_equation`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sympy as sp

from ...recurrences import iteration_matrix
from ..algebra import assumption_texts, given_positive, one_minus, root_series
from ..claims import Derivation, claim
from ..rules import torch_sgd_step

#: position in the catalogue of derivations
ORDER = 130
#: the results that `numeric` lambdifies, all functions of μ alone
_NUMERIC = ("C_heavyball", "C_nesterov", "C_gd", "flow_factor", "shift_heavyball", "shift_nesterov")

#: what the derivation shows, in words
FINDINGS = (
    "$C(μ) = (1 + μ)/(2(1 − μ)³)$ for heavy ball and $(1 − μ + 2μ²)/(2(1 − μ)³)$ for "
    "Nesterov (torch's forms), so $θ' = −∇f/(1 − μ) − γ·C(μ)∇²f∇f$. Derived two independent ways: "
    "(i) matching the slow characteristic root on $f = ½hx²$ with $exp(γ·s)$ to $O(γ²)$; (ii) backward "
    "error analysis (Lie-series ansatz) of the buffer-free two-step recurrence for a general $f$ in 2-D.",
    "The modified flow is a rescaled gradient flow of the modified loss $f + γ(1 − μ)C/2·‖∇f‖²$; "
    "$C_HB$ is $(1 + μ)/(1 − μ)$ times the coefficient $1/(2(1 − μ)²)$ of gradient descent with step "
    "$γ/(1 − μ)$ in the same time, the factor reported by Ghosh, Lyu, Zhang & Wang (ICLR 2023).",
    "Sutskever's look-ahead sequence $x_k$ (whose look-ahead points are torch's $θ_k$) has the same "
    "$O(γ)$ modified flow: the two sequences differ by a near-identity change of variables whose "
    "$O(γ)$ effect on the vector field cancels.",
    "Initial layer: started torch's way ($b = g$ at the first step), the iterates follow the modified "
    "flow started from $θ_0 + γ·D(μ)∇f(θ_0)$ with $D = μ/(1 − μ)²$ (heavy ball) or $μ²/(1 − μ)²$ "
    "(Nesterov), plus a fast mode decaying like $μ^k$ whose amplitude is $O(γ)$. So the error against "
    "the modified flow from $θ_0$ itself is $O(γ)$, and $O(γ²)$ only with the shifted start and away "
    "from the initial layer ($t ≫ γ/(1 − μ)$); against the rescaled gradient flow it is $O(γ)$.",
    "Kovachki & Stuart (JMLR 22, 2021) write heavy ball as $x_{k+1} = x_k − h∇f(x_k) + λ(x_k − x_{k−1})$, "
    "the same recurrence for $θ$ as torch's with $h = γ$, $λ = μ$; the coefficients above are derived "
    "here, two ways, and agree with the factor $(1 + μ)/(1 − μ)$ of Ghosh et al.",
)


def _torch_residual(*, lr: Any, mu: Any, nesterov: bool) -> Callable[..., Any]:
    """The two-step θ-recurrence of torch's SGD (momentum μ, optionally Nesterov), obtained
    by eliminating the buffer: returns ``residual(θ_{k+1}, θ_k, θ_{k−1}, grad_at)``."""

    def residual(nxt: Any, x: Any, prv: Any, grad_at: Callable[[Any], Any]) -> Any:
        n = x.shape[0]
        buf_k = sp.Matrix(sp.symbols(f"B1:{n + 1}"))
        g_prev = grad_at(prv)
        # the step θ_{k−1} -> θ_k whose new buffer is b_k (torch: b_k = μ b_{k−1} + g_{k−1})
        theta_k, _ = torch_sgd_step(prv, (buf_k - g_prev) / mu, g_prev, lr=lr, momentum=mu, nesterov=nesterov)
        solved = sp.solve(list(theta_k - x), list(buf_k), dict=True)[0]
        theta_next, _ = torch_sgd_step(x, buf_k.subs(solved), grad_at(x), lr=lr, momentum=mu, nesterov=nesterov)
        return nxt - theta_next

    return residual


def _backward_error(residual: Callable[..., Any], *, n: int, lr: Any) -> tuple[Any, ...]:
    r"""Backward error analysis of a two-step recurrence ``residual(θ_{k+1}, θ_k, θ_{k−1}) = 0``.

    Ansatz: the iterates are samples ``θ_k = x(k·lr)`` of a flow ``x' = F0(x) + lr·F1(x)``, so
    ``θ_{k±1} = Φ_{±lr}(x) = x ± lr F + (lr²/2)(DF)F + O(lr³)`` (Lie series). Every gradient in
    the recurrences is multiplied by ``lr``, so a first-order Taylor expansion
    ``∇f(x + d) = ∇f(x) + ∇²f(x) d`` of the gradients is enough to match ``O(γ²)``. The
    ``lr¹`` terms determine ``F0``, the ``lr²`` terms ``F1``. ``f`` is an undefined function of
    ``n`` coordinates. Returns ``(F0, F1, grad, hessian, coordinates, f)``.
    """
    xs = sp.symbols(f"x1:{n + 1}", real=True)
    f = sp.Function("f")
    fx = f(*xs)
    grad = sp.Matrix([fx.diff(x) for x in xs])
    hess = sp.hessian(fx, xs)
    X = sp.Matrix(xs)
    F0 = sp.Matrix(sp.symbols(f"F0_1:{n + 1}"))
    F1 = sp.Matrix(sp.symbols(f"F1_1:{n + 1}"))
    DFF = sp.Matrix(sp.symbols(f"A1:{n + 1}"))  # stands for (DF0)F0
    nxt = X + lr * F0 + lr**2 * (F1 + DFF / 2)
    prv = X - lr * F0 + lr**2 * (-F1 + DFF / 2)

    def grad_at(point: Any) -> Any:
        first_order = (point - X).applyfunc(lambda e: sp.expand(e).coeff(lr, 1)) * lr
        return grad + hess * first_order

    R = residual(nxt, X, prv, grad_at).applyfunc(sp.expand)
    order = lambda k: R.applyfunc(lambda e: e.coeff(lr, k))  # noqa: E731
    if any(sp.simplify(e) != 0 for e in order(0)):
        raise ValueError("the recurrence is not consistent at order lr**0")
    sol0 = sp.solve(list(order(1)), list(F0), dict=True)[0]
    F0e = F0.subs(sol0).applyfunc(sp.factor)
    dff = F0e.jacobian(xs) * F0e
    eq2 = order(2).subs(sol0).subs(dict(zip(DFF, dff, strict=False)))
    sol1 = sp.solve(list(eq2), list(F1), dict=True)[0]
    F1e = F1.subs(sol1).applyfunc(sp.factor)
    return F0e, F1e, grad, hess, xs, f


def _root_matching(mu: Any, lr: Any, h: Any, z: sp.Symbol) -> tuple[dict[str, dict[str, Any]], Any]:
    """On ``f = ½hx²``: the slow root ``z = 1 + a_1 lr + a_2 lr²`` of each family matched with
    ``exp(lr·(s_0 + lr s_1))``, and the initial shift of the slow manifold.

    Returns, per family, the polynomial, ``(a_1, a_2)``, the flow ``s_0``, ``C = −s_1/h²`` and the
    shift ``D``; and the expansion of one step of the flow.
    """
    s0, s1 = sp.symbols("s0 s1")
    one_step = sp.expand(sp.series(sp.exp(lr * (s0 + lr * s1)), lr, 0, 3).removeO())
    linear: dict[str, dict[str, Any]] = {}
    for method in ("heavyball", "nesterov"):
        poly = sp.expand(sp.Matrix(iteration_matrix(method, lr * h, mu)).charpoly(z).as_expr())
        a1, a2 = root_series(poly, z, lr, 1, 2)  # slow root
        (f1,) = root_series(poly, z, lr, mu, 1)  # fast root
        match = sp.solve([sp.Eq(one_step.coeff(lr, 1), a1), sp.Eq(one_step.coeff(lr, 2), a2)], [s0, s1], dict=True)[0]
        theta1, _ = torch_sgd_step(sp.Integer(1), 0, h, lr=lr, momentum=mu, nesterov=method == "nesterov", first=True)
        z_slow, z_fast = 1 + a1 * lr + a2 * lr**2, mu + f1 * lr
        amplitude = (theta1 - z_fast) / (z_slow - z_fast)  # θ_k = A z_slow^k + (1 − A) z_fast^k, θ_0 = 1
        shift = sp.factor(sp.series(amplitude, lr, 0, 2).removeO().coeff(lr, 1) / h)
        linear[method] = {
            "poly": poly,
            "slow": (a1, a2),
            "flow": sp.factor(match[s0]),
            "C": sp.factor(-match[s1] / h**2),
            "shift": shift,
        }
    for entry in linear.values():
        entry["C"], entry["shift"] = one_minus(entry["C"], mu), one_minus(entry["shift"], mu)
    return linear, one_step


def _bea_flows(mu: Any, lr: Any) -> dict[str, tuple[Any, ...]]:
    """Backward error analysis, general ``f``: torch's heavy ball and Nesterov (2-D), Sutskever's
    look-ahead sequence, GD with step ``lr/(1 − μ)``, and torch's heavy ball in 1-D."""

    def sutskever(nxt: Any, x: Any, prv: Any, grad_at: Callable[[Any], Any]) -> Any:
        # x_{k+1} = x_k + μ(x_k − x_{k−1}) − lr ∇f(x_k + μ(x_k − x_{k−1}))
        return nxt - (x + mu * (x - prv) - lr * grad_at(x + mu * (x - prv)))

    def gd_scaled(nxt: Any, x: Any, prv: Any, grad_at: Callable[[Any], Any]) -> Any:
        # GD with step lr/(1 − μ), same time t = k·lr
        return nxt - (x - lr / (1 - mu) * grad_at(x))

    return {
        "heavyball": _backward_error(_torch_residual(lr=lr, mu=mu, nesterov=False), n=2, lr=lr),
        "nesterov": _backward_error(_torch_residual(lr=lr, mu=mu, nesterov=True), n=2, lr=lr),
        "sutskever": _backward_error(sutskever, n=2, lr=lr),
        "gd_scaled": _backward_error(gd_scaled, n=2, lr=lr),
        "heavyball_1d": _backward_error(_torch_residual(lr=lr, mu=mu, nesterov=False), n=1, lr=lr),
    }


def _steps(
    linear: dict[str, dict[str, Any]], one_step: Any, C_hb: Any, C_n: Any, F1_hb: Any, z: Any
) -> tuple[tuple[str, Any], ...]:
    """The displayed steps of the derivation."""
    a1, a2 = linear["heavyball"]["slow"]
    return (
        (
            "heavy ball on $f = ½hx²$: characteristic polynomial",
            sp.Eq(sp.Symbol("p(z)"), sp.collect(linear["heavyball"]["poly"], z)),
        ),
        ("slow root $z = 1 + a_1 γ + a_2 γ²$", sp.Tuple(sp.Eq(sp.Symbol("a1"), a1), sp.Eq(sp.Symbol("a2"), a2))),
        ("one step of $x' = (s_0 + γ s_1)x$", sp.Eq(sp.Symbol("e^{γs}"), one_step)),
        ("$C = −s_1/h²$", sp.Eq(sp.Symbol("C_HB"), C_hb)),
        ("Nesterov", sp.Eq(sp.Symbol("C_N"), C_n)),
        ("backward error analysis, heavy ball, general $f$: $F_1$", F1_hb),
        (
            "initial shift $D$: the flow starts at $θ_0 + γ·D∇f(θ_0)$",
            sp.Tuple(linear["heavyball"]["shift"], linear["nesterov"]["shift"]),
        ),
    )


@functools.cache
def modified_equation(*, mu: Any = None, lr: Any = None, h: Any = None) -> Derivation:
    r"""Fixed momentum, ``lr → 0`` (Kovachki & Stuart 2021): the modified flow and ``C(μ)``.

    In the time ``t = k·lr`` the iterates of torch's SGD with momentum μ follow
    ``θ' = −∇f/(1 − μ) − lr·C(μ)·∇²f·∇f + O(γ²)`` with

    * heavy ball (``b ← μb + g``, ``θ ← θ − lr·b``): ``C = (1 + μ)/(2(1 − μ)³)``,
    * Nesterov (torch's ``nesterov=True``): ``C = (1 − μ + 2μ²)/(2(1 − μ)³)``,

    derived twice: (i) on ``f = ½hx²`` by matching the slow root of the characteristic
    polynomial with ``exp(lr·s)``, ``s = −h/(1−μ) − lr·C·h²``, to ``O(lr²)``; (ii) by backward
    error analysis of the buffer-free two-step recurrence for a general ``f`` in 2-D. Starting
    torch's way (``b = g`` at the first step) puts the iterates on the slow manifold of the
    flow started from ``θ₀ + lr·D(μ)·∇f(θ₀)``, ``D = μ/(1 − μ)²`` (heavy ball) or
    ``μ²/(1 − μ)²`` (Nesterov), up to a fast mode decaying like ``μᵏ``.

    Examples
    --------
    >>> modified_equation().result["C_heavyball"]
    (mu + 1)/(2*(1 - mu)**3)
    """
    mu, lr, h = given_positive(mu=mu, lr=lr, h=h)
    z = sp.Symbol("z")
    linear, one_step = _root_matching(mu, lr, h, z)
    C_hb, C_n = linear["heavyball"]["C"], linear["nesterov"]["C"]
    flow_factor = one_minus(sp.cancel(-linear["heavyball"]["flow"] / h), mu)

    bea = _bea_flows(mu, lr)
    F0_hb, F1_hb, grad, hess, xs, f = bea["heavyball"]
    F0_n, F1_n = bea["nesterov"][:2]
    F1_s, F1_gd = bea["sutskever"][1], bea["gd_scaled"][1]
    _, F1_1d, grad1, hess1 = bea["heavyball_1d"][:4]
    C_hb_bea = sp.factor(-F1_1d[0] / (hess1[0, 0] * grad1[0]))
    C_gd = one_minus(-F1_gd[0] / (hess * grad)[0], mu)
    hg = hess * grad
    modified_loss = f(*xs) + lr * (1 - mu) * C_hb / 2 * sum(gi**2 for gi in grad)
    loss_flow = -sp.Matrix([modified_loss.diff(x) for x in xs]) / (1 - mu)

    box = {mu: (0.01, 0.95), lr: (1e-3, 0.5), h: (0.05, 5.0)}
    xbox = {mu: (0.01, 0.95), lr: (1e-3, 0.5), **{x: (-2.0, 2.0) for x in xs}}
    ffun = {f: sp.Lambda(xs, sp.sin(xs[0]) * xs[1] + xs[0] ** 2 * xs[1] ** 2 / 4 + sp.exp(xs[1] / 3))}
    mbox = {mu: (0.01, 0.95)}
    claims = (
        claim("flow_heavyball", linear["heavyball"]["flow"], -h / (1 - mu), box, note="rescaled gradient flow"),
        claim("flow_nesterov", linear["nesterov"]["flow"], -h / (1 - mu), box),
        claim("flow_factor", flow_factor, 1 / (1 - mu), mbox, note="the time rescaling of the gradient flow"),
        claim("C_heavyball", C_hb, (1 + mu) / (2 * (1 - mu) ** 3), mbox, note="(1 + μ)/(2(1 − μ)³)"),
        claim("C_nesterov", C_n, (1 - mu + 2 * mu**2) / (2 * (1 - mu) ** 3), mbox, note="(1 − μ + 2μ²)/(2(1 − μ)³)"),
        claim("bea_F0_heavyball", F0_hb, -grad / (1 - mu), xbox, functions=ffun),
        claim("bea_F0_nesterov", F0_n, -grad / (1 - mu), xbox, functions=ffun),
        claim(
            "bea_heavyball", F1_hb, -C_hb * hg, xbox, functions=ffun, note="general f (2-D) agrees with the linear case"
        ),
        claim("bea_nesterov", F1_n, -C_n * hg, xbox, functions=ffun),
        claim(
            "modified_flow_nesterov",
            F0_n + lr * F1_n,
            -grad / (1 - mu) - lr * C_n * hg,
            xbox,
            functions=ffun,
            note="θ' = −∇f/(1 − μ) − lr·C_N·∇²f∇f",
        ),
        claim("bea_C_heavyball_1d", C_hb_bea, C_hb, mbox),
        claim(
            "bea_nesterov_lookahead_sequence",
            F1_s,
            -C_n * hg,
            xbox,
            functions=ffun,
            note="Sutskever's base sequence x_k has the same O(lr) modified flow as torch's θ_k",
        ),
        claim("C_gd", C_gd, 1 / (2 * (1 - mu) ** 2), mbox, note="GD with lr/(1−μ) in the same time"),
        claim(
            "ratio_to_gd",
            sp.factor(C_hb / C_gd),
            (1 + mu) / (1 - mu),
            mbox,
            note="Ghosh et al. (2023): momentum strengthens the implicit regulariser by (1+μ)/(1−μ)",
        ),
        claim(
            "modified_loss",
            F0_hb + lr * F1_hb,
            loss_flow,
            {**xbox},
            functions=ffun,
            note="θ' = −∇[f + lr(1−μ)C/2·‖∇f‖²]/(1−μ)",
        ),
        claim("shift_heavyball", linear["heavyball"]["shift"], mu / (1 - mu) ** 2, {**mbox, h: (0.05, 5.0)}),
        claim("shift_nesterov", linear["nesterov"]["shift"], mu**2 / (1 - mu) ** 2, {**mbox, h: (0.05, 5.0)}),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "C_heavyball": C_hb,
        "C_nesterov": C_n,
        "C_gd": C_gd,
        "flow_factor": flow_factor,
        "shift_heavyball": linear["heavyball"]["shift"],
        "shift_nesterov": linear["nesterov"]["shift"],
        "modified_flow_heavyball": F0_hb + lr * F1_hb,
        "modified_flow_nesterov": F0_n + lr * F1_n,
    }
    steps_ = _steps(linear, one_step, C_hb, C_n, F1_hb, z)
    return Derivation(
        name="modified_equation",
        title="Fixed momentum, vanishing learning rate: the modified equation and $C(μ)$",
        assumptions=assumption_texts(
            (mu, lr, h),
            "momentum $μ ∈ (0, 1)$ fixed, learning rate $γ → 0$, time $t = kγ$",
            "heavy ball: $b ← μb + g$, $θ ← θ − γ·b$; Nesterov: $θ ← θ − γ(g + μb)$ (torch)",
            "$f$ undefined (general) in the backward error analysis; $f = ½hx²$ for the root matching",
        ),
        symbols={"mu": mu, "lr": lr, "h": h, "f": f, "x": sp.Matrix(xs)},
        result=result,
        steps=steps_,
        claims=claims,
        findings=FINDINGS,
        signatures=dict.fromkeys(_NUMERIC, (mu,)),
        references=(
            "Kovachki & Stuart (2021), JMLR 22(17)",
            "Ghosh, Lyu, Zhang & Wang (2023), ICLR",
            "Hairer, Lubich & Wanner, Geometric Numerical Integration (modified equations)",
        ),
    )
