"""The tidy results table: CSV files, learning curves, areas, summaries."""

import os
import warnings
from numbers import Integral

import numpy as np
import pandas as pd

from skbait.evaluation._files import staged_files
from skbait.utils._validation import check_flag
from skbait.utils._warnings import caller_stacklevel

__all__ = [
    "COLUMNS",
    "MULTILABEL_COLUMNS",
    "exponential_budgets",
    "learning_curve_auc",
    "learning_curves",
    "load_results",
    "save_results",
    "score_table",
    "summarize",
]

#: The columns of a results table, in order.
COLUMNS = (
    "strategy",
    "seed",
    "round",
    "n_labeled",
    "score",
    "selection_seconds",
    "fit_seconds",
    "train_score",
)

#: The further columns of a multi-label run: micro and macro F1, subset accuracy,
#: Hamming loss and average precision on the test set (``score`` is then the
#: micro-F1; average precision is NaN for a model without ``predict_proba``).
MULTILABEL_COLUMNS = (
    "f1_micro",
    "f1_macro",
    "subset_accuracy",
    "hamming_loss",
    "average_precision",
)

_DTYPES = {
    "strategy": str,
    "seed": np.int64,
    "round": np.int64,
    "n_labeled": np.int64,
    "score": np.float64,
    "selection_seconds": np.float64,
    "fit_seconds": np.float64,
    "train_score": np.float64,
    **dict.fromkeys(MULTILABEL_COLUMNS, np.float64),
}


def _check_results(results, needed=("strategy", "seed", "n_labeled", "score")):
    if not isinstance(results, pd.DataFrame):
        raise TypeError(
            f"Expected a results table (pandas DataFrame), got {type(results).__name__}."
        )
    missing = [c for c in needed if c not in results.columns]
    if missing:
        raise ValueError(f"The results table lacks the column(s) {missing}.")
    if results.empty:
        raise ValueError("The results table is empty.")
    if "strategy" in needed:
        # A row without a label would vanish from every groupby, and its runs with it.
        unlabeled = results["strategy"].isna() | (results["strategy"].astype(str) == "")
        if unlabeled.any():
            raise ValueError(
                f"The results table has {int(unlabeled.sum())} row(s) without a strategy "
                f"label (the first at position {int(np.flatnonzero(unlabeled)[0])}); label "
                "them or drop them."
            )
    return results


def _plain(value):
    """``value`` with numpy scalars as Python numbers, for messages: 2, not np.int64(2)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _check_budgets(budgets):
    """A list of integer labeling budgets."""
    if isinstance(budgets, (str, bytes)) or not hasattr(budgets, "__iter__"):
        raise TypeError(f"budgets must be a list of integers, got {budgets!r}.")
    budgets = list(budgets)
    if not all(isinstance(b, Integral) and not isinstance(b, bool) for b in budgets):
        raise TypeError(f"budgets must be a list of integers, got {_plain(budgets)!r}.")
    return [int(b) for b in budgets]


def save_results(results, path):
    """Write a results table to a CSV file.

    The table is written to a temporary file beside ``path``, then moved over
    it: an interrupted or failed write leaves an earlier file whole. A
    read-only file (``chmod a-w``) is not replaced: ``PermissionError``.

    Parameters
    ----------
    results : pandas.DataFrame
        A table as returned by :func:`compare_strategies`.
    path : str or path-like

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skbait.evaluation import load_results, save_results
    >>> table = pd.DataFrame({"strategy": ["random"], "seed": [0], "round": [0],
    ...                       "n_labeled": [10], "score": [0.5],
    ...                       "selection_seconds": [float("nan")]})
    >>> path = os.path.join(tempfile.mkdtemp(), "results.csv")
    >>> save_results(table, path)
    >>> load_results(path).equals(table)
    True
    """
    _check_results(results)
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    # A partial table never takes the place of the last whole one.
    with staged_files(folder) as stage:
        results.to_csv(stage(name), index=False, float_format="%.10g")


def load_results(path):
    """Read a results table written by :func:`save_results`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    pandas.DataFrame
        With the column types of :func:`compare_strategies` (strategy labels
        as strings, seeds and budgets as integers).

    Examples
    --------
    See :func:`save_results`.
    """
    results = pd.read_csv(path, dtype={"strategy": str})
    if "strategy" in results.columns:
        # Labels as written: pandas would read "NA", "None" or "nan" as missing.
        labels = pd.read_csv(path, usecols=["strategy"], dtype=str, keep_default_na=False)
        results["strategy"] = labels["strategy"].to_numpy()
    _check_results(results)
    types = {k: v for k, v in _DTYPES.items() if k in results.columns and k != "strategy"}
    return results.astype(types)


def learning_curves(results, budgets=None):
    """Mean score and its standard error per strategy and labeling budget.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table.
    budgets : list of int, default=None
        Keep only these values of ``n_labeled``; each must be one of the
        table's.

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy``, ``n_labeled``, ``mean``, ``sem`` (standard
        deviation over seeds, ``ddof=1``, over the square root of their number;
        NaN for one seed) and ``n_seeds``; strategies in order of appearance.

    Raises
    ------
    ValueError
        When ``budgets`` names a budget the results table does not have.

    Examples
    --------
    >>> import pandas as pd
    >>> from skbait.evaluation import learning_curves
    >>> table = pd.DataFrame({"strategy": "random", "seed": [0, 1, 0, 1],
    ...                       "n_labeled": [10, 10, 20, 20],
    ...                       "score": [0.5, 0.7, 0.8, 0.8]})
    >>> learning_curves(table)
      strategy  n_labeled  mean  sem  n_seeds
    0   random         10   0.6  0.1        2
    1   random         20   0.8  0.0        2
    """
    results = _check_results(results)
    if budgets is not None:
        budgets = _check_budgets(budgets)
        grid = sorted(set(results["n_labeled"].tolist()))
        absent = [b for b in budgets if b not in grid]
        if absent:
            # Left out, they would vanish from the table without a word.
            raise ValueError(
                f"budgets {absent} are not labeling budgets of the results table "
                f"(its n_labeled: {grid}); choose among those."
            )
        results = results[results["n_labeled"].isin(budgets)]
    grouped = results.groupby(["strategy", "n_labeled"], sort=False)["score"]
    curves = grouped.agg(mean="mean", std=lambda s: s.std(ddof=1), n_seeds="count")
    curves["sem"] = curves["std"] / np.sqrt(curves["n_seeds"])
    curves = curves.reset_index()[["strategy", "n_labeled", "mean", "sem", "n_seeds"]]
    order = {name: i for i, name in enumerate(pd.unique(results["strategy"]))}
    curves = curves.assign(_rank=curves["strategy"].map(order))
    curves = curves.sort_values(["_rank", "n_labeled"], kind="stable").drop(columns="_rank")
    return curves.reset_index(drop=True)


def learning_curve_auc(results, *, per_seed=False):
    """Area under each learning curve, normalised to a mean score.

    The area of the score against ``n_labeled`` (trapezoidal rule), divided
    by the range of ``n_labeled``: a strategy that always scores 0.8 has an
    AUC of 0.8 whatever its budget. It is the score averaged over the labels,
    not over the rounds: each step weighs by the labels it added, so the
    short last batch of a budget that is not a multiple of the batch size
    weighs less than a full one, and the initial draw (round 0) is where the
    area starts. Each run is normalised by its own range: compare strategies
    run on the same labeling grid. A run of one budget has its score as AUC.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table.
    per_seed : bool, default=False
        Return one value per run instead of the mean and standard error per
        strategy.

    Returns
    -------
    pandas.DataFrame
        Indexed by strategy: columns ``auc_mean``, ``auc_sem``, ``n_seeds``;
        with ``per_seed=True`` columns ``strategy``, ``seed``, ``auc``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skbait.evaluation import learning_curve_auc
    >>> table = pd.DataFrame({"strategy": "random", "seed": 0,
    ...                       "n_labeled": [10, 20, 30], "score": [0.4, 0.6, 0.6]})
    >>> learning_curve_auc(table)  # doctest: +NORMALIZE_WHITESPACE
              auc_mean  auc_sem  n_seeds
    strategy
    random        0.55      NaN        1
    """
    results = _check_results(results)
    per_seed = check_flag("per_seed", per_seed)
    rows = []
    for (strategy, seed), run in results.groupby(["strategy", "seed"], sort=False):
        run = run.sort_values("n_labeled")
        x = run["n_labeled"].to_numpy(dtype=float)
        y = run["score"].to_numpy(dtype=float)
        if x.size < 2 or x[-1] == x[0]:
            auc = float(np.mean(y))
        else:
            auc = float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0 / (x[-1] - x[0]))
        rows.append((strategy, seed, auc))
    per_run = pd.DataFrame(rows, columns=["strategy", "seed", "auc"])
    if per_seed:
        return per_run
    _warn_if_runs_end_apart(results)
    grouped = per_run.groupby("strategy", sort=False)["auc"]
    out = grouped.agg(auc_mean="mean", auc_std=lambda s: s.std(ddof=1), n_seeds="count")
    out["auc_sem"] = out["auc_std"] / np.sqrt(out["n_seeds"])
    return out[["auc_mean", "auc_sem", "n_seeds"]]


def _warn_if_runs_end_apart(results):
    """Say which runs of a strategy end before its others (their AUC and final score differ)."""
    ends = results.groupby(["strategy", "seed"], sort=False)["n_labeled"].max()
    for strategy, seeds in ends.groupby(level=0, sort=False):
        last = seeds.max()
        short = seeds[seeds < last]
        if short.empty:
            continue
        listed = ", ".join(f"seed {seed} at {int(n)}" for (_, seed), n in short.items())
        warnings.warn(
            f"The runs of {strategy!r} end at different budgets ({listed}; the others at "
            f"{int(last)} labels): each AUC covers its own run's range, and the final score "
            "averages only the runs that reached the largest budget. Compare runs on the "
            "same labeling grid.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def summarize(results):
    """One row per strategy: final score, AUC and selection time.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table.

    Returns
    -------
    pandas.DataFrame
        Indexed by strategy (in order of appearance), with columns
        ``n_seeds``; ``final_budget``, ``final_mean``, ``final_sem`` (score at
        the largest ``n_labeled``); ``auc_mean``, ``auc_sem`` (see
        :func:`learning_curve_auc`); ``selection_seconds`` (mean time to pick
        one batch, over rounds and seeds) and ``selection_seconds_total``
        (mean over seeds of a run's total selection time), when the table has
        ``selection_seconds``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skbait.evaluation import summarize
    >>> table = pd.DataFrame({"strategy": "random", "seed": [0, 0, 1, 1],
    ...                       "n_labeled": [10, 20, 10, 20],
    ...                       "score": [0.5, 0.7, 0.5, 0.9],
    ...                       "selection_seconds": [0.01, float("nan")] * 2})
    >>> columns = ["n_seeds", "final_mean", "final_sem", "selection_seconds"]
    >>> summarize(table)[columns]  # doctest: +NORMALIZE_WHITESPACE
              n_seeds  final_mean  final_sem  selection_seconds
    strategy
    random          2         0.8        0.1               0.01
    """
    results = _check_results(results)
    curves = learning_curves(results)
    last = curves.loc[curves.groupby("strategy", sort=False)["n_labeled"].idxmax()]
    out = pd.DataFrame(
        {
            "n_seeds": results.groupby("strategy", sort=False)["seed"].nunique(),
        }
    )
    last = last.set_index("strategy")
    out["final_budget"] = last["n_labeled"]
    out["final_mean"] = last["mean"]
    out["final_sem"] = last["sem"]
    auc = learning_curve_auc(results)
    out["auc_mean"] = auc["auc_mean"]
    out["auc_sem"] = auc["auc_sem"]
    if "selection_seconds" in results.columns:
        grouped = results.groupby("strategy", sort=False)
        out["selection_seconds"] = grouped["selection_seconds"].mean()
        per_run = results.groupby(["strategy", "seed"], sort=False)["selection_seconds"].sum()
        out["selection_seconds_total"] = per_run.groupby(level=0, sort=False).mean()
    out.index.name = "strategy"
    return out


def exponential_budgets(n_initial, batch_size, budget):
    """The budgets ``n_initial + 2**k * batch_size`` up to ``budget``, then ``budget``.

    The paper's checkpoints (section 6.2), also a sensible set of columns for
    a table of scores.

    Parameters
    ----------
    n_initial : int
        Labels before the first query, at least 0.
    batch_size : int
        Labels per round, at least 1.
    budget : int
        The last budget; larger than ``n_initial``.

    Returns
    -------
    list of int
        Increasing budgets, the last one ``budget``.

    Raises
    ------
    TypeError
        When an argument is not an integer.
    ValueError
        When ``batch_size < 1``, ``n_initial < 0`` or ``budget <= n_initial``.

    Examples
    --------
    >>> from skbait.evaluation import exponential_budgets
    >>> exponential_budgets(10, 10, 300)
    [20, 30, 50, 90, 170, 300]
    """
    for name, value in (("n_initial", n_initial), ("batch_size", batch_size), ("budget", budget)):
        if not isinstance(value, Integral) or isinstance(value, bool):
            raise TypeError(f"{name} must be an integer, got {value!r}.")
    if n_initial < 0:
        raise ValueError(f"n_initial must be at least 0, got {n_initial}.")
    if batch_size < 1:
        raise ValueError(
            f"batch_size must be at least 1, got {batch_size}: the budgets grow by "
            "2**k * batch_size."
        )
    if budget <= n_initial:
        raise ValueError(f"budget ({budget}) must exceed n_initial ({n_initial}).")
    n_initial, batch_size, budget = int(n_initial), int(batch_size), int(budget)
    out = []
    step = batch_size
    while n_initial + step < budget:
        out.append(n_initial + step)
        step *= 2
    out.append(budget)
    return out


def score_table(results, budgets=None, *, decimals=3):
    """Mean score ± standard error per strategy (rows) and budget (columns).

    Parameters
    ----------
    results : pandas.DataFrame
        A results table.
    budgets : list of int, default=None
        The ``n_labeled`` columns; by default :func:`exponential_budgets` of
        the table's grid, restricted to budgets every strategy reached.
    decimals : int, default=3

    Returns
    -------
    pandas.DataFrame of str
        Cells like ``"0.912 ± 0.004"`` (just the mean for one seed; empty
        where a strategy has no score at that budget).

    Raises
    ------
    ValueError
        When ``decimals`` is not a non-negative integer.

    Examples
    --------
    >>> import pandas as pd
    >>> from skbait.evaluation import score_table
    >>> table = pd.DataFrame({"strategy": "random", "seed": [0, 1, 0, 1],
    ...                       "round": [0, 0, 1, 1], "n_labeled": [10, 10, 20, 20],
    ...                       "score": [0.5, 0.7, 0.8, 0.8]})
    >>> score_table(table, [10, 20])  # doctest: +NORMALIZE_WHITESPACE
    n_labeled             10             20
    strategy
    random     0.600 ± 0.100  0.800 ± 0.000
    """
    results = _check_results(results)
    if not isinstance(decimals, Integral) or isinstance(decimals, bool) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative integer, got {decimals!r}.")
    if budgets is not None:
        budgets = _check_budgets(budgets)
    else:
        present = set(results["n_labeled"])
        for _, run in results.groupby("strategy"):
            present &= set(run["n_labeled"])
        grid = sorted(present)
        if len(grid) >= 2:
            n_initial, step = grid[0], grid[1] - grid[0]
            budgets = [b for b in exponential_budgets(n_initial, step, grid[-1]) if b in present]
        else:
            budgets = grid
    curves = learning_curves(results, budgets)
    strategies = list(pd.unique(results["strategy"]))
    table = pd.DataFrame(
        "",
        index=pd.Index(strategies, name="strategy"),
        columns=pd.Index(list(budgets), name="n_labeled"),
    )
    for row in curves.itertuples(index=False):
        cell = f"{row.mean:.{decimals}f}"
        if np.isfinite(row.sem):
            cell += f" ± {row.sem:.{decimals}f}"
        table.loc[row.strategy, row.n_labeled] = cell
    return table
