"""Checks that a query strategy honours the :class:`~skbait.QueryStrategy` contract.

Third parties writing their own strategy can run :func:`check_query_strategy`
in their test suite, as scikit-learn users run ``check_estimator``.
"""

import pickle

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression, Ridge

__all__ = ["check_query_strategy"]


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


def check_query_strategy(strategy, *, tasks=("classification", "regression")):
    """Run the contract checks on a strategy; raise ``AssertionError`` on a breach.

    The checks: the strategy clones and pickles; it returns ``batch_size``
    distinct indices of unlabeled rows, ``int64``; labeled rows given as indices
    or as a boolean mask give the same result; the same ``random_state`` gives
    the same indices; a batch larger than the unlabeled remainder returns all of
    it; utilities, when asked for, are one float per index; and it leaves its own
    parameters untouched.

    Parameters
    ----------
    strategy : QueryStrategy
        The strategy to check (not modified).
    tasks : tuple of {"classification", "regression"}
        The problems the strategy claims to support.

    Examples
    --------
    >>> from skbait.strategies import RandomSampling
    >>> from skbait.utils.estimator_checks import check_query_strategy
    >>> check_query_strategy(RandomSampling())
    """
    params = clone(strategy).get_params(deep=False)
    pickle.loads(pickle.dumps(strategy))
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
        assert s.get_params(deep=False).keys() == params.keys(), "select changed parameters"
