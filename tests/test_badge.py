"""BADGE: k-means++ on factorised gradient embeddings, against a dense reference."""

import numpy as np
import pytest
import torch
from scipy.stats import chisquare
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils._param_validation import InvalidParameterError

from skbait.strategies import (
    BADGE,
    available_strategies,
    badge_select,
    make_strategy,
    multilabel_badge_select,
)
from skbait.utils.estimator_checks import check_query_strategy


class _FixedClassifier(ClassifierMixin, BaseEstimator):
    """A 'fitted' classifier whose rows carry their own probabilities and embedding.

    Each row of X is ``[p_1 .. p_k, z_1 .. z_d]``; see :func:`_pack`.
    """

    def __init__(self, n_classes=3):
        self.n_classes = n_classes

    def fit(self, X, y=None):
        self.classes_ = np.arange(self.n_classes)
        return self

    def predict_proba(self, X):
        return np.asarray(X)[:, : self.n_classes]


def _embedding(estimator, X):
    return np.asarray(X)[:, estimator.n_classes :]


def _pack(Z, P):
    return _FixedClassifier(P.shape[1]).fit(None), np.hstack([P, Z])


def _problem(n=40, d=5, k=4, seed=0):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, d))
    logits = 2.0 * rng.normal(size=(n, k))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    return Z, P / P.sum(axis=1, keepdims=True)


def _gradients(Z, P):
    """The materialised n x kd BADGE gradient embedding (class-major blocks)."""
    A = P.copy()
    A[np.arange(len(P)), P.argmax(axis=1)] -= 1.0
    return (A[:, :, None] * Z[:, None, :]).reshape(len(P), -1)


def _dense_kmeanspp(G, labeled, batch_size, seed):
    """Textbook k-means++ seeding on explicit gradients, with the documented draws."""
    rng = np.random.RandomState(seed)
    mask = np.zeros(len(G), dtype=bool)
    mask[labeled] = True
    unlabeled = np.flatnonzero(~mask)
    G = G[unlabeled]
    norms = (G**2).sum(axis=1)
    chosen = [int(np.argmax(norms))]
    utilities = [norms[chosen[0]]]
    d2 = ((G - G[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, min(batch_size, len(G))):
        weights = d2.copy()
        weights[chosen] = 0.0
        cumulative = np.cumsum(weights)
        if cumulative[-1] > 0:
            c = int(np.searchsorted(cumulative, rng.random_sample() * cumulative[-1], "right"))
        else:
            remaining = np.setdiff1d(np.arange(len(G)), chosen)
            c = int(remaining[rng.randint(remaining.size)])
        chosen.append(c)
        utilities.append(weights[c])
        d2 = np.minimum(d2, ((G - G[c]) ** 2).sum(axis=1))
    return unlabeled[chosen], np.array(utilities)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("batch_size", [1, 5, 30])
def test_matches_dense_kmeanspp(seed, batch_size):
    Z, P = _problem(seed=seed)
    labeled = np.arange(0, 40, 4)
    expected, expected_util = _dense_kmeanspp(_gradients(Z, P), labeled, batch_size, seed)
    got, util = badge_select(
        Z, P, labeled, batch_size, random_state=seed, device="cpu", return_utilities=True
    )
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(util, expected_util, rtol=1e-10, atol=1e-12)


def test_strategy_matches_function():
    Z, P = _problem(seed=3)
    model, X = _pack(Z, P)
    labeled = np.arange(10)
    got = BADGE(device="cpu").select(model, X, labeled, 8, random_state=11, embedding=_embedding)
    np.testing.assert_array_equal(got, badge_select(Z, P, labeled, 8, random_state=11))


def test_second_centre_follows_d2_distribution():
    # With a fixed first centre, the second is drawn with P(x) = D(x)^2 / sum D^2.
    Z, P = _problem(n=9, d=3, k=3, seed=5)
    G = _gradients(Z, P)
    first = int(np.argmax((G**2).sum(axis=1)))
    d2 = ((G - G[first]) ** 2).sum(axis=1)
    expected = d2 / d2.sum()
    assert expected[first] == 0.0
    n_draws = 3000
    counts = np.zeros(len(Z))
    for seed in range(n_draws):
        idx = badge_select(Z, P, None, 2, random_state=seed, device="cpu")
        assert idx[0] == first
        counts[idx[1]] += 1
    assert counts[first] == 0
    keep = expected > 0
    _, pvalue = chisquare(counts[keep], n_draws * expected[keep])
    assert pvalue > 1e-3, (counts, n_draws * expected)


def test_first_centre_ties_go_to_lowest_index():
    Z, P = _problem(n=10, seed=1)
    Z[[2, 6, 8]] = 10.0  # equal and largest gradient norms (same p too)
    P[[2, 6, 8]] = P[2]
    assert badge_select(Z, P, None, 1)[0] == 2
    assert badge_select(Z, P, [2], 1)[0] == 6


def test_duplicates_are_never_repeated():
    # Three distinct rows, each five times: the first three centres cover the three
    # groups (duplicates of a centre are at distance exactly 0), then the uniform
    # fallback returns the rest, each row once.
    Z0, P0 = _problem(n=3, seed=2)
    Z, P = np.repeat(Z0, 5, axis=0), np.repeat(P0, 5, axis=0)
    group = np.repeat(np.arange(3), 5)
    for seed in range(20):
        idx, util = badge_select(Z, P, None, 15, random_state=seed, return_utilities=True)
        assert sorted(idx.tolist()) == list(range(15))
        assert set(group[idx[:3]]) == {0, 1, 2}
        assert np.all(util[:3] > 0) and np.all(util[3:] == 0)


def test_all_zero_gradients_fall_back_to_seeded_uniform_draws():
    Z, _ = _problem(n=30, seed=4)
    P = np.eye(3)[np.arange(30) % 3]  # one-hot: p = e_yhat, every gradient is zero
    a = badge_select(Z, P, [0, 1], 10, random_state=0)
    assert np.unique(a).size == 10 and np.all(a >= 2)
    np.testing.assert_array_equal(a, badge_select(Z, P, [0, 1], 10, random_state=0))
    assert not np.array_equal(a, badge_select(Z, P, [0, 1], 10, random_state=1))
    # Uniform over the unlabeled rows, the first centre too: it was the lowest index.
    first = [badge_select(Z, P, [0, 1], 2, random_state=s) for s in range(1400)]
    for position in (0, 1):
        counts = np.bincount([pick[position] for pick in first], minlength=30)[2:]
        _, pvalue = chisquare(counts)
        assert pvalue > 1e-3, (position, counts)


def test_probabilities_of_0_or_1_warn_and_sample_uniformly():
    Z, _ = _problem(n=30, seed=4)
    model, X = _pack(Z, np.eye(3)[np.arange(30) % 3])
    with pytest.warns(UserWarning, match="0 or 1.*CalibratedClassifierCV"):
        idx = BADGE().select(model, X, range(5), 6, random_state=0, embedding=_embedding)
    assert np.unique(idx).size == 6 and np.all(idx >= 5)


def test_single_class_classifier_warns_and_samples_uniformly():
    Z, _ = _problem(n=30, seed=4)
    model, X = _pack(Z, np.ones((30, 1)))
    with pytest.warns(UserWarning, match="single class"):
        idx = BADGE().select(model, X, range(5), 6, random_state=0, embedding=_embedding)
    assert np.unique(idx).size == 6 and np.all(idx >= 5)


def test_no_phantom_centre_at_the_origin():
    # Rows 0-2 have orthogonal gradients of equal norm r; rows 3-22 have zero
    # gradients. After the first centre (row 0, lowest index), a zero row is at
    # squared distance r^2 and the other two at 2 r^2: P(zero row) = 20 / 24. An
    # implementation that seeds with the origin would give zero rows weight 0.
    k, d, n_zero = 3, 3, 20
    P = np.full((3 + n_zero, k), 1.0 / k)
    P[3:] = np.eye(k)[0]  # one-hot: zero gradient
    Z = np.zeros((3 + n_zero, d))
    Z[:3] = np.eye(d)
    Z[3:] = 1.0
    G = _gradients(Z, P)
    r2 = (G[0] ** 2).sum()
    assert np.allclose((G[:3] ** 2).sum(axis=1), r2) and not G[3:].any()
    zero_second = 0
    for seed in range(600):
        idx, util = badge_select(Z, P, None, 2, random_state=seed, return_utilities=True)
        assert idx[0] == 0 and util[0] == pytest.approx(r2)
        if idx[1] >= 3:
            zero_second += 1
            assert util[1] == pytest.approx(r2)  # distance to row 0, not to the origin
        else:
            assert util[1] == pytest.approx(2 * r2)
    assert abs(zero_second / 600 - 20 / 24) < 0.05
    # Asking for every row returns every row once.
    assert sorted(badge_select(Z, P, None, 23, random_state=0).tolist()) == list(range(23))


def test_labeled_rows_are_neither_candidates_nor_centres():
    Z, P = _problem(n=30, seed=6)
    Z[:5] *= 100.0  # labeled rows with huge gradients must change nothing
    labeled = np.arange(5)
    unlabeled = np.arange(5, 30)
    for seed in range(5):
        got = badge_select(Z, P, labeled, 10, random_state=seed)
        alone = badge_select(Z[unlabeled], P[unlabeled], None, 10, random_state=seed)
        np.testing.assert_array_equal(got, unlabeled[alone])


def test_float32_agrees_with_float64():
    Z, P = _problem(n=300, d=16, k=5, seed=7)
    for seed in range(5):
        i64, u64 = badge_select(Z, P, range(20), 25, random_state=seed, return_utilities=True)
        i32, u32 = badge_select(
            Z, P, range(20), 25, random_state=seed, dtype="float32", return_utilities=True
        )
        np.testing.assert_array_equal(i32, i64)
        np.testing.assert_allclose(u32, u64, rtol=1e-4)


def test_large_kd_without_the_gradient_matrix():
    # n x kd would be 3,000 x 76,800 float64 (1.8 GB); the factorised form needs ~20 MB.
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(3000, 768)).astype(np.float32)
    P = rng.dirichlet(np.ones(100), size=3000)
    idx = badge_select(Z, P, range(100), 20, random_state=0, dtype="float32")
    assert np.unique(idx).size == 20 and np.all(idx >= 100)


def test_same_seed_same_result_and_seeds_matter():
    Z, P = _problem(n=200, seed=8)
    model, X = _pack(Z, P)
    s = BADGE(device="cpu")
    a = s.select(model, X, range(10), 20, random_state=3, embedding=_embedding)
    b = clone(s).select(model, X, range(10), 20, random_state=3, embedding=_embedding)
    c = s.select(model, X, range(10), 20, random_state=4, embedding=_embedding)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    rs = np.random.RandomState(3)
    np.testing.assert_array_equal(
        a, s.select(model, X, range(10), 20, random_state=rs, embedding=_embedding)
    )


def test_contract():
    check_query_strategy(BADGE(device="cpu"), tasks=("classification",))
    check_query_strategy(BADGE(device="cpu", dtype="float32"), tasks=("classification",))


def test_regressor_gets_a_clear_error():
    X = np.random.RandomState(0).normal(size=(20, 3))
    model = Ridge().fit(X[:5], X[:5, 0])
    with pytest.raises(TypeError, match="class probabilities.*'bait' or 'coreset'"):
        BADGE().select(model, X, range(5), 3)


def test_registered_and_grid_searchable():
    assert "badge" in available_strategies()
    s = make_strategy("badge")
    assert isinstance(s, BADGE) and s.get_params() == {"device": "auto", "dtype": None}
    s = clone(BADGE().set_params(dtype="float32", device="cpu"))
    assert s.dtype == "float32" and s.device == "cpu"
    assert repr(s) == "BADGE(device='cpu', dtype='float32')"


@pytest.mark.parametrize(
    "params", [{"device": 3}, {"dtype": "float16"}, {"dtype": np.int64}, {"device": "tpu"}]
)
def test_bad_parameters_are_rejected(params):
    X = np.random.RandomState(0).normal(size=(20, 3))
    model = LogisticRegression().fit(X[:6], [0, 1] * 3)
    with pytest.raises((InvalidParameterError, ValueError)):
        BADGE(**params).select(model, X, range(6), 3)


def test_active_learner_by_name():
    from skbait import ActiveLearner

    if not hasattr(ActiveLearner, "fit"):
        pytest.skip("ActiveLearner is not implemented yet")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] > 0).astype(int)
    for strategy in ["badge", BADGE(device="cpu")]:
        al = ActiveLearner(
            LogisticRegression(),
            query_strategy=strategy,
            n_initial=10,
            batch_size=5,
            budget=30,
            random_state=0,
        )
        al.fit(X, y)
        assert al.predict(X).shape == (120,)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    Z, P = _problem(n=500, d=32, k=10, seed=9)
    for seed in range(3):
        cpu = badge_select(Z, P, range(50), 30, random_state=seed, device="cpu")
        gpu = badge_select(Z, P, range(50), 30, random_state=seed, device="cuda")
        np.testing.assert_array_equal(cpu, gpu)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_low_level_rejects_non_finite_inputs(bad):
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(20, 3))
    P = np.full((20, 2), 0.5)
    Z_bad = Z.copy()
    Z_bad[4, 1] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        badge_select(Z_bad, P, [0], 3)
    P_bad = P.copy()
    P_bad[2, 0] = bad
    with pytest.raises(ValueError, match="probas"):
        badge_select(Z, P_bad, [0], 3)


def test_low_level_rejects_missing_probabilities_and_bad_batch():
    Z = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(TypeError, match="class probabilities"):
        badge_select(Z, None, [0], 3)
    with pytest.raises(ValueError, match="at least 1"):
        badge_select(Z, np.full((20, 2), 0.5), [0], 0)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype", [None, "float32"])
def test_sparse_embeddings_pick_the_dense_rows(seed, dtype):
    import scipy.sparse as sp

    rng = np.random.RandomState(seed)
    Z = sp.random(150, 400, density=0.03, format="csr", random_state=seed)
    Z = sp.vstack([Z, Z[:5]]).tocsr()
    P = rng.dirichlet(np.ones(4), size=Z.shape[0])
    labeled = rng.choice(Z.shape[0], 10, replace=False)
    got, util = badge_select(
        Z, P, labeled, 20, random_state=seed, dtype=dtype, return_utilities=True
    )
    want, want_util = badge_select(
        Z.toarray(), P, labeled, 20, random_state=seed, dtype=dtype, return_utilities=True
    )
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(util, want_util, rtol=1e-4 if dtype else 1e-9)


def test_sparse_pool_is_never_densified():
    import scipy.sparse as sp

    rng = np.random.RandomState(0)
    rows = np.repeat(np.arange(300), 3)
    cols = rng.randint(10**7, size=rows.size)  # dense: 24 GB
    Z = sp.csr_matrix((rng.rand(rows.size), (rows, cols)), shape=(300, 10**7))
    P = rng.dirichlet(np.ones(3), size=300)
    idx = badge_select(Z, P, range(10), 15, random_state=0)
    assert len(set(idx.tolist())) == 15 and idx.min() >= 10


def test_sparse_embeddings_with_nan_are_rejected():
    import scipy.sparse as sp

    Z = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        badge_select(Z, np.full((3, 2), 0.5), [0], 1)


@pytest.mark.parametrize("scale", [1e-200, 1e-160, 1e-30, 1e30, 1e160, 1e200])
@pytest.mark.parametrize("dtype", [None, "float32"])
@pytest.mark.parametrize("sparse", [False, True])
def test_every_scale_of_the_embedding_picks_the_same_rows(scale, dtype, sparse):
    # The D^2 draws are the same at any scale of z; its squared norms overflowed (rows
    # of infinite weight, other picks) or vanished (uniform draws) in float64.
    import scipy.sparse as sp

    from skbait.strategies import multilabel_badge_select

    Z, P = _problem(n=40, d=3, k=3, seed=2)
    as_input = sp.csr_matrix if sparse else np.asarray
    for select in (badge_select, multilabel_badge_select):
        expected, weights = select(
            as_input(Z),
            P,
            [0, 1],
            6,
            random_state=4,
            device="cpu",
            dtype=dtype,
            return_utilities=True,
        )
        idx, util = select(
            as_input(Z * scale),
            P,
            [0, 1],
            6,
            random_state=4,
            device="cpu",
            dtype=dtype,
            return_utilities=True,
        )
        assert idx.tolist() == expected.tolist()
        with np.errstate(over="ignore", under="ignore"):
            np.testing.assert_allclose(
                util, weights * np.float64(scale) ** 2, rtol=1e-4 if dtype else 1e-12
            )


def test_all_zero_embeddings_warn_and_sample_uniformly():
    # Every unlabeled row's embedding is zero (no word of the vocabulary): every gradient
    # is zero and the draws are uniform, which BADGE said only of probabilities 0 or 1.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    model = LogisticRegression().fit(X[:10], X[:10, 0] > 0)

    def embedding(estimator, X):
        Z = np.array(X, dtype=float)
        Z[10:] = 0.0
        return Z

    with pytest.warns(UserWarning, match=r"all-zero embedding.*uniform random sampling"):
        idx = BADGE(device="cpu").select(
            model, X, np.arange(10), 4, random_state=0, embedding=embedding
        )
    assert np.unique(idx).size == 4 and np.all(idx >= 10)


def test_one_column_of_positive_class_probabilities_says_how_to_pass_them():
    # A binary model with one sigmoid output gives p alone; BADGE takes both classes'.
    rng = np.random.RandomState(0)
    Z, p = rng.normal(size=(20, 3)), rng.uniform(size=(20, 1))
    with pytest.raises(ValueError, match=r"one column.*column_stack\(\[1 - p, p\]\)"):
        badge_select(Z, p, [0], 3)
    two_columns = np.hstack([1.0 - p, p])
    np.testing.assert_array_equal(
        badge_select(Z, two_columns, [0], 3, random_state=0),
        multilabel_badge_select(Z, p, [0], 3, random_state=0),
    )
