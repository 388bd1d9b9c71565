"""First-batch quality of label-free designs: the cold start against its rivals.

For local scikit-learn datasets, a pool of half the rows is drawn at random
(``--repeats`` times); each design chooses ``B`` rows without any label; a
standardised logistic regression is trained on them and scored on the other
half. Designs: skbait's cold start (BAIT with the pool's rank-one Fisher on
standardised features), random rows, k-means++ seeding
(:func:`sklearn.cluster.kmeans_plusplus`) and greedy k-center
(:func:`skbait.strategies.coreset_select`), both on the standardised
features. Mean held-out accuracy; a batch of one class predicts that class.

Run from the repository root (``PYTHONPATH=.``); ``--help`` lists the options.
"""

import argparse
import warnings

import numpy as np
import pandas as pd
from sklearn.cluster import kmeans_plusplus
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbait.cold_start import cold_start_select, standardize_features
from skbait.strategies import coreset_select


def datasets():
    yield "digits", *load_digits(return_X_y=True)
    yield "wine", *load_wine(return_X_y=True)
    yield "breast_cancer", *load_breast_cancer(return_X_y=True)
    yield (
        "synthetic",
        *make_classification(
            1500, 20, n_informative=8, n_classes=4, n_clusters_per_class=2, random_state=0
        ),
    )


def designs(X_pool, batch_size, rng, seed):
    Z = standardize_features(X_pool)
    return {
        "cold start (BAIT rank-one)": cold_start_select(X_pool, batch_size, device="cpu"),
        "random": rng.choice(len(X_pool), batch_size, replace=False),
        "k-means++": kmeans_plusplus(Z, batch_size, random_state=seed)[1],
        "k-center": coreset_select(Z, None, batch_size, device="cpu"),
    }


def score(X_pool, y_pool, rows, X_test, y_test):
    if np.unique(y_pool[rows]).size < 2:
        return float(np.mean(y_test == y_pool[rows][0]))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return model.fit(X_pool[rows], y_pool[rows]).score(X_test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--batch-sizes", default="10,30")
    args = parser.parse_args(argv)
    sizes = [int(b) for b in args.batch_sizes.split(",")]
    records = []
    for name, X, y in datasets():
        rng = np.random.RandomState(0)
        for repeat in range(args.repeats):
            order = rng.permutation(len(y))
            pool, test = order[: len(y) // 2], order[len(y) // 2 :]
            for batch_size in sizes:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    chosen = designs(X[pool], batch_size, rng, repeat)
                    for design, rows in chosen.items():
                        records.append(
                            {
                                "dataset": name,
                                "B": batch_size,
                                "design": design,
                                "accuracy": score(X[pool], y[pool], rows, X[test], y[test]),
                            }
                        )
    table = pd.DataFrame(records).pivot_table(
        index=["dataset", "B"], columns="design", values="accuracy", aggfunc="mean", sort=False
    )
    print(f"Mean held-out accuracy after one label-free batch ({args.repeats} pools)\n")
    print(table.round(3).to_string())
    return table


if __name__ == "__main__":
    main()
