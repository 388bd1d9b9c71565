"""Checks that a query strategy honours the :class:`~skbait.QueryStrategy` contract.

Third parties writing their own strategy can run :func:`check_query_strategy`
in their test suite, as scikit-learn users run ``check_estimator``. Which
checks run follows the strategy's :class:`~skbait.StrategyTags`.
"""

import pickle
import warnings

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression, Ridge

from skbait.base import get_strategy_tags

__all__ = ["check_query_strategy"]

_TASKS = ("classification", "regression")


def _problem(task, random_state):
    rng = np.random.RandomState(random_state)
    X = rng.normal(size=(60, 4))
    if task == "classification":
        y = np.argmax(X[:, :3] + 0.3 * rng.normal(size=(60, 3)), axis=1)
        labeled = np.flatnonzero(np.r_[np.ones(12, bool), np.zeros(48, bool)])
        model = LogisticRegression().fit(X[labeled], y[labeled])
    else:
        y = X @ rng.normal(size=4) + 0.1 * rng.normal(size=60)
        labeled = np.arange(12)
        model = Ridge().fit(X[labeled], y[labeled])
    return model, X, labeled


class _SpyEmbedding:
    """An ``embedding`` callable that records its calls and returns a fixed embedding."""

    def __init__(self, Z):
        self.Z = Z
        self.n_calls = 0

    def __call__(self, estimator, X):
        self.n_calls += 1
        return self.Z


def _check_tags_hold(strategy, tags, task, model, X, labeled):
    """The tags are true of the strategy on this problem."""
    name = type(strategy).__name__
    spy = _SpyEmbedding(np.tanh(X @ np.random.RandomState(3).normal(size=(X.shape[1], 6))))
    first = clone(strategy).select(model, X, labeled, 5, random_state=7, embedding=spy)
    if tags.needs_embedding:
        assert spy.n_calls > 0, f"{name} is tagged needs_embedding but never read the embedding"
    else:
        assert spy.n_calls == 0, f"{name} read the embedding: tag it needs_embedding"
    if tags.deterministic:
        for seed in (0, 123):
            other = clone(strategy).select(model, X, labeled, 5, random_state=seed, embedding=spy)
            np.testing.assert_array_equal(
                first, other, err_msg=f"{name} is tagged deterministic but depends on random_state"
            )
    if tags.sparse_embedding:
        sparse = _SpyEmbedding(sp.csr_matrix(spy.Z * (np.abs(spy.Z) > 0.5)))
        dense = _SpyEmbedding(sparse.Z.toarray())
        a = clone(strategy).select(model, X, labeled, 5, random_state=7, embedding=sparse)
        b = clone(strategy).select(model, X, labeled, 5, random_state=7, embedding=dense)
        np.testing.assert_array_equal(
            a, b, err_msg=f"{name} chose differently on a sparse embedding and its dense copy"
        )


def _check_single_class(strategy, tags):
    """A classifier that knows one class, as the learner passes it before a second class is
    labeled: the strategy still returns a valid batch, and a ``deterministic`` one ignores
    ``random_state`` there too. A multi-label classifier's strategy reads the one class as a
    label that every row has, a probability of 1 that leaves nothing to rank, and may draw
    at random (as multi-label BAIT does), so it is held to a valid batch only."""
    from skbait._single_class import SingleClassModel

    name = type(strategy).__name__
    _, X, labeled = _problem("classification", 0)
    model = SingleClassModel(LogisticRegression()).fit(X[labeled], np.zeros(labeled.size))
    with warnings.catch_warnings():
        # Strategies warn that a single class leaves them a fallback rule.
        warnings.simplefilter("ignore", UserWarning)
        first = clone(strategy).select(model, X, labeled, 5, random_state=7)
        assert np.unique(first).size == 5 and not np.isin(first, labeled).any(), (
            f"{name} returned an invalid batch for a classifier that knows one class"
        )
        if tags.deterministic and not (tags.multilabel and tags.classifier_only):
            for seed in (0, 123):
                other = clone(strategy).select(model, X, labeled, 5, random_state=seed)
                np.testing.assert_array_equal(
                    first,
                    other,
                    err_msg=f"{name} is tagged deterministic but depends on random_state "
                    "for a classifier that knows one class",
                )


def _check_params_untouched(strategy, params):
    """``select`` left the strategy's parameters as they were: their names and their values."""
    name = type(strategy).__name__
    after = strategy.get_params(deep=False)
    assert after.keys() == params.keys(), f"{name}.select changed the names of its parameters"
    # joblib.hash compares arrays and nested objects by value, as scikit-learn's
    # check_dont_overwrite_parameters does.
    changed = sorted(k for k in params if joblib.hash(after[k]) != joblib.hash(params[k]))
    assert not changed, (
        f"{name}.select changed its parameters {changed}: the strategy is cloned and reused "
        "from round to round, so keep its state in local variables"
    )


def check_query_strategy(strategy, *, tasks=None):
    """Run the contract checks on a strategy; raise ``AssertionError`` on a breach.

    The checks: the strategy sets nothing but its parameters in ``__init__``,
    clones and pickles; it returns ``batch_size``
    distinct indices of unlabeled rows, ``int64``; labeled rows given as indices
    or as a boolean mask give the same result; the same ``random_state`` gives
    the same indices; a batch larger than the unlabeled remainder returns all of
    it; utilities, when asked for, are one float per index; and it leaves its own
    parameters untouched.

    The strategy's tags (:func:`~skbait.get_strategy_tags`) choose the
    problems and add checks that the tags are true: a ``classifier_only``
    strategy is run on classification only and must refuse a regressor with a
    ``TypeError`` or ``ValueError``; a strategy reads a user's ``embedding``
    callable exactly when it is tagged ``needs_embedding``; a
    ``deterministic`` one gives the same indices for any ``random_state``;
    a ``sparse_embedding`` one chooses alike on a sparse embedding and its
    dense copy. On classification, a classifier that knows a single class (the
    stand-in the learner passes until a second class is labeled) must get a
    valid batch too, the same for any ``random_state`` if the strategy is
    ``deterministic``.

    Parameters
    ----------
    strategy : QueryStrategy
        The strategy to check (not modified).
    tasks : str or tuple of {"classification", "regression"}, default=None
        The problems to run (a string names one); ``None`` takes them from the
        tags (classification only for a ``classifier_only`` strategy, else both).

    Raises
    ------
    AssertionError
        When the strategy breaks the contract; the message names the
        check.

    Examples
    --------
    >>> from skbait.strategies import RandomSampling
    >>> from skbait.utils.estimator_checks import check_query_strategy
    >>> check_query_strategy(RandomSampling())
    """
    try:
        _check_query_strategy(strategy, tasks)
    except RuntimeError as exc:
        # select's own contract checks (and clone's) raise RuntimeError: a breach
        # found here is reported as every other check's, with the strategy's name.
        raise AssertionError(
            f"{type(strategy).__name__} breaks the QueryStrategy contract: {exc}"
        ) from exc


def _check_query_strategy(strategy, tasks):
    tags = get_strategy_tags(strategy)
    name = type(strategy).__name__
    if tasks is None:
        tasks = ("classification",) if tags.classifier_only else _TASKS
    elif isinstance(tasks, str):
        tasks = (tasks,)  # a bare string was read letter by letter, each as regression
    tasks = tuple(tasks)
    unknown = [task for task in tasks if task not in _TASKS]
    if unknown or not tasks:
        raise ValueError(
            f"tasks must be a non-empty tuple of {_TASKS}, got {tasks!r}; unknown: {unknown}."
        )
    fresh = clone(strategy)
    params = fresh.get_params(deep=False)
    # As scikit-learn's check_no_attributes_set_in_init: state made in __init__
    # is shared by every clone's rounds, or lost by clone; private names are allowed.
    extra = sorted(a for a in vars(fresh) if a not in params and not a.startswith("_"))
    assert not extra, (
        f"{name}.__init__ sets {extra}, which are not parameters: set only the "
        "parameters in __init__ and compute the rest in _select"
    )
    try:
        pickle.loads(pickle.dumps(strategy))
    except Exception as exc:
        raise AssertionError(
            f"{name} does not pickle ({type(exc).__name__}: {exc}); a strategy must, to run "
            "with n_jobs: define its class at the top level of a module"
        ) from exc
    if tags.classifier_only:
        model, X, labeled = _problem("regression", 0)
        try:
            clone(strategy).select(model, X, labeled, 5, random_state=0)
        except (TypeError, ValueError) as exc:
            assert type(model).__name__ in str(exc) or "classif" in str(exc), (
                f"{name} refused a regressor with an unclear message: {exc}"
            )
        else:
            raise AssertionError(f"{name} is tagged classifier_only but served a regressor")
    for task in tasks:
        model, X, labeled = _problem(task, 0)
        assert is_classifier(model) == (task == "classification")
        mask = np.zeros(len(X), dtype=bool)
        mask[labeled] = True
        s = clone(strategy)
        first = s.select(model, X, labeled, 5, random_state=7)
        assert isinstance(first, np.ndarray) and first.dtype == np.int64, "indices must be int64"
        assert first.shape == (5,), f"expected 5 indices, got shape {first.shape}"
        assert np.unique(first).size == 5, "indices must be distinct"
        assert not mask[first].any(), "indices must be unlabeled rows"
        again = clone(strategy).select(model, X, mask, 5, random_state=7)
        np.testing.assert_array_equal(first, again, err_msg="same random_state, other result")
        idx, util = s.select(model, X, labeled, 3, random_state=1, return_utilities=True)
        assert util.shape == idx.shape and util.dtype == np.float64, "one utility per index"
        nearly_full = np.ones(len(X), dtype=bool)
        nearly_full[[5, 40, 59]] = False
        rest = s.select(model, X, nearly_full, 10, random_state=0)
        assert sorted(rest.tolist()) == [5, 40, 59], "a short pool must be returned whole"
        _check_params_untouched(s, params)
        _check_tags_hold(strategy, tags, task, model, X, labeled)
    if "classification" in tasks:
        _check_single_class(strategy, tags)
