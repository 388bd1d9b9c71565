"""Simulated runs: one strategy and one seed, or every strategy with every seed."""

import os
import time
import warnings
from contextlib import contextmanager
from numbers import Integral

import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.utils.validation import _num_samples

from skbait.evaluation._tables import _DTYPES, MULTILABEL_COLUMNS, _plain
from skbait.utils._threads import check_n_threads, limited_threads, worker_threads
from skbait.utils._warnings import caller_stacklevel

__all__ = ["DEFAULT_STRATEGIES", "compare_strategies", "run_experiment"]

#: The strategies of the paper's comparisons.
DEFAULT_STRATEGIES = ("bait", "badge", "coreset", "confidence", "random")


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


def _check_count(name, value, low=1):
    """An integer of at least ``low`` (bools are not counts)."""
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {_plain(value)!r}.")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}.")
    return int(value)


# The ActiveLearner parameters that run_experiment sets itself.
_SET_BY_RUN = (
    "estimator",
    "query_strategy",
    "n_initial",
    "batch_size",
    "budget",
    "random_state",
    "n_threads",
)


def _check_learner_params(learner_params):
    if learner_params is None:
        return {}
    if not isinstance(learner_params, dict):
        raise TypeError(
            f"learner_params must be a dict of ActiveLearner parameters or None, got "
            f"{type(learner_params).__name__}."
        )
    clash = sorted(set(learner_params) & set(_SET_BY_RUN))
    if clash:
        raise ValueError(
            f"learner_params sets {clash}, which are arguments of their own here: pass them "
            "directly (the estimator and strategy positionally, random_state as seed)."
        )
    return learner_params


def _check_seeds(seeds):
    if isinstance(seeds, Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive number of seeds, got {seeds}.")
        return list(range(int(seeds)))
    try:
        seeds = list(seeds)
    except TypeError:
        raise TypeError(
            f"seeds must be a number of seeds or a list of integer seeds, got {_plain(seeds)!r}."
        ) from None
    if not seeds or not all(isinstance(s, Integral) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of integers, got {_plain(seeds)!r}.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds holds duplicates: {_plain(seeds)!r}.")
    if not all(0 <= s <= _MAX_SEED for s in seeds):
        raise ValueError(f"seeds must be in 0..{_MAX_SEED}, got {_plain(seeds)!r}.")
    return [int(s) for s in seeds]


# The largest seed numpy's RandomState takes, as the learner's random_state.
_MAX_SEED = 2**32 - 1


def _check_seed(seed):
    """One run's seed: the learner's random_state, and the ``seed`` column of its table."""
    if not isinstance(seed, Integral) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, got {_plain(seed)!r}.")
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"seed must be in 0..{_MAX_SEED}, got {_plain(seed)!r}.")
    return int(seed)


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
    n_threads="auto",
    scoring=None,
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
        estimator's ``score``: accuracy for classifiers, R^2 for regressors;
        micro-F1 for a multi-label target, whose table also has the columns
        :data:`MULTILABEL_COLUMNS`).
    seed : int, default=0
        The learner's ``random_state``: it fixes the initial draw.
    n_initial : int, default=10
        Rows drawn at random to start; passed to :class:`~skbait.ActiveLearner`.
    batch_size : int, default=10
        Rows queried per round; passed to :class:`~skbait.ActiveLearner`.
    budget : int, default=100
        Total labels, the initial draw included; passed to
        :class:`~skbait.ActiveLearner`.
    learner_params : dict, default=None
        Further :class:`~skbait.ActiveLearner` parameters (``embedding``,
        ``warm_start``), nested ones included (``query_strategy__reg``,
        ``estimator__C``), as :meth:`~skbait.ActiveLearner.set_params` takes them.
    label : str, default=None
        The ``strategy`` column's value; the name, or the class name of an
        instance, by default.
    n_threads : "auto", int or None, default="auto"
        Threads each round may use, in every pool (BLAS, OpenMP, torch):
        ``"auto"`` drops to one while the machine is oversubscribed, an
        integer fixes the count, ``None`` leaves the settings alone (see
        :class:`~skbait.ActiveLearner`).
    scoring : str, callable or None, default=None
        How the ``score`` and ``train_score`` columns score each round's
        model: a scikit-learn scorer name (``"neg_root_mean_squared_error"``
        for a regressor's error in the target's units) or a callable
        ``scorer(estimator, X, y)``; ``None`` is the estimator's ``score`` (or
        micro-F1). It is the learner's ``scoring`` (see
        :class:`~skbait.ActiveLearner`).

    Returns
    -------
    pandas.DataFrame
        One row per round, with the columns :data:`COLUMNS` (and
        :data:`MULTILABEL_COLUMNS` for a multi-label target).

    Raises
    ------
    ValueError
        When :class:`~skbait.ActiveLearner` refuses the settings (an unknown
        strategy name, ``budget`` above the pool's rows or below ``n_initial``).
    TypeError
        When ``label`` is not a string, or an integer setting is ``True`` or
        ``False``.

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

    learner_params = _check_learner_params(learner_params)
    seed = _check_seed(seed)
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a string or None, got {label!r}.")
    learner = ActiveLearner(
        _seed_estimator(clone(estimator), seed),
        query_strategy=strategy if isinstance(strategy, str) else clone(strategy),
        n_initial=n_initial,
        batch_size=batch_size,
        budget=budget,
        random_state=seed,
        n_threads=n_threads,
        scoring=scoring,
    )
    # set_params, not the constructor: nested parameters (estimator__C,
    # query_strategy__reg) are learner parameters too.
    learner.set_params(**learner_params)
    fit_scoring_test_set(learner, X_pool, y_pool, X_test, y_test)
    history = pd.DataFrame(learner.history_)
    multilabel = "eval_f1_micro" in history.columns
    # Multi-label: micro-F1 (the models' own score is the harsh subset accuracy), unless
    # a scoring was asked for.
    score = "eval_f1_micro" if multilabel and scoring is None else "eval_score"
    table = pd.DataFrame(
        {
            "strategy": label if label is not None else _strategy_label(strategy),
            "seed": seed,
            "round": history["round"].to_numpy(),
            "n_labeled": history["n_labeled"].to_numpy(),
            "score": history[score].to_numpy(dtype=float),
            "selection_seconds": history["query_seconds"].to_numpy(dtype=float),
            "fit_seconds": history["fit_seconds"].to_numpy(dtype=float),
            "train_score": history["train_score"].to_numpy(dtype=float),
        }
    )
    if multilabel:
        for name in MULTILABEL_COLUMNS:
            table[name] = history[f"eval_{name}"].to_numpy(dtype=float)
    return table.astype({k: v for k, v in _DTYPES.items() if k in table and k != "strategy"})


def fit_scoring_test_set(learner, X, y, X_test, y_test):
    """``learner.fit(X, y)`` scoring the test rows every round, as its eval_set.

    The learner's errors about its eval_set are said in the caller's words:
    ``X_test`` and ``y_test``.
    """
    from skbait._active_learner import eval_set_refusal

    if _num_samples(X_test) != _num_samples(y_test):
        raise ValueError(
            f"X_test holds {_num_samples(X_test)} rows but y_test "
            f"{_num_samples(y_test)} labels; give one label per test row."
        )
    try:
        learner.fit(X, y, eval_set=(X_test, y_test))
    except (ValueError, TypeError) as exc:
        refusal = eval_set_refusal(exc)
        if refusal is None:
            raise
        raise type(exc)(
            f"The model could not score the test set (X_test, y_test): {refusal}\nX_test "
            "takes rows with the columns of the pool, in its form, and y_test their labels, "
            "of the kind of the pool's."
        ) from refusal
    return learner


def _registries():
    """What a worker process needs of this process's registries, to ship with each task.

    A joblib worker imports skbait afresh: the strategies and embedding rules that the
    user registered here are missing there. Strategy names are resolved to instances
    before the tasks leave (see compare_strategies); the embedding rules travel with
    the task, so that a run's scores do not depend on the process it ran in.
    """
    from skbait import embeddings

    return os.getpid(), list(embeddings._RULES)


@contextmanager
def _installed(registries):
    """The parent's embedding rules, for the duration of a task in a worker process."""
    parent, rules = registries
    if parent == os.getpid():  # n_jobs=1 or the threading backend: nothing to install
        yield
        return
    from skbait import embeddings

    saved = embeddings._RULES[:]
    embeddings._RULES[:] = rules
    try:
        yield
    finally:
        embeddings._RULES[:] = saved


# The attribute of a worker's error that carries the warnings its run gave before it.
_WARNINGS_ATTRIBUTE = "_skbait_warnings"


@contextmanager
def _recorded(registries):
    """A task's warnings in a worker process, which the parent issues again.

    In the parent's own process (n_jobs=1 or the threading backend),
    compare_strategies records them all at once: catch_warnings is not thread-safe.
    """
    if registries[0] == os.getpid():
        yield []
        return
    with warnings.catch_warnings(record=True) as caught:
        yield caught


def _reissue(found):
    """Issue each warning of the runs once, from this process, at the user's line."""
    seen = set()
    for category, message in found:
        if (category, message) not in seen:
            seen.add((category, message))
            warnings.warn(message, category, stacklevel=caller_stacklevel())


def _timed_run(registries, args, kwargs, share=None):
    start = time.perf_counter()
    # A worker's share of the CPUs, in every pool: n_jobs workers never oversubscribe them.
    with (
        _installed(registries),
        _recorded(registries) as caught,
        limited_threads(share, blas=True, openmp=True),
    ):
        try:
            table = run_experiment(*args, **kwargs)
        except Exception as exc:
            # A worker's warnings often explain its failure: they travel with the error.
            setattr(exc, _WARNINGS_ATTRIBUTE, [(w.category, str(w.message)) for w in caught])
            raise
    found = [(w.category, str(w.message)) for w in caught]
    return table, time.perf_counter() - start, found


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
    n_threads="auto",
    verbose=1,
    scoring=None,
):
    """Run every strategy with every seed and collect the learning curves.

    Each (strategy, seed) pair is an independent :func:`run_experiment`; the
    runs are spread over ``n_jobs`` joblib workers. Seeds are shared by the
    strategies, so at a given seed they all start from the same initial draw
    and the same model initialisation: the scores are paired. The result does
    not depend on ``n_jobs`` or on the order in which runs finish. Warnings
    raised in the runs, in worker processes too, are issued again from this
    process once each after the runs, naming the caller's line.

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
        name, or an instance's class name). With the default and a
        regressor, the strategies tagged ``classifier_only`` (see
        :func:`~skbait.get_strategy_tags`) are left out.
    seeds : int or list of int, default=5
        A number of seeds (``0 .. seeds - 1``) or the seeds themselves.
    n_initial : int, default=10
        Rows labeled at random before the first query.
    batch_size : int, default=10
        Rows queried per round.
    budget : int, default=100
        Total labels of a run (the last batch is cut to reach it exactly).
    learner_params : dict, default=None
        Further :class:`~skbait.ActiveLearner` parameters, nested ones
        included (``query_strategy__reg``, ``estimator__C``).
    n_jobs : int, default=None
        Runs in parallel (joblib's convention: None is 1, -1 all cores). Each
        worker limits every thread pool (BLAS, OpenMP and torch) to its share
        of the cores, ``cpus // n_jobs``, which avoids oversubscription: on a
        busy machine ``n_jobs=-1`` is often several times faster than one
        process with many threads.
    n_threads : "auto", int or None, default="auto"
        Threads each round of a run may use, within the worker's share:
        ``"auto"`` measures the machine and runs a round on one thread while
        it is oversubscribed, an integer fixes the count, ``None`` keeps the
        share (see :class:`~skbait.ActiveLearner`).
    verbose : int, default=1
        1 shows a tqdm progress bar over finished runs on stderr; 0 is silent.
    scoring : str, callable or None, default=None
        How every round's model is scored (the ``score`` and ``train_score``
        columns), as in :func:`run_experiment`: ``"neg_root_mean_squared_error"``
        compares regressors by their error in the target's units (higher is
        better, as for every scikit-learn scorer). ``None`` is the estimator's
        ``score``: R^2 for a regressor.

    Returns
    -------
    pandas.DataFrame
        The tidy results table (columns :data:`COLUMNS`), sorted by strategy
        (in the given order), seed and round.

    Raises
    ------
    ValueError
        When :class:`~skbait.ActiveLearner` refuses the settings (an unknown
        strategy name, ``budget`` above the pool's rows or below ``n_initial``).
    TypeError
        When ``verbose`` is not an integer, or an integer setting is ``True``
        or ``False``.

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
    from sklearn.base import is_classifier

    from skbait.strategies import make_strategy, multilabel_strategy_name
    from skbait.strategies._registry import serves_regression
    from skbait.utils._multilabel import is_multilabel_target

    if strategies is DEFAULT_STRATEGIES and not is_classifier(estimator):
        strategies = [name for name in strategies if serves_regression(name)]
    pairs = _check_strategies(strategies)
    # Names become instances here: a strategy registered in this process is unknown to
    # the workers' registries.
    if is_multilabel_target(y_pool) and is_classifier(estimator):
        # A name stands for its multi-label form ("bait": multi-label BAIT).
        pairs = [
            (label, multilabel_strategy_name(s) if isinstance(s, str) else s) for label, s in pairs
        ]
    pairs = [(label, make_strategy(strategy)) for label, strategy in pairs]
    seeds = _check_seeds(seeds)
    n_initial = _check_count("n_initial", n_initial)
    batch_size = _check_count("batch_size", batch_size)
    budget = _check_count("budget", budget)
    _check_learner_params(learner_params)
    check_n_threads(n_threads)
    if not isinstance(verbose, Integral):
        raise TypeError(f"verbose must be an integer, got {verbose!r}.")
    registries = _registries()
    # Seed-major order keeps the progress bar's rate steady when strategies differ in cost.
    tasks = [(label, strategy, seed) for seed in seeds for label, strategy in pairs]
    jobs = (
        delayed(_timed_run)(
            registries,
            (estimator, strategy, X_pool, y_pool, X_test, y_test),
            dict(
                seed=seed,
                n_initial=n_initial,
                batch_size=batch_size,
                budget=budget,
                learner_params=learner_params,
                label=label,
                n_threads=n_threads,
                scoring=scoring,
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
    shipped = []
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            try:
                for table, _, found in parallel(jobs):
                    tables.append(table)
                    shipped += found
                    if progress is not None:
                        # The postfix first: update draws the bar, with the postfix it has.
                        progress.set_postfix_str(
                            f"last: {table['strategy'].iloc[0]}", refresh=False
                        )
                        progress.update(1)
            except Exception as exc:
                shipped += getattr(exc, _WARNINGS_ATTRIBUTE, [])
                raise
    finally:
        if progress is not None:
            progress.close()
        # Once each, after the progress bar: a worker's went to its own stderr, and every
        # run's named a line of joblib's that called it. A failed run's too, before its
        # error: they may say why it failed.
        _reissue([(w.category, str(w.message)) for w in caught] + shipped)
    return _sort(pd.concat(tables, ignore_index=True), [label for label, _ in pairs])


def _sort(results, order):
    rank = {label: i for i, label in enumerate(order)}
    key = results["strategy"].map(rank)
    results = results.assign(_rank=key).sort_values(["_rank", "seed", "round"], kind="stable")
    return results.drop(columns="_rank").reset_index(drop=True)
