"""CoreSet: chunked greedy k-center, against a dense n x n reference."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

import skbait.strategies._coreset as coreset_module
from skbait.strategies import (
    BADGE,
    CoreSet,
    RandomSampling,
    available_strategies,
    coreset_select,
    make_strategy,
)
from skbait.utils.estimator_checks import check_query_strategy


def _dense_k_center(Z, labeled, batch_size):
    """Textbook greedy k-center on the explicit n x n distance matrix."""
    D = np.sqrt(((Z[:, None, :] - Z[None, :, :]) ** 2).sum(axis=2))
    mask = np.zeros(len(Z), dtype=bool)
    mask[labeled] = True
    unlabeled = np.flatnonzero(~mask)
    centres = list(np.flatnonzero(mask))
    chosen, utilities = [], []
    if not centres:
        first = unlabeled[np.argmin(np.linalg.norm(Z[unlabeled] - Z.mean(axis=0), axis=1))]
        chosen.append(first)
        utilities.append(np.inf)
        centres.append(first)
    while len(chosen) < min(batch_size, unlabeled.size):
        rest = np.setdiff1d(unlabeled, chosen)
        nearest = D[np.ix_(rest, centres)].min(axis=1)
        best = rest[np.argmax(nearest)]  # rest is sorted: ties go to the lowest index
        chosen.append(best)
        utilities.append(nearest.max())
        centres.append(best)
    return np.array(chosen), np.array(utilities)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_labeled", [0, 1, 9])
@pytest.mark.parametrize("chunk_size", [1, 4, None])
def test_matches_dense_k_center(seed, n_labeled, chunk_size):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(30, 4)) + 5.0  # off-centre, to exercise the centring
    labeled = rng.choice(30, n_labeled, replace=False)
    expected, expected_util = _dense_k_center(Z, labeled, 12)
    got, util = coreset_select(
        Z, labeled, 12, chunk_size=chunk_size, device="cpu", return_utilities=True
    )
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(util, expected_util, rtol=1e-9)


def test_whole_pool_is_returned_once():
    Z = np.random.RandomState(0).normal(size=(25, 3))
    idx = coreset_select(Z, [3, 4], 40)
    assert sorted(idx.tolist()) == sorted(set(range(25)) - {3, 4})


def test_ties_go_to_the_lowest_index():
    Z = np.array([[0.0], [-1.0], [1.0], [1.0], [-1.0]])
    assert coreset_select(Z, [0], 1)[0] == 1
    # Duplicates of centres are at distance exactly 0; among them, lowest index first.
    np.testing.assert_array_equal(coreset_select(Z, [0], 4), [1, 2, 3, 4])
    # No labeled row: row 0 sits on the mean (0.0); then four rows tie at distance 1.
    np.testing.assert_array_equal(coreset_select(Z, None, 2), [0, 1])


def test_duplicates_of_labeled_rows_come_last():
    rng = np.random.RandomState(1)
    base = rng.normal(size=(10, 3)) * 1e3  # large norms: cancellation must not matter
    Z = np.vstack([base, base[:5]])  # rows 10..14 duplicate labeled rows 0..4
    idx, util = coreset_select(Z, range(10), 5, return_utilities=True)
    np.testing.assert_array_equal(idx, [10, 11, 12, 13, 14])
    assert np.all(util == 0.0)


def test_no_labeled_rows_starts_near_the_mean():
    Z = np.array([[10.0, 0.0], [0.1, 0.1], [-10.0, 0.0], [0.0, 9.0], [0.0, -9.1]])
    idx, util = coreset_select(Z, None, 3, return_utilities=True)
    assert idx[0] == 1 and np.isinf(util[0])
    assert idx[1] == 2  # farthest from row 1 (at 10.1, row 0 at 9.9)


def test_memory_stays_in_blocks(monkeypatch):
    sizes = []
    original = coreset_module._block_min

    def recording(cand_T, ref, norm_ref):
        sizes.append((cand_T.shape[1], ref.shape[0]))
        return original(cand_T, ref, norm_ref)

    monkeypatch.setattr(coreset_module, "_block_min", recording)
    # The float64 path itself; the float32 screen is tested below.
    monkeypatch.setattr(coreset_module, "_SCREEN_IN_FLOAT32", False)
    Z = np.random.RandomState(2).normal(size=(500, 8))
    idx = coreset_select(Z, range(120), 10, chunk_size=64)
    # 380 candidates x 120 labeled rows in blocks of at most 64 x 64.
    assert len(sizes) == 6 * 2 and max(a * b for a, b in sizes) <= 64 * 64
    expected, _ = _dense_k_center(Z, np.arange(120), 10)
    np.testing.assert_array_equal(idx, expected)


def test_float32_agrees_with_float64():
    rng = np.random.RandomState(3)
    Z = rng.normal(size=(400, 16))
    i64, u64 = coreset_select(Z, range(40), 30, return_utilities=True)
    i32, u32 = coreset_select(Z, range(40), 30, dtype="float32", return_utilities=True)
    np.testing.assert_array_equal(i32, i64)
    np.testing.assert_allclose(u32, u64, rtol=1e-4)
    i32 = coreset_select(Z.astype(np.float32), None, 30, dtype=np.float32)
    np.testing.assert_array_equal(i32, coreset_select(Z, None, 30))


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_strategy_uses_the_embedding(task):
    rng = np.random.RandomState(4)
    X = rng.normal(size=(80, 3))
    if task == "classification":
        model = LogisticRegression().fit(X[:10], (X[:10, 0] > 0).astype(int))
    else:
        model = Ridge().fit(X[:10], X[:10, 0])
    got = CoreSet(device="cpu").select(model, X, range(10), 7)
    np.testing.assert_array_equal(got, coreset_select(X, range(10), 7))
    squared = CoreSet(device="cpu").select(
        model, X, range(10), 7, embedding=lambda est, X: np.square(X)
    )
    np.testing.assert_array_equal(squared, coreset_select(np.square(X), range(10), 7))


def test_deterministic_whatever_the_seed():
    X = np.random.RandomState(5).normal(size=(60, 3))
    model = Ridge().fit(X[:6], X[:6, 1])
    runs = [CoreSet().select(model, X, range(6), 8, random_state=s) for s in (0, 1, None)]
    for run in runs[1:]:
        np.testing.assert_array_equal(run, runs[0])


def test_contract():
    check_query_strategy(CoreSet(device="cpu"))
    check_query_strategy(CoreSet(device="cpu", dtype="float32", chunk_size=5))


def test_registered_and_cloneable():
    assert "coreset" in available_strategies()
    s = make_strategy("coreset")
    assert isinstance(s, CoreSet)
    assert s.get_params() == {"device": "auto", "dtype": None, "chunk_size": None}
    s = clone(CoreSet().set_params(chunk_size=16, dtype="float32"))
    assert repr(s) == "CoreSet(chunk_size=16, dtype='float32')"


@pytest.mark.parametrize(
    "params", [{"chunk_size": 0}, {"chunk_size": 2.5}, {"dtype": "half"}, {"device": "gpu0"}]
)
def test_bad_parameters_are_rejected(params):
    X = np.random.RandomState(0).normal(size=(20, 3))
    model = Ridge().fit(X[:5], X[:5, 0])
    with pytest.raises((InvalidParameterError, ValueError)):
        CoreSet(**params).select(model, X, range(5), 3)


def test_active_learner_and_grid_search_by_name():
    from skbait import ActiveLearner

    if not hasattr(ActiveLearner, "fit"):
        pytest.skip("ActiveLearner is not implemented yet")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    grid = GridSearchCV(
        ActiveLearner(LogisticRegression(), n_initial=10, batch_size=5, budget=30, random_state=0),
        {"query_strategy": ["coreset", "badge", CoreSet(chunk_size=8), BADGE(), RandomSampling()]},
        cv=2,
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["mean_test_score"]) == 5
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    reg = ActiveLearner(
        Ridge(), query_strategy="coreset", n_initial=10, batch_size=5, budget=25, random_state=0
    )
    reg.fit(X, X[:, 0] - X[:, 2])
    assert reg.predict(X).shape == (150,)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    Z = np.random.RandomState(6).normal(size=(3000, 32))
    cpu = coreset_select(Z, range(300), 50, device="cpu", chunk_size=512)
    gpu = coreset_select(Z, range(300), 50, device="cuda", chunk_size=512)
    np.testing.assert_array_equal(cpu, gpu)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_low_level_rejects_non_finite_embeddings(bad):
    Z = np.random.RandomState(0).normal(size=(20, 3))
    Z[4, 1] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        coreset_select(Z, [0], 3)
    with pytest.raises(TypeError, match="integer"):
        coreset_select(np.ones((5, 2)), [0], 1.5)


@pytest.mark.parametrize("chunk_size", [0, 2.5, True])
def test_coreset_select_rejects_bad_chunk_sizes(chunk_size):
    Z = np.random.RandomState(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="chunk_size"):
        coreset_select(Z, [0], 3, chunk_size=chunk_size)


def _pools():
    """Pools that stress the float32 screen: off-centre, wide, duplicated, integer ties."""
    rng = np.random.RandomState(7)
    wide = rng.normal(size=(300, 256)) * 3.0 + 100.0
    dup = rng.normal(size=(80, 6))
    dup = np.vstack([dup, dup[:30], dup[:30] + 1e-9])
    grid = np.array([[i, j] for i in range(12) for j in range(12)], dtype=float)
    return {"wide": wide, "duplicates": dup, "grid": grid}


@pytest.mark.parametrize("name", ["wide", "duplicates", "grid"])
@pytest.mark.parametrize("n_labeled", [0, 3, 40])
def test_float32_screen_gives_the_float64_selection(monkeypatch, name, n_labeled):
    Z = _pools()[name]
    labeled = np.random.RandomState(n_labeled).choice(len(Z), n_labeled, replace=False)
    screened, u_screened = coreset_select(Z, labeled, 25, chunk_size=16, return_utilities=True)
    monkeypatch.setattr(coreset_module, "_SCREEN_IN_FLOAT32", False)
    exact, u_exact = coreset_select(Z, labeled, 25, chunk_size=16, return_utilities=True)
    np.testing.assert_array_equal(screened, exact)
    np.testing.assert_allclose(u_screened, u_exact, rtol=1e-12)
    if name != "grid":
        brute, _ = _dense_k_center(Z, labeled, 25)
        np.testing.assert_array_equal(screened, brute)


@pytest.mark.parametrize("scale", [1e-25, 1e19, 1e20, 1e30])
@pytest.mark.parametrize("n_labeled", [0, 5])
def test_float32_screen_holds_at_scales_float32_cannot_square(scale, n_labeled):
    # Squared norms beyond float32's range (or below it): still the float64 selection.
    Z = np.random.RandomState(0).normal(size=(60, 4))
    labeled = np.arange(n_labeled)
    got, utilities = coreset_select(Z * scale, labeled, 6, return_utilities=True)
    want, want_utilities = _dense_k_center(Z, labeled, 6)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(utilities / scale, want_utilities, rtol=1e-9)


def test_float32_screen_confirms_few_rows(monkeypatch):
    # The screen pays off only if the float64 check touches a handful of rows.
    checked = []
    original = coreset_module._ScreenedRows._exact_nearest

    def counting(self, rows):
        checked.append(rows.numel())
        return original(self, rows)

    monkeypatch.setattr(coreset_module._ScreenedRows, "_exact_nearest", counting)
    Z = np.random.RandomState(0).normal(size=(3000, 64))
    coreset_select(Z, range(100), 20)
    assert len(checked) == 20 and max(checked) <= 30


def _sparse_pool(n=200, d=500, density=0.02, seed=0):
    import scipy.sparse as sp

    Z = sp.random(n, d, density=density, format="csr", random_state=seed)
    Z = Z + sp.random(n, d, density=0.002, format="csr", random_state=seed + 1)
    Z = sp.vstack([Z, Z[:10]]).tocsr()  # duplicated documents
    return Z


@pytest.mark.parametrize("n_labeled", [0, 5, 60])
@pytest.mark.parametrize("dtype", [None, "float32"])
def test_sparse_embeddings_pick_the_dense_rows(n_labeled, dtype):
    Z = _sparse_pool()
    labeled = np.arange(0, 3 * n_labeled, 3)
    got, util = coreset_select(Z, labeled, 30, dtype=dtype, chunk_size=32, return_utilities=True)
    want, want_util = coreset_select(Z.toarray(), labeled, 30, dtype=dtype, return_utilities=True)
    if dtype is None:
        np.testing.assert_array_equal(got, want)
    else:
        # float32 rounding may break the tie between a document and its copy
        # differently on the two paths: the same rows up to the duplication.
        original = Z.shape[0] - 10
        np.testing.assert_array_equal(
            np.where(got >= original, got - original, got),
            np.where(want >= original, want - original, want),
        )
    np.testing.assert_allclose(util, want_util, rtol=1e-4 if dtype else 1e-9)


def test_sparse_pool_is_never_densified():
    import scipy.sparse as sp

    # 10^7 columns: a dense copy of the pool (or of one row per step) would be
    # 80 GB (or 80 MB per step).
    rng = np.random.RandomState(0)
    rows = np.repeat(np.arange(400), 3)
    cols = rng.randint(10**7, size=rows.size)
    Z = sp.csr_matrix((rng.rand(rows.size), (rows, cols)), shape=(400, 10**7))
    idx = coreset_select(Z, range(20), 10)
    assert len(set(idx.tolist())) == 10 and idx.min() >= 20


@pytest.mark.parametrize("scale", [1e-200, 1e-160, 1e-30, 1e30, 1e160, 1e200])
@pytest.mark.parametrize("dtype", [None, "float32"])
@pytest.mark.parametrize("sparse", [False, True])
def test_every_scale_of_the_embedding_picks_the_same_rows(scale, dtype, sparse):
    # Distances rank rows alike at any scale; their squares overflowed (an IndexError
    # from 1e154 on) or vanished (every row tied, the lowest indices taken) in float64.
    import scipy.sparse as sp

    Z = np.random.RandomState(0).normal(size=(40, 3))
    Z[Z < -0.5] = 0.0
    as_input = sp.csr_matrix if sparse else np.asarray
    for labeled in ([0, 1, 2], []):
        expected, distances = coreset_select(
            as_input(Z), labeled, 6, device="cpu", dtype=dtype, return_utilities=True
        )
        with np.errstate(over="ignore", under="ignore"):
            scaled = as_input(Z * scale)
        idx, util = coreset_select(
            scaled, labeled, 6, device="cpu", dtype=dtype, return_utilities=True
        )
        assert idx.tolist() == expected.tolist()
        np.testing.assert_allclose(util, distances * scale, rtol=1e-5 if dtype else 1e-12)
