"""BAIT's standardised design: raw features in different units, weighed alike."""

import os
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skbait.strategies import (
    BAIT,
    MultiLabelBAIT,
    bait_objective,
    bait_select,
    multilabel_bait_select,
    scaled_reg,
)
from skbait.strategies._bait import column_moments, column_spread, standardised_design

sys.path.insert(0, os.path.dirname(__file__))
from bait_reference import dense_bait
from multilabel_reference import dense_multilabel_bait

#: Raw features: one column in hundreds around 2,000, one in thousandths around 1.
UNITS = np.array([300.0, 1.0, 0.003, 20.0])
OFFSETS = np.array([2000.0, 0.0, 0.99, 50.0])


def by_hand(Z):
    """Each column centred and divided by its standard deviation, then a column of ones."""
    Z = np.asarray(Z, dtype=np.float64)
    std = Z.std(axis=0)
    centred = Z - Z.mean(axis=0)
    out = np.zeros_like(Z)
    varying = std > 1e-9 * np.abs(Z).max(axis=0)
    out[:, varying] = centred[:, varying] / std[varying]
    return np.hstack([out, np.ones((Z.shape[0], 1))])


def raw_problem(seed, n=70, k=3, n_labeled=7):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, UNITS.size))
    logits = X @ rng.normal(size=(UNITS.size, k))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return X * UNITS + OFFSETS, P, rng.choice(n, n_labeled, replace=False)


def test_standardised_design_is_the_centred_scaled_columns_and_an_intercept():
    Z, _, _ = raw_problem(0)
    Z[:, 1] = 4.2  # a constant column becomes 0: the intercept column carries it
    ours = standardised_design(Z, column_moments(Z))
    np.testing.assert_allclose(ours, by_hand(Z), rtol=1e-9, atol=1e-9)
    assert np.all(ours[:, 1] == 0.0)
    # Sparse rows give the same design (dense: centring fills every entry).
    sparse = standardised_design(sp.csr_matrix(Z), column_moments(sp.csr_matrix(Z)))
    np.testing.assert_allclose(sparse, ours, rtol=1e-12, atol=1e-12)
    # The spread: widest over narrowest root mean square of the non-zero values.
    sizes = np.sqrt((Z**2).mean(axis=0))
    spread, widest, narrowest = column_spread(column_moments(Z))
    assert spread == pytest.approx(sizes.max() / sizes.min(), rel=1e-12)
    assert (widest, narrowest) == (int(np.argmax(sizes)), int(np.argmin(sizes)))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_auto_is_the_dense_reference_on_the_standardised_design(seed, task):
    Z, P, labeled = raw_problem(seed)
    P = P if task == "classification" else None
    S = by_hand(Z)
    ours = bait_select(Z, P, labeled, 5, reg="scale", device="cpu")
    assert ours.tolist() == dense_bait(S, P, labeled, 5, reg=scaled_reg(S)).tolist()
    assert bait_objective(Z, P, labeled, ours, reg="scale") == pytest.approx(
        bait_objective(S, P, labeled, ours, reg="scale", standardize=False), rel=1e-9
    )


@pytest.mark.parametrize("seed", range(3))
def test_auto_picks_the_same_rows_in_any_units(seed):
    # Any column rescaled or shifted: the same rows (without standardising, not).
    Z, P, labeled = raw_problem(seed)
    rng = np.random.RandomState(100 + seed)
    base = bait_select(Z, P, labeled, 6, reg="scale", device="cpu")
    changed = 0
    for _ in range(3):
        scale = rng.choice([-1.0, 1.0], size=Z.shape[1]) * 10.0 ** rng.uniform(-2, 3, Z.shape[1])
        moved = Z * scale + rng.normal(size=Z.shape[1]) * 100.0
        if column_spread(column_moments(moved))[0] <= 100:
            continue
        same_units = bait_select(moved, P, labeled, 6, reg="scale", device="cpu")
        assert same_units.tolist() == base.tolist()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the uneven-columns hint
            plain = bait_select(moved, P, labeled, 6, reg="scale", standardize=False, device="cpu")
        changed += plain.tolist() != base.tolist()
    assert changed >= 1


def test_auto_leaves_even_columns_and_the_papers_lambda_alone():
    Z, P, labeled = raw_problem(1)
    even = (Z - OFFSETS) / UNITS * np.array([1.0, 3.0, 0.5, 2.0])  # under 100-fold
    assert column_spread(column_moments(even))[0] < 100
    assert (
        bait_select(even, P, labeled, 5, reg="scale", device="cpu").tolist()
        == bait_select(even, P, labeled, 5, reg="scale", standardize=False, device="cpu").tolist()
        == dense_bait(even, P, labeled, 5, reg=scaled_reg(even)).tolist()
    )
    # A number is the paper's lambda on the embedding as given, whatever its columns.
    assert (
        bait_select(Z, P, labeled, 5, reg=1.0, device="cpu").tolist()
        == dense_bait(Z, P, labeled, 5, reg=1.0).tolist()
    )
    # True standardises whatever the reg.
    S = by_hand(even)
    assert (
        bait_select(even, P, labeled, 5, reg=1.0, standardize=True, device="cpu").tolist()
        == dense_bait(S, P, labeled, 5, reg=1.0).tolist()
    )


def test_bad_standardize_is_refused():
    Z, P, labeled = raw_problem(0)
    with pytest.raises(ValueError, match="standardize"):
        bait_select(Z, P, labeled, 3, reg="scale", standardize="yes", device="cpu")
    model = LogisticRegression().fit(Z[labeled], np.arange(labeled.size) % 2)
    with pytest.raises(ValueError, match="standardize"):
        BAIT(standardize="yes", device="cpu").select(model, Z, labeled, 3)


def _labels(Z, seed):
    rng = np.random.RandomState(seed)
    return ((Z - OFFSETS) / UNITS @ rng.normal(size=UNITS.size) > 0).astype(int)


def test_strategy_standardises_input_features_not_hidden_layers():
    Z, _, labeled = raw_problem(2, n=90, n_labeled=12)
    y = _labels(Z, 2)
    y[labeled[:2]] = [0, 1]
    model = LogisticRegression(max_iter=2000).fit(Z[labeled], y[labeled])
    P = model.predict_proba(Z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # standardised: no uneven-columns hint
        ours = BAIT(candidates=None, device="cpu").select(model, Z, labeled, 5)
    S = by_hand(Z)
    assert ours.tolist() == dense_bait(S, P, labeled, 5, reg=scaled_reg(S, P, 0.01)).tolist()
    # A pipeline ending in a linear model embeds its last step's input: the same rule.
    piped = make_pipeline(FunctionTransformer(), LogisticRegression(max_iter=2000))
    piped.fit(Z[labeled], y[labeled])
    assert BAIT(candidates=None, device="cpu").select(piped, Z, labeled, 5).tolist() == (
        dense_bait(S, piped.predict_proba(Z), labeled, 5, reg=scaled_reg(S)).tolist()
    )
    # A regressor's input features too.
    reg_model = LinearRegression().fit(Z[labeled], Z[labeled, 0] / 300.0)
    picked = BAIT(candidates=None, device="cpu").select(reg_model, Z, labeled, 5)
    assert picked.tolist() == dense_bait(S, None, labeled, 5, reg=scaled_reg(S)).tolist()


def test_hidden_layers_and_custom_embeddings_stay_as_they_are():
    Z, _, labeled = raw_problem(3, n=80, n_labeled=10)
    y = _labels(Z, 3)
    y[labeled[:2]] = [0, 1]
    net = MLPClassifier(hidden_layer_sizes=(6,), max_iter=50, random_state=0)
    # Inputs a hundredth of the raw units: on the raw ones the net's probabilities are
    # all 0 or 1, and BAIT, with no information to rank by, draws at random.
    X = Z / 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X[labeled], y[labeled])
        auto = BAIT(candidates=None, device="cpu").select(net, X, labeled, 4)
        plain = BAIT(candidates=None, standardize=False, device="cpu").select(net, X, labeled, 4)
        forced = BAIT(candidates=None, standardize=True, device="cpu").select(net, X, labeled, 4)
    assert auto.tolist() == plain.tolist()
    assert forced.tolist() != auto.tolist()  # standardising the hidden layer would show
    # A user's embedding is theirs, even of raw features.
    model = LogisticRegression(max_iter=2000).fit(Z[labeled], y[labeled])

    def raw(estimator, X):
        return np.asarray(X, dtype=np.float64)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        custom = BAIT(candidates=None, device="cpu").select(model, Z, labeled, 4, embedding=raw)
        unstandardized = BAIT(candidates=None, standardize=False, device="cpu").select(
            model, Z, labeled, 4
        )
    assert custom.tolist() == unstandardized.tolist()


def test_multilabel_bait_standardises_raw_features_alike():
    Z, _, labeled = raw_problem(4, n=80, n_labeled=12)
    rng = np.random.RandomState(4)
    Y = ((Z - OFFSETS) / UNITS @ rng.normal(size=(UNITS.size, 3)) > 0).astype(int)
    Y[labeled[:2]] = [[0, 0, 0], [1, 1, 1]]
    model = OneVsRestClassifier(LogisticRegression(max_iter=2000)).fit(Z[labeled], Y[labeled])
    P = model.predict_proba(Z)
    S = by_hand(Z)
    ours = multilabel_bait_select(Z, P, labeled, 5, reg="scale", device="cpu")
    _, expected = dense_multilabel_bait(S, P, labeled, 5, reg=scaled_reg(S, None, 0.001))
    assert ours.tolist() == list(expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picked = MultiLabelBAIT(device="cpu").select(model, Z, labeled, 5)
    assert picked.tolist() == ours.tolist()


def test_float32_standardises_alike():
    Z, P, labeled = raw_problem(5)
    ours = bait_select(Z, P, labeled, 5, reg="scale", device="cpu", dtype="float32")
    assert ours.tolist() == bait_select(Z, P, labeled, 5, reg="scale", device="cpu").tolist()


@pytest.mark.parametrize("seed", range(3))
def test_candidates_are_cut_from_the_whole_pools_design(seed):
    # The design is the whole pool's, whichever candidates are drawn: the same
    # rows as BAIT among the candidates of the standardised pool.
    Z, P, labeled = raw_problem(seed, n=120)
    S = by_hand(Z)
    kwargs = dict(reg="scale", candidates=2, random_candidates=3, random_state=seed, device="cpu")
    ours = bait_select(Z, P, labeled, 4, **kwargs)
    assert ours.tolist() == bait_select(S, P, labeled, 4, standardize=False, **kwargs).tolist()
