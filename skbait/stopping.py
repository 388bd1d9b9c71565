"""Stopping criteria: when more labels stop paying for themselves.

A criterion is updated once per round, after the model is trained on the
labels known so far. Each update measures one number (``values_``) and says
whether its rule holds (``stop_``):

- :class:`StabilizingPredictions` (Bloodgood & Vijay-Shanker, CoNLL 2009):
  the models of consecutive rounds agree on a fixed *stop set* of rows
  (Cohen's kappa; for regression the R^2 of the new predictions against the
  previous ones); stop when the mean of the last ``window`` agreements reaches
  ``threshold``.
- :class:`OverallUncertainty` (Zhu, Wang & Hovy, 2008): the mean uncertainty
  ``1 - max_c p_c(x)`` over the unlabeled rows is at most ``threshold``.
- :class:`MaxConfidence` (Zhu, Wang & Hovy, 2008): the largest uncertainty over
  the unlabeled rows is at most ``threshold``: every row left is predicted with
  probability at least ``1 - threshold``.
- :class:`ObjectivePlateau`: BAIT's own objective of the labeled set under the
  current model, ``tr((lambda I + mean_L I(x))^-1 F)`` (the ``M_0`` of
  Algorithm 1 of Ash et al. 2021;
  :func:`~skbait.strategies.labeled_set_objective`), changed by at most
  ``tol`` (relative) in each of the last ``window`` rounds.

:class:`~skbait.ActiveLearner` takes them as ``stopping=`` and records each
value in ``history_``; ``skbait query`` records them in the campaign file.
:func:`skbait.evaluation.evaluate_stopping` measures, on a labeled dataset,
when each criterion stops and what accuracy that costs against the full budget.
"""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import Interval

from skbait._skorch import net_predicts_label_sets
from skbait.base import as_labeled_mask, n_rows
from skbait.embeddings import embed, predict_probabilities
from skbait.strategies._labeled_set_objective import label_sets_objective, labeled_set_objective
from skbait.strategies._multilabel import predict_label_probabilities, predict_label_sets

__all__ = [
    "MaxConfidence",
    "ObjectivePlateau",
    "OverallUncertainty",
    "StabilizingPredictions",
    "StoppingCriterion",
    "apply_stopping",
    "check_stopping",
    "cohen_kappa",
]


def cohen_kappa(a, b):
    """Cohen's kappa between two label vectors (1 when both are the same constant).

    ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the fraction of agreeing rows and
    ``p_e = sum_c f_a(c) f_b(c)`` the agreement expected from the label
    frequencies alone. When ``p_e = 1`` both vectors hold one and the same
    label: perfect agreement, 1.

    Parameters
    ----------
    a, b : array-like of shape (n,)

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When ``a`` and ``b`` are not non-empty 1-d vectors of one length.

    Examples
    --------
    >>> from skbait.stopping import cohen_kappa
    >>> cohen_kappa([0, 1, 1, 0], [0, 1, 0, 0])
    0.5
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"Expected two non-empty 1-d label vectors of one length, got "
            f"shapes {a.shape} and {b.shape}."
        )
    classes, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    ca, cb = codes[: a.size], codes[a.size :]
    p_o = float(np.mean(ca == cb))
    fa = np.bincount(ca, minlength=classes.size) / a.size
    fb = np.bincount(cb, minlength=classes.size) / b.size
    p_e = float(fa @ fb)
    if p_e >= 1.0 - 1e-12:
        return 1.0
    return (p_o - p_e) / (1.0 - p_e)


# Rounding slack of a threshold test: three kappas of exactly 0.99 average to
# 0.98999999999999999 in floating point, which must still reach 0.99.
_ROUNDING = 1e-12


def _at_least(value, bound):
    """``value >= bound`` up to floating-point rounding."""
    return value >= bound - _ROUNDING


def _agreement_r2(new, old):
    """R^2 of ``new`` predictions against ``old`` ones (1 when both are one constant)."""
    new = np.asarray(new, dtype=np.float64).reshape(len(new), -1)
    old = np.asarray(old, dtype=np.float64).reshape(len(old), -1)
    residual = float(((new - old) ** 2).sum())
    total = float(((old - old.mean(axis=0)) ** 2).sum())
    if total == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total


class StoppingCriterion(BaseEstimator):
    """Base class of the stopping criteria: measure once per round, then decide.

    Subclasses implement ``_measure`` (one number from the model and the pool)
    and ``_decide`` (the rule, from all the numbers so far). :meth:`update`
    appends the number to ``values_`` and sets ``stop_``; :meth:`get_state`
    and :meth:`set_state` carry the fitted state through a JSON file (the
    campaign file of ``skbait query``).

    Attributes
    ----------
    values_ : list of float
        The measured value of every round (``nan`` where undefined).
    n_labeled_ : list of int
        The labels known at each round.
    stop_ : bool
        Whether the rule holds after the last update.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.stopping import StoppingCriterion
    >>> class LabelCount(StoppingCriterion):
    ...     '''Stop at 20 labels.'''
    ...     name = "label_count"
    ...     def _measure(self, estimator, X, labeled, embedding, random_state):
    ...         return float(labeled.sum())
    ...     def _decide(self, values):
    ...         return values[-1] >= 20
    >>> criterion = LabelCount().update(None, np.zeros((30, 2)), np.arange(20))
    >>> criterion.values_, criterion.stop_
    ([20.0], True)
    """

    name = "criterion"
    _parameter_constraints: dict = {}
    _state_attributes = ("values_", "n_labeled_", "stop_")

    def update(self, estimator, X, labeled, *, embedding=None, random_state=None):
        """Measure the model trained this round and apply the rule.

        Parameters
        ----------
        estimator : fitted estimator
            The model of this round.
        X : array-like of shape (n_samples, ...)
            The whole pool, labeled rows included, in the order of the
            previous rounds (rows may only be appended).
        labeled : array-like of int or bool
            Indices of the labeled rows, or a boolean mask over the pool.
        embedding : callable, default=None
            ``embedding(estimator, X)``, as for the query strategies.
        random_state : int, RandomState instance or None, default=None
            Seeds any random choice (the stop set of
            :class:`StabilizingPredictions`).

        Returns
        -------
        self : StoppingCriterion
        """
        self._validate_params()
        if not hasattr(self, "values_"):
            self.values_, self.n_labeled_, self.stop_ = [], [], False
        labeled = as_labeled_mask(labeled, n_rows(X))
        value = float(self._measure(estimator, X, labeled, embedding, random_state))
        self.values_.append(value)
        self.n_labeled_.append(int(labeled.sum()))
        self.stop_ = bool(self._decide(np.asarray(self.values_, dtype=np.float64)))
        return self

    def _measure(self, estimator, X, labeled, embedding, random_state):
        raise NotImplementedError

    def _decide(self, values):
        raise NotImplementedError

    def get_state(self):
        """The fitted state as JSON-friendly Python values (empty before any update).

        Returns
        -------
        dict

        Examples
        --------
        >>> import numpy as np
        >>> from skbait.stopping import OverallUncertainty
        >>> OverallUncertainty().get_state()
        {}
        """
        state = {}
        for key in self._state_attributes:
            if hasattr(self, key):
                value = getattr(self, key)
                if isinstance(value, np.ndarray):
                    value = value.tolist()
                elif isinstance(value, list):
                    value = [None if isinstance(v, float) and math.isnan(v) else v for v in value]
                state[key] = value
        return state

    def set_state(self, state):
        """Restore what :meth:`get_state` returned.

        Parameters
        ----------
        state : dict

        Returns
        -------
        self : StoppingCriterion

        Examples
        --------
        >>> from skbait.stopping import OverallUncertainty
        >>> c = OverallUncertainty().set_state({"values_": [0.3], "n_labeled_": [10],
        ...                                     "stop_": False})
        >>> c.values_
        [0.3]
        """
        for key in self._state_attributes:
            if key in state:
                value = state[key]
                if key in ("values_",):
                    value = [float("nan") if v is None else float(v) for v in value]
                elif key in ("n_labeled_",):
                    value = [int(v) for v in value]
                elif key == "stop_":
                    value = bool(value)
                else:
                    value = np.asarray(value)
                setattr(self, key, value)
        return self


def _require_classifier(estimator, name):
    if estimator is None or not is_classifier(estimator):
        raise TypeError(
            f"{name} needs class probabilities, so it applies to classifiers only; got "
            f"{type(estimator).__name__}. For a regressor use StabilizingPredictions or "
            "ObjectivePlateau."
        )


def _predicts_label_sets(estimator, X):
    """Whether a fitted classifier predicts label sets (a 2-d indicator), asked of one row.

    A skorch net of sigmoid outputs predicts an argmax: its label sets are read
    from its probabilities.
    """
    if not is_classifier(estimator):
        return False
    if net_predicts_label_sets(estimator):
        return True
    one = estimator.predict(_safe_indexing(X, [0]))
    return getattr(one, "ndim", np.ndim(one)) == 2


def _dense_predictions(predictions):
    return np.asarray(predictions.toarray() if hasattr(predictions, "toarray") else predictions)


def _unlabeled_uncertainty(estimator, X, labeled):
    """``1 - max_c p_c`` of each unlabeled row; of label sets, each label's ``min(p, 1 - p)``."""
    rows = np.flatnonzero(~labeled)
    if rows.size == 0:
        return None
    X_rows = _safe_indexing(X, rows)
    if _predicts_label_sets(estimator, X_rows):
        P = predict_label_probabilities(estimator, X_rows)
        return np.minimum(P, 1.0 - P)
    P = predict_probabilities(estimator, X_rows)
    return 1.0 - P.max(axis=1)


class StabilizingPredictions(StoppingCriterion):
    """Stop when the models of consecutive rounds agree on a stop set.

    Bloodgood & Vijay-Shanker (CoNLL 2009): at the first update a *stop set* of
    ``stop_set_size`` unlabeled rows is drawn at random and kept. Each round
    the model predicts it; the value is the agreement with the previous
    round's predictions (Cohen's kappa, see :func:`cohen_kappa`; of label
    sets, the kappa of every row's every label decision, ``nan`` when the
    model learned a new label; for a regressor the R^2 of the new
    predictions against the previous ones), ``nan`` at the first round. The
    rule holds when the mean of the last ``window`` values reaches
    ``threshold``. The paper's defaults: a window of
    3 and 0.99.

    Parameters
    ----------
    threshold : float, default=0.99
        Mean agreement needed, in (0, 1].
    window : int, default=3
        Consecutive agreements averaged.
    stop_set_size : int, default=1000
        Rows in the stop set (all unlabeled rows when fewer).

    Attributes
    ----------
    stop_set_ : ndarray of int
        The rows of the stop set.
    predictions_ : ndarray
        The last round's predictions on the stop set.
    values_, n_labeled_, stop_
        See :class:`StoppingCriterion`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.stopping import StabilizingPredictions
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> c = StabilizingPredictions(window=1)
    >>> for n in (20, 40):
    ...     model = LogisticRegression().fit(X[:n], y[:n])
    ...     c = c.update(model, X, np.arange(n), random_state=0)
    >>> len(c.values_), bool(np.isnan(c.values_[0])), round(c.values_[1], 3)
    (2, True, 0.748)
    """

    name = "stabilizing_predictions"
    _state_attributes = StoppingCriterion._state_attributes + ("stop_set_", "predictions_")
    _parameter_constraints: dict = {
        "threshold": [Interval(Real, 0, 1, closed="right")],
        "window": [Interval(Integral, 1, None, closed="left")],
        "stop_set_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, *, threshold=0.99, window=3, stop_set_size=1000):
        self.threshold = threshold
        self.window = window
        self.stop_set_size = stop_set_size

    def _measure(self, estimator, X, labeled, embedding, random_state):
        if not hasattr(self, "stop_set_"):
            unlabeled = np.flatnonzero(~labeled)
            if unlabeled.size == 0:
                unlabeled = np.arange(labeled.size)
            size = min(self.stop_set_size, unlabeled.size)
            rng = check_random_state(random_state)
            self.stop_set_ = np.sort(rng.choice(unlabeled, size=size, replace=False))
        X_stop = _safe_indexing(X, self.stop_set_)
        if _predicts_label_sets(estimator, X_stop):
            predictions = predict_label_sets(estimator, X_stop)
        else:
            predictions = _dense_predictions(estimator.predict(X_stop))
        previous = getattr(self, "predictions_", None)
        self.predictions_ = predictions
        if previous is None:
            return float("nan")
        if is_classifier(estimator) and predictions.ndim == 2:
            # Label sets: the kappa of every (row, label) decision. A model that
            # learned a new label has no earlier decisions to agree with.
            if previous.shape != predictions.shape:
                return float("nan")
            return cohen_kappa(predictions.ravel(), previous.ravel())
        if is_classifier(estimator):
            if previous.dtype.kind != predictions.dtype.kind:
                previous = previous.astype(predictions.dtype)
            return cohen_kappa(predictions, previous)
        return _agreement_r2(predictions, previous)

    def _decide(self, values):
        last = values[-self.window :]
        return (
            last.size == self.window
            and not np.isnan(last).any()
            and _at_least(float(last.mean()), self.threshold)
        )


class OverallUncertainty(StoppingCriterion):
    """Stop when the mean uncertainty over the unlabeled rows is small.

    The value is the mean over the unlabeled rows of ``1 - max_c p_c(x)``
    (least confidence; Zhu, Wang & Hovy 2008 use the entropy, whose scale
    depends on the number of classes); the rule holds when it is at most
    ``threshold``. Of label sets, the mean over the unlabeled rows and the
    labels of ``min(p_j, 1 - p_j)``, each label's own least confidence.
    Classifiers only.

    Parameters
    ----------
    threshold : float, default=0.1
        In [0, 1].

    Attributes
    ----------
    values_, n_labeled_, stop_
        See :class:`StoppingCriterion`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.stopping import OverallUncertainty
    >>> X = np.array([[-3.0], [-2.0], [2.0], [3.0], [0.0]])
    >>> model = LogisticRegression(C=100).fit(X[:4], [0, 0, 1, 1])
    >>> c = OverallUncertainty(threshold=0.6).update(model, X, [0, 1, 2, 3])
    >>> round(c.values_[0], 3), c.stop_
    (0.5, True)
    """

    name = "overall_uncertainty"
    _parameter_constraints: dict = {"threshold": [Interval(Real, 0, 1, closed="both")]}

    def __init__(self, *, threshold=0.1):
        self.threshold = threshold

    def _measure(self, estimator, X, labeled, embedding, random_state):
        _require_classifier(estimator, type(self).__name__)
        uncertainty = _unlabeled_uncertainty(estimator, X, labeled)
        return float("nan") if uncertainty is None else float(uncertainty.mean())

    def _decide(self, values):
        return bool(_at_least(self.threshold, values[-1]))


class MaxConfidence(StoppingCriterion):
    """Stop when every unlabeled row is predicted confidently.

    The value is the largest ``1 - max_c p_c(x)`` over the unlabeled rows
    (Zhu, Wang & Hovy 2008 apply the same test to the rows an uncertainty
    sampler would query next, which are the most uncertain ones); the rule
    holds when it is at most ``threshold``. Of label sets, the largest
    ``min(p_j, 1 - p_j)`` over the unlabeled rows and the labels: every
    label decision must be that sure. Classifiers only.

    Parameters
    ----------
    threshold : float, default=0.1
        In [0, 1].

    Attributes
    ----------
    values_, n_labeled_, stop_
        See :class:`StoppingCriterion`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.stopping import MaxConfidence
    >>> X = np.array([[-3.0], [-2.0], [2.0], [3.0], [0.0], [9.0]])
    >>> model = LogisticRegression(C=100).fit(X[:4], [0, 0, 1, 1])
    >>> c = MaxConfidence(threshold=0.1).update(model, X, [0, 1, 2, 3])
    >>> round(c.values_[0], 3), c.stop_
    (0.5, False)
    """

    name = "max_confidence"
    _parameter_constraints: dict = {"threshold": [Interval(Real, 0, 1, closed="both")]}

    def __init__(self, *, threshold=0.1):
        self.threshold = threshold

    def _measure(self, estimator, X, labeled, embedding, random_state):
        _require_classifier(estimator, type(self).__name__)
        uncertainty = _unlabeled_uncertainty(estimator, X, labeled)
        return float("nan") if uncertainty is None else float(uncertainty.max())

    def _decide(self, values):
        return bool(_at_least(self.threshold, values[-1]))


class ObjectivePlateau(StoppingCriterion):
    """Stop when BAIT's objective of the labeled set stops moving.

    The value is :func:`~skbait.strategies.labeled_set_objective` under this round's model: the
    Fisher-weighted error BAIT starts its greedy from, which changes as the
    labeled set covers the pool's information and as the model (hence the
    Fisher) settles. The rule holds when it changed by at most ``tol``
    (relative) in each of the last ``window`` rounds. Classifiers and
    regressors alike (regressors use the rank-one Fisher ``z z^T``; a model
    of label sets the block-diagonal one of its sigmoid outputs, see
    :func:`~skbait.strategies.label_sets_objective`).

    Parameters
    ----------
    tol : float, default=0.05
        Largest relative change, ``|v_t - v_(t-1)| / v_(t-1)`` (0 between two zeros).
    window : int, default=3
        Consecutive rounds that must stay within ``tol``.
    reg : float, default=1.0
        The regulariser ``lambda`` of the objective.

    Attributes
    ----------
    values_, n_labeled_, stop_
        See :class:`StoppingCriterion`.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.stopping import ObjectivePlateau
    >>> c = ObjectivePlateau(tol=0.05, window=2)
    >>> bool(c._decide(np.array([4.0, 2.0, 1.96, 1.95])))
    True
    """

    name = "objective_plateau"
    _parameter_constraints: dict = {
        "tol": [Interval(Real, 0, None, closed="left")],
        "window": [Interval(Integral, 1, None, closed="left")],
        "reg": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, *, tol=0.05, window=3, reg=1.0):
        self.tol = tol
        self.window = window
        self.reg = reg

    def _measure(self, estimator, X, labeled, embedding, random_state):
        if _predicts_label_sets(estimator, X):
            Z, _ = embed(estimator, X, proba=False, embedding=embedding)
            P = predict_label_probabilities(estimator, X)
            return label_sets_objective(Z, P, labeled, reg=float(self.reg))
        Z, P = embed(estimator, X, proba=is_classifier(estimator), embedding=embedding)
        if P is not None and P.shape[1] < 2:
            P = None
        return labeled_set_objective(Z, P, labeled, reg=float(self.reg))

    def _decide(self, values):
        if values.size < self.window + 1:
            return False
        recent = values[-(self.window + 1) :]
        step = np.abs(np.diff(recent))
        # 0 to 0 (a model of 0/1 probabilities has no Fisher information) did not move.
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.where(step == 0, 0.0, step / np.abs(recent[:-1]))
        return bool(all(_at_least(self.tol, value) for value in change))


def check_stopping(stopping):
    """A list of fresh criteria (and callbacks) from ``None``, one, or a list.

    Parameters
    ----------
    stopping : StoppingCriterion, callable, list of them, or None
        A callable is a callback ``stopping(learner) -> bool`` called after
        every fit of an :class:`~skbait.ActiveLearner`; it is kept as is.

    Returns
    -------
    list
        Clones of the criteria (so that the caller's objects are never
        fitted) and the callbacks.

    Raises
    ------
    TypeError
        When an item is a class rather than an instance, or neither a
        criterion nor a callable.
    ValueError
        When two criteria share a name.

    Examples
    --------
    >>> from skbait.stopping import OverallUncertainty, check_stopping
    >>> check_stopping(OverallUncertainty())
    [OverallUncertainty()]
    """
    if stopping is None:
        return []
    items = list(stopping) if isinstance(stopping, (list, tuple)) else [stopping]
    for item in items:
        if isinstance(item, type) and issubclass(item, StoppingCriterion):
            # A class is callable too, and would be called as a callback after the first fit.
            raise TypeError(
                f"stopping got the class {item.__name__}, not a criterion: pass an instance, "
                f"{item.__name__}()."
            )
        if isinstance(item, StoppingCriterion):
            # Before any model is fitted, rather than at the first round's update.
            item._validate_params()
        elif not callable(item):
            raise TypeError(
                "stopping must be a StoppingCriterion (see skbait.stopping), a callback "
                f"stopping(learner) -> bool, or a list of them; got {type(item).__name__}."
            )
    names = [_name(item) for item in items]
    if len(set(names)) != len(names):
        raise ValueError(f"stopping holds two criteria of one name: {names}.")
    return [clone(item) if isinstance(item, StoppingCriterion) else item for item in items]


def _name(item):
    if isinstance(item, StoppingCriterion):
        return item.name
    return getattr(item, "__name__", type(item).__name__)


def apply_stopping(criteria, learner, estimator, X, labeled, *, embedding=None, seed=None):
    """Update every criterion after a fit; return the history entries and the verdict.

    Parameters
    ----------
    criteria : list
        What :func:`check_stopping` returned.
    learner : object
        Passed to the callbacks.
    estimator : fitted estimator
    X : array-like
        The pool.
    labeled : array-like of int or bool
    embedding : callable, default=None
    seed : int or None, default=None
        Seeds the stop set.

    Returns
    -------
    entries : dict
        ``<name>`` (the value; callbacks: their verdict) and ``<name>_stop``
        for each criterion, and ``stop``: whether any of them holds.
    stop : bool

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.stopping import OverallUncertainty, apply_stopping, check_stopping
    >>> X = np.array([[-3.0], [-2.0], [2.0], [3.0], [0.0]])
    >>> model = LogisticRegression(C=100).fit(X[:4], [0, 0, 1, 1])
    >>> criteria = check_stopping([OverallUncertainty(threshold=0.6), lambda learner: False])
    >>> entries, stop = apply_stopping(criteria, None, model, X, [0, 1, 2, 3])
    >>> stop, entries["overall_uncertainty_stop"], entries["<lambda>_stop"]
    (True, True, False)
    """
    entries, stop = {}, False
    for item in criteria:
        name = _name(item)
        if isinstance(item, StoppingCriterion):
            item.update(estimator, X, labeled, embedding=embedding, random_state=seed)
            entries[name] = item.values_[-1]
            fired = item.stop_
        else:
            fired = bool(item(learner))
            entries[name] = float(fired)
        entries[f"{name}_stop"] = fired
        stop = stop or fired
    entries["stop"] = stop
    return entries, stop
