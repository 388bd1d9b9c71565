"""LogDet: greedy log-det designs equal the dense reference's selections."""

import os
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier

from skbait.strategies import LogDet, make_strategy
from skbait.strategies._logdet import _logdet_select, logdet_select
from skbait.utils.estimator_checks import check_query_strategy

sys.path.insert(0, os.path.dirname(__file__))
from bait_reference import dense_logdet, dense_logdet_increments


def softmax_problem(seed, n=36, d=3, k=3, n_labeled=5, temperature=1.5):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, d))
    logits = temperature * Z @ rng.normal(size=(d, k))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return Z, P, rng.choice(n, n_labeled, replace=False)


CASES = [
    (seed, fisher, task)
    for seed in range(8)
    for fisher in ("full", "rank1")
    for task in ("classification", "regression")
    if not (task == "regression" and fisher == "rank1" and seed % 2)
]


@pytest.mark.parametrize("seed, fisher, task", CASES)
def test_matches_dense_reference(seed, fisher, task):
    Z, P, labeled = softmax_problem(
        seed, n=30 + seed, d=2 + seed % 3, k=2 + seed % 3, n_labeled=(0, 3, 7, 12)[seed % 4]
    )
    if task == "regression":
        P = None
    B = 3 + seed % 3
    ours = logdet_select(Z, P, labeled, B, fisher=fisher, device="cpu")
    ref = dense_logdet(Z, P, labeled, B, fisher=fisher)
    assert ours.dtype == np.int64
    assert ours.tolist() == ref.tolist()


def test_rank1_and_full_differ_and_regression_is_shared():
    Z, P, labeled = softmax_problem(1, n=60, d=3, k=4, n_labeled=5)
    full = logdet_select(Z, P, labeled, 6, fisher="full", device="cpu")
    rank1 = logdet_select(Z, P, labeled, 6, fisher="rank1", device="cpu")
    assert full.tolist() != rank1.tolist()
    a = logdet_select(Z, None, labeled, 6, fisher="full", device="cpu")
    b = logdet_select(Z, None, labeled, 6, fisher="rank1", device="cpu")
    assert a.tolist() == b.tolist()


def test_float32_agrees_with_float64():
    for seed in range(3):
        Z, P, labeled = softmax_problem(seed, n=60, d=4, k=3, n_labeled=6, temperature=0.8)
        for fisher in ("full", "rank1"):
            a = logdet_select(Z, P, labeled, 5, fisher=fisher, device="cpu", dtype="float32")
            b = logdet_select(Z, P, labeled, 5, fisher=fisher, device="cpu")
            assert sorted(a.tolist()) == sorted(b.tolist())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("fisher", ["full", "rank1"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_gains_are_log_det_increments(dtype, fisher, task):
    """Each reported gain is the rise of a dense float64 log det of M as its row is added."""
    Z, P, labeled = softmax_problem(2, n=40, d=3, k=3, n_labeled=4)
    if task == "regression":
        P = None
    idx, gains = _logdet_select(Z, P, labeled, 4, fisher=fisher, device="cpu", dtype=dtype)
    expected = dense_logdet_increments(Z, P, labeled, idx, 4, fisher=fisher)
    assert gains.shape == (4,) and np.all(expected > 0)
    rtol = 1e-10 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(gains, expected, rtol=rtol)
    # log det is submodular: the greedy's gains never rise.
    assert np.all(np.diff(gains) <= rtol * gains[:-1])


def test_edge_cases():
    Z, P, labeled = softmax_problem(3, n=30, d=1, k=2, n_labeled=3)
    for fisher in ("full", "rank1"):
        assert (
            logdet_select(Z, P, labeled, 4, fisher=fisher, device="cpu").tolist()
            == dense_logdet(Z, P, labeled, 4, fisher=fisher).tolist()
        )
    one_hot = np.eye(2)[P.argmax(axis=1)]
    idx, gains = _logdet_select(Z, one_hot, labeled, 4, fisher="rank1", device="cpu")
    # One-hot probabilities: the BADGE gradient p - e_yhat is zero, every gain is
    # zero, and ties go to the lowest unlabeled rows.
    assert np.all(gains == 0)
    assert idx.tolist() == np.setdiff1d(np.arange(30), labeled)[:4].tolist()
    # Duplicated rows and a tiny reg: distinct picks, the largest |z| first (its
    # first copy), and gains that are still the dense log det increments.
    dup = np.vstack([Z, Z])
    idx, gains = _logdet_select(dup, None, [], 5, device="cpu", reg=1e-8)
    assert np.unique(idx).size == 5
    assert idx[0] == np.argmax(np.abs(dup[:, 0]))
    np.testing.assert_allclose(
        gains, dense_logdet_increments(dup, None, [], idx, 5, reg=1e-8), rtol=1e-8
    )
    assert logdet_select(Z, P, np.arange(28), 5, device="cpu").tolist() == [28, 29]
    with pytest.raises(ValueError, match="reg"):
        logdet_select(Z, P, labeled, 3, reg=0.0)
    with pytest.raises(ValueError, match="fisher"):
        logdet_select(Z, P, labeled, 3, fisher="pool")
    with pytest.raises(ValueError, match="probas"):
        logdet_select(Z, P[:, :, None], labeled, 3)


def test_strategy():
    check_query_strategy(LogDet(device="cpu"))
    check_query_strategy(LogDet(fisher="rank1", dtype="float32"))
    assert make_strategy("logdet").fisher == "full"
    assert make_strategy("logdet_rank1").fisher == "rank1"
    with pytest.raises(ValueError, match="'reg' parameter of LogDet"):
        LogDet(reg=-1).select(Ridge().fit([[0.0], [1.0]], [0, 1]), [[0.0], [2.0]], [0], 1)


def test_strategy_single_class_falls_back():
    X = np.random.RandomState(0).normal(size=(30, 2))

    class OneClass(LogisticRegression):
        def predict_proba(self, X):
            return np.ones((len(X), 1))

    model = OneClass().fit(X[:4], [0, 1, 0, 1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        idx = LogDet(device="cpu").select(model, X, np.arange(4), 3)
    assert any("single class" in str(w.message) for w in caught)
    assert idx.tolist() == dense_logdet(X, None, np.arange(4), 3).tolist()


@pytest.mark.parametrize("fisher", ["full", "rank1"])
def test_strategy_draws_at_random_when_no_probability_carries_information(fisher):
    # An unpruned tree's probabilities are all 0 or 1: every gain is zero, and LogDet
    # took the unlabeled rows in index order.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    model = DecisionTreeClassifier(random_state=0).fit(X[:20], X[:20, 0] > 0)
    with pytest.warns(UserWarning, match=r"0 or 1.*LogDet.*uniformly at random"):
        idx, util = LogDet(fisher, device="cpu").select(
            model, X, np.arange(20), 4, random_state=5, return_utilities=True
        )
    expected = np.random.RandomState(5).choice(np.arange(20, 60), 4, replace=False)
    assert idx.tolist() == expected.tolist()
    assert np.all(util == 0)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_float64_matches_cpu():
    Z, P, labeled = softmax_problem(0, n=400, d=8, k=5, n_labeled=20)
    for fisher in ("full", "rank1"):
        cpu = logdet_select(Z, P, labeled, 10, fisher=fisher, device="cpu")
        gpu = logdet_select(Z, P, labeled, 10, fisher=fisher, device="cuda")
        np.testing.assert_array_equal(cpu, gpu)


@pytest.mark.parametrize("fisher", ["full", "rank1"])
def test_strategy_draws_at_random_when_every_embedding_is_zero(fisher):
    # Zero embeddings give zero information: every gain tied at zero, and LogDet took
    # the unlabeled rows in index order.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    model = LogisticRegression().fit(X[:20], X[:20, 0] > 0)

    def embedding(estimator, X):
        Z = np.array(X, dtype=float)
        Z[20:] = 0.0
        return Z

    with pytest.warns(UserWarning, match=r"zero embedding.*LogDet.*uniformly at random"):
        idx, util = LogDet(fisher, device="cpu").select(
            model, X, np.arange(20), 4, random_state=5, return_utilities=True, embedding=embedding
        )
    expected = np.random.RandomState(5).choice(np.arange(20, 60), 4, replace=False)
    assert idx.tolist() == expected.tolist()
    assert np.all(util == 0)
