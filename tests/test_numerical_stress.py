"""Numerical stress for BAIT and the greedy log-det designs.

A grid over ill-conditioned embeddings (condition number 1e12), huge and tiny
scales, one-hot probabilities, ``reg`` from 1e-8 to 1e4, float32 and float64,
regression and k = 2, 4. In every case:

- where the starting design is not singular in the working precision
  (``cond(M_0) * eps < 0.1``), the outcome is a batch: no error at all;
- where it is, the only error allowed is :class:`~skbait._fisher.IllConditionedError`
  (a ValueError) whose message names ``reg``;
- no NaN or inf in the reported gains, no duplicate or labeled pick;
- where the problem is well posed (the dense float64 reference separates the
  best candidate from the runner-up by more than the rounding error of the
  working precision at every greedy step) the selection equals the reference;
- the objective reported for the batch (``bait_objective``, and the sum of the
  per-step gains returned as utilities) matches a dense recomputation.
"""

import itertools
import math
import re
import warnings

import numpy as np
import pytest
from bait_reference import dense_bait, dense_factor, dense_logdet

from skbait._fisher import IllConditionedError
from skbait.strategies._bait import _bait_select, bait_objective
from skbait.strategies._logdet import _logdet_select

N, D, N_LABELED, B = 24, 3, 4, 3
LABELED = np.arange(N_LABELED)


def make_problem(k, cond, scale, onehot, seed=0):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(N, D))
    if cond > 1:
        U, _, Vt = np.linalg.svd(Z, full_matrices=False)
        Z = (U * np.logspace(0, -np.log10(cond), D)) @ Vt
    Z = Z * scale
    if k is None:
        return Z, None
    logits = rng.normal(size=(N, k)) * 2
    if onehot:
        return Z, np.eye(k)[logits.argmax(axis=1)]
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    return Z, P / P.sum(axis=1, keepdims=True)


def _V(Z, P, kind):
    return [dense_factor(Z[i], None if P is None else P[i], kind) for i in range(len(Z))]


def dense_design(Z, P, labeled, selected, n_batch, reg, kind="bait"):
    """M = M_0 + B / (n_L + B) sum_{selected} I(x), formed densely in float64."""
    V = _V(Z, P, kind)
    n_L = len(labeled)
    M = reg * np.eye(V[0].shape[0])
    for i in labeled:
        M += V[i] @ V[i].T / (n_L + n_batch)
    for i in selected:
        M += V[i] @ V[i].T * n_batch / (n_L + n_batch)
    return M


def dense_trace_objective(Z, P, labeled, selected, n_batch, reg):
    V = _V(Z, P, "bait")
    F = sum(v @ v.T for v in V) / len(V)
    M = dense_design(Z, P, labeled, selected, n_batch, reg)
    return float(np.trace(np.linalg.solve(M, F)))


def dense_margin(Z, P, labeled, n_batch, reg, objective):
    """Smallest relative gap between the best and the runner-up over the greedy steps.

    Follows the dense reference's forward (and, for BAIT, backward) steps; the
    gaps are in the objective values the reference compares.
    """
    kind = "bait"
    V = _V(Z, P, kind)
    n_L = len(labeled)
    scale = n_batch / (n_L + n_batch)
    M = dense_design(Z, P, labeled, [], n_batch, reg)
    F = sum(v @ v.T for v in V) / len(V)
    cand = [i for i in range(len(Z)) if i not in set(labeled)]
    n_forward = min(2 * n_batch, len(cand)) if objective == "trace" else n_batch
    picked, margin = [], math.inf

    def value(M_new):
        if objective == "trace":
            return -np.trace(np.linalg.solve(M_new, F))
        return np.linalg.slogdet(M_new)[1]

    def gap(values):
        # Relative to the trace; for log det, absolute (a log det near 0 is a
        # design near the identity, whose gains are resolved to eps, not relatively).
        top = np.sort(values)[::-1]
        if len(top) < 2:
            return math.inf
        floor = 1.0 if objective == "logdet" else 1e-300
        return (top[0] - top[1]) / max(abs(top[0]), floor)

    for _ in range(n_forward):
        keys = [i for i in cand if i not in picked]
        values = [value(M + scale * V[i] @ V[i].T) for i in keys]
        margin = min(margin, gap(values))
        best = keys[int(np.argmax(values))]
        picked.append(best)
        M = M + scale * V[best] @ V[best].T
    while objective == "trace" and len(picked) > n_batch:
        values = [value(M - scale * V[i] @ V[i].T) for i in picked]
        margin = min(margin, gap(values))
        worst = picked[int(np.argmax(values))]
        picked.remove(worst)
        M = M - scale * V[worst] @ V[worst].T
    return margin, np.linalg.cond(dense_design(Z, P, labeled, [], n_batch, reg))


CASES = list(
    itertools.product(
        [None, 2, 4],  # k (None: regression)
        [1.0, 1e12],  # condition number of the embeddings
        [1e-6, 1.0, 1e6],  # scale of the embeddings
        [False, True],  # one-hot probabilities
        [1e-8, 1.0, 1e4],  # reg
        ["float64", "float32"],
    )
)
CASES = [c for c in CASES if not (c[0] is None and c[3])]  # one-hot means nothing for regression


def case_id(case):
    k, cond, scale, onehot, reg, dtype = case
    return (
        f"{'reg' if k is None else f'k{k}'}-cond{cond:.0e}-scale{scale:.0e}"
        f"{'-onehot' if onehot else ''}-lambda{reg:.0e}-{dtype}"
    )


@pytest.mark.parametrize("objective", ["trace", "logdet"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_stress(case, objective):
    k, cond, scale, onehot, reg, dtype = case
    Z, P = make_problem(k, cond, scale, onehot)
    eps = float(np.finfo(dtype).eps)
    select = _bait_select if objective == "trace" else _logdet_select
    kwargs = dict(reg=reg, device="cpu", dtype=dtype)
    if objective == "trace":
        kwargs["backward"] = True
    try:
        margin, kappa = dense_margin(Z, P, LABELED, B, reg, objective)
    except np.linalg.LinAlgError:  # singular even for the dense float64 reference
        margin, kappa = 0.0, math.inf
    singular = kappa * eps >= 0.1  # M_0 within a factor 10 of singular in this precision
    if singular:
        try:
            idx, gains = select(Z, P, LABELED, B, **kwargs)
        except IllConditionedError as exc:
            _assert_names_reg(exc)
            return
    else:
        idx, gains = select(Z, P, LABELED, B, **kwargs)  # a well-posed design must not raise
    # The contract, and no NaN/inf anywhere.
    assert idx.dtype == np.int64 and idx.shape == (B,)
    assert np.unique(idx).size == B, f"duplicate picks {idx}"
    assert not np.isin(idx, LABELED).any()
    assert np.isfinite(gains).all(), f"non-finite gains {gains}"
    # Equal to the dense float64 reference wherever the problem is well posed.
    well_posed = margin > 1e3 * kappa * eps and margin > 1e-9
    if well_posed:
        reference = (
            dense_bait(Z, P, LABELED, B, reg=reg)
            if objective == "trace"
            else dense_logdet(Z, P, LABELED, B, reg=reg)
        )
        np.testing.assert_array_equal(idx, reference, err_msg=f"margin {margin:.2e}")
    # The objective of the chosen batch matches a dense recomputation.
    if objective == "trace":
        reported = bait_objective(Z, P, LABELED, idx, reg=reg)
        assert math.isfinite(reported)
        if kappa < 1e8:  # both in float64: agreement to ~kappa * eps
            dense = dense_trace_objective(Z, P, LABELED, idx, B, reg)
            np.testing.assert_allclose(reported, dense, rtol=1e-6)


def _assert_names_reg(exc):
    """The error is the library's ill-conditioning error, and it tells the user what to change."""
    assert type(exc) is IllConditionedError, f"{type(exc).__name__}: {exc}"
    assert isinstance(exc, ValueError)
    assert re.search(r"\breg\b", str(exc)), f"the message does not name reg: {exc}"


def _forward_only(objective, Z, P, reg, dtype):
    if objective == "trace":
        return _bait_select(Z, P, LABELED, B, reg=reg, backward=False, device="cpu", dtype=dtype)
    return _logdet_select(Z, P, LABELED, B, reg=reg, device="cpu", dtype=dtype)


@pytest.mark.parametrize("objective", ["trace", "logdet"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("k", [None, 2, 4])
@pytest.mark.parametrize("reg", [1e-2, 1.0, 1e2])
def test_reported_gains_add_up_to_the_dense_objective(objective, dtype, k, reg):
    """The per-step gains (BAIT/LogDet utilities) sum to the dense change of the objective."""
    Z, P = make_problem(k, 1.0, 1.0, False, seed=1)
    idx, gains = _forward_only(objective, Z, P, reg, dtype)
    if objective == "trace":
        start = dense_trace_objective(Z, P, LABELED, [], B, reg)
        end = dense_trace_objective(Z, P, LABELED, idx, B, reg)
        change = start - end
        assert end <= start
    else:
        change = (
            np.linalg.slogdet(dense_design(Z, P, LABELED, idx, B, reg))[1]
            - np.linalg.slogdet(dense_design(Z, P, LABELED, [], B, reg))[1]
        )
    rtol = 1e-9 if dtype == "float64" else 1e-3
    np.testing.assert_allclose(np.sum(gains), change, rtol=rtol, atol=1e-12)
    assert np.all(np.asarray(gains) >= -1e-12)


@pytest.mark.parametrize("k", [None, 3])
def test_bait_objective_matches_dense(k):
    Z, P = make_problem(k, 1e6, 10.0, False, seed=2)
    for selected in ([5], [5, 6, 7], list(range(10, 20))):
        np.testing.assert_allclose(
            bait_objective(Z, P, LABELED, selected, reg=0.5),
            dense_trace_objective(Z, P, LABELED, selected, len(selected), 0.5),
            rtol=1e-9,
        )


@pytest.mark.parametrize("objective", ["trace", "logdet"])
def test_duplicate_rows_are_never_picked_twice(objective):
    """Many exact copies of the best row: each copy is a distinct pick, ties to the lowest."""
    rng = np.random.RandomState(3)
    Z = np.repeat(rng.normal(size=(4, D)), 6, axis=0)
    L = rng.normal(size=(4, 3))
    P = np.repeat(np.exp(L) / np.exp(L).sum(axis=1, keepdims=True), 6, axis=0)
    reference = (
        dense_bait(Z, P, LABELED, 6) if objective == "trace" else dense_logdet(Z, P, LABELED, 6)
    )
    for dtype in ("float64", "float32"):
        idx, gains = (_bait_select if objective == "trace" else _logdet_select)(
            Z, P, LABELED, 6, device="cpu", dtype=dtype
        )
        assert np.unique(idx).size == 6 and np.isfinite(gains).all()
        # Copies tie exactly: the reference's tie rule (lowest index) decides, in both phases.
        np.testing.assert_array_equal(idx, reference)
        # Forward steps take the copies of a row lowest first.
        forward = _forward_only(objective, Z, P, 1.0, dtype)[0]
        for group in np.unique(forward // 6):
            copies = np.setdiff1d(np.arange(6 * group, 6 * group + 6), LABELED)
            mine = forward[forward // 6 == group]
            np.testing.assert_array_equal(mine, copies[: mine.size])


def test_large_batch_from_ill_conditioned_pool_float32():
    """A batch as large as the pool's rank in float32 with reg 1e-8: no NaN, no duplicates."""
    Z, P = make_problem(2, 1e12, 1.0, False, seed=4)
    try:
        idx, gains = _bait_select(Z, P, LABELED, 10, reg=1e-8, device="cpu", dtype="float32")
    except IllConditionedError as exc:
        _assert_names_reg(exc)
        return
    assert np.unique(idx).size == 10 and np.isfinite(gains).all()
    assert not np.isin(idx, LABELED).any()


# Inputs on which the design matrix is singular in the working precision: the
# library's contract promises a ValueError that says what to change.
SINGULAR = [
    pytest.param(2, 1.0, 1e6, 1e-8, "float64", id="k2-scale1e6-lambda1e-8-float64"),
    pytest.param(2, 1.0, 1e6, 1e-8, "float32", id="k2-scale1e6-lambda1e-8-float32"),
    pytest.param(4, 1e12, 1e6, 1e-8, "float64", id="k4-cond1e12-scale1e6-lambda1e-8-float64"),
]


@pytest.mark.parametrize("objective", ["trace", "logdet"])
@pytest.mark.parametrize("k, cond, scale, reg, dtype", SINGULAR)
def test_singular_design_raises_value_error(k, cond, scale, reg, dtype, objective):
    Z, P = make_problem(k, cond, scale, False)
    select = _bait_select if objective == "trace" else _logdet_select
    with pytest.raises(IllConditionedError) as info:
        select(Z, P, LABELED, B, reg=reg, device="cpu", dtype=dtype)
    _assert_names_reg(info.value)


def test_singular_design_through_the_learner_raises_value_error():
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from skbait import ActiveLearner
    from skbait.strategies import BAIT

    Z, _ = make_problem(None, 1.0, 1.0, False)
    y = (Z[:, 0] > 0).astype(int)
    al = ActiveLearner(
        LogisticRegression(),
        query_strategy=BAIT(reg=1e-8, dtype="float32", device="cpu"),
        n_initial=6,
        batch_size=3,
        budget=12,
        random_state=0,
    )
    with warnings.catch_warnings():
        # The tiny-reg model may not converge; the error is what is tested.
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(IllConditionedError) as info:
            al.fit(Z * 1e6, y)
    _assert_names_reg(info.value)


def test_no_finite_score_raises_clear_value_error():
    Z, P = make_problem(4, 1.0, 1e6, False)
    with pytest.raises(IllConditionedError) as info:
        _bait_select(Z, P, LABELED, B, reg=1e-8, device="cpu", dtype="float32")
    _assert_names_reg(info.value)
