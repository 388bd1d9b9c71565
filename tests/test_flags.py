"""A True/False parameter refuses every other value, instead of reading it as truthy."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from skbait import ActiveLearner
from skbait.embeddings import embed
from skbait.plotting import plot_selection_time
from skbait.strategies import BADGE, badge_select, coreset_select, multilabel_badge_select

matplotlib.use("Agg")

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3))
y = (X[:, 0] > 0).astype(int)
P = np.column_stack([1 - (X[:, 0] > 0) * 0.8 - 0.1, (X[:, 0] > 0) * 0.8 + 0.1])
LABELED = np.arange(6)


def _learner():
    return ActiveLearner(LogisticRegression(), query_strategy="margin").fit(X[:10], y[:10])


CALLS = {
    "ActiveLearner.query": lambda flag: _learner().query(X, return_utilities=flag),
    "QueryStrategy.select": lambda flag: BADGE().select(
        LogisticRegression().fit(X[:10], y[:10]), X, LABELED, 2, return_utilities=flag
    ),
    "badge_select": lambda flag: badge_select(X, P, LABELED, 2, return_utilities=flag),
    "coreset_select": lambda flag: coreset_select(X, LABELED, 2, return_utilities=flag),
    "multilabel_badge_select": lambda flag: multilabel_badge_select(
        X, P, LABELED, 2, return_utilities=flag
    ),
    "embed": lambda flag: embed(LogisticRegression().fit(X, y), X, proba=flag),
    "plot_selection_time": lambda flag: plot_selection_time(
        pd.DataFrame(
            {"strategy": ["a", "b"], "seed": 0, "n_labeled": 10, "score": 0.5,
             "selection_seconds": [0.1, 0.2]}
        ),
        log=flag,
    ),
}  # fmt: skip


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
@pytest.mark.parametrize("flag", ["yes", "False", 1.0, None])
def test_a_flag_refuses_what_is_not_true_or_false(call, flag):
    if flag is None and call is CALLS["plot_selection_time"]:
        pytest.skip("plot_selection_time's log=None means: choose by the times' spread")
    with pytest.raises(TypeError, match=r"must be True or False, got"):
        call(flag)


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
@pytest.mark.parametrize("flag", [True, False, np.True_, np.False_])
def test_a_flag_takes_true_and_false_numpy_ones_too(call, flag):
    call(flag)
