"""BAIT from small to large pools, against an older tree in the same run: is anything slower?

Each case of the grid (``n``, ``d``, ``k``, ``B``; float64 and float32; one
thread and the default threads) runs ``bait_select`` in fresh processes, one
for this tree and one for the tree given by ``--old`` (a second git worktree,
made with ``git worktree add /tmp/old <commit>``), alternating which goes
first, ``--repeats`` times. Each process times ``--calls`` calls after an
untimed one (the small case; one cold call for the others) and reports the
fastest; the table
gives the fastest over all processes (wall and CPU seconds: on a loaded
machine the CPU time of a one-thread run is the steadier figure), the
ratios new / old, and whether the two trees picked the same rows.

- small: n=1,000, d=32, k=10, B=10 (the common call; the target is at or
  under the older tree's time);
- medium: n=5,000 to 20,000, d=64 to 128, k=10, B=20 to 50;
- large (``--large``, minutes each): bench_scale's exact cases, n=50,000,
  d=512, k=10, B=100.

The machine's load changes the absolute times: the script prints
``os.getloadavg()`` before and after, and each pair of processes runs back to
back so that both trees see about the same load.

Usage::

    git worktree add /tmp/old668 668b3f3
    python benchmarks/bench_grid.py --old /tmp/old668
    python benchmarks/bench_grid.py --old /tmp/old668 --only small --repeats 5
    python benchmarks/bench_grid.py --old /tmp/old668 --large --only large
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# group, n, d, k, B
CASES = [
    ("small", 1_000, 32, 10, 10),
    ("medium", 5_000, 64, 10, 20),
    ("medium", 10_000, 64, 10, 50),
    ("medium", 20_000, 128, 10, 50),
    ("large", 50_000, 512, 10, 100),
]
DTYPES = ("float64", "float32")
THREADS = ("1", "default")
_ONE_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _child(opts):
    """One process: build the pool, time ``bait_select``, print one JSON line."""
    import numpy as np
    import torch

    from skbait.strategies import bait_select

    if opts.threads == "1":
        torch.set_num_threads(1)
    rng = np.random.RandomState(0)
    n, d, k, B = opts.n, opts.d, opts.k, opts.B
    # ReLU embeddings and softmax probabilities (a network's last layer), 2% labeled.
    Z = np.maximum(rng.normal(size=(n, d)), 0.0)
    logits = Z @ rng.normal(size=(d, k)) * (2.0 / np.sqrt(d))
    logits -= logits.max(axis=1, keepdims=True)
    P = np.exp(logits)
    P /= P.sum(axis=1, keepdims=True)
    labeled = rng.choice(n, max(1, n // 50), replace=False)

    def call():
        return bait_select(Z, P, labeled, B, device="cpu", dtype=opts.dtype)

    if opts.warm:
        call()
    times, cpu = [], []
    for _ in range(opts.calls):
        start, start_cpu = time.perf_counter(), time.process_time()
        picked = call()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    digest = hashlib.sha1(np.asarray(picked, dtype=np.int64).tobytes()).hexdigest()[:12]
    print(json.dumps({"seconds": min(times), "cpu": min(cpu), "picks": digest}))


def _run(tree, case, dtype, threads, opts):
    """Time one case in a fresh process importing skbait from ``tree``."""
    _, n, d, k, B = case
    env = dict(os.environ, PYTHONPATH=tree)
    if threads == "1":
        env.update({name: "1" for name in _ONE_THREAD_ENV})
    # The small case is timed warm, several calls a process; the others, one cold call.
    small = case[0] == "small"
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        *("--n", str(n), "--d", str(d), "--k", str(k), "--B", str(B)),
        *("--dtype", dtype, "--threads", threads),
        *("--calls", str(opts.calls) if small else "1"),
        *(["--warm"] if small else []),
    ]
    # Outside both trees, so that only PYTHONPATH decides which skbait is imported.
    out = subprocess.run(
        cmd, env=env, cwd=os.path.dirname(tree), capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{tree}: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", help="a worktree of the older commit to compare against")
    parser.add_argument("--only", nargs="+", choices=("small", "medium", "large"))
    parser.add_argument("--large", action="store_true", help="also the large cases (minutes)")
    parser.add_argument("--repeats", type=int, default=3, help="processes per tree and case")
    parser.add_argument("--calls", type=int, default=3, help="timed calls per process")
    parser.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    parser.add_argument("--threads", nargs="+", choices=THREADS, default=list(THREADS))
    parser.add_argument("--max-n", type=int, help="skip the cases with more rows")
    # The child's own options.
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("n", "d", "k", "B"):
        parser.add_argument(f"--{name}", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dtype", help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child:
        opts.threads = opts.threads[0] if isinstance(opts.threads, list) else opts.threads
        return _child(opts)

    groups = set(opts.only or ("small", "medium", "large"))
    if not opts.large:
        groups.discard("large")
    trees = {"new": ROOT}
    if opts.old:
        trees["old"] = os.path.abspath(opts.old)
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs")
    header = f"{'case':28s} {'dtype':8s} {'threads':8s} {'new s':>8s} {'new cpu':>8s}"
    if opts.old:
        header += f" {'old s':>8s} {'old cpu':>8s} {'new/old':>8s} {'cpu n/o':>8s} {'same':>5s}"
    print(header)
    for case in CASES:
        if case[0] not in groups or (opts.max_n and case[1] > opts.max_n):
            continue
        _, n, d, k, B = case
        for dtype in opts.dtypes:
            for threads in opts.threads:
                best = {name: float("inf") for name in trees}
                cpu = {name: float("inf") for name in trees}
                picks = {}
                for repeat in range(opts.repeats):
                    # Alternate which tree goes first: both see the same drift of the load.
                    order = list(trees) if repeat % 2 == 0 else list(reversed(trees))
                    for name in order:
                        result = _run(trees[name], case, dtype, threads, opts)
                        best[name] = min(best[name], result["seconds"])
                        cpu[name] = min(cpu[name], result["cpu"])
                        picks[name] = result["picks"]
                label = f"{case[0]} n={n} d={d} k={k} B={B}"
                line = f"{label:28s} {dtype:8s} {threads:8s} {best['new']:8.3f} {cpu['new']:8.3f}"
                if opts.old:
                    same = "yes" if picks["new"] == picks["old"] else "NO"
                    ratio, cpu_ratio = best["new"] / best["old"], cpu["new"] / cpu["old"]
                    line += f" {best['old']:8.3f} {cpu['old']:8.3f} {ratio:8.2f} {cpu_ratio:8.2f}"
                    line += f" {same:>5s}"
                print(line, flush=True)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
