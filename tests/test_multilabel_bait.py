"""Multi-label BAIT (block-diagonal Fisher) against a dense reference and against BAIT."""

import os
import sys

import numpy as np
import pytest
import torch

from skbait._fisher import IllConditionedError
from skbait._fisher._multilabel import MultiLabelGreedy, label_fisher_blocks
from skbait.strategies import (
    MultiLabelBAIT,
    bait_select,
    multilabel_bait_objective,
    multilabel_bait_select,
)

sys.path.insert(0, os.path.dirname(__file__))
from multilabel_reference import dense_information, dense_multilabel_bait


def _problem(seed, n=40, d=3, K=3, n_labeled=6):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, d))
    logits = 1.5 * Z @ rng.normal(size=(d, K)) + rng.normal(size=K)
    P = 1.0 / (1.0 + np.exp(-logits))
    labeled = rng.choice(n, n_labeled, replace=False)
    return Z, P, labeled


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("objective", ["trace", "logdet"])
@pytest.mark.parametrize("fisher", ["pool", "identity"])
@pytest.mark.parametrize("backward", [True, False])
def test_picks_match_the_dense_reference_in_float64(seed, objective, fisher, backward):
    Z, P, labeled = _problem(seed)
    _, expected = dense_multilabel_bait(
        Z, P, labeled, 5, reg=0.5, backward=backward, fisher=fisher, objective=objective
    )
    got = multilabel_bait_select(
        Z,
        P,
        labeled,
        5,
        reg=0.5,
        backward=backward,
        fisher=fisher,
        objective=objective,
        device="cpu",
    )
    assert got.tolist() == expected


@pytest.mark.parametrize("seed", range(3))
def test_forward_order_and_gains_match_the_dense_objective(seed):
    Z, P, labeled = _problem(seed, n=30, d=4, K=4, n_labeled=0)
    B = 4
    forward, _ = dense_multilabel_bait(Z, P, labeled, B, reg=1.0, oversample=2)
    K, d = P.shape[1], Z.shape[1]
    Zt, Wt = torch.as_tensor(Z), torch.as_tensor(P * (1 - P))
    M0 = torch.eye(d, dtype=torch.float64).expand(K, d, d).clone()
    F = label_fisher_blocks(Zt, Wt, 1.0 / len(Z))
    greedy = MultiLabelGreedy(Zt, Wt, M0, F)  # no labeled row: the scale is 1
    greedy.forward(2 * B)
    assert greedy.picked == forward
    # Each gain is the drop of tr(M^-1 F) the dense matrices give.
    infos = [dense_information(Z[i], P[i]) for i in range(len(Z))]
    Fd = sum(infos) / len(Z)
    M = np.eye(K * d)
    for i, gain in zip(forward, greedy.gains):
        before = np.trace(np.linalg.solve(M, Fd))
        M = M + infos[i]
        after = np.trace(np.linalg.solve(M, Fd))
        assert gain == pytest.approx(before - after, rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_float32_picks_a_batch_as_good_as_float64(seed):
    Z, P, labeled = _problem(seed, n=80, d=5, K=4)
    ref = multilabel_bait_select(Z, P, labeled, 8, device="cpu")
    got = multilabel_bait_select(Z, P, labeled, 8, device="cpu", dtype="float32")
    assert len(set(got)) == 8 and not set(got) & set(labeled)
    value = multilabel_bait_objective(Z, P, labeled, got)
    best = multilabel_bait_objective(Z, P, labeled, ref)
    assert value == pytest.approx(best, rel=1e-4)


def test_float32_warns_where_it_cannot_resolve_the_gains():
    """As multiclass BAIT: float32 on a design of condition ~1e10 says its picks may differ."""
    import warnings

    Z, P, labeled = _problem(0, n=60, d=5, K=3)
    U, _, Vt = np.linalg.svd(Z, full_matrices=False)
    Z = (U * np.logspace(0, -5, Z.shape[1])) @ Vt * 10
    kwargs = dict(reg=1e-6, device="cpu")
    with pytest.warns(UserWarning, match=r"float32 cannot resolve .* dtype='float64'"):
        multilabel_bait_select(Z, P, labeled, 4, dtype="float32", **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float64 resolves it, and is silent
        multilabel_bait_select(Z, P, labeled, 4, dtype="float64", **kwargs)
        # An ordinary problem at the default reg is silent in float32 too.
        Z, P, labeled = _problem(1, n=60, d=5, K=3)
        multilabel_bait_select(Z, P, labeled, 4, device="cpu", dtype="float32")


@pytest.mark.parametrize("seed", range(3))
def test_one_label_is_binary_bait_at_half_the_regulariser(seed):
    # Two softmax classes give (diag(p) - p p^T) (x) z z^T = 2 p (1 - p) on one direction:
    # the multi-label design of one label with reg / 2.
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(60, 4))
    p = 1.0 / (1.0 + np.exp(-Z @ rng.normal(size=4)))
    labeled = np.arange(5)
    binary = bait_select(Z, np.column_stack([1 - p, p]), labeled, 6, reg=1.0, device="cpu")
    single = multilabel_bait_select(Z, p[:, None], labeled, 6, reg=0.5, device="cpu")
    assert single.tolist() == binary.tolist()


def test_a_label_without_information_changes_nothing():
    Z, P, labeled = _problem(0, n=50, K=3)
    certain = np.column_stack([P, np.ones(len(P)), np.zeros(len(P))])
    assert (
        multilabel_bait_select(Z, certain, labeled, 6, device="cpu").tolist()
        == multilabel_bait_select(Z, P, labeled, 6, device="cpu").tolist()
    )


def test_objective_matches_the_dense_matrices():
    Z, P, labeled = _problem(1, n=30)
    selected = np.array([0, 3, 7, 9]) + 0
    selected = np.setdiff1d(selected, labeled)
    infos = [dense_information(Z[i], P[i]) for i in range(len(Z))]
    n_L, B = len(labeled), len(selected)
    M = 2.0 * np.eye(infos[0].shape[0])
    for i in labeled:
        M += infos[i] / (n_L + B)
    for i in selected:
        M += infos[i] * B / (n_L + B)
    F = sum(infos) / len(Z)
    trace = multilabel_bait_objective(Z, P, labeled, selected, reg=2.0)
    assert trace == pytest.approx(np.trace(np.linalg.solve(M, F)), rel=1e-10)
    logdet = multilabel_bait_objective(Z, P, labeled, selected, reg=2.0, objective="logdet")
    assert logdet == pytest.approx(np.linalg.slogdet(M)[1], rel=1e-10)
    ident = multilabel_bait_objective(Z, P, labeled, selected, reg=2.0, fisher="identity")
    assert ident == pytest.approx(np.trace(np.linalg.inv(M)), rel=1e-10)


def test_few_candidates_are_all_returned_in_pool_order():
    Z, P, _ = _problem(0, n=10)
    got = multilabel_bait_select(Z, P, np.arange(7), 5, device="cpu")
    assert got.tolist() == [7, 8, 9]


def test_duplicate_rows_tie_to_the_lowest_index():
    Z, P, labeled = _problem(2, n=20)
    Z = np.vstack([Z, Z])
    P = np.vstack([P, P])
    got = multilabel_bait_select(Z, P, labeled, 1, device="cpu", backward=False)
    assert got[0] < 20


def test_bad_inputs_get_clear_errors():
    Z, P, labeled = _problem(0)
    with pytest.raises(ValueError, match="n_labels"):
        multilabel_bait_select(Z, P[:5], labeled, 3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        multilabel_bait_select(Z, P + 1.0, labeled, 3)
    with pytest.raises(ValueError, match="reg"):
        multilabel_bait_select(Z, P, labeled, 3, reg=0.0)
    with pytest.raises(ValueError, match="objective"):
        multilabel_bait_select(Z, P, labeled, 3, objective="volume")
    with pytest.raises(ValueError, match="selected"):
        multilabel_bait_objective(Z, P, labeled, [])
    with pytest.raises(ValueError, match="shape"):
        MultiLabelGreedy(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(1, 2, 2), None)


def test_an_indefinite_start_is_refused():
    Z = torch.ones(4, 2, dtype=torch.float64)
    W = torch.full((4, 1), 0.25, dtype=torch.float64)
    M0 = -torch.eye(2, dtype=torch.float64)[None]
    with pytest.raises(IllConditionedError, match="reg"):
        MultiLabelGreedy(Z, W, M0, None)


def test_drift_rebuilds_from_the_exact_design_and_keeps_the_picks():
    Z, P, labeled = _problem(3, n=60, d=4, K=3)
    expected = multilabel_bait_select(Z, P, labeled, 6, device="cpu")
    Zt, Wt = torch.as_tensor(Z), torch.as_tensor(P * (1 - P))
    mask = np.zeros(len(Z), bool)
    mask[labeled] = True
    from skbait.strategies._multilabel import _pool_fisher, _start

    M0, scale = _start(Zt, Wt, mask, 6, len(labeled), 1.0)
    cand = np.flatnonzero(~mask)
    greedy = MultiLabelGreedy(Zt[cand], Wt[cand] * scale, M0, _pool_fisher(Zt, Wt, "pool"))
    greedy.drift_tol = 0.0  # every move counts as drifted: rebuild each time
    greedy.forward(12, final_keep_picked=True)
    greedy.backward(6)
    assert greedy.n_refresh > 0
    assert cand[greedy.picked].tolist() == expected.tolist()


def test_backward_needs_a_forward_phase_that_keeps_the_picks():
    Z, P, _ = _problem(0)
    greedy = MultiLabelGreedy(
        torch.as_tensor(Z),
        torch.as_tensor(P),
        torch.eye(3, dtype=torch.float64).expand(3, 3, 3),
        None,
    )
    with pytest.raises(RuntimeError, match="final_keep_picked"):
        greedy.backward(1)


def test_strategy_reads_a_one_vs_rest_model():
    from sklearn.datasets import make_multilabel_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    X, Y = make_multilabel_classification(n_samples=120, n_features=6, n_classes=4, random_state=0)
    model = OneVsRestClassifier(LogisticRegression(max_iter=500)).fit(X[:40], Y[:40])
    idx, gains = MultiLabelBAIT(device="cpu").select(
        model, X, np.arange(40), 6, return_utilities=True
    )
    P = model.predict_proba(X)
    expected = multilabel_bait_select(X, P, np.arange(40), 6, reg="scale", device="cpu")
    assert idx.tolist() == expected.tolist()
    assert np.all(gains > 0)


@pytest.mark.parametrize("objective", ["trace", "logdet"])
def test_strategy_draws_at_random_when_no_probability_carries_information(objective):
    # A 1-nearest-neighbour model gives every label a probability of 0 or 1: every
    # row's Fisher is zero, and the strategy took the unlabeled rows in index order.
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    Y = (X[:, :3] > 0).astype(int)
    model = KNeighborsClassifier(1).fit(X[:20], Y[:20])
    strategy = MultiLabelBAIT(objective=objective, device="cpu")
    with pytest.warns(UserWarning, match=r"0 or 1.*MultiLabelBAIT.*uniformly at random"):
        idx, util = strategy.select(
            model, X, np.arange(20), 5, random_state=2, return_utilities=True
        )
    expected = np.random.RandomState(2).choice(np.arange(20, 60), 5, replace=False)
    assert idx.tolist() == expected.tolist()
    assert np.all(util == 0)


@pytest.mark.parametrize("objective", ["trace", "logdet"])
def test_strategy_draws_the_rows_whose_embedding_is_zero(objective):
    # An all-zero embedding (a document without a word of the vocabulary) gives zero
    # information whatever the probabilities: the strategy took those rows in a fixed order.
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    Y = (X[:, :3] > 0).astype(int)
    model = OneVsRestClassifier(LogisticRegression()).fit(X[:20], Y[:20])

    def embedding(estimator, X):
        Z = np.array(X, dtype=float)
        Z[np.setdiff1d(np.arange(20, 60), [31, 44])] = 0.0
        return Z

    strategy = MultiLabelBAIT(objective=objective, device="cpu")
    with pytest.warns(UserWarning, match=r"Only 2 of the 40.*non-zero embedding.*other 3"):
        idx, util = strategy.select(
            model, X, np.arange(20), 5, random_state=2, return_utilities=True, embedding=embedding
        )
    assert sorted(idx[:2].tolist()) == [31, 44] and np.all(util[:2] > 0)
    rest = np.setdiff1d(np.arange(20, 60), [31, 44])
    assert idx[2:].tolist() == np.random.RandomState(2).choice(rest, 3, replace=False).tolist()


def test_a_small_sparse_embedding_is_densified_and_a_wide_one_refused():
    import scipy.sparse as sp

    Z, P, labeled = _problem(4, n=50, d=4)
    Z[Z < 0.3] = 0.0
    dense = multilabel_bait_select(Z, P, labeled, 5, device="cpu")
    assert multilabel_bait_select(sp.csr_matrix(Z), P, labeled, 5, device="cpu").tolist() == (
        dense.tolist()
    )
    # Every one of its 5000 columns is used (empty ones are dropped first, exactly).
    wide = sp.random(50, 5000, density=0.2, format="csr", random_state=0)
    with pytest.raises(ValueError, match="TruncatedSVD"):
        multilabel_bait_select(wide, P, labeled, 5, device="cpu")


def test_a_corrupted_inverse_is_rebuilt_from_the_exact_design():
    Z, P, _ = _problem(5, n=40, d=3, K=2, n_labeled=0)
    Zt, Wt = torch.as_tensor(Z), torch.as_tensor(P * (1 - P))
    M0 = 1e-2 * torch.eye(3, dtype=torch.float64).expand(2, 3, 3).clone()
    F = label_fisher_blocks(Zt, Wt, 1.0 / len(Z))
    clean = MultiLabelGreedy(Zt, Wt, M0, F)
    clean.forward(4)
    broken = MultiLabelGreedy(Zt, Wt, M0, F)
    broken.G = -broken.G  # the first move is then not positive definite
    broken.forward(4)
    assert broken.n_refresh >= 1
    assert broken.picked == clean.picked


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("objective", ["trace", "logdet"])
def test_cuda_picks_what_the_cpu_picks(objective):
    Z, P, labeled = _problem(7, n=400, d=16, K=6, n_labeled=20)
    cpu = multilabel_bait_select(Z, P, labeled, 10, device="cpu", objective=objective)
    cuda = multilabel_bait_select(Z, P, labeled, 10, device="cuda", objective=objective)
    assert cuda.tolist() == cpu.tolist()


# ------------------------------------------------------------ the regulariser
# Recorded with the strategy's former default, the absolute reg=1.0, before
# reg="scale" became the default: a number still means that lambda.
RECORDED_REG_ONE = {0: [36, 8, 1, 16, 13], 1: [2, 22, 3, 15, 0], 2: [10, 1, 39, 35, 14]}


def _scaled_problem(seed, n=50, d=3, K=3, n_labeled=6):
    rng = np.random.RandomState(seed)
    # Columns on different scales, as raw features are.
    Z = rng.normal(size=(n, d)) * rng.uniform(0.2, 5.0, size=d)
    logits = Z @ rng.normal(size=(d, K)) / Z.std() + rng.normal(size=K)
    P = 1.0 / (1.0 + np.exp(-logits))
    return Z, P, rng.choice(n, n_labeled, replace=False)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("objective", ["trace", "logdet"])
def test_scale_gives_the_same_rows_at_every_scale(seed, objective):
    Z, P, labeled = _scaled_problem(seed, n=45 + 5 * seed, d=2 + seed % 3)
    base = multilabel_bait_select(Z, P, labeled, 5, reg="scale", objective=objective, device="cpu")
    for c in (1e-3, 0.37, 3.0, 1e4):
        scaled = multilabel_bait_select(
            c * Z, P, labeled, 5, reg="scale", objective=objective, device="cpu"
        )
        assert scaled.tolist() == base.tolist(), c


def test_absolute_reg_depends_on_the_scale():
    # What reg="scale" removes: with an absolute lambda, rescaling the embedding
    # changes the rows chosen (on these problems).
    changed = 0
    for seed in range(4):
        Z, P, labeled = _scaled_problem(seed)
        base = multilabel_bait_select(Z, P, labeled, 5, reg=1.0, device="cpu")
        changed += any(
            multilabel_bait_select(c * Z, P, labeled, 5, reg=1.0, device="cpu").tolist()
            != base.tolist()
            for c in (1e-3, 1e3)
        )
    assert changed >= 1


@pytest.mark.parametrize("seed", range(3))
def test_scale_is_the_dense_reference_at_the_scaled_lambda(seed):
    from skbait.strategies import scaled_reg

    Z, P, labeled = _scaled_problem(seed)
    lam = scaled_reg(Z, P, 0.03)
    assert lam == pytest.approx(0.03 * np.mean(np.sum(Z * Z, axis=1)), rel=1e-12)
    ours = multilabel_bait_select(Z, P, labeled, 5, reg="scale", relative_reg=0.03, device="cpu")
    _, expected = dense_multilabel_bait(Z, P, labeled, 5, reg=lam)
    assert ours.tolist() == list(expected)
    assert multilabel_bait_objective(
        Z, P, labeled, ours, reg="scale", relative_reg=0.03
    ) == pytest.approx(multilabel_bait_objective(Z, P, labeled, ours, reg=lam), rel=1e-12)


@pytest.mark.parametrize("seed", sorted(RECORDED_REG_ONE))
def test_a_number_keeps_its_absolute_lambda(seed):
    Z, P, labeled = _problem(seed)
    ours = multilabel_bait_select(Z, P, labeled, 5, reg=1.0, device="cpu")
    assert ours.tolist() == RECORDED_REG_ONE[seed]
    _, expected = dense_multilabel_bait(Z, P, labeled, 5, reg=1.0)
    assert ours.tolist() == list(expected)


def test_strategy_default_is_scale_and_reg_one_picks_as_before():
    from sklearn.datasets import make_multilabel_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    from skbait.strategies import scaled_reg
    from skbait.strategies._bait import DEFAULT_RELATIVE_REG
    from skbait.strategies._multilabel import DEFAULT_MULTILABEL_RELATIVE_REG

    assert MultiLabelBAIT().reg == "scale"
    # A tenth of BAIT's (measured by benchmarks/bench_multilabel_reg.py).
    assert MultiLabelBAIT().relative_reg == DEFAULT_MULTILABEL_RELATIVE_REG
    assert DEFAULT_MULTILABEL_RELATIVE_REG == DEFAULT_RELATIVE_REG / 10
    X, Y = make_multilabel_classification(n_samples=120, n_features=6, n_classes=4, random_state=0)
    model = OneVsRestClassifier(LogisticRegression(max_iter=500)).fit(X[:40], Y[:40])
    P = model.predict_proba(X)
    # The strategy's former default, recorded before reg="scale" became it.
    one = MultiLabelBAIT(reg=1.0, device="cpu").select(model, X, np.arange(40), 6)
    assert one.tolist() == [96, 45, 74, 43, 91, 47]
    ours = MultiLabelBAIT(device="cpu").select(model, X, np.arange(40), 6)
    lam = scaled_reg(X, P, DEFAULT_MULTILABEL_RELATIVE_REG)
    assert ours.tolist() == multilabel_bait_select(X, P, np.arange(40), 6, reg=lam).tolist()


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(reg="auto"), "'reg' parameter of MultiLabelBAIT"),
        (dict(reg=0.0), "'reg' parameter of MultiLabelBAIT"),
        (dict(relative_reg=0.0), "'relative_reg' parameter of MultiLabelBAIT"),
    ],
)
def test_bad_reg_settings_are_rejected(params, match):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    X = np.arange(12.0).reshape(6, 2)
    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]])
    model = OneVsRestClassifier(LogisticRegression()).fit(X, Y)
    with pytest.raises(ValueError, match=match):
        MultiLabelBAIT(device="cpu", **params).select(model, X, [0, 1, 2, 3], 1)
    with pytest.raises(ValueError, match="reg"):
        multilabel_bait_select(X, Y * 0.5 + 0.2, [0], 1, reg="auto", device="cpu")
