"""``heavyball noise``: the stationary law of SGD with momentum under isotropic gradient noise."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import EXIT_OK, Failure, UsageError, one_line
from ._parsing import add_curvature_range, curvature_range, nonnegative, positive

__all__ = ["DESCRIPTION", "HELP", "add_arguments", "noise_rows", "run"]


#: the one-line summary in ``heavyball --help``
HELP = "stationary variance, temperature and loss of SGD with momentum under gradient noise"
#: the paragraph of ``heavyball noise --help``
DESCRIPTION = (
    "torch's SGD(lr, momentum[, nesterov]) on the 2-D valley with curvatures h_min and h_max "
    "(--kappa K: 1/K and 1) and isotropic Gaussian gradient noise of standard deviation SIGMA: the exact "
    "stationary variance per curvature (discrete Lyapunov equation), its small-lr Gibbs value T/h at the "
    "temperature T = lr sigma^2/(2(1 - momentum)), the stationary expected loss E f - f*, and the heavy-ball "
    "SDE (mass 1) the run discretises. Exit 1 when the configuration has no stationary law (unstable)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``heavyball noise``."""
    parser.add_argument("--lr", type=positive, required=True, metavar="LR", help="learning rate (> 0)")
    parser.add_argument(
        "--momentum", type=nonnegative, default=0.0, metavar="MU", help="momentum in [0, 1) (default 0)"
    )
    parser.add_argument(
        "--sigma", type=nonnegative, required=True, metavar="S", help="gradient-noise standard deviation"
    )
    add_curvature_range(parser, "smallest curvature (with --h-max)")
    parser.add_argument("--nesterov", action="store_true", help="torch's Nesterov momentum")
    parser.add_argument(
        "--format", dest="fmt", choices=("table", "json"), default="table", help="output format (default: table)"
    )


def noise_rows(lr: float, momentum: float, sigma: float, h_min: float, h_max: float, *,
               nesterov: bool = False) -> dict[str, Any]:  # fmt: skip
    """The numbers ``heavyball noise`` prints (a ``ValueError`` from the library when there is
    no stationary law or an argument is out of range)."""
    import numpy as np

    from ..exact_moments import stationary
    from ..noise import GradientNoise
    from ..optimizers import SGD
    from ..problems import Quadratic

    opt = SGD(lr=lr, momentum=momentum, nesterov=nesterov)
    q = Quadratic(np.diag([h_min, h_max]))
    law = stationary(opt, q, GradientNoise.isotropic(sigma))
    temperature = lr * sigma**2 / (2 * (1 - momentum))
    rows = [{"h": h, "var": float(law.cov[i, i]), "gibbs_var": temperature / h} for i, h in enumerate((h_min, h_max))]
    dt = float(np.sqrt(lr))  # mass 1: lr = dt², momentum = 1 − c·dt
    return {
        "lr": lr, "momentum": momentum, "sigma": sigma, "nesterov": nesterov, "h_min": h_min, "h_max": h_max,
        "temperature": temperature, "expected_loss": float(law.expected_loss), "gibbs_loss": temperature,
        "curvatures": rows,
        "sde": {"m": 1.0, "c": (1 - momentum) / dt, "sigma": sigma * float(np.sqrt(dt)), "dt": dt},
    }  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Run ``heavyball noise``: the stationary law as a table or JSON; exit 1 when there is none."""
    import json

    if args.momentum >= 1:
        raise UsageError(f"--momentum must be in [0, 1), got {args.momentum!r}")
    if args.nesterov and args.momentum == 0:
        raise UsageError("--nesterov needs --momentum > 0")
    h_min, h_max = curvature_range(args)
    from ..noise import NoStationaryLawError

    try:
        doc = noise_rows(args.lr, args.momentum, args.sigma, h_min, h_max, nesterov=args.nesterov)
    except NoStationaryLawError as exc:
        raise Failure(one_line(exc)) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.fmt == "json":
        print(json.dumps(doc, indent=2, allow_nan=False))
        return EXIT_OK
    kind = "Nesterov" if args.nesterov else "heavy ball"
    print(f"SGD({kind}) lr = {args.lr:g}, momentum = {args.momentum:g}, gradient noise sigma = {args.sigma:g}; "
          f"curvatures {h_min:g} and {h_max:g}")  # fmt: skip
    print(f"temperature T = lr*sigma^2/(2(1 - momentum)) = {doc['temperature']:.6g}")
    print(f"{'h':>12}  {'Var theta (exact)':>18}  {'T/h (small lr)':>15}  {'ratio':>8}")
    for row in doc["curvatures"]:
        print(
            f"{row['h']:>12.6g}  {row['var']:>18.6g}  {row['gibbs_var']:>15.6g}  {row['var'] / row['gibbs_var']:>8.4f}"
        )
    print(f"stationary E f - f* = {doc['expected_loss']:.6g}  (small-lr Gibbs value d*T/2 = {doc['gibbs_loss']:.6g})")
    sde = doc["sde"]
    print(f"heavy-ball SDE (m = 1, dt = sqrt(lr) = {sde['dt']:.6g}): c = {sde['c']:.6g}, sigma = {sde['sigma']:.6g}")
    return EXIT_OK
