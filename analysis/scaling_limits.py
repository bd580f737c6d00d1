"""Which continuous model describes momentum iterates, and to which order.

One table, ``lr`` halved row by row, PyTorch's ``SGD(lr, momentum)`` on a 2-D quadratic
(curvatures 0.2 and 1, randomly rotated), from ``θ0 = (1, 1)``:

* **fixed momentum μ = 0.9** (Kovachki & Stuart 2021), time ``t = k·lr``, error at ``t = 1``:
  against the rescaled gradient flow ``θ' = −∇f/(1−μ)`` (order 1: ratio 2), against the
  modified equation ``θ' = −∇f/(1−μ) − lr·C(μ)∇²f∇f`` started on the slow manifold (order 2:
  ratio 4; heavy ball and Nesterov), and against the heavy-ball ODE with fixed ``(m, c)``
  (the one whose semi-implicit discretisation, :func:`heavyball.to_torch`, is
  ``SGD(lr₀, 0.9)`` for the first ``lr₀``), time ``t = k√lr``: the error does not
  shrink — the heavy-ball ODE does not describe fixed-momentum iterates. The heavy-ball ODE
  re-fitted to every ``lr`` (``to_torch`` inverted: ``c = (1−μ)√(m/lr)``, error at the same
  ``t = k·lr = 1``) has a friction that blows up; it degenerates to the same gradient flow
  and agrees only to order 1 (its own second-order term is ``1/(1−μ)³``, not ``C(μ)``).
* **the ODE scaling μ = 1 − c√(lr/m)** (``m = 1``, ``c = 0.5``), time ``t = k√(lr·m)``, max
  error on ``[0, 10]``: against ``HeavyBallODE(m, c)`` (order 1 in √lr: ratio √2 per
  halving of lr), and against the rescaled gradient flow, which no longer applies.

A second table: Nesterov's method with momentum ``(k−1)/(k+2)`` and step ``s`` against
``2·J1(t)/t`` (Su, Boyd & Candès 2016), max error on ``[0, 20]``: ≈ 0.74·√s.

Run::

    python analysis/scaling_limits.py            # Markdown on stdout
    python analysis/scaling_limits.py --out DIR  # also DIR/scaling_limits.md
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import heavyball as hb
from heavyball._io import write_text
from heavyball.discretization import compare_momentum, nesterov_limit

PROBLEM = hb.Quadratic.from_eigenvalues([0.2, 1.0], rotation="random", seed=3)
THETA0 = np.array([1.0, 1.0])
MOMENTUM = 0.9
LRS = 2e-3 / 2.0 ** np.arange(6)  # 2e-3 … 6.25e-5
T_FIXED = 1.0  # in t = k·lr
M, C, T_ODE = 1.0, 0.5, 10.0  # the ODE scaling, t = k·√(lr·m)
SS = (1e-2, 1e-4, 1e-6)
T_NESTEROV = 20.0


def momentum_rows():
    c_fixed = (1 - MOMENTUM) * math.sqrt(M / LRS[0])  # to_torch(M, c_fixed, √(LRS[0]·M)) = (LRS[0], 0.9)
    rows = []
    for lr in LRS:
        row = {"lr": lr}
        kw = dict(lr=lr, momentum=MOMENTUM, t_final=T_FIXED)
        row["gf"] = compare_momentum(hb.gradient_flow_limit(MOMENTUM), PROBLEM, THETA0, **kw).final_error
        row["mod"] = compare_momentum(hb.modified_equation(MOMENTUM, lr), PROBLEM, THETA0, **kw).final_error
        row["mod_nag"] = compare_momentum(hb.modified_equation(MOMENTUM, lr, family="nesterov"), PROBLEM, THETA0,
                                          nesterov=True, **kw).final_error  # fmt: skip
        row["hb_fixed"] = compare_momentum(hb.HeavyBallODE(M, c_fixed), PROBLEM, THETA0, lr=lr, momentum=MOMENTUM,
                                           t_final=T_ODE).max_error  # fmt: skip
        # the heavy-ball ODE whose to_torch is (lr, μ) itself: friction c = (1 − μ)√(m/lr) → ∞
        c_lr = (1 - MOMENTUM) * math.sqrt(M / lr)
        row["hb_lr"] = compare_momentum(hb.HeavyBallODE(M, c_lr), PROBLEM, THETA0, lr=lr, momentum=MOMENTUM,
                                        t_final=round(T_FIXED / lr) * math.sqrt(lr * M)).final_error  # fmt: skip
        mu = 1 - C * math.sqrt(lr / M)
        ode_cmp = compare_momentum(hb.HeavyBallODE(M, C), PROBLEM, THETA0, lr=lr, momentum=mu, t_final=T_ODE)
        row["mu_ode"] = mu
        row["hb_ode"] = ode_cmp.max_error
        row["gf_ode"] = compare_momentum(hb.gradient_flow_limit(mu), PROBLEM, THETA0, lr=lr, momentum=mu,
                                         t_final=lr * ode_cmp.steps).max_error  # fmt: skip
        rows.append(row)
    return rows, c_fixed


def _ratio(rows, i, key):
    return "" if i == 0 else f"{rows[i - 1][key] / rows[i][key]:.3f}"


def momentum_table(rows, c_fixed) -> str:
    head = (
        f"Momentum iterates (torch SGD) against continuous models; lr halved per row.\n"
        f"Fixed μ = {MOMENTUM}: time t = k·lr, error at t = {T_FIXED:g} (heavy-ball ODE with fixed m = {M:g}, "
        f"c = {c_fixed:.4g}: time t = k·√lr, max error on [0, {T_ODE:g}]).\n"
        f"ODE scaling μ = 1 − c√(lr/m), m = {M:g}, c = {C:g}: time t = k·√(lr·m), max error on [0, {T_ODE:g}].\n\n"
        "| lr | μ=0.9: grad. flow | ratio | modified eq. (HB) | ratio | modified eq. (NAG) | ratio | "
        "HB ODE, fixed (m, c) | HB ODE, c = (1−μ)√(m/lr) | ratio | μ = 1 − c√(lr/m) | HB ODE | ratio | grad. flow |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for i, r in enumerate(rows):
        lines.append(
            f"| {r['lr']:.4g} | {r['gf']:.3e} | {_ratio(rows, i, 'gf')} | {r['mod']:.3e} | {_ratio(rows, i, 'mod')} | "
            f"{r['mod_nag']:.3e} | {_ratio(rows, i, 'mod_nag')} | {r['hb_fixed']:.3e} | {r['hb_lr']:.3e} | "
            f"{_ratio(rows, i, 'hb_lr')} | {r['mu_ode']:.5f} | "
            f"{r['hb_ode']:.3e} | {_ratio(rows, i, 'hb_ode')} | {r['gf_ode']:.3e} |"
        )
    return head + "\n".join(lines) + "\n"


def nesterov_table() -> str:
    q = hb.Quadratic([[1.0]])
    head = (
        f"Nesterov's method, momentum (k−1)/(k+2), step s, against 2·J1(t)/t (f = ½x², x0 = 1), t = k√s, "
        f"max error on [0, {T_NESTEROV:g}]\n\n| s | steps | max error | error/√s | ratio |\n|---|---|---|---|---|\n"
    )
    lines, prev = [], None
    for s in SS:
        cmp = nesterov_limit(q, [1.0], s=s, t_final=T_NESTEROV)
        ratio = "" if prev is None else f"{prev / cmp.max_error:.3f}"
        lines.append(f"| {s:g} | {cmp.steps} | {cmp.max_error:.3e} | {cmp.max_error / math.sqrt(s):.4f} | {ratio} |")
        prev = cmp.max_error
    return head + "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="directory for scaling_limits.md")
    args = parser.parse_args(argv)
    rows, c_fixed = momentum_rows()
    text = momentum_table(rows, c_fixed) + "\n" + nesterov_table()
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_text(args.out / "scaling_limits.md", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
