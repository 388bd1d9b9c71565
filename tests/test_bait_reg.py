"""BAIT's regulariser: ``reg="scale"`` follows the embedding's scale, a number is the paper's."""

import os
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from skbait.strategies import BAIT, MultiLabelBAIT, bait_objective, bait_select, scaled_reg
from skbait.strategies._bait import DEFAULT_RELATIVE_REG, warn_on_scale_spread
from skbait.utils._sparse import column_sizes

sys.path.insert(0, os.path.dirname(__file__))
from bait_reference import dense_bait, reference_bait_batched


def softmax_problem(seed, n=60, d=4, k=4, n_labeled=6):
    rng = np.random.RandomState(seed)
    # Columns on different scales, as raw features are.
    Z = rng.normal(size=(n, d)) * rng.uniform(0.2, 5.0, size=d)
    logits = Z @ rng.normal(size=(d, k)) / Z.std()
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return Z, P, rng.choice(n, n_labeled, replace=False)


def test_scaled_reg_is_the_relative_times_the_mean_squared_norm():
    Z, P, _ = softmax_problem(0)
    expected = 0.05 * np.mean([z @ z for z in Z])
    assert scaled_reg(Z, P, 0.05) == pytest.approx(expected, rel=1e-12)
    assert scaled_reg(sp.csr_matrix(Z), None, 0.05) == pytest.approx(expected, rel=1e-12)
    assert scaled_reg(Z) == pytest.approx(DEFAULT_RELATIVE_REG / 0.05 * expected, rel=1e-12)
    # An all-zero embedding has no scale: the relative value itself.
    assert scaled_reg(np.zeros((5, 3)), None, 0.05) == 0.05


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_scale_gives_the_same_rows_at_every_scale(seed, task):
    Z, P, labeled = softmax_problem(seed, n=50 + 10 * seed, d=3 + seed % 3, k=2 + seed % 3)
    P = P if task == "classification" else None
    base = bait_select(Z, P, labeled, 5, reg="scale", device="cpu")
    for c in (1e-3, 0.37, 3.0, 1e4):
        scaled = bait_select(c * Z, P, labeled, 5, reg="scale", device="cpu")
        assert scaled.tolist() == base.tolist(), c


def test_absolute_reg_depends_on_the_scale():
    # What reg="scale" removes: with the paper's absolute lambda, rescaling the
    # embedding changes the rows chosen (on these problems).
    changed = 0
    for seed in range(4):
        Z, P, labeled = softmax_problem(seed)
        base = bait_select(Z, P, labeled, 5, reg=1.0, device="cpu")
        changed += any(
            bait_select(c * Z, P, labeled, 5, reg=1.0, device="cpu").tolist() != base.tolist()
            for c in (1e-3, 1e3)
        )
    assert changed >= 1


@pytest.mark.parametrize("seed", range(3))
def test_scale_is_the_dense_reference_at_the_scaled_lambda(seed):
    Z, P, labeled = softmax_problem(seed)
    lam = scaled_reg(Z, P, 0.03)
    ours = bait_select(Z, P, labeled, 5, reg="scale", relative_reg=0.03, device="cpu")
    assert ours.tolist() == dense_bait(Z, P, labeled, 5, reg=lam).tolist()
    assert ours.tolist() == bait_select(Z, P, labeled, 5, reg=lam, device="cpu").tolist()
    assert bait_objective(Z, P, labeled, ours, reg="scale", relative_reg=0.03) == pytest.approx(
        bait_objective(Z, P, labeled, ours, reg=lam), rel=1e-12
    )


def test_a_number_is_the_papers_lambda():
    # The strategy with reg=1.0 picks the rows of the reference implementation's
    # formula and of the dense Algorithm 1 at lambda = 1, whatever the scale.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 4)) * 3.0
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    model = LogisticRegression().fit(X[:12], y[:12])
    P = model.predict_proba(X)
    ours = BAIT(reg=1.0, device="cpu").select(model, X, np.arange(12), 6)
    ref, _ = reference_bait_batched(X, P, np.arange(12), 6, reg=1.0)
    assert sorted(ours.tolist()) == sorted(ref.tolist())
    assert ours.tolist() == dense_bait(X, P, np.arange(12), 6, reg=1.0).tolist()


def test_strategy_default_is_scale():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(60, 3)) * 40.0
    model = LinearRegression().fit(X[:6], X[:6] @ [1.0, -2.0, 0.5])
    assert BAIT().reg == "scale" and BAIT().relative_reg == DEFAULT_RELATIVE_REG
    ours = BAIT(device="cpu").select(model, X, np.arange(6), 4)
    assert ours.tolist() == dense_bait(X, None, np.arange(6), 4, reg=scaled_reg(X)).tolist()
    twice = BAIT(device="cpu").select(model, 2.0 * X, np.arange(6), 4)
    assert twice.tolist() == ours.tolist()


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(reg="auto"), "'reg' parameter of BAIT"),
        (dict(reg=0.0), "'reg' parameter of BAIT"),
        (dict(relative_reg=0.0), "'relative_reg' parameter of BAIT"),
        (dict(relative_reg="scale"), "'relative_reg' parameter of BAIT"),
    ],
)
def test_bad_reg_settings_are_rejected(params, match):
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    with pytest.raises(ValueError, match=match):
        BAIT(device="cpu", **params).select(model, [[0.0], [2.0], [3.0]], [0], 1)


def test_bad_reg_for_the_function():
    Z, P, labeled = softmax_problem(0)
    with pytest.raises(ValueError, match="reg"):
        bait_select(Z, P, labeled, 3, reg="auto", device="cpu")
    with pytest.raises(ValueError, match="relative_reg"):
        bait_select(Z, P, labeled, 3, reg="scale", relative_reg=-1.0, device="cpu")
    with pytest.raises(ValueError, match="relative_reg"):
        scaled_reg(Z, P, float("nan"))


def test_column_sizes_are_the_rms_of_each_columns_non_zero_values():
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(30, 5)) * (rng.uniform(size=(30, 5)) < 0.4)
    Z[:, 3] = 0.0
    by_hand = [
        np.sqrt(np.mean(Z[Z[:, j] != 0, j] ** 2)) if np.any(Z[:, j]) else 0.0 for j in range(5)
    ]
    np.testing.assert_allclose(column_sizes(Z), by_hand, rtol=1e-12)
    # A stored zero in a sparse matrix is not an entry.
    S = sp.csr_matrix(Z)
    S.data[0] = 0.0
    dense = S.toarray()
    by_hand = [
        np.sqrt(np.mean(dense[dense[:, j] != 0, j] ** 2)) if np.any(dense[:, j]) else 0.0
        for j in range(5)
    ]
    np.testing.assert_allclose(column_sizes(S), by_hand, rtol=1e-12)


def test_scale_warns_when_columns_differ_widely_in_size():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + X[:, 2] > 0).astype(int)
    labeled = np.arange(12)
    model = LogisticRegression().fit(X[labeled], y[labeled])
    # Standardised columns: no hint.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BAIT(device="cpu").select(model, X, labeled, 3, random_state=0)
    # One column in hundreds, one in thousandths, left as they are: the hint names both.
    wide = X * np.array([300.0, 1.0, 0.003])
    model = LogisticRegression().fit(wide[labeled], y[labeled])
    with pytest.warns(UserWarning, match=r"columns 0 and 2.*standardi"):
        BAIT(standardize=False, device="cpu").select(model, wide, labeled, 3, random_state=0)
    # The same measurement serves every reg="scale" caller: the function, multi-label BAIT.
    with pytest.warns(UserWarning, match=r"columns 0 and 2"):
        bait_select(
            wide, model.predict_proba(wide), labeled, 3, reg="scale", standardize=False,
            device="cpu",
        )  # fmt: skip
    Y = np.column_stack([y, 1 - y, (X[:, 1] > 0).astype(int)])
    ovr = OneVsRestClassifier(LogisticRegression()).fit(wide[labeled], Y[labeled])
    with pytest.warns(UserWarning, match=r"columns 0 and 2"):
        MultiLabelBAIT(standardize=False, device="cpu").select(
            ovr, wide, labeled, 3, random_state=0
        )
    # At the default, BAIT standardises such input features instead: no hint.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BAIT(device="cpu").select(model, wide, labeled, 3, random_state=0)
        MultiLabelBAIT(device="cpu").select(ovr, wide, labeled, 3, random_state=0)
    # The paper's absolute lambda is the user's choice: no hint.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BAIT(reg=1.0, device="cpu").select(model, wide, labeled, 3)
    # Sparse rows of rare and common words, each of the same size where present: no hint.
    words = sp.random(200, 40, density=0.05, random_state=2, format="csr")
    words.data[:] = 0.3
    words = sp.hstack([np.full((200, 1), 0.2), words[:, 1:]], format="csr")  # a word in every row
    assert warn_on_scale_spread(words) == pytest.approx(1.5)


def test_the_uneven_columns_warning_on_a_learned_embedding_advises_what_works():
    # On a network's hidden layer or a given embedding the default standardize="auto"
    # leaves the columns as they are: the warning advised leaving it at "auto", which
    # is what had just happened, and named no remedy that applies.
    rng = np.random.RandomState(1)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + X[:, 2] > 0).astype(int)
    labeled = np.arange(12)
    model = LogisticRegression().fit(X[labeled], y[labeled])
    wide = X * np.array([300.0, 1.0, 0.003])

    def learned(estimator, rows):
        return wide[: len(rows)]

    with pytest.warns(UserWarning, match="columns 0 and 2") as caught:
        BAIT(device="cpu").select(model, X, labeled, 3, embedding=learned, random_state=0)
    text = " ".join(str(w.message) for w in caught if "sizes differ" in str(w.message))
    assert "leave standardize='auto'" not in text
    assert "standardize=True" in text and "numeric reg" in text
    # And standardize=True, the advice, does standardise: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BAIT(standardize=True, device="cpu").select(
            model, X, labeled, 3, embedding=learned, random_state=0
        )


def test_the_uneven_columns_warning_measures_the_pool_not_the_candidates():
    # With candidates (the default) the columns were measured on the rows drawn,
    # which change every round, and so did the warning: one more each round.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 3)) * np.array([300.0, 1.0, 0.003])
    y = (X[:, 0] / 300 + X[:, 2] / 0.003 > 0).astype(int)
    labeled = np.arange(10)
    model = LogisticRegression().fit(X[labeled], y[labeled])
    sizes = np.sqrt(np.mean(X**2, axis=0))
    pool_fold = f"{sizes.max() / sizes.min():,.0f}-fold"
    texts = set()
    for seed in range(3):
        with pytest.warns(UserWarning, match="columns whose sizes differ") as caught:
            BAIT(standardize=False, candidates=2, random_candidates=2, device="cpu").select(
                model, X, labeled, 5, random_state=seed
            )
        texts |= {str(w.message) for w in caught if "sizes differ" in str(w.message)}
    assert len(texts) == 1 and pool_fold in texts.pop()
