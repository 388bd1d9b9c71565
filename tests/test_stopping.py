"""Stopping criteria, each against a hand-computed case."""

import json
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.datasets import load_digits
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import cohen_kappa_score
from sklearn.pipeline import make_pipeline

from skbait.evaluation import evaluate_stopping
from skbait.stopping import (
    MaxConfidence,
    ObjectivePlateau,
    OverallUncertainty,
    StabilizingPredictions,
    StoppingCriterion,
    check_stopping,
    cohen_kappa,
)
from skbait.strategies import labeled_set_objective


class TableClassifier(ClassifierMixin, BaseEstimator):
    """Column 0 of X is a row id; probabilities are looked up in a fixed table."""

    def __init__(self, table=None):
        self.table = table

    def predict_proba(self, X):
        return np.asarray(self.table)[np.asarray(X)[:, 0].astype(int)]

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)


class TableRegressor(RegressorMixin, BaseEstimator):
    def __init__(self, table=None):
        self.table = table

    def predict(self, X):
        return np.asarray(self.table)[np.asarray(X)[:, 0].astype(int)]


def _ids(n):
    return np.arange(n, dtype=float)[:, None]


# ------------------------------------------------------------------ kappa


def test_kappa_by_hand():
    # p_o = 3/4; frequencies (1/2, 1/2) and (3/4, 1/4): p_e = 1/2; kappa = (3/4 - 1/2) / (1/2).
    assert cohen_kappa([0, 1, 1, 0], [0, 1, 0, 0]) == pytest.approx(0.5)
    # Both constant and equal: perfect agreement.
    assert cohen_kappa(["a", "a"], ["a", "a"]) == 1.0
    # Complete disagreement on two balanced classes: p_o = 0, p_e = 1/2, kappa = -1.
    assert cohen_kappa([0, 1], [1, 0]) == pytest.approx(-1.0)


@pytest.mark.parametrize("seed", range(5))
def test_kappa_matches_scikit_learn(seed):
    rng = np.random.RandomState(seed)
    a, b = rng.randint(0, 4, 50), rng.randint(0, 3, 50)
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_kappa_bad_input():
    with pytest.raises(ValueError, match="1-d"):
        cohen_kappa([0, 1], [0, 1, 1])


# -------------------------------------------------- stabilizing predictions


def test_stabilizing_predictions_by_hand():
    X = _ids(6)
    labeled = np.array([0, 1])
    # Predictions on the stop set (rows 2..5, all unlabeled rows) round by round.
    rounds = [[0, 0, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1]]
    criterion = StabilizingPredictions(threshold=0.9, window=2, stop_set_size=10)
    values, stops = [], []
    for predictions in rounds:
        table = np.zeros((6, 2))
        table[np.arange(2, 6), predictions] = 1.0
        table[:2, 0] = 1.0
        criterion.update(TableClassifier(table), X, labeled, random_state=0)
        values.append(criterion.values_[-1])
        stops.append(criterion.stop_)
    np.testing.assert_array_equal(criterion.stop_set_, [2, 3, 4, 5])
    # Round 1 against round 0: p_o = 3/4, freqs (1/4, 3/4) vs (1/2, 1/2): p_e = 1/2 -> 1/2.
    assert np.isnan(values[0])
    assert values[1:] == pytest.approx([0.5, 1.0, 1.0])
    # Mean of the last two: (nan), (nan, .5), (.5, 1) = .75, (1, 1) = 1 >= .9.
    assert stops == [False, False, False, True]


def test_stabilizing_predictions_regression_r2():
    X = _ids(4)
    criterion = StabilizingPredictions(window=1, threshold=0.5)
    criterion.update(TableRegressor([0.0, 0.0, 1.0, 3.0]), X, [0, 1])
    criterion.update(TableRegressor([0.0, 0.0, 2.0, 3.0]), X, [0, 1])
    # Stop set rows 2, 3: old (1, 3), mean 2, total 2; residual (2-1)^2 = 1: R^2 = 1/2.
    assert criterion.values_[1] == pytest.approx(0.5)
    assert criterion.stop_


def test_stop_set_is_seeded_and_fixed():
    X = _ids(100)
    a = StabilizingPredictions(stop_set_size=10)
    b = StabilizingPredictions(stop_set_size=10)
    model = TableClassifier(np.tile([0.3, 0.7], (100, 1)))
    a.update(model, X, np.arange(20), random_state=3)
    b.update(model, X, np.arange(20), random_state=3)
    np.testing.assert_array_equal(a.stop_set_, b.stop_set_)
    assert a.stop_set_.min() >= 20 and a.stop_set_.size == 10
    first = a.stop_set_.copy()
    a.update(model, X, np.arange(50), random_state=4)
    np.testing.assert_array_equal(a.stop_set_, first)
    assert a.values_[1] == 1.0


# ---------------------------------------------------------- uncertainty


def test_overall_uncertainty_and_max_confidence_by_hand():
    X = _ids(5)
    table = np.array(
        [
            [0.5, 0.5],  # labeled: ignored although maximally uncertain
            [0.9, 0.1],  # uncertainty 0.1
            [0.3, 0.7],  # 0.3
            [0.8, 0.2],  # 0.2
            [0.5, 0.5],  # labeled
        ]
    )
    model = TableClassifier(table)
    overall = OverallUncertainty(threshold=0.2).update(model, X, [0, 4])
    assert overall.values_ == pytest.approx([0.2])
    assert overall.stop_
    strict = MaxConfidence(threshold=0.25).update(model, X, [0, 4])
    assert strict.values_ == pytest.approx([0.3])
    assert not strict.stop_
    assert MaxConfidence(threshold=0.31).update(model, X, [0, 4]).stop_


def test_uncertainty_criteria_need_a_classifier():
    for criterion in (OverallUncertainty(), MaxConfidence()):
        with pytest.raises(TypeError, match="classifiers only"):
            criterion.update(TableRegressor(np.zeros(3)), _ids(3), [0])


def test_every_row_labeled_gives_nan_and_no_stop():
    model = TableClassifier(np.tile([0.5, 0.5], (3, 1)))
    criterion = OverallUncertainty(threshold=1.0).update(model, _ids(3), [0, 1, 2])
    assert np.isnan(criterion.values_[0]) and not criterion.stop_


# ------------------------------------------------------ objective plateau


def _dense_objective(Z, P, labeled, reg):
    """tr((reg I + mean_L I(x))^-1 F) with every I(x) formed by np.kron."""
    n = Z.shape[0]
    info = []
    for z, p in zip(Z, P if P is not None else [None] * n):
        C = np.ones((1, 1)) if p is None else np.diag(p) - np.outer(p, p)
        info.append(np.kron(C, np.outer(z, z)))
    info = np.array(info)
    F = info.mean(axis=0)
    M = reg * np.eye(F.shape[0]) + info[labeled].mean(axis=0)
    return float(np.trace(np.linalg.solve(M, F)))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [None, 2, 3])
def test_labeled_set_objective_matches_dense(seed, k):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(15, 3))
    P = None
    if k is not None:
        P = rng.dirichlet(np.ones(k), size=15)
    labeled = np.array([0, 3, 7, 9])
    got = labeled_set_objective(Z, P, labeled, reg=0.5)
    assert got == pytest.approx(_dense_objective(Z, P, labeled, 0.5), rel=1e-10)


def test_labeled_set_objective_refuses_a_wide_sparse_embedding_before_making_it_dense():
    """A TF-IDF of a large vocabulary was made dense (here 800 GB) before its size was
    checked."""
    import scipy.sparse as sp

    Z = sp.csr_matrix((10**6, 10**5))
    P = np.full((10**6, 2), 0.5)
    with pytest.raises(ValueError, match="lower-dimensional embedding"):
        labeled_set_objective(Z, P, [0])


def test_labeled_set_objective_needs_a_label():
    with pytest.raises(ValueError, match="at least one labeled"):
        labeled_set_objective(np.ones((3, 1)), None, [])


def test_plateau_rule_by_hand():
    c = ObjectivePlateau(tol=0.05, window=2)
    # Relative changes: .5, .02, .0051 -> the last two within 5%.
    assert c._decide(np.array([4.0, 2.0, 1.96, 1.95]))
    # .5, .02 -> the window reaches back to the large change.
    assert not c._decide(np.array([4.0, 2.0, 1.96]))
    assert not c._decide(np.array([2.0, 1.96]))


@pytest.mark.parametrize("window", [1, 2, 3, 5])
def test_rules_hold_at_their_threshold_exactly(window):
    # The published rules are "mean of the last k kappas >= 0.99", "uncertainty <= t",
    # "relative change <= tol": a value exactly at the bound holds. In floating point
    # three kappas of 0.99 averaged to 0.98999999999999999 and did not stop, and a
    # change of 2.0 to 1.9 (5%) read as 0.050000000000000044 > 0.05.
    for threshold in (0.7, 0.95, 0.99):
        rule = StabilizingPredictions(threshold=threshold, window=window)
        assert rule._decide(np.array([np.nan] + [threshold] * window))
        # A mean below the threshold by far more than rounding still does not stop.
        below = np.array([np.nan] + [threshold] * (window - 1) + [threshold - 1e-6 * window])
        assert not rule._decide(below)
    for criterion in (OverallUncertainty, MaxConfidence):
        assert criterion(threshold=0.3)._decide(np.array([0.1 + 0.2]))
        assert not criterion(threshold=0.3)._decide(np.array([0.3 + 1e-9]))
    plateau = ObjectivePlateau(tol=0.05, window=2)
    assert plateau._decide(np.array([4.0, 2.0, 1.9, 1.9]))
    assert not plateau._decide(np.array([4.0, 2.0, 1.9 - 1e-9, 1.9]))


def test_plateau_of_a_zero_objective_holds_without_a_warning():
    # 0/1 probabilities (a decision tree) carry no Fisher information: 0 every round,
    # which has not moved at all; from 0 to a positive value is an infinite change.
    c = ObjectivePlateau(tol=0.05, window=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert c._decide(np.array([0.0, 0.0, 0.0]))
        assert not c._decide(np.array([0.0, 0.0, 1.0]))


def test_plateau_update_by_hand():
    # Ridge: the embedding is the input (one column), I(x) = z^2.
    X = np.array([[1.0], [2.0], [1.0], [2.0]])
    model = Ridge().fit(X, [0.0, 1.0, 0.0, 1.0])
    c = ObjectivePlateau(tol=0.0, window=1)
    c.update(model, X, [0])
    c.update(model, X, [0, 1])
    c.update(model, X, [0, 1, 2, 3])
    # F = (1 + 4) / 2 = 2.5; M = 1 + 1, 1 + 2.5, 1 + 2.5.
    assert c.values_ == pytest.approx([1.25, 2.5 / 3.5, 2.5 / 3.5])
    assert c.stop_


def test_plateau_reads_a_sparse_embedding():
    # A text pipeline's embedding is its TF-IDF rows, a sparse matrix.
    texts = ["win cash now", "lunch at noon", "cash prize now", "meet at noon", "win a prize"]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, [1, 0, 1, 0, 1])
    c = ObjectivePlateau().update(model, texts, [0, 1, 2])
    Z = model[:-1].transform(texts).toarray()
    expected = labeled_set_objective(Z, model.predict_proba(texts), [0, 1, 2])
    assert c.values_ == pytest.approx([expected])


# -------------------------------------------------------------- plumbing


def test_state_round_trip_through_json_continues_exactly():
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    fits = [LogisticRegression(max_iter=300).fit(X[:n], y[:n]) for n in (30, 40, 50, 60)]

    def run(criteria, models, labeled_counts):
        for model, n in zip(models, labeled_counts):
            for c in criteria:
                c.update(model, X, np.arange(n), random_state=0)

    make = lambda: [  # noqa: E731
        StabilizingPredictions(window=2, stop_set_size=50),
        OverallUncertainty(),
        MaxConfidence(),
        ObjectivePlateau(window=1),
    ]
    straight = make()
    run(straight, fits, (30, 40, 50, 60))
    first = make()
    run(first, fits[:2], (30, 40))
    saved = json.loads(json.dumps([c.get_state() for c in first]))
    resumed = [c.set_state(state) for c, state in zip(make(), saved)]
    run(resumed, fits[2:], (50, 60))
    for a, b in zip(straight, resumed):
        np.testing.assert_allclose(a.values_, b.values_, equal_nan=True)
        assert a.stop_ == b.stop_ and a.n_labeled_ == b.n_labeled_


@pytest.mark.parametrize("reg", [0, -1.0, float("nan"), "1", True])
def test_labeled_set_objectives_refuse_a_reg_that_is_not_positive(reg):
    # reg=0 failed inside torch: "linalg.cholesky: The factorization could not be
    # completed because the input is not positive-definite".
    from skbait.strategies import label_sets_objective

    Z = np.random.RandomState(0).normal(size=(20, 4))
    P = np.full((20, 3), 1 / 3)
    error = TypeError if isinstance(reg, (str, bool)) else ValueError
    with pytest.raises(error, match="`reg` must be"):
        labeled_set_objective(Z, P, np.arange(5), reg=reg)
    with pytest.raises(error, match="`reg` must be"):
        label_sets_objective(Z, P, np.arange(5), reg=reg)
    assert labeled_set_objective(Z, P, np.arange(5), reg=np.float32(0.5)) == pytest.approx(
        labeled_set_objective(Z, P, np.arange(5), reg=0.5)
    )


def test_evaluate_stopping_names_the_test_set_it_was_given():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    model = LogisticRegression(max_iter=200)
    params = dict(criteria=[MaxConfidence()], strategy="random", budget=30, random_state=0)
    with pytest.raises(ValueError, match=r"X_test holds 100 rows but y_test 99 labels"):
        evaluate_stopping(model, X[:500], y[:500], X[500:600], y[500:599], **params)
    with pytest.raises(ValueError, match=r"could not score the test set \(X_test, y_test\)"):
        evaluate_stopping(model, X[:500], y[:500], X[500:600, :10], y[500:600], **params)


def test_check_stopping():
    given = OverallUncertainty()
    (copy,) = check_stopping(given)
    assert copy is not given and copy.get_params() == given.get_params()
    assert check_stopping(None) == []
    with pytest.raises(TypeError, match="StoppingCriterion"):
        check_stopping(["uncertainty"])

    def enough(learner):
        return True

    assert check_stopping([given, enough])[1] is enough
    with pytest.raises(ValueError, match="two criteria"):
        check_stopping([OverallUncertainty(), OverallUncertainty(threshold=0.2)])


def test_check_stopping_refuses_a_class_and_bad_parameters_up_front():
    # The class itself is callable, so it was taken for a callback and called with the
    # learner after the first fit: "OverallUncertainty.__init__() takes 1 positional
    # argument but 2 were given".
    with pytest.raises(TypeError, match=r"the class OverallUncertainty.*OverallUncertainty\(\)"):
        check_stopping(OverallUncertainty)
    with pytest.raises(TypeError, match=r"the class MaxConfidence"):
        check_stopping([OverallUncertainty(), MaxConfidence])
    # A parameter out of range is refused here, before any model is fitted.
    with pytest.raises(ValueError, match="'threshold' parameter of OverallUncertainty"):
        check_stopping(OverallUncertainty(threshold=2))
    with pytest.raises(ValueError, match="'window' parameter of StabilizingPredictions"):
        check_stopping([StabilizingPredictions(window=0)])


def test_bad_parameters():
    with pytest.raises(ValueError, match="threshold"):
        OverallUncertainty(threshold=2).update(TableClassifier(), _ids(2), [0])


def test_custom_criterion():
    class Always(StoppingCriterion):
        name = "always"

        def _measure(self, estimator, X, labeled, embedding, random_state):
            return 1.0

        def _decide(self, values):
            return True

    assert Always().update(None, _ids(2), [0]).stop_


def test_evaluate_stopping_is_consistent():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    criteria = [
        OverallUncertainty(threshold=0.35),
        StabilizingPredictions(window=1, threshold=0.8),
    ]
    summary, rounds = evaluate_stopping(
        LogisticRegression(max_iter=300),
        X[:500],
        y[:500],
        X[500:800],
        y[500:800],
        criteria=criteria,
        strategy="margin",
        n_initial=20,
        batch_size=20,
        budget=120,
        random_state=0,
    )
    assert criteria[0].get_state() == {}  # the caller's objects are untouched
    assert rounds["n_labeled"].tolist() == [20, 40, 60, 80, 100, 120]
    for row in summary.itertuples():
        flags = rounds[f"{row.criterion}_stop"].to_numpy()
        at = int(np.argmax(flags)) if flags.any() else len(rounds) - 1
        assert row.stopped == bool(flags.any())
        assert row.stop_labels == rounds["n_labeled"][at]
        assert row.score_at_stop == rounds["score"][at]
        assert row.score_lost == pytest.approx(rounds["score"].iloc[-1] - row.score_at_stop)
        assert row.labels_saved == 120 - row.stop_labels
    # The uncertainty values are recomputable from the logged rounds: mean of 1 - max p.
    assert np.all(np.diff(rounds["overall_uncertainty"].to_numpy()[1:]) < 0.2)


# ------------------------------------------------------- in ActiveLearner


def _learner(**params):
    from skbait import ActiveLearner

    defaults = dict(query_strategy="margin", n_initial=20, batch_size=20, random_state=0)
    return ActiveLearner(LogisticRegression(max_iter=300), **{**defaults, **params})


def test_active_learner_stops_at_the_first_round_a_rule_holds():
    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16, y[:400]
    seen = []

    def by_hand(learner):
        """The mean uncertainty of the unlabeled rows, from the learner's own model."""
        unlabeled = np.setdiff1d(np.arange(len(y)), learner.labeled_indices_)
        P = learner.estimator_.predict_proba(X[unlabeled])
        seen.append(float(np.mean(1 - P.max(axis=1))))
        return False

    full = _learner(budget=200, stopping=[OverallUncertainty(threshold=0.0), by_hand])
    full.fit(X, y)
    recorded = [r["overall_uncertainty"] for r in full.history_]
    np.testing.assert_allclose(recorded, seen)
    threshold = recorded[3] + 1e-12  # holds from round 3 (uncertainty falls)
    first = next(i for i, v in enumerate(recorded) if v <= threshold)
    stopped = _learner(budget=200, stopping=OverallUncertainty(threshold=threshold)).fit(X, y)
    assert len(stopped.history_) == first + 1
    assert stopped.history_[-1]["stop"] and not any(r["stop"] for r in stopped.history_[:-1])
    assert stopped.history_[-1]["n_labeled"] == full.history_[first]["n_labeled"]
    np.testing.assert_array_equal(
        stopped.labeled_indices_, full.labeled_indices_[: stopped.history_[-1]["n_labeled"]]
    )
    assert full.stopping_[0].values_ == recorded  # the fitted criterion keeps them too


def test_active_learner_real_labeling_reports_and_pickles():
    import pickle

    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300].astype(float)
    known = y.copy()
    known[30:] = np.nan
    criterion = StabilizingPredictions(window=1, stop_set_size=50)
    al = _learner(stopping=criterion).fit(X, known)
    assert np.isnan(al.history_[0]["stabilizing_predictions"])
    al = pickle.loads(pickle.dumps(al))
    idx = al.query()
    al.teach(y=y[idx], indices=idx)
    value = al.history_[-1]["stabilizing_predictions"]
    assert -1.0 <= value <= 1.0 and al.history_[-1]["stop"] == (value >= 0.99)
    assert not hasattr(criterion, "values_")  # the given criterion was cloned


def test_active_learner_single_class_rounds_are_not_measured():
    import warnings

    X, _ = load_digits(return_X_y=True)
    X = X[:100] / 16
    known = np.full(100, np.nan)
    known[:3] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        al = _learner(stopping=OverallUncertainty(threshold=1.0)).fit(X, known)
    assert "stop" not in al.history_[0]


def test_active_learner_bad_stopping_leaves_the_learner_unfitted():
    X, y = load_digits(return_X_y=True)
    al = _learner(budget=60, stopping=[OverallUncertainty(), OverallUncertainty()])
    with pytest.raises(ValueError, match="two criteria"):
        al.fit(X[:100], y[:100])
    assert not hasattr(al, "history_")
    with pytest.raises(ValueError, match="stopping"):
        _learner(budget=60, stopping="soon").fit(X[:100], y[:100])


def test_active_learner_regressor_with_a_classifier_criterion():
    X, y = load_digits(return_X_y=True)
    from skbait import ActiveLearner

    al = ActiveLearner(Ridge(), n_initial=10, budget=30, stopping=MaxConfidence())
    with pytest.raises(TypeError, match="classifiers only"):
        al.fit(X[:100] / 16, y[:100].astype(float))


def test_a_criterion_that_raises_leaves_the_learner_as_it_was():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200].astype(float)
    known = y.copy()
    known[40:] = np.nan
    calls = []

    def flaky(learner):
        calls.append(len(learner.labeled_indices_))
        if len(calls) == 2:
            raise RuntimeError("the callback failed")
        return False

    al = _learner(stopping=[OverallUncertainty(), flaky]).fit(X, known)
    model, values = al.estimator_, list(al.stopping_[0].values_)
    idx = al.query()
    with pytest.raises(RuntimeError, match="callback failed"):
        al.teach(y=y[idx], indices=idx)
    assert al.estimator_ is model and al.stopping_[0].values_ == values
    assert len(al.labeled_indices_) == 60  # the taught labels stay
    idx = al.query()  # refits on the 60 labels first, as an uninterrupted loop did
    al.teach(y=y[idx], indices=idx)
    assert [r["n_labeled"] for r in al.history_] == [40, 60, 80]
    assert len(al.stopping_[0].values_) == 3


def test_evaluate_stopping_replays_the_learners_own_run():
    # One simulation loop: evaluate_stopping's rounds are an ActiveLearner's, row for
    # row, and its criteria read what the learner's criteria read, until the learner
    # stops (evaluate_stopping goes on to the budget).
    from skbait import ActiveLearner

    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16, y[:400]
    params = dict(n_initial=10, batch_size=10, budget=60, random_state=3)
    for strategy in ("random", "margin"):
        criteria = [StabilizingPredictions(window=1, stop_set_size=50), OverallUncertainty()]
        _, rounds = evaluate_stopping(
            LogisticRegression(max_iter=200),
            X,
            y,
            X[:100],
            y[:100],
            criteria=criteria,
            strategy=strategy,
            **params,
        )
        plain = ActiveLearner(LogisticRegression(max_iter=200), query_strategy=strategy, **params)
        plain.fit(X, y, eval_set=(X[:100], y[:100]))
        assert rounds["n_labeled"].tolist() == [h["n_labeled"] for h in plain.history_]
        assert rounds["score"].tolist() == [h["eval_score"] for h in plain.history_]
        watched = ActiveLearner(
            LogisticRegression(max_iter=200),
            query_strategy=strategy,
            stopping=list(criteria),
            **params,
        ).fit(X, y)
        for i, h in enumerate(watched.history_):
            for c in criteria:
                np.testing.assert_equal(rounds[c.name][i], h[c.name])
                assert rounds[f"{c.name}_stop"][i] == h[f"{c.name}_stop"]


def test_evaluate_stopping_takes_criteria_only():
    X, y = load_digits(return_X_y=True)
    with pytest.raises(TypeError, match="StoppingCriterion"):
        evaluate_stopping(
            LogisticRegression(), X[:50], y[:50], X[:50], y[:50], criteria=[lambda learner: False]
        )


def test_evaluate_stopping_scores_label_sets_as_compare_strategies_does():
    # A multi-label run's score is the micro-F1 on the test rows, as in
    # compare_strategies, not the model's own (subset accuracy).
    from sklearn.datasets import make_multilabel_classification
    from sklearn.metrics import f1_score
    from sklearn.multiclass import OneVsRestClassifier

    from skbait import ActiveLearner

    X, Y = make_multilabel_classification(n_samples=300, n_features=8, n_classes=4, random_state=0)
    params = dict(n_initial=20, batch_size=20, budget=60, random_state=0)
    model = OneVsRestClassifier(LogisticRegression(max_iter=300))
    _, rounds = evaluate_stopping(
        model, X[:200], Y[:200], X[200:], Y[200:], criteria=[], strategy="random", **params
    )
    plain = ActiveLearner(model, query_strategy="random", **params).fit(X[:200], Y[:200])
    expected = f1_score(Y[200:], plain.predict(X[200:]), average="micro")
    assert rounds["score"].iloc[-1] == pytest.approx(expected)
    assert rounds["score"].iloc[-1] != pytest.approx(plain.score(X[200:], Y[200:]))
