"""Query strategies: BAIT and the paper's rivals.

Every strategy is a :class:`~skbait.QueryStrategy` and can be passed to
:class:`~skbait.ActiveLearner` as an instance or by name (see
:func:`available_strategies`).
"""

from skbait.strategies._random import RandomSampling
from skbait.strategies._registry import available_strategies, make_strategy, register_strategy
from skbait.strategies._uncertainty import UncertaintySampling, uncertainty_scores

register_strategy("random", RandomSampling)
register_strategy("uncertainty", UncertaintySampling)
register_strategy("confidence", lambda: UncertaintySampling(measure="least_confident"))
register_strategy("margin", lambda: UncertaintySampling(measure="margin"))
register_strategy("entropy", lambda: UncertaintySampling(measure="entropy"))

__all__ = [
    "RandomSampling",
    "UncertaintySampling",
    "available_strategies",
    "make_strategy",
    "register_strategy",
    "uncertainty_scores",
]
