"""Held-out check of BAIT's defaults: data they were not chosen on.

BAIT's defaults (``reg="scale"`` with ``relative_reg=0.01``, the candidates,
``standardize="auto"``) were chosen with ``bench_realdata.py``. This script
runs the same low-budget protocol (10 random labels, then rounds of 10; a
shorter budget on the two small sets) and the same summary on problems that
played no part in that choice: scikit-learn's iris and wine, and problems of
:func:`~sklearn.datasets.make_classification` shaped like the ones users
bring (26 classes on 16 features, as UCI letter recognition; label noise; a
class of 3%; several clusters per class; a near-chance 5-class problem with
30% of its labels flipped). Each is split once into pool and test (half and
half, a third for test on the small sets, stratified); every strategy starts
from the same random labels at a seed, so the leads are paired.

It prints one line per experiment (AUC x 100 ± s.e. over seeds, BAIT's
paired lead over random and over the best strategy of another family) and
how many experiments BAIT at its defaults beats random on and leads or comes
within one standard error of the best other strategy on.

Run from the repository root::

    python benchmarks/bench_heldout.py
    python benchmarks/bench_heldout.py --problems iris letters --strategies random margin bait
"""

import argparse
import os
import platform
import warnings

import pandas as pd
from bench_realdata import EXTRA_STRATEGIES, compact_table, make_strategies, summary_rows
from sklearn.datasets import load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbait.evaluation import compare_strategies

#: name -> (rows and labels, label budget). The generated ones are drawn once, seed 0.
PROBLEMS = {
    "iris": (lambda: load_iris(return_X_y=True), 60),
    "wine": (lambda: load_wine(return_X_y=True), 80),
    "letters": (
        lambda: make_classification(
            6000, 16, n_informative=12, n_redundant=2, n_classes=26,
            n_clusters_per_class=1, class_sep=1.5, random_state=0,
        ),
        210,
    ),
    "noisy_binary": (
        lambda: make_classification(4000, 20, n_informative=5, flip_y=0.15, random_state=0),
        210,
    ),
    "rare_class": (
        lambda: make_classification(
            4000, 10, n_informative=6, n_classes=4, weights=[0.7, 0.2, 0.07, 0.03],
            random_state=0,
        ),
        210,
    ),
    "clusters": (
        lambda: make_classification(
            4000, 8, n_informative=4, n_classes=3, n_clusters_per_class=3, random_state=0
        ),
        210,
    ),
    "near_chance": (
        lambda: make_classification(
            4000, 50, n_informative=10, n_classes=5, flip_y=0.3, class_sep=0.8,
            random_state=0,
        ),
        210,
    ),
}  # fmt: skip
#: Models: logistic regression after a StandardScaler, and on raw wine (columns
#: from about 0.1 to about 1,700) without one.
MODELS = {
    "logreg_std": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    "logreg_raw": lambda: LogisticRegression(max_iter=1000),
}
RAW_PROBLEMS = ("wine",)
DEFAULT_STRATEGIES = ("random", "margin", "badge", "coreset", "bait")


def experiments(problems):
    """Every (label, problem, model label) to run."""
    for name in problems:
        for model_label in MODELS:
            if model_label == "logreg_raw" and name not in RAW_PROBLEMS:
                continue
            yield f"{name}-{model_label}", name, model_label


def run(name, model_label, strategies, seeds, n_jobs):
    load, budget = PROBLEMS[name]
    X, y = load()
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=0.33 if len(y) < 1000 else 0.5, random_state=0, stratify=y
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return compare_strategies(
            MODELS[model_label](), X_pool, y_pool, X_test, y_test,
            strategies=make_strategies(strategies), seeds=seeds, n_initial=10,
            batch_size=10, budget=budget, n_jobs=n_jobs, verbose=0,
        )  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", choices=sorted(PROBLEMS), default=list(PROBLEMS))
    parser.add_argument(
        "--strategies",
        nargs="+",
        default=list(DEFAULT_STRATEGIES),
        help=f"registered names or the extra BAIT settings: {', '.join(EXTRA_STRATEGIES)}",
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"{platform.processor() or platform.machine()}, load {os.getloadavg()[0]:.1f}")
    rows = []
    for label, name, model_label in experiments(args.problems):
        results = run(name, model_label, args.strategies, args.seeds, args.n_jobs)
        rows.extend(summary_rows(label, results))
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", None):
        print(compact_table(table, args.strategies).to_string(index=False))
    bait = table[table["strategy"] == "bait"]
    if len(bait) and "lead_random" in bait:
        beats_random = int((bait["lead_random"] > 0).sum())
        close = bait["lead_best_other"] + bait["lead_best_other_se"] >= 0
        print(
            f"\nBAIT at its defaults beats random on {beats_random} of {len(bait)} experiments, "
            f"and leads or comes within one standard error of the best other strategy on "
            f"{int(close.sum())}."
        )


if __name__ == "__main__":
    main()
