"""Stopping criteria on models of label sets: each read against a direct formula."""

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbait import ActiveLearner
from skbait.embeddings import embed
from skbait.stopping import (
    MaxConfidence,
    ObjectivePlateau,
    OverallUncertainty,
    StabilizingPredictions,
)
from skbait.strategies import label_sets_objective


def _dense_label_sets_objective(Z, P, labeled, reg):
    """The block-diagonal Fisher written out as one (K d) x (K d) matrix."""
    n = Z.shape[0]
    W = P * (1 - P)
    info = [np.kron(np.diag(W[i]), np.outer(Z[i], Z[i])) for i in range(n)]
    F = np.mean(info, axis=0)
    M = np.mean([info[i] for i in labeled], axis=0) + reg * np.eye(F.shape[0])
    return float(np.trace(np.linalg.solve(M, F)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_label_sets_objective_matches_the_dense_block_diagonal_trace(seed):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(40, 3))
    P = rng.uniform(0.01, 0.99, size=(40, 4))
    labeled = rng.choice(40, 6, replace=False)
    for reg in (0.1, 1.0):
        expected = _dense_label_sets_objective(Z, P, labeled, reg)
        assert label_sets_objective(Z, P, labeled, reg=reg) == pytest.approx(expected, rel=1e-10)
    with pytest.raises(ValueError, match="at least one labeled row"):
        label_sets_objective(Z, P, [])


def _data():
    X, Y = make_multilabel_classification(
        n_samples=300, n_features=6, n_classes=4, n_labels=2, random_state=0
    )
    return X, Y


def _model(X, Y, n):
    return make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression())).fit(
        X[:n], Y[:n]
    )


def test_stabilizing_predictions_is_the_kappa_of_every_label_decision():
    X, Y = _data()
    criterion = StabilizingPredictions(window=1, stop_set_size=100)
    first, second = _model(X, Y, 30), _model(X, Y, 60)
    criterion.update(first, X, np.arange(30), random_state=0)
    criterion.update(second, X, np.arange(60), random_state=0)
    rows = criterion.stop_set_
    expected = cohen_kappa_score(first.predict(X[rows]).ravel(), second.predict(X[rows]).ravel())
    assert criterion.values_[1] == pytest.approx(expected, abs=1e-12)


def test_uncertainty_criteria_take_each_labels_own_least_confidence():
    X, Y = _data()
    model = _model(X, Y, 40)
    labeled = np.arange(40)
    P = model.predict_proba(X[40:])  # (n, K): each label's probability
    per_decision = np.minimum(P, 1 - P)
    overall = OverallUncertainty(threshold=0.2).update(model, X, labeled)
    worst = MaxConfidence(threshold=0.2).update(model, X, labeled)
    assert overall.values_[0] == pytest.approx(per_decision.mean(), abs=1e-12)
    assert worst.values_[0] == pytest.approx(per_decision.max(), abs=1e-12)
    assert overall.stop_ == (per_decision.mean() <= 0.2)
    assert not worst.stop_  # some label decision is close to 0.5 after 40 labels


def test_objective_plateau_follows_the_label_sets_objective():
    X, Y = _data()
    model = _model(X, Y, 50)
    labeled = np.arange(50)
    criterion = ObjectivePlateau(reg=0.5).update(model, X, labeled)
    Z, _ = embed(model, X, proba=False)
    P = model.predict_proba(X)
    expected = _dense_label_sets_objective(np.asarray(Z), P, labeled, 0.5)
    assert criterion.values_[0] == pytest.approx(expected, rel=1e-9)


def test_an_active_learner_of_label_sets_records_every_criterion():
    X, Y = _data()
    learner = ActiveLearner(
        make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression())),
        query_strategy="bait",
        n_initial=20,
        batch_size=20,
        budget=80,
        stopping=[
            StabilizingPredictions(window=1),
            OverallUncertainty(),
            MaxConfidence(),
            ObjectivePlateau(),
        ],
        random_state=0,
    ).fit(X, Y)
    for criterion in learner.stopping_:
        values = np.asarray(criterion.values_, dtype=float)
        assert values.size >= 2 and np.isfinite(values[1:]).all(), criterion


def test_a_new_label_leaves_no_agreement_to_measure():
    X, Y = _data()
    criterion = StabilizingPredictions(window=1, stop_set_size=50)
    criterion.update(_model(X, Y[:, :3], 40), X, np.arange(40), random_state=0)
    criterion.update(_model(X, Y, 60), X, np.arange(60), random_state=0)  # a fourth label
    criterion.update(_model(X, Y, 80), X, np.arange(80), random_state=0)
    assert np.isnan(criterion.values_[:2]).all()
    assert np.isfinite(criterion.values_[2])


def test_a_sigmoid_skorch_net_is_measured_by_its_label_sets():
    # Its predict takes an argmax and its probabilities do not sum to one: every
    # criterion reads its label sets from the sigmoids instead.
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    from torch import nn

    X, Y = _data()
    X = StandardScaler().fit_transform(X).astype(np.float32)

    def net(n):
        torch.manual_seed(n)
        module = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4))
        return skorch.NeuralNetClassifier(
            module,
            criterion=nn.BCEWithLogitsLoss,
            predict_nonlinearity=torch.sigmoid,
            max_epochs=5,
            train_split=None,
            verbose=0,
        ).fit(X[:n], Y[:n].astype(np.float32))

    first, second = net(40), net(60)
    labeled = np.arange(60)
    P = second.predict_proba(X)
    stable = StabilizingPredictions(window=1, stop_set_size=100)
    stable.update(first, X, np.arange(40), random_state=0)
    stable.update(second, X, labeled, random_state=0)
    rows = stable.stop_set_
    sets = [(model.predict_proba(X[rows]) > 0.5).ravel() for model in (first, second)]
    assert stable.values_[1] == pytest.approx(cohen_kappa_score(*sets), abs=1e-12)
    overall = OverallUncertainty().update(second, X, labeled)
    assert overall.values_[0] == pytest.approx(np.minimum(P, 1 - P)[60:].mean(), rel=1e-6)
    plateau = ObjectivePlateau().update(second, X, labeled)
    Z, _ = embed(second, X, proba=False)
    expected = _dense_label_sets_objective(
        Z.astype(np.float64), P.astype(np.float64), labeled, 1.0
    )
    assert plateau.values_[0] == pytest.approx(expected, rel=1e-5)
    learner = ActiveLearner(second, batch_size=5).fit(X[:60], Y[:60])
    score = learner.score(X[60:], Y[60:])
    np.testing.assert_array_equal(learner.predict(X[60:]), learner.predict_proba(X[60:]) > 0.5)
    assert score == pytest.approx(np.mean((learner.predict(X[60:]) == Y[60:]).all(axis=1)))
