"""How a sweep scales with dask workers: the same chunked run on 1, 2, … worker processes.

The workload is a noisy Monte Carlo sweep of torch's SGD with momentum on the 2-D valley
(curvatures 0.1 and 1, isotropic gradient noise σ = 0.1): ``--configs`` configurations (step
sizes spread over a stable range, each its own noise stream), ``--steps`` steps, only the final
iterate recorded, in chunks of ``--chunk`` configurations. It is timed (median of
``--repeats``) as one in-process :func:`heavyball.iterate`, as :func:`heavyball.sweep` run
here chunk by chunk, and as :func:`heavyball.sweep` on a ``distributed.LocalCluster`` of
1, 2, … single-threaded worker processes (started and warmed up before the clock runs); every
run is on one thread (``threads=1``: a worker is one core), and every result is checked
bitwise equal to the in-process run. The table gives seconds and the speedup
over one worker; the 1-minute load average before and after says whether the machine was quiet
(a speedup means little on cores that other work is using).

Needs the ``distributed`` extra. Run::

    python analysis/sweep_scaling.py                       # Markdown on stdout
    python analysis/sweep_scaling.py --configs 65536 --steps 500 --workers 1 2 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import heavyball as hb
from heavyball.noise import STREAM_BLOCK


def workload(configs: int) -> tuple[Any, Any, Any, Any]:
    """The optimiser, problem, starting point and noise of the sweep."""
    lr = np.linspace(0.05, 1.0, configs)[:, None]
    return hb.SGD(lr=lr, momentum=0.9), hb.Quadratic.valley(kappa=10), np.ones(2), hb.GradientNoise.isotropic(0.1)


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The median wall time of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def same(a: Any, b: Any) -> bool:
    return bool(np.array_equal(a.theta, b.theta, equal_nan=True) and np.array_equal(a.status, b.status))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", type=int, default=32 * STREAM_BLOCK, help="configurations (default %(default)s)")
    parser.add_argument("--steps", type=int, default=1000, help="steps (default %(default)s)")
    parser.add_argument("--chunk", type=int, default=STREAM_BLOCK, help="configurations per chunk (%(default)s)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per row, the median is shown (3)")
    args = parser.parse_args(argv)
    import distributed

    opt, q, theta0, noise = workload(args.configs)
    # one thread per run: a worker is one core, and the in-process run is one core too
    run = {"record": "final", "noise": noise, "seed": 0, "threads": 1}
    load_before = os.getloadavg()[0]
    base_s, base = timed(lambda: hb.iterate(opt, q, theta0, args.steps, **run), args.repeats)
    rows = [("`iterate`, in process, one thread", "–", base_s, True)]
    here_s, here = timed(lambda: hb.sweep(opt, q, theta0, args.steps, chunk=args.chunk, **run), args.repeats)
    rows.append(("`sweep`, chunks run here", "–", here_s, same(here, base)))
    per_worker: dict[int, float] = {}
    for n in args.workers:
        with (
            distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            hb.sweep(opt, q, theta0, 2, chunk=args.chunk, client=client, **run)  # warm-up: imports on the workers
            s, got = timed(
                lambda client=client: hb.sweep(opt, q, theta0, args.steps, chunk=args.chunk, client=client, **run),
                args.repeats,
            )
        per_worker[n] = s
        rows.append(("`sweep` on a LocalCluster", str(n), s, same(got, base)))
    load_after = os.getloadavg()[0]
    one = per_worker.get(1)
    print(
        f"{args.configs} configurations × {args.steps} steps (noisy SGD with momentum, record='final'), "
        f"chunks of {args.chunk}; median of {args.repeats}; 1-minute load average {load_before:.1f} before, "
        f"{load_after:.1f} after, on {os.cpu_count()} cores\n"
    )
    print("| run | workers | seconds | speedup over 1 worker | identical to `iterate` |")
    print("|---|---|---|---|---|")
    for name, workers, s, ok in rows:
        speedup = f"{one / s:.2f}×" if one is not None and workers != "–" else ""
        print(f"| {name} | {workers} | {s:.2f} | {speedup} | {'yes' if ok else 'NO'} |")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
