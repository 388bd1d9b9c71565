"""From an estimator to the arrays of a Fisher-based strategy: embeddings and probabilities.

Kept out of the core (:mod:`skbait._fisher`), which sees arrays only.
"""

import warnings

from sklearn.base import is_classifier

from skbait.embeddings import embed
from skbait.utils._warnings import caller_stacklevel

__all__ = ["fisher_inputs"]


def fisher_inputs(estimator, X, embedding, strategy_name):
    """Embeddings and probabilities for a Fisher-based strategy.

    A classifier that knows a single class has zero last-layer information;
    the strategy then works on the embedding's rank-one information (as for
    regression), with a warning.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.strategies._fisher_inputs import fisher_inputs
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> Z, P = fisher_inputs(model, X, None, "BAIT")
    >>> Z.shape, P.shape
    ((4, 1), (4, 2))
    """
    Z, P = embed(estimator, X, proba=is_classifier(estimator), embedding=embedding)
    if P is not None and P.shape[1] < 2:
        warnings.warn(
            "The classifier knows a single class, so its last-layer information is zero; "
            f"{strategy_name} falls back to the embedding's rank-one information.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        P = None
    return Z, P
