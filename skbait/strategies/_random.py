"""Uniform random sampling: the baseline every strategy is measured against."""

import numpy as np

from skbait.base import QueryStrategy

__all__ = ["RandomSampling"]


class RandomSampling(QueryStrategy):
    """Query unlabeled rows uniformly at random, without replacement.

    The paper's RANDOM baseline. It ignores the model, so it serves classifiers
    and regressors alike and costs nothing but the draw.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skbait.strategies import RandomSampling
    >>> X = np.random.RandomState(0).normal(size=(50, 3))
    >>> model = Ridge().fit(X[:5], X[:5, 0])
    >>> idx = RandomSampling().select(model, X, labeled=range(5), batch_size=4, random_state=0)
    >>> len(idx), bool(np.all(idx >= 5))
    (4, True)
    """

    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.multilabel = True  # ignores the model: any target
        return tags

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        unlabeled = np.flatnonzero(~labeled)
        return random_state.choice(unlabeled, size=batch_size, replace=False), None
