"""Selections and whole campaigns on a busy CPU: quiet time against the time beside busy processes.

Two tables, each from one run:

**Selections** (``--only selection``). A 5,000-row pool (d=64, k=10), batch
of 50, is selected by :func:`skbait.strategies.bait_select` (and CoreSet,
BADGE for comparison)

1. on the machine as it is ("quiet"),
2. beside ``--busy`` processes that run float64 matrix products in a loop,
   one thread each ("busy"): with ``c`` cores a single thread then gets about
   ``c / (busy + 1)`` of a core, so the ideal ratio is ``(busy + 1) / c``
   (2.5 for four busy processes on two cores),

with the caller's default thread settings, so that skbait's own thread
control is what is measured; ``--forced-threads N`` adds a row with torch
forced to N threads for the whole call, for comparison. Target (issue 14):
busy at most 4x quiet.

**Campaigns** (``--only campaign``). A whole simulated campaign on the
digits (1,297 pool rows, 64 features, 10 classes; 10 initial labels, batches
of 10 up to 100 labels): :class:`~skbait.ActiveLearner` around a
LogisticRegression and around a small skorch MLP (one hidden layer of 64
units, 20 epochs a round), each with BAIT and BADGE, scored on 500 held-out
rows every round. The four learners run quiet, beside 2 and beside 4 busy
processes (numpy matrix products in a loop, one thread each), with
``n_threads="auto"`` (the default: one thread in every pool while the
machine is busy), ``n_threads=1`` (fixed) and ``n_threads=None`` (the loop
leaves the thread settings alone; only the selections guard themselves, as
before issue 30). Target (issue 30): the default beside 4 busy processes
within 3x of its quiet time on 2 cores.

Each time is the median of ``--repeats`` runs. The busy processes are
started with ``multiprocessing`` (spawn) and stopped at the end. The load
average is printed before each phase: on a shared machine, other users'
work counts as busy processes too. ``--quick`` runs a shorter version
(50 labels, 10 epochs, the selections once) to check that it works.

Usage::

    python benchmarks/bench_threads.py
    python benchmarks/bench_threads.py --only campaign --quick
    python benchmarks/bench_threads.py --only selection --busy 4 --repeats 3 --forced-threads 1
"""

import argparse
import functools
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


def _numpy_busy_loop(stop):
    from threadpoolctl import threadpool_limits

    # One thread each, as in _busy_loop, with numpy's BLAS: what a user's other
    # notebook or a joblib worker runs.
    with threadpool_limits(1):
        a = np.random.RandomState(0).normal(size=(400, 400))
        while not stop.is_set():
            a = np.tanh(a @ a.T / 400.0)


class _Busy:
    """``n`` busy processes while the block runs."""

    def __init__(self, n, target):
        self.n, self.target = n, target

    def __enter__(self):
        ctx = mp.get_context("spawn")
        self.stop = ctx.Event()
        self.procs = [
            ctx.Process(target=self.target, args=(self.stop,), daemon=True) for _ in range(self.n)
        ]
        for p in self.procs:
            p.start()
        if self.n:
            time.sleep(2.0)  # let them start computing
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.terminate()


def _mlp(epochs):
    import torch
    from skorch import NeuralNetClassifier
    from torch import nn

    class MLP(nn.Module):
        def __init__(self, n_features=64, n_hidden=64, n_classes=10):
            super().__init__()
            self.hidden = nn.Linear(n_features, n_hidden)
            self.output = nn.Linear(n_hidden, n_classes)
            generator = torch.Generator().manual_seed(0)  # the same net every run
            with torch.no_grad():
                for layer in (self.hidden, self.output):
                    bound = 1.0 / layer.in_features**0.5
                    layer.weight.uniform_(-bound, bound, generator=generator)
                    layer.bias.uniform_(-bound, bound, generator=generator)

        def forward(self, X):
            return self.output(torch.relu(self.hidden(X)))

    return NeuralNetClassifier(
        MLP,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-2,
        max_epochs=epochs,
        batch_size=32,
        train_split=None,  # no validation split of the few labels
        verbose=0,
    )


def campaigns(budget=100, epochs=20):
    """{(estimator, strategy): run(n_threads) -> None}, each a whole simulated campaign."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from skbait import ActiveLearner

    X, y = load_digits(return_X_y=True)
    X, y = (X / 16.0).astype(np.float32), y.astype(np.int64)
    pool, test = slice(0, 1297), slice(1297, None)
    estimators = {"logistic": LogisticRegression(max_iter=1000), "skorch MLP": _mlp(epochs)}

    def campaign(estimator, strategy):
        def run(n_threads):
            ActiveLearner(
                estimator,
                query_strategy=strategy,
                n_initial=10,
                batch_size=10,
                budget=budget,
                random_state=0,
                n_threads=n_threads,
            ).fit(X[pool], y[pool], eval_set=(X[test], y[test]))

        return run

    return {
        (name, strategy): campaign(estimator, strategy)
        for name, estimator in estimators.items()
        for strategy in ("bait", "badge")
    }


_MODES = {"default (auto)": "auto", "fixed 1 thread": 1, "off (None)": None}


def run_campaigns(busy=(2, 4), repeats=1, budget=100, epochs=20, modes=_MODES):
    """Return {(mode, busy): {campaign: seconds}} and the load average before each phase."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    runs = campaigns(budget, epochs)
    times, loads = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for run in runs.values():
            run("auto")  # warm-up: imports, torch's pools
        for n_busy in (0, *busy):
            with _Busy(n_busy, _numpy_busy_loop):
                loads[n_busy] = os.getloadavg()[0]
                for mode, n_threads in modes.items():
                    times[mode, n_busy] = {
                        key: _median_seconds(functools.partial(run, n_threads), repeats)
                        for key, run in runs.items()
                    }
                    total = sum(times[mode, n_busy].values())
                    print(f"  ({n_busy} busy, {mode}: {total:.1f} s)", flush=True)
    return times, loads


def _median_seconds(func, repeats):
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def print_campaigns(times, loads, busy):
    header = f"{'campaign':<22} {'threads':<16} {'quiet s':>8}"
    header += "".join(f" {f'{n} busy s':>9} {'ratio':>6}" for n in busy)
    print(header)
    keys = list(next(iter(times.values())))
    modes = list(dict.fromkeys(mode for mode, _ in times))
    for key in [*keys, "all four"]:
        for mode in modes:

            def seconds(n_busy, key=key, mode=mode):
                row = times[mode, n_busy]
                return sum(row.values()) if key == "all four" else row[key]

            label = key if isinstance(key, str) else f"{key[0]}, {key[1]}"
            line = f"{label:<22} {mode:<16} {seconds(0):>8.2f}"
            for n in busy:
                line += f" {seconds(n):>9.2f} {seconds(n) / seconds(0):>5.1f}x"
            print(line)
    print(
        "load average (1 min) before each phase: "
        + ", ".join(
            f"{'quiet' if n == 0 else f'{n} busy'} {load:.1f}" for n, load in loads.items()
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("selection", "campaign"), default=None)
    parser.add_argument("--busy", type=int, default=4, help="busy processes (selections)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--forced-threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="a short run, to check it works")
    args = parser.parse_args(argv)
    import torch

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads by default, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the run"
    )
    if args.only in (None, "selection"):
        repeats = args.repeats or (1 if args.quick else 3)
        print(f"\nSelections: n=5000, d=64, k=10, B={args.batch_size}; beside {args.busy} busy")
        print(f"{'strategy':<22} {'quiet s':>8} {'busy s':>8} {'busy/quiet':>10}")
        results = run(args.busy, repeats, args.batch_size, args.forced_threads)
        for key, (quiet, loaded) in results.items():
            label = key if isinstance(key, str) else f"{key[0]} ({key[1]} thr forced)"
            print(f"{label:<22} {quiet:>8.3f} {loaded:>8.3f} {loaded / quiet:>9.1f}x")
    if args.only in (None, "campaign"):
        budget, epochs = (50, 10) if args.quick else (100, 20)
        busy = (2, 4)
        print(
            f"\nCampaigns: digits, 10 initial labels, batches of 10 up to {budget}, "
            f"MLP {epochs} epochs a round; quiet and beside {busy} busy processes"
        )
        times, loads = run_campaigns(busy, args.repeats or 1, budget, epochs)
        print_campaigns(times, loads, busy)


if __name__ == "__main__":
    main()
