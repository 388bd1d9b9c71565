"""Selection time of every registered strategy on synthetic pools.

Each strategy is used through its public API, ``strategy.select(model, X,
labeled, batch_size, random_state=0)``, with a LogisticRegression fitted on
the labeled rows: the times include everything a user pays (probabilities,
embedding, validation, the selection itself). The embedding of a linear model
is its input, so ``d`` is the number of features.

Default cases: n = 5,000 and 50,000 rows, d = 64, k = 10 classes, batch sizes
B = 10 and 100, with n // 10 rows labeled. A case whose time, extrapolated
from the smaller pool, would pass ``--max-seconds`` is skipped and marked.

Run from the repository root after ``pip install -e .`` (or with ``PYTHONPATH=.``):
``python benchmarks/bench_strategies.py --help`` lists the options.
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skbait.strategies import available_strategies, make_strategy

STRATEGIES = ["random", "uncertainty", "badge", "coreset", "bait", "logdet", "logdet_rank1"]


def make_problem(n, d, k, seed=0):
    """A pool with k Gaussian classes in d dimensions, and a model fitted on n // 10 rows."""
    rng = np.random.RandomState(seed)
    means = rng.normal(scale=1.5, size=(k, d))
    y = rng.randint(k, size=n)
    X = means[y] + rng.normal(size=(n, d))
    labeled = np.arange(n // 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(max_iter=200).fit(X[labeled], y[labeled])
    return model, X, labeled


def time_select(strategy, model, X, labeled, batch_size, repeats, max_seconds):
    """Median wall time of ``select`` over up to ``repeats`` runs (one if slow)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        idx = strategy.select(model, X, labeled, batch_size, random_state=0)
        times.append(time.perf_counter() - start)
        assert len(idx) == batch_size and np.unique(idx).size == batch_size
        if sum(times) > max_seconds / 10:
            break
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--dims", type=int, default=64)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--strategies", nargs="+", default=STRATEGIES)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=180.0,
        help="skip a case whose extrapolated time exceeds this",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"CUDA {'yes' if torch.cuda.is_available() else 'no'}"
    )
    print(
        f"d={args.dims}, k={args.classes}, n_labeled = n // 10, seconds per select "
        f"(median of up to {args.repeats} runs)\n"
    )

    cases = [(n, b) for n in sorted(args.sizes) for b in args.batch_sizes]
    results = {}
    notes = []
    problems = {n: make_problem(n, args.dims, args.classes) for n in sorted(args.sizes)}
    for name in args.strategies:
        if name not in available_strategies():
            notes.append(f"{name}: not registered")
            continue
        for n, b in cases:
            # Extrapolate linearly in n from the largest smaller pool already timed.
            smaller = [
                (m, results[name, m, b])
                for m in sorted(args.sizes)
                if m < n and isinstance(results.get((name, m, b)), float)
            ]
            if smaller:
                m, t = smaller[-1]
                guess = t * n / m
                if guess > args.max_seconds:
                    results[name, n, b] = f"skip(~{guess:.0f}s)"
                    continue
            model, X, labeled = problems[n]
            try:
                results[name, n, b] = time_select(
                    make_strategy(name), model, X, labeled, b, args.repeats, args.max_seconds
                )
            except Exception as exc:  # report and go on: one failure must not hide the rest
                results[name, n, b] = "error"
                notes.append(f"{name} n={n} B={b}: {type(exc).__name__}: {exc}")
            print(f"  {name:<13} n={n:<6} B={b:<4} {_fmt(results[name, n, b])}", flush=True)

    header = f"{'strategy':<14}" + "".join(f"{f'n={n},B={b}':>16}" for n, b in cases)
    print("\n" + header)
    print("-" * len(header))
    for name in args.strategies:
        if name in available_strategies():
            print(f"{name:<14}" + "".join(f"{_fmt(results[name, n, b]):>16}" for n, b in cases))
    for note in notes:
        print("note:", note)


def _fmt(value):
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
