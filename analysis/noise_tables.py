"""Exact moments against Monte Carlo against the SDE: the noisy heavy ball, three ways.

Table 1, the stationary variance on one curvature ``h = 1``, for the heavy-ball SDE
``m dv = −hθ dt − cv dt + σ dW`` (``m = 1``, ``c = 0.5``, ``σ = 0.4``) and, for each step
``Δt``, torch's SGD from the velocity-form map (``lr = Δt²/m``, ``momentum = 1 − cΔt/m``,
gradient noise ``σ/√Δt``): the exact stationary variance (discrete Lyapunov equation), a Monte
Carlo estimate (10⁴ seeded runs of :func:`heavyball.iterate` with noise, after a burn-in of ten
relaxation times, ± one standard error), the SDE's ``σ²/(2ch)``, BAOAB's exact stationary
variance at the same ``Δt`` (equal to the SDE's), Euler–Maruyama's, and the ratio
discrete/SDE against its expansion ``1 + Δt²h/(4m)``.

Table 2, the approach to stationarity on a rotated valley (curvatures 0.1 and 1, isotropic
noise ``σ = 0.1``) for GD, heavy ball and Nesterov at their noiseless tunings: exact expected
loss (:func:`heavyball.moments`) against Monte Carlo (10⁴ runs, ± one standard error) at
several steps, with the number of standard errors between them.

Run::

    python analysis/noise_tables.py            # Markdown on stdout
    python analysis/noise_tables.py --out DIR  # also DIR/noise_tables.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import heavyball as hb
from heavyball._io import write_text
from heavyball.sde import sde_stationary

M, C, SIGMA, H = 1.0, 0.5, 0.4, 1.0
DTS = (0.4, 0.2, 0.1, 0.05)
SAMPLES = 10_000
SEED = 1978


def stationary_rows(samples: int = SAMPLES) -> list[dict]:
    """Table 1's rows, one per Δt."""
    sde = hb.HeavyBallSDE(m=M, c=C, sigma=SIGMA)
    q = hb.Quadratic([[H]])
    exact_sde = float(hb.stationary(sde, q).cov[0, 0])
    rows = []
    for i, dt in enumerate(DTS):
        opt, noise = sde.to_discrete(dt)
        law = float(hb.stationary(opt, q, noise).cov[0, 0])
        burn = int(np.ceil(10 * 2 * M / (C * dt)))  # ten relaxation times 2m/c, in steps
        tr = hb.iterate(opt, q, np.zeros((samples, 1)), burn, record="final", noise=noise, seed=SEED + i)
        x = np.asarray(tr.theta)[-1, :, 0]
        var = float(x.var(ddof=1))
        rows.append({
            "dt": dt, "lr": float(opt.lr), "momentum": float(opt.momentum), "exact": law, "mc": var,
            "mc_se": var * np.sqrt(2.0 / (samples - 1)), "sde": exact_sde,
            "baoab": float(sde_stationary(sde, q, scheme="baoab", dt=dt).cov[0, 0]),
            "em": float(sde_stationary(sde, q, scheme="euler-maruyama", dt=dt).cov[0, 0]),
            "ratio": law / exact_sde, "predicted": 1 + dt**2 * H / (4 * M),
        })  # fmt: skip
    return rows


def loss_rows(samples: int = SAMPLES, steps=(1, 5, 20, 50, 200)) -> list[dict]:
    """Table 2's rows, one per method and step."""
    q = hb.Quadratic.valley(kappa=10.0, angle=np.pi / 6)
    noise = hb.GradientNoise.isotropic(0.1)
    rows = []
    for i, family in enumerate(("gd", "heavyball", "nesterov")):
        t = hb.rates.optimal_parameters(q.h_min, q.h_max, family)
        opt = hb.SGD(lr=float(t.lr), momentum=float(t.momentum), nesterov=family == "nesterov")
        mo = hb.moments(opt, q, [1.0, 1.0], max(steps), noise=noise)
        tr = hb.iterate(opt, q, np.ones((samples, 2)), max(steps), record="loss", noise=noise, seed=SEED + 10 + i)
        excess = np.asarray(tr.loss) - q.minimum
        for k in steps:
            mean, se = float(excess[k].mean()), float(excess[k].std(ddof=1) / np.sqrt(samples))
            exact = float(mo.expected_loss[k])
            rows.append({"method": family, "k": k, "exact": exact, "mc": mean, "mc_se": se,
                         "z": (mean - exact) / se})  # fmt: skip
    return rows


def tables(samples: int = SAMPLES) -> str:
    """Both tables as Markdown."""
    out = [
        "Stationary Var θ on h = 1: heavy-ball SDE (m = 1, c = 0.5, σ = 0.4) and torch's SGD at each Δt",
        "",
        "| Δt | lr | momentum | exact (Lyapunov) | Monte Carlo ± SE | SDE σ²/(2ch) | BAOAB | Euler–Maruyama "
        "| exact/SDE | 1 + Δt²h/(4m) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in stationary_rows(samples):
        out.append(
            f"| {r['dt']:g} | {r['lr']:.4g} | {r['momentum']:.4g} | {r['exact']:.6f} | {r['mc']:.6f} ± {r['mc_se']:.6f} "
            f"| {r['sde']:.6f} | {r['baoab']:.6f} | {r['em']:.6f} | {r['ratio']:.6f} | {r['predicted']:.6f} |"
        )
    out += [
        "",
        "Expected loss on the κ = 10 valley (rotated 30°), isotropic noise σ = 0.1, from θ₀ = (1, 1)",
        "",
        "| method | k | exact E f − f* | Monte Carlo ± SE | (MC − exact)/SE |",
        "|---|---|---|---|---|",
    ]
    for r in loss_rows(samples):
        out.append(
            f"| {r['method']} | {r['k']} | {r['exact']:.6g} | {r['mc']:.6g} ± {r['mc_se']:.2g} | {r['z']:+.2f} |"
        )
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="directory for noise_tables.md")
    parser.add_argument("--samples", type=int, default=SAMPLES, help=f"Monte Carlo runs (default {SAMPLES})")
    args = parser.parse_args(argv)
    text = tables(args.samples)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_text(args.out / "noise_tables.md", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
