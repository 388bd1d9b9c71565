"""ActiveLearner: the meta-estimator that runs the labeling loop."""

import copy
import time
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.dummy import DummyClassifier
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from tqdm.auto import tqdm

from skbait.base import QueryStrategy
from skbait.strategies import RandomSampling, make_strategy

__all__ = ["ActiveLearner"]

_HISTORY_KEYS = (
    "round",
    "n_labeled",
    "fit_seconds",
    "train_score",
    "eval_score",
    "query_seconds",
    "indices",
)


def _estimator_has(attr):
    """Delegate ``attr`` to the fitted model, or to the unfitted one before fit."""

    def check(self):
        if hasattr(self, "estimator_"):
            return hasattr(self.estimator_, attr)
        return hasattr(self.estimator, attr)

    return check


def _round_random_state(seed, round_):
    """A RandomState for one round (-1: the initial draw), from the run's seed.

    Deriving each round's generator (instead of drawing from one running
    generator) is what makes a pickled or interrupted loop resume with exactly
    the selections of an uninterrupted run.
    """
    return np.random.RandomState(np.random.SeedSequence([seed, round_ + 1]).generate_state(1)[0])


class ActiveLearner(MetaEstimatorMixin, BaseEstimator):
    """Batch active learning around any scikit-learn estimator.

    ``ActiveLearner`` trains ``estimator`` on the labeled rows only and asks a
    query strategy (BAIT by default) which unlabeled rows to label next. It
    behaves as the estimator it wraps: a classifier when it wraps a classifier,
    a regressor when it wraps a regressor.

    It runs the loop in one of two ways:

    - **Simulation** (``budget`` set): ``fit(X, y)`` treats ``y`` as the
      labeling oracle, revealed only for the rows that are queried. It draws
      ``n_initial`` rows at random, then repeatedly trains a fresh clone of the
      estimator on the labeled rows (retraining from scratch, as in the paper)
      and queries ``batch_size`` more rows, until ``budget`` labels are used.
      This is what :class:`~sklearn.model_selection.GridSearchCV` runs to
      compare strategies at a fixed budget.
    - **Real labeling** (``budget=None``): ``fit(X, y)`` trains on the rows
      that have a label; rows whose label is missing (``NaN``, or ``-1`` for
      integer class labels as in :mod:`sklearn.semi_supervised`) form the
      unlabeled pool. (In a simulation, -1 is a class like any other.)
      :meth:`query` names rows to send to the annotator and :meth:`teach`
      adds their labels and refits.

    The learner never loses a label: every revealed or taught label is stored
    before the refit that uses it, so a refit that raises, an interrupt or a
    pickle round-trip leaves it in place, and :meth:`resume` continues an
    interrupted simulation exactly as an uninterrupted run would have.

    Parameters
    ----------
    estimator : estimator object
        The model to train: a classifier, a regressor or a
        :class:`~sklearn.pipeline.Pipeline` ending in one. It is cloned, never
        modified.
    query_strategy : str or QueryStrategy, default="bait"
        The strategy, as an instance (cloned in fit) or by name; see
        :func:`skbait.strategies.available_strategies`.
    n_initial : int, default=10
        Rows drawn uniformly at random (seeded) to start a simulation.
    batch_size : int, default=10
        Rows queried per round. The last round of a simulation queries only
        what is left of the budget.
    budget : int or None, default=None
        Total number of labels a simulation may use, the initial draw
        included; at most the number of rows. ``None`` means real labeling.
    warm_start : bool, default=False
        Keep training the same estimator object from round to round instead of
        a fresh clone; when the estimator (or a pipeline's last step) has a
        ``warm_start`` parameter it is switched on, so that each fit continues
        from the previous solution.
    embedding : callable, default=None
        ``embedding(estimator, X) -> ndarray (n_samples, n_dims)`` overriding
        the last-layer embedding that strategies read (see
        :mod:`skbait.embeddings`).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial draw and every query.
    verbose : int, default=0
        0 is silent; 1 shows a progress bar over the budget; 2 also prints one
        line per round.

    Attributes
    ----------
    estimator_ : estimator object
        The model trained on the labeled rows of the last round. If the
        labeled rows of a classifier hold a single class, no classifier can be
        trained: this is then a ``DummyClassifier(strategy="prior")`` and the
        round's query is made by random sampling, with a warning.
    query_strategy_ : QueryStrategy
        The strategy instance used.
    labeled_indices_ : ndarray of int
        The labeled rows of ``X_``, in the order they were labeled (the initial
        draw or the labels given to fit first).
    X_ : ndarray or sparse matrix
        The pool: the rows passed to fit, then the rows added by :meth:`teach`.
    y_ : ndarray
        Labels of the rows of ``X_`` known to the learner; entries of
        unlabeled rows are meaningless (see ``labeled_indices_``).
    history_ : list of dict
        One record per fit of the model (``pandas.DataFrame(history_)`` makes
        a table): ``round`` (0 for the first fit), ``n_labeled`` (rows the
        model was trained on), ``fit_seconds``, ``train_score`` (score on those
        rows), ``eval_score`` (score on ``eval_set``, ``nan`` without one),
        ``query_seconds`` and ``indices`` (the rows chosen by the query that
        followed this fit; ``nan`` and empty when there was none).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` has string column names.
    classes_ : ndarray
        Classifiers only: in a simulation, every class of the oracle ``y``
        (``predict_proba`` has a column for each, 0 for classes not labeled
        yet); in real labeling, the classes of the labeled rows.

    See Also
    --------
    skbait.strategies.BAIT : The default query strategy.
    sklearn.semi_supervised.SelfTrainingClassifier : The missing-label convention.

    Examples
    --------
    Simulate a labeling campaign on the digits with a budget of 60 labels:

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait import ActiveLearner
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> al = ActiveLearner(LogisticRegression(max_iter=500), query_strategy="margin",
    ...                    n_initial=20, batch_size=20, budget=60, random_state=0)
    >>> al.fit(X[:1000], y[:1000], eval_set=(X[1000:], y[1000:]))
    ActiveLearner(...)
    >>> [record["n_labeled"] for record in al.history_]
    [20, 40, 60]
    >>> len(al.labeled_indices_)
    60

    Real labeling: rows labeled ``-1`` wait in the pool until queried.

    >>> import numpy as np
    >>> y_partial = np.full(1000, -1)
    >>> y_partial[:30] = y[:30]
    >>> al = ActiveLearner(LogisticRegression(max_iter=500), query_strategy="margin",
    ...                    batch_size=5, random_state=0).fit(X[:1000], y_partial)
    >>> idx = al.query()
    >>> al = al.teach(y=y[idx], indices=idx)
    >>> len(al.labeled_indices_)
    35
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "query_strategy": [str, QueryStrategy],
        "n_initial": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "budget": [Interval(Integral, 1, None, closed="left"), None],
        "warm_start": ["boolean"],
        "embedding": [callable, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        query_strategy="bait",
        n_initial=10,
        batch_size=10,
        budget=None,
        warm_start=False,
        embedding=None,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.n_initial = n_initial
        self.batch_size = batch_size
        self.budget = budget
        self.warm_start = warm_start
        self.embedding = embedding
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

    def fit(self, X, y, *, eval_set=None):
        """Run the simulated loop (``budget`` set) or train on the labeled rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The pool, labeled rows included.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Simulation: the oracle's label of every row. Real labeling: the
            known labels, with ``NaN`` (or ``-1`` for integer class labels)
            marking the unlabeled rows.
        eval_set : tuple (X_val, y_val), default=None
            Held-out rows scored after every round, into ``history_``.

        Returns
        -------
        self : ActiveLearner
        """
        # Rejected inputs leave the learner as it was: a fitted learner keeps its
        # labels, model and history (validate_data resets n_features_in_ early).
        state = dict(self.__dict__)
        try:
            X, y, eval_set, strategy = self._validate_fit(X, y, eval_set)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise
        self.query_strategy_ = strategy
        self._seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.history_ = []
        for attr in ("estimator_", "_fallback", "_oracle_classes"):
            self.__dict__.pop(attr, None)

        if self.budget is None:
            self.X_, self.y_ = X, y
            self.labeled_indices_ = np.flatnonzero(~self._missing_labels(y))
            self._fit_round(self.labeled_indices_, eval_set)
            return self

        n_samples = X.shape[0]
        self.X_, self.y_ = X, y
        if is_classifier(self.estimator):
            # The oracle's classes: the model may not have seen all of them yet.
            self._oracle_classes = np.unique(y)
        initial = _round_random_state(self._seed, -1).choice(
            n_samples, size=self.n_initial, replace=False
        )
        self.labeled_indices_ = np.sort(initial)
        return self._simulate(eval_set)

    def _validate_fit(self, X, y, eval_set):
        """Every check of fit, before any state changes."""
        self._validate_params()
        X, y = self._validate_pool(X, y)
        eval_set = self._validate_eval_set(eval_set)
        strategy = make_strategy(self.query_strategy)
        n_samples = X.shape[0]
        if self.budget is None:
            if self._missing_labels(y).all():
                raise ValueError(
                    "Every label in y is missing, so there is nothing to train on. Label at "
                    "least a few rows (missing labels are NaN, or -1 for integer classes)."
                )
            return X, y, eval_set, strategy
        if self.budget > n_samples:
            raise ValueError(
                f"budget={self.budget} is larger than the pool ({n_samples} rows). Lower the "
                "budget or pass a larger pool."
            )
        if self.n_initial > self.budget:
            raise ValueError(
                f"n_initial={self.n_initial} is larger than budget={self.budget}: the initial "
                "draw is part of the budget."
            )
        # In a simulation -1 is a class like any other: only NaN marks a hole.
        n_missing = int(self._missing_labels(y, sentinel=False).sum())
        if n_missing:
            raise ValueError(
                "In a simulation (budget set) y is the labeling oracle and needs a label for "
                f"every row, but {n_missing} are NaN. For real labeling with missing labels, "
                "leave budget=None."
            )
        return X, y, eval_set, strategy

    def resume(self, X, y, *, eval_set=None):
        """Continue a simulation stopped by an interrupt or a failed fit.

        The labeled rows and the history kept so far are reused; the run goes
        on with exactly the selections an uninterrupted ``fit`` would make.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The same pool as given to :meth:`fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The same oracle labels as given to :meth:`fit`.
        eval_set : tuple (X_val, y_val), default=None
            Held-out rows scored after every remaining round.

        Returns
        -------
        self : ActiveLearner
        """
        if self.budget is None or not hasattr(self, "labeled_indices_"):
            raise ValueError(
                "resume() continues a simulation started by fit() with budget set; there "
                "is none to continue. Call fit() first."
            )
        X, y = self._validate_pool(X, y, reset=False)
        if X.shape[0] != self.X_.shape[0]:
            raise ValueError(
                f"resume() needs the pool passed to fit ({self.X_.shape[0]} rows), "
                f"got {X.shape[0]} rows."
            )
        self.X_, self.y_ = X, y
        return self._simulate(self._validate_eval_set(eval_set))

    def _simulate(self, eval_set):
        """Fit and query round after round until the budget is used.

        State lives on ``self`` and is updated right after each step, so an
        exception at any point leaves a consistent learner that :meth:`resume`
        can continue.
        """
        bar = tqdm(
            total=self.budget,
            initial=len(self.labeled_indices_),
            disable=self.verbose < 1,
            desc="labels",
            leave=False,
        )
        try:
            while True:
                fitted_rounds = len(self.history_)
                if fitted_rounds == 0 or self.history_[-1]["n_labeled"] != len(
                    self.labeled_indices_
                ):
                    self._fit_round(self.labeled_indices_, eval_set)
                if len(self.labeled_indices_) >= self.budget:
                    break
                batch = min(self.batch_size, self.budget - len(self.labeled_indices_))
                chosen, _ = self._query_pool(batch)
                self.labeled_indices_ = np.concatenate([self.labeled_indices_, chosen])
                bar.update(len(chosen))
        finally:
            bar.close()
        return self

    def _fit_round(self, rows, eval_set):
        """Train on ``rows`` of the pool and append a history record."""
        X_lab = self.X_[rows]
        y_lab = self.y_[rows]
        if self.warm_start and hasattr(self, "estimator_") and not self._fallback:
            estimator = self.estimator_
        else:
            estimator = clone(self.estimator)
            key = _warm_start_key(estimator) if self.warm_start else None
            if key is not None:
                estimator.set_params(**{key: True})
        fallback = is_classifier(self.estimator) and np.unique(y_lab).size < 2
        if fallback:
            warnings.warn(
                f"The {len(rows)} labeled rows hold a single class, so no classifier can be "
                "trained yet: a constant predictor stands in and this round queries at "
                "random until a second class is labeled.",
                UserWarning,
                stacklevel=3,
            )
            estimator = DummyClassifier(strategy="prior")

        start = time.perf_counter()
        estimator.fit(X_lab, y_lab)
        fit_seconds = time.perf_counter() - start

        self.estimator_ = estimator
        self._fallback = fallback
        record = dict.fromkeys(_HISTORY_KEYS, np.nan)
        record.update(
            round=len(self.history_),
            n_labeled=len(rows),
            fit_seconds=fit_seconds,
            train_score=float(estimator.score(X_lab, y_lab)),
            indices=np.empty(0, dtype=np.int64),
        )
        if eval_set is not None:
            record["eval_score"] = float(estimator.score(*eval_set))
        self.history_.append(record)
        if self.verbose >= 2:
            print(
                f"[ActiveLearner] round {record['round']}: {record['n_labeled']} labels, "
                f"train score {record['train_score']:.4f}, eval score "
                f"{record['eval_score']:.4f}"
            )

    # ---------------------------------------------------------- querying

    def _select(self, pool, labeled, batch_size):
        """Ask this round's strategy for rows of ``pool``; time it in history.

        Returns the indices and their utilities.
        """
        strategy = RandomSampling() if self._fallback else self.query_strategy_
        start = time.perf_counter()
        indices, utilities = strategy.select(
            self.estimator_,
            pool,
            labeled,
            batch_size,
            random_state=_round_random_state(self._seed, len(self.history_)),
            embedding=self.embedding,
            return_utilities=True,
        )
        self.history_[-1]["query_seconds"] = time.perf_counter() - start
        return indices, utilities

    def _query_pool(self, batch_size):
        """Rows of ``X_`` to label next, recorded in history."""
        labeled = np.zeros(self.X_.shape[0], dtype=bool)
        labeled[self.labeled_indices_] = True
        indices, utilities = self._select(self.X_, labeled, batch_size)
        self.history_[-1]["indices"] = indices.copy()
        return indices, utilities

    def query(self, X=None, *, batch_size=None, return_utilities=False):
        """Rows to label next.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_candidates, n_features), default=None
            Candidate rows. ``None`` queries the unlabeled rows of the pool
            kept from fit (``X_``). With ``X`` given, the labeled rows still
            count (BAIT weighs candidates against what is already known).
        batch_size : int, default=None
            Rows to return; defaults to the ``batch_size`` parameter. Fewer
            are returned when fewer candidates remain.
        return_utilities : bool, default=False
            Also return the strategy's utility of each chosen row.

        Returns
        -------
        indices : ndarray of int64
            Indices into ``X`` (or into ``X_`` when ``X`` is None).
        utilities : ndarray of float64
            Only with ``return_utilities=True``.
        """
        check_is_fitted(self)
        if batch_size is None:
            batch_size = self.batch_size
        if not isinstance(batch_size, Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
        if X is None:
            if len(self.labeled_indices_) == self.X_.shape[0]:
                raise ValueError(
                    "Every row of the pool is labeled: nothing is left to query. Pass new "
                    "candidate rows as query(X)."
                )
            indices, utilities = self._query_pool(batch_size)
            return (indices, utilities) if return_utilities else indices

        X = self._validate_rows(X)
        # Candidates go after the labeled rows, so the strategy sees one pool
        # whose labeled part is what the learner already knows.
        known = self.X_[self.labeled_indices_]
        pool = _vstack(known, X)
        labeled = np.zeros(pool.shape[0], dtype=bool)
        labeled[: known.shape[0]] = True
        indices, utilities = self._select(pool, labeled, batch_size)
        indices = indices - known.shape[0]
        return (indices, utilities) if return_utilities else indices

    def teach(self, X=None, y=None, *, indices=None):
        """Add labels and refit.

        Either give new rows ``X`` with their labels ``y`` (they are appended
        to the pool), or give ``indices`` of unlabeled rows of the pool kept
        from fit (what :meth:`query` returned) with their labels ``y``.

        The labels are validated first, and nothing changes if they are bad.
        They are stored before the refit: if the refit raises, the exception
        propagates, the labels stay, ``estimator_`` stays the previous model,
        and the next ``teach`` refits on everything.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_new, n_features), default=None
            New labeled rows. Leave ``None`` when giving ``indices``.
        y : array-like of shape (n_new,) or (n_new, n_outputs)
            Their labels.
        indices : array-like of int, default=None
            Rows of ``X_`` that ``y`` labels.

        Returns
        -------
        self : ActiveLearner
        """
        check_is_fitted(self)
        if (X is None) == (indices is None):
            raise ValueError("Pass either new rows X or pool indices, with their labels y.")
        if y is None:
            raise ValueError("teach() needs the labels y.")
        y = self._validate_labels(y)
        if indices is not None:
            indices = np.asarray(indices)
            if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
                raise TypeError("indices must be a 1-d array of integer row positions.")
            if indices.size and (indices.min() < 0 or indices.max() >= self.X_.shape[0]):
                raise ValueError(
                    f"indices must lie in 0..{self.X_.shape[0] - 1}, the rows of the pool."
                )
            if np.unique(indices).size != indices.size:
                raise ValueError("indices holds the same row twice.")
            if np.isin(indices, self.labeled_indices_).any():
                raise ValueError(
                    "Some rows in indices are labeled already: "
                    f"{np.intersect1d(indices, self.labeled_indices_)[:10].tolist()}."
                )
            if len(y) != len(indices):
                raise ValueError(f"Got {len(y)} labels for {len(indices)} indices.")
            new_y = self.y_.copy()
            new_y[indices] = y
            new_X, rows = self.X_, indices
        else:
            X = self._validate_rows(X)
            if len(y) != X.shape[0]:
                raise ValueError(f"Got {len(y)} labels for {X.shape[0]} rows.")
            new_X = _vstack(self.X_, X)
            new_y = np.concatenate([self.y_, y.astype(self.y_.dtype, copy=False)])
            rows = np.arange(self.X_.shape[0], new_X.shape[0])
        # Commit every label first: a refit failure must not lose any of them.
        self.X_, self.y_ = new_X, new_y
        self.history_[-1]["indices"] = np.asarray(rows, dtype=np.int64).copy()
        self.labeled_indices_ = np.concatenate([self.labeled_indices_, rows]).astype(np.int64)
        self._fit_round(self.labeled_indices_, None)
        return self

    # --------------------------------------------------------- validation

    def _validate_pool(self, X, y, reset=True):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None. "
                "Give the labels (simulation: every row's; real labeling: NaN or -1 where "
                "unknown)."
            )
        X = validate_data(
            self, X, reset=reset, accept_sparse=["csr", "csc"], ensure_all_finite=True
        )
        if hasattr(X, "tocsr"):
            X = X.tocsr()
        # y is checked apart from X: missing labels (NaN) are allowed in y.
        y = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False, input_name="y")
        if y.ndim == 2 and y.shape[1] == 1 and is_classifier(self.estimator):
            y = column_or_1d(y, warn=True)
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-d or 2-d, got shape {y.shape}.")
        check_consistent_length(X, y)
        if not is_classifier(self.estimator) and not np.issubdtype(y.dtype, np.number):
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"A regressor needs numeric targets; y has dtype {y.dtype}."
                ) from None
        if np.issubdtype(y.dtype, np.floating) and np.isinf(y).any():
            raise ValueError("y holds inf. Missing labels are marked by NaN, not inf.")
        return X, y

    def _validate_rows(self, X):
        X = validate_data(
            self, X, reset=False, accept_sparse=["csr", "csc"], ensure_all_finite=True
        )
        return X.tocsr() if hasattr(X, "tocsr") else X

    def _validate_eval_set(self, eval_set):
        if eval_set is None:
            return None
        if not isinstance(eval_set, (tuple, list)) or len(eval_set) != 2:
            raise TypeError("eval_set must be a pair (X_val, y_val).")
        X_val = self._validate_rows(eval_set[0])
        y_val = check_array(eval_set[1], ensure_2d=False, dtype=None, ensure_all_finite=True)
        if X_val.shape[0] != y_val.shape[0]:
            raise ValueError(f"eval_set holds {X_val.shape[0]} rows but {y_val.shape[0]} labels.")
        return X_val, y_val

    def _validate_labels(self, y):
        """Labels given to teach: the right type, no missing value, known classes."""
        y = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False)
        if self._missing_labels(y).any():
            raise ValueError("teach() got missing labels (NaN or -1); give real labels only.")
        if y.ndim != self.y_.ndim or y.shape[1:] != self.y_.shape[1:]:
            raise ValueError(
                f"Labels must be shaped like the y given to fit, (n,) + {self.y_.shape[1:]}; "
                f"got {y.shape}."
            )
        if is_classifier(self.estimator):
            known = np.unique(self.y_[self.labeled_indices_])
            unknown = np.setdiff1d(np.unique(y), known) if y.size else []
            if len(unknown):
                raise ValueError(
                    f"Unknown class label(s) {list(unknown)[:5]}: the learner knows "
                    f"{known.tolist()}. To add a class, call fit again with the labels you "
                    "have, the new class included."
                )
        elif not np.issubdtype(y.dtype, np.number):
            raise TypeError(f"Regression labels must be numeric, got dtype {y.dtype}.")
        elif not np.isfinite(y).all():
            raise ValueError("teach() got non-finite regression labels.")
        return y

    def _missing_labels(self, y, sentinel=True):
        """Mask of rows without a label: NaN, or (``sentinel``) -1 for integer classes."""
        y = np.asarray(y)
        if np.issubdtype(y.dtype, np.floating):
            missing = np.isnan(y)
        elif sentinel and np.issubdtype(y.dtype, np.integer) and is_classifier(self.estimator):
            missing = y == -1
        elif y.dtype == object:
            missing = np.array([v is None or (isinstance(v, float) and v != v) for v in y.ravel()])
            missing = missing.reshape(y.shape)
        else:
            missing = np.zeros(y.shape, dtype=bool)
        return missing.any(axis=1) if missing.ndim > 1 else missing

    # ---------------------------------------------------------- delegation

    @property
    def classes_(self):
        """Class labels: the oracle's in a simulation, else the fitted model's."""
        check_is_fitted(self)
        return getattr(self, "_oracle_classes", self.estimator_.classes_)

    def _pad_columns(self, values, fill):
        """Place the model's class columns among all of ``classes_``.

        A simulated model trained before some class was labeled has fewer
        columns than the oracle has classes; absent classes get ``fill``.
        """
        known = self.estimator_.classes_
        classes = self.classes_
        if len(known) == len(classes):
            return values
        padded = np.full((values.shape[0], len(classes)), fill, dtype=values.dtype)
        padded[:, np.searchsorted(classes, known)] = values
        return padded

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predict with the model trained on the labeled rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self.estimator_.predict(self._validate_rows(X))

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the model trained on the labeled rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            One column per class of ``classes_``; in a simulation, classes the
            model has not seen labeled yet get probability 0.
        """
        check_is_fitted(self)
        return self._pad_columns(self.estimator_.predict_proba(self._validate_rows(X)), 0.0)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the model trained on the labeled rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        log_proba = self.estimator_.predict_log_proba(self._validate_rows(X))
        return self._pad_columns(log_proba, -np.inf)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the model trained on the labeled rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(self._validate_rows(X))

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score of the model trained on the labeled rows (its own ``score``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
            Accuracy for classifiers, R^2 for regressors, unless the wrapped
            estimator defines otherwise.
        """
        check_is_fitted(self)
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return self.estimator_.score(self._validate_rows(X), y, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = copy.deepcopy(inner.classifier_tags)
        tags.regressor_tags = copy.deepcopy(inner.regressor_tags)
        tags.target_tags = copy.deepcopy(inner.target_tags)
        tags.target_tags.required = True
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = False
        tags.non_deterministic = inner.non_deterministic
        return tags


def _warm_start_key(estimator):
    """The parameter that switches on warm start: the model's, or a pipeline's last step's."""
    params = estimator.get_params()
    if "warm_start" in params:
        return "warm_start"
    if hasattr(estimator, "steps"):
        key = f"{estimator.steps[-1][0]}__warm_start"
        return key if key in params else None
    return None


def _vstack(top, bottom):
    """Stack two blocks of rows, dense or sparse."""
    if hasattr(top, "tocsr") or hasattr(bottom, "tocsr"):
        import scipy.sparse as sp

        return sp.vstack([top, bottom], format="csr")
    return np.concatenate([top, bottom], axis=0)
