"""BAIT: the Kronecker-factored selections equal the dense reference's."""

import os
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier

from skbait._fisher import Design, Problem
from skbait.strategies import BAIT, bait_select, make_strategy, scaled_reg
from skbait.strategies._bait import _bait_select, bait_objective
from skbait.utils.estimator_checks import check_query_strategy

sys.path.insert(0, os.path.dirname(__file__))
from bait_reference import dense_bait, dense_factor, reference_bait_batched


def softmax_problem(seed, n=36, d=3, k=3, n_labeled=5, temperature=1.5):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, d))
    logits = temperature * Z @ rng.normal(size=(d, k))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    labeled = rng.choice(n, n_labeled, replace=False)
    return Z, P, labeled


# 24 random problems: classification and regression, labeled/unlabeled mixes,
# oversample in {1, 1.5, 2, 3}, backward on and off, fisher pool and identity.
CASES = [
    (seed, task, oversample, backward, fisher, n_labeled)
    for seed, (oversample, backward, fisher, n_labeled) in enumerate(
        [
            (2, True, "pool", 5),
            (1, True, "pool", 0),
            (1.5, True, "identity", 3),
            (3, True, "pool", 10),
            (2, False, "pool", 5),
            (2, True, "identity", 0),
            (1.5, False, "identity", 8),
            (3, True, "identity", 1),
            (1.5, True, "pool", 12),
            (2, True, "pool", 2),
            (3, False, "pool", 4),
            (1, True, "identity", 6),
        ]
    )
    for task in ("classification", "regression")
]


@pytest.mark.parametrize("seed, task, oversample, backward, fisher, n_labeled", CASES)
def test_matches_dense_reference(seed, task, oversample, backward, fisher, n_labeled):
    k = 2 + seed % 3
    Z, P, labeled = softmax_problem(seed, n=30 + seed, d=2 + seed % 3, k=k, n_labeled=n_labeled)
    if task == "regression":
        P = None
    B = 3 + seed % 3
    ours = bait_select(
        Z, P, labeled, B, oversample=oversample, backward=backward, fisher=fisher, device="cpu"
    )
    ref = dense_bait(Z, P, labeled, B, oversample=oversample, backward=backward, fisher=fisher)
    assert ours.dtype == np.int64 and ours.shape == (B,)
    assert sorted(ours.tolist()) == sorted(ref.tolist())
    # The forward order is the reference's too.
    assert ours.tolist() == ref.tolist()


def test_matches_batched_reference_formula():
    Z, P, labeled = softmax_problem(0, n=90, d=4, k=4, n_labeled=12)
    ref, _ = reference_bait_batched(Z, P, labeled, 6)
    ours = bait_select(Z, P, labeled, 6, device="cpu")
    assert sorted(ours.tolist()) == sorted(ref.tolist())


def test_boolean_mask_and_chunking_agree():
    Z, P, labeled = softmax_problem(3, n=80, d=4, k=4, n_labeled=9)
    mask = np.zeros(len(Z), dtype=bool)
    mask[labeled] = True
    a = bait_select(Z, P, labeled, 5, device="cpu")
    b = bait_select(Z, P, mask, 5, device="cpu", chunk_size=7)
    np.testing.assert_array_equal(a, b)


def test_refresh_path_keeps_the_selection(monkeypatch):
    """Refreshing the inverse at every step (drift threshold 0) changes nothing."""
    Z, P, labeled = softmax_problem(4, n=40, d=3, k=3, n_labeled=4)
    expected = dense_bait(Z, P, labeled, 4)
    original = Design._factorize

    def always_drifting(self, M):
        original(self, M)
        self.drift_tol = 0.0

    monkeypatch.setattr(Design, "_factorize", always_drifting)
    problem = Problem(Z, P, labeled, 4, reg=1.0, device="cpu", dtype=None)
    greedy = problem.greedy(4, problem.pool_fisher("pool"), "trace", None)
    greedy.forward(8, final_keep_picked=True)
    greedy.backward(4)
    assert greedy.n_refresh > 0
    got = problem.candidates[greedy.picked]
    assert got.tolist() == expected.tolist()


def test_float32_agrees_with_float64():
    for seed in range(3):
        Z, P, labeled = softmax_problem(seed, n=60, d=4, k=3, n_labeled=6, temperature=0.8)
        for probas in (P, None):
            a = bait_select(Z, probas, labeled, 5, device="cpu", dtype="float32")
            b = bait_select(Z, probas, labeled, 5, device="cpu")
            assert sorted(a.tolist()) == sorted(b.tolist())


def test_gains_and_objective():
    Z, P, labeled = softmax_problem(5, n=50, d=3, k=3, n_labeled=5)
    idx, gains = _bait_select(Z, P, labeled, 4, device="cpu")
    assert np.all(np.isfinite(gains)) and np.all(gains > 0)
    chosen = bait_objective(Z, P, labeled, idx)
    rng = np.random.RandomState(0)
    unlabeled = np.setdiff1d(np.arange(len(Z)), labeled)
    randoms = [
        bait_objective(Z, P, labeled, rng.choice(unlabeled, 4, replace=False)) for _ in range(20)
    ]
    assert chosen <= min(randoms)


@pytest.mark.parametrize("fisher", ["pool", "identity"])
@pytest.mark.parametrize("reg", [1.0, 1e-6])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_objective_matches_the_dense_formula(task, reg, fisher):
    """bait_objective (a Cholesky solve) against tr(M^-1 F) with every matrix formed.

    ``M = reg I + sum_L I(x) / (n_L + B) + B / (n_L + B) sum_S I(x)``, as its docstring says.
    """
    Z, P, labeled = softmax_problem(7, n=40, d=3, k=3, n_labeled=6)
    P = P if task == "classification" else None
    selected = np.setdiff1d(np.arange(40), labeled)[::7]
    B, n_L = selected.size, labeled.size
    V = [dense_factor(Z[i], None if P is None else P[i]) for i in range(len(Z))]
    M = reg * np.eye(V[0].shape[0])
    M += sum(V[i] @ V[i].T for i in labeled) / (n_L + B)
    M += B / (n_L + B) * sum(V[i] @ V[i].T for i in selected)
    F = np.eye(len(M)) if fisher == "identity" else sum(v @ v.T for v in V) / len(V)
    want = np.trace(np.linalg.solve(M, F))
    got = bait_objective(Z, P, labeled, selected, reg=reg, fisher=fisher, standardize=False)
    assert got == pytest.approx(want, rel=1e-9)


# ----------------------------------------------------------------- edge cases


def _valid(idx, n, labeled, B):
    assert idx.shape == (B,) and np.unique(idx).size == B
    assert idx.min() >= 0 and idx.max() < n
    assert not np.isin(idx, labeled).any()


def test_two_classes_and_one_dimension():
    Z, P, labeled = softmax_problem(6, n=40, d=1, k=2, n_labeled=4)
    ours = bait_select(Z, P, labeled, 4, device="cpu")
    assert ours.tolist() == dense_bait(Z, P, labeled, 4).tolist()


def test_one_hot_probabilities_give_no_nan():
    Z, P, labeled = softmax_problem(7, n=30, d=3, k=3)
    P = np.eye(3)[P.argmax(axis=1)]
    idx, gains = _bait_select(Z, P, labeled, 4, device="cpu")
    _valid(idx, 30, labeled, 4)
    assert np.all(gains == 0)
    # All-zero Fisher: every score ties. Forward adds the lowest unlabeled rows,
    # backward removes the lowest of those (the same tie rule) -- as the reference.
    assert idx.tolist() == dense_bait(Z, P, labeled, 4).tolist()
    forward_only = bait_select(Z, P, labeled, 4, backward=False, device="cpu")
    assert forward_only.tolist() == np.setdiff1d(np.arange(30), labeled)[:4].tolist()
    P[:10] = [0.5, 0.25, 0.25]
    idx = bait_select(Z, P, labeled, 4, device="cpu")
    assert sorted(idx.tolist()) == sorted(dense_bait(Z, P, labeled, 4).tolist())


def test_duplicate_rows_tie_to_the_lowest_index():
    Z, P, labeled = softmax_problem(8, n=20, d=3, k=3, n_labeled=2)
    Z = np.vstack([Z, Z])
    P = np.vstack([P, P])
    idx = bait_select(Z, P, labeled, 6, device="cpu")
    _valid(idx, 40, labeled, 6)
    assert idx.tolist() == dense_bait(Z, P, labeled, 6).tolist()
    first = idx[0]
    assert first < 20 or first - 20 in labeled


def test_constant_features_and_tiny_reg():
    Z, P, labeled = softmax_problem(9, n=40, d=4, k=3, n_labeled=6)
    Z[:, 2] = 3.0
    ours = bait_select(Z, P, labeled, 4, device="cpu")
    assert ours.tolist() == dense_bait(Z, P, labeled, 4).tolist()
    for probas in (P, None):
        # float64 still resolves the tiny regulariser: the reference's choice.
        idx = bait_select(Z, probas, labeled, 4, reg=1e-8, device="cpu", dtype="float64")
        assert idx.tolist() == dense_bait(Z, probas, labeled, 4, reg=1e-8).tolist()
        # float32 cannot (reg 1e-8 vanishes beside O(1) entries): a valid batch, no error.
        idx = bait_select(Z, probas, labeled, 4, reg=1e-8, device="cpu", dtype="float32")
        _valid(idx, 40, labeled, 4)


def test_pool_smaller_than_oversampled_count():
    Z, P, labeled = softmax_problem(10, n=20, d=3, k=3, n_labeled=14)
    # 6 unlabeled rows, B=4: 8 forward steps shrink to 6, then 2 removals.
    ours = bait_select(Z, P, labeled, 4, device="cpu")
    _valid(ours, 20, labeled, 4)
    assert sorted(ours.tolist()) == sorted(dense_bait(Z, P, labeled, 4).tolist())


@pytest.mark.parametrize("seed, n, batch_size, n_unlabeled", [(0, 30, 4, 5), (4, 24, 5, 8)])
def test_backward_after_picking_every_candidate(seed, n, batch_size, n_unlabeled):
    # Fewer than 2B unlabeled rows: the forward phase picks them all, out of pool
    # order, and the backward phase must still read each row's own factor.
    Z, P, _ = softmax_problem(seed, n=n, d=3, k=3)
    labeled = np.arange(n - n_unlabeled)
    ours = bait_select(Z, P, labeled, batch_size, device="cpu")
    reference = dense_bait(Z, P, labeled, batch_size)
    assert sorted(ours.tolist()) == sorted(reference.tolist())


def test_pool_smaller_than_batch_returns_all():
    Z, P, labeled = softmax_problem(11, n=12, d=3, k=3, n_labeled=9)
    idx = bait_select(Z, P, labeled, 5, device="cpu")
    assert idx.tolist() == np.setdiff1d(np.arange(12), labeled).tolist()
    with pytest.raises(ValueError, match="nothing left"):
        bait_select(Z, P, np.arange(12), 2, device="cpu")


def test_classes_absent_from_labeled_set():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 3))
    y = np.argmax(X @ rng.normal(size=(3, 3)), axis=1)
    labeled = np.flatnonzero(y != 2)[:10]  # class 2 never labeled
    model = LogisticRegression().fit(X[labeled], y[labeled])
    idx = BAIT(device="cpu").select(model, X, labeled, 5)
    _valid(idx, 90, labeled, 5)
    # A full three-column probability table with one class never labeled.
    P = np.full((90, 3), 1 / 3)
    P[labeled] = [0.5, 0.5, 0.0]
    idx = bait_select(X, P, labeled, 5, device="cpu")
    assert sorted(idx.tolist()) == sorted(dense_bait(X, P, labeled, 5).tolist())


@pytest.mark.parametrize("reg", [0, -1.0, float("nan"), float("inf")])
def test_bad_reg_rejected(reg):
    Z, P, labeled = softmax_problem(0)
    with pytest.raises(ValueError, match="reg"):
        bait_select(Z, P, labeled, 3, reg=reg, device="cpu")
    model = LogisticRegression().fit(Z[:12], np.arange(12) % 2)
    with pytest.raises(ValueError, match="reg"):
        BAIT(reg=reg, device="cpu").select(model, Z, labeled, 3)


def test_bad_inputs_rejected():
    Z, P, labeled = softmax_problem(0)
    with pytest.raises(ValueError, match="2-d"):
        bait_select(Z[:, 0], P, labeled, 3)
    with pytest.raises(ValueError, match="probas"):
        bait_select(Z, P[:-1], labeled, 3)
    with pytest.raises(ValueError, match="sum to one"):
        bait_select(Z, P * 2, labeled, 3)
    with pytest.raises(ValueError, match="NaN"):
        bait_select(np.where(Z > 1, np.nan, Z), P, labeled, 3)
    with pytest.raises(TypeError, match="numeric"):
        bait_select(Z.astype(str), P, labeled, 3)
    with pytest.raises(TypeError, match="batch_size"):
        bait_select(Z, P, labeled, 2.5)
    with pytest.raises(ValueError, match="batch_size"):
        bait_select(Z, P, labeled, 0)
    with pytest.raises(ValueError, match="oversample"):
        bait_select(Z, P, labeled, 3, oversample=0.5)
    with pytest.raises(ValueError, match="fisher"):
        bait_select(Z, P, labeled, 3, fisher="full")
    with pytest.raises(ValueError, match="outside"):
        bait_select(Z, P, [0, 1000], 3)
    with pytest.raises(ValueError, match="dtype"):
        bait_select(Z, P, labeled, 3, dtype="float16")


# ------------------------------------------------------------------ strategy


def test_strategy_contract():
    check_query_strategy(BAIT(device="cpu"))
    check_query_strategy(BAIT(oversample=1.5, backward=False, fisher="identity", dtype="float32"))


def test_strategy_by_name_and_params():
    assert isinstance(make_strategy("bait"), BAIT)
    with pytest.raises(ValueError, match="'fisher' parameter of BAIT"):
        BAIT(fisher="full").select(Ridge().fit([[0.0], [1.0]], [0, 1]), [[0.0], [2.0]], [0], 1)


def test_strategy_regression_multioutput_uses_rank_one():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 3))
    Y = X @ rng.normal(size=(3, 2))
    model = LinearRegression().fit(X[:8], Y[:8])
    idx, util = BAIT(device="cpu").select(model, X, np.arange(8), 4, return_utilities=True)
    assert idx.tolist() == dense_bait(X, None, np.arange(8), 4, reg=scaled_reg(X)).tolist()
    assert np.all(util > 0)


@pytest.mark.parametrize("seed", range(3))
def test_learner_with_a_regressor_picks_the_dense_reference_in_any_units(seed):
    # A scientist's loop: a scaled ridge regression, BAIT at its defaults. The Fisher of a
    # row of a linear model is z z^T times a noise factor, z the row as the regressor
    # sees it (scaled on the labeled rows): the first batch is the dense greedy's on those
    # rows, and the target's units (1e-6, 1e6) cannot change it.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skbait import ActiveLearner

    rng = np.random.RandomState(seed)
    X = rng.normal(size=(40, 3)) * [1.0, 3.0, 0.5] + [2.0, -1.0, 0.0]
    y = X @ rng.normal(size=3) + 0.1 * rng.normal(size=40)
    picks = []
    for units in (1.0, 1e-6, 1e6):
        learner = ActiveLearner(
            make_pipeline(StandardScaler(), Ridge()),
            query_strategy=BAIT(device="cpu"),
            n_initial=5,
            batch_size=3,
            budget=8,
            random_state=seed,
        ).fit(X, units * y)
        initial = np.asarray(learner.labeled_indices_[:5])
        picks.append(list(learner.history_[0]["indices"]))
    Z = StandardScaler().fit(X[initial]).transform(X)
    assert picks[0] == dense_bait(Z, None, initial, 3, reg=scaled_reg(Z)).tolist()
    assert picks[1] == picks[0] and picks[2] == picks[0]


def test_strategy_single_class_falls_back():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 2))

    class OneClass(LogisticRegression):
        def predict_proba(self, X):
            return np.ones((len(X), 1))

    model = OneClass().fit(X[:4], [0, 1, 0, 1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        idx = BAIT(device="cpu").select(model, X, np.arange(4), 3)
    assert any("single class" in str(w.message) for w in caught)
    assert idx.tolist() == dense_bait(X, None, np.arange(4), 3, reg=scaled_reg(X)).tolist()


def test_strategy_draws_at_random_when_no_probability_carries_information():
    # A 1-nearest-neighbour model's probabilities are all 0 or 1: every row's Fisher is
    # zero, every gain tied, and BAIT took the unlabeled rows in index order.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    model = KNeighborsClassifier(1).fit(X[:20], y[:20])
    for strategy in (BAIT(device="cpu"), BAIT(reg=1.0, device="cpu")):
        with pytest.warns(UserWarning, match=r"0 or 1.*uniformly at random.*Calibrated"):
            idx, util = strategy.select(
                model, X, np.arange(20), 5, random_state=3, return_utilities=True
            )
        expected = np.random.RandomState(3).choice(np.arange(20, 60), 5, replace=False)
        assert idx.tolist() == expected.tolist()
        assert np.all(util == 0)


class _FewUncertain(LogisticRegression):
    """Probabilities 0 or 1, except on the rows whose last feature is 1."""

    def predict_proba(self, X):
        P = np.eye(2)[(X[:, 0] > 0).astype(int)]
        P[X[:, -1] == 1] = [0.6, 0.4]
        return P


def test_strategy_keeps_the_informative_rows_and_draws_the_rest():
    rng = np.random.RandomState(1)
    X = np.hstack([rng.normal(size=(60, 3)), np.zeros((60, 1))])
    X[[33, 47], -1] = 1
    model = _FewUncertain().fit(X[:20], X[:20, 0] > 0)
    picks = []
    for seed in (0, 1):
        with pytest.warns(UserWarning, match=r"Only 2 of the 40.*chose 2.*drew the other 3"):
            idx, util = BAIT(device="cpu").select(
                model, X, np.arange(20), 5, random_state=seed, return_utilities=True
            )
        assert sorted(idx[:2].tolist()) == [33, 47] and np.all(util[:2] > 0)
        assert np.unique(idx).size == 5 and np.all(idx >= 20) and np.all(util[2:] == 0)
        picks.append(idx[2:].tolist())
    assert picks[0] != picks[1]  # drawn, not the lowest rows
    # Five rows or more with information: BAIT's selection, as it was.
    X[[21, 25, 52], -1] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        idx = BAIT(reg=1.0, device="cpu").select(model, X, np.arange(20), 5)
    assert idx.tolist() == bait_select(X, model.predict_proba(X), np.arange(20), 5).tolist()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_float64_matches_cpu():
    for seed in range(4):
        Z, P, labeled = softmax_problem(seed, n=400, d=8, k=5, n_labeled=20)
        for probas in (P, None):
            cpu = bait_select(Z, probas, labeled, 10, device="cpu")
            gpu = bait_select(Z, probas, labeled, 10, device="cuda")
            np.testing.assert_array_equal(cpu, gpu)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_float64_matches_cpu_with_a_kept_g_f_g(monkeypatch):
    """The large-design path (G F G kept, moves pending) picks alike on both devices."""
    import skbait._fisher._lazy as lazy_module
    import skbait._fisher._objectives as objectives_module

    monkeypatch.setattr(lazy_module, "_LAZY_MIN_ELEMENTS", 0)
    monkeypatch.setattr(objectives_module, "_LAZY_MIN_ELEMENTS", 0)
    for seed in range(4):
        Z, P, labeled = softmax_problem(seed, n=400, d=8, k=5, n_labeled=20)
        cpu = bait_select(Z, P, labeled, 10, device="cpu")
        gpu = bait_select(Z, P, labeled, 10, device="cuda")
        np.testing.assert_array_equal(cpu, gpu)
        assert cpu.tolist() == dense_bait(Z, P, labeled, 10).tolist()


@pytest.mark.parametrize("small", [True, False])
def test_a_small_selection_sets_up_on_one_thread_without_the_busy_probe(monkeypatch, small):
    """n (k d)^2 <= 2^28: the set-up on one thread and no probe (its pauses cost more than a
    second thread saves), the steps timing their threads up to the caller's; a larger pool
    probes the machine and keeps the caller's threads."""
    import skbait.strategies._bait as bait_module
    from skbait._fisher import KroneckerGreedy
    from skbait.utils import _threads

    if not small:
        monkeypatch.setattr(bait_module, "_ONE_THREAD_SIZE", 0)
    monkeypatch.setitem(_threads._last_steps, "at", -np.inf)  # no earlier call's steps
    probes, set_up, steps = [], [], []

    def probe():  # as the real one: on one thread there is nothing to measure
        if torch.get_num_threads() > 1:
            probes.append(1)
        return False

    monkeypatch.setattr(_threads, "oversubscribed", probe)
    problem = bait_module.Problem

    def recording_problem(*args, **kwargs):
        set_up.append(torch.get_num_threads())
        return problem(*args, **kwargs)

    monkeypatch.setattr(bait_module, "Problem", recording_problem)
    forward = KroneckerGreedy.forward

    def recording_forward(self, *args, **kwargs):
        steps.append(self.step_threads)
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(KroneckerGreedy, "forward", recording_forward)
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(300, 8))
    P = rng.dirichlet(np.ones(4), size=300)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        picked = bait_select(Z, P, np.arange(10), 5, device="cpu")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert picked.tolist() == dense_bait(Z, P, np.arange(10), 5).tolist()
    assert (not probes) == small
    assert set_up == ([1] if small else [2])
    assert steps == [2]  # each phase times its steps on two threads and on one


def _zero_rows_embedding(zero_rows):
    """The input features, with the rows ``zero_rows`` all zero (no word of the vocabulary)."""

    def embedding(estimator, X):
        Z = np.array(X, dtype=float)
        Z[zero_rows] = 0.0
        return Z

    return embedding


@pytest.mark.parametrize("regression", [False, True])
def test_strategy_draws_the_rows_whose_embedding_is_zero(regression):
    # A row whose embedding is all zero has zero Fisher information, as one whose
    # probabilities are 0 or 1: BAIT chose its informative rows, then took the tied
    # zero rows in a fixed order (those of the highest indices, after the pruning).
    rng = np.random.RandomState(1)
    X = rng.normal(size=(60, 3))
    model = (
        Ridge().fit(X[:20], X[:20, 0])
        if regression
        else LogisticRegression().fit(X[:20], X[:20, 0] > 0)
    )
    zero = np.setdiff1d(np.arange(20, 60), [33, 47])
    picks = []
    for seed in (0, 1):
        with pytest.warns(
            UserWarning, match=r"Only 2 of the 40.*zero embedding.*drew the other 3"
        ):
            idx, util = BAIT(device="cpu").select(
                model,
                X,
                np.arange(20),
                5,
                random_state=seed,
                return_utilities=True,
                embedding=_zero_rows_embedding(zero),
            )
        assert sorted(idx[:2].tolist()) == [33, 47] and np.all(util[:2] > 0)
        assert np.unique(idx).size == 5 and np.all(idx >= 20) and np.all(util[2:] == 0)
        picks.append(idx[2:].tolist())
    assert picks[0] != picks[1]  # drawn, not the same zero rows every time
    # No unlabeled row with information: the whole batch drawn, as BAIT.select draws it.
    for strategy in (BAIT(device="cpu"), BAIT(reg=1.0, device="cpu")):
        with pytest.warns(UserWarning, match=r"zero embedding.*uniformly at random"):
            idx = strategy.select(
                model,
                X,
                np.arange(20),
                5,
                random_state=3,
                embedding=_zero_rows_embedding(np.arange(20, 60)),
            )
        expected = np.random.RandomState(3).choice(np.arange(20, 60), 5, replace=False)
        assert idx.tolist() == expected.tolist()


def test_a_standardised_design_ranks_the_rows_whose_embedding_is_zero():
    # Standardised, a zero row is a row of the design like any other (its intercept is 1).
    rng = np.random.RandomState(1)
    X = rng.normal(size=(60, 3))
    model = LogisticRegression().fit(X[:20], X[:20, 0] > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        idx = BAIT(device="cpu", standardize=True).select(
            model, X, np.arange(20), 5, embedding=_zero_rows_embedding(np.arange(25, 60))
        )
    assert np.unique(idx).size == 5
