"""Approximate Fishers: each against a dense reference of the objective it approximates."""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from skbait._approximations import (
    FisherApproximation,
    choose_approximation,
    exact_memory_bytes,
    greedy_select,
    resolve_approximation,
)
from skbait.strategies import bait_select


def _pool(n=60, d=6, k=5, seed=0):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, d)) + 0.5
    logits = Z @ rng.normal(size=(d, k))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    labeled = np.zeros(n, dtype=bool)
    labeled[rng.choice(n, 6, replace=False)] = True
    return Z, P, labeled


def _class_factor(p):
    return np.diag(p) - np.outer(p, p)


# ------------------------------------------------------------------ pointwise Fishers
def test_top_classes_is_the_truncated_expectation():
    Z, P, _ = _pool()
    approx = FisherApproximation(top_classes=2).fit_transform(Z, P)
    S = approx.S.numpy()
    for x in range(len(P)):
        p = P[x]
        top = np.argsort(-p, kind="stable")[:2]
        expected = sum(p[c] * np.outer(np.eye(5)[c] - p, np.eye(5)[c] - p) for c in top)
        np.testing.assert_allclose(S[x] @ S[x].T, expected, atol=1e-14)
        # Below the exact class factor in the PSD order: only PSD terms are dropped.
        assert np.linalg.eigvalsh(_class_factor(p) - expected).min() > -1e-12
    np.testing.assert_allclose(approx.Z.numpy(), Z)


def test_top_classes_ties_take_the_lowest_class():
    P = np.array([[0.3, 0.3, 0.3, 0.1]])
    S = FisherApproximation(top_classes=2).fit_transform(np.ones((1, 2)), P).S.numpy()[0]
    p = P[0]
    expected = sum(p[c] * np.outer(np.eye(4)[c] - p, np.eye(4)[c] - p) for c in (0, 1))
    np.testing.assert_allclose(S @ S.T, expected, atol=1e-15)


def test_binary_is_the_most_probable_class_bernoulli_fisher():
    Z, P, _ = _pool()
    approx = FisherApproximation(binary=True).fit_transform(Z, P)
    assert tuple(approx.S.shape) == (60, 1, 1)
    p_max = P.max(axis=1)
    np.testing.assert_allclose(approx.S.numpy()[:, 0, 0] ** 2, p_max * (1 - p_max))
    with pytest.raises(ValueError, match="cannot be combined"):
        FisherApproximation(binary=True, class_dims=2).fit_transform(Z, P)


def test_class_subspace_keeps_the_most_fisher_trace():
    Z, P, _ = _pool(k=6)
    approx = FisherApproximation(class_dims=3).fit_transform(Z, P)
    w = (Z * Z).sum(axis=1)
    C_bar = sum(w[x] * _class_factor(P[x]) for x in range(len(P)))
    vals, vecs = np.linalg.eigh(C_bar)
    W = vecs[:, ::-1][:, :3]
    S = approx.S.numpy()
    for x in range(len(P)):
        # The factors give W^T C_x W, up to the sign of each eigenvector of C_bar
        # (which flips signs of whole rows and columns: absolute values agree).
        got = S[x] @ S[x].T
        want = W.T @ _class_factor(P[x]) @ W
        np.testing.assert_allclose(np.abs(got), np.abs(want), atol=1e-12)
        np.testing.assert_allclose(np.trace(got), np.trace(want), atol=1e-12)
    # Retained trace: the dense ratio tr F_approx / tr F, and the optimum over
    # q-dim class subspaces (Ky Fan): the top 3 eigenvalues of C_bar over its trace.
    assert approx.retained == pytest.approx(vals[::-1][:3].sum() / vals.sum(), rel=1e-10)


def test_settings_that_reduce_nothing_are_exact():
    Z, P, labeled = _pool(k=4)
    assert FisherApproximation(class_dims=4, embedding_dims=6, top_classes=4).is_exact(6, 4)
    assert not FisherApproximation(class_dims=3).is_exact(6, 4)
    approx = FisherApproximation(class_dims=4, top_classes=9).fit_transform(Z, P)
    assert approx.description == "exact" and approx.retained == pytest.approx(1.0)
    got, _ = greedy_select(approx, labeled, 4, reg=1.0)
    np.testing.assert_array_equal(got, bait_select(Z, P, labeled, 4, device="cpu"))
    # Every C_x = diag(p) - p p^T annihilates the ones vector, so k - 1 class
    # directions keep all of the Fisher's trace; fewer lose some.
    assert FisherApproximation(class_dims=3).fit_transform(Z, P).retained == pytest.approx(1.0)
    assert FisherApproximation(class_dims=2).fit_transform(Z, P).retained < 1.0 - 1e-6


@pytest.mark.parametrize("sparse", [False, True])
def test_reduced_embedding_is_the_fisher_weighted_uncentred_pca(sparse):
    rng = np.random.RandomState(3)
    # A clear spectral gap after 3 directions, and an offset (uncentred data).
    Z = rng.normal(size=(80, 3)) @ rng.normal(size=(3, 12)) * 3 + 0.01 * rng.normal(size=(80, 12))
    Z += 2.0
    P = rng.dirichlet(np.ones(3), size=80)
    Zin = sp.csr_matrix(Z) if sparse else Z
    approx = FisherApproximation(embedding_dims=3).fit_transform(Zin, P, random_state=0)
    weight = 1.0 - (P * P).sum(axis=1)  # tr C_x
    _, sigma, Vt = np.linalg.svd(Z * np.sqrt(weight)[:, None], full_matrices=False)
    U = Vt[:3].T
    # Same subspace: Z U_dense and the result differ by a rotation.
    got = approx.Z.numpy()
    rotation, *_ = np.linalg.lstsq(Z @ U, got, rcond=None)
    np.testing.assert_allclose(Z @ U @ rotation, got, atol=1e-6 * np.abs(got).max())
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-8)
    assert approx.retained == pytest.approx((sigma[:3] ** 2).sum() / (sigma**2).sum(), rel=1e-8)


def test_reduced_embedding_is_seeded():
    Z, P, _ = _pool(d=20)
    a = FisherApproximation(embedding_dims=4).fit_transform(Z, P, random_state=1).Z
    b = FisherApproximation(embedding_dims=4).fit_transform(Z, P, random_state=1).Z
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# ------------------------------------------------------------------ the greedy on them
def _dense_greedy(V, labeled, B, reg=1.0, oversample=2):
    """BAIT's forward-backward greedy with explicit (D x r) factors V[x], solved per row."""
    n = len(V)
    D = V[0].shape[0]
    n_L = int(labeled.sum())
    M = reg * np.eye(D) + sum(V[x] @ V[x].T for x in np.flatnonzero(labeled)) / (n_L + B)
    F = sum(v @ v.T for v in V) / n
    s = math.sqrt(B / (n_L + B))
    cand = [int(x) for x in np.flatnonzero(~labeled)]

    def value(M):
        return np.trace(np.linalg.solve(M, F))

    picked = []
    for _ in range(min(math.floor(oversample * B + 0.5), len(cand))):
        rest = [x for x in cand if x not in picked]
        vals = [value(M + s * s * V[x] @ V[x].T) for x in rest]
        best = min(vals)
        x = min(r for r, v in zip(rest, vals) if v <= best + 1e-12 * abs(best))
        picked.append(x)
        M = M + s * s * V[x] @ V[x].T
    while len(picked) > B:
        vals = [value(M - s * s * V[x] @ V[x].T) for x in picked]
        best = min(vals)
        x = min(r for r, v in zip(picked, vals) if v <= best + 1e-12 * abs(best))
        picked.remove(x)
        M = M - s * s * V[x] @ V[x].T
    return sorted(picked), value(M)


def _factors(approx):
    Z, S = approx.Z.numpy(), approx.S.numpy()
    return [np.kron(S[x], Z[x][:, None]) for x in range(len(Z))]


@pytest.mark.parametrize(
    "settings",
    [
        {"top_classes": 2},
        {"binary": True},
        {"class_dims": 2},
        {"embedding_dims": 3},
        {"class_dims": 2, "embedding_dims": 3},
    ],
)
def test_greedy_matches_a_dense_greedy_on_the_approximated_fisher(settings):
    Z, P, labeled = _pool(n=30, d=5, k=4, seed=1)
    approx = FisherApproximation(**settings).fit_transform(Z, P, random_state=0)
    got, _ = greedy_select(approx, labeled, 4, reg=1.0)
    want, _ = _dense_greedy(_factors(approx), labeled, 4)
    assert sorted(got.tolist()) == want


def test_no_approximation_is_exact_bait():
    Z, P, labeled = _pool(n=50, d=4, k=3, seed=2)
    approx = FisherApproximation().fit_transform(Z, P)
    got, _ = greedy_select(approx, labeled, 5, reg=1.0)
    np.testing.assert_array_equal(got, bait_select(Z, P, labeled, 5, device="cpu"))
    reg_approx = FisherApproximation().fit_transform(Z, None)
    got, _ = greedy_select(reg_approx, labeled, 5, reg=1.0)
    np.testing.assert_array_equal(got, bait_select(Z, None, labeled, 5, device="cpu"))


def test_logdet_objective_runs_on_an_approximation():
    Z, P, labeled = _pool(n=40, d=5, k=4)
    approx = FisherApproximation(binary=True).fit_transform(Z, P)
    got, gains = greedy_select(approx, labeled, 5, reg=1.0, objective="logdet")
    assert len(set(got.tolist())) == 5 and not labeled[got].any()
    assert np.all(np.diff(gains) <= 1e-12)  # log det gains of a greedy are non-increasing


# ------------------------------------------------------------------ the automatic choice
def test_exact_when_it_fits():
    assert choose_approximation(50_000, 512, 10, 4.0) is None
    assert exact_memory_bytes(50_000, 512, 10) < 4 * 2**30


def test_classes_then_embedding_reduced_to_fit():
    chosen = choose_approximation(50_000, 512, 100, 4.0)
    assert chosen.class_dims == 10 and chosen.embedding_dims is None
    assert exact_memory_bytes(50_000, 512, 10) <= 4 * 2**30
    chosen = choose_approximation(100_000, 512, 1000, 1.0)
    assert chosen.class_dims == 10 and chosen.embedding_dims is not None
    assert exact_memory_bytes(100_000, chosen.embedding_dims, 10) <= 2**30
    text = choose_approximation(5_000, 20_000, 2, 4.0)
    assert text.class_dims is None and text.embedding_dims * 2 <= 2048


def test_impossible_budget_is_a_clear_error():
    with pytest.raises(ValueError, match="memory_limit"):
        choose_approximation(10**9, 512, 100, 0.5)


def test_resolution_warns_and_names_the_choice():
    with pytest.warns(UserWarning, match=r"class_dims=10.*approximation='exact'"):
        chosen = resolve_approximation("auto", 50_000, 512, 100, 4.0, "BAIT")
    assert chosen.class_dims == 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_approximation("auto", 1000, 8, 3, 4.0, "BAIT") is None
        assert resolve_approximation("exact", 50_000, 512, 100, 4.0, "BAIT") is None
        mine = FisherApproximation(binary=True)
        assert resolve_approximation(mine, 1000, 8, 3, 4.0, "BAIT") is mine
        assert resolve_approximation(FisherApproximation(class_dims=9), 10, 8, 3, 4, "B") is None


def test_a_reduction_to_the_pools_own_span_is_exact_and_not_warned_of():
    # 220 rows of 3000 TF-IDF terms span at most 220 directions: keeping them
    # all keeps every inner product, so no warning calls it "not exact BAIT".
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen = resolve_approximation("auto", 220, 3000, 3, 4.0, "BAIT")
    assert chosen.embedding_dims == 220 and chosen.class_dims is None


def test_the_warning_says_what_is_lost():
    with pytest.warns(UserWarning, match=r"not exact BAIT: it keeps 10 of the 100 class"):
        resolve_approximation("auto", 50_000, 512, 100, 4.0, "BAIT")
    with pytest.warns(UserWarning, match=r"keeps the top \d+ of the 20000 embedding") as caught:
        chosen = resolve_approximation("auto", 5_000, 20_000, 2, 4.0, "BAIT")
    assert "class directions" not in str(caught[0].message)
    assert f"top {chosen.embedding_dims} of" in str(caught[0].message)


# ------------------------------------------------------------------ wired into the strategies
def test_bait_auto_approximates_over_the_memory_limit_and_says_so():
    from sklearn.linear_model import LogisticRegression

    from skbait.strategies import BAIT

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 12))
    y = rng.randint(6, size=300)
    model = LogisticRegression(max_iter=300).fit(X[:60], y[:60])
    limit = exact_memory_bytes(300, 12, 6) / 2**30 / 2  # exact does not fit
    with pytest.warns(UserWarning, match=r"BAIT: exact BAIT needs .*FisherApproximation"):
        idx = BAIT(device="cpu", memory_limit=limit).select(model, X, range(60), 5)
    assert len(set(idx.tolist())) == 5 and idx.min() >= 60
    chosen = choose_approximation(300, 12, 6, limit)
    approx = chosen.fit_transform(X, model.predict_proba(X), random_state=0)
    labeled = np.zeros(300, dtype=bool)
    labeled[:60] = True
    want, _ = greedy_select(approx, labeled, 5, reg=1.0)
    # reg=1.0: the paper's absolute lambda, as greedy_select and bait_select take it.
    idx = BAIT(device="cpu", reg=1.0, approximation=chosen).select(
        model, X, range(60), 5, random_state=0
    )
    np.testing.assert_array_equal(idx, want)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = BAIT(device="cpu", reg=1.0, approximation="exact", memory_limit=limit)
        np.testing.assert_array_equal(
            exact.select(model, X, range(60), 5),
            bait_select(X, model.predict_proba(X), range(60), 5, device="cpu"),
        )


@pytest.mark.parametrize("settings", [{"binary": True}, {"top_classes": 2}, {"class_dims": 3}])
def test_bait_select_with_an_approximation_matches_the_dense_greedy(settings):
    Z, P, labeled = _pool(n=30, d=5, k=4, seed=3)
    approximation = FisherApproximation(**settings)
    got = bait_select(Z, P, labeled, 4, device="cpu", approximation=approximation)
    want, _ = _dense_greedy(_factors(approximation.fit_transform(Z, P)), labeled, 4)
    assert sorted(got.tolist()) == want


def test_sparse_embedding_gets_a_reduced_embedding():
    rng = np.random.RandomState(0)
    Z = sp.random(400, 30_000, density=0.002, format="csr", random_state=0)
    P = rng.dirichlet(np.ones(3), size=400)
    with warnings.catch_warnings():
        # 400 rows span at most 400 directions: reduced to them, BAIT is exact.
        warnings.simplefilter("error")
        got = bait_select(Z, P, range(40), 8, device="cpu", random_state=0)
        dense = bait_select(Z.toarray(), P, range(40), 8, device="cpu", random_state=0)
    np.testing.assert_array_equal(got, dense)
    assert len(set(got.tolist())) == 8 and got.min() >= 40


def _hashed(Z, width=2**20, seed=0):
    """``Z`` spread over ``width`` columns, as a HashingVectorizer leaves it: most empty."""
    columns = np.random.RandomState(seed).choice(width, Z.shape[1], replace=False)
    rows, cols = np.nonzero(Z)
    return sp.csr_matrix((Z[rows, cols], (rows, columns[cols])), shape=(Z.shape[0], width))


def test_columns_no_row_uses_leave_bait_and_logdet_exact():
    from skbait.strategies import logdet_select, multilabel_bait_select

    Z, P, labeled = _pool(n=80, d=12, k=3, seed=4)
    Z[Z < 0.8] = 0.0  # sparse rows, as documents' term weights are
    wide = _hashed(Z)
    with warnings.catch_warnings():
        # No approximation: the pool has 12 columns, however wide its space.
        warnings.simplefilter("error")
        got = bait_select(wide, P, labeled, 6, device="cpu", reg=1.0)
        got_logdet = logdet_select(wide, P, labeled, 6, device="cpu")
        labels = 1.0 / (1.0 + np.exp(-(Z @ np.random.RandomState(1).normal(size=(12, 4)))))
        got_labels = multilabel_bait_select(wide, labels, labeled, 6, device="cpu")
    np.testing.assert_array_equal(got, bait_select(Z, P, labeled, 6, device="cpu", reg=1.0))
    np.testing.assert_array_equal(got_logdet, logdet_select(Z, P, labeled, 6, device="cpu"))
    np.testing.assert_array_equal(
        got_labels, multilabel_bait_select(Z, labels, labeled, 6, device="cpu")
    )


def test_logdet_takes_approximations_of_its_own_information():
    from skbait.strategies import logdet_select

    Z, P, labeled = _pool(n=40, d=5, k=4)
    got = logdet_select(
        Z, P, labeled, 4, fisher="rank1", approximation=FisherApproximation(class_dims=2)
    )
    assert len(set(got.tolist())) == 4 and not labeled[got].any()
    with pytest.raises(ValueError, match="rank-one"):
        logdet_select(
            Z, P, labeled, 4, fisher="rank1", approximation=FisherApproximation(binary=True)
        )
    approx = FisherApproximation(binary=True)
    got = logdet_select(Z, P, labeled, 4, approximation=approx)
    want, _ = greedy_select(approx.fit_transform(Z, P), labeled, 4, reg=1.0, objective="logdet")
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "4GB"])
def test_bad_memory_limits_are_rejected(bad):
    from sklearn.utils._param_validation import InvalidParameterError

    from skbait.strategies import BAIT

    Z, P, labeled = _pool()
    with pytest.raises((TypeError, ValueError)):
        bait_select(Z, P, labeled, 3, memory_limit=bad)
    with pytest.raises(InvalidParameterError):
        BAIT(memory_limit=bad)._validate_params()


@pytest.mark.parametrize(
    "settings",
    [
        # Settings that reduce nothing were taken for exact BAIT before they were checked:
        # a float count passed, a string failed on a comparison.
        {"embedding_dims": 100.0},
        {"class_dims": 10.0},
        {"top_classes": "all"},
        {"embedding_dims": "6"},
    ],
)
def test_bad_approximation_settings_are_rejected_by_name(settings):
    from sklearn.utils._param_validation import InvalidParameterError

    from skbait.strategies import BAIT, LogDet, logdet_select

    Z, P, labeled = _pool()
    approx = FisherApproximation(**settings)
    (name,) = settings
    with pytest.raises(InvalidParameterError, match=name):
        bait_select(Z, P, labeled, 3, approximation=approx)
    with pytest.raises(InvalidParameterError, match=name):
        logdet_select(Z, P, labeled, 3, approximation=approx)
    model = LogisticRegression().fit(Z[labeled], np.arange(labeled.sum()) % 3)
    for strategy in (BAIT(approximation=approx), LogDet(approximation=approx)):
        with pytest.raises(InvalidParameterError, match=name):
            strategy.select(model, Z, labeled, 3)


def test_reduced_embedding_bait_is_seeded_and_tagged_random():
    from skbait.base import get_strategy_tags
    from skbait.strategies import BAIT

    assert get_strategy_tags(BAIT(candidates=None)).deterministic
    reduced = BAIT(candidates=None, approximation=FisherApproximation(embedding_dims=3))
    assert not get_strategy_tags(reduced).deterministic
    Z, P, labeled = _pool(n=80, d=10)
    a = bait_select(Z, P, labeled, 5, approximation=reduced.approximation, random_state=4)
    b = bait_select(Z, P, labeled, 5, approximation=reduced.approximation, random_state=4)
    np.testing.assert_array_equal(a, b)


def test_reduction_to_the_pool_size_is_lossless():
    Z, P, labeled = _pool(n=12, d=40, k=3)
    approx = FisherApproximation(embedding_dims=30).fit_transform(Z, P)
    Y = approx.Z.numpy()
    assert Y.shape == (12, 12)
    np.testing.assert_allclose(Y @ Y.T, Z @ Z.T, atol=1e-9)
    assert approx.retained == pytest.approx(1.0)
    got, _ = greedy_select(approx, labeled, 3, reg=1.0)
    np.testing.assert_array_equal(got, bait_select(Z, P, labeled, 3, device="cpu"))


@pytest.mark.cuda
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(
    "settings", [{"binary": True}, {"top_classes": 2}, {"class_dims": 2, "embedding_dims": 4}]
)
def test_cuda_float64_matches_cpu(settings):
    Z, P, labeled = _pool(n=200, d=8, k=5, seed=5)
    approximation = FisherApproximation(**settings)
    cpu = bait_select(Z, P, labeled, 6, device="cpu", approximation=approximation, random_state=0)
    gpu = bait_select(Z, P, labeled, 6, device="cuda", approximation=approximation, random_state=0)
    np.testing.assert_array_equal(cpu, gpu)


def test_the_design_inverse_is_row_major():
    # A column-major G made every greedy step copy all (k d)^2 entries of it.
    import torch

    from skbait._fisher import Design

    M = torch.eye(6, dtype=torch.float64) * 2 + 0.1
    design = Design(M, torch.float64)
    assert design.G.is_contiguous()
    torch.testing.assert_close(design.G, torch.linalg.inv(M))
    assert design.G.reshape(12, 3).data_ptr() == design.G.data_ptr()  # a view, not a copy
