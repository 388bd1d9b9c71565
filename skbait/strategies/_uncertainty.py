"""Uncertainty sampling: least confident (the paper's CONFIDENCE), margin, entropy."""

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils._param_validation import StrOptions

from skbait.base import QueryStrategy
from skbait.embeddings import predict_probabilities

__all__ = ["UncertaintySampling", "uncertainty_scores"]


def uncertainty_scores(probas, measure="least_confident"):
    """Uncertainty of each row from its class probabilities (larger is more uncertain).

    Parameters
    ----------
    probas : array-like of shape (n_samples, n_classes)
    measure : {"least_confident", "margin", "entropy"}
        ``least_confident``: 1 - max_c p_c. ``margin``: the gap between the two
        largest probabilities, negated so that larger is more uncertain
        (``p_(2) - p_(1)``). ``entropy``: -sum_c p_c log p_c, with 0 log 0 = 0.

    Returns
    -------
    scores : ndarray of shape (n_samples,)

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
        return 1.0 - P.max(axis=1)
    if measure == "margin":
        if P.shape[1] == 1:
            return np.full(P.shape[0], -1.0)
        top2 = np.partition(P, -2, axis=1)[:, -2:]
        return top2[:, 0] - top2[:, 1]
    if measure == "entropy":
        # where= keeps log(0) out of the sum: 0 log 0 = 0 without a warning.
        logs = np.log(P, out=np.zeros_like(P), where=P > 0)
        return (-P * logs).sum(axis=1) + 0.0  # + 0.0 turns -0.0 into 0.0
    raise ValueError(
        f"Unknown uncertainty measure {measure!r}: use 'least_confident', 'margin' or 'entropy'."
    )


class UncertaintySampling(QueryStrategy):
    """Query the rows the classifier is least sure about.

    The batch is the ``batch_size`` rows with the largest uncertainty score;
    ties go to the lowest row index, so the result is deterministic. It looks
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
        tags.deterministic = True
        return tags

    def _validate_estimator(self, estimator):
        if not is_classifier(estimator):
            raise TypeError(
                f"UncertaintySampling needs class probabilities, but {type(estimator).__name__} "
                "is not a classifier. For regression use 'bait', 'coreset' or 'random'."
            )

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        unlabeled = np.flatnonzero(~labeled)
        scores = uncertainty_scores(predict_probabilities(estimator, X), self.measure)
        if not np.isfinite(scores).all():
            raise ValueError("The model's probabilities gave non-finite uncertainty scores.")
        # A stable sort on the negated scores keeps ties in index order.
        order = np.argsort(-scores[unlabeled], kind="stable")[:batch_size]
        chosen = unlabeled[order]
        return chosen, scores[chosen]
