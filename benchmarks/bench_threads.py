"""BAIT on a busy CPU: the quiet time against the time beside busy processes, in one run.

A 5,000-row pool (d=64, k=10), batch of 50, is selected by
:func:`skbait.strategies.bait_select` (and CoreSet, BADGE for comparison)

1. on the machine as it is ("quiet"),
2. beside ``--busy`` processes that run float64 matrix products in a loop,
   one thread each ("busy"): with ``c`` cores a single thread then gets about
   ``c / (busy + 1)`` of a core, so the ideal ratio is ``(busy + 1) / c``
   (2.5 for four busy processes on two cores),

with the caller's default thread settings, so that skbait's own thread
control is what is measured; ``--forced-threads N`` adds a row with torch
forced to N threads for the whole call, for comparison. Target (issue 14):
busy at most 4x quiet.

Each time is the median of ``--repeats`` calls. The busy processes are
started with ``multiprocessing`` (spawn) and stopped at the end.

Usage::

    python benchmarks/bench_threads.py
    python benchmarks/bench_threads.py --busy 4 --repeats 3 --forced-threads 1
"""

import argparse
import multiprocessing as mp
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _busy_loop(stop):
    import torch

    # One thread each: N busy processes are N runnable threads, as N other
    # single-threaded jobs (notebooks, joblib workers) on a shared machine.
    torch.set_num_threads(1)
    a = torch.randn(400, 400, dtype=torch.float64)
    while not stop.is_set():
        a = torch.tanh(a @ a.T / 400.0)


def pool(n=5000, d=64, k=10, seed=0):
    rng = np.random.RandomState(seed)
    Z = np.maximum(rng.normal(size=(n, d)), 0.0)
    logits = Z @ rng.normal(size=(d, k)) * (2.0 / np.sqrt(d))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    labeled = rng.choice(n, n // 50, replace=False)
    return Z, P, labeled


def calls(B):
    from skbait.strategies import badge_select, bait_select, coreset_select

    Z, P, labeled = pool()
    return {
        "bait": lambda: bait_select(Z, P, labeled, B, device="cpu"),
        "coreset": lambda: coreset_select(Z, labeled, B, device="cpu"),
        "badge": lambda: badge_select(Z, P, labeled, B, random_state=0, device="cpu"),
    }


def median_time(func, repeats):
    func()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def measure(funcs, repeats, forced):
    import torch

    out = {}
    for name, func in funcs.items():
        out[name] = median_time(func, repeats)
        if forced:
            before = torch.get_num_threads()
            torch.set_num_threads(forced)
            try:
                out[name, forced] = median_time(func, repeats)
            finally:
                torch.set_num_threads(before)
    return out


def run(busy=4, repeats=3, batch_size=50, forced=None):
    """Return {(strategy[, forced]): (quiet s, busy s)}."""
    funcs = calls(batch_size)
    quiet = measure(funcs, repeats, forced)
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    procs = [ctx.Process(target=_busy_loop, args=(stop,), daemon=True) for _ in range(busy)]
    for p in procs:
        p.start()
    try:
        time.sleep(2.0)  # let them start computing
        loaded = measure(funcs, repeats, forced)
    finally:
        stop.set()
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.terminate()
    return {key: (quiet[key], loaded[key]) for key in quiet}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--forced-threads", type=int, default=None)
    args = parser.parse_args(argv)
    import torch

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads by default, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the run; "
        f"n=5000, d=64, k=10, B={args.batch_size}; beside {args.busy} busy processes"
    )
    print(f"{'strategy':<22} {'quiet s':>8} {'busy s':>8} {'busy/quiet':>10}")
    results = run(args.busy, args.repeats, args.batch_size, args.forced_threads)
    for key, (quiet, loaded) in results.items():
        label = key if isinstance(key, str) else f"{key[0]} ({key[1]} thr forced)"
        print(f"{label:<22} {quiet:>8.3f} {loaded:>8.3f} {loaded / quiet:>9.1f}x")


if __name__ == "__main__":
    main()
