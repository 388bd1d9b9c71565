"""BAIT under stress the grid of test_numerical_stress.py does not cover.

reg="scale" at scales float32 cannot hold, float32 on a design it cannot
resolve, and an ``approximation`` the functions do not know.
"""

import numpy as np
import pytest

from skbait.strategies import bait_select


def _problem(n=40, d=4, k=3, seed=0):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, d))
    logits = rng.normal(size=(n, k))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    return Z, P / P.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("approximation", ["fast", "Exact", None, 3])
def test_unknown_approximation_is_refused(approximation):
    """The functions ran anything but 'exact' and a FisherApproximation as 'auto'."""
    Z, P = _problem()
    with pytest.raises(ValueError, match="`approximation` must be 'auto', 'exact'"):
        bait_select(Z, P, np.arange(5), 3, approximation=approximation, device="cpu")
