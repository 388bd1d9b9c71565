"""Uncertainty sampling: least confident (the paper's CONFIDENCE), margin, entropy."""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import StrOptions

from skbait.base import QueryStrategy, n_rows
from skbait.embeddings import predict_probabilities
from skbait.strategies._registry import regression_strategies

__all__ = ["SINGLE_CLASS_WARNING", "UncertaintySampling", "ranked_scores", "uncertainty_scores"]

#: Why a classifier of a single class gets a batch drawn at random.
SINGLE_CLASS_WARNING = (
    "The classifier knows a single class, so no row is more uncertain than another; "
    "UncertaintySampling draws the batch at random."
)


def uncertainty_scores(probas, measure="least_confident"):
    """Uncertainty of each row from its class probabilities (larger is more uncertain).

    Parameters
    ----------
    probas : array-like of shape (n_samples, n_classes)
    measure : {"least_confident", "margin", "entropy"}, default="least_confident"
        ``least_confident``: 1 - max_c p_c. ``margin``: the gap between the two
        largest probabilities, negated so that larger is more uncertain
        (``p_(2) - p_(1)``). ``entropy``: -sum_c p_c log p_c, with 0 log 0 = 0.

    Returns
    -------
    scores : ndarray of shape (n_samples,)

    Raises
    ------
    ValueError
        When ``measure`` is unknown, or ``probas`` is not 2-d.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import uncertainty_scores
    >>> P = np.array([[1.0, 0.0], [0.5, 0.5], [0.9, 0.1]])
    >>> uncertainty_scores(P, "least_confident")
    array([0. , 0.5, 0.1])
    >>> uncertainty_scores(P, "entropy").round(3)
    array([0.   , 0.693, 0.325])
    """
    P = np.asarray(probas, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] < 1:
        raise ValueError(f"probas must have shape (n_samples, n_classes), got {P.shape}.")
    if measure == "least_confident":
        if P.shape[1] <= _FEW_CLASSES:
            return 1.0 - np.ascontiguousarray(P.T).max(axis=0)
        return 1.0 - P.max(axis=1)
    if measure == "margin":
        if P.shape[1] == 1:
            return np.full(P.shape[0], -1.0)
        first, second = _top_two(P)
        return second - first
    if measure == "entropy":
        # where= keeps log(0) out of the sum: 0 log 0 = 0 without a warning.
        logs = np.log(P, out=np.zeros_like(P), where=P > 0)
        # Summed in sorted order, so that rows whose probabilities differ only in
        # class order get the same bits (a sum in class order differs in its last ones).
        terms = np.sort(-P * logs, axis=1)
        return terms.sum(axis=1) + 0.0  # + 0.0 turns -0.0 into 0.0
    raise ValueError(
        f"Unknown uncertainty measure {measure!r}: use 'least_confident', 'margin' or 'entropy'."
    )


# Up to this many classes, per-class passes over the transposed probabilities
# beat NumPy's reductions and partitions along rows this short.
_FEW_CLASSES = 32


def _top_two(P):
    """The largest and the second largest entry of each row (equal when the top is tied)."""
    if P.shape[1] > _FEW_CLASSES:
        top2 = np.partition(P, -2, axis=1)[:, -2:]
        return top2[:, 1], top2[:, 0]
    columns = np.ascontiguousarray(P.T)
    first, second = columns[0].copy(), np.full(P.shape[0], -np.inf)
    low = np.empty(P.shape[0])
    for column in columns[1:]:
        np.minimum(first, column, out=low)  # what this column leaves below the top
        np.maximum(second, low, out=second)
        np.maximum(first, column, out=first)
    return first, second


class UncertaintySampling(QueryStrategy):
    """Query the rows the classifier is least sure about.

    The batch is the ``batch_size`` rows with the largest uncertainty score;
    ties go to the lowest row index. Margins and entropies are ranked to 12
    decimals, so that rows equally uncertain in exact arithmetic tie though
    their sums differ in the last bits (vote fractions such as a forest's,
    ``0.4 - 0.3`` and ``0.5 - 0.4``; the same probabilities in another class
    order); the utilities are the ranked scores. Entropy is in nats: bits
    give the same order. The result does not
    depend on ``random_state`` once the classifier knows two classes. A classifier that
    knows a single class makes every row equally certain: the batch is then
    drawn at random (seeded by ``random_state``), with a warning, rather than
    taken from the first rows of the pool; so the strategy is not tagged
    ``deterministic`` (see :func:`~skbait.get_strategy_tags`). It looks
    at each row alone, so a batch may be redundant: that is what BAIT, BADGE
    and CoreSet add.

    Parameters
    ----------
    measure : {"least_confident", "margin", "entropy"}, default="least_confident"
        See :func:`uncertainty_scores`. ``"least_confident"`` is the paper's
        CONFIDENCE baseline.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.strategies import UncertaintySampling
    >>> X = np.linspace(-3, 3, 31).reshape(-1, 1)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = LogisticRegression().fit(X[::5], y[::5])
    >>> idx = UncertaintySampling().select(model, X, labeled=range(0, 31, 5), batch_size=2)
    >>> X[idx, 0]  # the rows closest to the decision boundary, near 0.5
    array([0.6, 0.4])
    """

    _parameter_constraints: dict = {
        "measure": [StrOptions({"least_confident", "margin", "entropy"})],
    }

    def __init__(self, measure="least_confident"):
        self.measure = measure

    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.classifier_only = True
        # Not deterministic: a classifier of one class gets a seeded random draw.
        tags.deterministic = False
        return tags

    def _validate_estimator(self, estimator):
        if not is_classifier(estimator):
            raise TypeError(
                f"UncertaintySampling needs class probabilities, but {type(estimator).__name__} "
                f"is not a classifier. For regression use {regression_strategies()}."
            )

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        unlabeled = np.flatnonzero(~labeled)
        if len(getattr(estimator, "classes_", ())) == 1:
            # One known class: every row is equally certain, so rank none above another.
            warnings.warn(
                SINGLE_CLASS_WARNING,
                UserWarning,
                stacklevel=3,
            )
            return random_state.choice(unlabeled, size=batch_size, replace=False), None
        # Only the unlabeled rows are scored: the labeled ones' probabilities are not needed.
        scores = uncertainty_scores(_predict_rows(estimator, X, unlabeled), self.measure)
        if not np.isfinite(scores).all():
            raise ValueError("The model's probabilities gave non-finite uncertainty scores.")
        # The utilities are the scores ranked, so that they fall as the batch goes on.
        ranked = ranked_scores(scores, self.measure)
        top = top_positions(ranked, batch_size)
        return unlabeled[top], ranked[top]


#: Decimals kept when ranking margins and entropies: far below any meaningful
#: difference, far above the rounding of a sum of a few probabilities.
_RANKING_DECIMALS = 12


def ranked_scores(scores, measure):
    """Scores to rank by: rows equally uncertain in exact arithmetic tie exactly.

    A margin or an entropy is a sum of rounded terms: vote fractions equal in
    exact arithmetic (a forest's or a nearest-neighbour classifier's
    ``0.4 - 0.3`` and ``0.5 - 0.4``) differ in their last bits, and those bits,
    not the lowest row index, would decide between the rows. Least confident,
    ``1 - max p``, has no such sum: its scores are ranked as computed.
    """
    if measure == "least_confident":
        return scores
    return np.round(scores, _RANKING_DECIMALS)


def _predict_rows(estimator, X, rows):
    """Class probabilities of the pool rows ``rows`` (ascending indices into ``X``).

    Pools that can be indexed (arrays, sparse matrices, DataFrames, lists) are
    predicted on those rows only, a contiguous run of them through a view;
    any other form of ``X`` is predicted whole.
    """
    n = rows.size
    if n and rows[-1] - rows[0] + 1 == n:  # one contiguous run (or every row)
        if rows[0] == 0 and n == n_rows(X):
            return predict_probabilities(estimator, X)
        key = slice(int(rows[0]), int(rows[-1]) + 1)
    else:
        key = rows
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return predict_probabilities(estimator, X[key])
    if isinstance(X, list) or hasattr(X, "iloc"):
        return predict_probabilities(estimator, _safe_indexing(X, key))
    return predict_probabilities(estimator, X)[key]


def top_positions(scores, count):
    """Positions of the ``count`` largest scores, best first, ties to the lowest position.

    A partition finds the ``count``-th largest value in O(n); only the rows
    above it (and the first rows equal to it) are sorted, so a batch costs
    O(n + B log B) instead of the O(n log n) of a full sort.
    """
    if count >= scores.size:
        return np.argsort(-scores, kind="stable")
    kth = np.partition(scores, scores.size - count)[scores.size - count]
    above = np.flatnonzero(scores > kth)
    tied = np.flatnonzero(scores == kth)[: count - above.size]
    chosen = np.concatenate([above, tied])
    # A stable sort on the negated scores keeps ties in index order: `above`
    # is ascending, and the tied rows are all below it.
    return chosen[np.argsort(-scores[chosen], kind="stable")]
