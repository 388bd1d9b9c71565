"""The paper's Proposition 2 and Figure 3 (right), on the orthonormal-basis pool.

Regression with a pool supported on the standard basis e_1..e_d, coordinate i
appearing with probability p_i proportional to 1/i^2. With n_i copies of e_i
labeled, the objective of BAIT (no labeled rows, so M_0 = reg I and each
candidate is scaled by sqrt(B / (0 + B)) = 1) is

    tr((reg I + sum_i n_i e_i e_i^T)^-1 F) = sum_i p_i / (n_i + reg),   F = diag(p).

Proposition 2: greedy trace minimisation reaches the exact optimum over all
count vectors with sum n_i = B. Greedy log-det ignores p and takes the
coordinates cyclically (each once before any twice), which is worse.
"""

import itertools

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from skbait.strategies import LogDet, bait_select

D = 6
# Multiplicities proportional to 1/i^2: 360, 90, 40, 22, 14, 10 (536 rows).
COUNTS = np.rint(360.0 / np.arange(1, D + 1) ** 2).astype(int)


def _pool():
    """The basis vectors, each repeated COUNTS[i] times, in a fixed shuffled order."""
    coords = np.repeat(np.arange(D), COUNTS)
    coords = coords[np.random.RandomState(0).permutation(coords.size)]
    return np.eye(D)[coords], coords


def _objective(counts, reg):
    p = COUNTS / COUNTS.sum()
    return float(np.sum(p / (np.asarray(counts) + reg)))


def _compositions(total, parts):
    """Every vector of `parts` non-negative integers summing to `total`."""
    for bars in itertools.combinations(range(total + parts - 1), parts - 1):
        edges = (-1,) + bars + (total + parts - 1,)
        yield np.diff(edges) - 1


def _brute_force_optimum(batch_size, reg):
    return min(_objective(n, reg) for n in _compositions(batch_size, D) if np.all(n <= COUNTS))


def test_brute_force_enumerates_every_composition():
    comps = list(_compositions(3, 3))
    assert len(comps) == 10 and all(c.sum() == 3 and c.min() >= 0 for c in comps)
    assert len({tuple(c) for c in comps}) == 10


def test_pool_fisher_is_diag_p():
    Z, _ = _pool()
    np.testing.assert_allclose(Z.T @ Z / len(Z), np.diag(COUNTS / COUNTS.sum()))


@pytest.mark.parametrize("reg", [1.0, 0.1])
@pytest.mark.parametrize("batch_size", [1, 2, 3, 5, 8, 12])
def test_greedy_trace_reaches_the_exact_optimum(batch_size, reg):
    Z, coords = _pool()
    idx = bait_select(Z, None, labeled=[], batch_size=batch_size, backward=False, reg=reg)
    idx = np.asarray(idx)
    assert idx.shape == (batch_size,) and np.unique(idx).size == batch_size
    counts = np.bincount(coords[idx], minlength=D)
    # Ties between count vectors may exist: compare objective values, not counts.
    assert _objective(counts, reg) == pytest.approx(
        _brute_force_optimum(batch_size, reg), rel=1e-12
    )


@pytest.mark.parametrize("reg", [1.0, 0.1])
def test_greedy_trace_follows_the_paper_greedy(reg):
    # The paper's rule (9): add the coordinate with the largest drop
    # p_i / (n_i + reg) - p_i / (n_i + 1 + reg). Whatever the tie-breaking, the
    # objective after every prefix must match.
    Z, coords = _pool()
    idx = np.asarray(bait_select(Z, None, labeled=[], batch_size=12, backward=False, reg=reg))
    p = COUNTS / COUNTS.sum()
    n = np.zeros(D)
    for t, i in enumerate(idx, start=1):
        n_grd = n.copy()
        drops = p / (n_grd + reg) - p / (n_grd + 1 + reg)
        n_grd[np.argmax(drops)] += 1
        n[coords[i]] += 1
        assert _objective(n, reg) == pytest.approx(_objective(n_grd, reg), rel=1e-12), t


def _logdet_select(Z, batch_size):
    # A fitted Ridge embeds a row as its input features: here the basis vector.
    model = Ridge().fit(Z, np.arange(len(Z), dtype=float))
    return LogDet(fisher="full").select(
        model, Z, labeled=[], batch_size=batch_size, random_state=0
    )


def test_greedy_logdet_is_cyclic():
    Z, coords = _pool()
    idx = _logdet_select(Z, 2 * D + 3)
    n = np.zeros(D, dtype=int)
    for t, i in enumerate(idx, start=1):
        n[coords[i]] += 1
        # Each coordinate once before any twice, twice before any three times...
        assert n.max() - n.min() <= 1, (t, n)
        assert n.max() == -(-t // D)


@pytest.mark.parametrize("batch_size", [D, 2 * D])
def test_trace_beats_logdet_on_the_basis_pool(batch_size):
    # Figure 3 (right): the Fisher-weighted trace puts labels where p is large;
    # log-det spreads them evenly and pays for it in the Bayes risk.
    Z, coords = _pool()
    logdet = np.bincount(coords[_logdet_select(Z, batch_size)], minlength=D)
    bait = np.bincount(
        coords[bait_select(Z, None, labeled=[], batch_size=batch_size, backward=False)],
        minlength=D,
    )
    assert np.all(logdet == batch_size // D)
    assert _objective(bait, 1.0) < _objective(logdet, 1.0) - 1e-3
    assert bait[0] > logdet[0]
