"""BAIT's ``candidates``: the labeled rows, the most uncertain unlabeled ones, a random few."""

import os
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression, LogisticRegression

from skbait.strategies import BAIT, bait_select, scaled_reg
from skbait.strategies._candidates import candidate_pool

sys.path.insert(0, os.path.dirname(__file__))
from bait_reference import dense_bait


def softmax_problem(seed, n=70, d=4, k=4, n_labeled=6):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, d)) * rng.uniform(0.2, 5.0, size=d)
    logits = Z @ rng.normal(size=(d, k)) / Z.std()
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return Z, P, rng.choice(n, n_labeled, replace=False)


def most_uncertain_by_hand(P, labeled, count):
    """The ``count`` unlabeled rows of smallest top-two gap, ties to the lower index."""
    unlabeled = [i for i in range(len(P)) if i not in set(labeled)]
    gap = {i: np.sort(P[i])[-1] - np.sort(P[i])[-2] for i in unlabeled}
    return sorted(unlabeled, key=lambda i: (gap[i], i))[:count]


def kept_by_hand(P, labeled, count, random_count, seed):
    """Labeled rows, ``count`` most uncertain ones, ``random_count`` drawn from the others."""
    uncertain = most_uncertain_by_hand(P, labeled, count)
    others = [i for i in range(len(P)) if i not in set(labeled) | set(uncertain)]
    drawn = np.random.RandomState(seed).choice(len(others), random_count, replace=False)
    return np.sort(np.concatenate([labeled, uncertain, np.asarray(others)[drawn]]).astype(int))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("reg", [1.0, "scale"])
@pytest.mark.parametrize("random_candidates", [0, 1.5])
def test_candidates_is_dense_bait_on_the_kept_rows(seed, reg, random_candidates):
    Z, P, labeled = softmax_problem(seed, k=2 + seed % 3)
    B, c = 4, 2.5
    kept = kept_by_hand(P, labeled, 10, int(random_candidates * B), seed)
    lam = reg if reg == 1.0 else scaled_reg(Z[kept])  # "scale" measures the kept rows
    positions = np.searchsorted(kept, labeled)
    expected = kept[dense_bait(Z[kept], P[kept], positions, B, reg=lam)]
    ours = bait_select(
        Z,
        P,
        labeled,
        B,
        reg=reg,
        candidates=c,
        random_candidates=random_candidates,
        random_state=seed,
        device="cpu",
    )
    assert ours.tolist() == expected.tolist()
    assert set(ours.tolist()) <= set(kept.tolist()) - set(labeled.tolist())


@pytest.mark.parametrize("seed", range(3))
def test_regression_candidates_are_dense_bait_on_random_rows(seed):
    Z, _, labeled = softmax_problem(seed)
    B = 4
    others = np.setdiff1d(np.arange(len(Z)), labeled)
    drawn = others[np.random.RandomState(seed).choice(others.size, 3 * B, replace=False)]
    kept = np.sort(np.concatenate([labeled, drawn]))
    positions = np.searchsorted(kept, labeled)
    expected = kept[dense_bait(Z[kept], None, positions, B, reg=scaled_reg(Z[kept]))]
    params = dict(reg="scale", candidates=0, random_candidates=3, random_state=seed)
    ours = bait_select(Z, None, labeled, B, device="cpu", **params)
    assert ours.tolist() == expected.tolist()
    with pytest.raises(ValueError, match="no row to choose"):
        bait_select(Z, None, labeled, B, candidates=0, random_candidates=0)


def test_random_candidates_are_uniform_over_the_other_rows():
    Z, P, labeled = softmax_problem(2, n=30, n_labeled=4)
    uncertain = set(most_uncertain_by_hand(P, labeled, 6))
    others = sorted(set(range(30)) - set(labeled) - uncertain)  # 20 rows
    counts = np.zeros(30)
    draws = 2000
    for seed in range(draws):
        kept = candidate_pool(Z, P, labeled, 3, 2, 1, random_state=seed)[3]
        assert uncertain | set(labeled) <= set(kept.tolist())
        counts[np.setdiff1d(kept, sorted(uncertain | set(labeled)))] += 1
    # Three of 20 rows a draw: each row 300 times in expectation (sd about 16).
    assert counts[sorted(uncertain | set(labeled))].sum() == 0
    assert np.all(np.abs(counts[others] - draws * 3 / 20) < 80)
    rng = np.random.RandomState(5)
    first = candidate_pool(Z, P, labeled, 3, 2, 1, random_state=rng)[3]
    second = candidate_pool(Z, P, labeled, 3, 2, 1, random_state=rng)[3]
    assert first.tolist() != second.tolist()  # a RandomState advances


def test_candidates_covering_the_pool_is_plain_bait():
    Z, P, labeled = softmax_problem(0, n=40)
    plain = bait_select(Z, P, labeled, 5, device="cpu")
    # 34 unlabeled rows: 7 * 5 = 35 candidates keep them all.
    assert bait_select(Z, P, labeled, 5, candidates=7, device="cpu").tolist() == plain.tolist()
    # The uncertain and the random rows together keep them all (20 + 15 >= 34).
    assert bait_select(
        Z, P, labeled, 5, candidates=4, random_candidates=3, device="cpu"
    ).tolist() == (plain.tolist())
    # One batch of candidates: nothing left to choose, margin sampling's rows in pool order.
    margin_rows = sorted(most_uncertain_by_hand(P, labeled, 5))
    ours = bait_select(Z, P, labeled, 5, candidates=1, random_candidates=0, device="cpu")
    assert ours.tolist() == margin_rows


def test_candidates_keep_scale_invariance_and_sparse_input():
    Z, P, labeled = softmax_problem(1)
    params = dict(reg="scale", candidates=3, random_candidates=2, random_state=0, device="cpu")
    base = bait_select(Z, P, labeled, 5, **params)
    for c in (1e-3, 7.0):
        assert bait_select(c * Z, P, labeled, 5, **params).tolist() == base.tolist()
    assert bait_select(sp.csr_matrix(Z), P, labeled, 5, **params).tolist() == base.tolist()
    mask = np.zeros(len(Z), dtype=bool)
    mask[labeled] = True
    assert bait_select(Z, P, mask, 5, **params).tolist() == base.tolist()


def test_candidates_need_classes():
    Z, _, labeled = softmax_problem(0)
    with pytest.raises(ValueError, match="regression"):
        bait_select(Z, None, labeled, 5, candidates=2, device="cpu")
    with pytest.raises(ValueError, match="candidates"):
        bait_select(Z, np.full((len(Z), 2), 0.5), labeled, 5, candidates=-0.5, device="cpu")
    with pytest.raises(ValueError, match="random_candidates"):
        bait_select(Z, np.full((len(Z), 2), 0.5), labeled, 5, candidates=2, random_candidates=-1)
    # One class: no margin to rank by, so every row stays a candidate.
    one = np.ones((len(Z), 1))
    assert bait_select(Z, one, labeled, 5, candidates=2, device="cpu").tolist() == (
        bait_select(Z, one, labeled, 5, device="cpu").tolist()
    )


def test_strategy_chooses_among_the_models_most_uncertain_rows():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    model = LogisticRegression().fit(X[:15], y[:15])
    labeled = np.arange(15)
    picked = BAIT(candidates=3, random_candidates=0, device="cpu").select(model, X, labeled, 6)
    allowed = most_uncertain_by_hand(model.predict_proba(X), labeled, 18)
    assert len(set(picked.tolist())) == 6 and set(picked.tolist()) <= set(allowed)
    P = model.predict_proba(X)
    expected = bait_select(X, P, labeled, 6, reg="scale", candidates=3, random_candidates=0)
    assert picked.tolist() == expected.tolist()
    # With random candidates: the rows of bait_select at the same seed.
    mixed = BAIT(candidates=3, device="cpu").select(model, X, labeled, 6, random_state=4)
    expected = bait_select(X, P, labeled, 6, reg="scale", candidates=3, random_state=4)
    assert mixed.tolist() == expected.tolist()
    with pytest.raises(ValueError, match="candidates"):
        BAIT(candidates=-1).select(model, X, labeled, 6)
    with pytest.raises(ValueError, match="random_candidates"):
        BAIT(random_candidates=-0.5).select(model, X, labeled, 6)

    # A classifier that knows one class ranks nothing: plain BAIT on the embedding.
    class OneClass(LogisticRegression):
        def predict_proba(self, X):
            return np.ones((len(X), 1))

    one_class = OneClass().fit(X[:15], y[:15])
    with pytest.warns(UserWarning, match="single class"):
        alone = BAIT(candidates=2, device="cpu").select(one_class, X, labeled, 6)
    with pytest.warns(UserWarning, match="single class"):
        assert alone.tolist() == BAIT(device="cpu").select(one_class, X, labeled, 6).tolist()
    regressor = LinearRegression().fit(X[:15], X[:15, 0])
    with pytest.raises(ValueError, match="regression"):
        BAIT(candidates=2).select(regressor, X, labeled, 6)


def test_auto_is_twenty_candidates_at_scale_and_every_row_with_a_number():
    # 20 uncertain and 20 random rows per batch row for a classifier, the random ones
    # alone for a regressor; every row with the paper's numeric lambda.
    rng = np.random.RandomState(3)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] - X[:, 1] > 0).astype(int) + (X[:, 3] > 0.7)
    labeled = np.arange(15)
    model = LogisticRegression().fit(X[labeled], y[labeled])
    P = model.predict_proba(X)
    # 20 x 5 uncertain and 20 x 5 random candidates of 385 unlabeled rows: the hybrid is on.
    hybrid = bait_select(
        X, P, labeled, 5, reg="scale", candidates=20, random_candidates=20, random_state=1
    )
    default = BAIT(device="cpu").select(model, X, labeled, 5, random_state=1)
    assert default.tolist() == hybrid.tolist()
    every_row = bait_select(X, P, labeled, 5, reg="scale", device="cpu")
    assert hybrid.tolist() != every_row.tolist()  # so that the default is seen to apply
    assert BAIT(candidates=None, device="cpu").select(model, X, labeled, 5).tolist() == (
        every_row.tolist()
    )
    # A number is the paper's lambda, among every row: the dense Algorithm 1.
    paper = BAIT(reg=1.0, device="cpu").select(model, X, labeled, 5)
    assert paper.tolist() == dense_bait(X, P, labeled, 5, reg=1.0).tolist()
    # A regressor has no margin: its candidates are the 20 x 5 random rows alone.
    regressor = LinearRegression().fit(X[labeled], X[labeled, 0])
    random_rows = bait_select(X, None, labeled, 5, reg="scale", candidates=0, random_state=2)
    assert BAIT(device="cpu").select(regressor, X, labeled, 5, random_state=2).tolist() == (
        random_rows.tolist()
    )
    assert random_rows.tolist() != bait_select(X, None, labeled, 5, reg="scale").tolist()
    assert BAIT(candidates=None, device="cpu").select(regressor, X, labeled, 5).tolist() == (
        bait_select(X, None, labeled, 5, reg="scale").tolist()
    )
    # Without random rows a regressor, which has no uncertain ones, keeps every row:
    # random_candidates=0 means "no random rows" for both kinds of model.
    assert BAIT(random_candidates=0, device="cpu").select(regressor, X, labeled, 5).tolist() == (
        bait_select(X, None, labeled, 5, reg="scale").tolist()
    )
    assert BAIT(random_candidates=0, device="cpu").select(model, X, labeled, 5).tolist() == (
        bait_select(X, P, labeled, 5, reg="scale", candidates=20, random_candidates=0).tolist()
    )
