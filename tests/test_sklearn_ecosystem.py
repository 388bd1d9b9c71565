"""ActiveLearner among scikit-learn's meta-estimators and its metadata routing."""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.ensemble import RandomForestClassifier, StackingClassifier, StackingRegressor
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from skbait import ActiveLearner
from skbait.strategies import available_strategies


def simulated(estimator, **params):
    defaults = dict(n_initial=12, batch_size=6, budget=24, random_state=0)
    return ActiveLearner(estimator, **{**defaults, **params})


@pytest.mark.parametrize("strategy", ["bait", "margin"])
def test_stacking_with_its_default_final_estimator_is_accepted(strategy):
    # An unfitted stacking model hides predict while final_estimator=None (the default,
    # a LogisticRegression or RidgeCV built in fit): it was refused as lacking predict.
    X, y = make_classification(120, 5, n_informative=3, n_classes=3, random_state=0)
    stack = StackingClassifier(
        [("lr", LogisticRegression()), ("knn", KNeighborsClassifier(3))], cv=2
    )
    al = simulated(stack, query_strategy=strategy).fit(X, y)
    assert len(al.labeled_indices_) == 24
    assert al.predict_proba(X).shape == (120, 3)

    Xr, yr = make_regression(120, 5, random_state=0)
    al = simulated(StackingRegressor([("ridge", Ridge())], cv=2)).fit(Xr, yr)
    assert al.predict(Xr).shape == (120,)


def test_an_estimator_that_cannot_predict_is_refused_clearly():
    X, y = make_classification(60, 4, random_state=0)
    with pytest.raises(TypeError, match="StandardScaler.*neither a classifier nor a regressor"):
        simulated(StandardScaler()).fit(X, y)


def _weighted_fit_request(estimator):
    return estimator.set_fit_request(sample_weight=True)


def test_sample_weight_requested_by_the_estimator_is_a_clear_error_not_ignored():
    # With metadata routing, a weight the wrapped model requests went nowhere: the
    # learner trained unweighted, and cross_val_score blamed ActiveLearner.score.
    X, y = make_classification(120, 5, n_informative=3, n_classes=3, random_state=0)
    weights = np.ones(len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        al = simulated(_weighted_fit_request(LogisticRegression()), query_strategy="random")
        routing = al.get_metadata_routing()
        assert routing.consumes("fit", ["sample_weight"]) == {"sample_weight"}
        with pytest.raises(TypeError, match="does not take sample_weight.*set_fit_request"):
            cross_val_score(al, X, y, cv=2, params={"sample_weight": weights}, error_score="raise")
        # Weights may still weigh the score, once the model declines them.
        unweighted = LogisticRegression().set_fit_request(sample_weight=False)
        al = simulated(unweighted, query_strategy="random").set_score_request(sample_weight=True)
        scores = cross_val_score(al, X, y, cv=2, params={"sample_weight": weights})
        assert np.isfinite(scores).all()
        # A model that neither requests nor declines them gets scikit-learn's own error.
        with pytest.raises(UnsetMetadataPassedError, match="LogisticRegression.set_fit_request"):
            simulated(LogisticRegression()).fit(X, y, sample_weight=weights)
    with pytest.raises(TypeError, match="does not take sample_weight"):
        simulated(LogisticRegression()).fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("strategy", available_strategies())
def test_multi_label_tags_say_what_fit_takes(strategy):
    # The tags were the model's: a forest with a strategy of one label per row (entropy)
    # claimed multi-label support, and check_estimator's multi-label checks failed in fit.
    X, Y = make_multilabel_classification(60, 5, n_classes=3, random_state=0)
    for model in (RandomForestClassifier(n_estimators=5, random_state=0), LogisticRegression()):
        al = simulated(model, query_strategy=strategy, n_initial=10, batch_size=5, budget=20)
        tags = get_tags(al)
        try:
            al.fit(X, Y)
            takes_label_sets = True
        except ValueError as exc:
            assert "multi-label" in str(exc) or "multilabel" in str(exc)
            takes_label_sets = False
        assert tags.classifier_tags.multi_label is takes_label_sets
        assert tags.target_tags.multi_output is takes_label_sets
        assert tags.target_tags.single_output
