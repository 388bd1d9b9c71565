"""Uncertainty and random sampling."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, Ridge

from skbait.strategies import RandomSampling, UncertaintySampling, uncertainty_scores
from skbait.utils.estimator_checks import check_query_strategy


def test_scores_match_hand_computation():
    P = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(uncertainty_scores(P, "least_confident"), [0.3, 0.6, 0.0, 2 / 3])
    np.testing.assert_allclose(uncertainty_scores(P, "margin"), [-0.5, 0.0, -1.0, 0.0], atol=1e-15)
    entropy = [
        -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)),
        -(0.8 * np.log(0.4) + 0.2 * np.log(0.2)),
        0.0,
        np.log(3),
    ]
    np.testing.assert_allclose(uncertainty_scores(P, "entropy"), entropy)


@pytest.mark.parametrize("measure", ["least_confident", "margin", "entropy"])
def test_zero_and_one_probabilities_are_finite(measure):
    P = np.eye(4)[[0, 1, 2, 3, 0]]
    with np.errstate(all="raise"):
        scores = uncertainty_scores(P, measure)
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("measure", ["least_confident", "margin", "entropy"])
def test_selection_is_the_top_scores_with_low_index_ties(measure):
    X, y = make_classification(n_samples=120, n_classes=3, n_informative=4, random_state=0)
    model = LogisticRegression().fit(X[:30], y[:30])
    chosen, util = UncertaintySampling(measure).select(
        model, X, np.arange(30), 10, return_utilities=True
    )
    scores = uncertainty_scores(model.predict_proba(X), measure)
    brute = sorted(range(30, 120), key=lambda i: (-scores[i], i))[:10]
    np.testing.assert_array_equal(chosen, brute)
    np.testing.assert_allclose(util, scores[chosen])


def test_ties_go_to_the_lowest_index():
    X = np.zeros((10, 2))
    X[:, 0] = [0, 1, 5, 5, 5, 5, 5, 5, 5, 5]
    model = LogisticRegression().fit(X[:2], [0, 1])
    chosen = UncertaintySampling().select(model, X, [0, 1], 3)
    np.testing.assert_array_equal(chosen, [2, 3, 4])


def test_uncertainty_rejects_regressors():
    X = np.random.RandomState(0).normal(size=(20, 2))
    with pytest.raises(TypeError, match="not a classifier"):
        UncertaintySampling().select(Ridge().fit(X, X[:, 0]), X, [0, 1], 2)


def test_bad_measure_is_rejected():
    X, y = make_classification(n_samples=40, random_state=0)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="measure"):
        UncertaintySampling("nope").select(model, X, [0], 2)
    with pytest.raises(ValueError, match="Unknown uncertainty measure"):
        uncertainty_scores(np.ones((2, 2)) / 2, "nope")


def test_random_sampling_is_uniform_and_seeded():
    X = np.zeros((20, 1))
    model = Ridge().fit(X, np.zeros(20))
    labeled = np.arange(10)
    counts = np.zeros(20)
    for seed in range(2000):
        counts[RandomSampling().select(model, X, labeled, 3, random_state=seed)] += 1
    assert counts[:10].sum() == 0
    # Each of the 10 unlabeled rows is drawn with probability 3/10: 600 expected.
    assert np.all(np.abs(counts[10:] - 600) < 5 * np.sqrt(2000 * 0.3 * 0.7))
    a = RandomSampling().select(model, X, labeled, 5, random_state=1)
    np.testing.assert_array_equal(a, RandomSampling().select(model, X, labeled, 5, random_state=1))


@pytest.mark.parametrize(
    "strategy, tasks",
    [
        (RandomSampling(), ("classification", "regression")),
        (UncertaintySampling(), ("classification",)),
        (UncertaintySampling("margin"), ("classification",)),
        (UncertaintySampling("entropy"), ("classification",)),
    ],
)
def test_contract(strategy, tasks):
    check_query_strategy(strategy, tasks=tasks)


def test_select_validates_inputs():
    X, y = make_classification(n_samples=30, random_state=0)
    model = LogisticRegression().fit(X, y)
    s = RandomSampling()
    with pytest.raises(ValueError, match="at least 1"):
        s.select(model, X, [0], 0)
    with pytest.raises(TypeError, match="integer"):
        s.select(model, X, [0], 2.5)
    with pytest.raises(ValueError, match="outside the pool"):
        s.select(model, X, [99], 2)
    with pytest.raises(ValueError, match="one entry per pool row"):
        s.select(model, X, np.ones(5, dtype=bool), 2)
    with pytest.raises(TypeError, match="integer row indices"):
        s.select(model, X, [0.5], 2)
    with pytest.raises(ValueError, match="nothing left to query"):
        s.select(model, X, np.ones(30, dtype=bool), 2)
    with pytest.raises(TypeError, match="callable"):
        s.select(model, X, [0], 2, embedding="nope")


@pytest.mark.parametrize("measure", ["least_confident", "margin", "entropy"])
def test_sparse_pool_picks_the_dense_rows(measure):
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    rng = np.random.RandomState(0)
    X = sp.random(300, 1000, density=0.01, format="csr", random_state=0)
    y = rng.randint(3, size=300)
    model = LogisticRegression(max_iter=300).fit(X[:60], y[:60])
    strategy = UncertaintySampling(measure)
    got = strategy.select(model, X, range(60), 12)
    np.testing.assert_array_equal(got, strategy.select(model, X.toarray(), range(60), 12))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("count", [1, 7, 40, 200, 250])
def test_partial_top_selection_equals_a_full_stable_sort(seed, count):
    from skbait.strategies._uncertainty import top_positions

    rng = np.random.RandomState(seed)
    scores = rng.randint(0, 12, size=200).astype(float)  # many ties
    np.testing.assert_array_equal(
        top_positions(scores, count), np.argsort(-scores, kind="stable")[:count]
    )


@pytest.mark.parametrize("k", [2, 3, 10, 32, 33, 100])
def test_fast_top_two_scores_equal_the_partition_reference(k):
    """Margin and least-confident scores by per-class passes equal the sorted rows' values."""
    rng = np.random.RandomState(k)
    P = rng.dirichlet(np.ones(k), size=300)
    P[::7, :2] = P[::7, :1]  # rows with a tied top (margin 0)
    P[::11] = 1.0 / k  # uniform rows
    ordered = np.sort(P, axis=1)
    np.testing.assert_array_equal(uncertainty_scores(P, "margin"), ordered[:, -2] - ordered[:, -1])
    np.testing.assert_array_equal(uncertainty_scores(P, "least_confident"), 1.0 - ordered[:, -1])
    assert np.all(uncertainty_scores(P, "margin")[::11] == 0.0)


@pytest.mark.parametrize("measure", ["least_confident", "margin"])
def test_non_finite_probabilities_give_non_finite_scores(measure):
    P = np.full((4, 3), 1 / 3)
    P[2, 1] = np.nan
    assert not np.isfinite(uncertainty_scores(P, measure)[2])
    assert np.all(np.isfinite(uncertainty_scores(P, measure)[[0, 1, 3]]))


class _RecordingClassifier(LogisticRegression):
    """Records the rows it is asked to predict."""

    def predict_proba(self, X):
        self.seen_.append(X.shape[0] if hasattr(X, "shape") else len(X))
        return super().predict_proba(np.asarray(X.toarray() if hasattr(X, "toarray") else X))


@pytest.mark.parametrize("form", ["array", "sparse", "frame", "list"])
@pytest.mark.parametrize("labeled", ["prefix", "scattered", "none"])
@pytest.mark.parametrize("measure", ["least_confident", "margin", "entropy"])
def test_only_unlabeled_rows_are_predicted_and_the_choice_is_unchanged(form, labeled, measure):
    import pandas as pd
    import scipy.sparse as sp

    X, y = make_classification(
        n_samples=120, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    lab = {"prefix": np.arange(15), "scattered": np.arange(3, 120, 8), "none": []}[labeled]
    model = _RecordingClassifier().fit(X[:40], y[:40])
    # The reference: every row predicted, the labeled ones left out afterwards.
    scores = uncertainty_scores(LogisticRegression.predict_proba(model, X), measure)
    unlabeled = np.setdiff1d(np.arange(120), lab)
    order = np.lexsort((unlabeled, -scores[unlabeled]))
    expected = unlabeled[order[:9]]
    pool = {"array": X, "sparse": sp.csr_matrix(X), "frame": pd.DataFrame(X), "list": X.tolist()}[
        form
    ]
    model.seen_ = []
    chosen, utilities = UncertaintySampling(measure).select(
        model, pool, lab, 9, return_utilities=True
    )
    np.testing.assert_array_equal(chosen, expected)
    # Margins and entropies are ranked, and reported, to 12 decimals.
    ranked = scores if measure == "least_confident" else np.round(scores, 12)
    np.testing.assert_array_equal(utilities, ranked[expected])
    assert model.seen_ == [unlabeled.size]


def test_a_pool_that_cannot_be_indexed_is_predicted_whole():
    class Rows:
        """A pool form the strategy does not know how to index."""

        def __init__(self, X):
            self.X = X

        def __len__(self):
            return len(self.X)

    class OnRows(LogisticRegression):
        def predict_proba(self, X):
            return super().predict_proba(X.X)

    X, y = make_classification(n_samples=60, n_features=4, random_state=1)
    model = OnRows().fit(X, y)
    lab = np.arange(0, 60, 3)
    got = UncertaintySampling("margin").select(model, Rows(X), lab, 5)
    expected = UncertaintySampling("margin").select(LogisticRegression().fit(X, y), X, lab, 5)
    np.testing.assert_array_equal(got, expected)


def test_parameter_validation_still_names_the_bad_parameter():
    X, y = make_classification(n_samples=30, n_features=4, random_state=0)
    model = LogisticRegression().fit(X, y)
    strategy = UncertaintySampling("margin")
    strategy.set_params(measure="widest")
    with pytest.raises(ValueError, match="measure"):
        strategy.select(model, X, [0, 1], 2)
