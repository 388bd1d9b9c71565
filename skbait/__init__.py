"""Batch active learning for scikit-learn, built around BAIT.

BAIT (Batch Active learning via Information maTrices, Ash et al., NeurIPS 2021)
selects the batch of unlabeled rows that most reduces the trace of the inverse
Fisher information of a model's last layer, weighted by the Fisher of the whole
pool. :class:`ActiveLearner` wraps any scikit-learn estimator and drives the
labeling loop; the strategies live in :mod:`skbait.strategies`.
"""

__version__ = "0.1.0"

import importlib
from typing import TYPE_CHECKING

# The public names load on first use (PEP 562), so that ``skbait --help`` and a
# command-line error do not wait seconds for torch and scikit-learn.
_PUBLIC = {
    "ActiveLearner": "skbait._active_learner",
    "QueryStrategy": "skbait.base",
    "SkorchEmbedding": "skbait._skorch",
    "StrategyTags": "skbait.base",
    "get_strategy_tags": "skbait.base",
}

# Subpackages reachable as attributes after a bare ``import skbait``, as an eager
# import would make them: ``skbait.strategies.BAIT``.
_SUBMODULES = (
    "base",
    "cold_start",
    "datasets",
    "distributed",
    "embeddings",
    "evaluation",
    "plotting",
    "stopping",
    "strategies",
    "utils",
)

__all__ = [
    "ActiveLearner",
    "QueryStrategy",
    "SkorchEmbedding",
    "StrategyTags",
    "__version__",
    "get_strategy_tags",
]

if TYPE_CHECKING:
    from skbait._active_learner import ActiveLearner
    from skbait._skorch import SkorchEmbedding
    from skbait.base import QueryStrategy, StrategyTags, get_strategy_tags


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"skbait.{name}")
    raise AttributeError(f"module 'skbait' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_PUBLIC, *_SUBMODULES})
