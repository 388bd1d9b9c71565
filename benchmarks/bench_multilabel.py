"""Multi-label active learning: learning curves of multi-label BAIT against its baselines.

Part 1, learning curves. A pool and a test set from scikit-learn's
``make_multilabel_classification`` (documents of Poisson word counts with
``K`` labels), or with ``--data austin`` a real problem, the weather events
of Austin (:func:`skbait.datasets.load_austin_weather` with
``task="multilabel"``: 1,305 days, 18 features, fog, rain and thunderstorm,
split two thirds pool, one third test), then a ``StandardScaler`` and
``OneVsRestClassifier(LogisticRegression)``
(``--model mlp``: an ``MLPClassifier`` with one hidden layer, whose
activations are the embedding). Every strategy runs with every seed through
:func:`skbait.evaluation.compare_strategies`, each seed on its own draw of the
data (``--data-seed`` fixes one draw for all); the table gives the area under
the micro-F1 learning curve (normalised to a mean micro-F1) with its standard
error over seeds, and the final micro-F1, macro-F1, subset accuracy and
Hamming loss, then the area under every metric's curve (average precision
included) and the paired differences between BAIT and each baseline.

Part 2, selection time. Multi-label BAIT (``K`` sigmoid outputs) against
multiclass BAIT (``k = K`` softmax classes) on the same embeddings, ``n``,
``d`` and batch size; runs interleaved, the median of ``--repeats``.

Run from the repository root (``PYTHONPATH=.`` or after ``pip install -e .``):
``python benchmarks/bench_multilabel.py --help`` lists the options.
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbait.datasets import load_austin_weather
from skbait.evaluation import MULTILABEL_COLUMNS, compare_strategies, learning_curve_auc
from skbait.strategies import MultiLabelBAIT, bait_select, multilabel_bait_select

BASELINES = {
    "logdet": "multilabel_logdet",
    "badge": "multilabel_badge",
    "mean_margin": "multilabel_margin",
    "min_margin": "multilabel_min_margin",
    "coreset": "coreset",
    "random": "random",
}


def make_strategies(regs, relative_regs=()):
    """BAIT at its defaults, at each further ``relative_reg`` and ``reg``, then the baselines."""
    strategies = {"bait": MultiLabelBAIT()}
    for r in relative_regs:
        strategies[f"bait(relative_reg={r:g})"] = MultiLabelBAIT(relative_reg=r)
    for r in regs:
        strategies[f"bait(reg={r:g})"] = MultiLabelBAIT(reg=r)
    strategies.update(BASELINES)
    return strategies


def make_data(n_pool, n_test, n_features, n_labels, seed):
    X, Y = make_multilabel_classification(
        n_samples=n_pool + n_test,
        n_features=n_features,
        n_classes=n_labels,
        n_labels=2,
        random_state=seed,
    )
    return X[:n_pool], Y[:n_pool], X[n_pool:], Y[n_pool:]


def austin_split(seed):
    """Austin's weather events: two thirds of the days as the pool, one third as the test set."""
    X, Y = load_austin_weather(task="multilabel", return_X_y=True)
    X, X_test, Y, Y_test = train_test_split(X, Y, test_size=1 / 3, random_state=seed)
    return X, Y, X_test, Y_test


def load_split(args, seed):
    """The pool and test set of ``--data`` for one seed of the data."""
    if args.data == "austin":
        return austin_split(seed)
    return make_data(args.n_pool, args.n_test, args.n_features, args.n_labels, seed)


def make_model(kind):
    if kind == "mlp":
        head = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300)
    else:
        head = OneVsRestClassifier(LogisticRegression(solver="liblinear"))
    return make_pipeline(StandardScaler(), head)


def _curves(args, seeds, data_seed):
    X, Y, X_test, Y_test = load_split(args, data_seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        return compare_strategies(
            make_model(args.model),
            X,
            Y,
            X_test,
            Y_test,
            strategies=make_strategies(args.bait_reg, args.relative_reg),
            seeds=seeds,
            n_initial=args.n_initial,
            batch_size=args.batch_size,
            budget=args.budget,
            n_jobs=args.n_jobs,
            verbose=0,
        )


def learning_curves(args):
    if args.data_seed is None:
        # A new draw of the data with every seed: the spread over seeds is the data's too.
        results = pd.concat(
            [_curves(args, [seed], seed) for seed in range(args.seeds)], ignore_index=True
        )
    else:
        results = _curves(args, args.seeds, args.data_seed)
    if args.save:
        results.to_csv(args.save, index=False)
    auc = learning_curve_auc(results)
    last = results[results["n_labeled"] == results["n_labeled"].max()]
    final = last.groupby("strategy", sort=False)[
        ["f1_micro", "f1_macro", "subset_accuracy", "hamming_loss"]
    ].agg(["mean", "sem"])
    seconds = results.groupby("strategy", sort=False)["selection_seconds"].mean()
    best = auc["auc_mean"].idxmax()
    data = (
        "Austin weather events: pool 870, test 435, 18 features, 3 labels"
        if args.data == "austin"
        else f"make_multilabel_classification: pool {args.n_pool}, test {args.n_test}, "
        f"{args.n_features} features, {args.n_labels} labels"
    )
    print(
        f"\n{data}; model {args.model}; "
        f"{args.n_initial} + {args.batch_size}/round to {args.budget}; {args.seeds} seeds, "
        + ("one draw of the data" if args.data_seed is not None else "a draw of the data each")
    )
    print(
        "| strategy | AUC micro-F1 | final micro-F1 | final macro-F1 | subset acc. "
        "| Hamming loss | s / batch |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in auc.index:
        row = auc.loc[name]
        f = final.loc[name]
        mark = " (best)" if name == best else ""
        print(
            f"| {name}{mark} | {row.auc_mean:.4f} ± {row.auc_sem:.4f} "
            f"| {f[('f1_micro', 'mean')]:.3f} ± {f[('f1_micro', 'sem')]:.3f} "
            f"| {f[('f1_macro', 'mean')]:.3f} ± {f[('f1_macro', 'sem')]:.3f} "
            f"| {f[('subset_accuracy', 'mean')]:.3f} "
            f"| {f[('hamming_loss', 'mean')]:.3f} | {seconds[name]:.3f} |"
        )
    for name in auc.index:
        if not name.startswith("bait"):
            continue
        gap = auc.loc[best, "auc_mean"] - auc.loc[name, "auc_mean"]
        verdict = (
            "the best"
            if name == best
            else "within one standard error of the best"
            if gap <= auc.loc[best, "auc_sem"]
            else "NOT within one standard error of the best"
        )
        print(
            f"{name}: {-gap:+.4f} AUC against {best} "
            f"(its sem {auc.loc[best, 'auc_sem']:.4f}): {verdict}"
        )
    print(
        "\nAUC of every metric (mean ± sem over seeds; Hamming loss: lower is better; "
        "average precision ranks the test rows by probability, free of the 0.5 threshold)"
    )
    print(
        "| strategy | micro-F1 | macro-F1 | subset accuracy | Hamming loss | average precision |"
    )
    print("|---|---|---|---|---|---|")
    aucs = {m: learning_curve_auc(results.assign(score=results[m])) for m in MULTILABEL_COLUMNS}
    for name in auc.index:
        cells = [
            f"{aucs[m].loc[name, 'auc_mean']:.4f} ± {aucs[m].loc[name, 'auc_sem']:.4f}"
            for m in MULTILABEL_COLUMNS
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for metric, title in (("f1_micro", "micro-F1"), ("average_precision", "average precision")):
        per_seed = learning_curve_auc(results.assign(score=results[metric]), per_seed=True)
        per_seed = per_seed.pivot(index="seed", columns="strategy", values="auc")
        print(f"\nPaired {title} AUC differences, BAIT minus each baseline (mean ± s.e.)")
        for name in [n for n in auc.index if n.startswith("bait")]:
            diffs = []
            for other in BASELINES:
                d = per_seed[name] - per_seed[other]
                diffs.append(f"{other} {d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(len(d)):.4f}")
            print(f"{name}: " + "; ".join(diffs))
    return results


def selection_times(args):
    print(
        "\n| n | d | K | B | multi-label BAIT (s) | multiclass BAIT (s) | ratio |\n"
        "|---|---|---|---|---|---|---|"
    )
    for n, d, K, B in args.time_cases:
        rng = np.random.RandomState(0)
        Z = rng.normal(size=(n, d))
        logits = Z @ rng.normal(scale=0.5, size=(d, K))
        sigmoid = 1.0 / (1.0 + np.exp(-logits))
        softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
        softmax /= softmax.sum(axis=1, keepdims=True)
        labeled = np.arange(n // 10)
        times = {"ml": [], "mc": []}
        for _ in range(args.repeats):
            for key, func, P in (
                ("ml", multilabel_bait_select, sigmoid),
                ("mc", bait_select, softmax),
            ):
                start = time.perf_counter()
                func(Z, P, labeled, B, device="cpu")
                times[key].append(time.perf_counter() - start)
        ml, mc = np.median(times["ml"]), np.median(times["mc"])
        print(f"| {n} | {d} | {K} | {B} | {ml:.3f} | {mc:.3f} | {ml / mc:.2f} |")


def _case(text):
    parts = [int(v) for v in text.split(",")]
    if len(parts) != 4:
        raise argparse.ArgumentTypeError("a timing case is n,d,K,B")
    return tuple(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument(
        "--data",
        choices=["synthetic", "austin"],
        default="synthetic",
        help="make_multilabel_classification, or Austin's weather events (a new split "
        "of its days with every seed; --n-pool, --n-test, --n-features and --n-labels "
        "are then unused)",
    )
    parser.add_argument("--n-pool", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--n-labels", type=int, default=8)
    parser.add_argument(
        "--data-seed",
        type=int,
        default=None,
        help="one draw of the data for every seed (default: seed s draws its own, s)",
    )
    parser.add_argument("--model", choices=["ovr", "mlp"], default="ovr")
    parser.add_argument("--n-initial", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--save", default=None, help="CSV file for the results table")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--time-cases",
        type=_case,
        nargs="*",
        default=[(2000, 20, 8, 20), (10000, 64, 10, 50), (20000, 128, 20, 100)],
        help="n,d,K,B for the timing part",
    )
    parser.add_argument(
        "--bait-reg",
        type=float,
        nargs="*",
        default=[1.0],
        help="absolute reg values to run BAIT with, beside its defaults (shown as 'bait')",
    )
    parser.add_argument(
        "--relative-reg",
        type=float,
        nargs="*",
        default=[],
        help="further relative_reg values (with reg='scale') to run BAIT with",
    )
    parser.add_argument("--skip-curves", action="store_true")
    parser.add_argument("--skip-times", action="store_true")
    args = parser.parse_args(argv)
    print(f"{platform.processor() or platform.machine()}, load {os.getloadavg()[0]:.1f}")
    if not args.skip_curves:
        learning_curves(args)
    if not args.skip_times:
        selection_times(args)


if __name__ == "__main__":
    main()
