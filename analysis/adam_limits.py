"""Adam in continuous time, measured: the orders of the iterates against their limits.

Three tables, each with successive error ratios and the fitted order (least squares on
log–log, :func:`heavyball.discretization.fit_order`):

* **scaled β** — torch's Adam with ``lr = s``, ``β₁ = 1 − a·s``, ``β₂ = 1 − b·s`` (``a = 1``,
  ``b = 2``, ``ε = 1e-8``) against :class:`heavyball.AdamODE`, max error on ``[0, 4]``, on a 2-D
  valley (curvatures 1 and 0.1, ``θ₀ = (1, 1)``), a rotated 10-D quadratic (curvatures
  log-spaced in ``[0.1, 1]``) and Rosenbrock's function from ``(−1.2, 1)``: order 1 (ratio 2);
* **fixed β** — ``β = (0.9, 0.999)`` and ``(0.9, 0.99)``, the error at ``t = 0.8`` against the
  sign-gradient flow on the 2-D valley: flat while ``lr`` is not small against ``1 − β₂``, then
  order 1;
* **Adam as a heavy ball** — Adam started with a settled ``v̂ = ∇f(θ₀)²`` (``lr = 1e-3``,
  ``β₁ = 0.99``) against ``(lr/(1 − β₁))·θ'' + θ' + P∇f = 0`` on the 2-D valley, max gap on
  ``[0, 3]`` for ``β₂ → 1``: proportional to ``b = (1 − β₂)/lr`` down to the ``O(lr)`` floor.

Errors are Euclidean norms ``‖θ_k − θ(t_k)‖``. On the axis-aligned valley Adam's two coordinates
move identically (its step is invariant under a per-coordinate scaling of the gradient), so
each norm is √2 times the error of one coordinate.

Run::

    python analysis/adam_limits.py            # Markdown on stdout
    python analysis/adam_limits.py --out DIR  # also DIR/adam_limits.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import heavyball as hb
from heavyball._io import write_text
from heavyball.discretization import fit_order

VALLEY = hb.Quadratic(np.diag([1.0, 0.1]))
THETA0 = np.array([1.0, 1.0])
PROBLEMS = {
    "2-D valley (1, 0.1)": (VALLEY, THETA0),
    "rotated 10-D quadratic": (
        hb.Quadratic.from_eigenvalues(np.geomspace(0.1, 1.0, 10), seed=3),
        np.linspace(-1.0, 2.0, 10),
    ),
    "Rosenbrock": (hb.Rosenbrock(), np.array([-1.2, 1.0])),
}
SCALED_S = (0.02, 0.01, 0.005, 0.0025, 0.00125)
T_SCALED = 4.0
FIXED_LRS = (1e-2, 3e-3, 1e-3, 6e-4, 2e-4, 8e-5, 4e-5, 2e-5, 1e-5, 5e-6)
T_FIXED = 0.8
HB_BETA2S = (0.99, 0.999, 0.9999, 0.99999, 0.999999)


def _table(head: str, label: str, xs, errors) -> str:
    lines = [head, "", f"| {label} | error | ratio |", "|---|---|---|"]
    for i, (x, e) in enumerate(zip(xs, errors, strict=True)):
        ratio = "" if i == 0 else f"{errors[i - 1] / e:.3f}"
        lines.append(f"| {x:g} | {e:.3e} | {ratio} |")
    return "\n".join(lines)


def scaled_tables() -> str:
    ode = hb.AdamODE(1.0, 2.0, 1e-8)
    out = []
    for name, (problem, theta0) in PROBLEMS.items():
        fit = hb.convergence_order(ode, problem, theta0, T_SCALED, SCALED_S, full_output=True)
        head = f"**{name}**: Adam (β = 1 − (1, 2)·s) against AdamODE, max error on [0, {T_SCALED:g}]"
        out.append(_table(head, "s", SCALED_S, fit.errors) + f"\n\nfitted order {fit.order:.4f}\n")
    return "\n".join(out)


def fixed_tables() -> str:
    out = []
    for betas in ((0.9, 0.999), (0.9, 0.99)):
        errors = np.array(
            [hb.compare_sign_flow(VALLEY, THETA0, lr=lr, t_final=T_FIXED, betas=betas).final_error for lr in FIXED_LRS]
        )
        head = f"**fixed β = {betas}** against the sign flow, error at t = {T_FIXED:g} (1 − β₂ = {1 - betas[1]:g})"
        tail = fit_order(np.asarray(FIXED_LRS[-4:]), errors[-4:])
        out.append(
            _table(head, "lr", FIXED_LRS, errors) + f"\n\nfitted order over the four smallest lr: {tail.order:.4f}\n"
        )
    return "\n".join(out)


def heavy_ball_table() -> str:
    q = hb.Quadratic.valley(kappa=10.0, h_max=1.0, angle=np.pi / 6)
    theta0 = np.array([-1.5, 0.5])
    v_hat = q.grad(theta0) ** 2
    lr = 1e-3
    gaps = [
        hb.compare_heavy_ball(q, theta0, lr=lr, betas=(0.99, b2), v_hat=v_hat, t_final=3.0).max_error
        for b2 in HB_BETA2S
    ]
    lines = [
        f"**Adam with settled v̂ against its heavy ball** (lr = {lr:g}, β₁ = 0.99, mass 0.1; valley κ = 10 "
        "rotated 30°, θ₀ = (−1.5, 0.5)), max gap on [0, 3]",
        "",
        "| β₂ | b = (1 − β₂)/lr | max gap | ratio |",
        "|---|---|---|---|",
    ]
    for i, (b2, g) in enumerate(zip(HB_BETA2S, gaps, strict=True)):
        ratio = "" if i == 0 else f"{gaps[i - 1] / g:.3f}"
        lines.append(f"| {b2:g} | {(1 - b2) / lr:g} | {g:.3e} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="directory for adam_limits.md")
    args = parser.parse_args(argv)
    text = scaled_tables() + "\n" + fixed_tables() + "\n" + heavy_ball_table()
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_text(args.out / "adam_limits.md", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
