"""Compare query strategies over seeds: learning curves, summaries, penalty matrix.

The unit of work is one *run*: an :class:`~skbait.ActiveLearner` with one
strategy and one seed, simulated on a pool and scored on a test set after every
round. :func:`compare_strategies` runs every (strategy, seed) pair, in parallel
with joblib, and returns a tidy table with one row per run and round:

============================  ==============================================
column                        meaning
============================  ==============================================
``strategy``                  the strategy's label
``seed``                      the run's ``random_state``
``round``                     0 for the model trained on the initial draw
``n_labeled``                 labeled rows the round's model was trained on
``score``                     the model's score on the test set
``selection_seconds``         time the strategy took to choose the next
                              batch (NaN in the last round)
``fit_seconds``               time spent fitting the round's model
``train_score``               the model's score on its labeled rows
============================  ==============================================

At a given seed every strategy starts from the same initial draw (it depends
only on the seed), so scores are paired across strategies, as the paper's t
tests need. :func:`learning_curves`, :func:`learning_curve_auc`,
:func:`summarize` and :func:`penalty_matrix` read this table;
:func:`save_results` and :func:`load_results` keep it in a CSV file; the
figures are in :mod:`skbait.plotting`.
"""

import time
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

from skbait._penalty import penalty_checkpoints, penalty_matrix, t_threshold
from skbait.utils._threads import limited_threads, worker_threads

__all__ = [
    "COLUMNS",
    "DEFAULT_STRATEGIES",
    "compare_strategies",
    "exponential_budgets",
    "learning_curve_auc",
    "learning_curves",
    "load_results",
    "penalty_checkpoints",
    "penalty_matrix",
    "run_experiment",
    "save_results",
    "score_table",
    "summarize",
    "t_threshold",
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

#: The strategies of the paper's comparisons.
DEFAULT_STRATEGIES = ("bait", "badge", "coreset", "confidence", "random")

_DTYPES = {
    "strategy": str,
    "seed": np.int64,
    "round": np.int64,
    "n_labeled": np.int64,
    "score": np.float64,
    "selection_seconds": np.float64,
    "fit_seconds": np.float64,
    "train_score": np.float64,
}


def _seed_estimator(estimator, seed):
    """Give every ``random_state`` left to None in ``estimator`` the run's seed."""
    params = estimator.get_params(deep=True)
    unset = {
        key: seed
        for key, value in params.items()
        if (key == "random_state" or key.endswith("__random_state")) and value is None
    }
    if unset:
        estimator.set_params(**unset)
    return estimator


def _strategy_label(strategy):
    if isinstance(strategy, str):
        return strategy
    return type(strategy).__name__


def _check_strategies(strategies):
    """A list of (label, strategy) with distinct labels."""
    if isinstance(strategies, (str, bytes)) or not hasattr(strategies, "__iter__"):
        strategies = [strategies]
    if isinstance(strategies, dict):
        pairs = [(str(label), strategy) for label, strategy in strategies.items()]
    else:
        pairs = [(_strategy_label(s), s) for s in strategies]
    if not pairs:
        raise ValueError("strategies is empty: give at least one strategy.")
    labels = [label for label, _ in pairs]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ValueError(
            f"Two strategies share the label(s) {duplicates}. Pass a dict "
            "{label: strategy} to tell them apart."
        )
    return pairs


def _check_seeds(seeds):
    if isinstance(seeds, Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive number of seeds, got {seeds}.")
        return list(range(int(seeds)))
    try:
        seeds = list(seeds)
    except TypeError:
        raise TypeError(
            f"seeds must be a number of seeds or a list of integer seeds, got {seeds!r}."
        ) from None
    if not seeds or not all(isinstance(s, Integral) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of integers, got {seeds!r}.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds holds duplicates: {seeds!r}.")
    return [int(s) for s in seeds]


def run_experiment(
    estimator,
    strategy,
    X_pool,
    y_pool,
    X_test,
    y_test,
    *,
    seed=0,
    n_initial=10,
    batch_size=10,
    budget=100,
    learner_params=None,
    label=None,
):
    """Simulate one active-learning run and return its learning curve.

    Fits ``ActiveLearner(clone(estimator), query_strategy=strategy,
    random_state=seed, ...)`` on the pool, with the labels ``y_pool`` as the
    oracle, scoring each round's model on ``(X_test, y_test)``. Every
    ``random_state`` parameter of the estimator left to ``None`` is set to
    ``seed``, so that the run is reproducible.

    Parameters
    ----------
    estimator : estimator instance
        An unfitted scikit-learn classifier or regressor; it is cloned.
    strategy : str or QueryStrategy
        A strategy name (see :func:`skbait.strategies.available_strategies`)
        or instance.
    X_pool, y_pool : array-like
        The pool and its labels, revealed only for queried rows.
    X_test, y_test : array-like
        The held-out set each round's model is scored on (with the
        estimator's ``score``: accuracy for classifiers, R^2 for regressors).
    seed : int, default=0
        The learner's ``random_state``: it fixes the initial draw.
    n_initial, batch_size, budget : int
        Passed to :class:`~skbait.ActiveLearner`.
    learner_params : dict, default=None
        Further :class:`~skbait.ActiveLearner` parameters (``embedding``,
        ``warm_start``).
    label : str, default=None
        The ``strategy`` column's value; the name, or the class name of an
        instance, by default.

    Returns
    -------
    pandas.DataFrame
        One row per round, with the columns :data:`COLUMNS`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.evaluation import run_experiment
    >>> X, y = load_iris(return_X_y=True)
    >>> run = run_experiment(LogisticRegression(max_iter=500), "margin",
    ...                      X[::2], y[::2], X[1::2], y[1::2],
    ...                      seed=0, n_initial=6, batch_size=5, budget=16)
    >>> run[["strategy", "seed", "round", "n_labeled"]]
      strategy  seed  round  n_labeled
    0   margin     0      0          6
    1   margin     0      1         11
    2   margin     0      2         16
    """
    from skbait._active_learner import ActiveLearner

    learner = ActiveLearner(
        _seed_estimator(clone(estimator), seed),
        query_strategy=strategy if isinstance(strategy, str) else clone(strategy),
        n_initial=n_initial,
        batch_size=batch_size,
        budget=budget,
        random_state=seed,
        **(learner_params or {}),
    )
    learner.fit(X_pool, y_pool, eval_set=(X_test, y_test))
    history = pd.DataFrame(learner.history_)
    table = pd.DataFrame(
        {
            "strategy": label if label is not None else _strategy_label(strategy),
            "seed": seed,
            "round": history["round"].to_numpy(),
            "n_labeled": history["n_labeled"].to_numpy(),
            "score": history["eval_score"].to_numpy(dtype=float),
            "selection_seconds": history["query_seconds"].to_numpy(dtype=float),
            "fit_seconds": history["fit_seconds"].to_numpy(dtype=float),
            "train_score": history["train_score"].to_numpy(dtype=float),
        }
    )
    return table.astype({k: v for k, v in _DTYPES.items() if k != "strategy"})


def _timed_run(args, kwargs, n_threads=None):
    start = time.perf_counter()
    # A worker's share of the CPUs: n_jobs workers never oversubscribe them.
    with limited_threads(n_threads, blas=True):
        table = run_experiment(*args, **kwargs)
    return table, time.perf_counter() - start


def compare_strategies(
    estimator,
    X_pool,
    y_pool,
    X_test,
    y_test,
    *,
    strategies=DEFAULT_STRATEGIES,
    seeds=5,
    n_initial=10,
    batch_size=10,
    budget=100,
    learner_params=None,
    n_jobs=None,
    verbose=1,
):
    """Run every strategy with every seed and collect the learning curves.

    Each (strategy, seed) pair is an independent :func:`run_experiment`; the
    runs are spread over ``n_jobs`` joblib workers. Seeds are shared by the
    strategies, so at a given seed they all start from the same initial draw
    and the same model initialisation: the scores are paired. The result does
    not depend on ``n_jobs`` or on the order in which runs finish.

    Parameters
    ----------
    estimator : estimator instance
        An unfitted classifier or regressor; cloned for every run.
    X_pool, y_pool : array-like
        The pool and its labels, the simulated oracle.
    X_test, y_test : array-like
        The held-out set every round's model is scored on.
    strategies : list or dict, default=DEFAULT_STRATEGIES
        Strategy names or :class:`~skbait.QueryStrategy` instances, or a dict
        ``{label: strategy}``. Labels name the strategies in the table (a
        name, or an instance's class name).
    seeds : int or list of int, default=5
        A number of seeds (``0 .. seeds - 1``) or the seeds themselves.
    n_initial : int, default=10
        Rows labeled at random before the first query.
    batch_size : int, default=10
        Rows queried per round.
    budget : int, default=100
        Total labels of a run (the last batch is cut to reach it exactly).
    learner_params : dict, default=None
        Further :class:`~skbait.ActiveLearner` parameters.
    n_jobs : int, default=None
        Runs in parallel (joblib's convention: None is 1, -1 all cores). Each
        worker process limits its BLAS and torch threads to its share of the
        cores, which avoids oversubscription: on a busy machine ``n_jobs=-1``
        is often several times faster than one process with many threads.
    verbose : int, default=1
        1 shows a tqdm progress bar over finished runs on stderr; 0 is silent.

    Returns
    -------
    pandas.DataFrame
        The tidy results table (columns :data:`COLUMNS`), sorted by strategy
        (in the given order), seed and round.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.evaluation import compare_strategies, summarize
    >>> X, y = load_iris(return_X_y=True)
    >>> results = compare_strategies(
    ...     LogisticRegression(max_iter=500), X[::2], y[::2], X[1::2], y[1::2],
    ...     strategies=["margin", "random"], seeds=2,
    ...     n_initial=6, batch_size=5, budget=16, verbose=0)
    >>> results.shape
    (12, 8)
    >>> summarize(results).index.tolist()
    ['margin', 'random']
    """
    pairs = _check_strategies(strategies)
    seeds = _check_seeds(seeds)
    if not isinstance(verbose, Integral):
        raise TypeError(f"verbose must be an integer, got {verbose!r}.")
    # Seed-major order keeps the progress bar's rate steady when strategies differ in cost.
    tasks = [(label, strategy, seed) for seed in seeds for label, strategy in pairs]
    jobs = (
        delayed(_timed_run)(
            (estimator, strategy, X_pool, y_pool, X_test, y_test),
            dict(
                seed=seed,
                n_initial=n_initial,
                batch_size=batch_size,
                budget=budget,
                learner_params=learner_params,
                label=label,
            ),
            worker_threads(n_jobs),
        )
        for label, strategy, seed in tasks
    )
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    tables = []
    progress = None
    if verbose:
        from tqdm.auto import tqdm

        progress = tqdm(total=len(tasks), desc="skbait runs", unit="run")
    try:
        for table, _ in parallel(jobs):
            tables.append(table)
            if progress is not None:
                progress.update(1)
                progress.set_postfix_str(f"last: {table['strategy'].iloc[0]}", refresh=False)
    finally:
        if progress is not None:
            progress.close()
    return _sort(pd.concat(tables, ignore_index=True), [label for label, _ in pairs])


def _sort(results, order):
    rank = {label: i for i, label in enumerate(order)}
    key = results["strategy"].map(rank)
    results = results.assign(_rank=key).sort_values(["_rank", "seed", "round"], kind="stable")
    return results.drop(columns="_rank").reset_index(drop=True)


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
    return results


def save_results(results, path):
    """Write a results table to a CSV file.

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
    results.to_csv(path, index=False, float_format="%.10g")


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
        Keep only these values of ``n_labeled``.

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy``, ``n_labeled``, ``mean``, ``sem`` (standard
        deviation over seeds, ``ddof=1``, over the square root of their number;
        NaN for one seed) and ``n_seeds``; strategies in order of appearance.

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
        results = results[results["n_labeled"].isin(list(budgets))]
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
    AUC of 0.8 whatever its budget.

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
    grouped = per_run.groupby("strategy", sort=False)["auc"]
    out = grouped.agg(auc_mean="mean", auc_std=lambda s: s.std(ddof=1), n_seeds="count")
    out["auc_sem"] = out["auc_std"] / np.sqrt(out["n_seeds"])
    return out[["auc_mean", "auc_sem", "n_seeds"]]


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
    n_initial, batch_size, budget : int

    Returns
    -------
    list of int

    Examples
    --------
    >>> from skbait.evaluation import exponential_budgets
    >>> exponential_budgets(10, 10, 300)
    [20, 30, 50, 90, 170, 300]
    """
    out = []
    k = 0
    while n_initial + 2**k * batch_size < budget:
        out.append(int(n_initial + 2**k * batch_size))
        k += 1
    out.append(int(budget))
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
    if budgets is None:
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
