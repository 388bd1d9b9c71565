"""The Kronecker-factored building blocks against dense einsum/kron references."""

import math
import os
import sys
import threading

import numpy as np
import pytest
import torch

from skbait._fisher import (
    Choice,
    Design,
    Factors,
    KroneckerGreedy,
    LogDetObjective,
    Problem,
    TraceObjective,
    bait_factors,
    block_quadratic,
    kron_gram,
    rank1_factors,
    reduced_bait_factors,
    regression_factors,
)

sys.path.insert(0, os.path.dirname(__file__))
from bait_reference import dense_bait


def _random(seed, n, d, k):
    gen = torch.Generator().manual_seed(seed)
    Z = torch.randn(n, d, generator=gen, dtype=torch.float64)
    P = torch.softmax(torch.randn(n, k, generator=gen, dtype=torch.float64), dim=1)
    return Z, P, gen


@pytest.mark.parametrize("n, d, k", [(1, 1, 2), (7, 4, 3), (30, 5, 1), (65, 3, 6)])
@pytest.mark.parametrize("chunk_size", [None, 1, 4])
@pytest.mark.parametrize("factors", ["bait", "rank1"])
def test_kron_gram_equals_the_sum_of_kronecker_products(n, d, k, chunk_size, factors):
    Z, P, gen = _random(n + d + k, n, d, k)
    S = bait_factors(P) if factors == "bait" else rank1_factors(P)
    # Rows of different weights, as the candidates' scaled factors are.
    S = S * torch.rand(n, 1, 1, generator=gen, dtype=torch.float64)
    dense = sum(torch.kron(S[x] @ S[x].T, torch.outer(Z[x], Z[x])) for x in range(n))
    got = kron_gram(Z, S, chunk_size=chunk_size)
    torch.testing.assert_close(got, dense, rtol=1e-12, atol=1e-12)
    assert torch.equal(got, got.T)


@pytest.mark.parametrize("n, d", [(1, 1), (9, 4), (300, 17)])
@pytest.mark.parametrize("r", [1, 3])
def test_kron_gram_of_one_output_is_the_plain_gram_matrix(n, d, r):
    """k = 1 (regression) takes one Gram product: the same sum of V_x V_x^T, exactly symmetric."""
    Z, _, gen = _random(n * d + r, n, d, 2)
    S = torch.randn(n, 1, r, generator=gen, dtype=torch.float64)
    if r == 1:
        S[::2] = regression_factors(len(S[::2])) * 0.7  # the scaled regression factor
    dense = sum(torch.kron(S[x] @ S[x].T, torch.outer(Z[x], Z[x])) for x in range(n))
    got = kron_gram(Z, S)
    torch.testing.assert_close(got, dense, rtol=1e-12, atol=1e-12)
    assert torch.equal(got, got.T)
    torch.testing.assert_close(kron_gram(Z, regression_factors(n)), Z.T @ Z)


@pytest.mark.parametrize("n, d, k", [(1, 1, 2), (9, 4, 3), (40, 6, 5), (1, 1, 1), (70, 9, 1)])
@pytest.mark.parametrize("chunk_size", [None, 2])
def test_block_quadratic_equals_the_dense_forms(n, d, k, chunk_size):
    Z, _, gen = _random(n * d * k, n, d, k)
    mats = []
    for _ in range(2):
        A = torch.randn(k * d, k * d, generator=gen, dtype=torch.float64)
        mats.append(A + A.T)
    dense = [torch.einsum("xi,aibj,xj->xab", Z, A.reshape(k, d, k, d), Z) for A in mats]
    both = block_quadratic(Z, mats, k, chunk_size=chunk_size)
    assert both.shape == (n, 2, k, k)
    for m in range(2):
        torch.testing.assert_close(both[:, m], dense[m], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(block_quadratic(Z, mats[0], k), dense[0], rtol=1e-12, atol=1e-12)


def _check_state(greedy, F):
    """Every tracked [P; Qh] is V^T G V over (V^T G F G V) / 2 plus a skew part."""
    G = torch.linalg.inv(greedy.design.exact_M())
    torch.testing.assert_close(greedy.design.G, G, rtol=1e-9, atol=1e-12)
    r = greedy.factors.r
    for row, PQ in zip(greedy.rows.positions.tolist(), greedy.rows.PQ):
        V = torch.kron(greedy.factors.S[row], greedy.factors.Z[row][:, None])  # (k d) x r
        torch.testing.assert_close(PQ[:r], V.T @ G @ V, rtol=1e-9, atol=1e-12)
        Qh = PQ[r:]
        torch.testing.assert_close(Qh + Qh.T, V.T @ G @ F @ G @ V, rtol=1e-9, atol=1e-12)


def test_tracked_P_and_Q_equal_their_definitions_after_every_update():
    Z, P, _ = _random(3, 50, 4, 3)
    problem = Problem(Z.numpy(), P.numpy(), np.arange(5), 3, reg=1.0, device="cpu", dtype=None)
    F = problem.pool_fisher("pool")
    greedy = problem.greedy(3, F, "trace", chunk_size=16)
    _check_state(greedy, F)
    original = KroneckerGreedy._step
    n_checked = []

    def step_and_check(self, choice, sign, **kwargs):
        out = original(self, choice, sign, **kwargs)
        _check_state(self, F)
        n_checked.append(sign)
        return out

    greedy._step = step_and_check.__get__(greedy)
    greedy.forward(6, final_keep_picked=True)
    greedy.backward(3)
    # Five adds and the last one (keeping the picked rows), then two removals;
    # the final removal leaves nothing to update.
    assert n_checked == [1] * 6 + [-1] * 2


def test_a_corrupted_inverse_is_detected_and_rebuilt():
    """The probe check notices a drifted G, and the selection stays the reference's."""
    Z, P, _ = _random(5, 40, 3, 3)
    labeled = np.arange(4)
    expected = dense_bait(Z.numpy(), P.numpy(), labeled, 4)
    problem = Problem(Z.numpy(), P.numpy(), labeled, 4, reg=1.0, device="cpu", dtype=None)
    greedy = problem.greedy(4, problem.pool_fisher("pool"), "trace", None)
    original = Design._low_rank

    def corrupt_once(self, z, S, sign):
        if len(self) == 2 and self.n_refresh == 0:
            noise = 1e-4 * torch.ones_like(self.G)
            self.G += noise
        return original(self, z, S, sign)

    greedy.design._low_rank = corrupt_once.__get__(greedy.design)
    greedy.forward(8, final_keep_picked=True)
    greedy.backward(4)
    assert greedy.n_refresh >= 1
    assert problem.candidates[greedy.picked].tolist() == expected.tolist()


# ------------------------------------------------------- the split's pieces


def test_design_updates_from_its_own_factors_match_the_dense_inverse():
    """add/remove need only (z, S); G tracks the dense inverse and each term is G's move."""
    Z, P, _ = _random(11, 12, 3, 3)
    S = bait_factors(P)
    M0 = torch.eye(9, dtype=torch.float64) * 0.5
    design = Design(M0, torch.float64)
    order = [4, 0, 7, 2]
    for x in order:
        G_old = design.G.clone()
        term = design.add(Z[x].clone(), S[x].clone())
        assert term.sign == -1
        torch.testing.assert_close(design.G, G_old - term.L @ term.L.T, rtol=1e-12, atol=1e-12)
    dense = M0 + sum(torch.kron(S[x] @ S[x].T, torch.outer(Z[x], Z[x])) for x in order)
    torch.testing.assert_close(design.exact_M(), dense, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(design.G, torch.linalg.inv(dense), rtol=1e-9, atol=1e-12)
    # Removing the design's second row (x = 0) needs nothing but its index.
    G_old = design.G.clone()
    term = design.remove(1)
    assert term.sign == +1 and len(design) == 3
    torch.testing.assert_close(design.G, G_old + term.L @ term.L.T, rtol=1e-12, atol=1e-12)
    dense = dense - torch.kron(S[0] @ S[0].T, torch.outer(Z[0], Z[0]))
    torch.testing.assert_close(design.G, torch.linalg.inv(dense), rtol=1e-9, atol=1e-12)
    # The term carries the row's columns and the Cholesky factor behind L = G V C^-T.
    G_old = design.G.clone()
    term = design.add(Z[9], S[9])
    V = torch.kron(term.S, Z[9][:, None])
    torch.testing.assert_close(term.L @ term.C.T, G_old @ V, rtol=1e-12, atol=1e-12)
    eye = torch.eye(term.S.shape[1], dtype=torch.float64)
    torch.testing.assert_close(term.C @ term.C.T, eye + V.T @ G_old @ V)


@pytest.mark.parametrize("max_pending", [0, 5, 64])
@pytest.mark.parametrize("identity", [False, True])
def test_the_trace_objective_moves_g_f_g_with_the_design(max_pending, identity):
    """``T = G F L + (s/2) L L^T F L`` from the kept ``H``, and ``H = G F G`` after every move."""
    Z, P, _ = _random(31, 30, 3, 4)
    S = bait_factors(P)
    F = None if identity else kron_gram(Z, S) / 30
    dense_F = torch.eye(12, dtype=torch.float64) if identity else F
    M0 = 0.3 * torch.eye(12, dtype=torch.float64)
    design = Design(M0, torch.float64, max_pending=max_pending)
    objective = TraceObjective(F, max_pending=max_pending, keep_gfg=True)
    mats, moving = objective.track(design.G)
    torch.testing.assert_close(mats[1], design.G @ dense_F @ design.G)
    from_H = 0
    for step, x in enumerate([3, 8, 1, 11, 5, 0, 17, 21, 25, 9, 2, 29]):
        G_old = design.G.clone()
        columns = moving.columns()
        from_H += columns is None
        if step < 10:
            term = design.add(Z[x], S[x], columns=columns)
        else:
            term = design.remove(step - 10, columns=columns)
        L, s = term.L, term.sign
        expected = G_old @ dense_F @ L + (0.5 * s) * L @ (L.T @ dense_F @ L)
        (T,) = moving.extra_blocks(term)
        torch.testing.assert_close(T, expected, rtol=1e-10, atol=1e-12)
        G = design.G
        torch.testing.assert_close(moving.H.value, G @ dense_F @ G, rtol=1e-10, atol=1e-12)
        assert not moving.drifted
    # The first move and every eighth are checked against G (F L); the others read H only.
    assert from_H == 10
    # Without keeping it, every move takes G (F L) from the design.
    _, direct = TraceObjective(F).track(design.G)
    assert direct.H is None and direct.columns() is not None


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("k", [3, 6])
def test_a_kept_g_f_g_and_pending_moves_choose_the_dense_reference(monkeypatch, dtype, k):
    """Small designs kept as large ones are (``H`` read, moves pending): the paper's selection."""
    import skbait._fisher._lazy as lazy_module
    import skbait._fisher._objectives as objectives_module

    for seed in range(3):
        Z, P, _ = _random(seed + 50, 90, 4, k)
        labeled = np.arange(5)
        runs = []
        for large in (False, True):
            if large:
                monkeypatch.setattr(lazy_module, "_LAZY_MIN_ELEMENTS", 0)
                monkeypatch.setattr(objectives_module, "_LAZY_MIN_ELEMENTS", 0)
            problem = Problem(Z.numpy(), P.numpy(), labeled, 6, reg=1.0, device="cpu", dtype=dtype)
            greedy = problem.greedy(6, problem.pool_fisher("pool"), "trace", None)
            assert (greedy.rows._moving.H is not None) == large
            assert greedy.design._G.max_pending == (64 if large else 0)
            greedy.forward(12, final_keep_picked=True)
            greedy.backward(6)
            assert not greedy.rows._gfg_drifted and greedy.n_refresh == 0
            runs.append((problem.candidates[greedy.picked].tolist(), greedy.gains))
            monkeypatch.undo()
        assert runs[0][0] == runs[1][0]
        np.testing.assert_allclose(
            runs[0][1], runs[1][1], rtol=1e-9 if dtype == torch.float64 else 1e-4
        )
        if dtype == torch.float64:
            assert runs[1][0] == dense_bait(Z.numpy(), P.numpy(), labeled, 6).tolist()


def test_a_kept_g_f_g_that_drifts_is_caught_and_dropped(monkeypatch):
    """float32 with a tiny ``reg``: ``H``'s rounding swamps it; the check rebuilds the design."""
    import skbait._fisher._objectives as objectives_module

    monkeypatch.setattr(objectives_module, "_LAZY_MIN_ELEMENTS", 0)
    Z, P, _ = _random(9, 40, 4, 3)
    Z[:, 2] = 3.0  # a constant feature: directions that only the regulariser holds
    labeled = np.arange(6)
    problem = Problem(Z.numpy(), P.numpy(), labeled, 4, reg=1e-8, device="cpu", dtype="float32")
    with pytest.warns(UserWarning, match="float32 cannot resolve"):  # as intended here
        greedy = problem.greedy(4, problem.pool_fisher("pool"), "trace", None)
    assert greedy.rows._moving.H is not None
    greedy.forward(8, final_keep_picked=True)
    greedy.backward(4)
    assert greedy.rows._gfg_drifted and greedy.rows._moving.H is None
    assert greedy.n_refresh >= 1
    picked = problem.candidates[greedy.picked]
    assert len(set(picked.tolist())) == 4 and not set(picked.tolist()) & set(labeled.tolist())


def test_design_refresh_calls_back_with_the_exact_inverse():
    Z, P, _ = _random(12, 6, 2, 2)
    seen = []
    design = Design(torch.eye(4, dtype=torch.float64), torch.float64, on_refresh=seen.append)
    design.add(Z[0], bait_factors(P)[0])
    design.G += 1e-3  # a drifted inverse
    design.refresh()
    assert design.n_refresh == 1 and len(seen) == 1
    torch.testing.assert_close(seen[0], torch.linalg.inv(design.exact_M()))


def test_factors_stay_consistent_under_take_and_scaled():
    Z, P, gen = _random(13, 10, 3, 4)
    pool = Factors.bait(Z, P)
    rows = torch.tensor([7, 2, 5])
    part = pool[rows].scaled(0.5)
    assert part.structure == "bait" and part.scale == 0.5 and len(part) == 3
    torch.testing.assert_close(part.S, 0.5 * reduced_bait_factors(P[rows]))
    torch.testing.assert_close(part.probas, P[rows])
    # The product S^T Y (structured where it pays) equals the plain one, for
    # every structure, a wide BAIT factor (k = 25) included.
    wide = Factors.bait(Z, torch.softmax(torch.randn(10, 25, generator=gen), 1).double())
    for f in (part, Factors.rank1(Z, P)[rows].scaled(0.3), Factors.regression(Z)[rows], wide):
        Y = torch.randn(len(f), f.k, 7, generator=gen, dtype=torch.float64)
        plain = torch.einsum("xar,xaw->xrw", f.S, Y)
        torch.testing.assert_close(f.transpose_product(slice(None), Y.clone()), plain)
        torch.testing.assert_close(f.V(1), torch.kron(f.S[1], f.Z[1][:, None]))
    with pytest.raises(ValueError, match="probas"):
        Factors(Z, bait_factors(P), "bait", None)
    with pytest.raises(ValueError, match="structure"):
        Factors(Z, bait_factors(P), "dense", P)
    with pytest.raises(ValueError, match="shape"):
        Factors(Z, bait_factors(P)[:-1])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_reduced_bait_factors_carry_the_same_information_in_k_minus_one_columns(dtype):
    """``S H`` without its null column: ``S S^T = diag(p) - p p^T`` (the paper's), any ``p``."""
    _, P, _ = _random(5, 40, 1, 5)
    edge = torch.zeros(6, 5, dtype=torch.float64)
    edge[0, 4] = 1.0  # all mass on the class the reflection sends sqrt(p) to
    edge[1, 0] = 1.0  # one-hot elsewhere
    edge[2] = 0.2  # uniform
    edge[3, 3:] = 0.5
    edge[4, 4], edge[4, 0] = 1 - 1e-12, 1e-12  # nearly one-hot
    edge[5, :2] = torch.tensor([1e-300, 1 - 1e-300])  # a probability below sqrt(tiny)
    P = torch.cat([P, edge]).to(dtype)
    S = reduced_bait_factors(P)
    assert S.shape == (46, 5, 4) and S.dtype == dtype and torch.isfinite(S).all()
    C = torch.diag_embed(P) - P[:, :, None] * P[:, None, :]
    tol = 1e-15 if dtype == torch.float64 else 1e-7
    torch.testing.assert_close(S @ S.transpose(1, 2), C, rtol=0, atol=tol)
    full = bait_factors(P)
    torch.testing.assert_close(full @ full.transpose(1, 2), C, rtol=0, atol=tol)
    # Binary rows keep one column: sqrt(p0 p1) (e_0 - e_1) up to its sign.
    two = reduced_bait_factors(torch.tensor([[0.3, 0.7]], dtype=torch.float64))[0, :, 0]
    torch.testing.assert_close(two.abs(), torch.full((2,), math.sqrt(0.21), dtype=torch.float64))
    assert two[0] * two[1] < 0
    # One class: no information, a single zero column (r stays 1).
    assert torch.equal(reduced_bait_factors(torch.ones(3, 1)), torch.zeros(3, 1, 1))


@pytest.mark.parametrize("k", [2, 3, 7])
@pytest.mark.parametrize("objective", ["trace", "logdet"])
def test_the_greedy_on_reduced_factors_scores_as_on_the_paper_factors(k, objective):
    """Every gain and removal cost, and the selection, of the ``k``-column factor (the paper's)."""
    Z, P, _ = _random(40 + k, 70, 4, k)
    M0 = 0.5 * torch.eye(4 * k, dtype=torch.float64) + kron_gram(Z[:5], bait_factors(P[:5])) / 20
    runs = []
    for factors in (Factors.bait(Z[5:], P[5:]), Factors.generic(Z[5:], bait_factors(P[5:]))):
        F = kron_gram(Z, bait_factors(P)) / 70 if objective == "trace" else None
        obj = TraceObjective(F) if objective == "trace" else LogDetObjective()
        greedy = KroneckerGreedy(factors.scaled(0.4), M0, obj)
        assert greedy.rows.PQ.shape[-1] == factors.r
        first = greedy.rows.exact_scores(torch.arange(65), +1)[0]
        greedy.forward(8, final_keep_picked=True)
        greedy.backward(4)
        runs.append((factors.r, greedy.picked, greedy.gains, first))
    (r_reduced, picked, gains, first), (r_full, picked_full, gains_full, first_full) = runs
    assert (r_reduced, r_full) == (k - 1, k)
    assert picked == picked_full
    torch.testing.assert_close(torch.tensor(gains), torch.tensor(gains_full), rtol=1e-10, atol=0)
    torch.testing.assert_close(first, first_full, rtol=1e-10, atol=1e-14)


class _Comm:
    """Collectives between threads, standing in for torch.distributed in a test."""

    def __init__(self, world):
        self.world = world
        self.slots = [None] * world
        self.barrier = threading.Barrier(world)

    def all_gather(self, rank, value):
        self.slots[rank] = value
        self.barrier.wait()
        out = list(self.slots)
        self.barrier.wait()
        return out


class _ShardedGreedy(KroneckerGreedy):
    """The distributed override of ``choose`` that its docstring prescribes."""

    def __init__(self, *args, comm, rank, **kwargs):
        super().__init__(*args, **kwargs)
        self.comm, self.rank = comm, rank

    def choose(self, scores, usable, *, maximize=True, bounded=False):
        candidates = None
        if bounded:
            floor = max(self.comm.all_gather(self.rank, self._floor(usable)))
            if not torch.isfinite(floor):
                return None
            candidates = self._contenders(scores, usable, floor)
            exact, bad = self.rows.exact_scores(candidates, +1)
            scores = torch.where(bad, -math.inf, exact)
        else:
            scores = torch.where(usable, scores, -math.inf if maximize else math.inf)
        if not maximize:
            scores = -scores
        local = scores.max() if scores.numel() else scores.new_tensor(-math.inf)
        best = max(self.comm.all_gather(self.rank, local))
        if not torch.isfinite(best):
            return None
        mine = None
        if scores.numel() and scores.max() >= best - self.rtol * best.abs():
            j = self._lowest_tied(scores, best, candidates)
            slot = j if candidates is None else int(candidates[j])
            position = self.rows.positions[slot]
            value = scores[j].item() if maximize else -scores[j].item()
            mine = (int(self.ids[position]), value, self.factors.Z[position],
                    self.factors.S[position], slot)  # fmt: skip
        offers = [o for o in self.comm.all_gather(self.rank, mine) if o is not None]
        winner = min(offers, key=lambda o: o[0])
        return Choice(*winner[:4], winner[4] if winner is mine else None)


@pytest.mark.parametrize("objective", ["trace", "logdet"])
@pytest.mark.parametrize("k", [1, 3])
def test_the_choose_hook_reduces_across_shards_to_the_single_process_selection(objective, k):
    """Shards that reduce the choice as documented pick what one process picks, ties included."""
    Z, P, _ = _random(14 + k, 60, 3, max(k, 2))
    # Every candidate has a copy, held by the other shard: ties across ranks at every step.
    Z[33:], P[33:] = Z[6:33], P[6:33]
    problem = Problem(Z.numpy(), None if k == 1 else P.numpy(), np.arange(6), 4,
                      reg=1.0, device="cpu", dtype=None)  # fmt: skip
    F = problem.pool_fisher("pool") if objective == "trace" else None
    prune = objective == "trace"

    def run(greedy):
        greedy.forward(8 if prune else 4, final_keep_picked=prune)
        if prune:
            greedy.backward(4)
        return greedy.picked, greedy.gains

    single = problem.greedy(4, F, objective, None)
    expected = run(single)
    # Ties go to the first copies (positions below 27), held by both shards.
    assert min(expected[0]) < 27 and {i % 2 for i in expected[0]} == {0, 1}
    M0, scale = problem.start(4)
    cand = problem.pool[problem.candidates].scaled(scale)
    positions = torch.arange(len(cand))
    # Interleaved, and a third process that holds no candidate at all.
    shards = [positions[positions % 2 == 0], positions[positions % 2 == 1], positions[:0]]
    comm = _Comm(3)
    results = [None, None, None]

    def worker(rank):
        obj = single.objective
        greedy = _ShardedGreedy(
            cand[shards[rank]], M0, obj, ids=shards[rank], comm=comm, rank=rank
        )
        results[rank] = run(greedy)

    threads = [threading.Thread(target=worker, args=(rank,)) for rank in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results[0][0] == results[1][0] == results[2][0] == expected[0]
    assert results[0][1] == results[1][1] == results[2][1]  # every rank reports the owner's
    # A row's score may differ in the last bit with the shard's chunking (BLAS
    # blocking); the tie tolerance absorbs it.
    np.testing.assert_allclose(results[0][1], expected[1], rtol=1e-12)


def test_backward_needs_the_picked_rows_tracked():
    Z, P, _ = _random(16, 20, 2, 3)
    problem = Problem(Z.numpy(), P.numpy(), np.arange(3), 2, reg=1.0, device="cpu", dtype=None)
    greedy = problem.greedy(2, problem.pool_fisher("pool"), "trace", None)
    greedy.forward(4)  # a complete design: nothing is tracked any more
    assert len(greedy.picked) == 4 and len(greedy.rows) == 0
    with pytest.raises(RuntimeError, match="final_keep_picked"):
        greedy.backward(2)
    with pytest.raises(RuntimeError, match="final_keep_picked"):
        problem.greedy(2, None, "trace", None).backward(1)


# ------------------------------------------------- wide embeddings, big designs


@pytest.mark.parametrize("tile", [2, 3, 8])
@pytest.mark.parametrize("factors", ["bait", "rank1"])
@pytest.mark.parametrize("form", ["_Tiles", "_TilePairs"])
def test_tiled_products_equal_the_dense_sums(tile, factors, form):
    """The tiled products (wide d) against kron / einsum, a short last tile included (d = 7)."""
    import skbait._fisher._kron_tiled as tiled_module

    n, d, k = 23, 7, 4
    Z, P, gen = _random(tile + 40, n, d, k)
    S = bait_factors(P) if factors == "bait" else rank1_factors(P)
    tiles = getattr(tiled_module, form)(d, k, Z.device, tile=tile)
    dense = sum(torch.kron(S[x] @ S[x].T, torch.outer(Z[x], Z[x])) for x in range(n))
    got = tiles.gram(Z, S, chunk_size=5)
    torch.testing.assert_close(got, dense, rtol=1e-12, atol=1e-12)
    assert torch.equal(got, got.T)
    mats = []
    for _ in range(2):
        A = torch.randn(k * d, k * d, generator=gen, dtype=torch.float64)
        mats.append(A + A.T)
    forms = tiles.quadratics(mats)(Z, chunk_size=6)
    for m, A in enumerate(mats):
        dense = torch.einsum("xi,aibj,xj->xab", Z, A.reshape(k, d, k, d), Z)
        torch.testing.assert_close(forms[:, m], dense, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k, form", [(5, "_Tiles"), (18, "_TilePairs")])
def test_wide_embeddings_take_the_tiled_products(k, form):
    """At d = 256 the public functions (tiled) still equal the dense definitions.

    With few classes by tile, with many by tile pair.
    """
    from skbait._fisher._kron_tiled import tiling

    assert type(tiling(256, k, k * (k + 1) // 2, "cpu")).__name__ == form
    n, d = 3, 256
    Z, P, gen = _random(99, n, d, k)
    S = bait_factors(P)
    dense = sum(torch.kron(S[x] @ S[x].T, torch.outer(Z[x], Z[x])) for x in range(n))
    torch.testing.assert_close(kron_gram(Z, S), dense, rtol=1e-12, atol=1e-10)
    A = torch.randn(k * d, k * d, generator=gen, dtype=torch.float64)
    A = A + A.T
    W = block_quadratic(Z, A, k)
    torch.testing.assert_close(
        W, torch.einsum("xi,aibj,xj->xab", Z, A.reshape(k, d, k, d), Z), rtol=1e-12, atol=1e-9
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_pending_moves_leave_the_design_as_the_eager_one(dtype):
    """Moves of G kept pending (large designs) give the same G, terms and selection."""
    Z, P, _ = _random(21, 60, 5, 4)
    labeled = np.arange(6)
    runs = []
    for max_pending in (0, 9, 64):
        problem = Problem(Z.numpy(), P.numpy(), labeled, 5, reg=0.5, device="cpu", dtype=dtype)
        M0, scale = problem.start(5)
        cand = problem.pool[problem.candidates].scaled(scale)
        objective = TraceObjective(problem.pool_fisher("pool"), max_pending=max_pending)
        greedy = KroneckerGreedy(cand, M0, objective)
        greedy.design = Design(
            M0, dtype, on_refresh=greedy.rows.recompute, max_pending=max_pending
        )
        greedy.forward(10, final_keep_picked=True)
        greedy.backward(5)
        assert greedy.design.n_pending == 0 or max_pending > 0
        runs.append((greedy.picked, greedy.gains, greedy.design.G.clone()))
    rtol = 1e-9 if dtype == torch.float64 else 1e-3
    for picked, gains, G in runs[1:]:
        assert picked == runs[0][0]
        np.testing.assert_allclose(gains, runs[0][1], rtol=rtol)
        torch.testing.assert_close(G, runs[0][2], rtol=rtol, atol=rtol * 1e-3)
    exact = torch.linalg.inv(greedy.design.exact_M()).to(dtype)
    torch.testing.assert_close(runs[-1][2], exact, rtol=rtol * 10, atol=rtol * 1e-2)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_design_moves_at_the_rank_of_the_row(monkeypatch, dtype):
    """A BAIT row (rank k - 1) moves G by k - 1 columns: the same S S^T, G and selection."""
    import skbait._fisher._design as design_module

    gen = torch.Generator().manual_seed(5)
    P = torch.softmax(torch.randn(6, 4, generator=gen, dtype=torch.float64), dim=1)
    P[5] = torch.tensor([1.0, 0.0, 0.0, 0.0])  # no information: S = 0
    S = bait_factors(P).to(dtype)
    eps = torch.finfo(dtype).eps
    for row in range(5):
        reduced = design_module._full_rank(S[row])
        assert reduced.shape == (4, 3)
        torch.testing.assert_close(reduced @ reduced.T, S[row] @ S[row].T, rtol=0, atol=100 * eps)
    assert design_module._full_rank(S[5]).shape == (4, 1)
    full = torch.randn(4, 3, generator=gen, dtype=dtype)
    assert design_module._full_rank(full) is full

    Z, Pr, _ = _random(4, 60, 5, 4)
    labeled = np.arange(6)
    expected = dense_bait(Z.numpy(), Pr.numpy(), labeled, 6, reg=0.5)
    runs = []
    for reduce in (True, False):
        if not reduce:
            monkeypatch.setattr(design_module, "_full_rank", lambda S: S)
        problem = Problem(Z.numpy(), Pr.numpy(), labeled, 6, reg=0.5, device="cpu", dtype=dtype)
        greedy = problem.greedy(6, problem.pool_fisher("pool"), "trace", None)
        greedy.forward(12, final_keep_picked=True)
        greedy.backward(6)
        runs.append((greedy.picked, greedy.gains, greedy.design.G.clone()))
        assert problem.candidates[greedy.picked].tolist() == expected.tolist()
    rtol = 1e-9 if dtype == torch.float64 else 1e-3
    assert runs[0][0] == runs[1][0]
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=rtol)
    torch.testing.assert_close(runs[0][2], runs[1][2], rtol=rtol, atol=rtol * 1e-3)


def _gain_problems(gen, dtype):
    """``[P; Qh]`` of rows of every kind: ``(rows, 2 r, r)``, and the exact gains (float64)."""
    cases = []
    for r, rank, scale in [
        (3, 2, 1.0),
        (10, 9, 1.0),
        (10, 9, 4.0),
        (10, 2, 1.0),
        (10, 1, 1.0),
        (6, 6, 30.0),
        (20, 19, 0.5),
        (4, 3, 1e-4),
    ]:
        A = torch.randn(300, r, rank, generator=gen, dtype=torch.float64) * scale
        P = A @ A.transpose(1, 2)
        R = torch.randn(300, r, r - 1, generator=gen, dtype=torch.float64)
        Q = R @ R.transpose(1, 2)
        skew = torch.randn(300, r, r, generator=gen, dtype=torch.float64)
        Qh = Q / 2 + (skew - skew.transpose(1, 2))  # Q = Qh + Qh^T
        eye = torch.eye(r, dtype=torch.float64)
        # The definition: tr(Q (I + P)^-1), by a dense solve.
        gain = torch.linalg.solve(eye + P, Q).diagonal(dim1=1, dim2=2).sum(-1)
        cases.append((torch.cat([P, Qh], dim=1).to(dtype), gain))
    return cases


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_tight_bounds_hold_and_are_exact_on_three_eigenvalues(dtype):
    """Gauss and Gauss-Radau bounds hold on every row, and meet where P has <= 3 eigenvalues."""
    objective = TraceObjective()
    gen = torch.Generator().manual_seed(11)
    slack = objective.margin(dtype) + (1e-9 if dtype == torch.float64 else 1e-5)
    for PQ, gain in _gain_problems(gen, dtype):
        exact, bad = objective.score(PQ, +1)
        assert not bad.any()
        upper, lower = objective.tight_bounds(objective.bound_moments(PQ), dtype)
        one_node_lower = torch.empty_like(exact)
        one_node_upper = objective.bounds(PQ, one_node_lower)
        for reference in (exact.double(), gain):
            assert (upper >= reference * (1 - 1e-12)).all()
            assert (lower <= reference * (1 + slack)).all()
        # Never looser than the one-node bounds (up to their slack).
        assert (upper <= one_node_upper.double() * (1 + slack)).all()
        assert (lower >= one_node_lower.double() * (1 - slack)).all()
        # Two nodes need the moments up to nu_3 only: valid, and never tighter than three.
        moments = objective.bound_moments(PQ, nodes=2)
        assert moments[:, 4:6].isnan().all() and not moments[:, [0, 1, 2, 3, 6, 7]].isnan().any()
        torch.testing.assert_close(moments[:, :4], objective.bound_moments(PQ)[:, :4])
        upper2, lower2 = objective.tight_bounds(moments, dtype, nodes=2)
        assert (upper2 >= exact.double() * (1 - 1e-12)).all()
        assert (lower2 <= exact.double() * (1 + slack)).all()
        assert (upper <= upper2).all() and (lower >= lower2).all()
    # P = a 3-point spectrum: three nodes integrate exactly.
    r = 9
    basis = torch.linalg.qr(torch.randn(50, r, r, generator=gen, dtype=torch.float64))[0]
    spectrum = torch.tensor([0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 7.0, 7.0, 7.0], dtype=torch.float64)
    P = basis @ torch.diag(spectrum) @ basis.transpose(1, 2)
    R = torch.randn(50, r, r, generator=gen, dtype=torch.float64)
    Q = R @ R.transpose(1, 2)
    PQ = torch.cat([P, Q / 2], dim=1).to(dtype)
    exact, _ = objective.score(PQ, +1)
    upper, lower = objective.tight_bounds(objective.bound_moments(PQ), dtype)
    # Up to the slack, margin * tr(Q) <= margin * (1 + 7) * gain.
    tol = 2 * (1 + 7) * objective.margin(dtype)
    torch.testing.assert_close(upper, exact.double(), rtol=tol, atol=0)
    torch.testing.assert_close(lower, exact.double(), rtol=tol, atol=0)


def _softmax_layer_greedy(rng, n, d, k, n_labeled):
    """A greedy on ReLU embeddings and a softmax layer's probabilities (a network's last layer)."""
    Z = np.maximum(rng.normal(size=(n, d)), 0.0)
    logits = Z @ rng.normal(size=(d, k)) * (2.0 / np.sqrt(d))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    problem = Problem(Z, P, np.arange(n_labeled), 10, reg=1.0, device="cpu", dtype=None)
    return problem.greedy(10, problem.pool_fisher("pool"), "trace", None)


def test_tight_bounds_prune_a_softmax_layer():
    """On a network-like pool the tight bounds leave few rows to solve; the one-node ones many."""
    rng = np.random.RandomState(0)
    # d = 256 is wide: the gains are flat, as at d = 512.
    greedy = _softmax_layer_greedy(rng, n=2000, d=256, k=10, n_labeled=40)
    objective, PQ = greedy.objective, greedy.rows.PQ
    exact, _ = objective.score(PQ, +1)
    one_lower = torch.empty_like(exact)
    one_upper = objective.bounds(PQ, one_lower)
    upper, lower = objective.tight_bounds(objective.bound_moments(PQ), PQ.dtype)
    assert (upper >= exact).all() and lower.max() <= exact.max() * (1 + 1e-9)
    one_node = (one_upper >= one_lower.max()).double().mean().item()
    tight = (upper >= lower.max()).double().mean().item()
    assert tight < 0.01 and one_node > 0.5


def test_three_nodes_for_the_two_node_contenders_only_keep_the_contenders():
    """Tightening only the rows that two nodes leave in contention: the three-node contenders."""
    rng = np.random.RandomState(1)
    n = 1500
    greedy = _softmax_layer_greedy(rng, n=n, d=128, k=8, n_labeled=30)
    objective, rows = greedy.objective, greedy.rows
    for _ in range(4):
        usable = torch.from_numpy(rng.uniform(size=len(rows)) > 0.2)
        # The reference: three-node bounds on every row.
        upper3, lower3 = objective.tight_bounds(objective.bound_moments(rows.PQ), torch.float64)
        floor3 = torch.where(usable, lower3, -math.inf).max()
        expected = greedy._contenders(upper3, usable, floor3)
        rows.tight = True
        upper, _ = rows.scores(+1)  # two-node bounds of every row
        two_node = greedy._contenders(upper, usable, greedy._floor(usable))
        greedy._tighten(upper, usable)
        floor = greedy._floor(usable)
        torch.testing.assert_close(floor, floor3, rtol=1e-12, atol=0)
        assert torch.equal(greedy._contenders(upper, usable, floor), expected)
        assert expected.numel() < two_node.numel() < 0.5 * n
        rows.tight = False
        choice = greedy.choose(upper3, usable, bounded=False)
        greedy._step(choice, +1)


@pytest.mark.parametrize("dense_max_classes", [0, 100])
def test_structured_and_dense_factor_products_choose_the_dense_reference(
    monkeypatch, dense_max_classes
):
    """BAIT's ``S^T Y`` as a dense batch or by its structure: the paper's selection."""
    import skbait._fisher._factors as factors_module

    monkeypatch.setattr(factors_module, "_DENSE_TRANSPOSE_MAX_CLASSES", dense_max_classes)
    for seed in range(3):
        Z, P, _ = _random(seed + 90, 80, 4, 5)
        labeled = np.arange(5)
        expected = dense_bait(Z.numpy(), P.numpy(), labeled, 6)
        problem = Problem(Z.numpy(), P.numpy(), labeled, 6, reg=1.0, device="cpu", dtype=None)
        greedy = problem.greedy(6, problem.pool_fisher("pool"), "trace", None)
        greedy.forward(12, final_keep_picked=True)
        greedy.backward(6)
        assert problem.candidates[greedy.picked].tolist() == expected.tolist()


def _mode(rows):
    return "off" if not rows.use_bounds else "tight" if rows.tight else "one-node"


@pytest.mark.parametrize("pruning", ["never", "always", "tight only"])
@pytest.mark.parametrize("k", [3, 6])
def test_bounds_one_node_tight_or_off_choose_the_dense_reference(monkeypatch, pruning, k):
    """Scoring every row exactly, by one-node or by tight bounds gives the paper's selection."""
    import skbait._fisher._greedy as greedy_module

    monkeypatch.setattr(greedy_module, "_BOUNDS_RETRY", 3)
    monkeypatch.setattr(greedy_module, "_TIGHT_MIN_ROWS", 0)  # a 90-row pool as a large one
    for seed in range(4):
        Z, P, _ = _random(seed + 70, 90, 4, k)
        labeled = np.arange(5)
        expected = dense_bait(Z.numpy(), P.numpy(), labeled, 6)
        problem = Problem(Z.numpy(), P.numpy(), labeled, 6, reg=1.0, device="cpu", dtype=None)
        greedy = problem.greedy(6, problem.pool_fisher("pool"), "trace", None)
        modes, exact_rows = [], []
        original_adapt, original_record = greedy._adapt_bounds, greedy._record_pruning

        def adapt(step, original=original_adapt, greedy=greedy, modes=modes):
            original(step)
            modes.append(_mode(greedy.rows))

        def record(
            n_contenders, n_rows, original=original_record, greedy=greedy, exact_rows=exact_rows
        ):
            exact_rows.append((_mode(greedy.rows), n_contenders, n_rows))
            original(n_contenders, n_rows)
            if pruning != "tight only":
                greedy._bounds_pruned = pruning == "always"
            else:
                greedy._bounds_pruned = greedy.rows.tight

        greedy._adapt_bounds = adapt
        greedy._record_pruning = record
        greedy.forward(12, final_keep_picked=True)
        greedy.backward(6)
        assert problem.candidates[greedy.picked].tolist() == expected.tolist()
        if pruning == "never":
            # One-node bounds, then tight ones, then off for 3 steps, and again.
            assert modes[:7] == ["tight", "off", "off", "off", "one-node", "tight", "off"]
        elif pruning == "always":
            assert set(modes) == {"one-node"}
        else:
            # Tight while the one-node bounds fail, which are tried every 3 steps.
            assert modes[:8] == ["tight", "tight", "tight", "one-node"] * 2
            tight = [n / m for mode, n, m in exact_rows if mode == "tight"]
            assert tight and max(tight) < 1.0  # the tight bounds prune


@pytest.mark.parametrize("tight_min_rows", [0, 85, 86])
def test_tight_bounds_only_over_enough_rows(monkeypatch, tight_min_rows):
    """Below ``_TIGHT_MIN_ROWS`` (the pool-wide count) failing bounds go off, never tight.

    The quadrature's fixed cost exceeds the solves of a small pool; the
    selection is the dense reference's either way.
    """
    import skbait._fisher._greedy as greedy_module

    monkeypatch.setattr(greedy_module, "_TIGHT_MIN_ROWS", tight_min_rows)
    Z, P, _ = _random(71, 90, 4, 6)
    labeled = np.arange(5)  # 85 candidates
    problem = Problem(Z.numpy(), P.numpy(), labeled, 6, reg=1.0, device="cpu", dtype=None)
    greedy = problem.greedy(6, problem.pool_fisher("pool"), "trace", None)
    modes = []
    original_adapt, original_record = greedy._adapt_bounds, greedy._record_pruning

    def adapt(step):
        original_adapt(step)
        modes.append(_mode(greedy.rows))

    def record(n_contenders, n_rows):
        original_record(n_contenders, n_rows)
        greedy._bounds_pruned = False  # the bounds never prune

    greedy._adapt_bounds, greedy._record_pruning = adapt, record
    greedy.forward(12, final_keep_picked=True)
    greedy.backward(6)
    assert (
        problem.candidates[greedy.picked].tolist()
        == dense_bait(Z.numpy(), P.numpy(), labeled, 6).tolist()
    )
    assert modes[0] == ("tight" if tight_min_rows <= 85 else "off")
    assert ("tight" in modes) == (tight_min_rows <= 85)


def test_rows_that_stay_bad_after_a_refresh_do_not_trigger_one_every_step(monkeypatch):
    """One refresh for a row the working precision cannot score, then it is only skipped."""
    import skbait._fisher._greedy as greedy_module

    monkeypatch.setattr(greedy_module, "_PRUNE_FRACTION", 0.0)  # exact scores in the pass
    Z, P, _ = _random(5, 60, 3, 3)
    problem = Problem(Z.numpy(), P.numpy(), np.arange(4), 5, reg=1.0, device="cpu", dtype=None)
    greedy = problem.greedy(5, problem.pool_fisher("pool"), "trace", None)
    score = greedy.objective.score

    def flag_row_zero(PQ, sign):
        scores, bad = score(PQ, sign)
        if len(PQ) == greedy.m:  # a pass over every candidate: row 0 is "not PD"
            bad = bad.clone()
            bad[0] = True
        return scores, bad

    monkeypatch.setattr(greedy.objective, "score", flag_row_zero)
    greedy.forward(8)
    assert greedy.n_refresh == 1
    assert 0 not in greedy.picked


@pytest.mark.parametrize("threshold", [0, 1 << 40])
def test_symmetrize_tiled_or_not(monkeypatch, threshold):
    """The tiled symmetrisation (large matrices on the CPU) is ``(A + A^T) / 2``, bit for bit."""
    import skbait._fisher._linalg as linalg_module

    monkeypatch.setattr(linalg_module, "_SYMMETRIZE_TILED_MIN_ELEMENTS", threshold)
    monkeypatch.setattr(linalg_module, "_SYMMETRIZE_TILE", 7)  # 30 = 4 tiles of 7 and one of 2
    gen = torch.Generator().manual_seed(3)
    for dtype in (torch.float64, torch.float32):
        A = torch.randn(30, 30, generator=gen, dtype=dtype)
        expected = (A + A.T) / 2
        out = linalg_module._symmetrize_(A)
        assert out is A
        assert torch.equal(A, expected)
        assert torch.equal(A, A.T)
    # The design's symmetrisation takes it too: the same selection as the dense reference.
    import skbait._fisher._lazy as lazy_module

    calls = []

    def spy(G):
        calls.append(G.shape)
        return linalg_module._symmetrize_(G)

    monkeypatch.setattr(lazy_module, "_symmetrize_", spy)
    Z, P, _ = _random(8, 50, 4, 3)
    labeled = np.arange(5)
    expected = dense_bait(Z.numpy(), P.numpy(), labeled, 10)
    problem = Problem(Z.numpy(), P.numpy(), labeled, 10, reg=1.0, device="cpu", dtype=None)
    greedy = problem.greedy(10, problem.pool_fisher("pool"), "trace", None)
    greedy.design._G.max_pending = 9  # moves applied every few steps
    greedy.forward(20, final_keep_picked=True)
    greedy.backward(10)
    assert calls  # symmetrised at a flush, 16 moves in
    assert problem.candidates[greedy.picked].tolist() == expected.tolist()


def test_the_core_imports_only_torch_numpy_and_the_utilities():
    """``skbait._fisher`` sees arrays only: no estimator code, no scikit-learn (one layer down)."""
    import ast
    import pathlib
    import sys

    import skbait._fisher

    allowed = {"torch", "numpy", "scipy"} | set(sys.stdlib_module_names)
    for path in pathlib.Path(skbait._fisher.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                inside = name.startswith(("skbait._fisher", "skbait.utils"))
                assert inside or name.split(".")[0] in allowed, f"{path.name} imports {name}"
