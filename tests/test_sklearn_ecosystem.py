"""ActiveLearner among scikit-learn's meta-estimators and its metadata routing."""

import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import StackingClassifier, StackingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from skbait import ActiveLearner


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
