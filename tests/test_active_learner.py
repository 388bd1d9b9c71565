"""ActiveLearner: the simulated and real labeling loops, delegation, the sklearn contract."""

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier, is_regressor
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, StratifiedKFold, check_cv, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbait import ActiveLearner
from skbait.strategies import BAIT, RandomSampling, UncertaintySampling, make_strategy


@pytest.fixture
def clf_data():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X, y


@pytest.fixture
def reg_data():
    return make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)


def simulated(estimator=None, **params):
    defaults = dict(query_strategy="margin", n_initial=10, batch_size=7, budget=45, random_state=0)
    defaults.update(params)
    return ActiveLearner(estimator or LogisticRegression(max_iter=500), **defaults)


# --------------------------------------------------------------- simulation


def test_simulation_spends_the_budget_exactly(clf_data):
    X, y = clf_data
    al = simulated().fit(X, y, eval_set=(X[:50], y[:50]))
    # 10 initial, then batches of 7 with the last one cut to reach 45.
    assert [r["n_labeled"] for r in al.history_] == [10, 17, 24, 31, 38, 45]
    assert [len(r["indices"]) for r in al.history_] == [7, 7, 7, 7, 7, 0]
    assert len(al.labeled_indices_) == 45
    assert np.unique(al.labeled_indices_).size == 45
    # labeled_indices_ is the initial draw followed by each round's query, in order.
    np.testing.assert_array_equal(
        al.labeled_indices_[10:], np.concatenate([r["indices"] for r in al.history_])
    )
    assert all(np.isfinite(r["eval_score"]) for r in al.history_)
    assert all(r["fit_seconds"] >= 0 for r in al.history_)
    assert np.isnan(al.history_[-1]["query_seconds"])
    assert all(r["query_seconds"] >= 0 for r in al.history_[:-1])
    assert [r["round"] for r in al.history_] == list(range(6))


def test_simulation_model_sees_only_labeled_rows(clf_data):
    X, y = clf_data
    al = simulated().fit(X, y)
    reference = LogisticRegression(max_iter=500).fit(
        X[al.labeled_indices_], y[al.labeled_indices_]
    )
    np.testing.assert_allclose(al.estimator_.coef_, reference.coef_)
    np.testing.assert_allclose(
        al.history_[-1]["train_score"],
        reference.score(X[al.labeled_indices_], y[al.labeled_indices_]),
    )


def test_simulation_uncertainty_queries_the_margin_rows(clf_data):
    """Each round's query is what the strategy says for that round's model."""
    X, y = clf_data
    al = simulated(batch_size=5, budget=20).fit(X, y)
    labeled = al.labeled_indices_[:10]
    model = LogisticRegression(max_iter=500).fit(X[labeled], y[labeled])
    expected = UncertaintySampling("margin").select(model, X, labeled, 5)
    np.testing.assert_array_equal(al.history_[0]["indices"], expected)


def test_simulation_is_reproducible_and_seed_dependent(clf_data):
    X, y = clf_data
    a = simulated(query_strategy="random").fit(X, y).labeled_indices_
    b = simulated(query_strategy="random").fit(X, y).labeled_indices_
    c = simulated(query_strategy="random", random_state=1).fit(X, y).labeled_indices_
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_initial_draw_is_shared_across_strategies(clf_data):
    """Paired comparisons need the same start for every strategy at one seed."""
    X, y = clf_data
    a = simulated(query_strategy="random").fit(X, y).labeled_indices_[:10]
    b = simulated(query_strategy="entropy").fit(X, y).labeled_indices_[:10]
    np.testing.assert_array_equal(a, b)


def test_budget_equal_to_pool_labels_everything(clf_data):
    X, y = clf_data
    X, y = X[:40], y[:40]
    al = simulated(batch_size=8, budget=40).fit(X, y)
    assert sorted(al.labeled_indices_.tolist()) == list(range(40))


def test_regression_simulation(reg_data):
    X, y = reg_data
    al = simulated(Ridge(), query_strategy="random").fit(X, y, eval_set=(X, y))
    assert is_regressor(al)
    assert al.history_[-1]["n_labeled"] == 45
    assert al.predict(X).shape == (200,)
    assert not hasattr(al, "predict_proba")


@pytest.mark.parametrize("strategy", ["bait", "random"])
def test_scoring_scores_every_round_in_the_targets_units(reg_data, strategy):
    # A regression user compares rounds by RMSE: history_ scores each round's model with
    # the scorer, on the labeled rows and on eval_set; score() stays the model's own R^2.
    from sklearn.metrics import mean_absolute_error, root_mean_squared_error

    X, y = reg_data
    X_pool, y_pool, X_test, y_test = X[:150], y[:150], X[150:], y[150:]
    al = simulated(Ridge(), query_strategy=strategy, scoring="neg_root_mean_squared_error")
    al.fit(X_pool, y_pool, eval_set=(X_test, y_test))
    last = al.history_[-1]
    rows = al.labeled_indices_
    assert last["eval_score"] == pytest.approx(
        -root_mean_squared_error(y_test, al.predict(X_test))
    )
    assert last["train_score"] == pytest.approx(
        -root_mean_squared_error(y_pool[rows], al.predict(X_pool[rows]))
    )
    assert al.score(X_test, y_test) == pytest.approx(al.estimator_.score(X_test, y_test))
    # The same rows as without scoring: it reads the models, it does not steer them.
    plain = simulated(Ridge(), query_strategy=strategy).fit(X_pool, y_pool)
    assert plain.labeled_indices_.tolist() == rows.tolist()

    def mae(estimator, X, y):
        return mean_absolute_error(y, estimator.predict(X))

    al.set_params(scoring=mae).fit(X_pool, y_pool, eval_set=(X_test, y_test))
    assert al.history_[-1]["eval_score"] == pytest.approx(mae(al, X_test, y_test))
    with pytest.raises(ValueError, match="'scoring' parameter of ActiveLearner"):
        al.set_params(scoring="rmse").fit(X_pool, y_pool)


class CountingLogReg(LogisticRegression):
    """Counts fits on the instance, to tell fresh clones from warm starts."""

    def fit(self, X, y, sample_weight=None):
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        return super().fit(X, y, sample_weight=sample_weight)


def test_retrains_fresh_clone_by_default_and_warm_start_reuses(clf_data):
    X, y = clf_data
    cold = simulated(CountingLogReg(max_iter=500)).fit(X, y)
    assert cold.estimator_.n_fits_ == 1
    assert cold.estimator_.warm_start is False
    warm = simulated(CountingLogReg(max_iter=500), warm_start=True).fit(X, y)
    assert warm.estimator_.n_fits_ == len(warm.history_)
    assert warm.estimator_.warm_start is True


def test_single_class_initial_draw_uses_the_strategys_fallback_then_recovers():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 3))
    y = np.zeros(100, dtype=int)
    y[:5] = 1  # 5% positives: a 3-row initial draw is likely all zeros
    al = ActiveLearner(
        LogisticRegression(),
        query_strategy="margin",
        n_initial=3,
        batch_size=30,
        budget=93,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="single class") as caught:
        al.fit(X, y)
    messages = [str(w.message) for w in caught]
    # The learner says why, and the strategy (not the learner) chose its fallback.
    assert any("stand-in predicts that class" in m for m in messages)
    assert any("UncertaintySampling draws the batch at random" in m for m in messages)
    assert np.unique(y[al.labeled_indices_[:3]]).size == 1
    # The fallback found the positives; the final model is a real classifier.
    assert isinstance(al.estimator_, LogisticRegression)
    assert al.predict_proba(X).shape == (100, 2)


def test_classes_absent_from_labeled_rows_get_zero_probability():
    X, y = make_classification(n_samples=200, n_classes=4, n_informative=4, random_state=0)
    y_rare = y.copy()
    y_rare[y_rare == 3] = 2
    y_rare[0] = 3  # a class with one row, unlikely to be queried
    al = ActiveLearner(
        LogisticRegression(),
        query_strategy="random",
        n_initial=5,
        batch_size=5,
        budget=10,
        random_state=0,
    ).fit(X, y_rare)
    assert 0 not in al.labeled_indices_
    np.testing.assert_array_equal(al.classes_, [0, 1, 2, 3])
    proba = al.predict_proba(X)
    assert proba.shape == (200, 4)
    np.testing.assert_array_equal(proba[:, 3], 0.0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_decision_function_is_placed_among_classes_like_predict_proba():
    X, y = make_classification(n_samples=200, n_classes=4, n_informative=4, random_state=0)
    y_rare = np.where(y == 3, 2, y)
    y_rare[0] = 3  # a class with one row, not queried
    al = ActiveLearner(
        LogisticRegression(),
        query_strategy="random",
        n_initial=5,
        batch_size=5,
        budget=10,
        random_state=0,
    ).fit(X, y_rare)
    assert 0 not in al.labeled_indices_
    scores = al.decision_function(X)
    assert scores.shape == (200, 4)
    np.testing.assert_array_equal(scores[:, 3], -np.inf)
    np.testing.assert_allclose(scores[:, :3], al.estimator_.decision_function(X))
    np.testing.assert_array_equal(al.classes_[scores.argmax(axis=1)], al.predict(X))


def test_a_two_class_model_among_three_classes_scores_both_columns():
    X, y = make_classification(n_samples=200, n_classes=3, n_informative=3, random_state=1)
    al = ActiveLearner(LogisticRegression(), classes=[0, 1, 2], query_strategy="random")
    y_partial = np.where(y == 2, np.nan, y)
    al.fit(X, y_partial)
    s = al.estimator_.decision_function(X)
    scores = al.decision_function(X)
    np.testing.assert_allclose(scores[:, :2], np.c_[-s, s])
    np.testing.assert_array_equal(scores[:, 2], -np.inf)
    np.testing.assert_array_equal(al.classes_[scores.argmax(axis=1)], al.predict(X))


@pytest.mark.parametrize(
    "classes, labels",
    [([0, 1, 2], [0.0, 1.0, 2.0]), ([0.0, 1.0, 2.0], [0, 1, 2]), (["a", "b", "c"], ["a", "b"])],
)
def test_predict_gives_labels_of_the_declared_classes_dtype(classes, labels):
    # As SGDClassifier.partial_fit(classes=...) does: predict takes its labels from
    # classes_. Float labels (NaN for the unlabeled rows) among classes=[0, 1, 2]
    # were predicted as floats beside an int64 classes_.
    X, _ = make_classification(n_samples=60, n_classes=3, n_informative=3, random_state=0)
    y = np.array([labels[i % len(labels)] for i in range(60)], dtype=object)
    y[30:] = None
    if isinstance(labels[0], float):
        y = y.astype(float)
    al = ActiveLearner(LogisticRegression(), classes=classes, query_strategy="random").fit(X, y)
    predicted = al.predict(X)
    assert predicted.dtype == al.classes_.dtype
    assert set(predicted.tolist()) <= set(al.classes_.tolist())
    np.testing.assert_array_equal(predicted, al.estimator_.predict(X).astype(al.classes_.dtype))
    al.teach(y=[classes[-1]] * 3, indices=[30, 31, 32])  # and after teach
    assert al.predict(X).dtype == al.classes_.dtype


class FailingAfter(ClassifierMixin, BaseEstimator):
    """Raises (once) on the fit that sees more than ``limit`` rows."""

    def __init__(self, limit=20, error=RuntimeError):
        self.limit = limit
        self.error = error

    def fit(self, X, y):
        if len(X) > self.limit and not FailingAfter.disarmed:
            FailingAfter.disarmed = True
            raise self.error("labeler's model crashed")
        self.inner_ = LogisticRegression().fit(X, y)
        self.classes_ = self.inner_.classes_
        return self

    def predict(self, X):
        return self.inner_.predict(X)

    def predict_proba(self, X):
        return self.inner_.predict_proba(X)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_interrupted_simulation_keeps_labels_and_resumes_identically(clf_data, error):
    X, y = clf_data
    params = dict(query_strategy="margin", n_initial=10, batch_size=5, budget=40, random_state=3)
    FailingAfter.disarmed = True
    reference = ActiveLearner(FailingAfter(limit=20), **params).fit(X, y)

    FailingAfter.disarmed = False
    al = ActiveLearner(FailingAfter(limit=20, error=error), **params)
    with pytest.raises(error):
        al.fit(X, y)
    # Every revealed label is kept, the history is consistent with it.
    assert len(al.labeled_indices_) == 25
    assert al.history_[-1]["n_labeled"] == 20
    np.testing.assert_array_equal(al.labeled_indices_, reference.labeled_indices_[:25])
    resumed = pickle.loads(pickle.dumps(al)).resume(X, y)
    np.testing.assert_array_equal(resumed.labeled_indices_, reference.labeled_indices_)
    assert [r["n_labeled"] for r in resumed.history_] == [
        r["n_labeled"] for r in reference.history_
    ]


def test_resume_needs_a_simulation(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="resume"):
        ActiveLearner(LogisticRegression(), budget=None).resume(X, y)


# ----------------------------------------------------------- real labeling


def real_learner(**params):
    defaults = dict(query_strategy="margin", batch_size=5, random_state=0)
    defaults.update(params)
    return ActiveLearner(LogisticRegression(max_iter=500), **defaults)


def partial_labels(y, n_known=30, missing=np.nan):
    y_partial = y.astype(float if np.isnan(missing) else y.dtype).copy()
    y_partial[n_known:] = missing
    return y_partial


@pytest.mark.parametrize("missing", [-1, np.nan])
def test_real_labeling_trains_on_known_labels_only(clf_data, missing):
    X, y = clf_data
    al = real_learner(missing_label=missing).fit(X, partial_labels(y, missing=missing))
    np.testing.assert_array_equal(al.labeled_indices_, np.arange(30))
    reference = LogisticRegression(max_iter=500).fit(X[:30], y[:30])
    np.testing.assert_allclose(al.estimator_.coef_, reference.coef_)
    idx = al.query()
    assert len(idx) == 5 and idx.min() >= 30 and np.unique(idx).size == 5


def test_query_teach_loop(clf_data):
    X, y = clf_data
    al = real_learner().fit(X, partial_labels(y))
    for _ in range(3):
        idx = al.query()
        assert not np.isin(idx, al.labeled_indices_).any()
        al.teach(y=y[idx], indices=idx)
    assert len(al.labeled_indices_) == 45
    assert [r["n_labeled"] for r in al.history_] == [30, 35, 40, 45]
    reference = LogisticRegression(max_iter=500).fit(
        X[al.labeled_indices_], y[al.labeled_indices_]
    )
    np.testing.assert_allclose(al.estimator_.coef_, reference.coef_)


def test_query_external_rows_and_teach_new_rows(clf_data):
    X, y = clf_data
    al = real_learner().fit(X[:30], y[:30])
    idx = al.query(X[100:200], batch_size=4)
    assert idx.shape == (4,) and idx.min() >= 0 and idx.max() < 100
    expected = UncertaintySampling("margin").select(al.estimator_, X[100:200], None, 4)
    np.testing.assert_array_equal(idx, expected)
    al.teach(X[100:200][idx], y[100:200][idx])
    assert al.X_.shape[0] == 34
    np.testing.assert_array_equal(al.labeled_indices_, np.arange(34))


def test_query_returns_utilities(clf_data):
    X, y = clf_data
    al = real_learner().fit(X, partial_labels(y))
    idx, util = al.query(return_utilities=True)
    assert util.shape == idx.shape and np.all(np.diff(util) <= 0)


def test_failed_refit_keeps_taught_labels(clf_data):
    X, y = clf_data
    FailingAfter.disarmed = False
    al = ActiveLearner(
        FailingAfter(limit=32), query_strategy="margin", batch_size=5, random_state=0
    ).fit(X, partial_labels(y))
    before = al.estimator_
    idx = al.query()
    with pytest.raises(RuntimeError, match="crashed"):
        al.teach(y=y[idx], indices=idx)
    assert al.estimator_ is before
    assert np.isin(idx, al.labeled_indices_).all()
    np.testing.assert_array_equal(al.y_[idx], y[idx])
    idx2 = al.query()
    al.teach(y=y[idx2], indices=idx2)  # the next refit uses every label
    assert al.history_[-1]["n_labeled"] == 40


class InterruptedAt(ClassifierMixin, BaseEstimator):
    """A logistic regression whose fit on ``at`` rows raises KeyboardInterrupt, once."""

    armed = True

    def __init__(self, at=40):
        self.at = at

    def fit(self, X, y):
        if len(X) == self.at and InterruptedAt.armed:
            InterruptedAt.armed = False
            raise KeyboardInterrupt
        self.inner_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.inner_.classes_
        return self

    def predict(self, X):
        return self.inner_.predict(X)

    def predict_proba(self, X):
        return self.inner_.predict_proba(X)


@pytest.mark.parametrize("strategy", ["margin", "bait", "random"])
def test_query_after_an_interrupted_refit_picks_as_an_uninterrupted_loop(clf_data, strategy):
    # Ctrl-C in teach()'s refit kept the labels, but the next query ranked rows with
    # the model of fewer labels: the loop then went on with other picks.
    X, y = clf_data

    def loop(interrupt):
        InterruptedAt.armed = interrupt
        al = ActiveLearner(InterruptedAt(at=35), query_strategy=strategy, batch_size=5)
        al.set_params(random_state=0).fit(X, partial_labels(y))
        picks = []
        for _ in range(4):
            idx = al.query()
            picks.append(idx.tolist())
            try:
                al.teach(y=y[idx], indices=idx)
            except KeyboardInterrupt:
                assert len(al.labeled_indices_) == 35
                assert al.history_[-1]["n_labeled"] == 30  # the model of 30 labels
                al = pickle.loads(pickle.dumps(al))  # the notebook saved it meanwhile
        assert not InterruptedAt.armed
        return picks, al

    reference, finished = loop(False)
    picks, al = loop(True)
    assert picks == reference
    assert [r["n_labeled"] for r in al.history_] == [r["n_labeled"] for r in finished.history_]
    for before, after in zip(al.history_, al.history_[1:]):
        assert after["n_labeled"] == before["n_labeled"] + len(before["indices"])


def test_a_query_whose_pending_refit_fails_again_warns_and_uses_the_previous_model(clf_data):
    X, y = clf_data
    InterruptedAt.armed = True
    al = ActiveLearner(InterruptedAt(at=35), query_strategy="margin", batch_size=5)
    al.fit(X, partial_labels(y))
    before = al.estimator_
    idx = al.query()
    with pytest.raises(KeyboardInterrupt):
        al.teach(y=y[idx], indices=idx)
    al.set_params(estimator=FailingAfter(limit=32))  # crashes on the 35 labels
    FailingAfter.disarmed = False
    with pytest.warns(UserWarning, match="failed again.*first 30 labels"):
        nxt = al.query()
    assert al.estimator_ is before and not np.isin(nxt, al.labeled_indices_).any()
    al.teach(y=y[nxt], indices=nxt)  # the next refit takes every label
    assert al.history_[-1]["n_labeled"] == 40


def test_pickle_mid_loop_continues_identically(clf_data):
    X, y = clf_data
    a = real_learner(query_strategy="random").fit(X, partial_labels(y))
    idx = a.query()
    a.teach(y=y[idx], indices=idx)
    b = pickle.loads(pickle.dumps(a))
    for _ in range(2):
        ia, ib = a.query(), b.query()
        np.testing.assert_array_equal(ia, ib)
        a.teach(y=y[ia], indices=ia)
        b.teach(y=y[ib], indices=ib)
    np.testing.assert_array_equal(a.labeled_indices_, b.labeled_indices_)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y=[0, 1], indices=[40]), "2 labels for 1 indices"),
        (dict(y=["seven"], indices=[40]), "cannot join labels"),
        (dict(y=[0], indices=[3]), "labeled already"),
        (dict(y=[0], indices=[10_000]), "rows of the pool"),
        (dict(y=[0, 0], indices=[40, 40]), "same row twice"),
        (dict(y=[np.nan], indices=[40]), "missing labels"),
        (dict(y=[0]), "either new rows X or pool indices"),
    ],
)
def test_bad_teach_changes_nothing(clf_data, kwargs, match):
    X, y = clf_data
    al = real_learner().fit(X, partial_labels(y))
    state = pickle.dumps(al)
    with pytest.raises((ValueError, TypeError), match=match):
        al.teach(**kwargs)
    assert pickle.dumps(al) == state


@pytest.mark.parametrize(
    "answers",
    [
        lambda y: pd.Series([y[0], pd.NA, y[2], y[3], pd.NA], dtype="Int64"),
        lambda y: [y[0], None, y[2], y[3], None],
        lambda y: np.array([y[0], np.nan, y[2], y[3], np.nan]),
    ],
    ids=["Int64 with NA", "list with None", "array with NaN"],
)
def test_partial_answers_name_the_unanswered_rows_and_the_way_to_teach_the_rest(clf_data, answers):
    # An annotator who skipped rows: teach() said only "got missing labels".
    X, y = clf_data
    al = real_learner().fit(X, partial_labels(y))
    idx = al.query(batch_size=5)
    state = pickle.dumps(al)
    with pytest.raises(ValueError, match=r"positions \[1, 4\] of y.*indices\[answered\]"):
        al.teach(y=answers(y[idx]), indices=idx)
    assert pickle.dumps(al) == state
    answered = np.array([True, False, True, True, False])
    al.teach(y=y[idx][answered], indices=idx[answered])  # as the message says
    assert set(idx[~answered]).isdisjoint(al.labeled_indices_)


def test_teaching_labeled_rows_again_says_how_to_change_or_skip_them(clf_data):
    # A notebook cell of teach() run twice said only "labeled already", not that a
    # label is changed with correct() (or that nothing needs doing).
    X, y = clf_data
    al = real_learner().fit(X, partial_labels(y))
    idx = al.query()
    al.teach(y=y[idx], indices=idx)
    state = pickle.dumps(al)
    with pytest.raises(ValueError, match=r"labeled already.*correct\(") as info:
        al.teach(y=y[idx], indices=idx)
    assert str(sorted(idx.tolist())) in str(info.value)
    assert pickle.dumps(al) == state


def test_teach_new_rows_with_wrong_width_is_rejected(clf_data):
    X, y = clf_data
    al = real_learner().fit(X, partial_labels(y))
    with pytest.raises(ValueError, match="features"):
        al.teach(X[:2, :3], y[:2])
    assert len(al.labeled_indices_) == 30


def test_one_row_given_alone_says_to_keep_it_a_row(clf_data):
    # X[0] is a 1-d array: query read it as 6 rows of one feature ("New rows have shape ()
    # per row ... X has 1 features"), teach as 6 rows for 1 label.
    X, y = clf_data
    al = real_learner().fit(X, partial_labels(y))
    state = pickle.dumps(al)
    with pytest.raises(ValueError, match=r"one row as a 1-d array of shape \(6,\).*X\[\[i\]\]"):
        al.query(X[0])
    with pytest.raises(ValueError, match=r"one row as a 1-d array of shape \(6,\).*X\[\[i\]\]"):
        al.teach(X[0], [y[0]])
    assert pickle.dumps(al) == state
    # As a row, it is one candidate.
    assert al.query(X[[0]]).tolist() == [0]
    # A DataFrame pool's row taken as a Series says the same in pandas' words.
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    al = real_learner().fit(frame, partial_labels(y))
    with pytest.raises(TypeError, match=r"a Series.*X\.iloc\[\[i\]\]"):
        al.query(frame.iloc[0])


def test_teach_indices_given_as_one_position_or_a_mask_say_how_to_pass_them(clf_data):
    # Both read "indices must be a 1-d array of integer row positions", with no way out.
    X, y = clf_data
    al = real_learner().fit(X, partial_labels(y))
    with pytest.raises(TypeError, match=r"got the single position 40: pass \[40\]"):
        al.teach(y=[y[40]], indices=np.int64(40))
    mask = np.zeros(len(y), dtype=bool)
    mask[40] = True
    with pytest.raises(TypeError, match=r"a boolean mask: pass np\.flatnonzero\(mask\)"):
        al.teach(y=[y[40]], indices=mask)
    assert len(al.labeled_indices_) == 30
    al.teach(y=[y[40]], indices=np.flatnonzero(mask))
    assert al.labeled_indices_[-1] == 40


def test_query_on_exhausted_pool(clf_data):
    X, y = clf_data
    al = real_learner().fit(X[:40], y[:40])
    with pytest.raises(ValueError, match="nothing is left to query"):
        al.query()


def test_all_labels_missing_is_a_cold_start(clf_data):
    # The cold start itself is tested in test_cold_start.py.
    X, y = clf_data
    for missing_label, blank in ((np.nan, np.nan), (-1, -1)):
        al = real_learner(missing_label=missing_label).fit(X, np.full(len(y), blank))
        assert al.history_[0]["n_labeled"] == 0 and len(al.query()) == al.batch_size


# ----------------------------------------------------------- delegation


def test_delegates_methods_and_tags(clf_data, reg_data):
    X, y = clf_data
    al = real_learner().fit(X, y)
    inner = al.estimator_
    np.testing.assert_array_equal(al.predict(X), inner.predict(X))
    np.testing.assert_allclose(al.predict_proba(X), inner.predict_proba(X))
    np.testing.assert_allclose(al.predict_log_proba(X), inner.predict_log_proba(X))
    np.testing.assert_allclose(al.decision_function(X), inner.decision_function(X))
    assert al.score(X, y) == inner.score(X, y)
    np.testing.assert_array_equal(al.classes_, [0, 1, 2])
    assert al.n_features_in_ == 6
    assert is_classifier(al)
    assert is_regressor(ActiveLearner(Ridge()))
    assert isinstance(check_cv(5, y, classifier=is_classifier(al)), StratifiedKFold)
    assert not hasattr(ActiveLearner(Ridge()), "predict_proba")


def test_cross_val_score_uses_stratified_folds(clf_data):
    X, y = clf_data
    al = simulated(batch_size=10, budget=40)
    scores = cross_val_score(al, X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.34)


def test_methods_before_fit_raise_not_fitted(clf_data):
    X, y = clf_data
    al = real_learner()
    for call in (lambda: al.predict(X), lambda: al.query(), lambda: al.teach(X[:1], y[:1])):
        with pytest.raises(NotFittedError):
            call()


# ----------------------------------------------------- sklearn ecosystem


def test_clone_and_nested_params():
    al = ActiveLearner(LogisticRegression(C=2.0), query_strategy=UncertaintySampling("margin"))
    params = al.get_params()
    assert params["estimator__C"] == 2.0
    assert params["query_strategy__measure"] == "margin"
    al.set_params(estimator__C=0.5, query_strategy__measure="entropy")
    assert al.estimator.C == 0.5 and al.query_strategy.measure == "entropy"
    twin = clone(al)
    assert twin.estimator is not al.estimator
    assert twin.get_params()["query_strategy__measure"] == "entropy"


def test_named_strategy_parameters_are_reachable_and_clone_safe():
    al = ActiveLearner(LogisticRegression(), query_strategy="margin")
    assert al.get_params()["query_strategy__measure"] == "margin"
    assert "query_strategy__measure" not in al.get_params(deep=False)
    twin = clone(al)
    assert twin.query_strategy == "margin"
    al.set_params(query_strategy__measure="entropy")
    assert isinstance(al.query_strategy, UncertaintySampling)
    assert al.query_strategy.measure == "entropy"
    assert twin.query_strategy == "margin"  # the clone shares nothing
    both = ActiveLearner(LogisticRegression()).set_params(
        query_strategy="bait", query_strategy__reg=3.0
    )
    assert isinstance(both.query_strategy, BAIT) and both.query_strategy.reg == 3.0
    # The default's parameters never leak into another learner.
    assert ActiveLearner(LogisticRegression()).get_params()["query_strategy__reg"] == "scale"
    with pytest.raises(ValueError, match="Invalid parameter"):
        ActiveLearner(LogisticRegression()).set_params(query_strategy__nope=1)
    # A refused parameter changes nothing: the name stays a name, other keys unset.
    named = ActiveLearner(LogisticRegression(), query_strategy="bait")
    with pytest.raises(ValueError, match="Invalid parameter"):
        named.set_params(estimator__C=9.0, query_strategy__nope=1)
    assert named.query_strategy == "bait" and named.estimator.C == 1.0
    with pytest.raises(ValueError, match="Unknown query strategy 'nope'"):
        ActiveLearner(LogisticRegression(), query_strategy="nope").set_params(
            query_strategy__reg=1.0
        )


def test_a_registered_name_in_a_worker_process_says_to_pass_an_instance(clf_data):
    # joblib's workers import skbait afresh: the name registered here is unknown
    # there, and the error only listed the built-in names, as if it were mistyped.
    from sklearn.model_selection import cross_validate

    from skbait.strategies import register_strategy
    from skbait.strategies._registry import _FACTORIES

    X, y = clf_data
    register_strategy("test_margin_here_only", lambda: UncertaintySampling(measure="margin"))
    try:
        al = ActiveLearner(
            LogisticRegression(), query_strategy="test_margin_here_only", budget=12, n_initial=6
        )
        with pytest.raises(ValueError, match="known only to the process that registered it"):
            cross_validate(al, X, y, cv=2, n_jobs=2, error_score="raise")
        # An instance runs there.
        al.set_params(query_strategy=UncertaintySampling(measure="margin"))
        assert len(cross_validate(al, X, y, cv=2, n_jobs=2)["test_score"]) == 2
    finally:
        _FACTORIES.pop("test_margin_here_only")


def test_labeled_data_keeps_the_form(clf_data):
    X, y = clf_data
    al = real_learner().fit(X, partial_labels(y))
    idx = al.query()
    al.teach(y=y[idx], indices=idx)
    X_lab, y_lab = al.labeled_data()
    np.testing.assert_array_equal(X_lab, X[al.labeled_indices_])
    np.testing.assert_array_equal(y_lab, y[al.labeled_indices_])
    assert isinstance(y_lab, np.ndarray)


def test_strategy_instance_is_cloned_not_mutated(clf_data):
    X, y = clf_data
    strategy = UncertaintySampling("margin")
    al = simulated(query_strategy=strategy).fit(X, y)
    assert al.query_strategy_ is not strategy
    assert al.query_strategy_.get_params() == strategy.get_params()


def test_grid_search_over_strategies_compares_at_fixed_budget(clf_data):
    """Each candidate's score is that strategy's simulation at the budget, fold by fold."""
    X, y = clf_data
    strategies = [RandomSampling(), UncertaintySampling("margin"), "entropy"]
    cv = StratifiedKFold(3)
    grid = GridSearchCV(
        simulated(batch_size=10, budget=40), {"query_strategy": strategies}, cv=cv
    ).fit(X, y)
    by_hand = [
        cross_val_score(simulated(batch_size=10, budget=40, query_strategy=s), X, y, cv=cv)
        for s in strategies
    ]
    for i, scores in enumerate(by_hand):
        for fold, score in enumerate(scores):
            assert grid.cv_results_[f"split{fold}_test_score"][i] == score
    assert grid.best_index_ == int(np.argmax([s.mean() for s in by_hand]))
    # The refit runs the winner once more on all rows, spending the budget exactly.
    best = grid.best_estimator_
    assert len(best.labeled_indices_) == 40
    assert (
        best.query_strategy_.get_params()
        == make_strategy(strategies[grid.best_index_]).get_params()
    )


def test_grid_search_over_batch_size(clf_data):
    """The grid's scores are the runs' own, and the batch size shapes the rounds."""
    X, y = clf_data
    cv = StratifiedKFold(2)
    grid = GridSearchCV(simulated(budget=40), {"batch_size": [5, 15]}, cv=cv).fit(X, y)
    means = [
        cross_val_score(simulated(budget=40, batch_size=b), X, y, cv=cv).mean() for b in (5, 15)
    ]
    np.testing.assert_array_equal(grid.cv_results_["mean_test_score"], means)
    assert grid.best_params_["batch_size"] == (5, 15)[int(np.argmax(means))]
    rounds = [r["n_labeled"] for r in grid.best_estimator_.history_]
    step = grid.best_params_["batch_size"]
    assert rounds == sorted({*range(10, 40, step), 40})


def test_grid_search_over_a_named_strategys_parameter(clf_data):
    """query_strategy__reg works with the default query_strategy="bait" (a name)."""
    X, y = clf_data
    base = ActiveLearner(
        LogisticRegression(max_iter=500), n_initial=10, batch_size=10, budget=30, random_state=0
    )
    assert base.query_strategy == "bait"
    assert base.get_params()["query_strategy__reg"] == BAIT().reg
    cv = StratifiedKFold(2)
    regs = [0.01, 100.0]
    grid = GridSearchCV(base, {"query_strategy__reg": regs}, cv=cv).fit(X, y)
    for i, reg in enumerate(regs):
        by_hand = cross_val_score(
            clone(base).set_params(query_strategy=BAIT(reg=reg)), X, y, cv=cv
        )
        np.testing.assert_array_equal(
            [grid.cv_results_[f"split{f}_test_score"][i] for f in range(2)], by_hand
        )
    assert grid.best_estimator_.query_strategy_.reg == grid.best_params_["query_strategy__reg"]
    # The base learner is untouched: still the name.
    assert base.query_strategy == "bait"


def test_pipeline_around_and_inside(clf_data):
    X, y = clf_data
    outer = make_pipeline(StandardScaler(), simulated()).fit(X, y)
    assert outer.predict(X).shape == (300,)
    inner = simulated(make_pipeline(StandardScaler(), LogisticRegression())).fit(X, y)
    assert inner.predict_proba(X).shape == (300, 3)
    # The two see the same rows the same way: scaling the pool before the
    # learner or inside the model cannot change what margin sampling picks
    # at round 0, since the initial draw and the pool are the same.
    assert len(inner.labeled_indices_) == len(outer[-1].labeled_indices_)


def test_pickle_and_joblib_round_trip(clf_data, tmp_path):
    X, y = clf_data
    al = simulated().fit(X, y)
    for restored in (
        pickle.loads(pickle.dumps(al)),
        joblib.load(joblib.dump(al, tmp_path / "al.joblib")[0]),
    ):
        np.testing.assert_allclose(restored.predict_proba(X), al.predict_proba(X))
        np.testing.assert_array_equal(restored.labeled_indices_, al.labeled_indices_)


# --------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(budget=301), "larger than the pool"),
        (dict(n_initial=-1), "n_initial"),
        (dict(n_initial=50, budget=40), "n_initial=50 is larger than budget"),
        (dict(batch_size=0), "batch_size"),
        (dict(query_strategy="nope"), "Valid names are"),
    ],
)
def test_bad_parameters(clf_data, params, match):
    X, y = clf_data
    with pytest.raises(ValueError, match=match):
        simulated(**params).fit(X, y)


@pytest.mark.parametrize("name", ["n_initial", "batch_size", "budget", "n_threads"])
def test_a_boolean_count_is_refused(clf_data, name):
    # True passed as 1: budget=True read "n_initial=10 is larger than budget=True", and
    # n_initial=True drew a single row.
    X, y = clf_data
    learner = simulated(**{name: True})
    with pytest.raises(TypeError, match=rf"^{name} must be an integer, got True\.$"):
        learner.fit(X, y)
    assert not hasattr(learner, "pool_")


def test_numpy_integer_counts_are_taken(clf_data):
    X, y = clf_data
    params = dict(n_initial=10, batch_size=7, budget=31, n_threads=1)
    numpy = simulated(**{k: np.int64(v) for k, v in params.items()}).fit(X, y)
    plain = simulated(**params).fit(X, y)
    np.testing.assert_array_equal(numpy.labeled_indices_, plain.labeled_indices_)


@pytest.mark.parametrize("budget", [30, None])
def test_classes_given_with_a_regressor_is_refused(reg_data, budget):
    # It was ignored without a word: a regressor has no classes to fix.
    X, y = reg_data
    y_given = y if budget else np.where(np.arange(len(y)) < 20, y, np.nan)
    learner = ActiveLearner(Ridge(), query_strategy="random", classes=[0, 1], budget=budget)
    with pytest.raises(ValueError, match=r"classes=\[0, 1\].*Ridge is not a classifier.*None"):
        learner.fit(X, y_given)
    assert not hasattr(learner, "pool_")


def test_bad_strategy_type(clf_data):
    X, y = clf_data
    with pytest.raises((TypeError, ValueError), match="query_strategy"):
        simulated(query_strategy=42).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_X(clf_data, bad):
    X, y = clf_data
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        simulated().fit(X, y)


def test_mismatched_lengths(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        simulated().fit(X, y[:-1])
    with pytest.raises(ValueError, match="eval_set holds"):
        simulated().fit(X, y, eval_set=(X[:10], y[:9]))


@pytest.mark.parametrize("hole", [np.nan, None])
def test_eval_set_with_a_missing_label_is_named(clf_data, reg_data, hole):
    # It failed in the first round's score, on "Input y_true contains NaN" or on
    # numpy's "'<' not supported between instances of 'NoneType' and 'str'".
    X, y = clf_data
    for y_val in (y[:10].astype(object), np.array(["a", "b"] * 5, dtype=object)):
        y_val[4] = hole
        with pytest.raises(ValueError, match="eval_set's y_val has 1 missing label.*row 4"):
            simulated().fit(X, y, eval_set=(X[:10], y_val))
    X, y = reg_data
    y_val = y[:10].astype(object)
    y_val[4] = hole
    with pytest.raises(ValueError, match="eval_set's y_val has 1 missing label"):
        simulated(Ridge(), query_strategy="random").fit(X, y, eval_set=(X[:10], y_val))


def test_missing_oracle_labels_in_simulation(clf_data):
    X, y = clf_data
    y = y.astype(float)
    y[5] = np.nan
    with pytest.raises(ValueError, match="leave budget=None"):
        simulated().fit(X, y)


def test_minus_one_is_a_class_in_simulation():
    X, y = make_classification(n_samples=120, random_state=0)
    y = np.where(y == 0, -1, 1)
    al = simulated(budget=30).fit(X, y)
    np.testing.assert_array_equal(al.classes_, [-1, 1])


def test_no_warnings_in_a_plain_run(clf_data):
    X, y = clf_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        simulated().fit(X, y)


def test_warm_start_reaches_a_pipelines_last_step(clf_data):
    X, y = clf_data
    pipe = make_pipeline(StandardScaler(), CountingLogReg(max_iter=500))
    al = simulated(pipe, warm_start=True).fit(X, y)
    assert al.estimator_[-1].warm_start is True
    assert al.estimator_[-1].n_fits_ == len(al.history_)


@pytest.mark.parametrize(
    "model",
    [
        RandomForestClassifier(n_estimators=5, random_state=0),
        GradientBoostingClassifier(n_estimators=5),
        HistGradientBoostingClassifier(max_iter=5),
        make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5)),
    ],
    ids=["forest", "boosting", "hist boosting", "pipeline"],
)
def test_warm_start_of_an_ensemble_is_refused(clf_data, model):
    # An ensemble's warm_start adds members: refitted on more labels with the same
    # n_estimators, it kept the first round's model, round after round.
    X, y = clf_data
    learner = ActiveLearner(model, query_strategy="random", budget=30, warm_start=True)
    with pytest.raises(ValueError, match="warm_start=True.*fresh clone"):
        learner.fit(X, y)
    assert not hasattr(learner, "history_")


class _RidgeThatCountsFits(Ridge):
    fits = 0

    def fit(self, X, y):
        type(self).fits += 1
        return super().fit(X, y)


@pytest.mark.parametrize("strategy, name", [("margin", "UncertaintySampling"), ("badge", "BADGE")])
@pytest.mark.parametrize("budget", [30, None])
def test_a_classifier_only_strategy_refuses_a_regressor_before_any_fit(
    reg_data, strategy, name, budget
):
    # The refusal came from the first query, after a first fit (which, for a
    # network, can take long) and, in real labeling, after fit() had succeeded.
    X, y = reg_data
    _RidgeThatCountsFits.fits = 0
    learner = ActiveLearner(
        _RidgeThatCountsFits(), query_strategy=strategy, budget=budget, random_state=0
    )
    y_given = y if budget else np.where(np.arange(len(y)) < 10, y, np.nan)
    with pytest.raises(
        TypeError, match=f"{name} needs class probabilities.*For regression"
    ) as err:
        learner.fit(X, y_given)
    if name == "UncertaintySampling":  # the alternatives, read from the registry's tags
        assert all(f"'{n}'" in str(err.value) for n in ("coreset", "logdet", "logdet_rank1"))
    assert _RidgeThatCountsFits.fits == 0
    assert not hasattr(learner, "pool_")


def test_a_refit_refused_for_too_few_rows_of_a_class_says_more_labels_cure_it(clf_data):
    # The refusal said that every refit would fail while the refused rows were labeled,
    # and to retract them; a model with folds inside only needs more rows of the class.
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    X, y = clf_data
    known = np.flatnonzero(y != 2)[:20]
    y_known = np.full(len(y), np.nan)
    y_known[known] = y[known]
    learner = ActiveLearner(CalibratedClassifierCV(LinearSVC(), cv=3), random_state=0)
    learner.fit(X, y_known)
    new = np.flatnonzero(y == 2)[:3]
    with pytest.raises(ValueError, match=r"class 2(\.0)? has 1 labeled row.*more rows of it"):
        learner.teach(y=[2], indices=new[:1])
    # The advice holds: two more rows of the class and the refit succeeds on every label.
    with pytest.raises(ValueError, match=r"class 2(\.0)? has 2 labeled row"):
        learner.teach(y=[2], indices=new[1:2])
    learner.teach(y=[2], indices=new[2:])
    np.testing.assert_array_equal(learner.classes_, [0, 1, 2])
    assert len(learner.labeled_indices_) == 23


@pytest.mark.parametrize("budget", [30, None])
def test_an_eval_set_the_model_refuses_is_named_not_blamed_on_the_first_fit(clf_data, budget):
    # The model's refusal to score eval_set (the wrong columns) read "The model refused
    # its first fit, on the 10 rows of the initial draw" and advised more rows.
    X, y = clf_data
    y_given = y if budget else np.where(np.arange(len(y)) < 20, y, np.nan)
    learner = simulated(budget=budget)
    with pytest.raises(ValueError, match=r"could not score eval_set.*X has 4 features") as info:
        learner.fit(X, y_given, eval_set=(X[:20, :4], y[:20]))
    message = str(info.value)
    assert "refused its first fit" not in message and "more rows" not in message
    assert "columns of the pool" in message
    assert not hasattr(learner, "pool_")


def test_a_bad_stopping_criterion_is_refused_before_the_first_fit(clf_data):
    from skbait.stopping import OverallUncertainty

    X, y = clf_data
    learner = simulated(stopping=OverallUncertainty(threshold=2))
    with pytest.raises(ValueError, match="'threshold' parameter of OverallUncertainty") as info:
        learner.fit(X, y)
    assert "refused its first fit" not in str(info.value)
    with pytest.raises(TypeError, match=r"OverallUncertainty\(\)"):
        simulated(stopping=OverallUncertainty).fit(X, y)


@pytest.mark.parametrize("budget", [30, None])
def test_a_first_fit_refused_for_too_few_rows_of_a_class_names_the_learners_fix(clf_data, budget):
    # scikit-learn's "n_splits=5 cannot be greater than the number of members in each
    # class" came out alone: in a simulation, whether it did depended on the initial draw,
    # and the message named the model's folds, not n_initial.
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    X, y = clf_data
    learner = ActiveLearner(
        CalibratedClassifierCV(LinearSVC()), n_initial=6, budget=budget, random_state=0
    )
    y_given = y if budget else np.where(np.arange(len(y)) < 6, y, np.nan)
    fix = "Raise n_initial" if budget else "Label more rows before fitting"
    with pytest.raises(ValueError, match="n_splits=5") as info:
        learner.fit(X, y_given)
    assert "refused its first fit" in str(info.value) and fix in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)
    assert not hasattr(learner, "pool_")
    # The fix it names works.
    learner.set_params(n_initial=30)
    if budget:
        learner.fit(X, y)
    else:
        learner.fit(X, np.where(np.arange(len(y)) < 30, y, np.nan))
    assert learner.predict(X).shape == (len(X),)
