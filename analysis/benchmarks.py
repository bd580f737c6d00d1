"""heavyball's performance, each figure next to its baseline measured in the same run.

Run:  python analysis/benchmarks.py [--quick] [--json PATH] [--md PATH] [--repeats N]

Prints a Markdown table (median wall time over repeats, the baseline's, and the ratio
baseline/heavyball) and writes the same rows as JSON (atomically, via ``heavyball._io``).
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
   param groups (one per configuration) against both ``record="final"`` (like for like: neither
   records a loss) and ``record="loss"``; these two baselines are timed on a subsample and
   scaled (said in the row).
2. Adam (lr 1e-2) on the same batches: heavyball's Adam kernel (``heavyball/_fastadam.py``,
   bitwise equal to the general path — checked in the run) vs batched ``torch.optim.Adam``.
3. ``closed_form_iterate`` at k = 1000, 1e6 configurations (own lr and momentum each) vs stepping.
4. A 1000×1000 (lr, momentum) rate map over 100 curvatures: ``rates.spectral_radius`` vs
   ``numpy.linalg.eigvals`` of the stacked 2×2 matrices (timed on a subsample and scaled; the
   values are compared on that subsample).
5. ``exact`` vs ``simulate`` (DOP853, rtol 1e-10) at d = 2 and d = 1000, 1000 output times,
   with each one's error against a ``scipy.linalg.expm`` reference.
6. The figure catalogue (``heavyball figures``), ``import heavyball`` and ``heavyball --help``
   (subprocesses), and the peak memory of a B = 1e6, 1000-step ``record="final"`` run.
7. Monte Carlo of heavy-ball SGD with gradient noise (``iterate(..., noise=, seed=)``) on a 2-D
   quadratic, S samples × 1000 steps (S = 1e6; 1e5 with ``--quick``): against the floor — numpy's
   fastest generator (SFC64) drawing the same S·1000·2 normal variates into a preallocated
   array — and against batched ``torch.optim.SGD`` with ``torch.randn`` noise; and
   ``heavyball.moments`` (exact) against the Monte Carlo that estimates the final variance to the
   same accuracy (the ratio is Monte Carlo time / moments time).

A section whose module is missing prints ``skipped: <reason>``. ``--quick`` runs a subset
(smaller batches, fewer repeats) in under about a minute.
"""

from __future__ import annotations

import argparse
import importlib
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

import numpy as np

ROWS: list[dict] = []
LINES: list[str] = []  # the Markdown output, also written to --md


def out(line=""):
    print(line, flush=True)
    LINES.append(line)


def _median_time(fn, repeats: int, warmup: bool = True) -> float:
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


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


def _fmt_s(x):
    if x is None:
        return "—"
    return f"{x * 1e3:.3g} ms" if x < 1 else f"{x:.3g} s"


def _print_row(r):
    rate = f" ({r['heavyball_rate']:.3g}/s)" if r.get("heavyball_rate") else ""
    brate = f" ({r['baseline_rate']:.3g}/s)" if r.get("baseline_rate") else ""
    ratio = f"{r['ratio']:.3g}×" if r.get("ratio") else "—"
    base = f"{r['baseline']}: {_fmt_s(r['baseline_s'])}{brate}" if r["baseline"] else "—"
    out(f"| {r['section']} | {r['case']} | {_fmt_s(r['heavyball_s'])}{rate} | {base} | {ratio} | {r['note']} |")


def skipped(section, reason):
    ROWS.append(dict(section=section, case="skipped", note=reason))
    out(f"| {section} | skipped: {reason} | | | | |")


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


# ---------------------------------------------------------------------------------------
# 1. heavy-ball SGD
# ---------------------------------------------------------------------------------------
LR, MOM, STEPS = 0.5, 0.9, 1000


def _budget_every(B, d, steps, itemsize, with_distance=True):
    """The smallest ``every`` whose record="loss" recording fits iterate's LOSS_MEMORY_BUDGET."""
    from heavyball.iterate import LOSS_MEMORY_BUDGET

    for every in range(1, steps + 1):
        n = len(range(0, steps + 1, every)) + (steps % every != 0)
        if (B * d + n * B * (1 + with_distance)) * itemsize <= LOSS_MEMORY_BUDGET:
            return every
    return steps


def _torch_time(torch, fn, repeats, quick):
    """The torch baseline's median time, at its best thread setting: min over torch's default
    intra-op threads and 1 thread (only 1 thread in --quick; small batches run faster on one)."""
    default = torch.get_num_threads()
    best = float("inf")
    for n in (1,) if quick else (default, 1):
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


def bench_sgd(args, torch):
    import heavyball as hb

    q = hb.Quadratic.valley(kappa=100, angle=0.3)
    A = np.asarray(q.A)
    rng = np.random.default_rng(0)
    sizes = [10**3, 10**4, 10**5] + ([10**6] if not args.quick else [])
    dtypes = [np.float64, np.float32] if not args.quick else [np.float64]
    opt = hb.SGD(lr=LR, momentum=MOM)
    per_single = per_group = None
    if torch is not None:
        # single-configuration torch loop, per configuration-step
        th1 = np.array([1.0, 1.0])
        n1 = 200 if args.quick else 2000
        t1 = _torch_time(torch, lambda: _torch_sgd_loop(torch, A, th1[None], n1, LR, MOM), 3, True)
        per_single = t1 / n1
        # param groups: one group (its own lr, momentum) per configuration; subsample and scale
        G, n2 = 200, (10 if args.quick else 50)

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

        per_group = _torch_time(torch, groups, 3, True) / (G * n2)
    for dtype in dtypes:
        for B in sizes:
            theta0 = rng.standard_normal((B, 2)).astype(dtype)
            work = B * STEPS
            reps = args.repeats if B <= 10**5 else max(1, args.repeats // 2)
            base = None
            if torch is not None:
                base = _torch_time(torch, lambda: _torch_sgd_loop(torch, A, theta0, STEPS, LR, MOM), reps, args.quick)
            name = np.dtype(dtype).name
            t_final = _median_time(lambda: hb.iterate(opt, q, theta0, STEPS, record="final"), reps)
            row("1 SGD", f"{name} B={B:.0e} record=final", t_final, base, "torch batched SGD", work)
            every = _budget_every(B, 2, STEPS, np.dtype(dtype).itemsize)
            t_loss = _median_time(lambda: hb.iterate(opt, q, theta0, STEPS, record="loss", every=every), reps)
            base_loss = None
            if torch is not None:
                base_loss = _torch_time(
                    torch, lambda: _torch_sgd_loop(torch, A, theta0, STEPS, LR, MOM, loss_every=every), reps, args.quick
                )
            f"{base_loss / t_loss:.3g}×" if base_loss else "—"
            row("1 SGD", f"{name} B={B:.0e} record=loss every={every} vs plain loop", t_loss, base, "torch batched SGD (no loss)", work,
                note=f"heavyball stores loss and distance every {every} steps, torch stores nothing"
                + ("" if every == 1 else f"; every={every}: the smallest the 2 GiB LOSS_MEMORY_BUDGET allows "
                   f"(every step's loss + distance would be {2 * (STEPS + 1) * B * np.dtype(dtype).itemsize / 2**30:.3g} GiB)"),
                torch_with_loss_s=base_loss)  # fmt: skip
            row("1 SGD", f"{name} B={B:.0e} record=loss every={every} vs loop with loss", t_loss, base_loss,
                f"torch batched SGD storing the loss every {every}", work,
                note="like for like: both store every recorded loss (heavyball also the distance)")  # fmt: skip
            if dtype == np.float64 and B >= 10**5 and per_single is not None:
                row("1 SGD", f"float64 B={B:.0e} record=final vs param groups", t_final, per_group * work,
                    "torch param groups (scaled)", work,
                    note="like for like: neither records a loss; timed 200 groups × few steps, scaled to B×1000")  # fmt: skip
                row("1 SGD", f"float64 B={B:.0e} record=loss vs param groups", t_loss, per_group * work,
                    "torch param groups (scaled)", work,
                    note=f"heavyball also stores loss + distance every {every}, the groups store nothing")  # fmt: skip
                row("1 SGD", f"float64 B={B:.0e} record=final vs single-config loop", t_final, per_single * work,
                    "torch single-config loop (scaled)", work, note="one (2,) tensor: per configuration-step cost × B×1000")  # fmt: skip
    if torch is None:
        skipped("1 SGD baselines", "torch is not installed")


# ---------------------------------------------------------------------------------------
# 2. Adam
# ---------------------------------------------------------------------------------------
def bench_adam(args, torch):
    import heavyball as hb
    from heavyball.iterate import _iterate_general

    q = hb.Quadratic.valley(kappa=100, angle=0.3)
    A = np.asarray(q.A)
    rng = np.random.default_rng(1)
    sizes = [10**3, 10**4] + ([10**5, 10**6] if not args.quick else [])
    opt = hb.Adam(lr=1e-2)
    for B in sizes:
        theta0 = rng.standard_normal((B, 2))
        reps = args.repeats if B <= 10**5 else max(1, args.repeats // 2)
        t = _median_time(lambda: hb.iterate(opt, q, theta0, STEPS, record="final"), reps)
        # the kernel is bitwise equal to the general path: checked on (up to) 1000 configurations
        n_chk = min(B, 1000)
        fast = hb.iterate(opt, q, theta0[:n_chk], STEPS, record="final")
        ref = _iterate_general(opt, q, theta0[:n_chk], STEPS, record="final")
        bitwise = bool(np.array_equal(fast.theta, ref.theta) and np.array_equal(fast.loss, ref.loss))
        base = None
        if torch is not None:
            base = _torch_time(
                torch, lambda: _torch_sgd_loop(torch, A, theta0, STEPS, 1e-2, 0.0, adam=True), reps, args.quick
            )
        note = (
            f"fast kernel {'bitwise equal to' if bitwise else 'DIFFERS from'} the general path ({n_chk} configurations)"
        )
        if B == 10**4:
            t_gen = _median_time(lambda: _iterate_general(opt, q, theta0, STEPS, record="final"), 1)
            note += f"; general path {_fmt_s(t_gen)}"
        row("2 Adam", f"float64 B={B:.0e} record=final", t, base, "torch batched Adam", B * STEPS, note=note,
            bitwise_equal_general=bitwise)  # fmt: skip


# ---------------------------------------------------------------------------------------
# 3. closed form
# ---------------------------------------------------------------------------------------
def bench_closed_form(args):
    import heavyball as hb
    from heavyball import fastpath

    q = hb.Quadratic.valley(kappa=100, angle=0.3)
    rng = np.random.default_rng(2)
    B = 10**6 if not args.quick else 2 * 10**5
    lr = rng.uniform(0.05, 1.5, (B, 1))
    mom = rng.uniform(0.0, 0.95, (B, 1))
    method = hb.SGD(lr=lr, momentum=mom)
    theta0 = rng.standard_normal((B, 2))
    k = 1000
    reps = max(1, args.repeats // 2)
    t_cf = _median_time(lambda: fastpath.closed_form_iterate(method, q, theta0, k), reps)
    # stepping with the fast engine: record the loss only at steps 0 and k
    t_step = _median_time(lambda: hb.iterate(method, q, theta0, k, record="loss", every=k), reps)
    got = fastpath.closed_form_iterate(method, q, theta0, k)
    ref = hb.iterate(method, q, theta0, k, record="loss", every=k).final
    ok = np.all(np.isfinite(ref), axis=-1)
    err = float(np.max(np.abs(got[ok] - ref[ok])) / np.max(np.abs(theta0)))
    row("3 closed form", f"k={k}, B={B:.0e} (own lr, momentum each)", t_cf, t_step, "fast-path stepping", B * k,
        note=f"max |Δθ| / max|θ₀| = {err:.1e}", max_rel_error=err)  # fmt: skip


# ---------------------------------------------------------------------------------------
# 4. rate map
# ---------------------------------------------------------------------------------------
def bench_rates(args):
    rates = _module("heavyball.rates")
    if isinstance(rates, Exception):
        return skipped("4 rate map", f"heavyball.rates: {rates}")
    n = 1000
    lr = np.linspace(0.01, 4.0, n)[:, None]
    mom = np.linspace(0.0, 0.999, n)[None, :]
    h = np.geomspace(0.01, 1.0, 100)
    t_hb = _median_time(lambda: rates.spectral_radius(h, lr=lr, momentum=mom), args.repeats)
    rho = rates.spectral_radius(h, lr=lr, momentum=mom)
    rng = np.random.default_rng(3)
    n_sub = 2000 if args.quick else 10000
    i = rng.integers(0, n, n_sub)
    j = rng.integers(0, n, n_sub)
    L, M = lr[i, 0][:, None], mom[0, j][:, None]
    T = 1.0 + M - L * h[None, :]  # (n_sub, 100)
    mats = np.empty((n_sub, h.size, 2, 2))
    mats[..., 0, 0], mats[..., 0, 1], mats[..., 1, 0], mats[..., 1, 1] = T, -M, 1.0, 0.0
    t_sub = _median_time(lambda: np.linalg.eigvals(mats), max(1, args.repeats // 2), warmup=False)
    t_base = t_sub * (n * n) / n_sub
    ref = np.abs(np.linalg.eigvals(mats)).max(axis=-1).max(axis=-1)
    diff = np.abs(rho[i, j] - ref)
    # distance from the repeated-root curve (1 + μ − γh)² = 4μ at the extremes, where both
    # methods are only √ε-accurate (the radius is not Lipschitz there)
    disc = np.min(np.abs(T[:, [0, -1]] ** 2 - 4 * M), axis=1)
    far = disc > 1e-6
    row("4 rate map", "1000×1000 (lr, momentum) × 100 curvatures", t_hb, t_base,
        f"numpy eigvals (timed on {n_sub} points × 100, scaled ×{n * n // n_sub})", n * n * h.size,
        note=f"max |Δρ| = {diff.max():.1e} on the subsample, {diff[far].max():.1e} away from repeated roots "
        f"(disc > 1e-6, {far.mean():.0%} of points)",
        max_diff=float(diff.max()), max_diff_away=float(diff[far].max()))  # fmt: skip


# ---------------------------------------------------------------------------------------
# 5. exact vs simulate
# ---------------------------------------------------------------------------------------
def _expm_reference(q, m, c, theta0, t):
    """θ(t) from scipy.linalg.expm of each mode's 2×2 first-order system (b = 0, v₀ = 0)."""
    from scipy.linalg import expm

    h, V = q.eigenvalues, q.eigenvectors
    x0 = V.T @ np.asarray(theta0, float)
    out = np.empty((t.size, h.size))
    for i, hi in enumerate(h):
        Mi = np.array([[0.0, 1.0], [-hi / m, -c / m]])
        E = expm(t[:, None, None] * Mi[None])  # batched over times
        out[:, i] = E[:, 0, 0] * x0[i]
    return out @ V.T


def bench_dynamics(args):
    dyn = _module("heavyball.dynamics")
    if isinstance(dyn, Exception):
        return skipped("5 exact vs simulate", f"heavyball.dynamics: {dyn}")
    import heavyball as hb

    m, c = 1.0, 0.5
    ode = hb.HeavyBallODE(m=m, c=c)
    t = np.linspace(0.0, 50.0, 1000)
    for d in (2, 1000):
        if d == 2:
            q = hb.Quadratic.valley(kappa=100, angle=0.3)
        else:
            q = hb.Quadratic.from_eigenvalues(np.geomspace(0.01, 1.0, d), rotation="random", seed=4)
        theta0 = np.ones(d)
        reps = args.repeats if d == 2 else 1
        t_ex = _median_time(lambda: hb.exact(ode, q, theta0, t), reps)
        if args.quick and d == 1000:
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
            else f"max error vs expm: exact {e_ex:.1e}; simulate skipped in --quick",
            error_exact=e_ex, error_simulate=e_sim)  # fmt: skip


# ---------------------------------------------------------------------------------------
# 6. catalogue, import, --help, memory
# ---------------------------------------------------------------------------------------
def _run(cmd, timeout=1800):
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - t0, proc


def bench_startup(args):
    py = sys.executable
    n = 5 if args.quick else 11
    base = statistics.median(_run([py, "-c", "pass"])[0] for _ in range(n))
    imp = statistics.median(_run([py, "-c", "import heavyball"])[0] for _ in range(n))
    row("6 startup", "import heavyball (subprocess, goal ≤ 0.3 s)", imp, base, "python -c pass",
        note=f"import alone ≈ {_fmt_s(imp - base)} (the API is loaded lazily)")  # fmt: skip
    use = statistics.median(
        _run([py, "-c", "import heavyball as hb; hb.iterate, hb.SGD, hb.exact, hb.rates"])[0] for _ in range(n)
    )
    row("6 startup", "import heavyball + first use of iterate, SGD, exact, rates", use, base, "python -c pass")
    exe = shutil.which("heavyball", path=os.path.dirname(py)) or shutil.which("heavyball")
    if exe is None:
        return skipped("6 startup", "the `heavyball` command is not installed")
    dt, proc = _run([exe, "--help"])
    if proc.returncode != 0:
        return skipped("6 startup", f"`heavyball --help` failed: {proc.stderr.strip()[:120]}")
    hlp = statistics.median(_run([exe, "--help"])[0] for _ in range(n))
    row("6 startup", "heavyball --help (goal ≤ 0.5 s)", hlp, base, "python -c pass")
    if args.quick:
        return skipped("6 figures", "the catalogue takes ~30 s: not in --quick")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [exe, "figures", "--out", tmp]
        dt, proc = _run(cmd)
        if proc.returncode != 0:
            return skipped("6 figures", f"`{' '.join(cmd[1:2])}` failed: {(proc.stderr or proc.stdout).strip()[-200:]}")
        nfiles = len(os.listdir(tmp))
        row("6 figures", "whole catalogue (heavyball figures)", dt, note=f"{nfiles} files written")


_MEMORY_SCRIPT = r"""
import resource, tracemalloc, numpy as np, heavyball as hb
q = hb.Quadratic.valley(kappa=100, angle=0.3)
theta0 = np.random.default_rng(0).standard_normal((10**6, 2))
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


def bench_memory(args):
    _dt, proc = _run([sys.executable, "-c", _MEMORY_SCRIPT])
    if proc.returncode != 0:
        return skipped("6 memory", proc.stderr.strip()[-200:])
    peak, rss, state = map(float, proc.stdout.split())
    row("6 memory", "peak of B=1e6, 1000-step record=final (goal < 200 MB)", None,
        note=f"tracemalloc peak {peak:.0f} MiB (θ₀ itself {state:.0f} MiB, not counted); peak-RSS growth {rss:.0f} MiB",
        peak_mib=peak, rss_growth_mib=rss)  # fmt: skip


# ---------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------
# 7. Monte Carlo with gradient noise
# ---------------------------------------------------------------------------------------
def bench_noise(args, torch):
    import heavyball as hb

    S = 100_000 if args.quick else 1_000_000
    steps, d = 1000, 2
    q = hb.Quadratic.valley(kappa=10.0, angle=0.5)
    opt = hb.SGD(lr=0.1, momentum=0.9)
    noise = hb.GradientNoise.isotropic(0.1)
    theta0 = np.ones((S, d))
    repeats = 1  # one run of this size takes seconds to minutes

    def run():
        return hb.iterate(opt, q, theta0, steps, record="final", noise=noise, seed=1)

    t_hb = _median_time(run, repeats, warmup=False)
    buf = np.empty((S, d))
    gen = np.random.Generator(np.random.SFC64(1))

    def floor():
        for _ in range(steps):
            gen.standard_normal(out=buf)

    t_floor = _median_time(floor, repeats, warmup=False)
    row("7 noise", f"Monte Carlo S={S:.0e} × {steps} steps, d = 2", t_hb, t_floor, "SFC64 normals (floor)",
        unit_work=S * steps, note="ratio < 1: slower than drawing the variates; the target is >= 1/1.5")  # fmt: skip
    if torch is not None:
        A = torch.tensor(q.A)

        def torch_run():
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

        t_torch = _torch_time(torch, torch_run, repeats, args.quick)
        row("7 noise", "same, batched torch.optim.SGD + torch.randn", t_hb, t_torch, "torch.optim.SGD",
            unit_work=S * steps)  # fmt: skip
    t_mom = _median_time(lambda: hb.moments(opt, q, [1.0, 1.0], steps, noise=noise), max(args.repeats, 3))
    row("7 noise", "exact moments (1000 steps) vs that Monte Carlo", t_mom, t_hb, "Monte Carlo",
        note=f"Monte Carlo's relative standard error of a variance: sqrt(2/S) = {np.sqrt(2 / S):.1e}; moments is exact")  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a subset that runs in about a minute")
    parser.add_argument(
        "--json", default="benchmarks.json", metavar="PATH", help="JSON output (default: benchmarks.json)"
    )
    parser.add_argument("--md", default=None, metavar="PATH", help="also write the Markdown table to PATH")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per case (median); default 5, quick 3")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    from heavyball import _io

    torch = _torch()
    meta = dict(
        python=sys.version.split()[0], numpy=np.__version__, platform=platform.platform(),
        cpus=os.cpu_count(), torch=getattr(torch, "__version__", None),
        torch_threads=torch.get_num_threads() if torch is not None else None,
        openblas_env={k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
        load_average_start=os.getloadavg(), quick=args.quick, repeats=args.repeats,
    )  # fmt: skip
    out(f"heavyball benchmarks ({'quick' if args.quick else 'full'}): python {meta['python']}, numpy {meta['numpy']}, "
        f"torch {meta['torch']} ({meta['torch_threads']} threads), {meta['cpus']} CPUs, load {meta['load_average_start']}")  # fmt: skip
    out()
    out("| section | case | heavyball | baseline | ratio (baseline/heavyball) | note |")
    out("|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    sections = [
        ("1 SGD", lambda: bench_sgd(args, torch), "heavyball.optimizers"),
        ("2 Adam", lambda: bench_adam(args, torch), "heavyball.optimizers"),
        ("3 closed form", lambda: bench_closed_form(args), "heavyball.fastpath"),
        ("4 rate map", lambda: bench_rates(args), "heavyball.rates"),
        ("5 exact vs simulate", lambda: bench_dynamics(args), "heavyball.dynamics"),
        ("6 startup", lambda: bench_startup(args), "heavyball"),
        ("6 memory", lambda: bench_memory(args), "heavyball.fastpath"),
        ("7 noise", lambda: bench_noise(args, torch), "heavyball.noise"),
    ]
    for name, fn, module in sections:
        mod = _module(module)
        if isinstance(mod, Exception):
            skipped(name, f"{module} is not importable ({mod})")
            continue
        fn()
    meta["load_average_end"] = os.getloadavg()
    meta["total_seconds"] = time.perf_counter() - t0
    out()
    out(f"total {meta['total_seconds']:.1f} s; load average at the end {meta['load_average_end']}")

    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        return x

    payload = dict(meta=meta, rows=[{k: clean(v) for k, v in r.items()} for r in ROWS])
    _io.write_text(args.json, json.dumps(payload, indent=1, default=float) + "\n")
    print(f"wrote {args.json}")
    if args.md:
        _io.write_text(args.md, "\n".join(LINES) + "\n")
        print(f"wrote {args.md}")


if __name__ == "__main__":
    main()
