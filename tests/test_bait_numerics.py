"""BAIT under stress the grid of test_numerical_stress.py does not cover.

reg="scale" at scales float32 cannot hold, float32 on a design it cannot
resolve, and an ``approximation`` the functions do not know.
"""

import warnings

import numpy as np
import pytest
from bait_reference import dense_bait

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


def _ill_conditioned(seed):
    """Embeddings of condition number 1e5, and a reg far below their information."""
    Z, P = _problem(n=60, seed=seed)
    U, _, Vt = np.linalg.svd(Z, full_matrices=False)
    return (U * np.logspace(0, -5, Z.shape[1])) @ Vt * 10, P


def test_float32_warns_where_it_cannot_resolve_the_gains():
    """float32's picks differ from the dense float64 reference there: it says so."""
    labeled, reg = np.arange(5), 1e-6
    differ = 0
    for seed in range(5):
        Z, P = _ill_conditioned(seed)
        with pytest.warns(UserWarning, match=r"float32 cannot resolve .* dtype='float64'"):
            chosen = bait_select(Z, P, labeled, 4, reg=reg, device="cpu", dtype="float32")
        differ += not np.array_equal(chosen, dense_bait(Z, P, labeled, 4, reg=reg))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # float64 resolves it, and is silent
            exact = bait_select(Z, P, labeled, 4, reg=reg, device="cpu", dtype="float64")
        np.testing.assert_array_equal(exact, dense_bait(Z, P, labeled, 4, reg=reg))
    assert differ > 0  # the warning is about something real


@pytest.mark.parametrize("regression", [False, True])
def test_float32_is_silent_on_a_well_conditioned_design(regression):
    """The default reg='scale' on ordinary embeddings: float32 picks as float64, no warning."""
    Z, P = _problem(n=60)
    P = None if regression else P
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen = bait_select(Z, P, np.arange(5), 4, reg="scale", device="cpu", dtype="float32")
    expected = bait_select(Z, P, np.arange(5), 4, reg="scale", device="cpu")
    np.testing.assert_array_equal(chosen, expected)


def test_float32_regression_warns_too():
    """The rank-one greedy of one output checks its design as the Kronecker one does."""
    Z, _ = _ill_conditioned(0)
    with pytest.warns(UserWarning, match="float32 cannot resolve"):
        bait_select(Z, None, np.arange(3), 4, reg=1e-8, device="cpu", dtype="float32")


@pytest.mark.parametrize("approximation", ["fast", "Exact", None, 3])
def test_unknown_approximation_is_refused(approximation):
    """The functions ran anything but 'exact' and a FisherApproximation as 'auto'."""
    Z, P = _problem()
    with pytest.raises(ValueError, match="`approximation` must be 'auto', 'exact'"):
        bait_select(Z, P, np.arange(5), 3, approximation=approximation, device="cpu")
