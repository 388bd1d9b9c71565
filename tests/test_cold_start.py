"""The label-free first batch: BAIT with the pool's rank-one Fisher on standardised rows."""

import itertools

import numpy as np
import pytest

from skbait import get_strategy_tags
from skbait.cold_start import ColdStart, cold_start_select, standardize_features
from skbait.strategies import bait_select
from skbait.utils.estimator_checks import check_query_strategy


def _objective(Z, chosen, reg, labeled=()):
    """tr((reg I + sum over labeled and chosen of z z^T)^-1 F), F the pool mean of z z^T."""
    d = Z.shape[1]
    rows = list(labeled) + list(chosen)
    M = reg * np.eye(d) + Z[rows].T @ Z[rows]
    F = Z.T @ Z / Z.shape[0]
    return float(np.trace(np.linalg.solve(M, F)))


def _reference(X, batch_size, reg=1.0):
    """Paper Algorithm 1 with I(x) = z z^T and no label, every inverse formed densely.

    Standardisation by hand: population standard deviation, constant columns dropped.
    """
    X = np.asarray(X, dtype=float)
    std = X.std(axis=0)
    keep = std > 0
    Z = (X[:, keep] - X[:, keep].mean(axis=0)) / std[keep]
    picked = []
    for _ in range(min(2 * batch_size, len(Z))):
        rest = [i for i in range(len(Z)) if i not in picked]
        values = [_objective(Z, picked + [i], reg) for i in rest]
        picked.append(rest[int(np.argmin(values))])  # argmin: lowest index on ties
    while len(picked) > batch_size:
        values = [_objective(Z, [j for j in picked if j != i], reg) for i in picked]
        picked.remove(picked[int(np.argmin(values))])
    return picked


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("batch_size", [1, 3, 5])
def test_matches_dense_reference(seed, batch_size):
    rng = np.random.RandomState(seed)
    # Columns on very different scales, one constant: standardisation must handle both.
    X = rng.normal(size=(25, 4)) * np.array([1.0, 100.0, 0.01, 3.0]) + 7.0
    X = np.column_stack([X, np.full(25, 2.5)])
    got = cold_start_select(X, batch_size, device="cpu")
    expected = _reference(X, batch_size)
    assert sorted(got.tolist()) == sorted(expected)


def test_greedy_close_to_exhaustive_optimum():
    """On a tiny pool the greedy batch is within a few percent of the best subset."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 3))
    Z = standardize_features(X)
    got = cold_start_select(X, 3, device="cpu")
    best = min(_objective(Z, list(c), 1.0) for c in itertools.combinations(range(12), 3))
    worst = max(_objective(Z, list(c), 1.0) for c in itertools.combinations(range(12), 3))
    value = _objective(Z, got, 1.0)
    assert best <= value <= best + 0.05 * (worst - best)


def test_standardize_by_hand():
    X = np.array([[1.0, 10.0, 3.0], [3.0, 10.0, 5.0], [5.0, 10.0, 7.0], [7.0, 10.0, 9.0]])
    Z = standardize_features(X)
    # Columns 0 and 2 are 1,3,5,7 shifted: mean 4 (6), population std sqrt(5).
    expected = np.array([-3.0, -1.0, 1.0, 3.0]) / np.sqrt(5.0)
    assert Z.shape == (4, 2)
    np.testing.assert_allclose(Z[:, 0], expected)
    np.testing.assert_allclose(Z[:, 1], expected)


def test_is_bait_under_the_uniform_model():
    """BAIT with uniform probabilities over k classes and reg lambda = cold start with k lambda."""
    rng = np.random.RandomState(3)
    X = rng.normal(size=(40, 3))
    Z = standardize_features(X)
    for k in (2, 3, 5):
        P = np.full((40, k), 1.0 / k)
        bait = bait_select(Z, P, labeled=np.zeros(40, dtype=bool), batch_size=4, device="cpu")
        cold = cold_start_select(Z, 4, reg=float(k), standardize=False, device="cpu")
        assert sorted(bait.tolist()) == sorted(cold.tolist())


def test_labeled_rows_count_and_are_never_chosen():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(30, 2))
    labeled = np.arange(0, 30, 3)
    got = cold_start_select(X, 6, labeled=labeled, device="cpu")
    assert not np.isin(got, labeled).any()
    assert np.unique(got).size == 6


def test_deterministic_and_caps_at_pool():
    X = np.random.RandomState(0).normal(size=(7, 2))
    first = cold_start_select(X, 20, device="cpu")
    assert sorted(first.tolist()) == list(range(7))
    a = ColdStart(device="cpu").select(None, X, None, 3, random_state=0)
    b = ColdStart(device="cpu").select(None, X, None, 3, random_state=99)
    np.testing.assert_array_equal(a, b)


def test_honours_the_query_strategy_contract_and_its_tags():
    # It reads a user's embedding, ignores random_state and chooses on a sparse
    # embedding what it chooses on the dense one; its tags said none of this.
    tags = get_strategy_tags(ColdStart())
    assert tags.needs_embedding and tags.deterministic and tags.sparse_embedding
    assert not tags.classifier_only
    check_query_strategy(ColdStart(device="cpu"))
    check_query_strategy(ColdStart(device="cpu", dtype="float32", standardize=False))


@pytest.mark.parametrize("seed", range(3))
def test_float32_rows_and_float32_arithmetic_agree_with_float64(seed):
    X = np.random.RandomState(seed).normal(size=(150, 6)) @ np.diag([4, 2, 1, 1, 0.5, 0.3])
    want, gains = ColdStart(device="cpu").select(None, X, None, 8, return_utilities=True)
    for strategy, rows, rtol in [
        (ColdStart(device="cpu"), X.astype(np.float32), 1e-5),
        (ColdStart(device="cpu", dtype="float32"), X, 1e-3),
    ]:
        got, got_gains = strategy.select(None, rows, None, 8, return_utilities=True)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_allclose(got_gains, gains, rtol=rtol)


def test_beats_random_batches_on_its_objective():
    X = np.random.RandomState(5).normal(size=(200, 6)) @ np.diag([5, 3, 1, 1, 0.5, 0.1])
    Z = standardize_features(X)
    value = _objective(Z, cold_start_select(X, 10, device="cpu"), 1.0)
    rng = np.random.RandomState(0)
    random_values = [_objective(Z, rng.choice(200, 10, replace=False), 1.0) for _ in range(50)]
    assert value < min(random_values)


def test_embedding_is_used():
    X = np.random.RandomState(0).normal(size=(30, 3))
    projected = X[:, :1]
    got = ColdStart(device="cpu").select(
        None, X, None, 2, embedding=lambda estimator, rows: rows[:, :1]
    )
    np.testing.assert_array_equal(got, cold_start_select(projected, 2, device="cpu"))


def test_constant_pool_takes_rows_in_order():
    np.testing.assert_array_equal(cold_start_select(np.ones((5, 3)), 2), [0, 1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2, "reg": 0.0}, "reg"),
        ({"batch_size": 2, "labeled": np.arange(6)}, "nothing left"),
    ],
)
def test_bad_input(kwargs, match):
    X = np.random.RandomState(0).normal(size=(6, 2))
    with pytest.raises(ValueError, match=match):
        cold_start_select(X, **kwargs)


@pytest.mark.parametrize("standardize", ["False", "no", 0, None])
def test_standardize_must_be_a_boolean(standardize):
    # Any truthy value standardised: standardize="False" read from a config did the
    # opposite of what it said.
    X = np.random.RandomState(0).normal(size=(6, 2))
    with pytest.raises(
        TypeError, match=rf"`standardize` must be True or False, got {standardize!r}"
    ):
        cold_start_select(X, 2, standardize=standardize)
    np.testing.assert_array_equal(
        cold_start_select(X, 2, standardize=np.bool_(False)),
        cold_start_select(X, 2, standardize=False),
    )


def test_too_many_features_asks_for_an_embedding():
    with pytest.raises(ValueError, match="embedding"):
        cold_start_select(np.zeros((3, 5000)), 1)


def test_non_finite_rejected():
    X = np.ones((4, 2))
    X[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cold_start_select(X, 1)


# ------------------------------------------------------- in ActiveLearner


def _digits(n=300):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:n] / 16, y[:n]


def test_active_learner_cold_start_real_labeling():
    import pickle

    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LogisticRegression

    from skbait import ActiveLearner

    X, y = _digits()
    al = ActiveLearner(
        LogisticRegression(max_iter=300), query_strategy="margin", batch_size=15, random_state=0
    )
    al.fit(X, np.full(len(y), np.nan))
    assert al.history_[0]["n_labeled"] == 0 and len(al.labeled_indices_) == 0
    with pytest.raises(NotFittedError, match="No label yet"):
        al.predict(X[:2])
    al = pickle.loads(pickle.dumps(al))
    idx = al.query()
    np.testing.assert_array_equal(idx, cold_start_select(X, 15, device="cpu"))
    # Candidates given apart from the pool: the same design on them.
    np.testing.assert_array_equal(al.query(X[:100]), cold_start_select(X[:100], 15, device="cpu"))
    al.teach(y=y[idx], indices=idx)
    assert al.history_[-1]["n_labeled"] == 15
    assert set(al.classes_) == set(y[idx])
    assert al.predict(X[:5]).shape == (5,)
    # The next query is the strategy's, on the model.
    assert not np.isin(al.query(), idx).any()


def test_declared_classes_are_the_classes_from_a_cold_start_on():
    # classes_ was missing until the first label, and stayed the old classes
    # once every label was retracted.
    from sklearn.linear_model import LogisticRegression

    from skbait import ActiveLearner

    X, y = _digits()
    al = ActiveLearner(LogisticRegression(max_iter=300), classes=list(range(10)), batch_size=5)
    al.fit(X, np.full(len(y), np.nan))
    np.testing.assert_array_equal(al.classes_, np.arange(10))
    idx = al.query()
    al.teach(y=y[idx], indices=idx).retract(idx)
    np.testing.assert_array_equal(al.classes_, np.arange(10))
    # Undeclared: no class labeled, none known, as after the cold fit.
    al = ActiveLearner(LogisticRegression(max_iter=300), batch_size=5)
    al.fit(X, np.full(len(y), np.nan))
    assert not hasattr(al, "classes_")
    idx = al.query()
    al.teach(y=y[idx], indices=idx).retract(idx)
    assert not hasattr(al, "classes_")


def test_active_learner_cold_start_simulation():
    from sklearn.linear_model import LogisticRegression

    from skbait import ActiveLearner

    X, y = _digits()
    al = ActiveLearner(
        LogisticRegression(max_iter=300),
        query_strategy="margin",
        n_initial=0,
        batch_size=10,
        budget=30,
        random_state=0,
    )
    al.fit(X, y)
    assert [r["n_labeled"] for r in al.history_] == [0, 10, 20, 30]
    np.testing.assert_array_equal(
        al.history_[0]["indices"], cold_start_select(X, 10, device="cpu")
    )


def test_active_learner_warm_start_after_a_cold_start():
    from sklearn.linear_model import LogisticRegression

    from skbait import ActiveLearner

    X, y = _digits()
    X, y = X[y < 2], y[y < 2]
    al = ActiveLearner(LogisticRegression(max_iter=300), batch_size=10, warm_start=True)
    al.fit(X, np.full(len(y), np.nan))
    idx = al.query()
    assert set(y[idx]) == {0, 1}
    al.teach(y=y[idx], indices=idx)
    first = al.estimator_
    assert isinstance(first, LogisticRegression) and first.warm_start
    idx = al.query()
    al.teach(y=y[idx], indices=idx)
    assert al.estimator_ is first  # warm: the same object, trained on


def test_active_learner_cold_start_needs_numbers_or_an_embedding():
    # A model that takes categories itself (no pipeline to turn them into numbers).
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skbait import ActiveLearner

    table = pd.DataFrame({"color": pd.Categorical(["blue", "red", "blue", "green"])})
    model = HistGradientBoostingClassifier(categorical_features="from_dtype")
    al = ActiveLearner(model, batch_size=2).fit(table, [None] * 4)
    # The period after the quoted value was missing ("'blue' Give an embedding").
    with pytest.raises(ValueError, match=r"needs numeric rows: .*'blue'\. Give an embedding"):
        al.query()

    docs = ["cheap pills now", "meeting at noon", "win cash now", "lunch at noon?", "cash now"]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression())

    def lengths(estimator, rows):
        assert estimator is None  # no model before the first label
        return np.array([[len(d), d.count(" ")] for d in rows], dtype=float)

    # A given embedding is read rather than the pipeline's TF-IDF.
    al = ActiveLearner(model, batch_size=2, embedding=lengths).fit(docs, [None] * 5)
    expected = cold_start_select(lengths(None, docs), 2, device="cpu")
    np.testing.assert_array_equal(al.query(), expected)


def test_cold_start_embedding_of_another_row_count_is_named():
    # It blamed the labeled mask ("one entry per pool row (3)"), which the user never gave.
    from sklearn.linear_model import Ridge

    from skbait import ActiveLearner

    X = np.random.RandomState(0).normal(size=(20, 3))
    al = ActiveLearner(Ridge(), embedding=lambda estimator, rows: rows[:3]).fit(X, [None] * 20)
    with pytest.raises(ValueError, match="embedding returned 3 rows for the 20 rows"):
        al.query()


def test_sparse_rows_give_the_dense_rows_batch():
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from skbait import ActiveLearner

    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 6)) * (rng.uniform(size=(80, 6)) < 0.4)  # mostly zeros
    labeled = np.zeros(80, dtype=bool)
    labeled[[3, 7]] = True
    for fmt in ("csr", "csc", "coo"):
        rows = sp.csr_matrix(X).asformat(fmt)
        np.testing.assert_array_equal(
            cold_start_select(rows, 5, labeled=labeled, device="cpu"),
            cold_start_select(X, 5, labeled=labeled, device="cpu"),
        )
    al = ActiveLearner(LogisticRegression(), batch_size=4).fit(sp.csr_matrix(X), [None] * 80)
    np.testing.assert_array_equal(al.query(), cold_start_select(X, 4, device="cpu"))
    with pytest.raises(ValueError, match="embedding"):
        cold_start_select(sp.csr_matrix((3, 5000)), 1)


def test_a_sparse_embedding_gives_the_dense_embeddings_batch():
    # A TF-IDF-like embedding callable returns a sparse matrix, as BAIT takes it.
    import scipy.sparse as sp

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 5)) * (rng.uniform(size=(60, 5)) < 0.5)
    got = ColdStart(device="cpu").select(
        None, X, None, 4, embedding=lambda estimator, rows: sp.csr_matrix(rows)
    )
    np.testing.assert_array_equal(got, cold_start_select(X, 4, device="cpu"))


def test_a_first_fit_refusing_the_labels_does_not_blame_the_rows():
    # The first fit after a cold start refused the labels (too few per class for its
    # cross-validation), and the learner said "The model rejects the new rows".
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    from skbait import ActiveLearner

    X, _ = _digits()
    model = CalibratedClassifierCV(LogisticRegression(max_iter=300), cv=3)
    al = ActiveLearner(model, batch_size=4, random_state=0).fit(X, np.full(len(X), np.nan))
    with pytest.raises(ValueError) as info:
        al.teach(X[:4], [0, 0, 1, 1])
    message = str(info.value)
    assert "rejects the new rows" not in message
    assert "new rows or their labels" in message and "less than 3 examples" in message
    # Nothing was added: the rows and labels are rolled back.
    assert len(al.labeled_indices_) == 0 and len(al.X_) == len(X)
    al.teach(X[:6], [0, 0, 0, 1, 1, 1])
    assert len(al.labeled_indices_) == 6


# Pipelines whose rows are not numbers: the design reads what the steps before the
# model make of the pool, fitted without labels. The cold start raised "needs numeric
# rows" for every such pipeline, whatever the strategy.


def _colors_and_sizes(n=40, seed=0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"color": rng.choice(["red", "green", "blue"], n), "size": rng.normal(size=n)}
    )


def _table_pipeline(encoder=None):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    encoder = OneHotEncoder() if encoder is None else encoder
    columns = ColumnTransformer([("c", encoder, ["color"]), ("n", StandardScaler(), ["size"])])
    return make_pipeline(columns, LogisticRegression())


@pytest.mark.parametrize("strategy", ["bait", "margin", "coreset"])
def test_a_table_with_categories_cold_starts_on_its_encoded_columns(strategy):
    from skbait import ActiveLearner

    X = _colors_and_sizes()
    pipe = _table_pipeline()
    al = ActiveLearner(pipe, query_strategy=strategy, batch_size=3, random_state=0)
    al.fit(X, np.full(len(X), np.nan))
    # The reference: the paper's greedy, by hand, on the one-hot and scaled columns.
    encoded = pipe[:-1].fit_transform(X)
    np.testing.assert_array_equal(al.query(), _reference(encoded, 3))
    # Candidates apart from the pool: the steps are fitted on them.
    np.testing.assert_array_equal(
        al.query(X.iloc[:25]), _reference(pipe[:-1].fit_transform(X.iloc[:25]), 3)
    )


def test_text_cold_starts_on_the_tfidf_of_the_pool():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skbait import ActiveLearner

    rng = np.random.default_rng(1)
    words = ["cheap", "pills", "meeting", "noon", "cash", "lunch", "win", "report"]
    docs = [" ".join(rng.choice(words, 3)) for _ in range(30)]
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression())
    al = ActiveLearner(pipe, batch_size=4, random_state=0).fit(docs, [None] * 30)
    idx = al.query()
    np.testing.assert_array_equal(idx, _reference(pipe[:-1].fit_transform(docs).toarray(), 4))
    # The first model follows from the labels of that batch.
    al.teach(y=["spam", "ham", "spam", "ham"], indices=idx)
    assert al.predict(docs[:3]).shape == (3,)


def test_a_vocabulary_wider_than_the_design_is_reduced_by_truncated_svd():
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skbait import ActiveLearner
    from skbait.cold_start import MAX_FEATURES

    rng = np.random.default_rng(2)
    docs = [" ".join(f"w{i}" for i in rng.integers(0, 50_000, 40)) for _ in range(150)]
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression())
    tfidf = pipe[:-1].fit_transform(docs)
    assert tfidf.shape[1] > MAX_FEATURES  # refused before: "needs a d x d matrix"
    al = ActiveLearner(pipe, batch_size=5).fit(docs, [None] * 150)
    idx = al.query()
    reduced = TruncatedSVD(n_components=100, random_state=0).fit_transform(tfidf)
    np.testing.assert_array_equal(idx, cold_start_select(reduced, 5, device="cpu"))
    np.testing.assert_array_equal(al.query(), idx)  # deterministic


def test_numeric_rows_are_read_as_they_are_whatever_the_pipeline():
    # Unchanged: numbers go to the design as they are, not through the pipeline's steps.
    from sklearn.decomposition import PCA
    from sklearn.feature_selection import SelectKBest
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skbait import ActiveLearner

    X, _ = _digits(120)
    for steps in ([PCA(3)], [SelectKBest(k=5)]):  # SelectKBest needs labels: never fitted
        pipe = make_pipeline(*steps, LogisticRegression(max_iter=300))
        al = ActiveLearner(pipe, batch_size=6).fit(X, np.full(len(X), np.nan))
        np.testing.assert_array_equal(al.query(), cold_start_select(X, 6, device="cpu"))


def test_rows_with_nan_go_through_the_pipelines_imputer():
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skbait import ActiveLearner

    X, _ = _digits(80)
    X = X.copy()
    X[::7, 3] = np.nan
    pipe = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=300))
    al = ActiveLearner(pipe, batch_size=5).fit(X, np.full(len(X), np.nan))
    expected = cold_start_select(SimpleImputer().fit_transform(X), 5, device="cpu")
    np.testing.assert_array_equal(al.query(), expected)


@pytest.mark.parametrize("needs_labels", ["select", "target_encoder"])
def test_a_step_that_needs_labels_is_named(needs_labels):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.feature_selection import SelectKBest
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import TargetEncoder

    from skbait import ActiveLearner

    if needs_labels == "select":
        X = ["cheap pills now", "meeting at noon", "win cash now", "lunch at noon?"]
        pipe = make_pipeline(TfidfVectorizer(), SelectKBest(k=2), LogisticRegression())
        step = r"'selectkbest' \(SelectKBest\)"
    else:
        X = _colors_and_sizes()
        pipe = _table_pipeline(TargetEncoder())
        step = r"'columntransformer' \(ColumnTransformer\)"
    al = ActiveLearner(pipe, batch_size=2).fit(X, [None] * len(X))
    with pytest.raises(ValueError, match=step + ".*without labels.*label a few rows first"):
        al.query()


def test_random_sampling_before_the_first_label_is_a_uniform_draw():
    # Random borrowed the label-free design (and so failed on rows that are not numbers).
    from sklearn.linear_model import LogisticRegression

    from skbait import ActiveLearner

    X, _ = _digits()
    batches = []
    for seed in range(3):
        al = ActiveLearner(
            LogisticRegression(max_iter=300),
            query_strategy="random",
            batch_size=10,
            random_state=seed,
        )
        batches.append(al.fit(X, np.full(len(X), np.nan)).query())
    assert len({tuple(np.sort(b)) for b in batches}) == 3  # the seed draws the batch
    assert not any(np.array_equal(b, cold_start_select(X, 10, device="cpu")) for b in batches)
    al = ActiveLearner(
        LogisticRegression(max_iter=300), query_strategy="random", batch_size=10, random_state=2
    )
    np.testing.assert_array_equal(al.fit(X, np.full(len(X), np.nan)).query(), batches[2])
    # Rows that are not numbers are drawn alike: the rows are never read.
    table = _colors_and_sizes()
    al = ActiveLearner(_table_pipeline(), query_strategy="random", batch_size=4)
    assert np.unique(al.fit(table, [None] * len(table)).query()).size == 4


def test_image_rows_give_the_batch_of_their_flattened_pixels():
    # A CNN's pool of shape (n, 1, 8, 8): "Found array with dim 4" asked for an embedding
    # or a pipeline, though the rows are numbers.
    images = np.random.default_rng(0).normal(size=(40, 1, 8, 8)).astype(np.float32)
    flat = images.reshape(40, -1)
    np.testing.assert_array_equal(cold_start_select(images, 5), cold_start_select(flat, 5))
    np.testing.assert_array_equal(
        ColdStart().select(None, images, np.zeros(40, bool), 5),
        ColdStart().select(None, flat, np.zeros(40, bool), 5),
    )
