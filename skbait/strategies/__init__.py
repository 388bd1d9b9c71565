"""Query strategies: BAIT and the paper's rivals.

Every strategy is a :class:`~skbait.QueryStrategy` and can be passed to
:class:`~skbait.ActiveLearner` as an instance or by name (see
:func:`available_strategies`).
"""

from skbait._approximations import FisherApproximation, choose_approximation
from skbait.strategies._badge import BADGE, badge_select
from skbait.strategies._bait import BAIT, bait_objective, bait_select, scaled_reg
from skbait.strategies._coreset import CoreSet, coreset_select
from skbait.strategies._labeled_set_objective import label_sets_objective, labeled_set_objective
from skbait.strategies._logdet import LogDet, logdet_select
from skbait.strategies._multilabel import (
    MultiLabelBADGE,
    MultiLabelBAIT,
    MultiLabelUncertainty,
    multilabel_badge_select,
    multilabel_bait_objective,
    multilabel_bait_select,
    multilabel_strategy_name,
    multilabel_uncertainty_scores,
    predict_label_probabilities,
    predict_label_sets,
)
from skbait.strategies._random import RandomSampling
from skbait.strategies._registry import available_strategies, make_strategy, register_strategy
from skbait.strategies._uncertainty import UncertaintySampling, uncertainty_scores

register_strategy("random", RandomSampling)
register_strategy("uncertainty", UncertaintySampling)
register_strategy("confidence", lambda: UncertaintySampling(measure="least_confident"))
register_strategy("margin", lambda: UncertaintySampling(measure="margin"))
register_strategy("entropy", lambda: UncertaintySampling(measure="entropy"))
register_strategy("badge", BADGE)
register_strategy("coreset", CoreSet)
register_strategy("bait", BAIT)
register_strategy("logdet", LogDet)
register_strategy("logdet_rank1", lambda: LogDet(fisher="rank1"))
register_strategy("multilabel_bait", MultiLabelBAIT)
register_strategy("multilabel_logdet", lambda: MultiLabelBAIT(objective="logdet", backward=False))
register_strategy("multilabel_badge", MultiLabelBADGE)
register_strategy("multilabel_margin", MultiLabelUncertainty)
register_strategy("multilabel_min_margin", lambda: MultiLabelUncertainty(measure="min_margin"))

__all__ = [
    "BADGE",
    "BAIT",
    "CoreSet",
    "FisherApproximation",
    "LogDet",
    "MultiLabelBADGE",
    "MultiLabelBAIT",
    "MultiLabelUncertainty",
    "RandomSampling",
    "UncertaintySampling",
    "available_strategies",
    "badge_select",
    "bait_objective",
    "bait_select",
    "choose_approximation",
    "coreset_select",
    "label_sets_objective",
    "labeled_set_objective",
    "logdet_select",
    "make_strategy",
    "multilabel_badge_select",
    "multilabel_bait_objective",
    "multilabel_bait_select",
    "multilabel_strategy_name",
    "multilabel_uncertainty_scores",
    "predict_label_probabilities",
    "predict_label_sets",
    "register_strategy",
    "scaled_reg",
    "uncertainty_scores",
]
