"""Speed and memory of ``bait_select`` against the dense reference formula.

Prints, for a grid of (n, d, k, B), the time of :func:`skbait.strategies.bait_select`
and of the reference implementation's batched formula (tests/bait_reference.py)
in the same run, their ratio and the peak memory of each case (every case runs
in a fresh process). Where the reference would take too long (or too much
memory), one forward step of it is timed on a subset of the candidates and
extrapolated; such times are marked ``~``. The machine's float64 matmul
throughput is measured too, and the fraction of it the big case reaches.

Usage::

    python benchmarks/bench_bait.py            # the grid
    python benchmarks/bench_bait.py --big      # only n=50,000, d=128, k=10, B=100
    python benchmarks/bench_bait.py --device cuda

``OMP_WAIT_POLICY=PASSIVE`` is set unless given: on a shared, oversubscribed
machine spinning OpenMP threads slow every multi-threaded torch call severalfold.
"""

import argparse
import math
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import multiprocessing as mp  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

GRID = [
    # n, d, k, B, run the reference whole?
    (1000, 32, 10, 10, True),
    (2000, 32, 10, 20, True),
    (5000, 64, 10, 20, False),
    (10000, 128, 10, 50, False),
    (50000, 128, 10, 100, False),
]


def problem(n, d, k, seed=0):
    """An MLP-like pool: ReLU embeddings, softmax probabilities, 2% labeled."""
    rng = np.random.RandomState(seed)
    Z = np.maximum(rng.normal(size=(n, d)), 0.0)
    logits = Z @ rng.normal(size=(d, k)) * (2.0 / math.sqrt(d))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    labeled = rng.choice(n, max(1, n // 50), replace=False)
    return Z, P, labeled


def model_flops(n, n_labeled, d, k, B, oversample=2):
    """Floating-point operations bait_select performs (dominant terms)."""
    D = k * d
    pairs = k * (k + 1) // 2
    n_u = n - n_labeled
    steps = int(math.floor(oversample * B + 0.5))
    init = 2 * n * d * pairs * d  # pool Fisher
    init += 2 * 2 * n_u * d * pairs * d  # P and Q of every candidate
    init += 4 * D**3 + D**3  # G F G, Cholesky and inverse
    r, w = k, 2 * k
    per_row = 2 * d * k * w + 3 * k * w + 2 * r**3 + 2 * r**3 + r**3 / 3 + 2 * r**3
    forward = steps * (n_u * per_row + 6 * D * D * r)
    return init + forward


def matmul_gflops(device="cpu", size=2048, reps=5):
    import torch

    a = torch.randn(size, size, dtype=torch.float64, device=device)
    b = torch.randn(size, size, dtype=torch.float64, device=device)
    a @ b
    best = math.inf
    for _ in range(reps):
        if device != "cpu":
            torch.cuda.synchronize()
        start = time.perf_counter()
        a @ b
        if device != "cpu":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_ours(args, queue):
    n, d, k, B, device = args
    import torch

    from skbait.strategies import bait_select

    # A tiny call first: torch's one-off start-up (thread pools, LAPACK) is
    # not what a user pays per round.
    bait_select(*problem(60, 4, 3, seed=1), 2, device=device)
    Z, P, labeled = problem(n, d, k)
    base = _peak_mb()
    if device != "cpu":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    idx = bait_select(Z, P, labeled, B, device=device)
    if device != "cpu":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    gpu_mb = torch.cuda.max_memory_allocated() / 2**20 if device != "cpu" else float("nan")
    queue.put((seconds, _peak_mb(), _peak_mb() - base, gpu_mb, sorted(idx.tolist())))


def _run_reference(args, queue):
    n, d, k, B, whole, device = args
    import torch

    from bait_reference import reference_bait_batched

    reference_bait_batched(*problem(60, 4, 3, seed=1), 2)  # the same warm-up as ours
    Z, P, labeled = problem(n, d, k)
    if whole:
        start = time.perf_counter()
        idx, _ = reference_bait_batched(Z, P, labeled, B)
        queue.put((time.perf_counter() - start, _peak_mb(), sorted(idx.tolist()), False))
        return
    # One forward step on a subset, extrapolated to the whole run (the
    # per-step cost is linear in the candidates; setup and backward are small).
    # The reference stores every V_x up front (n k^2 d floats: 5 GB at n=50,000),
    # so its step is timed on a sub-pool of the same d and k.
    subset = max(200, min(2000, n // 20))
    sub = np.arange(subset + 10)
    _, per_step = reference_bait_batched(Z[sub], P[sub], np.arange(10), B,
                                         max_candidates=subset)
    n_u = n - len(labeled)
    estimate = per_step * (n_u / subset) * 2 * B
    queue.put((estimate, _peak_mb(), None, True))
    del torch


def _in_process(target, args, timeout=3600):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(args, queue))
    proc.start()
    result = queue.get(timeout=timeout)
    proc.join()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="only the n=50,000 case")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat-big", type=int, default=1,
                        help="run the big case this many times")
    opts = parser.parse_args()

    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device "
          f"{opts.device}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    gflops = matmul_gflops(opts.device)
    print(f"float64 matmul throughput: {gflops:.1f} GFLOP/s")
    header = (f"{'n':>6} {'d':>4} {'k':>3} {'B':>4} | {'bait_select s':>13} "
              f"{'reference s':>12} {'ratio':>8} | {'peak RSS MB':>11} {'+MB':>7} "
              f"{'same set':>8} {'GFLOP/s':>8} {'of peak':>7}")
    print(header)
    print("-" * len(header))
    grid = [g for g in GRID if g[0] == 50000] if opts.big else GRID
    for n, d, k, B, whole in grid:
        repeats = opts.repeat_big if n == 50000 else 1
        for _ in range(repeats):
            seconds, peak, extra, gpu_mb, ours = _in_process(_run_ours, (n, d, k, B, opts.device))
            ref_s, _, ref_idx, estimated = _in_process(
                _run_reference, (n, d, k, B, whole, opts.device)
            )
            same = "-" if ref_idx is None else ("yes" if ref_idx == ours else "NO")
            rate = model_flops(n, max(1, n // 50), d, k, B) / seconds / 1e9
            ref_txt = ("~" if estimated else "") + f"{ref_s:.2f}"
            print(f"{n:>6} {d:>4} {k:>3} {B:>4} | {seconds:>13.2f} {ref_txt:>12} "
                  f"{ref_s / seconds:>7.0f}x | {peak:>11.0f} {extra:>7.0f} {same:>8} "
                  f"{rate:>8.1f} {rate / gflops:>7.0%}", flush=True)
            if opts.device != "cpu":
                print(f"        peak GPU memory {gpu_mb:.0f} MB")


if __name__ == "__main__":
    main()
