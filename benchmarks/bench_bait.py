"""Speed and memory of ``bait_select`` against the two dense references.

Prints, for a grid of (n, d, k, B), the time of :func:`skbait.strategies.bait_select`
and, in the same run, of the two references in tests/bait_reference.py, their
ratios and the peak memory of each case (every case runs in a fresh process):

- the reference implementation's batched formula (``reference_bait_batched``):
  every ``V_x`` stored, ``V M^-1 F M^-1 V^T`` re-multiplied for all candidates at
  every step, as the paper's code does;
- the dense reference written from the paper (``dense_bait``): per candidate,
  the ``(k d) x (k d)`` matrix ``M + V_x V_x^T`` is formed and
  ``tr((M + V_x V_x^T)^-1 F)`` solved.

Where a reference would take too long (or too much memory), its time is
extrapolated from a timed part: one forward step on a sub-pool for the batched
formula, a few candidates' solves for the dense one. Such times are marked
``~``. The machine's float64 matmul throughput is measured too, and the
fraction of it each case reaches (from a count of the floating-point operations
``bait_select`` performs). A call to ``bait_select`` under two seconds is timed
five times and the median reported: a single small call is at the mercy of a
noisy machine.

Usage::

    python benchmarks/bench_bait.py            # the grid
    python benchmarks/bench_bait.py --big      # only n=50,000, d=128, k=10, B=100
    python benchmarks/bench_bait.py --device cuda

Threads follow torch's defaults and the environment. On a shared,
oversubscribed machine set ``OMP_WAIT_POLICY=PASSIVE``: spinning OpenMP threads
then slow every multi-threaded torch call severalfold. On a quiet machine the
default policy is faster (the greedy steps are many small calls, and a passive
thread is slow to wake).
"""

import argparse
import math
import multiprocessing as mp
import os
import resource
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

GRID = [
    # n, d, k, B, run the batched reference whole?, run the dense one whole?
    (1000, 32, 10, 10, True, True),
    (2000, 32, 10, 20, True, False),
    (5000, 64, 10, 20, False, False),
    (10000, 128, 10, 50, False, False),
    (50000, 128, 10, 100, False, False),
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
    coords = d * (d + 1) // 2
    n_u = n - n_labeled
    steps = math.floor(oversample * B + 0.5)
    init = 2 * n * pairs * coords  # pool Fisher, packed
    init += 2 * n_u * coords * 2 * pairs  # P and Q of every candidate, packed
    init += 2 * 2 * n_u * 2 * k**3  # their k x k sandwiches
    init += 3 * 2 * D**3 + D**3  # G, G F, G F G; Cholesky and triangular inverse
    r, w = k, 2 * k
    per_row = 2 * d * k * w + 3 * k * w + 2 * w * r * k + 4 * r * r
    forward = steps * (n_u * per_row + 3 * 2 * D * D * r)
    backward = (steps - B) * (steps * per_row + 3 * 2 * D * D * r)
    return init + forward + backward


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
    times = []
    while len(times) < 5 and sum(times) < 2.0:
        start = time.perf_counter()
        idx = bait_select(Z, P, labeled, B, device=device)
        if device != "cpu":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    seconds = float(np.median(times))
    gpu_mb = torch.cuda.max_memory_allocated() / 2**20 if device != "cpu" else float("nan")
    queue.put((seconds, _peak_mb(), _peak_mb() - base, gpu_mb, sorted(idx.tolist())))


def _run_reference(args, queue):
    n, d, k, B, whole, _device = args
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
    _, per_step = reference_bait_batched(Z[sub], P[sub], np.arange(10), B, max_candidates=subset)
    n_u = n - len(labeled)
    estimate = per_step * (n_u / subset) * 2 * B
    queue.put((estimate, _peak_mb(), None, True))
    del torch


def _run_dense(args, queue):
    n, d, k, B, whole = args
    from bait_reference import dense_bait, dense_factor

    dense_bait(*problem(60, 4, 3, seed=1), 2)  # warm-up
    Z, P, labeled = problem(n, d, k)
    if whole:
        start = time.perf_counter()
        idx = dense_bait(Z, P, labeled, B)
        queue.put((time.perf_counter() - start, sorted(idx.tolist()), False))
        return
    # The cost is one (k d) x (k d) solve per candidate and step, whatever the
    # values: time a few on the problem's own rows and scale by the number of
    # solves of the whole run (2B forward steps over the unlabeled rows, then
    # the backward steps over the picked ones).
    V = [dense_factor(Z[i], P[i]) for i in range(12)]
    M = np.eye(k * d) + sum(v @ v.T for v in V[:6]) / 6
    F = sum(v @ v.T for v in V) / len(V)
    n_timed = 3 if d >= 128 else 6
    start = time.perf_counter()
    for v in V[6 : 6 + n_timed]:
        np.trace(np.linalg.solve(M + v @ v.T, F))
    per_solve = (time.perf_counter() - start) / n_timed
    n_u = n - len(labeled)
    solves = sum(n_u - step for step in range(2 * B)) + sum(range(B + 1, 2 * B + 1))
    queue.put((per_solve * solves, None, True))


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
    parser.add_argument(
        "--repeat-big", type=int, default=1, help="run the big case this many times"
    )
    parser.add_argument(
        "--skip-dense",
        action="store_true",
        help="extrapolate the dense reference at n=1000 too (it takes ~1.5 min)",
    )
    opts = parser.parse_args()

    import torch

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, device "
        f"{opts.device}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(default)')}, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    gflops = matmul_gflops(opts.device)
    print(f"float64 matmul throughput: {gflops:.1f} GFLOP/s")
    header = (
        f"{'n':>6} {'d':>4} {'k':>3} {'B':>4} | {'bait_select s':>13} | "
        f"{'batched ref s':>13} {'ratio':>7} | {'dense ref s':>12} {'ratio':>8} | "
        f"{'peak RSS MB':>11} {'+MB':>6} {'same set':>8} {'GFLOP/s':>8} {'of peak':>7}"
    )
    print(header)
    print("-" * len(header))
    grid = [g for g in GRID if g[0] == 50000] if opts.big else GRID
    for n, d, k, B, whole, dense_whole in grid:
        repeats = opts.repeat_big if n == 50000 else 1
        for _ in range(repeats):
            seconds, peak, extra, gpu_mb, ours = _in_process(_run_ours, (n, d, k, B, opts.device))
            ref_s, _, ref_idx, estimated = _in_process(
                _run_reference, (n, d, k, B, whole, opts.device)
            )
            dense_s, dense_idx, dense_estimated = _in_process(
                _run_dense, (n, d, k, B, dense_whole and not opts.skip_dense)
            )
            checked = [i for i in (ref_idx, dense_idx) if i is not None]
            same = "-" if not checked else ("yes" if all(i == ours for i in checked) else "NO")
            rate = model_flops(n, max(1, n // 50), d, k, B) / seconds / 1e9
            ref_txt = ("~" if estimated else "") + f"{ref_s:.2f}"
            dense_txt = ("~" if dense_estimated else "") + f"{dense_s:.1f}"
            print(
                f"{n:>6} {d:>4} {k:>3} {B:>4} | {seconds:>13.3f} | {ref_txt:>13} "
                f"{ref_s / seconds:>6.0f}x | {dense_txt:>12} {dense_s / seconds:>7.0f}x | "
                f"{peak:>11.0f} {extra:>6.0f} {same:>8} {rate:>8.1f} {rate / gflops:>7.0%}",
                flush=True,
            )
            if opts.device != "cpu":
                print(f"        peak GPU memory {gpu_mb:.0f} MB")


if __name__ == "__main__":
    main()
