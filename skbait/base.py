"""The contract every query strategy honours, and the tags that say what a strategy needs."""

import dataclasses
import functools
from abc import abstractmethod

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils._param_validation import validate_parameter_constraints

from skbait.utils._seeds import check_seed
from skbait.utils._torch import global_draws_kept
from skbait.utils._validation import as_labeled_mask, check_batch_size, check_flag

__all__ = ["QueryStrategy", "StrategyTags", "get_strategy_tags"]


@dataclasses.dataclass
class StrategyTags:
    """What a query strategy needs from the model and the pool.

    A strategy declares its tags in ``__skbait_tags__``; everyone who must
    know what a strategy can serve (the command line, the contract checks of
    :func:`~skbait.utils.estimator_checks.check_query_strategy`, the tests)
    reads them with :func:`get_strategy_tags` instead of keeping lists of
    names. The defaults describe a strategy that assumes nothing.

    Parameters
    ----------
    classifier_only : bool, default=False
        The strategy needs class probabilities: it refuses a regressor with a
        clear error.
    needs_embedding : bool, default=False
        The strategy reads the model's last-layer embedding (see
        :func:`skbait.embeddings.embed`); a user's ``embedding`` callable
        changes its choice.
    sparse_embedding : bool, default=False
        The strategy takes a sparse embedding (a ``scipy.sparse`` matrix,
        such as a TF-IDF pipeline's) and chooses what it would choose on a
        dense copy, without densifying the pool beyond what its memory rule
        allows (BADGE and CoreSet never do; BAIT and log-det densify only an
        embedding whose exact matrices fit, and reduce a wider one).
    deterministic : bool, default=False
        The selection does not depend on ``random_state`` (but for the
        uniform draw BAIT and log-det fall back to when no unlabeled row's
        probabilities carry information: all 0 or 1).
    multilabel : bool, default=False
        The strategy serves a multi-label classifier (one 0/1 output per
        label, see :doc:`/user_guide/multilabel`); the learner refuses a
        multi-label ``y`` with a strategy that does not.

    Examples
    --------
    >>> from skbait import get_strategy_tags
    >>> from skbait.strategies import BADGE
    >>> tags = get_strategy_tags(BADGE())
    >>> tags.classifier_only, tags.needs_embedding, tags.deterministic
    (True, True, False)
    """

    classifier_only: bool = False
    needs_embedding: bool = False
    sparse_embedding: bool = False
    deterministic: bool = False
    multilabel: bool = False


def get_strategy_tags(strategy):
    """The :class:`StrategyTags` of a query strategy.

    Parameters
    ----------
    strategy : QueryStrategy
        A strategy instance (or any object with a ``select`` method; one
        without ``__skbait_tags__`` gets the default tags).

    Returns
    -------
    tags : StrategyTags
        A fresh object: changing it does not change the strategy.

    Raises
    ------
    TypeError
        When ``strategy`` is a class rather than an instance, or its
        ``__skbait_tags__`` returns no :class:`StrategyTags`.

    Examples
    --------
    >>> from skbait import get_strategy_tags
    >>> from skbait.strategies import BAIT, UncertaintySampling
    >>> tags = get_strategy_tags(BAIT(reg=1.0))
    >>> tags.needs_embedding, tags.deterministic, tags.classifier_only
    (True, True, False)
    >>> get_strategy_tags(UncertaintySampling()).classifier_only
    True
    """
    if isinstance(strategy, type):
        raise TypeError(
            f"get_strategy_tags needs a strategy instance, got the class {strategy.__name__}; "
            f"call it on {strategy.__name__}() instead."
        )
    method = getattr(strategy, "__skbait_tags__", None)
    if method is None:
        return StrategyTags()
    tags = method()
    if not isinstance(tags, StrategyTags):
        raise TypeError(
            f"{type(strategy).__name__}.__skbait_tags__() must return a StrategyTags, "
            f"got {type(tags).__name__}."
        )
    return dataclasses.replace(tags)


def n_rows(X):
    """Number of rows of an array-like, a DataFrame, a sparse matrix or a list."""
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(X)
    except TypeError:
        raise TypeError(
            f"Expected an array-like pool of rows, got {type(X).__name__}. Pass a numpy "
            "array, a pandas DataFrame, a scipy sparse matrix or a list of samples."
        ) from None


@functools.cache
def _param_names(cls):
    return tuple(cls._get_param_names())


class QueryStrategy(BaseEstimator):
    """Base class of the query strategies: pick the next rows to label.

    A strategy is a scikit-learn estimator in the sense of parameters only: it
    can be cloned, printed, grid-searched and nested in an
    :class:`~skbait.ActiveLearner` (``query_strategy__reg``). It learns nothing
    in ``fit``; it has one public method, :meth:`select`.

    **The contract.** Given a fitted estimator, the whole pool ``X`` (labeled
    rows included), which rows are labeled, a batch size and a random
    generator, :meth:`select` returns distinct indices into ``X`` of unlabeled
    rows, as many as ``batch_size`` or, when fewer rows are unlabeled, all of
    them. The same ``random_state`` gives the same indices. Optionally it
    returns the utility it attached to each chosen row (larger is better).

    Subclasses implement :meth:`_select`; :meth:`select` validates the inputs
    before and the result after, so that a strategy cannot break the contract
    silently. A strategy says what it needs in ``__skbait_tags__``
    (a :class:`StrategyTags`): a strategy tagged ``classifier_only`` refuses
    a regressor with a clear error (subclasses may word it in
    :meth:`_validate_estimator`). Third parties can check their own strategies
    with :func:`skbait.utils.estimator_checks.check_query_strategy`, which
    reads the tags.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.base import QueryStrategy
    >>> class FirstRows(QueryStrategy):
    ...     '''Query the unlabeled rows in pool order.'''
    ...     def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
    ...         return np.flatnonzero(~labeled)[:batch_size], None
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> y = np.array([0, 1] * 5)
    >>> model = LogisticRegression().fit(X[:4], y[:4])
    >>> FirstRows().select(model, X, labeled=[0, 1, 2, 3], batch_size=3)
    array([4, 5, 6])
    """

    _parameter_constraints: dict = {}

    def __skbait_tags__(self):
        """The strategy's :class:`StrategyTags`; subclasses change what differs.

        Returns
        -------
        tags : StrategyTags
        """
        return StrategyTags()

    def select(
        self,
        estimator,
        X,
        labeled,
        batch_size,
        *,
        random_state=None,
        embedding=None,
        return_utilities=False,
    ):
        """Return the indices of the rows to label next.

        Parameters
        ----------
        estimator : estimator instance
            The fitted model; strategies read its probabilities and its
            last-layer embedding (see :func:`skbait.embeddings.embed`).
        X : array-like of shape (n_samples, ...)
            The whole pool, labeled rows included, in the form the estimator
            accepts.
        labeled : array-like of int or bool
            Indices of the labeled rows, or a boolean mask over the pool.
        batch_size : int
            How many rows to return. When fewer rows are unlabeled, all of them
            are returned.
        random_state : int, RandomState instance or None, default=None
            Seeds every random choice (and any torch generator derived from it).
        embedding : callable, default=None
            ``embedding(estimator, X) -> ndarray (n_samples, n_dims)``, which
            overrides the registered last-layer embedding of the estimator.
        return_utilities : bool, default=False
            Also return the utility of each chosen row.

        Returns
        -------
        indices : ndarray of shape (n_chosen,), dtype=int64
            Distinct indices of unlabeled rows, in the order they were chosen.
        utilities : ndarray of shape (n_chosen,), dtype=float64
            Only with ``return_utilities=True``: the utility of each chosen
            row when it was chosen (``nan`` where a strategy has none).

        Raises
        ------
        ValueError
            When every row of the pool is labeled, ``batch_size`` is below 1,
            ``labeled`` holds positions outside the pool or is a mask of
            another length, or a parameter of the strategy is out of range.
        TypeError
            When ``batch_size`` is not an integer, ``labeled`` is neither
            integer positions nor a boolean mask, ``embedding`` is not
            callable, or the strategy needs class probabilities and
            ``estimator`` is not a classifier.
        """
        return_utilities = check_flag("return_utilities", return_utilities)
        self._validate_params()
        batch_size = check_batch_size(batch_size)
        if embedding is not None and not callable(embedding):
            raise TypeError(
                "`embedding` must be a callable embedding(estimator, X) -> array, "
                f"got {type(embedding).__name__}."
            )
        n_samples = n_rows(X)
        labeled_mask = as_labeled_mask(labeled, n_samples)
        n_unlabeled = int(n_samples - labeled_mask.sum())
        if n_unlabeled == 0:
            raise ValueError(
                "Every row of the pool is labeled: there is nothing left to query. "
                "Add unlabeled rows to the pool or stop the loop."
            )
        self._validate_estimator(estimator)
        batch_size = min(int(batch_size), n_unlabeled)
        rng = check_seed(random_state)

        # The strategy's draws come from rng; a model that draws from torch's global
        # generators as it predicts (a skorch net's loader) leaves the caller's alone.
        with global_draws_kept():
            result = self._select(estimator, X, labeled_mask, batch_size, rng, embedding)
        # A third-party _select that returns the indices alone failed on the unpacking,
        # with a message that named neither the strategy nor the rule.
        if not isinstance(result, tuple) or len(result) != 2:
            raise RuntimeError(
                f"{type(self).__name__}._select must return a pair (indices, utilities), "
                f"utilities None if it has none; got {type(result).__name__}."
            )
        indices, utilities = result
        indices = self._check_selection(indices, labeled_mask, batch_size)
        if not return_utilities:
            return indices
        if utilities is None:
            utilities = np.full(indices.shape, np.nan)
        try:
            utilities = np.asarray(utilities, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise RuntimeError(
                f"{type(self).__name__} returned utilities that are not numbers: {exc}"
            ) from exc
        if utilities.shape != indices.shape:
            raise RuntimeError(
                f"{type(self).__name__} returned {utilities.size} utilities for "
                f"{indices.size} indices."
            )
        return indices, utilities

    def _validate_params(self):
        """Check the parameters against ``_parameter_constraints`` (as scikit-learn does).

        The parameters are read as ``get_params(deep=False)`` reads them,
        but their names are looked up once per class: a query runs every round,
        and inspecting the constructor's signature each time costs more than
        the check.
        """
        params = {name: getattr(self, name) for name in _param_names(type(self))}
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=type(self).__name__
        )

    def _validate_estimator(self, estimator):
        """Raise a clear error if this strategy cannot serve ``estimator``."""
        if get_strategy_tags(self).classifier_only and not is_classifier(estimator):
            raise TypeError(
                f"{type(self).__name__} needs class probabilities, but "
                f"{type(estimator).__name__} is not a classifier."
            )

    @abstractmethod
    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        """Choose ``batch_size`` distinct unlabeled rows.

        Parameters
        ----------
        estimator : fitted estimator
        X : array-like of shape (n_samples, ...)
        labeled : ndarray of shape (n_samples,), dtype=bool
        batch_size : int
            Already capped at the number of unlabeled rows.
        random_state : numpy.random.RandomState
        embedding : callable or None

        Returns
        -------
        indices : array-like of int
        utilities : array-like of float, or None
        """

    def _check_selection(self, indices, labeled_mask, batch_size):
        """Enforce the contract on what ``_select`` returned."""
        name = type(self).__name__
        indices = np.asarray(indices)
        if indices.ndim != 1 or (indices.size and not np.issubdtype(indices.dtype, np.integer)):
            raise RuntimeError(f"{name} returned indices that are not a 1-d integer array.")
        indices = indices.astype(np.int64, copy=False)
        if indices.size != batch_size:
            raise RuntimeError(f"{name} returned {indices.size} indices, {batch_size} expected.")
        if indices.size and (indices.min() < 0 or indices.max() >= labeled_mask.size):
            raise RuntimeError(f"{name} returned indices outside the pool.")
        ordered = np.sort(indices)
        if (ordered[1:] == ordered[:-1]).any():
            raise RuntimeError(f"{name} returned the same row twice.")
        if labeled_mask[indices].any():
            raise RuntimeError(f"{name} returned rows that are already labeled.")
        return indices
