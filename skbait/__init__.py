"""Batch active learning for scikit-learn, built around BAIT.

BAIT (Batch Active learning via Information maTrices, Ash et al., NeurIPS 2021)
selects the batch of unlabeled rows that most reduces the trace of the inverse
Fisher information of a model's last layer, weighted by the Fisher of the whole
pool. :class:`ActiveLearner` wraps any scikit-learn estimator and drives the
labeling loop; the strategies live in :mod:`skbait.strategies`.
"""

__version__ = "0.1.0"

from skbait._active_learner import ActiveLearner
from skbait._skorch import SkorchEmbedding
from skbait.base import QueryStrategy, StrategyTags, get_strategy_tags

__all__ = [
    "ActiveLearner",
    "QueryStrategy",
    "SkorchEmbedding",
    "StrategyTags",
    "__version__",
    "get_strategy_tags",
]
