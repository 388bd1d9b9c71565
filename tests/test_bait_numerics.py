"""BAIT under stress the grid of test_numerical_stress.py does not cover.

reg="scale" at scales float32 cannot hold, float32 on a design it cannot
resolve, and an ``approximation`` the functions do not know.
"""

import warnings

import numpy as np
import pytest

from skbait.strategies import bait_select
from skbait.strategies._bait import _bait_select


def _problem(n=40, d=4, k=3, seed=0):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, d))
    logits = rng.normal(size=(n, k))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    return Z, P / P.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("scale", [1e-150, 1e-20, 1e20, 1e150])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reg_scale_chooses_alike_at_any_scale(scale, dtype):
    """reg='scale' is scale-free: float32 at 1e+-20 and 1e+-150 picks as float64 at 1."""
    Z, P = _problem()
    labeled = np.arange(5)
    expected = bait_select(Z, P, labeled, 4, reg="scale", device="cpu", dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either: the problem is well posed
        chosen = bait_select(Z * scale, P, labeled, 4, reg="scale", device="cpu", dtype=dtype)
    np.testing.assert_array_equal(chosen, expected)


def test_reg_scale_identity_gains_are_those_of_the_embedding_as_given():
    """fisher='identity' gains (a drop of tr(M^-1)) keep the embedding's units."""
    Z, P = _problem()
    kwargs = dict(reg="scale", fisher="identity", device="cpu")
    idx, gains = _bait_select(Z, P, np.arange(5), 3, **kwargs)
    idx4, gains4 = _bait_select(4.0 * Z, P, np.arange(5), 3, **kwargs)
    np.testing.assert_array_equal(idx, idx4)
    # M scales by 16, tr(M^-1) by 1/16: the gains of 4 Z are those of Z over 16.
    np.testing.assert_allclose(gains4, gains / 16.0, rtol=1e-12)


@pytest.mark.parametrize("approximation", ["fast", "Exact", None, 3])
def test_unknown_approximation_is_refused(approximation):
    """The functions ran anything but 'exact' and a FisherApproximation as 'auto'."""
    Z, P = _problem()
    with pytest.raises(ValueError, match="`approximation` must be 'auto', 'exact'"):
        bait_select(Z, P, np.arange(5), 3, approximation=approximation, device="cpu")
