"""The Kronecker-factored building blocks against dense einsum/kron references."""

import os
import sys

import numpy as np
import pytest
import torch

from skbait._fisher import (
    Design,
    KroneckerGreedy,
    Problem,
    bait_factors,
    block_quadratic,
    kron_gram,
    rank1_factors,
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


@pytest.mark.parametrize("n, d, k", [(1, 1, 2), (9, 4, 3), (40, 6, 5)])
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
