"""Record torch.optim trajectories as a reference file, and measure heavyball's parity with torch.

Usage::

    python analysis/record_torch_reference.py                 # writes tests/data/torch_reference.npz
    python analysis/record_torch_reference.py --out PATH
    python analysis/record_torch_reference.py --no-write      # only print the parity table

Every flag combination of ``torch.optim.SGD`` (momentum 0/0.9, dampening 0/0.3, nesterov,
weight_decay 0/0.1, maximize; nesterov only where torch allows it) and of ``torch.optim.Adam``
/ ``AdamW`` (weight_decay 0/0.1, amsgrad, maximize; betas (0.9, 0.999)) is run for 1000 steps on
a random quadratic with d = 2 and with d = 50, in float64 and float32, with a constant
learning rate and with a schedule that changes it every 100 steps. The gradient is the numpy
gradient of the quadratic (``Quadratic.grad``) at torch's current parameters; for ``maximize``
it is the gradient of ``−f``, so the ascent converges. Each flag combination is one torch
parameter group (one tensor each), so one ``step()`` advances all of them.

Two further sets cover what the long runs leave out. **Small β1**: torch's ``lerp`` switches
formula at weight ``1 − β1 = 0.5``, so every flag combination of ``Adam``/``AdamW`` is also run
with ``betas=(0.3, 0.999)`` and ``(0.5, 0.999)`` (the second branch), for 100 steps at
d = 2 (short: small β1 makes long runs chaotic), every step stored. **The heavy-ball ODE's
schemes**: ``torch.optim.SGD(**hb.to_torch(m, c, dt, scheme=...))`` for the three schemes of
``hb.discretize`` (m = 1, c = 0.5, dt = 0.3) for 400 steps at d = 2 and d = 50, every 20th
step stored, so that the claim "this torch run is that discretisation" is checked without
torch.

The file (``numpy.savez_compressed``, no pickled objects; load with ``allow_pickle=False``)
holds torch's version, the problems (``A``, ``b``, ``theta0`` per d), the case labels, and
torch's iterates at a subsample of steps (every 50th for d = 2, every 250th for d = 50) so
that it stays small; ``tests/test_torch_parity.py`` compares heavyball against it when torch is
not installed, and against live torch when it is.

The script also prints, per optimiser family, dimension, dtype and schedule, the parity metric
of this package: the largest ``‖θ_heavyball − θ_torch‖∞`` over all 1000 steps divided by the
largest ``‖θ_torch‖∞`` of the run, maximised over the flag combinations.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

import heavyball as hb
from heavyball._io import atomic_path
from heavyball.cli import Progress
from heavyball.iterate import _iterate_general

STEPS = 1000
DIMS = (2, 50)
DTYPES = ("float64", "float32")
SCHEDULES = ("constant", "schedule")
#: multipliers of the base learning rate, one per block of 100 steps
LR_FACTORS = (1.0, 0.5, 0.8, 0.2, 0.6, 1.0, 0.3, 0.7, 0.4, 0.9)
BASE_LR = {"SGD": 0.1, "Adam": 0.01, "AdamW": 0.01}
#: the steps stored in the reference file (step 0 is theta0 itself)
STORED_STEPS = {2: np.arange(50, STEPS + 1, 50), 50: np.arange(250, STEPS + 1, 250)}
#: the parity thresholds (max ‖Δθ‖∞ / max ‖θ_torch‖∞ over the run)
TOLERANCE = {"float64": 1e-12, "float32": 1e-5}
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "torch_reference.npz"


def sgd_cases() -> list[dict]:
    """Every valid flag combination of torch.optim.SGD (20 of them)."""
    cases = []
    for momentum, dampening, nesterov, weight_decay, maximize in itertools.product(
        (0.0, 0.9), (0.0, 0.3), (False, True), (0.0, 0.1), (False, True)
    ):
        if nesterov and (momentum == 0 or dampening != 0):
            continue  # torch refuses these (heavyball too)
        cases.append(dict(momentum=momentum, dampening=dampening, nesterov=nesterov,
                          weight_decay=weight_decay, maximize=maximize))  # fmt: skip
    return cases


def adam_cases() -> list[dict]:
    """Every flag combination of torch.optim.Adam / AdamW (8 each); β1 = 0.9 (≥ 0.8)."""
    return [
        dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
        for weight_decay, amsgrad, maximize in itertools.product((0.0, 0.1), (False, True), (False, True))
    ]


CASES = {"SGD": sgd_cases(), "Adam": adam_cases(), "AdamW": adam_cases()}

#: β1 ≤ 0.5 (torch's second lerp branch at 0.5 and below): short runs, every step stored
SMALL_BETA1 = (0.3, 0.5)
SMALL_BETA1_STEPS = 100
#: the heavy-ball ODE and step of the recorded discretisation schemes
SCHEMES = ("semi-implicit", "implicit-friction", "exponential")
SCHEME_ODE = {"m": 1.0, "c": 0.5, "dt": 0.3}
SCHEME_STEPS = 400
SCHEME_STORED = np.arange(20, SCHEME_STEPS + 1, 20)


def small_beta1_cases() -> list[dict]:
    """Every flag combination of Adam/AdamW for each β1 ≤ 0.5 (16 each)."""
    return [
        dict(betas=(beta1, 0.999), eps=1e-8, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
        for beta1, weight_decay, amsgrad, maximize in itertools.product(
            SMALL_BETA1, (0.0, 0.1), (False, True), (False, True)
        )
    ]


def scheme_cases() -> list[dict]:
    """torch SGD hyperparameters of each scheme, ``hb.to_torch(m, c, dt, scheme=...)``."""
    m, c, dt = SCHEME_ODE["m"], SCHEME_ODE["c"], SCHEME_ODE["dt"]
    return [hb.to_torch(m, c, dt, scheme=scheme) for scheme in SCHEMES]


def record_extra(torch, rows: list) -> dict:
    """The small-β1 and scheme recordings (see the module docstring); appends parity rows."""
    data = {"small_beta1_steps": np.array(SMALL_BETA1_STEPS), "schemes": np.array(SCHEMES),
            "scheme_ode": np.array([SCHEME_ODE[k] for k in ("m", "c", "dt")]),
            "scheme_stored_steps": SCHEME_STORED}  # fmt: skip
    cases = small_beta1_cases()
    data["cases_small_beta1"] = np.array([label(c) for c in cases])
    A, b, theta0 = make_problem(2)
    q = hb.Quadratic(A, b)
    for kind, dtype in itertools.product(("Adam", "AdamW"), DTYPES):
        ref = run_torch(torch, kind, cases, q, theta0, dtype, "constant", steps=SMALL_BETA1_STEPS)
        data[f"{kind}_small_beta1_{dtype}"] = ref[1:].transpose(1, 0, 2).copy()
        worst = max(parity(run_heavyball(kind, c, q, theta0, dtype, "constant", steps=SMALL_BETA1_STEPS),
                           ref[:, i]) for i, c in enumerate(cases))  # fmt: skip
        rows.append((f"{kind} β1 ≤ 0.5", 2, dtype, "constant", worst, worst, worst <= TOLERANCE[dtype]))
    sgd = scheme_cases()
    data["scheme_lr"] = np.array([c["lr"] for c in sgd])
    data["scheme_momentum"] = np.array([c["momentum"] for c in sgd])
    for d, dtype in itertools.product(DIMS, DTYPES):
        A, b, theta0 = make_problem(d)
        q = hb.Quadratic(A, b)
        cases = [dict(c, dampening=0.0, nesterov=False, weight_decay=0.0, maximize=False) for c in sgd]
        ref = run_torch(torch, "SGD", cases, q, theta0, dtype, "constant", steps=SCHEME_STEPS)
        data[f"schemes_{d}_{dtype}"] = ref[SCHEME_STORED].transpose(1, 0, 2).copy()
        worst = 0.0
        for i, c in enumerate(sgd):
            opt = hb.SGD(lr=c["lr"], momentum=c["momentum"])
            tr = _iterate_general(opt, q, np.asarray(theta0, dtype=dtype), SCHEME_STEPS)
            worst = max(worst, parity(tr.theta, ref[:, i]))
        rows.append(("SGD(**to_torch)", d, dtype, "constant", worst, worst, worst <= TOLERANCE[dtype]))
    return data


def label(kwargs: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in kwargs.items())


def make_problem(d: int):
    """A random quadratic (rotated spectrum in [0.01, 1] or {0.05, 1}), its b and a start."""
    rng = np.random.default_rng(1000 + d)
    eigs = np.array([0.05, 1.0]) if d == 2 else np.geomspace(0.01, 1.0, d)
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))
    A = (Q * eigs) @ Q.T
    A = 0.5 * (A + A.T)  # exactly symmetric: Quadratic(A) stores it unchanged
    return A, rng.standard_normal(d), rng.standard_normal(d)


def schedule(kind: str, which: str):
    """``None`` for a constant lr, else ``k -> lr_k`` changing every 100 steps."""
    base = BASE_LR[kind]
    if which == "constant":
        return None
    return lambda k: base * LR_FACTORS[(k // 100) % len(LR_FACTORS)]


def negated(q):
    """The problem ``−f`` (its gradient is fed to a ``maximize`` run, which then descends f)."""
    return hb.Objective(lambda t: -q.value(t), lambda t: -q.grad(t), q.dim, minimizer=q.minimizer, name="-f")


def run_torch(torch, kind: str, cases: list[dict], q, theta0, dtype: str, which: str, steps: int = STEPS):
    """torch's iterates, shape ``(steps + 1, len(cases), d)``: one parameter group per case."""
    d = q.dim
    P = torch.tensor(np.tile(np.asarray(theta0, dtype=dtype), (len(cases), 1)))
    params = [P[i] for i in range(len(cases))]  # views of P (leaves: P does not require grad)
    G = torch.zeros_like(P)
    for i, p in enumerate(params):
        p.grad = G[i]
    cls = getattr(torch.optim, kind)
    base = BASE_LR[kind]
    opt = cls([dict(params=[p], **kw) for p, kw in zip(params, cases, strict=False)], lr=base)
    sign = np.array([-1.0 if kw["maximize"] else 1.0 for kw in cases], dtype=dtype)[:, None]
    lr_of = schedule(kind, which)
    out = np.empty((steps + 1, len(cases), d), dtype=dtype)
    Pn, Gn = P.numpy(), G.numpy()  # share memory with the tensors
    out[0] = Pn
    for k in range(steps):
        if lr_of is not None:
            for group in opt.param_groups:
                group["lr"] = lr_of(k)
        Gn[...] = q.grad(Pn) * sign  # the numpy gradient (of −f for maximize)
        opt.step()
        out[k + 1] = Pn
    return out


def run_heavyball(kind: str, case: dict, q, theta0, dtype: str, which: str, steps: int = STEPS, every: int = 1):
    """heavyball's iterates for one case, unbatched: shape ``(steps//every + 1, d)`` (general loop)."""
    lr = schedule(kind, which) or BASE_LR[kind]
    opt = getattr(hb, kind)(lr=lr, **case)
    problem = negated(q) if case["maximize"] else q
    tr = _iterate_general(opt, problem, np.asarray(theta0, dtype=dtype), steps, every=every)
    return np.asarray(tr.theta)


def run_heavyball_batched(kind: str, cases: list[dict], q, theta0, dtype: str, which: str,
                          steps: int = STEPS, every: int = 1):  # fmt: skip
    """heavyball's iterates for all cases, shape ``(steps//every + 1, len(cases), d)``.

    Cases that share their boolean flags run as one batch: their real hyperparameters become
    arrays shaped ``(n, 1)`` (heavyball's batching, the analogue of torch's parameter groups).
    """
    lr = schedule(kind, which) or BASE_LR[kind]
    out = None
    flags = [tuple((k, v) for k, v in c.items() if isinstance(v, bool)) for c in cases]
    for key in dict.fromkeys(flags):
        idx = [i for i, f in enumerate(flags) if f == key]
        group = [cases[i] for i in idx]
        kwargs = dict(key)
        for name in group[0]:
            if name in kwargs:
                continue
            if name == "betas":
                kwargs[name] = tuple(np.array([c[name][j] for c in group])[:, None] for j in range(2))
            else:
                kwargs[name] = np.array([c[name] for c in group])[:, None]
        opt = getattr(hb, kind)(lr=lr, **kwargs)
        problem = negated(q) if kwargs["maximize"] else q
        tr = _iterate_general(opt, problem, np.asarray(theta0, dtype=dtype), steps, every=every)
        theta = np.asarray(tr.theta)  # (n_rec, len(group), d)
        if out is None:
            out = np.empty((theta.shape[0], len(cases), theta.shape[-1]), theta.dtype)
        out[:, idx] = theta
    return out


def parity(theta_hb, theta_torch) -> float:
    """max_k ‖θ_hb,k − θ_torch,k‖∞ / max_k ‖θ_torch,k‖∞ (in float64)."""
    a, b = np.asarray(theta_hb, np.float64), np.asarray(theta_torch, np.float64)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="reference file to write")
    parser.add_argument("--no-write", action="store_true", help="only print the parity table")
    parser.add_argument("--progress", action="store_true", default=None,
                        help="show progress on stderr even when it is not a terminal (default: only on a terminal)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError as exc:
        print(f"record_torch_reference.py: error: torch is required to record its trajectories ({exc})",
              file=sys.stderr)  # fmt: skip
        return 1
    progress = Progress(args.progress)
    blocks = len(DIMS) * len(DTYPES) * len(SCHEDULES) * len(CASES)
    done = 0

    data = {"torch_version": np.array(torch.__version__), "numpy_version": np.array(np.__version__),
            "steps": np.array(STEPS), "lr_factors": np.array(LR_FACTORS)}  # fmt: skip
    for kind, cases in CASES.items():
        data[f"cases_{kind}"] = np.array([label(c) for c in cases])
    rows = []
    data.update(record_extra(torch, rows))
    for d in DIMS:
        A, b, theta0 = make_problem(d)
        data[f"A_{d}"], data[f"b_{d}"], data[f"theta0_{d}"] = A, b, theta0
        data[f"stored_steps_{d}"] = STORED_STEPS[d]
        q = hb.Quadratic(A, b)
        for dtype, which in itertools.product(DTYPES, SCHEDULES):
            for kind, cases in CASES.items():
                done += 1
                progress.update(f"[{done}/{blocks}] {kind}, d = {d}, {dtype}, {which} learning rate")
                ref = run_torch(torch, kind, cases, q, theta0, dtype, which)
                data[f"{kind}_{d}_{dtype}_{which}"] = ref[STORED_STEPS[d]].transpose(1, 0, 2).copy()
                mine = run_heavyball_batched(kind, cases, q, theta0, dtype, which)
                worst = max(parity(mine[:, i], ref[:, i]) for i in range(len(cases)))
                worst_1 = max(parity(run_heavyball(kind, c, q, theta0, dtype, which), ref[:, i])
                              for i, c in enumerate(cases))  # fmt: skip
                rows.append((kind, d, dtype, which, worst, worst_1, max(worst, worst_1) <= TOLERANCE[dtype]))
    progress.done()
    print(f"torch {torch.__version__}, numpy {np.__version__}, {STEPS} steps")
    print("worst over the flag combinations of max_k ‖θ_hb − θ_torch‖∞ / max_k ‖θ_torch‖∞")
    print("| optimiser | d | dtype | lr | batched | one by one | within tolerance |")
    print("|---|---|---|---|---|---|---|")
    for kind, d, dtype, which, worst, worst_1, ok in rows:
        print(f"| {kind} | {d} | {dtype} | {which} | {worst:.3g} | {worst_1:.3g} | {'yes' if ok else 'NO'} |")
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(args.out) as tmp:
            np.savez_compressed(tmp, **data)
        print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
