"""Real-data benchmark: strategies x datasets x models x protocols, one table and figures.

Every experiment is one :func:`skbait.evaluation.compare_strategies` call (the
same initial draw for every strategy at a seed, so scores are paired) on a
dataset of :func:`skbait.datasets.load_benchmark`, with one model and one
protocol:

- models: ``logreg_raw`` (LogisticRegression on the raw features),
  ``logreg_std`` (after a StandardScaler), ``ridge_raw`` and ``ridge_std``
  for regression, ``tfidf_logreg`` for text (TF-IDF of the 200 most frequent
  terms, sublinear tf, then LogisticRegression) and, with ``--mlp``, a small
  skorch MLP (one hidden layer of 64, retrained from scratch every round;
  the embedding is its hidden layer);
- protocols: ``low`` (10 initial labels, 20 rounds of 10: Fast Fishing's and
  most recent benchmarks') and, for the MLP, ``paper`` (100 initial labels,
  batches of 10 and of 100, the BAIT paper's deep setting).

It writes to ``--out``: ``runs/<experiment>.csv`` (the tidy results, reused
when the command is run again, so an interrupted run resumes),
``summary.md`` (per experiment and strategy: the area under the learning
curve, mean ± standard error over seeds; the paired lead over random; the
lead over the best strategy of another family; seconds per selection; then the
pairwise penalty matrix of Ash et al. summed over every experiment),
``table.csv`` (the same numbers), ``penalty_matrix.png`` and
``curves/<experiment>.png``.

``bait`` is BAIT at its defaults (``reg="scale"``, and for classifiers the
20 x B unlabeled rows of smallest margin and 20 x B others drawn at random as
candidates), ``bait_uncertain`` the same without the random candidates
(for a regressor, which has no uncertain candidates, every row),
``bait_all_rows`` the same among every unlabeled row (the default before the
candidates), ``bait_paper`` BAIT with the paper's absolute ``reg=1`` among
every row. Text and TREC need the TREC files: they are
downloaded once into ``--data-home`` (or read from it offline).

Run from the repository root, e.g.::

    python benchmarks/bench_realdata.py --out bench_out
    python benchmarks/bench_realdata.py --datasets pendigits --models logreg_std --seeds 5
    python benchmarks/bench_realdata.py --out bench_out --report-only  # every saved run

``python benchmarks/bench_realdata.py --help`` lists the options.
"""

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skbait import get_strategy_tags
from skbait.datasets import BENCHMARK_DATASETS, load_benchmark
from skbait.evaluation import (
    compare_strategies,
    learning_curve_auc,
    load_results,
    penalty_matrix,
    save_results,
)
from skbait.strategies import BAIT, FisherApproximation, available_strategies, make_strategy

#: The strategies run by default; ``--strategies all`` runs every registered one.
DEFAULT_STRATEGIES = (
    "random",
    "margin",
    "badge",
    "coreset",
    "bait",
    "bait_uncertain",
    "bait_all_rows",
    "bait_paper",
)
#: Labels of the extra BAIT settings a run can name in ``--strategies``.
EXTRA_STRATEGIES = {
    "bait_paper": lambda: BAIT(reg=1.0),
    # The uncertain candidates alone, without the random ones.
    "bait_uncertain": lambda: BAIT(random_candidates=0),
    # The default before the margin candidates: BAIT among every unlabeled row.
    "bait_all_rows": lambda: BAIT(candidates=None),
    "bait_top2": lambda: BAIT(approximation=FisherApproximation(top_classes=2)),
    "bait_binary": lambda: BAIT(approximation=FisherApproximation(binary=True)),
    "bait_class5": lambda: BAIT(approximation=FisherApproximation(class_dims=5)),
    "bait_emb8": lambda: BAIT(approximation=FisherApproximation(embedding_dims=8)),
    "bait_paper_c20": lambda: BAIT(reg=1.0, candidates=20),
    # The default before standardize="auto": raw input features left in their units.
    "bait_unstandardized": lambda: BAIT(standardize=False),
    # Every embedding standardised over the pool, with an intercept column.
    "bait_intercept": lambda: BAIT(standardize=True),
}
#: Protocols: (n_initial, batch_size, budget).
PROTOCOLS = {
    "low": [(10, 10, 210)],
    "paper": [(100, 10, 300), (100, 100, 1100)],
}
TEXT_FEATURES = 200
#: Seeds of an experiment whose runs cost seconds to a minute, and of one over
#: more than ``MANY_CLASSES`` classes, where a run of exact BAIT costs about ten
#: minutes (TREC-50: half a minute a round).
CHEAP_SEEDS, COSTLY_SEEDS = 10, 5
MANY_CLASSES = 20


def _to_float32(X):
    return np.asarray(X, dtype=np.float32)


def make_mlp(task, random_state=0):
    """A skorch MLP (one hidden layer of 64), retrained from scratch every round.

    skorch has no ``random_state``: the net draws its weights and its shuffling
    from torch's global generator. Each fit runs on a copy of that generator
    (:func:`torch.random.fork_rng`) seeded with ``random_state``, so every
    round starts from the same weights and a run repeats exactly, while the
    caller's generator is left as it was.
    """
    import torch
    from skorch import NeuralNetClassifier, NeuralNetRegressor

    class MLP(torch.nn.Module):
        def __init__(self, n_out=10, hidden=64):
            super().__init__()
            self.hidden = torch.nn.LazyLinear(hidden)
            self.out = torch.nn.Linear(hidden, n_out)

        def forward(self, X):
            return self.out(torch.relu(self.hidden(X)))

    def seeded(net_class):
        class Seeded(net_class):
            def __init__(self, *args, seed=0, **kwargs):
                super().__init__(*args, **kwargs)
                self.seed = seed

            def fit(self, X, y=None, **fit_params):
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(self.seed)
                    return super().fit(X, y, **fit_params)

        Seeded.__name__ = Seeded.__qualname__ = f"Seeded{net_class.__name__}"
        return Seeded

    if task == "classification":
        net = seeded(NeuralNetClassifier)(
            MLP, max_epochs=100, lr=1e-3, optimizer=torch.optim.Adam, batch_size=64,
            train_split=None, verbose=0, criterion=torch.nn.CrossEntropyLoss,
            seed=random_state,
        )  # fmt: skip
    else:
        net = seeded(NeuralNetRegressor)(
            MLP, module__n_out=1, max_epochs=100, lr=1e-3, optimizer=torch.optim.Adam,
            batch_size=64, train_split=None, verbose=0, seed=random_state,
        )  # fmt: skip
    return make_pipeline(StandardScaler(), FunctionTransformer(_to_float32), net)


def models_for(name, mlp):
    """The models of one dataset: ``{label: estimator}``."""
    task, kind = BENCHMARK_DATASETS[name]
    if kind == "text":
        vectorizer = TfidfVectorizer(max_features=TEXT_FEATURES, sublinear_tf=True)
        return {"tfidf_logreg": make_pipeline(vectorizer, LogisticRegression(max_iter=1000))}
    if task == "regression":
        models = {"ridge_std": make_pipeline(StandardScaler(), Ridge()), "ridge_raw": Ridge()}
    else:
        models = {
            "logreg_std": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
            "logreg_raw": LogisticRegression(max_iter=1000),
        }
    if mlp:
        models["mlp"] = make_mlp(task)
    return models


def make_strategies(names):
    """``{label: strategy}``: registered names as themselves, the extra BAIT settings built."""
    return {name: EXTRA_STRATEGIES[name]() if name in EXTRA_STRATEGIES else name for name in names}


def experiments(datasets, models, protocols, mlp):
    """Every (label, dataset, model label, estimator, protocol) to run."""
    for name in datasets:
        for model_label, estimator in models_for(name, mlp).items():
            if models and model_label not in models:
                continue
            deep = model_label == "mlp"
            for protocol in protocols:
                if protocol == "paper" and not deep:
                    continue
                for n_initial, batch_size, budget in PROTOCOLS[protocol]:
                    label = f"{name}-{model_label}-{n_initial}+{batch_size}x"
                    label += str((budget - n_initial) // batch_size)
                    yield label, name, model_label, estimator, (n_initial, batch_size, budget)


def default_seeds(data):
    """Seeds of one experiment when ``--seeds`` is not given: fewer where a run is costly."""
    many_classes = (
        data.task == "classification" and np.unique(np.asarray(data.y_pool)).size > MANY_CLASSES
    )
    return COSTLY_SEEDS if many_classes else CHEAP_SEEDS


def family(label):
    """Strategies of one family (bait, bait_paper, bait_top2) are not each other's rivals."""
    return label.split("_")[0]


def summary_rows(label, results):
    """One row per strategy: AUC ± s.e., lead over random, over the best other family."""
    per_seed = learning_curve_auc(results, per_seed=True).pivot(
        index="seed", columns="strategy", values="auc"
    )
    seconds = results.groupby("strategy")["selection_seconds"].mean()
    rows = []
    means = per_seed.mean()
    for strategy in per_seed.columns:
        auc = per_seed[strategy]
        row = {
            "experiment": label,
            "strategy": strategy,
            "auc": auc.mean(),
            "auc_se": auc.std(ddof=1) / np.sqrt(auc.count()),
            "n_seeds": int(auc.count()),
            "seconds_per_round": seconds.get(strategy, np.nan),
        }
        if "random" in per_seed.columns and strategy != "random":
            lead = auc - per_seed["random"]
            row["lead_random"] = lead.mean()
            row["lead_random_se"] = lead.std(ddof=1) / np.sqrt(lead.count())
        rivals = [s for s in per_seed.columns if family(s) != family(strategy)]
        if rivals:
            best = max(rivals, key=lambda s: means[s])
            lead = auc - per_seed[best]
            row["best_other"] = best
            row["lead_best_other"] = lead.mean()
            row["lead_best_other_se"] = lead.std(ddof=1) / np.sqrt(lead.count())
        rows.append(row)
    return rows


def _pm(mean, se, scale=100.0, signed=False):
    if mean is None or not np.isfinite(mean):
        return ""
    text = f"{scale * mean:+.1f}" if signed else f"{scale * mean:.1f}"
    return text + (f" ± {scale * se:.1f}" if np.isfinite(se) else "")


def markdown_table(table):
    """The summary table, in points (AUC x 100)."""
    lines = [
        "| experiment | strategy | AUC | lead over random | lead over best other | s / round |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        other = ""
        if isinstance(getattr(row, "best_other", None), str):
            other = f"{_pm(row.lead_best_other, row.lead_best_other_se, signed=True)}"
            other += f" ({row.best_other})"
        lines.append(
            f"| {row.experiment} | {row.strategy} | {_pm(row.auc, row.auc_se)} | "
            f"{_pm(getattr(row, 'lead_random', np.nan), getattr(row, 'lead_random_se', np.nan), signed=True)} | "  # noqa: E501
            f"{other} | {row.seconds_per_round:.3f} |"
        )
    return "\n".join(lines)


def compact_table(table, strategies):
    """One row per experiment: each strategy's AUC ± s.e., then BAIT's two leads (points)."""
    rows = []
    for experiment, group in table.groupby("experiment", sort=False):
        by = group.set_index("strategy")
        row = {"experiment": experiment}
        for strategy in strategies:
            row[strategy] = (
                _pm(by.loc[strategy, "auc"], by.loc[strategy, "auc_se"])
                if strategy in by.index
                else ""
            )
        if "bait" in by.index:
            bait = by.loc["bait"]
            row["bait - random"] = _pm(
                bait.get("lead_random"), bait.get("lead_random_se"), signed=True
            )
            if isinstance(bait.get("best_other"), str):
                row["bait - best other"] = (
                    f"{_pm(bait.lead_best_other, bait.lead_best_other_se, signed=True)} "
                    f"({bait.best_other})"
                )
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def markdown_frame(frame):
    """A data frame as a markdown table (pandas' own needs the tabulate package)."""
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def markdown_matrix(matrix):
    header = ["winner \\ loser"] + [str(c) for c in matrix.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, row in matrix.iterrows():
        lines.append("| " + " | ".join([str(label)] + [f"{v:.2f}" for v in row]) + " |")
    return "\n".join(lines)


def draw_curves(results, path, title):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from skbait.plotting import plot_learning_curves

    figure = Figure(figsize=(5.0, 3.4), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_learning_curves(results, ax=ax, ylabel="test score")
    ax.set_title(title, fontsize=9)
    figure.savefig(path, dpi=80)


def draw_penalty(matrix, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from skbait.plotting import plot_penalty_matrix

    n = len(matrix)
    figure = Figure(figsize=(1.0 * n + 2.8, 0.9 * n + 2.0), layout="constrained")
    FigureCanvasAgg(figure)
    plot_penalty_matrix(
        matrix, ax=figure.add_subplot(), vmax=max(1.0, float(matrix.to_numpy().max()))
    )
    figure.savefig(path, dpi=80)


def _all_results(args, names):
    """``(label, results)`` of every experiment: read from ``--out/runs`` or run and saved.

    With ``--report-only``, every table already in ``--out/runs``, whichever
    command wrote it, and nothing is run.
    """
    runs = os.path.join(args.out, "runs")
    if args.report_only:
        for file in sorted(os.listdir(runs)):
            if file.endswith(".csv"):
                yield file[: -len(".csv")], load_results(os.path.join(runs, file))
        return
    for label, name, _, estimator, (n0, B, budget) in experiments(
        args.datasets, args.models, args.protocols, args.mlp
    ):
        path = os.path.join(runs, f"{label}.csv")
        if os.path.exists(path):
            yield label, load_results(path)
            continue
        data = load_benchmark(name, data_home=args.data_home)
        strategies = make_strategies(names)
        if data.task == "regression":
            strategies = {
                label: strategy
                for label, strategy in strategies.items()
                if not get_strategy_tags(make_strategy(strategy)).classifier_only
            }
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            results = compare_strategies(
                estimator,
                data.X_pool,
                data.y_pool,
                data.X_test,
                data.y_test,
                strategies=strategies,
                seeds=args.seeds or default_seeds(data),
                n_initial=n0,
                batch_size=B,
                budget=budget,
                n_jobs=args.n_jobs,
                verbose=0,
            )
        save_results(results, path)
        print(f"{label}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        yield label, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench_realdata_out", help="output folder")
    parser.add_argument(
        "--datasets", nargs="+", default=sorted(BENCHMARK_DATASETS), help="dataset names"
    )
    parser.add_argument("--models", nargs="+", default=None, help="model labels (default all)")
    parser.add_argument(
        "--strategies",
        nargs="+",
        default=list(DEFAULT_STRATEGIES),
        help="strategy names or 'all' (every registered one and the extra BAIT settings: "
        f"{', '.join(EXTRA_STRATEGIES)})",
    )
    parser.add_argument("--protocols", nargs="+", default=["low", "paper"], choices=PROTOCOLS)
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help=f"seeds per experiment (default {CHEAP_SEEDS}, or {COSTLY_SEEDS} for sets of "
        f"more than {MANY_CLASSES} classes, whose runs cost minutes)",
    )
    parser.add_argument("--mlp", action="store_true", help="add the skorch MLP (slow)")
    parser.add_argument("--data-home", default=None, help="cache of fetched datasets (TREC)")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="summarise every experiment already saved in --out/runs; run nothing",
    )
    args = parser.parse_args(argv)

    names = args.strategies
    if names == ["all"]:
        names = available_strategies() + list(EXTRA_STRATEGIES)
    unknown = [n for n in names if n not in available_strategies() and n not in EXTRA_STRATEGIES]
    if unknown:
        parser.error(f"unknown strategies {unknown}")
    bad = [n for n in args.datasets if n not in BENCHMARK_DATASETS]
    if bad:
        parser.error(f"unknown datasets {bad}; choose from {sorted(BENCHMARK_DATASETS)}")
    os.makedirs(os.path.join(args.out, "runs"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "curves"), exist_ok=True)

    all_results, rows = {}, []
    for label, results in _all_results(args, names):
        all_results[label] = results
        rows += summary_rows(label, results)
        draw_curves(results, os.path.join(args.out, "curves", f"{label}.png"), label)

    table = pd.DataFrame(rows)
    table.to_csv(os.path.join(args.out, "table.csv"), index=False)
    # The same numbers, one row per experiment (the user guide includes this file).
    shown_strategies = [s for s in names if s in set(table["strategy"])]
    compact = compact_table(table, shown_strategies)
    compact.to_csv(os.path.join(args.out, "compact.csv"), index=False)
    matrix = penalty_matrix(all_results)
    draw_penalty(matrix, os.path.join(args.out, "penalty_matrix.png"))
    shown = matrix.round(2)
    shown.loc["column mean"] = matrix.mean(axis=0).round(2)
    seeds_text = (
        f"{args.seeds} seeds"
        if args.seeds
        else "seeds per experiment in table.csv's n_seeds "
        f"({CHEAP_SEEDS}, or {COSTLY_SEEDS} for sets of more than {MANY_CLASSES} classes)"
    )
    lines = [
        "# Real-data benchmark",
        "",
        f"{seeds_text}; AUC = area under the learning curve over its width (mean test "
        "score, x100), mean ± standard error over seeds; leads are paired over seeds; "
        "'best other' is the best strategy of another family. "
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs.",
        "",
        markdown_table(table),
        "",
        "## One row per experiment",
        "",
        markdown_frame(compact),
        "",
        "## Pairwise penalty matrix, summed over every experiment",
        "",
        "Entry (row i, column j): how often i beat j (paired t test, p < 0.05) at the "
        "checkpoints of Ash et al. (2021), section 6.2; last row: column means, lower is "
        "better.",
        "",
        markdown_matrix(shown),
        "",
    ]
    with open(os.path.join(args.out, "summary.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
