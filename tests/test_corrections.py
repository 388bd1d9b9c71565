"""Correcting and retracting labels from Python: ActiveLearner.correct and .retract."""

import pickle
import re

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skbait import ActiveLearner


@pytest.fixture
def data():
    return make_classification(
        n_samples=150, n_features=5, n_informative=3, n_classes=3, random_state=0
    )


def _fitted(X, y, n_known=30, **params):
    y_known = y.astype(float)
    y_known[n_known:] = np.nan
    defaults = dict(query_strategy="margin", batch_size=5, random_state=0)
    return ActiveLearner(LogisticRegression(max_iter=500), **{**defaults, **params}).fit(
        X, y_known
    )


def _reference(X, rows, labels):
    return LogisticRegression(max_iter=500).fit(X[rows], labels)


def test_correct_replaces_labels_refits_and_records(data):
    X, y = data
    al = _fitted(X, y)
    wrong = np.array([4, 9])
    new = (y[wrong] + 1) % 3
    al.correct(wrong, new)
    # The rows keep their place in the labeling order; the model sees the new labels.
    np.testing.assert_array_equal(al.labeled_indices_, np.arange(30))
    labels = y[:30].astype(float)
    labels[wrong] = new
    np.testing.assert_array_equal(al.y_[:30], labels)
    np.testing.assert_allclose(al.estimator_.coef_, _reference(X, np.arange(30), labels).coef_)
    record = al.history_[-1]
    assert record["round"] == 1 and record["n_labeled"] == 30
    np.testing.assert_array_equal(record["corrected"], wrong)
    np.testing.assert_array_equal(record["previous_labels"], y[wrong])
    (change,) = al.label_changes_
    assert change["action"] == "correct" and change["round"] == 1
    np.testing.assert_array_equal(change["indices"], wrong)
    np.testing.assert_array_equal(change["previous_labels"], y[wrong])
    np.testing.assert_array_equal(change["labels"], new)


def test_retract_returns_rows_to_the_pool(data):
    X, y = data
    al = _fitted(X, y)
    idx = al.query()
    al.teach(y=y[idx], indices=idx)
    al.retract([idx[1], 2])
    kept = [r for r in list(range(30)) + idx.tolist() if r not in (idx[1], 2)]
    np.testing.assert_array_equal(al.labeled_indices_, kept)
    np.testing.assert_allclose(al.estimator_.coef_, _reference(X, kept, y[kept]).coef_)
    np.testing.assert_array_equal(al.history_[-1]["retracted"], [idx[1], 2])
    assert al.label_changes_[-1]["labels"] is None
    # Retracted rows can be queried and taught again.
    assert {idx[1], 2} <= set(al.query(batch_size=al.X_.shape[0] - len(kept)).tolist())
    al.teach(y=[y[2]], indices=[2])
    assert al.labeled_indices_[-1] == 2


def test_retracting_every_label_is_a_cold_start(data):
    X, y = data
    al = _fitted(X, y, n_known=6)
    al.retract(np.arange(6))
    assert len(al.labeled_indices_) == 0 and al.history_[-1]["n_labeled"] == 0
    assert len(al.query()) == 5  # the label-free design


def test_a_correction_can_add_a_class_and_retracting_removes_one(data):
    X, y = data
    keep = np.flatnonzero(y != 2)[:20]
    y_known = np.full(len(y), np.nan)
    y_known[keep] = y[keep]
    al = ActiveLearner(LogisticRegression(max_iter=500), batch_size=5, random_state=0)
    al.fit(X, y_known)
    np.testing.assert_array_equal(al.classes_, [0, 1])
    al.correct([keep[0]], [2])
    np.testing.assert_array_equal(al.classes_, [0, 1, 2])
    al.retract([keep[0]])
    np.testing.assert_array_equal(al.classes_, [0, 1])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda al: al.correct([100], [1]), "not labeled"),
        (lambda al: al.correct([3, 3], [1, 1]), "same row twice"),
        (lambda al: al.correct([3], [1, 2]), "2 labels for 1 indices"),
        # The messages name the method called: they said teach().
        (lambda al: al.correct([3], [np.nan]), r"^correct\(\) got missing labels"),
        (lambda al: al.correct([3], ["cat"]), "cannot join labels"),
        (lambda al: al.retract([100]), "not labeled"),
        (lambda al: al.retract([10_000]), "rows of the pool"),
        (lambda al: al.retract([]), "no rows"),
    ],
)
def test_bad_corrections_change_nothing(data, call, match):
    X, y = data
    al = _fitted(X, y)
    before = pickle.dumps(al)
    with pytest.raises((ValueError, TypeError), match=match):
        call(al)
    assert pickle.dumps(al) == before


@pytest.mark.parametrize("kind", ["strings", "regression", "multi-label"])
def test_a_lone_label_not_in_a_sequence_is_refused_by_name(kind):
    # As in scikit-learn, labels are a sequence even for one row; the error was
    # scikit-learn's "Input should have at least 1 dimension ... got scalar".
    from sklearn.linear_model import Ridge
    from sklearn.multiclass import OneVsRestClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    if kind == "strings":
        y, label, model = np.array(["a", "b"] * 20, dtype=object), "a", LogisticRegression()
        y[20:] = None
    elif kind == "regression":
        y, label, model = rng.normal(size=40), 1.5, Ridge()
        y[20:] = np.nan
    else:
        y, label = (rng.rand(40, 3) > 0.5).astype(float), 1
        y[20:] = np.nan
        model = OneVsRestClassifier(LogisticRegression())
    right = [{label}] if kind == "multi-label" else [label]  # one label set, or one label
    al = ActiveLearner(model, random_state=0).fit(X, y)
    before = pickle.dumps(al)
    for call, name in [
        (lambda: al.teach(y=label, indices=[20]), "teach"),
        (lambda: al.teach(X[:1], label), "teach"),
        (lambda: al.correct([0], label), "correct"),
    ]:
        with pytest.raises(
            TypeError, match=rf"^{name}\(\) takes a sequence .*{re.escape(repr(right))} for"
        ):
            call()
        assert pickle.dumps(al) == before
    with pytest.raises(ValueError, match=r"^correct\(\) got a missing label"):
        al.correct([0], None)  # not "pass [None]"
    al.correct([0], right)


def test_a_declared_class_set_refuses_a_correction_outside_it(data):
    X, y = data
    al = _fitted(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="outside the declared classes"):
        al.correct([3], [7])


def test_simulation_labels_are_the_oracle(data):
    X, y = data
    al = ActiveLearner(
        LogisticRegression(max_iter=500), n_initial=10, batch_size=5, budget=20, random_state=0
    ).fit(X, y)
    with pytest.raises(ValueError, match="budget=None"):
        al.correct(al.labeled_indices_[:1], [0])
    with pytest.raises(ValueError, match="budget=None"):
        al.retract(al.labeled_indices_[:1])


class _CrashOnce(ClassifierMixin, BaseEstimator):
    armed = False

    def fit(self, X, y):
        if _CrashOnce.armed:
            _CrashOnce.armed = False
            raise RuntimeError("refit crashed")
        self.inner_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.inner_.classes_
        return self

    def predict(self, X):
        return self.inner_.predict(X)

    def predict_proba(self, X):
        return self.inner_.predict_proba(X)


def test_corrections_survive_a_failed_refit_and_a_pickle(data):
    X, y = data
    y_known = np.full(len(y), np.nan)
    y_known[:30] = y[:30]
    al = ActiveLearner(_CrashOnce(), query_strategy="margin", random_state=0).fit(X, y_known)
    before = al.estimator_
    _CrashOnce.armed = True
    with pytest.raises(RuntimeError, match="refit crashed"):
        al.correct([5], [(y[5] + 1) % 3])
    assert al.estimator_ is before
    assert al.y_[5] == (y[5] + 1) % 3 and len(al.label_changes_) == 1
    al = pickle.loads(pickle.dumps(al))
    assert al.y_[5] == (y[5] + 1) % 3 and al.label_changes_[0]["previous_labels"][0] == y[5]
    _CrashOnce.armed = True
    with pytest.raises(RuntimeError, match="refit crashed"):
        al.retract([6])
    al = pickle.loads(pickle.dumps(al))
    assert 6 not in al.labeled_indices_ and len(al.label_changes_) == 2
    al.teach(y=[y[40]], indices=[40])  # the next refit uses the corrected set
    labels = y[al.labeled_indices_].astype(float)
    labels[list(al.labeled_indices_).index(5)] = (y[5] + 1) % 3
    np.testing.assert_allclose(
        al.estimator_.inner_.coef_, _reference(X, al.labeled_indices_, labels).coef_
    )


def _pool_with_nan_row(X, form):
    X = X.copy()
    X[40, 1] = np.nan
    if form == "DataFrame":
        import pandas as pd

        return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    if form == "sparse":
        import scipy.sparse as sp

        return sp.csr_matrix(X)
    return X


@pytest.mark.parametrize("form", ["array", "DataFrame", "sparse"])
def test_a_refit_the_model_refuses_says_the_labels_are_kept_and_the_way_out(data, form):
    """A taught row with NaN made every later refit fail with the model's message alone:
    nothing said that the labels were kept, which row the model refused, nor that
    retract() was the way out."""
    X, y = data
    pool = _pool_with_nan_row(X, form)
    al = _fitted(pool, y, query_strategy="random")
    with pytest.raises(ValueError) as refused:
        al.teach(y=[y[40]], indices=[40])
    message = str(refused.value)
    assert "Input X contains NaN" in message  # the model's own words
    assert "labels are kept" in message and "learner.retract([40])" in message
    assert isinstance(refused.value.__cause__, ValueError)  # chained, not swallowed
    assert 40 in al.labeled_indices_
    # Every later refit fails the same way, and says so: teach, correct, retract.
    for call in (
        lambda: al.teach(y=[y[41]], indices=[41]),
        lambda: al.correct([3], [(y[3] + 1) % 3]),
        lambda: al.retract([4]),
    ):
        with pytest.raises(ValueError, match=r"labels are kept.*learner\.retract\(\[40\]\)"):
            call()
    assert 41 in al.labeled_indices_ and 4 not in al.labeled_indices_
    al.retract([40])  # the way out: the refit takes every other label
    assert 40 not in al.labeled_indices_
    rows = al.labeled_indices_
    labels = al.y_[rows]
    np.testing.assert_allclose(al.estimator_.coef_, _reference(X, rows, labels).coef_)


class _RefusesLargeValues(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        if np.abs(X).max() > 1e3:
            raise ValueError("values above 1000 are not taken")
        self.inner_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.inner_.classes_
        return self

    def predict(self, X):
        return self.inner_.predict(X)

    def predict_proba(self, X):
        return self.inner_.predict_proba(X)


def test_a_refit_refused_for_rows_it_cannot_name_still_says_the_way_out(data):
    X, y = data
    X = X.copy()
    X[40, 0] = 1e6
    y_known = np.where(np.arange(len(y)) < 30, y, np.nan)
    al = ActiveLearner(_RefusesLargeValues(), query_strategy="random").fit(X, y_known)
    with pytest.raises(ValueError, match="values above 1000") as refused:
        al.teach(y=[y[40]], indices=[40])
    message = str(refused.value)
    assert "labels are kept" in message and "learner.retract(" in message
    assert "[40]" not in message  # no NaN or infinity to point at
    assert refused.value.__cause__ is not None
