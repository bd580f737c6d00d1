"""heavyball's performance, each figure next to its baseline measured in the same run.

Run:  python analysis/benchmarks.py [--quick | --smoke] [--json PATH] [--md PATH] [--repeats N]

Prints a Markdown table (median wall time over repeats after one warm-up call — at most
``--repeats``, fewer once their sum passes 30 s, 4 s in ``--quick`` — the baseline's, and the
ratio baseline/heavyball) and writes the same rows as JSON (atomically, via ``heavyball._io``) with
the machine (CPU model, cores, library versions, the date) and its load average before and
after every section. A full run writes ``benchmarks.json`` and ``benchmarks.md`` beside this
script unless ``--json``/``--md`` say otherwise; ``--quick`` and ``--smoke`` write JSON only
when asked. A *target* row compares a ratio with the required one and says ``met`` or
``missed by x%`` (x = 100·(1 − ratio/required)).

Sections:

1. heavy-ball SGD (lr 0.5, momentum 0.9) on a 2-D valley (κ = 100, rotated), B starting points,
   1000 steps, float64 and float32: ``heavyball.iterate`` with ``record="final"`` (closed form
   where divergence is ruled out) and ``record="loss"`` (every step's loss and distance, or the
   smallest ``every`` the 2 GiB ``LOSS_MEMORY_BUDGET`` allows — said in the row), against a
   batched ``torch.optim.SGD`` loop on a ``(B, 2)`` tensor (gradient ``θA`` written by hand, no
   autograd: the fastest torch loop a user would write; timed at torch's default threads and at
   1 thread, the better one kept). ``record="loss"`` gets two rows: against that plain loop
   (which records nothing) and, like for like, against the same torch loop that also computes
   and stores the loss at the same steps. Also: the single-configuration torch loop, and torch
   param groups (one per configuration) against both ``record="final"`` and ``record="loss"``;
   these two baselines are timed on a subsample and scaled (said in the row).
2. Adam (lr 1e-2) on the same batches: heavyball's Adam kernel (bitwise equal to the general
   path — checked in the run) vs batched ``torch.optim.Adam``; and the target Adam ≥ 1.5×
   ``torch.optim.Adam`` at B = 1e5 with both on all cores, for each engine.
3. ``closed_form_iterate`` at k = 1000, 1e6 configurations (own lr and momentum each) vs stepping.
4. A 1000×1000 (lr, momentum) rate map over 100 curvatures: ``rates.spectral_radius`` vs
   ``numpy.linalg.eigvals`` of the stacked 2×2 matrices (timed on a subsample and scaled; the
   values are compared on that subsample).
5. ``exact`` vs ``simulate`` (DOP853, rtol 1e-10) at d = 2 and d = 1000, 1000 output times,
   with each one's error against a ``scipy.linalg.expm`` reference.
6. The figure catalogue (``heavyball figures``), ``import heavyball`` and ``heavyball --help``
   (subprocesses), and the peak memory of a B = 1e6, 1000-step ``record="final"`` run.
7. Monte Carlo of heavy-ball SGD with gradient noise (``iterate(..., noise=, seed=)``) on a 2-D
   quadratic, S samples × 1000 steps (S = 1e6; 1e5 with ``--quick``), with each engine: against
   the floor — numpy's fastest generator (SFC64) drawing the same S·1000·2 normal variates into
   a preallocated array (target: at most 1.5× that time) — and against batched
   ``torch.optim.SGD`` with ``torch.randn`` noise (target: ahead of it); and
   ``heavyball.moments`` (exact) against the Monte Carlo that estimates the final variance to the
   same accuracy (target: ≥ 1000× faster).
8. JAX/optax (the ``bench`` extra, float64): ``optax.sgd`` (plain and Nesterov), ``optax.adam``
   and ``optax.adamw`` (weight decay 1e-2), and HeavyBall and NesterovLookahead written out in
   JAX (optax has neither; η = lr, μ = momentum, Δt = 1), under ``jit(vmap(...))`` over a
   ``lax.scan`` with the gradient written by hand (``h ⊙ θ``), the same in ``lax.map`` blocks
   of 4096, and the same ``jit(vmap(...))`` with the batch sharded over one XLA CPU device per
   core; the fastest of the three is "best JAX" (compile time excluded; inputs already on the
   devices). 2-D valley κ = 100 (axis aligned), per-configuration lr ~ U(0.05, 1.5) and
   momentum ~ U(0, 0.95), 1000 steps, B = 1e4, 1e5, 1e6 (``--quick``: B = 1e5, SGD and Adam
   only): ``record="final"`` (closed form), stepping without the closed form
   (``record="loss", every=steps``), the loss (and distance) stored every step (every 8 at
   B = 1e6, as the 2 GiB budget allows); Adam and AdamW final and with the loss. Each row gives
   the agreement of the final iterates, max|θ_heavyball − θ_JAX| / max|θ₀|. Stepping and
   ``record="loss"`` are targets (heavyball ≥ best JAX), for ``engine="numpy"`` and
   ``engine="compiled"``.
9. Threads, for each engine: ``threads=2`` against ``threads=1`` (target ≥ 1.7×) for SGD
   stepping, SGD ``record="loss"`` and Adam at B ≥ 1e5, and the default (``threads=None``)
   against ``threads=1`` (target: never slower, ≥ 1×) at B = 1e4, 1e5, 1e6. First, a probe of
   the machine: a floating-point-throughput loop and a latency-bound loop, each in 2 threads
   against 1 (both 2× on two physical cores; the throughput loop ~1× where the two CPUs share
   one core's ports, which caps every port-bound kernel's scaling).
10. ``heavyball.sweep.sweep`` on a dask ``LocalCluster``: 2 workers against 1 (one thread each),
    its final iterates compared with ``iterate``'s.

A section whose module or library is missing prints ``skipped: <reason>``. ``--quick`` runs
a meaningful subset (B = 1e5 for the targets) in a few minutes on a quiet machine; ``--smoke``
runs every section at tiny sizes (under a minute; its times mean nothing).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROWS: list[dict] = []
SECTIONS: list[dict] = []
LINES: list[str] = []  # the Markdown output, also written to --md
HERE = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Profile:
    """The sizes of one kind of run (full, quick, smoke)."""

    name: str
    steps: int  # steps of every stepping benchmark (1000 except in --smoke)
    repeats: int
    sgd_sizes: tuple
    sgd_dtypes: tuple
    adam_sizes: tuple
    adam_target_B: int  # Adam vs torch.optim.Adam on all cores
    closed_B: int
    rate_n: int
    rate_sub: int
    dyn_dims: tuple
    simulate_big: bool
    repeat_budget: float  # seconds of timed repeats per case, at most (at least one repeat)
    startup_n: int
    figures: bool
    memory_B: int
    mc_S: int
    jax_sizes: tuple
    jax_adam_sizes: tuple
    jax_more: bool  # SGD nesterov, HeavyBall, NesterovLookahead, AdamW besides SGD and Adam
    thread_sizes: tuple  # threads=2 vs threads=1
    default_sizes: tuple  # threads=None vs threads=1
    sweep_B: int
    sweep_chunk: int


PROFILES = {
    "full": Profile(
        name="full", steps=1000, repeats=5, sgd_sizes=(10**3, 10**4, 10**5, 10**6), sgd_dtypes=("float64", "float32"),
        adam_sizes=(10**3, 10**4, 10**5, 10**6), adam_target_B=10**5, closed_B=10**6, rate_n=1000, rate_sub=10000,
        dyn_dims=(2, 1000), simulate_big=True, repeat_budget=30.0, startup_n=11, figures=True, memory_B=10**6, mc_S=10**6,
        jax_sizes=(10**4, 10**5, 10**6), jax_adam_sizes=(10**4, 10**5, 10**6), jax_more=True,
        thread_sizes=(10**5, 10**6), default_sizes=(10**4, 10**5, 10**6), sweep_B=10**6, sweep_chunk=125_000,
    ),
    "quick": Profile(
        name="quick", steps=1000, repeats=3, sgd_sizes=(10**3, 10**4, 10**5), sgd_dtypes=("float64",),
        adam_sizes=(10**3, 10**4), adam_target_B=10**5, closed_B=2 * 10**5, rate_n=1000, rate_sub=2000,
        dyn_dims=(2, 1000), simulate_big=False, repeat_budget=4.0, startup_n=5, figures=False, memory_B=10**6, mc_S=10**5,
        jax_sizes=(10**5,), jax_adam_sizes=(10**5,), jax_more=False,
        thread_sizes=(10**5,), default_sizes=(10**4, 10**5), sweep_B=2 * 10**5, sweep_chunk=50_000,
    ),
    "smoke": Profile(
        name="smoke", steps=40, repeats=1, sgd_sizes=(256,), sgd_dtypes=("float64",),
        adam_sizes=(256,), adam_target_B=512, closed_B=1000, rate_n=30, rate_sub=100,
        dyn_dims=(2,), simulate_big=False, repeat_budget=0.5, startup_n=1, figures=False, memory_B=10**4, mc_S=1000,
        jax_sizes=(512,), jax_adam_sizes=(512,), jax_more=True,
        thread_sizes=(2048,), default_sizes=(2048,), sweep_B=2048, sweep_chunk=512,
    ),
}  # fmt: skip

ENGINES = ("numpy", "compiled")


def _engines(section):
    """The engines to time: both, or numpy alone (and a row saying why) without numba."""
    if importlib.util.find_spec("numba") is not None:
        return ENGINES
    skipped(section, 'engine="compiled": numba is not installed (pip install "heavyball-dynamics[fast]")')
    return ENGINES[:1]


def out(line=""):
    print(line, flush=True)
    LINES.append(line)


#: seconds of timed repeats a case may take: the repeats stop once their sum passes it (at least
#: one runs); set from the profile by main()
REPEAT_BUDGET = [30.0]


def _timed(fn, repeats: int, warmup: bool = True):
    """``(median seconds over the timed repeats, the last call's result)``, after one untimed
    warm-up call (compilation, first-touch page faults) unless ``warmup=False``."""
    result = fn() if warmup else None
    times = []
    for _ in range(repeats):
        result = None  # freed outside the timed region
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if sum(times) >= REPEAT_BUDGET[0]:
            break
    return statistics.median(times), result


def _median_time(fn, repeats: int, warmup: bool = True) -> float:
    return _timed(fn, repeats, warmup)[0]


def row(section, case, hb_s=None, base_s=None, base_name="", unit_work=None, note="", **extra):
    """One table row; times in seconds; ``unit_work`` (e.g. configuration-steps) gives rates."""
    r = dict(section=section, case=case, heavyball_s=hb_s, baseline=base_name, baseline_s=base_s,
             ratio=(base_s / hb_s) if (hb_s and base_s) else None, note=note)  # fmt: skip
    if unit_work and hb_s:
        r["heavyball_rate"] = unit_work / hb_s
    if unit_work and base_s:
        r["baseline_rate"] = unit_work / base_s
    r.update(extra)
    ROWS.append(r)
    _print_row(r)
    return r


def verdict(ratio, required):
    """``met`` when ``ratio >= required``, else ``missed by x%`` with x = 100·(1 − ratio/required)."""
    if ratio is None or not math.isfinite(ratio):
        return "not measured"
    if ratio >= required:
        return "met"
    return f"missed by {100 * (1 - ratio / required):.0f}%"


def target(section, case, hb_s, base_s, base_name, required, unit_work=None, note="", **extra):
    """A row whose ratio (baseline/heavyball) must reach ``required``; says met or by how much missed."""
    ratio = (base_s / hb_s) if (hb_s and base_s) else None
    v = verdict(ratio, required)
    note = f"target ≥ {required:.3g}×: {v}" + (f"; {note}" if note else "")
    return row(section, case, hb_s, base_s, base_name, unit_work, note, target=required, verdict=v, **extra)


def _fmt_s(x):
    if x is None:
        return "—"
    return f"{x * 1e3:.3g} ms" if x < 1 else f"{x:.3g} s"


def _print_row(r):
    rate = f" ({r['heavyball_rate']:.3g}/s)" if r.get("heavyball_rate") else ""
    brate = f" ({r['baseline_rate']:.3g}/s)" if r.get("baseline_rate") else ""
    ratio = f"{r['ratio']:.3g}×" if r.get("ratio") else "—"
    base = f"{r['baseline']}: {_fmt_s(r['baseline_s'])}{brate}" if r["baseline"] else "—"
    _table_row(r["section"], r["case"], f"{_fmt_s(r['heavyball_s'])}{rate}", base, ratio, r["note"])


def _table_row(*cells):
    """A Markdown table row; a ``|`` inside a cell (as in ``max|θ₀|``) is escaped."""
    out("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")


def skipped(section, reason):
    ROWS.append(dict(section=section, case="skipped", note=reason))
    _table_row(section, f"skipped: {reason}", "", "", "", "")


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _module(name):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        return exc


def _valley_batch(B, seed, dtype=np.float64):
    """The issue's sweep: B starts ~ N(0, I), lr ~ U(0.05, 1.5), momentum ~ U(0, 0.95), each (B,)."""
    rng = np.random.default_rng(seed)
    theta0 = rng.standard_normal((B, 2)).astype(dtype)
    return theta0, rng.uniform(0.05, 1.5, B), rng.uniform(0.0, 0.95, B)


WEIGHT_DECAY = 1e-2  # AdamW's


def _hb_method(hb, kind, lr, mom):
    """heavyball's optimiser ``kind`` with per-configuration ``lr`` (and ``mom``), each ``(B,)``;
    HeavyBall and NesterovLookahead with ``η = lr``, ``μ = mom``, ``Δt = 1``."""
    lr, mom = lr[:, None], mom[:, None]
    if kind == "Adam":
        return hb.Adam(lr=lr)
    if kind == "AdamW":
        return hb.AdamW(lr=lr, weight_decay=WEIGHT_DECAY)
    if kind == "HeavyBall":
        return hb.HeavyBall(eta=lr, mu=mom)
    if kind == "NesterovLookahead":
        return hb.NesterovLookahead(eta=lr, mu=mom)
    return hb.SGD(lr=lr, momentum=mom, nesterov=kind == "SGD nesterov")


# ---------------------------------------------------------------------------------------
# 1. heavy-ball SGD
# ---------------------------------------------------------------------------------------
LR, MOM = 0.5, 0.9


def _budget_every(B, d, steps, itemsize, with_distance=True):
    """The smallest ``every`` whose record="loss" recording fits iterate's LOSS_MEMORY_BUDGET."""
    from heavyball.iterate import LOSS_MEMORY_BUDGET

    for every in range(1, steps + 1):
        n = len(range(0, steps + 1, every)) + (steps % every != 0)
        if (B * d + n * B * (1 + with_distance)) * itemsize <= LOSS_MEMORY_BUDGET:
            return every
    return steps


def _torch_time(torch, fn, repeats, quick, threads=None):
    """The torch baseline's median time: at ``threads`` if given, else at its best thread
    setting, the min over torch's default intra-op threads and 1 thread (only 1 thread in
    --quick; small batches run faster on one)."""
    default = torch.get_num_threads()
    best = float("inf")
    for n in (threads,) if threads else ((1,) if quick else (default, 1)):
        torch.set_num_threads(n)
        try:
            best = min(best, _median_time(fn, repeats))
        finally:
            torch.set_num_threads(default)
    return best


def _torch_sgd_loop(torch, A, theta0, steps, lr, momentum, loss_every=None, adam=False):
    p = torch.tensor(theta0, requires_grad=False).clone()
    p.grad = torch.zeros_like(p)
    At = torch.tensor(A, dtype=p.dtype)
    opt = torch.optim.Adam([p], lr=lr) if adam else torch.optim.SGD([p], lr=lr, momentum=momentum)
    losses = None
    if loss_every:
        losses = torch.empty((steps // loss_every + 1, p.shape[0]), dtype=p.dtype)
    with torch.no_grad():
        for k in range(steps):
            torch.matmul(p, At, out=p.grad)
            if losses is not None and k % loss_every == 0:
                losses[k // loss_every] = 0.5 * (p.grad * p).sum(1)
            opt.step()
    return p


def _torch_per_config_costs(torch, A, P):
    """Seconds per configuration-step of the single-configuration torch loop and of torch param
    groups (one group per configuration), each timed on a subsample."""
    quick = P.name != "full"
    th1 = np.array([1.0, 1.0])
    n1 = 200 if quick else 2000
    t1 = _torch_time(torch, lambda: _torch_sgd_loop(torch, A, th1[None], n1, LR, MOM), 3, True)
    G, n2 = 200, (10 if quick else 50)

    def groups():
        ps = [torch.ones(2, dtype=torch.float64) for _ in range(G)]
        for pp in ps:
            pp.grad = torch.zeros_like(pp)
        o = torch.optim.SGD(
            [{"params": [pp], "lr": LR * (1 + i / G), "momentum": MOM} for i, pp in enumerate(ps)], lr=LR
        )
        At = torch.tensor(A)
        with torch.no_grad():
            for _ in range(n2):
                for pp in ps:
                    torch.matmul(At, pp, out=pp.grad)
                o.step()

    return t1 / n1, _torch_time(torch, groups, 3, True) / (G * n2)


def bench_sgd(P, torch):
    import heavyball as hb

    q = hb.Quadratic.valley(kappa=100, angle=0.3)
    A = np.asarray(q.A)
    rng = np.random.default_rng(0)
    opt = hb.SGD(lr=LR, momentum=MOM)
    steps, quick = P.steps, P.name != "full"
    per_single, per_group = _torch_per_config_costs(torch, A, P) if torch is not None else (None, None)
    for dtype in map(np.dtype, P.sgd_dtypes):
        for B in P.sgd_sizes:
            theta0 = rng.standard_normal((B, 2)).astype(dtype)
            work = B * steps
            reps = P.repeats if B <= 10**5 else max(1, P.repeats // 2)
            base = None
            if torch is not None:
                base = _torch_time(torch, lambda: _torch_sgd_loop(torch, A, theta0, steps, LR, MOM), reps, quick)
            name = dtype.name
            t_final = _median_time(lambda: hb.iterate(opt, q, theta0, steps, record="final"), reps)
            row("1 SGD", f"{name} B={B:.0e} record=final", t_final, base, "torch batched SGD", work)
            every = _budget_every(B, 2, steps, dtype.itemsize)
            t_loss = _median_time(lambda: hb.iterate(opt, q, theta0, steps, record="loss", every=every), reps)
            base_loss = None
            if torch is not None:
                base_loss = _torch_time(
                    torch, lambda: _torch_sgd_loop(torch, A, theta0, steps, LR, MOM, loss_every=every), reps, quick
                )
            row("1 SGD", f"{name} B={B:.0e} record=loss every={every} vs plain loop", t_loss, base, "torch batched SGD (no loss)", work,
                note=f"heavyball stores loss and distance every {every} steps, torch stores nothing"
                + ("" if every == 1 else f"; every={every}: the smallest the 2 GiB LOSS_MEMORY_BUDGET allows "
                   f"(every step's loss + distance would be {2 * (steps + 1) * B * dtype.itemsize / 2**30:.3g} GiB)"),
                torch_with_loss_s=base_loss)  # fmt: skip
            row("1 SGD", f"{name} B={B:.0e} record=loss every={every} vs loop with loss", t_loss, base_loss,
                f"torch batched SGD storing the loss every {every}", work,
                note="like for like: both store every recorded loss (heavyball also the distance)")  # fmt: skip
            if dtype == np.float64 and B == max(P.sgd_sizes) and per_single is not None:
                row("1 SGD", f"float64 B={B:.0e} record=final vs param groups", t_final, per_group * work,
                    "torch param groups (scaled)", work,
                    note=f"like for like: neither records a loss; timed 200 groups × few steps, scaled to B×{steps}")  # fmt: skip
                row("1 SGD", f"float64 B={B:.0e} record=loss vs param groups", t_loss, per_group * work,
                    "torch param groups (scaled)", work,
                    note=f"heavyball also stores loss + distance every {every}, the groups store nothing")  # fmt: skip
                row("1 SGD", f"float64 B={B:.0e} record=final vs single-config loop", t_final, per_single * work,
                    "torch single-config loop (scaled)", work, note=f"one (2,) tensor: per configuration-step cost × B×{steps}")  # fmt: skip
    if torch is None:
        skipped("1 SGD baselines", "torch is not installed")


# ---------------------------------------------------------------------------------------
# 2. Adam
# ---------------------------------------------------------------------------------------
def bench_adam(P, torch):
    import heavyball as hb
    from heavyball.iterate import _iterate_general

    q = hb.Quadratic.valley(kappa=100, angle=0.3)
    A = np.asarray(q.A)
    rng = np.random.default_rng(1)
    opt = hb.Adam(lr=1e-2)
    steps, quick = P.steps, P.name != "full"
    for B in P.adam_sizes:
        theta0 = rng.standard_normal((B, 2))
        reps = P.repeats if B <= 10**5 else max(1, P.repeats // 2)
        t = _median_time(lambda: hb.iterate(opt, q, theta0, steps, record="final"), reps)
        # the kernel is bitwise equal to the general path: checked on (up to) 1000 configurations
        n_chk = min(B, 1000)
        fast = hb.iterate(opt, q, theta0[:n_chk], steps, record="final")
        ref = _iterate_general(opt, q, theta0[:n_chk], steps, record="final")
        bitwise = bool(np.array_equal(fast.theta, ref.theta) and np.array_equal(fast.loss, ref.loss))
        base = None
        if torch is not None:
            base = _torch_time(
                torch, lambda: _torch_sgd_loop(torch, A, theta0, steps, 1e-2, 0.0, adam=True), reps, quick
            )
        note = (
            f"fast kernel {'bitwise equal to' if bitwise else 'DIFFERS from'} the general path ({n_chk} configurations)"
        )
        if B == 10**4:
            t_gen = _median_time(lambda: _iterate_general(opt, q, theta0, steps, record="final"), 1)
            note += f"; general path {_fmt_s(t_gen)}"
        row("2 Adam", f"float64 B={B:.0e} record=final", t, base, "torch batched Adam", B * steps, note=note,
            bitwise_equal_general=bitwise)  # fmt: skip
    if torch is None:
        return skipped("2 Adam vs torch on all cores", "torch is not installed")
    # the target: both on all cores (heavyball's default threads, torch at one thread per core)
    B, cores = P.adam_target_B, os.cpu_count() or 1
    theta0 = rng.standard_normal((B, 2))
    base = _torch_time(torch, lambda: _torch_sgd_loop(torch, A, theta0, steps, 1e-2, 0.0, adam=True), P.repeats, quick,
                       threads=cores)  # fmt: skip
    for engine in _engines("2 Adam"):
        t = _median_time(lambda: hb.iterate(opt, q, theta0, steps, record="final", engine=engine), P.repeats)
        target("2 Adam", f"float64 B={B:.0e} record=final, engine={engine}, both on all cores", t, base,
               f"torch batched Adam ({cores} threads)", 1.5, B * steps,
               note=f"heavyball threads=None, torch.set_num_threads({cores})", engine=engine)  # fmt: skip


# ---------------------------------------------------------------------------------------
# 3. closed form
# ---------------------------------------------------------------------------------------
def bench_closed_form(P):
    import heavyball as hb
    from heavyball import eigenmodes

    q = hb.Quadratic.valley(kappa=100, angle=0.3)
    rng = np.random.default_rng(2)
    B = P.closed_B
    lr = rng.uniform(0.05, 1.5, (B, 1))
    mom = rng.uniform(0.0, 0.95, (B, 1))
    method = hb.SGD(lr=lr, momentum=mom)
    theta0 = rng.standard_normal((B, 2))
    k = P.steps
    reps = max(1, P.repeats // 2)
    t_cf, got = _timed(lambda: eigenmodes.closed_form_iterate(method, q, theta0, k), reps)
    # stepping with the fast engine: record the loss only at steps 0 and k
    t_step, tr = _timed(lambda: hb.iterate(method, q, theta0, k, record="loss", every=k), reps)
    ref = tr.final
    ok = np.all(np.isfinite(ref), axis=-1)
    err = float(np.max(np.abs(got[ok] - ref[ok])) / np.max(np.abs(theta0)))
    row("3 closed form", f"k={k}, B={B:.0e} (own lr, momentum each)", t_cf, t_step, "fast-path stepping", B * k,
        note=f"max |Δθ| / max|θ₀| = {err:.1e}", max_rel_error=err)  # fmt: skip


# ---------------------------------------------------------------------------------------
# 4. rate map
# ---------------------------------------------------------------------------------------
def bench_rates(P):
    rates = _module("heavyball.rates")
    if isinstance(rates, Exception):
        return skipped("4 rate map", f"heavyball.rates: {rates}")
    n = P.rate_n
    lr = np.linspace(0.01, 4.0, n)[:, None]
    mom = np.linspace(0.0, 0.999, n)[None, :]
    h = np.geomspace(0.01, 1.0, 100)
    t_hb = _median_time(lambda: rates.spectral_radius(h, lr=lr, momentum=mom), P.repeats)
    rho = rates.spectral_radius(h, lr=lr, momentum=mom)
    rng = np.random.default_rng(3)
    n_sub = P.rate_sub
    i = rng.integers(0, n, n_sub)
    j = rng.integers(0, n, n_sub)
    L, M = lr[i, 0][:, None], mom[0, j][:, None]
    T = 1.0 + M - L * h[None, :]  # (n_sub, 100)
    mats = np.empty((n_sub, h.size, 2, 2))
    mats[..., 0, 0], mats[..., 0, 1], mats[..., 1, 0], mats[..., 1, 1] = T, -M, 1.0, 0.0
    t_sub = _median_time(lambda: np.linalg.eigvals(mats), max(1, P.repeats // 2), warmup=False)
    t_base = t_sub * (n * n) / n_sub
    ref = np.abs(np.linalg.eigvals(mats)).max(axis=-1).max(axis=-1)
    diff = np.abs(rho[i, j] - ref)
    # distance from the repeated-root curve (1 + μ − γh)² = 4μ at the extremes, where both
    # methods are only √ε-accurate (the radius is not Lipschitz there)
    disc = np.min(np.abs(T[:, [0, -1]] ** 2 - 4 * M), axis=1)
    far = disc > 1e-6
    away = float(diff[far].max()) if far.any() else None
    row("4 rate map", f"{n}×{n} (lr, momentum) × 100 curvatures", t_hb, t_base,
        f"numpy eigvals (timed on {n_sub} points × 100, scaled ×{n * n / n_sub:.3g})", n * n * h.size,
        note=f"max |Δρ| = {diff.max():.1e} on the subsample, {away or 0:.1e} away from repeated roots "
        f"(disc > 1e-6, {far.mean():.0%} of points)",
        max_diff=float(diff.max()), max_diff_away=away)  # fmt: skip


# ---------------------------------------------------------------------------------------
# 5. exact vs simulate
# ---------------------------------------------------------------------------------------
def _expm_reference(q, m, c, theta0, t):
    """θ(t) from scipy.linalg.expm of each mode's 2×2 first-order system (b = 0, v₀ = 0)."""
    from scipy.linalg import expm

    h, V = q.eigenvalues, q.eigenvectors
    x0 = V.T @ np.asarray(theta0, float)
    res = np.empty((t.size, h.size))
    for i, hi in enumerate(h):
        Mi = np.array([[0.0, 1.0], [-hi / m, -c / m]])
        E = expm(t[:, None, None] * Mi[None])  # batched over times
        res[:, i] = E[:, 0, 0] * x0[i]
    return res @ V.T


def bench_dynamics(P):
    dyn = _module("heavyball.dynamics")
    if isinstance(dyn, Exception):
        return skipped("5 exact vs simulate", f"heavyball.dynamics: {dyn}")
    import heavyball as hb

    m, c = 1.0, 0.5
    ode = hb.HeavyBallODE(m=m, c=c)
    t = np.linspace(0.0, 50.0, 1000)
    for d in P.dyn_dims:
        if d == 2:
            q = hb.Quadratic.valley(kappa=100, angle=0.3)
        else:
            q = hb.Quadratic.from_eigenvalues(np.geomspace(0.01, 1.0, d), rotation="random", seed=4)
        theta0 = np.ones(d)
        reps = P.repeats if d == 2 else 1
        t_ex = _median_time(lambda: hb.exact(ode, q, theta0, t), reps)
        if d > 2 and not P.simulate_big:
            t_sim, sim = None, None
        else:
            t_sim = _median_time(lambda: hb.simulate(ode, q, theta0, (0.0, 50.0), t_eval=t), reps, warmup=d == 2)
            sim = hb.simulate(ode, q, theta0, (0.0, 50.0), t_eval=t)
        ex = hb.exact(ode, q, theta0, t)
        ref = _expm_reference(q, m, c, theta0, t)
        e_ex = float(np.max(np.abs(ex.theta - ref)))
        e_sim = float(np.max(np.abs(sim.theta - ref))) if sim is not None else None
        row("5 exact vs simulate", f"d={d}, 1000 output times, t ∈ [0, 50]", t_ex, t_sim, "simulate (DOP853, rtol 1e-10)",
            note=f"max error vs expm: exact {e_ex:.1e}, simulate {e_sim:.1e}" if e_sim is not None
            else f"max error vs expm: exact {e_ex:.1e}; simulate not run at this size in --{P.name}",
            error_exact=e_ex, error_simulate=e_sim)  # fmt: skip


# ---------------------------------------------------------------------------------------
# 6. catalogue, import, --help, memory
# ---------------------------------------------------------------------------------------
def _run(cmd, timeout=1800):
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - t0, proc


def bench_startup(P):
    py = sys.executable
    n = P.startup_n
    base = statistics.median(_run([py, "-c", "pass"])[0] for _ in range(n))
    imp = statistics.median(_run([py, "-c", "import heavyball"])[0] for _ in range(n))
    row("6 startup", "import heavyball (subprocess, goal ≤ 0.3 s)", imp, base, "python -c pass",
        note=f"import alone ≈ {_fmt_s(imp - base)} (the API is loaded lazily)")  # fmt: skip
    use = statistics.median(
        _run([py, "-c", "import heavyball as hb; hb.iterate, hb.SGD, hb.exact, hb.rates"])[0] for _ in range(n)
    )
    row("6 startup", "import heavyball + first use of iterate, SGD, exact, rates", use, base, "python -c pass")
    exe = shutil.which("heavyball", path=os.path.dirname(py)) or shutil.which("heavyball")
    cmd = [exe] if exe is not None else [py, "-m", "heavyball"]
    dt, proc = _run([*cmd, "--help"])
    if proc.returncode != 0:
        return skipped("6 startup", f"`heavyball --help` failed: {proc.stderr.strip()[:120]}")
    hlp = statistics.median(_run([*cmd, "--help"])[0] for _ in range(n))
    how = "heavyball --help" if exe is not None else "python -m heavyball --help (no `heavyball` command installed)"
    row("6 startup", f"{how} (goal ≤ 0.5 s)", hlp, base, "python -c pass")
    if not P.figures:
        return skipped("6 figures", f"the catalogue takes ~30 s: not in --{P.name}")
    with tempfile.TemporaryDirectory() as tmp:
        dt, proc = _run([*cmd, "figures", "--out", tmp])
        if proc.returncode != 0:
            return skipped("6 figures", f"`heavyball figures` failed: {(proc.stderr or proc.stdout).strip()[-200:]}")
        nfiles = len(os.listdir(tmp))
        row("6 figures", "whole catalogue (heavyball figures)", dt, note=f"{nfiles} files written")


_MEMORY_SCRIPT = r"""
import sys, resource, tracemalloc, numpy as np, heavyball as hb
B = int(sys.argv[1])
q = hb.Quadratic.valley(kappa=100, angle=0.3)
theta0 = np.random.default_rng(0).standard_normal((B, 2))
hb.iterate(hb.SGD(lr=0.5, momentum=0.9), q, theta0[:10], 10, record="final")  # warm imports
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
rss0 = hwm()
tracemalloc.start()
tr = hb.iterate(hb.SGD(lr=0.5, momentum=0.9), q, theta0, 1000, record="final")
cur, peak = tracemalloc.get_traced_memory()
print(peak / 2**20, hwm() - rss0, theta0.nbytes / 2**20)
"""


def bench_memory(P):
    _dt, proc = _run([sys.executable, "-c", _MEMORY_SCRIPT, str(P.memory_B)])
    if proc.returncode != 0:
        return skipped("6 memory", proc.stderr.strip()[-200:])
    peak, rss, state = map(float, proc.stdout.split())
    row("6 memory", f"peak of B={P.memory_B:.0e}, 1000-step record=final (goal < 200 MB at B=1e6)", None,
        note=f"tracemalloc peak {peak:.0f} MiB (θ₀ itself {state:.0f} MiB, not counted); peak-RSS growth {rss:.0f} MiB",
        peak_mib=peak, rss_growth_mib=rss)  # fmt: skip


# ---------------------------------------------------------------------------------------
# 7. Monte Carlo with gradient noise
# ---------------------------------------------------------------------------------------
def _torch_noisy_sgd(torch, A, S, d, steps):
    p = torch.ones((S, d), dtype=torch.float64)
    p.grad = torch.zeros_like(p)
    o = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    gen_t = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(steps):
            torch.matmul(p, A, out=p.grad)
            p.grad.add_(torch.randn((S, d), generator=gen_t, dtype=torch.float64), alpha=0.1)
            o.step()
    return p


def bench_noise(P, torch):
    import heavyball as hb

    S, steps, d = P.mc_S, P.steps, 2
    q = hb.Quadratic.valley(kappa=10.0, angle=0.5)
    opt = hb.SGD(lr=0.1, momentum=0.9)
    noise = hb.GradientNoise.isotropic(0.1)
    theta0 = np.ones((S, d))
    repeats = 1  # one run of this size takes seconds to minutes
    buf = np.empty((S, d))
    gen = np.random.Generator(np.random.SFC64(1))

    def floor():
        for _ in range(steps):
            gen.standard_normal(out=buf)

    t_floor = _median_time(floor, repeats, warmup=False)
    t_torch = None
    if torch is not None:
        t_torch = _torch_time(
            torch, lambda: _torch_noisy_sgd(torch, torch.tensor(q.A), S, d, steps), repeats, P.name != "full"
        )
    t_mc = {}
    for engine in _engines("7 noise"):
        run = lambda: hb.iterate(opt, q, theta0, steps, record="final", noise=noise, seed=1, engine=engine)  # noqa: E731
        # numpy: one cold run (its cost is the draws, not a warm-up); compiled: compile excluded
        t_mc[engine] = t = _median_time(run, repeats, warmup=engine == "compiled")
        target("7 noise", f"Monte Carlo S={S:.0e} × {steps} steps, d = 2, engine={engine}", t, t_floor,
               "SFC64 normals (floor)", 1 / 1.5, S * steps,
               note="at most 1.5× the time numpy takes to draw the same normals", engine=engine)  # fmt: skip
        if torch is not None:
            target("7 noise", f"same, engine={engine}, vs batched torch.optim.SGD + torch.randn", t, t_torch,
                   "torch.optim.SGD", 1.0, S * steps, engine=engine)  # fmt: skip
        else:
            skipped("7 noise vs torch", "torch is not installed")
    t_mom = _median_time(lambda: hb.moments(opt, q, [1.0, 1.0], steps, noise=noise), max(P.repeats, 3))
    target("7 noise", "exact moments vs that Monte Carlo (engine=numpy)", t_mom, t_mc["numpy"], "Monte Carlo", 1000.0,
           note=f"Monte Carlo's relative standard error of a variance: sqrt(2/S) = {np.sqrt(2 / S):.1e}; moments is exact")  # fmt: skip


# ---------------------------------------------------------------------------------------
# 8. JAX/optax
# ---------------------------------------------------------------------------------------
JAX_BLOCK = 4096  # lax.map's block of configurations


def _jax():
    """``(jax, optax)`` in float64 with one XLA CPU device per core, or the reason they cannot run."""
    missing = [m for m in ("jax", "optax") if importlib.util.find_spec(m) is None]
    if missing:
        return None, f'{" and ".join(missing)} not installed (pip install "heavyball-dynamics[bench]")'
    cores = os.cpu_count() or 1
    flags = os.environ.get("XLA_FLAGS", "")
    if "jax" not in sys.modules and "xla_force_host_platform_device_count" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={cores}".strip()
    import jax
    import optax

    jax.config.update("jax_enable_x64", True)
    return (jax, optax), None


def _jax_stepper(jax, optax, kind, lr, mom, grad):
    """``(init, step)`` of one configuration: optax's optimiser (torch's SGD, Adam, AdamW), or
    for HeavyBall and NesterovLookahead (which optax lacks) their update written out in JAX."""
    if kind in ("HeavyBall", "NesterovLookahead"):
        look = kind == "NesterovLookahead"

        def step_physical(th, v):  # y = θ + μv (look-ahead); v ← μv − η∇f(y); θ ← θ + v (Δt = 1)
            v = mom * v - lr * grad(th + mom * v if look else th)
            return th + v, v

        return jax.numpy.zeros_like, step_physical
    if kind == "Adam":
        opt = optax.adam(lr)  # torch's defaults: betas (0.9, 0.999), eps 1e-8 outside the root
    elif kind == "AdamW":
        opt = optax.adamw(lr, weight_decay=WEIGHT_DECAY)
    else:
        opt = optax.sgd(lr, momentum=mom, nesterov=kind == "SGD nesterov")

    def step_optax(th, st):
        upd, st = opt.update(grad(th), st, th)
        return optax.apply_updates(th, upd), st

    return opt.init, step_optax


def _jax_one(jax, optax, kind, h, steps, every):
    """One configuration's run as a JAX function of ``(θ₀ (d,), lr, momentum)``: the final
    iterate, and with ``every`` the loss and distance at steps ``0, every, …`` and ``steps``
    (the steps heavyball's ``record="loss"`` records)."""
    lax, jnp = jax.lax, jax.numpy
    hj = jnp.asarray(h)

    def one(theta0, lr, mom):
        # the gradient of ½θᵀdiag(h)θ, by hand
        init, update = _jax_stepper(jax, optax, kind, lr, mom, lambda th: hj * th)

        def step(carry):
            return update(*carry)

        def advance(carry, n):
            if n == 1:
                return step(carry)
            return lax.fori_loop(0, n, lambda _, c: step(c), carry)

        carry = (theta0, init(theta0))
        if not every:
            carry, _ = lax.scan(lambda c, _: (step(c), None), carry, None, length=steps)
            return carry[0]

        def rec(th):
            return 0.5 * jnp.sum(hj * th * th), jnp.sqrt(jnp.sum(th * th))

        n, rem = divmod(steps, every)
        carry, (loss, dist) = lax.scan(lambda c, _: (advance(c, every), rec(c[0])), carry, None, length=n)
        tail = [rec(carry[0])]
        if rem:
            carry = advance(carry, rem)
            tail.append(rec(carry[0]))
        loss = jnp.concatenate([loss, jnp.stack([t[0] for t in tail])])
        dist = jnp.concatenate([dist, jnp.stack([t[1] for t in tail])])
        return carry[0], loss, dist

    return one


def _jax_best(jax, optax, kind, h, steps, every, theta0, lr, mom, repeats):
    """Each JAX variant's median time (compile excluded) and the best one's final iterates."""
    one = _jax_one(jax, optax, kind, h, steps, every)
    B = theta0.shape[0]
    variants = {
        "jit(vmap) over lax.scan": (jax.jit(jax.vmap(one)), None),
        f"lax.map blocks of {JAX_BLOCK}": (
            jax.jit(lambda a, b, c: jax.lax.map(lambda x: one(*x), (a, b, c), batch_size=min(JAX_BLOCK, B))),
            None,
        ),
    }
    ndev = len(jax.devices())
    if ndev > 1 and B % ndev == 0:
        from jax.sharding import NamedSharding, PartitionSpec

        mesh = jax.make_mesh((ndev,), ("batch",))
        variants[f"jit(vmap) sharded over {ndev} CPU devices"] = (
            jax.jit(jax.vmap(one)),
            NamedSharding(mesh, PartitionSpec("batch")),
        )
    times, finals = {}, {}
    for name, (fn, sharding) in variants.items():
        dev = [jax.device_put(x, sharding) if sharding is not None else jax.device_put(x) for x in (theta0, lr, mom)]
        times[name], res = _timed(lambda: jax.block_until_ready(fn(*dev)), repeats)
        finals[name] = np.asarray(res[0] if every else res)
        del res
    best = min(times, key=times.get)
    spread = max(float(np.max(np.abs(f - finals[best]))) for f in finals.values())
    return times, best, finals[best], spread


def _agreement(hb_final, jax_final, theta0, status=None):
    """``max|θ_heavyball − θ_JAX| / max|θ₀|`` over the configurations heavyball did not report
    diverged (those are counted apart: their iterates are NaN after the divergence)."""
    a = np.asarray(hb_final).reshape(jax_final.shape)
    ok = np.ones(a.shape[:-1], bool) if status is None else (np.asarray(status) != "diverged").reshape(a.shape[:-1])
    return float(np.max(np.abs(a[ok] - np.asarray(jax_final)[ok]), initial=0.0) / np.max(np.abs(theta0)))


def _jax_cases(P, B):
    """``(kind, label, every, heavyball runs)`` of section 8 at batch ``B``; a heavyball run is
    ``(label, iterate keywords, is a target)``."""
    loss_every = _budget_every(B, 2, P.steps, 8)
    stepping = ("stepping (no closed form)", dict(record="loss", every=P.steps), True)
    loss = (f"loss + distance every {loss_every}", dict(record="loss", every=loss_every), True)
    cases = []
    if B in P.jax_sizes:
        for kind in ["SGD"] + (["SGD nesterov", "HeavyBall", "NesterovLookahead"] if P.jax_more else []):
            closed = [("record=final (closed form)", dict(record="final"), False)] if kind == "SGD" else []
            cases.append((kind, "final iterate only", None, [stepping, *closed]))
            cases.append((kind, f"loss + distance every {loss_every}", loss_every, [loss]))
    if B in P.jax_adam_sizes:
        for kind in ["Adam"] + (["AdamW"] if P.jax_more else []):
            cases.append((kind, "final iterate only", None, [("record=final", dict(record="final"), True)]))
            cases.append((kind, f"loss + distance every {loss_every}", loss_every, [loss]))
    return cases


def bench_jax(P, jaxmods):
    import heavyball as hb

    jax, optax = jaxmods
    q = hb.Quadratic.valley(kappa=100)  # axis aligned: A = diag(h), the JAX gradient is h ⊙ θ
    h = np.diag(np.asarray(q.A)).copy()
    steps = P.steps
    engines = _engines("8 JAX")
    for B in sorted(set(P.jax_sizes) | set(P.jax_adam_sizes)):
        theta0, lr, mom = _valley_batch(B, seed=8)
        reps = P.repeats if B <= 10**5 else max(1, P.repeats // 2)
        for kind, jax_label, every, runs in _jax_cases(P, B):
            times, best, jfinal, spread = _jax_best(jax, optax, kind, h, steps, every, theta0, lr, mom, reps)
            base_name = f"best JAX ({best}; {jax_label})"
            variants = {k: float(v) for k, v in times.items()}
            method = _hb_method(hb, kind, lr, mom)
            for label, kw, is_target in runs:
                for engine in engines if is_target else ("numpy",):
                    t, tr = _timed(lambda: hb.iterate(method, q, theta0, steps, engine=engine, **kw), reps)
                    agree = _agreement(tr.final, jfinal, theta0, tr.status)
                    ndiv = int(np.count_nonzero(np.asarray(tr.status) == "diverged"))
                    note = f"final iterates agree to {agree:.1e} of max|θ₀|" + (
                        f"; {ndiv} diverged, left out" if ndiv else ""
                    )
                    case = f"{kind} B={B:.0e} {label}, engine={engine}"
                    extra = dict(agreement=agree, engine=engine, jax_variants_s=variants, jax_variant_spread=spread)
                    if is_target:
                        target("8 JAX", case, t, times[best], base_name, 1.0, B * steps, note=note, **extra)
                    else:
                        row("8 JAX", case, t, times[best], base_name, B * steps, note=note, **extra)


# ---------------------------------------------------------------------------------------
# 9. threads
# ---------------------------------------------------------------------------------------
def _core_probe(P):
    """Two rows on the machine itself: a floating-point-throughput loop (independent
    multiply-adds over an L1-resident array: the FP ports are the limit) and a latency loop
    (one dependent chain: the ports mostly idle), each in two threads doing twice the work of
    one. On two physical cores both scale 2×; where the two CPUs share one core's ports (two
    hyperthreads, or a host that runs them so), only the latency loop does, and no
    port-bound kernel can reach 2× either."""
    numba = _module("numba")
    if isinstance(numba, Exception):
        return skipped("9 threads", f"the core probe needs numba ({numba})")
    from concurrent.futures import ThreadPoolExecutor

    @numba.njit(nogil=True)
    def throughput(x, n):
        for _ in range(n):
            for i in range(x.shape[0]):
                x[i] = x[i] * 0.999 + 0.001
        return x[0]

    @numba.njit(nogil=True)
    def latency(x, n):
        s = x[0]
        for _ in range(n * 64):
            s = s * 0.999 + 0.001
        x[0] = s
        return s

    n = max(1, P.steps * 400)  # about 0.1–0.2 s per run (4e5 sweeps of 2048 elements)
    for name, f in (("FP-throughput loop", throughput), ("latency-bound loop", latency)):
        xs = [np.ones(2048) for _ in range(2)]
        f(xs[0], 1)
        with ThreadPoolExecutor(2) as pool:
            t2 = _median_time(lambda: list(pool.map(lambda x: f(x, n), xs)), P.repeats)
        t1 = _median_time(lambda: f(xs[0], n), P.repeats)
        row("9 threads", f"machine probe, {name}: 2 threads (twice the work) vs 1", t2, 2 * t1, "1 thread",
            note="2× on two physical cores; ~1× for the throughput loop where the CPUs share one core's FP ports")  # fmt: skip


def bench_threads(P):
    import heavyball as hb
    from heavyball import fastpath

    q = hb.Quadratic.valley(kappa=100, angle=0.3)
    steps = P.steps
    _core_probe(P)
    engines = _engines("9 threads")
    for B in sorted(set(P.thread_sizes) | set(P.default_sizes)):
        theta0, lr, mom = _valley_batch(B, seed=9)
        reps = P.repeats if B <= 10**5 else max(1, P.repeats // 2)
        cases = [
            ("SGD stepping", _hb_method(hb, "SGD", lr, mom), dict(record="loss", every=steps)),
            (
                "SGD record=loss",
                _hb_method(hb, "SGD", lr, mom),
                dict(record="loss", every=_budget_every(B, 2, steps, 8)),
            ),
            ("Adam record=final", _hb_method(hb, "Adam", lr, mom), dict(record="final")),
        ]
        for engine in engines:
            for name, method, kw in cases:
                t = {}
                for threads in (1, 2, None):
                    if (threads == 2 and B not in P.thread_sizes) or (threads is None and B not in P.default_sizes):
                        continue
                    t[threads] = _median_time(
                        lambda: hb.iterate(method, q, theta0, steps, threads=threads, engine=engine, **kw), reps
                    )
                case = f"{name} B={B:.0e}, engine={engine}"
                if 2 in t:
                    target("9 threads", f"{case}: threads=2 vs threads=1", t[2], t[1], "threads=1", 1.7, B * steps,
                           engine=engine)  # fmt: skip
                if None in t and engine == "numpy" and fastpath.auto_threads(B) == 1:  # the very same run
                    row("9 threads", f"{case}: default (threads=None) vs threads=1", t[None], t[1], "threads=1",
                        B * steps, note="the default runs one thread at this B: the same run (the ratio is noise)",
                        engine=engine)  # fmt: skip
                elif None in t:
                    target("9 threads", f"{case}: default (threads=None) vs threads=1", t[None], t[1], "threads=1",
                           1.0, B * steps, note="never slower", engine=engine)  # fmt: skip


# ---------------------------------------------------------------------------------------
# 10. dask sweep
# ---------------------------------------------------------------------------------------
def bench_sweep(P):
    sweep_mod = _module("heavyball.sweep")
    if isinstance(sweep_mod, Exception):
        return skipped("10 dask sweep", f"heavyball.sweep is not importable ({sweep_mod})")
    distributed = _module("distributed")
    if isinstance(distributed, Exception):
        return skipped("10 dask sweep", f"dask.distributed is not installed ({distributed})")
    import heavyball as hb

    q = hb.Quadratic.valley(kappa=100, angle=0.3)
    B, chunk, steps = P.sweep_B, P.sweep_chunk, P.steps
    theta0, lr, mom = _valley_batch(B, seed=10)
    method = _hb_method(hb, "SGD", lr, mom)
    # stepping (the work a sweep distributes), one thread per chunk: a worker is one core
    kw = dict(record="loss", every=steps, threads=1)
    reps = max(1, P.repeats // 2)
    t_local = _median_time(lambda: hb.iterate(method, q, theta0, steps, record="loss", every=steps), reps)
    local = hb.iterate(method, q, theta0, steps, **kw).final
    times, same = {}, {}
    for workers in (1, 2):
        with (
            distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            distributed.Client(cluster) as client,
        ):  # fmt: skip
            run = lambda: sweep_mod.sweep(method, q, theta0, steps, chunk=chunk, client=client, **kw)  # noqa: E731
            times[workers], res = _timed(run, reps)
            same[workers] = bool(np.array_equal(res.final, local))
    identical = all(same.values())
    note = f"final iterates {'bitwise equal to' if identical else 'DIFFER from'} iterate's"
    row("10 dask sweep", f"SGD stepping B={B:.0e} in chunks of {chunk:.0e}: 2 workers vs 1", times[2], times[1],
        "1 worker", B * steps, note=f"LocalCluster, one single-threaded process per worker; {note}",
        identical_to_iterate=identical)  # fmt: skip
    row("10 dask sweep", "same: 2 workers vs iterate here on all cores (threads=None)", times[2], t_local,
        "iterate (no dask)", B * steps, note="the price of distributing a sweep that fits one machine")  # fmt: skip


# ---------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------
def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit():
    """The repository's commit the benchmarked code comes from (``None`` outside a git checkout)."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True
        )
    except OSError:
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def machine(P, torch):
    """What the figures depend on: the machine, the libraries, the code's commit, the profile,
    the date (no time of day)."""
    import heavyball as hb

    libs = ("numpy", "scipy", "torch", "jax", "jaxlib", "optax", "numba", "dask", "distributed")
    return dict(
        date=time.strftime("%Y-%m-%d", time.gmtime()), profile=P.name, steps=P.steps, repeats=P.repeats, repeat_budget_s=P.repeat_budget,
        cpu_model=_cpu_model(), cores=os.cpu_count(),
        cores_available=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        platform=platform.platform(), python=sys.version.split()[0],
        versions={name: _version(name) for name in libs} | {"heavyball": hb.__version__},
        commit=_commit(),
        torch_threads=torch.get_num_threads() if torch is not None else None,
        compiled_engine_available=importlib.util.find_spec("numba") is not None,
        env={k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_", "XLA_FLAGS"))},
        load_average_start=os.getloadavg(),
    )  # fmt: skip


def _sections(P, torch):
    """``(name, function, module it needs)`` of every section, in order."""
    return [
        ("1 SGD", lambda: bench_sgd(P, torch), "heavyball.optimizers"),
        ("2 Adam", lambda: bench_adam(P, torch), "heavyball.optimizers"),
        ("3 closed form", lambda: bench_closed_form(P), "heavyball.eigenmodes"),
        ("4 rate map", lambda: bench_rates(P), "heavyball.rates"),
        ("5 exact vs simulate", lambda: bench_dynamics(P), "heavyball.dynamics"),
        ("6 startup", lambda: bench_startup(P), "heavyball"),
        ("6 memory", lambda: bench_memory(P), "heavyball.fastpath"),
        ("7 noise", lambda: bench_noise(P, torch), "heavyball.noise"),
        ("8 JAX", lambda: _run_jax(P), "heavyball.fastpath"),
        ("9 threads", lambda: bench_threads(P), "heavyball.fastpath"),
        ("10 dask sweep", lambda: bench_sweep(P), "heavyball"),
    ]


def _run_jax(P):
    mods, reason = _jax()
    if mods is None:
        return skipped("8 JAX", reason)
    bench_jax(P, mods)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a meaningful subset (a few minutes on a quiet machine)")
    size.add_argument(
        "--smoke", action="store_true", help="every section at tiny sizes (under a minute; times mean nothing)"
    )
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="JSON output (default for a full run: benchmarks.json beside this script)")  # fmt: skip
    parser.add_argument("--md", default=None, metavar="PATH",
                        help="the Markdown table (default for a full run: benchmarks.md beside this script)")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per case (median)")
    parser.add_argument("--only", default=None, metavar="N[,N...]", help="run only these sections (by number)")
    args = parser.parse_args(argv)
    P = PROFILES["smoke" if args.smoke else "quick" if args.quick else "full"]
    if args.repeats is not None:
        P = dataclasses.replace(P, repeats=args.repeats)
    REPEAT_BUDGET[0] = P.repeat_budget
    if P.name == "full":
        args.json = args.json or str(HERE / "benchmarks.json")
        args.md = args.md or str(HERE / "benchmarks.md")
    from heavyball import _io

    torch = _torch()
    meta = machine(P, torch)
    v = meta["versions"]
    out(f"heavyball benchmarks ({P.name}), {meta['date']}: {meta['cpu_model']}, {meta['cores']} cores; python {meta['python']}, "
        f"numpy {v['numpy']}, torch {v['torch']} ({meta['torch_threads']} threads), jax {v['jax']}, optax {v['optax']}, "
        f"numba {v['numba']}, dask {v['dask']}; load average {meta['load_average_start']}")  # fmt: skip
    out()
    out("| section | case | heavyball | baseline | ratio (baseline/heavyball) | note |")
    out("|---|---|---|---|---|---|")
    only = None if args.only is None else {s.strip() for s in args.only.split(",")}
    t0 = time.perf_counter()
    for name, fn, module in _sections(P, torch):
        if only is not None and name.split()[0] not in only:
            continue
        load_before = os.getloadavg()
        ts = time.perf_counter()
        mod = _module(module)
        if isinstance(mod, Exception):
            skipped(name, f"{module} is not importable ({mod})")
        else:
            fn()
        SECTIONS.append(dict(section=name, load_before=load_before, load_after=os.getloadavg(),
                             seconds=time.perf_counter() - ts))  # fmt: skip
    meta["load_average_end"] = os.getloadavg()
    meta["total_seconds"] = time.perf_counter() - t0
    out()
    out("load average (1, 5, 15 min) before → after each section: "
        + "; ".join(f"{s['section']}: {s['load_before'][0]:.2f} → {s['load_after'][0]:.2f}" for s in SECTIONS))  # fmt: skip
    targets = [r for r in ROWS if "verdict" in r]
    met = sum(r["verdict"] == "met" for r in targets)
    out(f"targets: {met} of {len(targets)} met; total {meta['total_seconds']:.1f} s")

    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        return x

    meta["targets_met"], meta["targets"] = met, len(targets)
    payload = dict(meta=meta, sections=SECTIONS, rows=[{k: clean(v) for k, v in r.items()} for r in ROWS])
    if args.json:
        _io.write_text(args.json, json.dumps(payload, indent=1, default=float) + "\n")
        print(f"wrote {args.json}")
    if args.md:
        _io.write_text(args.md, "\n".join(LINES) + "\n")
        print(f"wrote {args.md}")


if __name__ == "__main__":
    main()
