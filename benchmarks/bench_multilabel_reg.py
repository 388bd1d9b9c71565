"""Multi-label BAIT's ``relative_reg``: which default, measured over several problems.

For each problem (a model and ``make_multilabel_classification`` with ``d``
features and ``K`` labels, pool 2,000, test 2,000) and each seed (a new
draw of the data and of the 20 initial rows), every strategy runs from 20
labels in batches of 20 up to 300 through
:func:`skbait.evaluation.compare_strategies`; the table gives the area
under the learning curve of micro-F1 (the label sets, thresholded at 0.5)
and of average precision (the probabilities' ranking of the test rows, free
of the threshold), mean over seeds, and each strategy's paired difference
from BAIT at the first ``--relative-reg`` (mean ± standard error over seeds).

Run from the repository root (``PYTHONPATH=.`` or after ``pip install -e .``)::

    python benchmarks/bench_multilabel_reg.py --seeds 3
"""

import argparse
import os
import platform
import warnings

import numpy as np
from bench_multilabel import make_data, make_model
from sklearn.exceptions import ConvergenceWarning

from skbait.evaluation import compare_strategies, learning_curve_auc
from skbait.strategies import MultiLabelBAIT

PROBLEMS = ("ovr,20,8", "ovr,50,5", "ovr,10,12", "mlp,20,8")
METRICS = {"f1_micro": "micro-F1", "average_precision": "average precision"}


def _problem(text):
    model, d, K = text.split(",")
    return model, int(d), int(K)


def run_problem(model, n_features, n_labels, seed, relative_regs):
    X, Y, X_test, Y_test = make_data(2000, 2000, n_features, n_labels, seed)
    strategies = {f"bait(rel={r:g})": MultiLabelBAIT(relative_reg=r) for r in relative_regs}
    strategies.update({"random": "random", "margin": "multilabel_margin", "coreset": "coreset"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        results = compare_strategies(
            make_model(model), X, Y, X_test, Y_test,
            strategies=strategies, seeds=[seed], n_initial=20, batch_size=20, budget=300,
            n_jobs=1, verbose=0,
        )  # fmt: skip
    return {
        metric: learning_curve_auc(results.assign(score=results[metric]))["auc_mean"].to_dict()
        for metric in METRICS
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--problems",
        type=_problem,
        nargs="+",
        default=list(map(_problem, PROBLEMS)),
        help="model,d,K: ovr or mlp, features, labels",
    )
    parser.add_argument("--relative-reg", type=float, nargs="+", default=[0.01, 0.001, 0.0001])
    args = parser.parse_args(argv)
    print(f"{platform.processor() or platform.machine()}, load {os.getloadavg()[0]:.1f}")
    base = f"bait(rel={args.relative_reg[0]:g})"
    for model, d, K in args.problems:
        runs = [run_problem(model, d, K, seed, args.relative_reg) for seed in range(args.seeds)]
        for metric, title in METRICS.items():
            rows = [run[metric] for run in runs]
            print(f"\n{model}, d={d}, K={K}, {args.seeds} seeds: {title} AUC; minus {base}")
            for name in rows[0]:
                values = np.array([r[name] for r in rows])
                diff = np.array([r[name] - r[base] for r in rows])
                sem = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
                print(f"  {name:16s} {values.mean():.4f}   {diff.mean():+.4f} ± {sem:.4f}")


if __name__ == "__main__":
    main()
