"""The one-output fast path of BAIT (RankOneGreedy) against the general Kronecker greedy."""

import math
import os
import sys

import numpy as np
import pytest
import torch

from skbait._fisher import (
    Factors,
    IllConditionedError,
    KroneckerGreedy,
    Problem,
    RankOneGreedy,
    TraceObjective,
    forward_steps,
)
from skbait.strategies import BAIT, bait_select
from skbait.strategies._bait import _bait_select

sys.path.insert(0, os.path.dirname(__file__))
from bait_reference import dense_bait


def _both(
    Z, labeled, B, *, reg=1.0, oversample=2, backward=True, fisher="pool", dtype=None, P=None
):
    """(picked, gains) of the general greedy and of the fast path on one problem."""
    problem = Problem(Z, P, labeled, B, reg=reg, device="cpu", dtype=dtype)
    n_forward = forward_steps(oversample, B, problem.candidates.size, backward)
    prune = n_forward > B
    F = problem.pool_fisher(fisher)
    out = []
    for fast in (False, True):
        if fast:
            M0, scale = problem.start(B)
            greedy = RankOneGreedy.from_factors(
                problem.pool[problem.candidates].scaled(scale), M0, F
            )
        else:
            greedy = problem.greedy(B, F, "trace", None)
        greedy.forward(n_forward, final_keep_picked=prune)
        if prune:
            greedy.backward(B)
        out.append((list(greedy.picked), np.asarray(greedy.gains)))
    return out


def _pool(seed, n, d, *, duplicates=False, scale=1.0):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, d)) * rng.uniform(0.2, 3.0, size=d) * scale
    if duplicates:
        # Exact duplicates and a constant block: exact ties at every step.
        Z[n // 2 : n // 2 + n // 4] = Z[: n // 4]
        Z[-3:] = Z[-4]
    return Z


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("n_labeled", [0, 7])
@pytest.mark.parametrize("oversample, backward", [(2, True), (1.5, True), (1, True), (3, False)])
def test_fast_path_makes_the_general_selection(seed, n_labeled, oversample, backward):
    rng = np.random.RandomState(100 + seed)
    n, d, B = int(rng.randint(20, 90)), int(rng.randint(1, 9)), int(rng.randint(1, 12))
    Z = _pool(seed, n, d, duplicates=seed % 3 == 0)
    (picked, gains), (fast_picked, fast_gains) = _both(
        Z,
        np.arange(n_labeled),
        B,
        oversample=oversample,
        backward=backward,
        reg=float(rng.choice([1e-3, 0.1, 1.0])),
        fisher="identity" if seed % 4 == 1 else "pool",
    )
    assert fast_picked == picked
    # Rounding of the incremental updates is relative to the largest gain (a tiny reg
    # makes the first gain dwarf the later ones).
    np.testing.assert_allclose(fast_gains, gains, rtol=1e-5, atol=1e-10 * np.abs(gains).max())


@pytest.mark.parametrize("seed", range(6))
def test_fast_path_float32_makes_the_general_float32_selection(seed):
    Z = _pool(seed, 120, 6, duplicates=seed % 2 == 0)
    (picked, gains), (fast_picked, fast_gains) = _both(
        Z, np.arange(10), 8, dtype="float32", reg=0.5
    )
    assert fast_picked == picked
    np.testing.assert_allclose(fast_gains, gains, rtol=1e-3)


def test_duplicate_rows_tie_to_the_lowest_index():
    Z = np.repeat(np.random.RandomState(0).normal(size=(5, 3)), 4, axis=0)
    chosen = bait_select(Z, None, [], 6, device="cpu")
    (picked, _), (fast_picked, _) = _both(Z, [], 6)
    assert fast_picked == picked
    # Every selected row is the first copy of its group that is still free.
    assert np.array_equal(np.sort(chosen), np.sort(np.asarray(picked)))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("backward", [True, False])
def test_bait_select_regression_matches_the_dense_reference(seed, backward):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(40, 4))
    labeled = np.arange(5)
    got = bait_select(Z, None, labeled, 5, backward=backward, device="cpu")
    ref = dense_bait(Z, None, labeled, 5, reg=1.0, oversample=2, backward=backward)
    np.testing.assert_array_equal(got, ref)


def test_bait_select_routes_one_output_to_the_fast_path(monkeypatch):
    calls = []
    original = RankOneGreedy.__init__

    def spy(self, *args, **kwargs):
        calls.append(True)
        original(self, *args, **kwargs)

    monkeypatch.setattr(RankOneGreedy, "__init__", spy)
    Z = np.random.RandomState(0).normal(size=(50, 3))
    bait_select(Z, None, [0, 1], 4, device="cpu")
    assert calls
    P = np.full((50, 2), 0.5)
    calls.clear()
    bait_select(Z, P, [0, 1], 4, device="cpu")  # two classes: the general path
    assert not calls


@pytest.mark.parametrize("backward", [True, False])
def test_one_probability_column_ties_everywhere_as_the_general_path(backward):
    """k = 1 from the caller's probabilities: an all-zero Fisher, every score tied."""
    Z = np.random.RandomState(1).normal(size=(30, 3))
    P = np.ones((30, 1))
    chosen, gains = _bait_select(Z, P, [0, 1, 2], 4, backward=backward, device="cpu")
    (picked, _), (fast_picked, _) = _both(Z, [0, 1, 2], 4, P=P, backward=backward)
    assert fast_picked == picked
    np.testing.assert_array_equal(chosen, 3 + np.asarray(picked))
    # Forward takes the lowest indices; the backward phase then drops the lowest first.
    np.testing.assert_array_equal(chosen, [7, 8, 9, 10] if backward else [3, 4, 5, 6])
    assert np.all(gains == 0)


def test_drift_is_detected_and_the_selection_kept():
    """A corrupted G is caught by the drift check and rebuilt from the exact M."""
    Z = _pool(3, 80, 5)
    problem = Problem(Z, None, np.arange(6), 6, reg=0.3, device="cpu", dtype=None)
    F = problem.pool_fisher("pool")
    M0, scale = problem.start(6)
    cand = problem.pool[problem.candidates].scaled(scale)
    clean = RankOneGreedy.from_factors(cand, M0, F)
    clean.forward(12, final_keep_picked=True)
    clean.backward(6)
    greedy = RankOneGreedy.from_factors(cand, M0, F)
    greedy.G += 1e-3 * np.eye(5)  # a silent corruption
    greedy.forward(12, final_keep_picked=True)
    greedy.backward(6)
    # The scores came from the clean G; the first update's drift check catches the
    # corruption and rebuilds G and every row, so nothing downstream sees it.
    assert greedy.n_refresh >= 1 and clean.n_refresh == 0
    assert greedy.picked == clean.picked
    np.testing.assert_allclose(greedy.gains, clean.gains, rtol=1e-9)


def test_tracked_P_and_Q_equal_their_definitions_after_every_step():
    Z = _pool(4, 60, 4)
    problem = Problem(Z, None, np.arange(5), 5, reg=0.5, device="cpu", dtype=None)
    F = problem.pool_fisher("pool")
    M0, scale = problem.start(5)
    cand = problem.pool[problem.candidates].scaled(scale)
    greedy = RankOneGreedy.from_factors(cand, M0, F)
    V = (cand.Z * cand.S[:, 0]).numpy()
    M0, F = M0.numpy(), F.numpy()
    # Add six rows, then remove three of them again (the backward phase's update).
    moves = [(p, +1) for p in (3, 0, 17, 9, 40, 22)] + [(0, -1), (40, -1), (3, -1)]
    for position, sign in moves:
        assert greedy._update(position, sign)
        G = np.linalg.inv(M0 + V[greedy.picked].T @ V[greedy.picked])
        np.testing.assert_allclose(greedy.G, G, rtol=1e-10, atol=1e-12)
        P, Q = ((V @ G) * V).sum(1), ((V @ G @ F @ G) * V).sum(1)
        np.testing.assert_allclose(greedy.P, P, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(2 * greedy.Qh, Q, rtol=1e-10, atol=1e-12)
    assert greedy.picked == [17, 9, 22]


def test_singular_design_raises_ill_conditioned():
    Z = 1e200 * np.ones((10, 2))
    Z[:, 1] = 1e-200
    with pytest.raises(IllConditionedError):
        bait_select(Z, None, [0], 2, reg=1e-300, device="cpu")


def test_non_finite_scores_raise_ill_conditioned():
    cand = Factors.regression(torch.full((5, 2), math.nan, dtype=torch.float64))
    greedy = RankOneGreedy.from_factors(cand, torch.eye(2, dtype=torch.float64), None)
    with pytest.raises(IllConditionedError, match="No candidate has a finite score"):
        greedy.forward(2)


def test_backward_needs_the_picked_rows_tracked():
    cand = Factors.regression(torch.eye(3, dtype=torch.float64))
    greedy = RankOneGreedy.from_factors(cand, torch.eye(3, dtype=torch.float64), None)
    greedy.forward(2)
    with pytest.raises(RuntimeError, match="final_keep_picked"):
        greedy.backward(1)


def test_more_than_one_output_is_refused():
    P = torch.full((4, 2), 0.5, dtype=torch.float64)
    with pytest.raises(ValueError, match="one output"):
        RankOneGreedy.from_factors(
            Factors.bait(torch.eye(4, dtype=torch.float64), P), torch.eye(8), None
        )


def test_errors_stay_clear_through_the_strategy():
    from sklearn.linear_model import Ridge

    X = np.random.RandomState(0).normal(size=(30, 3))
    model = Ridge().fit(X[:5], X[:5, 0])
    with pytest.raises(ValueError):
        BAIT(reg=-1.0).select(model, X, np.arange(5), 3)
    with pytest.raises(TypeError):
        bait_select(X, None, np.arange(5), 3, backward="yes", device="cpu")
    with pytest.raises(ValueError):
        bait_select(X, None, np.arange(5), 0, device="cpu")


def test_scalar_factors_of_different_sizes_are_scaled_copies():
    """Rows with different scalar factors (no uniform weight): the general greedy's choice."""
    gen = torch.Generator().manual_seed(5)
    Z = torch.randn(50, 4, generator=gen, dtype=torch.float64)
    S = torch.rand(50, 1, 1, generator=gen, dtype=torch.float64) + 0.1
    cand = Factors.generic(Z, S)
    M0 = 0.2 * torch.eye(4, dtype=torch.float64)
    F = (Z.T @ Z) / 50
    general = KroneckerGreedy(cand, M0, TraceObjective(F))
    fast = RankOneGreedy.from_factors(cand, M0, F)
    for greedy in (general, fast):
        greedy.forward(10, final_keep_picked=True)
        greedy.backward(5)
    assert fast.picked == general.picked
    np.testing.assert_allclose(fast.gains, general.gains, rtol=1e-9)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_constant_features_and_tiny_reg_take_the_guarded_paths_like_the_general_greedy(dtype):
    """reg 1e-8 beside O(1) entries: non-positive-definite updates and refreshes, no error."""
    Z = _pool(9, 40, 4)
    Z[:, 2] = 3.0
    (picked, _), (fast_picked, _) = _both(Z, np.arange(6), 4, reg=1e-8, dtype=dtype)
    assert len(set(fast_picked)) == 4 and len(set(picked)) == 4
    if dtype == "float64":
        # float64 still resolves the tiny regulariser: the dense reference's choice.
        ref = dense_bait(Z, None, np.arange(6), 4, reg=1e-8)
        assert (6 + np.asarray(fast_picked)).tolist() == ref.tolist()
        assert fast_picked == picked


def test_float32_removal_costs_fall_back_to_float64_exactly():
    Z = _pool(6, 90, 5)
    problem = Problem(Z, None, np.arange(8), 6, reg=0.2, device="cpu", dtype="float32")
    M0, scale = problem.start(6)
    greedy = RankOneGreedy.from_factors(
        problem.pool[problem.candidates].scaled(scale), M0, problem.pool_fisher("pool")
    )
    greedy.forward(12, final_keep_picked=True)
    # The float64 costs of removing each design row, from the dense inverse.
    V = (problem.pool.Z[problem.candidates].double() * scale).numpy()
    F = problem.pool_fisher("pool").double().numpy()
    G = np.linalg.inv(M0.numpy() + V[greedy.picked].T @ V[greedy.picked])
    Vd = V[greedy.picked]
    P = ((Vd @ G) * Vd).sum(1)
    Q = ((Vd @ G @ F @ G) * Vd).sum(1)
    got = greedy._removal_costs_float64()
    assert got.dtype == np.float32
    np.testing.assert_allclose(2 * got, Q / (1 - P), rtol=1e-6)


def test_the_torch_pool_product_makes_the_same_selection(monkeypatch):
    """Large pools take the step's product through torch's BLAS: the same choices."""
    import skbait._fisher._rank_one as rank_one

    Z = _pool(11, 150, 6, duplicates=True)
    expected = _both(Z, np.arange(9), 7)[1]
    monkeypatch.setattr(rank_one, "_TORCH_GEMM_ELEMENTS", 0)
    (picked, _), (fast_picked, fast_gains) = _both(Z, np.arange(9), 7)
    assert fast_picked == picked == expected[0]
    np.testing.assert_allclose(fast_gains, expected[1], rtol=1e-12)


def _dominant_rows(dtype):
    """Two orthogonal rows that dwarf a tiny M0: removing one is singular in float32."""
    V = torch.tensor([[1e4, 0.0], [0.0, 1e4], [1.0, 1.0]], dtype=dtype)
    return V, 1e-8 * torch.eye(2, dtype=torch.float64)


def test_an_update_that_is_not_positive_definite_rebuilds_from_the_exact_M():
    V, M0 = _dominant_rows(torch.float32)
    greedy = RankOneGreedy(V, M0, None)
    greedy._update(0, +1)  # cancels to ~1e-8 in float32: rebuilt by the drift check
    assert greedy.picked == [0]
    before = greedy.n_refresh
    # 1 - v^T G v is ~1e-16: zero or negative in float32, even after a refresh.
    assert not greedy._update(0, -1)
    assert greedy.picked == [] and greedy.n_refresh == before + 2
    np.testing.assert_allclose(greedy.G, np.linalg.inv(M0.numpy()), rtol=1e-6)


def test_a_corrupted_G_that_makes_an_update_indefinite_is_refreshed_first():
    V = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    M0 = torch.eye(2, dtype=torch.float64)
    greedy = RankOneGreedy(V, M0, None)
    greedy.G = -4.0 * greedy.G  # 1 + v^T G v < 0
    assert greedy._update(2, +1)
    assert greedy.n_refresh == 1
    np.testing.assert_allclose(greedy.G, np.linalg.inv(M0.numpy() + np.ones((2, 2))))


@pytest.mark.parametrize("reg", [1e-2, 1e-8])
def test_float32_backward_with_every_removal_singular_does_what_the_general_path_does(reg):
    """Removal costs all undefined in float32: float64 costs (reg 1e-2), or a clear error
    when the removal is singular in float64 too (reg 1e-8)."""
    V, _ = _dominant_rows(torch.float32)
    M0 = reg * torch.eye(2, dtype=torch.float64)
    out = []
    for fast in (False, True):
        if fast:
            greedy = RankOneGreedy(V, M0, None)
        else:
            greedy = KroneckerGreedy(Factors.regression(V), M0, TraceObjective())
        greedy.forward(2, final_keep_picked=True)
        try:
            greedy.backward(1)
        except IllConditionedError as exc:
            out.append(str(exc))
        else:
            out.append(greedy.picked)
    assert out[0] == out[1]
    if reg == 1e-8:
        assert "singular design" in out[1]
    else:
        assert len(out[1]) == 1


def test_a_starting_design_that_is_not_positive_definite_is_refused():
    V = torch.eye(3, dtype=torch.float64)
    with pytest.raises(IllConditionedError, match="not positive definite"):
        RankOneGreedy(V, -torch.eye(3, dtype=torch.float64), None)


def test_bad_arguments_are_refused_clearly():
    with pytest.raises(ValueError, match=r"\(m, d\) matrix"):
        RankOneGreedy(torch.ones(4, 3, dtype=torch.float64), torch.eye(2), None)
    with pytest.raises(ValueError, match="float32 or float64"):
        RankOneGreedy(torch.ones(4, 2, dtype=torch.int64), torch.eye(2), None)


def _bench_greedy(seed=3, n=80, d=5):
    Z = _pool(seed, n, d)
    problem = Problem(Z, None, np.arange(6), 6, reg=0.3, device="cpu", dtype=None)
    M0, scale = problem.start(6)
    cand = problem.pool[problem.candidates].scaled(scale)
    F = problem.pool_fisher("pool")
    return lambda: RankOneGreedy.from_factors(cand, M0, F)


def test_a_row_with_an_undefined_score_is_skipped_then_refreshed():
    make = _bench_greedy()
    clean, greedy = make(), make()
    greedy.P[5] = -2.0  # 1 + P < 0: undefined, as rounding could make it
    for g in (clean, greedy):
        g.forward(12, final_keep_picked=True)
        g.backward(6)
    # Row 5 sat out the first choice; the first update found it still bad and
    # rebuilt every row from the exact M, after which the choices are the clean ones.
    assert greedy.n_refresh == 1 and clean.n_refresh == 0
    assert greedy.picked == clean.picked


def test_the_drift_tolerance_rises_to_the_problems_own_floor():
    make = _bench_greedy()
    clean, greedy = make(), make()
    greedy.drift_tol = 1e-300  # below any float64 residual: the first update refreshes
    for g in (clean, greedy):
        g.forward(12, final_keep_picked=True)
        g.backward(6)
    assert greedy.n_refresh >= 1
    # The tolerance rose to 100 times the fresh residual (unless that was exactly 0,
    # and every step refreshed); the choices are the clean ones either way.
    assert greedy.drift_tol > 1e-300 or greedy.n_refresh > 1
    assert greedy.picked == clean.picked


def test_a_row_still_bad_after_a_refresh_costs_one_refresh_not_one_per_step(monkeypatch):
    """As the general greedy: a row the working precision cannot score is skipped after one."""
    greedy = _bench_greedy()()
    scores = greedy._scores

    def row_five_bad(sign):
        out, bad = scores(sign)
        if greedy._rows is None:  # the forward phase: row 5's score is "undefined"
            bad = np.zeros(out.shape, dtype=bool) if bad is None else bad.copy()
            bad[5] = True
        return out, bad

    monkeypatch.setattr(greedy, "_scores", row_five_bad)
    greedy.forward(12)
    assert greedy.n_refresh == 1
    assert 5 not in greedy.picked
