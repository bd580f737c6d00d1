"""``heavyball compare``: a discrete method against its ODE on a 2-D valley.

The heavy ball (semi-implicit Euler with ``--m --c --dt``) and torch's Adam (``--optimizer
adam --lr --betas --eps``) run the same code path: the step bound, the start, the run of
:func:`heavyball.discretization.compare` and the report; a :class:`_Method` holds what differs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NamedTuple

from ._common import EXIT_OK, Failure, Progress, UsageError, one_line
from ._parsing import add_progress, betas, coordinates, kappa, nonnegative, positive

__all__ = ["DESCRIPTION", "HELP", "MAX_COMPARE_STEPS", "add_arguments", "run"]

#: `compare` refuses longer runs (1e6 steps take about 10 s here): the command must never hang
MAX_COMPARE_STEPS = 1_000_000


#: the one-line summary in ``heavyball --help``
HELP = "discrete heavy ball against the continuous ODE"
#: the paragraph of ``heavyball compare --help``
DESCRIPTION = (
    "Run semi-implicit Euler (mu = 1 - c dt/m, eta = dt/m) on a 2-D valley and compare "
    "it with the exact solution of m theta'' + c theta' + grad f = 0 on [0, T], both from theta0 at rest."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``heavyball compare``."""
    parser.add_argument("--m", type=positive, metavar="M", help="mass (> 0; required for the heavy ball)")
    parser.add_argument("--c", type=nonnegative, metavar="C", help="friction (>= 0; required for the heavy ball)")
    parser.add_argument("--dt", type=positive, metavar="DT", help="time step (> 0; required for the heavy ball)")
    parser.add_argument(
        "--optimizer",
        choices=("heavyball", "adam"),
        default="heavyball",
        help="the discrete method: the heavy ball (--m --c --dt, default) or torch's Adam "
        "(--lr --betas --eps) against its ODE, with beta = 1 - (a, b) lr",
    )
    parser.add_argument("--lr", type=positive, metavar="LR", help="Adam's learning rate (> 0; required for Adam)")
    parser.add_argument(
        "--betas", type=betas, default=(0.9, 0.999), metavar="B1,B2", help="Adam's betas in [0, 1) (default 0.9,0.999)"
    )
    parser.add_argument("--eps", type=positive, default=1e-8, metavar="EPS", help="Adam's eps (> 0, default 1e-8)")
    parser.add_argument("--kappa", type=kappa, default=100.0, metavar="K", help="valley condition number (default 100)")
    parser.add_argument(
        "--t-final", type=positive, dest="t_final", default=20.0, metavar="T", help="final time (default 20)"
    )
    parser.add_argument(
        "--theta0",
        type=coordinates,
        nargs="+",
        default=None,
        metavar="X",
        help="initial point: two numbers, '--theta0 1 -2' or '--theta0 1,-2' (default: 1 1)",
    )
    add_progress(parser)


class _Method(NamedTuple):
    """What the heavy ball and Adam do differently in ``compare``.

    Attributes
    ----------
    step_option : str
        The option that gives the time per step (``--dt``, ``--lr``), and ``step`` its value.
    step : float
    ode : callable
        ``() -> ode``; raises ``ValueError`` for numbers out of the library's range.
    busy : str
        The progress text, with ``{steps}`` for the number of steps.
    header : callable
        ``(ode, q, cmp, theta0_text) -> lines``: what was run, above the errors.
    failure : str
        The error's opening words when the comparison did not succeed.
    """

    step_option: str
    step: float
    ode: Callable[[], Any]
    busy: str
    header: Callable[[Any, Any, Any, str], list[str]]
    failure: str


def _heavy_ball(args: argparse.Namespace) -> _Method:
    """Semi-implicit Euler with ``--m --c --dt`` against the exact heavy-ball ODE."""
    if args.lr is not None:
        raise UsageError("--lr belongs to --optimizer adam; the heavy ball takes --m, --c and --dt")
    missing = [f"--{k.replace('_', '-')}" for k in ("m", "c", "dt") if getattr(args, k) is None]
    if missing:
        raise UsageError(f"the heavy ball needs --m, --c and --dt; missing {', '.join(missing)}")

    def ode() -> Any:
        from ..dynamics import HeavyBallODE

        return HeavyBallODE(m=args.m, c=args.c)

    def header(ode: Any, q: Any, cmp: Any, shown: str) -> list[str]:
        from ..dynamics import damping_regime

        regimes = [str(damping_regime(args.m, args.c, h)) for h in q.eigenvalues]
        return [
            f"heavy-ball ODE m = {args.m:g}, c = {args.c:g} on a kappa = {args.kappa:g} valley "
            f"(h = {q.h_min:g}, {q.h_max:g}: {', '.join(regimes)}), theta0 = ({shown}), T = {args.t_final:g}",
            f"semi-implicit Euler, dt = {args.dt:g}: mu = {float(cmp.mu):.6g}, eta = {float(cmp.eta):.6g} "
            f"(torch: lr = {args.dt**2 / args.m:.6g}, momentum = {float(cmp.mu):.6g})",
        ]

    return _Method("--dt", args.dt, ode, "compare: {steps} steps and the exact ODE ...", header,
                   "the discrete run did not track the ODE")  # fmt: skip


def _adam(args: argparse.Namespace) -> _Method:
    """torch's Adam with ``--lr --betas --eps`` against the Adam ODE (``beta = 1 - (a, b) lr``)."""
    if args.lr is None:
        raise UsageError("--optimizer adam needs --lr")
    given = [f"--{k}" for k in ("m", "c", "dt") if getattr(args, k) is not None]
    if given:
        raise UsageError(f"{', '.join(given)}: for the heavy ball only; Adam takes --lr, --betas and --eps")
    beta1, beta2 = args.betas

    def ode() -> Any:
        from ..adam_ode import AdamODE

        if beta1 == 0.0 or beta2 == 0.0:
            raise UsageError(f"--betas must be > 0 for an ODE limit (a = (1 - beta1)/lr), got {beta1:g},{beta2:g}")
        return AdamODE.from_adam(args.lr, (beta1, beta2), args.eps)

    # the heavy ball's header has this shape too: each method says what it ran, in its own parameters
    def header(ode: Any, q: Any, cmp: Any, shown: str) -> list[str]:
        return [
            f"Adam ODE a = (1 - beta1)/lr = {ode.a:.6g}, b = (1 - beta2)/lr = {ode.b:.6g}, eps = {ode.eps:g} on a "
            f"kappa = {args.kappa:g} valley, theta0 = ({shown}), T = {args.t_final:g}",
            f"torch's Adam, lr = {args.lr:g}, betas = ({beta1:g}, {beta2:g}): {cmp.steps} steps at t = k lr; "
            f"as a heavy ball: mass lr/(1 - beta1) = {args.lr / (1 - beta1):.6g}, momentum beta1",
        ]

    return _Method("--lr", args.lr, ode, "compare: {steps} Adam steps and the ODE ...", header,
                   "the Adam iterates were not compared with the ODE")  # fmt: skip


def _theta0(args: argparse.Namespace) -> list[float]:
    """The start from ``--theta0`` (default ``1 1``): two numbers."""
    theta0 = [x for group in (args.theta0 or [[1.0, 1.0]]) for x in group]
    if len(theta0) != 2:
        raise UsageError(f"--theta0 needs 2 numbers (the valley is 2-D), got {len(theta0)}: {theta0}")
    return theta0


def run(args: argparse.Namespace) -> int:
    """Run ``heavyball compare``: the discrete run and its ODE side by side; exit 1 when they part."""
    method = _adam(args) if args.optimizer == "adam" else _heavy_ball(args)
    option, step = method.step_option, method.step
    if args.t_final < step:
        raise UsageError(f"--t-final must be >= {option}, got --t-final {args.t_final!r} {option} {step!r}")
    if args.t_final / step > MAX_COMPARE_STEPS:
        raise UsageError(
            f"--t-final/{option} must be at most {MAX_COMPARE_STEPS:.0e} steps, got {args.t_final / step:.3g}"
        )
    theta0 = _theta0(args)
    import numpy as np

    from ..discretization import compare
    from ..problems import Quadratic
    from ..status import Status

    q = Quadratic.valley(kappa=args.kappa)
    try:
        ode = method.ode()
        with Progress(args.progress).busy(method.busy.format(steps=round(args.t_final / step))):
            cmp = compare(ode, q, np.array(theta0), dt=step, t_final=args.t_final)
    except ValueError as exc:  # the library's range checks on the user's numbers
        raise UsageError(str(exc)) from None
    for line in method.header(ode, q, cmp, ", ".join(f"{x:g}" for x in theta0)):
        print(line)
    print(f"{'max error':<12} {cmp.max_error:.6e}")
    print(f"{'final error':<12} {cmp.final_error:.6e}")
    status, message = Status(cmp.status), cmp.message
    # a failure's message goes to stderr once (below); a success's message is part of the result
    print(f"status       {status}" + (f": {one_line(message)}" if message and status.success else ""))
    if not status.success:
        raise Failure(f"{method.failure}: {one_line(message or status.message)}")
    return EXIT_OK
