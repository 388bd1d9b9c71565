"""Fidelity of BAIT's Fisher approximations against exact BAIT, and a 100-class learning curve.

Part 1 (``fidelity``): on pools where exact BAIT runs (k <= 20), every
approximation of :mod:`skbait._approximations` selects a batch; each batch is
scored by the *exact* objective ``tr(M^-1 F)`` (:func:`skbait.strategies.bait_objective`,
dense, float64). Printed per approximation:

- ``objective``: exact objective of exact BAIT's batch over the approximation's
  (1.0 = as good as exact; below 1 = worse);
- ``drop``: the fraction of exact BAIT's decrease of ``tr(M^-1 F)`` from the
  starting design (labeled rows only) that the approximation reaches;
- ``random drop``: the same for a random batch, as a floor;
- ``overlap``: the share of exact BAIT's batch that the approximation also picks;
- ``seconds`` of the selection.

Part 2 (``curve``): a synthetic 100-class problem (Gaussian classes), a
logistic regression refitted every round, test accuracy after each round for
an approximate BAIT (class subspace of 10), Fast Fishing's binary BAIT, BADGE,
random, and exact BAIT when ``--exact-curve`` is given (slow: k=100).

Usage::

    python benchmarks/bench_approximations.py              # both parts
    python benchmarks/bench_approximations.py --quick      # small sizes, a smoke run
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def synthetic(n, d, k, seed=0, spread=1.0):
    """Gaussian classes with a low-rank mean structure, so that reductions are meaningful."""
    rng = np.random.RandomState(seed)
    means = rng.normal(size=(k, 8)) @ rng.normal(size=(8, d)) * spread / np.sqrt(8)
    y = rng.randint(k, size=n)
    X = means[y] + rng.normal(size=(n, d))
    return X, y


def softmax_pool(n, d, k, seed=0):
    """Pool embeddings, probabilities of a model fitted on 5% of it, and that labeled set."""
    from sklearn.linear_model import LogisticRegression

    X, y = synthetic(n, d, k, seed)
    rng = np.random.RandomState(seed)
    labeled = np.zeros(n, dtype=bool)
    # Every class once, then random rows: a fitted model knows all k classes.
    first = [np.flatnonzero(y == c)[0] for c in range(k)]
    labeled[first] = True
    labeled[rng.choice(n, n // 20, replace=False)] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(max_iter=200).fit(X[labeled], y[labeled])
    return X, model.predict_proba(X), labeled


APPROXIMATIONS = {
    "binary (Fast Fishing)": {"binary": True},
    "top-2 classes (FF)": {"top_classes": 2},
    "top-3 classes (FF)": {"top_classes": 3},
    "class subspace k/2": "half_classes",
    "class subspace 5": {"class_dims": 5},
    "embedding d/4": "quarter_dims",
    "classes k/2 + emb d/2": "both",
}


def _settings(spec, d, k):
    if spec == "half_classes":
        return {"class_dims": max(1, k // 2)}
    if spec == "quarter_dims":
        return {"embedding_dims": max(1, d // 4)}
    if spec == "both":
        return {"class_dims": max(1, k // 2), "embedding_dims": max(1, d // 2)}
    return spec


def fidelity(cases, B, seed=0):
    from skbait._approximations import FisherApproximation, greedy_select
    from skbait.strategies import bait_objective, bait_select

    rows = []
    for n, d, k in cases:
        Z, P, labeled = softmax_pool(n, d, k, seed)
        start = time.perf_counter()
        exact = bait_select(Z, P, labeled, B, device="cpu")
        exact_s = time.perf_counter() - start
        exact_obj = bait_objective(Z, P, labeled, exact)
        # The starting value: the labeled design only (a zero-weight "batch").
        rng = np.random.RandomState(seed)
        random_batch = rng.choice(np.flatnonzero(~labeled), B, replace=False)
        random_obj = bait_objective(Z, P, labeled, random_batch)
        start_obj = _start_objective(Z, P, labeled, B)
        rows.append(
            (n, d, k, "exact", 1.0, 1.0, _drop(start_obj, random_obj, exact_obj), 1.0, exact_s)
        )
        for name, spec in APPROXIMATIONS.items():
            settings = _settings(spec, d, k)
            start = time.perf_counter()
            approx = FisherApproximation(**settings).fit_transform(Z, P, random_state=seed)
            picked, _ = greedy_select(approx, labeled, B, reg=1.0)
            seconds = time.perf_counter() - start
            obj = bait_objective(Z, P, labeled, picked)
            overlap = len(set(picked.tolist()) & set(exact.tolist())) / B
            rows.append(
                (
                    n,
                    d,
                    k,
                    name,
                    exact_obj / obj,
                    _drop(start_obj, obj, exact_obj),
                    _drop(start_obj, random_obj, exact_obj),
                    overlap,
                    seconds,
                )
            )
    return rows


def _drop(start, value, exact):
    return (start - value) / (start - exact)


def _start_objective(Z, P, labeled, B):
    """tr(M_0^-1 F) with BAIT's M_0 for a batch of B (no row added)."""
    import torch

    from skbait._fisher import bait_factors, design_start, kron_gram

    Zt = torch.as_tensor(Z, dtype=torch.float64)
    S = bait_factors(torch.as_tensor(P, dtype=torch.float64))
    lab = torch.as_tensor(np.flatnonzero(labeled))
    M0, _ = design_start(kron_gram(Zt[lab], S[lab]), int(labeled.sum()), B, reg=1.0)
    F = kron_gram(Zt, S) / Z.shape[0]
    return float(torch.linalg.solve(M0, F).trace())


def curve(n, d, k, B, rounds, exact, seed=0):
    """Test accuracy per round for each strategy on a k-class problem."""
    from sklearn.linear_model import LogisticRegression

    from skbait._approximations import FisherApproximation, greedy_select
    from skbait.strategies import badge_select, bait_select

    X, y = synthetic(n + 5000, d, k, seed, spread=2.0)
    X_test, y_test = X[n:], y[n:]
    X, y = X[:n], y[:n]

    def approx_bait(settings):
        def select(Z, P, labeled):
            approx = FisherApproximation(**settings).fit_transform(Z, P, random_state=seed)
            return greedy_select(approx, labeled, B, reg=1.0)[0]

        return select

    strategies = {
        "bait ~ class subspace 10": approx_bait({"class_dims": 10}),
        "bait ~ binary (FF)": approx_bait({"binary": True}),
        "badge": lambda Z, P, labeled: badge_select(Z, P, labeled, B, random_state=seed),
        "random": lambda Z, P, labeled: np.random.RandomState(int(labeled.sum())).choice(
            np.flatnonzero(~labeled), B, replace=False
        ),
    }
    if exact:
        strategies["bait (exact)"] = lambda Z, P, labeled: bait_select(Z, P, labeled, B)
    rng = np.random.RandomState(seed)
    initial = np.zeros(n, dtype=bool)
    initial[rng.choice(n, 2 * k, replace=False)] = True
    table = {}
    for name, select in strategies.items():
        labeled = initial.copy()
        accuracies, seconds = [], 0.0
        for _ in range(rounds + 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = LogisticRegression(max_iter=300).fit(X[labeled], y[labeled])
            accuracies.append(model.score(X_test, y_test))
            if len(accuracies) > rounds:
                break
            P = np.zeros((n, k))
            P[:, model.classes_] = model.predict_proba(X)
            P = np.clip(P, 1e-12, None)
            P /= P.sum(axis=1, keepdims=True)
            start = time.perf_counter()
            labeled[select(X, P, labeled)] = True
            seconds += time.perf_counter() - start
        table[name] = (accuracies, seconds)
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--exact-curve", action="store_true", help="exact BAIT at k=100 too")
    parser.add_argument("--skip-curve", action="store_true")
    parser.add_argument("--skip-fidelity", action="store_true")
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.quick:
        cases, B, curve_args = [(600, 16, 5)], 10, (1500, 16, 20, 20, 2)
    else:
        cases, B = [(3000, 64, 10), (3000, 32, 20)], 50
        curve_args = (5000, 32, 100, 100, 5)
    if not args.skip_fidelity:
        print("\nFidelity against exact BAIT (exact objective tr(M^-1 F) of each batch)")
        header = (
            f"{'n':>5} {'d':>4} {'k':>3} {'approximation':<24} {'objective':>9} "
            f"{'drop':>6} {'random drop':>11} {'overlap':>7} {'seconds':>8}"
        )
        print(header)
        print("-" * len(header))
        for n, d, k, name, ratio, drop, rdrop, overlap, seconds in fidelity(cases, B):
            print(
                f"{n:>5} {d:>4} {k:>3} {name:<24} {ratio:>9.3f} {drop:>6.1%} "
                f"{rdrop:>11.1%} {overlap:>7.0%} {seconds:>8.2f}",
                flush=True,
            )
    if not args.skip_curve:
        n, d, k, Bc, rounds = curve_args
        print(f"\nLearning curve: {k} classes, n={n}, d={d}, B={Bc}, test accuracy per round")
        for name, (acc, seconds) in curve(n, d, k, Bc, rounds, args.exact_curve).items():
            print(f"{name:<26} " + " ".join(f"{a:.3f}" for a in acc) + f"   ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
