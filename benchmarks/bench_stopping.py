"""When does each stopping criterion stop, and how much score does that cost?

For each local dataset (scikit-learn's digits: classification; the shipped
Austin weather: rainfall regression), a simulated BAIT campaign runs to the
full budget over several seeds with :func:`skbait.evaluation.evaluate_stopping`.
Each criterion *stops* at the first round where its rule holds; the table
gives the label count at that round (the budget when it never stopped), how
many seeds it stopped in, the test score there and the score lost against
the full budget (accuracy for digits, R^2 for the weather), mean over seeds.

Run from the repository root (``PYTHONPATH=.``); ``--help`` lists the options.
``--quick`` runs one seed and a smaller budget.
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbait.datasets import load_austin_weather
from skbait.evaluation import evaluate_stopping
from skbait.stopping import (
    MaxConfidence,
    ObjectivePlateau,
    OverallUncertainty,
    StabilizingPredictions,
)


def datasets():
    X, y = load_digits(return_X_y=True)
    yield (
        "digits",
        X,
        y,
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        [StabilizingPredictions(), OverallUncertainty(), MaxConfidence(), ObjectivePlateau()],
        True,
    )
    data = load_austin_weather()
    yield (
        "austin_weather",
        np.asarray(data.data, dtype=float),
        np.asarray(data.target, dtype=float),
        make_pipeline(StandardScaler(), Ridge()),
        [StabilizingPredictions(), ObjectivePlateau()],
        False,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--n-initial", type=int, default=10)
    parser.add_argument("--strategy", default="bait")
    parser.add_argument("--quick", action="store_true", help="one seed, budget 120")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.budget = 1, 120
    rows = []
    for name, X, y, estimator, criteria, stratify in datasets():
        X_pool, X_test, y_pool, y_test = train_test_split(
            X, y, test_size=0.5, random_state=0, stratify=y if stratify else None
        )
        start = time.perf_counter()
        for seed in range(args.seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                summary, _ = evaluate_stopping(
                    estimator,
                    X_pool,
                    y_pool,
                    X_test,
                    y_test,
                    criteria=criteria,
                    strategy=args.strategy,
                    n_initial=args.n_initial,
                    batch_size=args.batch_size,
                    budget=args.budget,
                    random_state=seed,
                )
            rows.append(summary.assign(dataset=name, seed=seed))
        print(f"{name}: {time.perf_counter() - start:.1f} s for {args.seeds} seed(s)")
    table = pd.concat(rows, ignore_index=True)
    grouped = table.groupby(["dataset", "criterion"], sort=False)
    result = pd.DataFrame(
        {
            "stop at (labels)": grouped["stop_labels"].mean().round(1),
            "stopped": grouped["stopped"].sum().astype(int).astype(str) + f"/{args.seeds}",
            "score at stop": grouped["score_at_stop"].mean().round(4),
            "score at budget": grouped["score_full"].mean().round(4),
            "score lost": grouped["score_lost"].mean().round(4),
        }
    )
    print(
        f"\nstrategy {args.strategy}, {args.n_initial} initial labels, batches of "
        f"{args.batch_size}, budget {args.budget}, {args.seeds} seed(s); default thresholds\n"
    )
    result = result.reset_index()
    print(result.to_markdown(index=False) if _has_tabulate() else result.to_string(index=False))
    return result


def _has_tabulate():
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
