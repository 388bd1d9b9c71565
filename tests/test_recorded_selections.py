"""Selections recorded before a change of the core, which must pick the same rows after it.

Each problem is seeded; its picks were recorded at commit 668b3f3 (the last
release before the core was split by concern) and are checked here after
every optimisation of :mod:`skbait._fisher`: a faster path must not change
what BAIT or LogDet chooses. The problems cover the greedy's modes: float64
and float32, the trace and log-det objectives, one output, binary rows (rank
one), ``fisher="identity"`` and the forward-only variant. The small ones are
also checked against the dense reference in ``test_bait.py`` and
``test_fisher_core.py``; these are larger, to reach the bounds, the pending
moves and the thread choices of real pools.
"""

import numpy as np
import pytest

from skbait.strategies import bait_select, logdet_select

# seed, n, d, k, B, dtype, objective, extra parameters, recorded picks
RECORDED = [
    (
        0,
        *(1000, 32, 10, 10, "float64", "trace", {}),
        [80, 136, 5, 802, 847, 334, 929, 721, 28, 528],
    ),
    (
        1,
        *(1000, 32, 10, 10, "float32", "trace", {}),
        [664, 444, 894, 354, 373, 811, 349, 332, 743, 365],
    ),
    (
        2,
        *(1000, 32, 10, 10, "float64", "logdet", {}),
        [388, 436, 95, 441, 630, 886, 101, 478, 338, 912],
    ),
    (
        3,
        *(3000, 16, 5, 20, "float64", "trace", {}),
        [
            932,
            271,
            2977,
            1831,
            2365,
            712,
            1763,
            2721,
            861,
            2852,
            2783,
            89,
            968,
            2290,
            2258,
            925,
            2456,
            2390,
            2309,
            1014,
        ],
    ),
    (
        4,
        *(3000, 16, 5, 20, "float32", "trace", {}),
        [
            683,
            1096,
            1637,
            1318,
            970,
            524,
            1140,
            1037,
            2490,
            2393,
            1633,
            43,
            2502,
            2332,
            2800,
            1751,
            349,
            2590,
            2534,
            65,
        ],
    ),
    (
        9,
        *(2000, 40, 2, 15, "float64", "trace", {}),
        [1088, 369, 1156, 1567, 364, 1205, 1843, 63, 928, 1080, 1662, 1637, 874, 24, 1414],
    ),
    (
        10,
        *(2000, 50, 1, 15, "float64", "trace", {}),
        [670, 705, 1451, 1515, 545, 1315, 1203, 1596, 1739, 619, 1677, 1787, 346, 1946, 1531],
    ),
    (
        11,
        *(1500, 24, 8, 12, "float64", "trace", {"fisher": "identity"}),
        [260, 810, 441, 372, 1260, 1201, 318, 577, 86, 1390, 26, 1165],
    ),
    (
        12,
        *(1500, 24, 8, 12, "float64", "trace", {"backward": False}),
        [381, 1087, 289, 383, 1130, 949, 517, 1329, 1269, 917, 182, 933],
    ),
    (
        13,
        *(1500, 24, 8, 12, "float32", "logdet", {}),
        [141, 123, 1498, 275, 1291, 281, 648, 1442, 1159, 33, 248, 991],
    ),
]


def _problem(n, d, k, seed):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, d))
    if k == 1:
        return Z, None
    logits = 3 * rng.normal(size=(n, k))  # confident rows too: rank-deficient factors
    P = np.exp(logits - logits.max(1, keepdims=True))
    return Z, P / P.sum(1, keepdims=True)


@pytest.mark.parametrize(
    "seed, n, d, k, B, dtype, objective, extra, recorded",
    RECORDED,
    ids=[f"{n}x{d}x{k}-B{B}-{dtype}-{obj}-{i}" for i, n, d, k, B, dtype, obj, _, _ in RECORDED],
)
def test_selections_are_the_recorded_ones(seed, n, d, k, B, dtype, objective, extra, recorded):
    Z, P = _problem(n, d, k, seed)
    labeled = np.arange(0, n, n // 40)
    select = bait_select if objective == "trace" else logdet_select
    picked = select(Z, P, labeled, B, device="cpu", dtype=dtype, **extra)
    assert picked.tolist() == recorded
