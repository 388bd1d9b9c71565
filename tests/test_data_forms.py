"""ActiveLearner on the data a scikit-learn pipeline takes, and a class set that grows.

Every strategy of ``available_strategies()`` runs on: documents behind TF-IDF
(with and without TruncatedSVD), a DataFrame with string and numeric columns
behind a ColumnTransformer, NaN behind HistGradientBoosting, sparse matrices;
and on labels that start with one class, gain a class, or are {-1, +1}.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import DataConversionWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skbait import ActiveLearner, get_strategy_tags
from skbait._single_class import SingleClassModel
from skbait.embeddings import embed
from skbait.strategies import (
    RandomSampling,
    UncertaintySampling,
    available_strategies,
    bait_select,
    make_strategy,
)

STRATEGIES = available_strategies()
# Strategies that read the embedding (their tags say so); the others read
# probabilities or nothing.
EMBEDDING_READERS = {s for s in STRATEGIES if get_strategy_tags(make_strategy(s)).needs_embedding}

TOPICS = {
    "sport": "match goal team score player coach league season win referee",
    "science": "atom cell energy theory experiment lab data physics gene orbit",
    "food": "recipe bake flour sugar taste dinner spice oven fresh salad",
}
FILLER = "the a of and to in is on with for it this that very"


def corpus(n_docs=120, seed=0):
    """Short documents, each mostly from one topic's words: (docs, labels)."""
    rng = np.random.RandomState(seed)
    names = sorted(TOPICS)
    labels = rng.randint(len(names), size=n_docs)
    docs = []
    for label in labels:
        own = TOPICS[names[label]].split()
        other = TOPICS[names[(label + 1) % len(names)]].split()
        words = [*rng.choice(own, 6), *rng.choice(other, 1), *rng.choice(FILLER.split(), 5)]
        rng.shuffle(words)
        docs.append(" ".join(words))
    return docs, np.array(names)[labels]


def table(n=120, seed=0):
    """A DataFrame with string and numeric columns, its labels, on a non-default index."""
    rng = np.random.RandomState(seed)
    colour = rng.choice(["red", "green", "blue"], n)
    size = rng.normal(size=n)
    weight = rng.normal(size=n)
    y = np.where((colour == "red") | (size > 0.8), "yes", "no")
    frame = pd.DataFrame(
        {"colour": colour, "size": size, "weight": weight}, index=[f"r{i}" for i in range(n)]
    )
    return frame, pd.Series(y, index=frame.index, name="target")


def table_model():
    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["colour"]),
            ("num", StandardScaler(), ["size", "weight"]),
        ]
    )
    return make_pipeline(encode, LogisticRegression(max_iter=500))


def real_labeling(strategy, y, n_known, missing=None):
    """Labels of the first ``n_known`` rows known, the rest ``missing``."""
    y_partial = np.array(y, dtype=object)
    y_partial[n_known:] = missing
    learner = ActiveLearner(
        LogisticRegression(max_iter=500), query_strategy=strategy, batch_size=4, random_state=0
    )
    return learner, y_partial


def assert_valid_query(idx, n_rows, labeled, batch_size):
    assert idx.dtype == np.int64 and idx.shape == (batch_size,)
    assert np.unique(idx).size == batch_size
    assert idx.min() >= 0 and idx.max() < n_rows
    assert not np.isin(idx, labeled).any()


# ------------------------------------------------------------------ text


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_text_pipeline_on_a_list_of_documents(strategy):
    docs, y = corpus()
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=500))
    al = ActiveLearner(model, query_strategy=strategy, batch_size=5, random_state=0)
    y_partial = np.array(y, dtype=object)
    y_partial[30:] = None
    al.fit(docs, y_partial)
    # The pool stays a list of the very documents given.
    assert isinstance(al.X_, list) and docs == al.X_
    idx = al.query()
    assert_valid_query(idx, len(docs), np.arange(30), 5)
    al.teach(y=y[idx], indices=idx)
    new_docs, new_y = corpus(4, seed=1)
    al.teach(new_docs, new_y)
    assert docs + new_docs == al.X_ and len(al.labeled_indices_) == 39
    np.testing.assert_array_equal(al.y_[al.labeled_indices_[-4:]], new_y)
    # A list gives a list: its list.index method was taken for a DataFrame's index.
    X_lab, y_lab = al.labeled_data()
    assert isinstance(X_lab, list) and X_lab[-4:] == new_docs
    assert isinstance(y_lab, np.ndarray) and y_lab[-4:].tolist() == new_y.tolist()
    candidates, _ = corpus(20, seed=2)
    assert_valid_query(al.query(candidates, batch_size=3), 20, [], 3)
    assert al.predict(docs[:3]).tolist() == al.estimator_.predict(docs[:3]).tolist()
    assert 0.0 <= al.score(docs, y) <= 1.0


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_text_pipeline_with_truncated_svd_simulation(strategy):
    docs, y = corpus()
    model = make_pipeline(
        TfidfVectorizer(), TruncatedSVD(10, random_state=0), LogisticRegression(max_iter=500)
    )
    al = ActiveLearner(
        model, query_strategy=strategy, n_initial=12, batch_size=6, budget=30, random_state=0
    )
    al.fit(docs, y, eval_set=(docs[:40], y[:40]))
    assert [r["n_labeled"] for r in al.history_] == [12, 18, 24, 30]
    assert np.unique(al.labeled_indices_).size == 30
    assert all(np.isfinite(r["eval_score"]) for r in al.history_)
    # The strategy saw the pipeline's SVD features: the embedding is the last step's input.
    Z, _ = embed(al.estimator_, docs)
    np.testing.assert_allclose(Z, al.estimator_[:-1].transform(docs))


def test_text_embedding_is_the_sparse_tfidf_matrix():
    docs, y = corpus(60)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(docs, y)
    Z, P = embed(model, docs)
    assert sp.issparse(Z) and Z.format == "csr"
    assert (model[0].transform(docs) != Z).nnz == 0
    assert P.shape == (60, 3)


def test_text_errors_are_short_and_clear():
    """A wrong form gets the model's message, not a dump of the documents."""
    docs, y = corpus(40)
    al = ActiveLearner(LogisticRegression(), query_strategy="random")
    with pytest.raises(ValueError) as info:
        al.fit(docs, y)
    assert len(str(info.value)) < 2000


@pytest.mark.parametrize("form", ["dok_matrix", "dok_array", "lil_matrix", "coo_array"])
def test_every_sparse_format_is_a_pool_of_rows(form):
    # scipy's DOK format is a dict of (row, column) keys: it was refused as "a dict of
    # inputs" for a skorch module, where every other sparse format is taken as rows.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(float)
    y[10:] = np.nan
    picks = []
    for rows in (X, getattr(sp, form)(X)):
        learner = ActiveLearner(LogisticRegression(), batch_size=3, random_state=0)
        picks.append(learner.fit(rows, y).query().tolist())
    assert picks[0] == picks[1]


@pytest.mark.parametrize("form", ["list", "series", "array"])
@pytest.mark.parametrize("labeled", [10, 0])
def test_a_missing_document_among_the_unlabeled_rows_is_named(form, labeled):
    # A text pipeline fits on the labeled rows only: a None or NaN among the unlabeled
    # documents passed fit and failed the query inside the vectorizer ("'NoneType' object
    # has no attribute 'lower'"), with nothing to say which row or what to do.
    docs = ["good movie", "bad film", "great plot", "awful acting"] * 20
    docs[50] = None if form == "list" else np.nan
    X = {"list": docs, "series": pd.Series(docs), "array": np.array(docs, dtype=object)}[form]
    y = np.array([1.0, 0.0] * 40)
    y[labeled:] = np.nan
    learner = ActiveLearner(
        make_pipeline(TfidfVectorizer(), LogisticRegression()), batch_size=5, random_state=0
    )
    learner.fit(X, y)
    with pytest.raises(ValueError, match=r"1 missing document\(s\) .* position\(s\) 50\)"):
        learner.query()
    candidates = docs[40:] if form == "list" else X[40:]
    with pytest.raises(ValueError, match=r"position\(s\) 10\).*fillna\(''\)"):
        learner.query(candidates)  # positions in the rows given to query
    # Filled in as empty texts, the same pool is queried.
    filled = ["" if not isinstance(d, str) else d for d in docs]
    filled = {"list": filled, "series": pd.Series(filled), "array": np.array(filled)}[form]
    assert len(learner.query(filled)) == 5


# ------------------------------------------------------------- DataFrames


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_column_transformer_on_a_dataframe(strategy):
    X, y = table()
    y_partial = y.astype(object).copy()
    y_partial.iloc[25:] = None
    al = ActiveLearner(table_model(), query_strategy=strategy, batch_size=5, random_state=0)
    al.fit(X, y_partial)
    assert isinstance(al.X_, pd.DataFrame) and al.X_.equals(X)
    np.testing.assert_array_equal(al.feature_names_in_, ["colour", "size", "weight"])
    idx = al.query()
    assert_valid_query(idx, len(X), np.arange(25), 5)
    # query returns positions: .iloc, not .loc.
    al.teach(y=y.iloc[idx].to_numpy(), indices=idx)
    X_lab, y_lab = al.labeled_data()
    assert isinstance(X_lab, pd.DataFrame) and isinstance(y_lab, pd.Series)
    assert X_lab.index.tolist() == X.index[al.labeled_indices_].tolist()
    assert y_lab.name == "target"
    pd.testing.assert_series_equal(y_lab.astype(str), y.iloc[al.labeled_indices_])
    pd.testing.assert_frame_equal(X_lab, X.iloc[al.labeled_indices_])
    # New rows as a DataFrame (columns in another order) keep the pool a DataFrame.
    extra, extra_y = table(6, seed=3)
    al.teach(extra[["weight", "colour", "size"]], extra_y.to_numpy())
    assert isinstance(al.X_, pd.DataFrame) and list(al.X_.columns) == list(X.columns)
    pd.testing.assert_frame_equal(al.X_.iloc[-6:], extra)
    proba = al.predict_proba(X)
    np.testing.assert_allclose(proba, al.estimator_.predict_proba(X))


def test_dataframe_simulation_with_eval_set():
    X, y = table(150)
    al = ActiveLearner(
        table_model(),
        query_strategy="bait",
        n_initial=10,
        batch_size=10,
        budget=40,
        random_state=0,
    ).fit(X.iloc[:100], y.iloc[:100], eval_set=(X.iloc[100:], y.iloc[100:]))
    assert all(np.isfinite(r["eval_score"]) for r in al.history_)
    assert al.score(X.iloc[100:], y.iloc[100:]) == al.history_[-1]["eval_score"]


def test_an_encoder_refusing_categories_not_labeled_yet_is_explained():
    # OneHotEncoder() refuses categories it was not fitted on, and the model is fitted on
    # the labeled rows only: queries and the eval score failed with scikit-learn's
    # "Found unknown categories", which says neither why nor what to change.
    frame, y = table()
    frame["shop"] = [f"s{i % 40}" for i in range(len(frame))]
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(), ["colour", "shop"]), ("num", StandardScaler(), ["size"])]
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=500))
    fix = r"labeled rows only.*handle_unknown='ignore'"
    y_partial = y.astype(object)
    y_partial.iloc[12:] = None
    learner = ActiveLearner(model, query_strategy="margin", random_state=0).fit(frame, y_partial)
    with pytest.raises(ValueError, match=fix):
        learner.query()
    simulation = ActiveLearner(model, n_initial=12, batch_size=4, budget=20, random_state=0)
    with pytest.raises(ValueError, match=fix):
        simulation.fit(frame.iloc[:80], y.iloc[:80], eval_set=(frame.iloc[80:], y.iloc[80:]))
    # With the fix the error names, the same learner queries.
    model.set_params(columntransformer__cat__handle_unknown="ignore")
    assert len(learner.set_params(estimator=model).fit(frame, y_partial).query()) == 10


def test_teach_rows_of_another_form_are_refused_and_change_nothing():
    X, y = table()
    y_partial = y.astype(object).copy()
    y_partial.iloc[25:] = None
    al = ActiveLearner(table_model(), query_strategy="random", random_state=0).fit(X, y_partial)
    state = pickle.dumps(al)
    with pytest.raises(TypeError, match="DataFrame"):
        al.teach(X.to_numpy()[:2], ["yes", "no"])
    with pytest.raises(ValueError, match="columns"):
        al.teach(X.rename(columns={"size": "length"}).iloc[:2], ["yes", "no"])
    assert pickle.dumps(al) == state


def test_teach_rows_whose_columns_are_shuffled_is_teaching_them_in_order():
    # A model that checks feature names refused a frame whose columns were merely in
    # another order.
    X, y = table()
    X = X[["size", "weight"]]
    y_partial = y.astype(object).copy()
    y_partial.iloc[25:] = None
    model = make_pipeline(StandardScaler(), LogisticRegression())
    in_order = ActiveLearner(model, query_strategy="random", random_state=0)
    in_order.fit(X.iloc[:-2], y_partial.iloc[:-2])
    shuffled = pickle.loads(pickle.dumps(in_order))
    new_rows = X.iloc[-2:]
    in_order.teach(new_rows, ["yes", "no"])
    shuffled.teach(new_rows[list(reversed(X.columns))], ["yes", "no"])
    pd.testing.assert_frame_equal(shuffled.X_, in_order.X_)
    np.testing.assert_array_equal(shuffled.predict(X), in_order.predict(X))


@pytest.mark.parametrize("categories", [["red"], ["red", "purple"]])
def test_new_rows_keep_a_categorical_column_categorical(categories):
    # A row built alone has its own categories; pandas would concatenate the column
    # as strings, which HistGradientBoosting (categories from the dtype) cannot fit.
    X, y = table()
    X["colour"] = X["colour"].astype("category")
    y_partial = y.astype(object).copy()
    y_partial.iloc[25:] = None
    model = HistGradientBoostingClassifier(max_iter=5, random_state=0)
    al = ActiveLearner(model, query_strategy="margin", random_state=0).fit(X, y_partial)
    new = X.iloc[:2].copy()
    new["colour"] = pd.Categorical(categories[:1] + categories[-1:])
    assert len(al.query(new, batch_size=1)) == 1
    al.teach(new, ["yes", "no"])
    assert isinstance(al.X_["colour"].dtype, pd.CategoricalDtype)
    assert set(categories) <= set(al.X_["colour"].cat.categories)
    assert al.X_["colour"].iloc[-1] == categories[-1]
    np.testing.assert_array_equal(al.X_["colour"].iloc[:120], X["colour"])
    assert al.history_[-1]["n_labeled"] == 27


# -------------------------------------------------------------------- NaN


def nan_data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    X[rng.rand(n, 4) < 0.15] = np.nan
    return X, y


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_nan_with_hist_gradient_boosting(strategy):
    X, y = nan_data()
    model = HistGradientBoostingClassifier(max_iter=15, random_state=0)
    al = ActiveLearner(
        model, query_strategy=strategy, n_initial=20, batch_size=10, budget=40, random_state=0
    )
    if strategy in EMBEDDING_READERS:
        # The model takes NaN, but its embedding (the input) cannot be finite.
        with pytest.raises(ValueError, match="SimpleImputer"):
            al.fit(X, y)
        imputed = make_pipeline(SimpleImputer(), model)
        al.set_params(estimator=imputed).fit(X, y)
    else:
        al.fit(X, y)
    assert len(al.labeled_indices_) == 40
    assert al.predict(X).shape == (120,)


@pytest.mark.parametrize("strategy", ["bait", "coreset", "logdet"])
def test_nan_with_a_regressor_is_advised_what_serves_a_regressor(strategy):
    # The advice for a model that takes NaN but leaves no finite embedding names the
    # strategies that read none; for a regressor that is random alone: margin, entropy
    # and confidence read class probabilities and refuse a regressor.
    X, y = nan_data()
    model = HistGradientBoostingRegressor(max_iter=15, random_state=0)
    al = ActiveLearner(
        model, query_strategy=strategy, n_initial=20, batch_size=10, budget=40, random_state=0
    )
    with pytest.raises(ValueError, match="SimpleImputer") as caught:
        al.fit(X, y.astype(float))
    message = str(caught.value)
    assert "'random'" in message and "margin, entropy, confidence" not in message, message
    for advised in ("margin", "entropy", "confidence"):
        with pytest.raises(TypeError, match="not a classifier"):
            al.set_params(query_strategy=advised).fit(X, y.astype(float))
    al.set_params(query_strategy="random").fit(X, y.astype(float))
    assert len(al.labeled_indices_) == 40
    classifier = HistGradientBoostingClassifier(max_iter=15, random_state=0)
    with pytest.raises(ValueError, match="margin, entropy, confidence"):
        al.set_params(estimator=classifier, query_strategy=strategy).fit(X, y)
    # One labeled class: the stand-in's rows, a classifier's, get the classifier's advice.
    single = ActiveLearner(
        LogisticRegression(), query_strategy=strategy, n_initial=1, batch_size=1, budget=2
    )
    with pytest.raises(ValueError, match="margin, entropy, confidence"):
        single.set_params(random_state=0).fit(np.array([[np.nan], [0.4]]), np.array([0, 0]))


def test_nan_tags_are_the_models():
    assert ActiveLearner(HistGradientBoostingClassifier()).__sklearn_tags__().input_tags.allow_nan
    assert not ActiveLearner(LogisticRegression()).__sklearn_tags__().input_tags.allow_nan
    text = make_pipeline(TfidfVectorizer(), LogisticRegression())
    assert ActiveLearner(text).__sklearn_tags__().input_tags.two_d_array == (
        text.__sklearn_tags__().input_tags.two_d_array
    )


def test_nan_rows_a_model_cannot_take_are_refused_by_teach():
    X, y = nan_data()
    X = np.nan_to_num(X)
    y_partial = y.astype(float)
    y_partial[30:] = np.nan
    al = ActiveLearner(LogisticRegression(), query_strategy="margin").fit(X, y_partial)
    state = pickle.dumps(al)
    with pytest.raises(ValueError, match="rejects the new rows.*NaN"):
        al.teach(np.full((1, 4), np.nan), [1])
    assert pickle.dumps(al) == state


# ----------------------------------------------------------------- sparse


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_sparse_pool(strategy):
    docs, y = corpus()
    X = TfidfVectorizer().fit_transform(docs).tocoo()  # COO cannot be indexed: kept as CSR
    al = ActiveLearner(
        LogisticRegression(max_iter=500),
        query_strategy=strategy,
        n_initial=12,
        batch_size=6,
        budget=30,
        random_state=0,
    ).fit(X, y)
    assert sp.issparse(al.X_) and al.X_.format == "csr"
    assert (X.tocsr() != al.X_).nnz == 0
    assert np.unique(al.labeled_indices_).size == 30
    # Real labeling on the same pool, then new sparse rows taught.
    y_partial = np.array(y, dtype=object)
    y_partial[20:] = None
    al = clone_real(al).fit(X, y_partial)
    idx = al.query()
    assert_valid_query(idx, X.shape[0], np.arange(20), 6)
    al.teach(X.tocsr()[idx], y[idx])
    assert sp.issparse(al.X_) and al.X_.shape[0] == X.shape[0] + 6


def clone_real(al):
    return ActiveLearner(
        LogisticRegression(max_iter=500),
        query_strategy=al.query_strategy,
        batch_size=al.batch_size,
        random_state=0,
    )


# ------------------------------------------------------------ class growth


def three_blobs(n=150, seed=0):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 3
    centres = np.array([[0.0, 3.0], [3.0, 0.0], [-3.0, -3.0]])
    return centres[y] + rng.normal(size=(n, 2)), y


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_teach_a_new_class_grows_classes(strategy):
    X, y = three_blobs()
    known = np.flatnonzero(y != 2)[:20]
    y_partial = np.full(len(y), np.nan)
    y_partial[known] = y[known]
    al = ActiveLearner(
        LogisticRegression(max_iter=500), query_strategy=strategy, batch_size=4, random_state=0
    ).fit(X, y_partial)
    np.testing.assert_array_equal(al.classes_, [0.0, 1.0])
    new = np.flatnonzero(y == 2)[:3]
    al.teach(y=y[new], indices=new)
    np.testing.assert_array_equal(al.classes_, [0.0, 1.0, 2.0])
    assert al.predict_proba(X).shape == (len(X), 3)
    # Every strategy handles the larger class count on the next query.
    idx = al.query()
    assert_valid_query(idx, len(X), al.labeled_indices_, 4)
    al.teach(y=y[idx], indices=idx)
    # The labels survive a pickle, class 2 included.
    restored = pickle.loads(pickle.dumps(al))
    np.testing.assert_array_equal(restored.y_[restored.labeled_indices_], y[al.labeled_indices_])


def test_declared_classes_keep_probability_columns_stable():
    X, y = three_blobs()
    y_partial = np.full(len(y), np.nan)
    y_partial[:20] = np.where(y[:20] == 2, np.nan, y[:20])
    al = ActiveLearner(
        LogisticRegression(max_iter=500), classes=[0, 1, 2], query_strategy="margin"
    ).fit(X, y_partial)
    np.testing.assert_array_equal(al.classes_, [0, 1, 2])
    before = al.predict_proba(X)
    assert before.shape == (len(X), 3)
    np.testing.assert_array_equal(before[:, 2], 0.0)
    np.testing.assert_array_equal(
        al.classes_[al.predict_proba(X).argmax(axis=1)], al.predict(X).astype(int)
    )
    new = np.flatnonzero(y == 2)[:3]
    al.teach(y=y[new], indices=new)
    assert al.predict_proba(X).shape == (len(X), 3)
    assert (al.predict_proba(X)[:, 2] > 0).all()
    state = pickle.dumps(al)
    with pytest.raises(ValueError, match=r"outside the declared classes \[0, 1, 2\]") as info:
        al.teach(y=[7], indices=[149])
    assert "np.int64" not in str(info.value)
    assert pickle.dumps(al) == state


def test_declared_classes_must_cover_the_labels():
    X, y = three_blobs()
    with pytest.raises(ValueError, match=r"labels \[2\] outside the declared classes"):
        ActiveLearner(LogisticRegression(), classes=[0, 1], query_strategy="random").fit(X, y)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_one_class_start_keeps_working_until_a_second_class(strategy):
    X, y = three_blobs()
    y_partial = np.full(len(y), np.nan)
    y_partial[np.flatnonzero(y == 0)[:5]] = 0
    al = ActiveLearner(
        LogisticRegression(max_iter=500), query_strategy=strategy, batch_size=3, random_state=0
    )
    # The label prints as the user wrote it, not as np.float64(0.0).
    with pytest.warns(UserWarning, match=r"hold a single class \(0\.0\)"):
        al.fit(X, y_partial)
    assert isinstance(al.estimator_, SingleClassModel)
    np.testing.assert_array_equal(al.predict(X[:4]), [0.0] * 4)
    np.testing.assert_array_equal(al.predict_proba(X[:4]), np.ones((4, 1)))
    # Round after round the annotator answers class 0, and the loop goes on.
    zeros = iter(np.flatnonzero(y == 0)[5:])
    for _ in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            idx = al.query()
            assert_valid_query(idx, len(X), al.labeled_indices_, 3)
            rows = [next(zeros) for _ in idx]
            al.teach(y=np.zeros(3), indices=rows)
        assert isinstance(al.estimator_, SingleClassModel)
    # A second class arrives: the real model is trained, no second fit needed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        idx = al.query()
    al.teach(y=[1.0], indices=[np.flatnonzero(y == 1)[0]])
    assert isinstance(al.estimator_, LogisticRegression)
    np.testing.assert_array_equal(al.classes_, [0.0, 1.0])
    assert len(al.labeled_indices_) == 5 + 9 + 1
    assert al.query().shape == (3,)


def test_one_class_bait_uses_the_rank_one_embedding_fisher():
    """BAIT's documented fallback, not random sampling: the regression-style design."""
    X, y = three_blobs()
    y_partial = np.full(len(y), np.nan)
    y_partial[np.flatnonzero(y == 0)[:5]] = 0
    al = ActiveLearner(LogisticRegression(), query_strategy="bait", batch_size=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        al.fit(X, y_partial)
        idx = al.query()
    expected = bait_select(X, None, al.labeled_indices_, 4)
    np.testing.assert_array_equal(idx, expected)


@pytest.mark.parametrize("measure", ["least_confident", "margin", "entropy"])
def test_one_class_uncertainty_draws_at_random_with_the_given_seed(measure):
    """Every row is equally certain: a seeded uniform draw, not the first rows."""
    X, _ = three_blobs()
    model = SingleClassModel(LogisticRegression()).fit(X[:5], np.zeros(5))
    labeled = np.arange(5)
    with pytest.warns(UserWarning, match="draws the batch at random"):
        idx = UncertaintySampling(measure).select(model, X, labeled, 6, random_state=4)
    expected = np.random.RandomState(4).choice(np.arange(5, len(X)), size=6, replace=False)
    np.testing.assert_array_equal(idx, expected)


def test_one_class_stand_in_embeds_through_the_pipeline():
    docs, y = corpus(40)
    y_partial = np.array([y[0]] + [None] * 39, dtype=object)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    with pytest.warns(UserWarning, match="single class"):
        al = ActiveLearner(model, query_strategy="coreset", random_state=0).fit(docs, y_partial)
    Z, _ = embed(al.estimator_, docs)
    vectorizer = TfidfVectorizer().fit(docs[:1])
    assert (vectorizer.transform(docs) != Z).nnz == 0


# --------------------------------------------------------- label markers


def test_minus_one_plus_one_labels_are_never_dropped():
    X, y = three_blobs()
    y = np.where(y == 0, -1, 1)
    al = ActiveLearner(LogisticRegression(), query_strategy="random").fit(X, y)
    assert len(al.labeled_indices_) == len(y)  # -1 is a class by default
    np.testing.assert_array_equal(al.classes_, [-1, 1])
    y_float = y.astype(float)
    y_float[100:] = np.nan
    al = ActiveLearner(LogisticRegression(), query_strategy="random").fit(X, y_float)
    np.testing.assert_array_equal(al.labeled_indices_, np.arange(100))
    np.testing.assert_array_equal(al.classes_, [-1.0, 1.0])


def test_explicit_missing_label_marker():
    X, y = three_blobs()
    y_marked = np.where(np.arange(len(y)) < 40, y, -1)
    al = ActiveLearner(LogisticRegression(), missing_label=-1, query_strategy="random")
    al.fit(X, y_marked)
    np.testing.assert_array_equal(al.labeled_indices_, np.arange(40))
    with pytest.raises(ValueError, match="missing labels"):
        al.teach(y=[-1], indices=[41])
    names = np.where(np.arange(len(y)) < 40, np.array(["a", "b", "c"])[y], "?")
    al = ActiveLearner(LogisticRegression(), missing_label="?", query_strategy="random")
    np.testing.assert_array_equal(al.fit(X, names).classes_, ["a", "b", "c"])


@pytest.mark.parametrize(
    "y_kind, params, match",
    [
        ("nan and -1", dict(missing_label=-1), "ambiguous"),
        ("ints", dict(missing_label="?"), "can never occur in y of dtype int64"),
        ("ints", dict(missing_label=-1, classes=[-1, 0, 1, 2]), "include the missing-label"),
    ],
)
def test_ambiguous_markers_are_errors(y_kind, params, match):
    X, y = three_blobs()
    if y_kind == "nan and -1":
        y = y.astype(float)
        y[:5] = np.nan
        y[5:10] = -1
    with pytest.raises(ValueError, match=match):
        ActiveLearner(LogisticRegression(), query_strategy="random", **params).fit(X, y)


def test_the_callers_label_array_can_be_reused_without_touching_the_learner():
    X, y = three_blobs()
    y_known = np.full(len(y), np.nan)
    y_known[:30] = y[:30]
    al = ActiveLearner(LogisticRegression(), query_strategy="random", random_state=0)
    al.fit(X, y_known)
    y_known[:30] = 2.0  # the caller rewrites their own array
    np.testing.assert_array_equal(al.y_[al.labeled_indices_], y[:30])


@pytest.mark.parametrize(
    "labels, classes",
    [([0, 1, 2], [0, 1, 2]), ([3, 17, 40], [3, 17, 40]), ([True, False, True], [False, True])],
)
def test_numbers_beside_none_are_labels_of_their_own_type(labels, classes):
    # y = [0, 1, None, ...] is an object array: once the Nones are dropped, its
    # numbers are the labels (scikit-learn refuses an object array of numbers).
    X, y = three_blobs()
    y_known = [labels[label] if i < 30 else None for i, label in enumerate(y)]
    al = ActiveLearner(LogisticRegression(), query_strategy="random", batch_size=3)
    al.fit(X, y_known)
    np.testing.assert_array_equal(al.classes_, classes)
    assert al.classes_.dtype == np.asarray(classes).dtype
    idx = al.query()
    al.teach(y=np.asarray(labels)[y[idx]], indices=idx)
    assert len(al.labeled_indices_) == 33
    assert al.predict(X[:2]).dtype == np.asarray(classes).dtype


@pytest.mark.parametrize(
    "blank, labels",
    [(np.nan, ["a", "b", "c"]), (None, [0, 1, 2]), (None, ["a", "b", "c"]), (np.nan, [0, 1, 2])],
)
def test_the_first_labels_after_a_cold_start_may_be_of_any_type(blank, labels):
    # Before the first label, y's dtype says nothing about the labels to come:
    # np.full(n, np.nan) (the guide's cold start) takes string labels too.
    X, y = three_blobs()
    y_blank = np.full(len(y), blank, dtype=float if blank is np.nan else object)
    al = ActiveLearner(LogisticRegression(), query_strategy="random", batch_size=6)
    al.fit(X, y_blank)
    idx = al.query()
    al.teach(y=np.asarray(labels)[y[idx]], indices=idx)
    np.testing.assert_array_equal(al.classes_, np.unique(np.asarray(labels)[y[idx]]))
    al.teach(X[:2], np.asarray(labels)[y[:2]])  # more of the same type
    assert len(al.labeled_indices_) == 8
    with pytest.raises(TypeError, match="cannot join"):
        al.teach(y=[1 if isinstance(labels[0], str) else "z"], indices=[100])


@pytest.mark.parametrize("action", ["teach indices", "teach rows", "correct"])
def test_a_number_among_string_labels_given_beside_none_is_refused(action):
    # Strings beside None are an object array; a number taught among them must be
    # refused up front, not stored to break this refit and every later one.
    X, y = three_blobs()
    names = np.array(["a", "b", "c"])[y].astype(object)
    names[30:] = None
    al = ActiveLearner(LogisticRegression(), query_strategy="random", batch_size=3)
    al.fit(X, names)
    with pytest.raises(TypeError, match="cannot join labels"):
        if action == "teach indices":
            al.teach(y=[1], indices=[40])
        elif action == "teach rows":
            al.teach(X[:1], [1])
        else:
            al.correct([0], [1])
    assert len(al.labeled_indices_) == 30 and al.y_[0] == names[0]
    idx = al.query()
    al.teach(y=np.array(["a", "b", "c"])[y[idx]], indices=idx)  # the loop goes on
    assert al.history_[-1]["n_labeled"] == 33


def _boolean_labels(form):
    """Two blobs labeled False/True, rows from 30 on unlabeled, in ``form``."""
    X, y = three_blobs()
    keep = y < 2
    flags = y[keep] == 1
    if form == "pandas boolean":
        labels = pd.Series(flags, dtype="boolean")
        labels.iloc[30:] = pd.NA
    else:
        labels = flags.astype(object)
        labels[30:] = None
    return X[keep], labels


@pytest.mark.parametrize("form", ["beside None", "pandas boolean"])
@pytest.mark.parametrize("label", [2, 1, 0, 1.0])
@pytest.mark.parametrize("action", ["teach indices", "teach rows", "correct"])
def test_a_number_among_boolean_labels_is_refused(form, label, action):
    """numpy merges booleans with numbers: a 2 (or a 1) taught among False/True turned
    the stored labels and classes_ into numbers, and True/False were read as 1/0."""
    X, labels = _boolean_labels(form)
    al = ActiveLearner(LogisticRegression(), query_strategy="random", batch_size=3)
    al.fit(X, labels)
    before = pickle.dumps(al)
    with pytest.raises(TypeError, match=r"cannot join labels.*booleans \(True/False\)"):
        if action == "teach indices":
            al.teach(y=[label], indices=[40])
        elif action == "teach rows":
            al.teach(X[:1], [label])
        else:
            al.correct([0], [label])
    assert pickle.dumps(al) == before
    al.teach(y=[bool(label)], indices=[40])  # a boolean joins them
    assert al.classes_.dtype == bool and al.classes_.tolist() == [False, True]
    assert al.predict(X[:5]).dtype == bool
    assert [type(v) for v in al.labeled_data()[1]] == [np.bool_] * 31


@pytest.mark.parametrize("label", [True, np.True_])
def test_a_boolean_among_integer_labels_is_refused(label):
    X, y = three_blobs()
    y = y.copy()
    y[30:] = -1
    al = ActiveLearner(LogisticRegression(), query_strategy="random", missing_label=-1)
    al.fit(X, y)
    with pytest.raises(TypeError, match="cannot join labels.*numbers"):
        al.teach(y=[label], indices=[40])
    al.teach(y=[1], indices=[40])
    assert al.classes_.tolist() == [0, 1, 2] and al.y_.dtype.kind == "i"


@pytest.mark.parametrize(
    "classes, wrong, right",
    [([False, True], [1, 0], [True, False]), ([0, 1], [True, False], [1, 0])],
)
def test_labels_of_another_kind_than_the_declared_classes_are_refused(classes, wrong, right):
    """Declared classes [False, True] took the labels 1 and 0 (np.isin finds 1 == True),
    stored as 1.0 and 0.0 beside classes_ of booleans."""
    X, _ = three_blobs()
    al = ActiveLearner(LogisticRegression(), query_strategy="random", classes=classes)
    al.fit(X, np.full(len(X), np.nan))
    kind = "booleans" if isinstance(classes[0], bool) else "numbers"
    with pytest.raises(TypeError, match=f"declared classes.*{kind}"):
        al.teach(y=wrong, indices=[0, 1])
    assert len(al.labeled_indices_) == 0
    with pytest.raises(TypeError, match=f"declared classes.*{kind}"):
        ActiveLearner(LogisticRegression(), classes=classes).fit(X[:2], wrong)
    al.teach(y=right, indices=[0, 1])
    assert al.classes_.tolist() == classes
    taught = al.labeled_data()[1]
    assert taught.tolist() == right and (taught.dtype == bool) == (classes[0] is False)


MIXED_LABELS = {
    "numbers and text": [1, "a", 2, "b"],
    "a number and its text": [1, "1", 2, "2"],
    "booleans and numbers": [True, 0, False, 1],
    "booleans and text": [True, "no", False, "yes"],
}


@pytest.mark.parametrize("mode", ["real labeling", "simulation"])
@pytest.mark.parametrize("labels", MIXED_LABELS.values(), ids=MIXED_LABELS)
def test_labels_that_mix_kinds_are_refused_in_fit_saying_which(labels, mode):
    # A spreadsheet column of 1, 2 and "3" is an object array: scikit-learn said "Unknown
    # label type: unknown ... continuous values", and True beside 1 (equal to numpy) was
    # silently one class.
    X, _ = three_blobs(n=40)
    y = np.array(labels * 10, dtype=object)
    if mode == "real labeling":
        y[20:] = None
    al = ActiveLearner(LogisticRegression(), query_strategy="random", n_initial=8, batch_size=4)
    if mode == "simulation":
        al.set_params(budget=16, random_state=0)
    with pytest.raises(TypeError, match="mix") as info:
        al.fit(X, y)
    message = str(info.value)
    assert "continuous" not in message and "astype(str)" in message
    found = message.split(";")[0]
    kinds = {"numbers": int, "text": str, "booleans": bool}
    named = [word for word in kinds if word in found]
    assert len(named) == 2
    for word in named:  # an example of each kind is shown
        example = next(v for v in labels if type(v) is kinds[word])
        assert repr(example) in found
    assert not hasattr(al, "pool_")


@pytest.mark.parametrize("labels", MIXED_LABELS.values(), ids=MIXED_LABELS)
def test_labels_taught_that_mix_kinds_are_refused_and_nothing_changes(labels):
    X, y = three_blobs(n=40)
    y_partial = np.where(np.arange(40) < 20, y, -1)
    al = ActiveLearner(LogisticRegression(), query_strategy="random", missing_label=-1)
    al.fit(X, y_partial)
    before = pickle.dumps(al)
    with pytest.raises(TypeError, match="mix"):
        al.teach(y=np.array(labels, dtype=object), indices=[20, 21, 22, 23])
    assert pickle.dumps(al) == before


def test_numbers_of_several_types_are_labels_of_one_kind():
    X, y = three_blobs(n=60)
    labels = np.array([1, 2.0, np.int64(3)], dtype=object)[y]
    labels[30:] = None
    al = ActiveLearner(LogisticRegression(), query_strategy="random").fit(X, labels)
    assert al.classes_.tolist() == [1, 2, 3]


def test_a_column_of_text_labels_is_one_label_a_row():
    # frame[["label"]].to_numpy() is an object column: each row was read as a label set
    # of one label, a multi-label target (that LogisticRegression refused, saying to wrap
    # it in OneVsRestClassifier), and None in it as "a label set holds None".
    X, y = table()
    X = X[["size", "weight"]].to_numpy()
    column = y.to_frame().to_numpy()
    assert column.dtype == object and column.shape == (len(y), 1)
    with pytest.warns(DataConversionWarning):
        al = ActiveLearner(LogisticRegression(), budget=30, random_state=0).fit(X, column)
    assert al.classes_.tolist() == ["no", "yes"] and al.predict(X[:4]).ndim == 1
    partial = column.copy()
    partial[20:] = None
    with pytest.warns(DataConversionWarning):
        al = ActiveLearner(LogisticRegression(), batch_size=4, random_state=0).fit(X, partial)
    idx = al.query()
    # teach takes labels one per row, and says how to get them from a column.
    with pytest.raises(ValueError, match=r"a column of labels, pass y.ravel\(\)"):
        al.teach(y=column[idx], indices=idx)
    al.teach(y=column[idx].ravel(), indices=idx)
    assert al.y_[idx].tolist() == y.to_numpy()[idx].tolist()
    assert len(al.labeled_indices_) == 24


def test_a_regressor_fitted_on_a_column_is_taught_a_column():
    # A skorch regressor wants y as a column; a scientist who fitted so and then teaches
    # one value per row is told the shape and the way to it.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = (X @ rng.normal(size=3)).reshape(-1, 1)
    partial = y.copy()
    partial[10:] = np.nan
    al = ActiveLearner(Ridge(), batch_size=3, random_state=0).fit(X, partial)
    idx = al.query()
    with pytest.raises(ValueError, match=r"fit took a column of labels, pass y.reshape\(-1, 1\)"):
        al.teach(y=y[idx].ravel(), indices=idx)
    assert len(al.labeled_indices_) == 10  # nothing taught
    al.teach(y=y[idx].ravel().reshape(-1, 1), indices=idx)
    assert al.y_[idx].tolist() == y[idx].tolist()


def test_missing_labels_in_a_pandas_nullable_series():
    X, y = three_blobs()
    y = pd.Series(y, dtype="Int64")
    y.iloc[50:] = pd.NA
    al = ActiveLearner(LogisticRegression(), query_strategy="random").fit(X, y)
    np.testing.assert_array_equal(al.labeled_indices_, np.arange(50))


@pytest.mark.parametrize("dtype, labels", [("Int64", [5, 6, 7]), ("boolean", [False, True, True])])
def test_a_pandas_nullable_series_keeps_its_labels_type(dtype, labels):
    # check_array reads a nullable column with NA as float64: True and 5 became
    # 1.0 and 5.0 in classes_ and predict, where [True, None] keeps booleans.
    X, y = three_blobs()
    labels = np.asarray(labels)
    y_known = pd.Series(labels[y], dtype=dtype)
    y_known.iloc[30:] = pd.NA
    al = ActiveLearner(LogisticRegression(), query_strategy="random", batch_size=3)
    al.fit(X, y_known)
    np.testing.assert_array_equal(al.classes_, np.unique(labels))
    assert al.classes_.dtype == labels.dtype
    idx = al.query()
    al.teach(y=pd.Series(labels[y[idx]], dtype=dtype), indices=idx)
    assert al.labeled_data()[1].dtype == labels.dtype
    assert al.predict(X[:2]).dtype == labels.dtype
    # Without NA too (check_array reads the column as float64 all the same).
    al = ActiveLearner(LogisticRegression(), query_strategy="random", budget=9, n_initial=6)
    al.fit(X, pd.Series(labels[y], dtype=dtype))
    assert al.classes_.dtype == labels.dtype


# ------------------------------------------------------ multi-label y


@pytest.mark.parametrize("budget", [None, 30])
def test_multilabel_and_multioutput_classification_are_clear_errors(budget):
    # Multi-label targets are learned (see test_multilabel_learner.py), by a model that
    # takes them; multi-output multiclass targets are refused.
    X, y = three_blobs()
    indicator = np.eye(3, dtype=int)[y]
    indicator[::4, 0] = 1  # some rows carry two labels
    al = ActiveLearner(LogisticRegression(), query_strategy="random", budget=budget)
    with pytest.raises(ValueError, match="Wrap a classifier of one label per row"):
        al.fit(X, indicator)
    al = ActiveLearner(LogisticRegression(), query_strategy="random", budget=budget)
    with pytest.raises(ValueError, match="multiclass.*one label per row") as info:
        al.fit(X, np.c_[y, y])
    assert "Multi-output multiclass classification is not supported" in str(info.value)


def test_multioutput_regression_is_supported():
    X, _ = three_blobs()
    Y = np.c_[X[:, 0] * 2, X[:, 1] - 1]
    al = ActiveLearner(
        Ridge(), query_strategy="bait", n_initial=10, batch_size=5, budget=30, random_state=0
    ).fit(X, Y)
    assert al.predict(X).shape == (len(X), 2)


# ---------------------------------------------------- regression labels


def test_teach_keeps_float_regression_labels_after_integer_y():
    X, _ = three_blobs()
    y_int = np.arange(len(X)) % 5
    al = ActiveLearner(Ridge(), query_strategy="random").fit(X[:30], y_int[:30])
    al.teach(X[30:32], [1.7, -0.25])
    np.testing.assert_array_equal(al.y_[-2:], [1.7, -0.25])
    reference = Ridge().fit(X[:32], np.r_[y_int[:30], 1.7, -0.25])
    np.testing.assert_allclose(al.estimator_.coef_, reference.coef_)


# ------------------------------------------------------ resume, any form


class InterruptOnce(RandomSampling):
    """Random sampling whose second query is interrupted, once per instance family."""

    calls = 0

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        InterruptOnce.calls += 1
        if InterruptOnce.calls == 2:
            raise KeyboardInterrupt
        return super()._select(estimator, X, labeled, batch_size, random_state, embedding)


@pytest.mark.parametrize("form", ["list", "frame"])
def test_interrupted_simulation_on_documents_or_a_frame_resumes_identically(form):
    if form == "list":
        X, y = corpus()
        model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=500))
    else:
        X, y = table()
        model = table_model()
    params = dict(n_initial=10, batch_size=5, budget=30, random_state=0)
    InterruptOnce.calls = 10  # disarmed
    reference = ActiveLearner(model, query_strategy=InterruptOnce(), **params).fit(X, y)
    InterruptOnce.calls = 0
    al = ActiveLearner(model, query_strategy=InterruptOnce(), **params)
    with pytest.raises(KeyboardInterrupt):
        al.fit(X, y)
    assert len(al.labeled_indices_) == 15
    al = pickle.loads(pickle.dumps(al)).resume(X, y)
    np.testing.assert_array_equal(al.labeled_indices_, reference.labeled_indices_)
    assert type(al.X_) is type(X)


def test_warm_start_survives_a_class_that_appears_later():
    """A warm model shaped for two classes cannot continue: the third class starts a clone."""
    from sklearn.linear_model import LogisticRegression

    from skbait import ActiveLearner

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = np.repeat([0, 1, 2], 20)
    X[:, 0] += y
    al = ActiveLearner(
        LogisticRegression(max_iter=200), warm_start=True, batch_size=2, random_state=0
    )
    y_known = np.full(60, np.nan)
    y_known[[0, 1, 20, 21]] = y[[0, 1, 20, 21]]
    al.fit(X, y_known)
    first = al.estimator_
    al.teach(y=y[[2, 22]], indices=[2, 22])
    assert al.estimator_ is first  # same classes: the warm model continues
    al.teach(y=y[[40, 41]], indices=[40, 41])
    assert list(al.classes_) == [0, 1, 2]
    assert al.estimator_ is not first
    assert al.estimator_.coef_.shape == (3, 3)
    assert al.estimator_.warm_start


@pytest.mark.parametrize("form", ["read-only array", "DataFrame"])
@pytest.mark.parametrize(
    "strategy", sorted(s for s in EMBEDDING_READERS if not s.startswith("multilabel"))
)
def test_a_read_only_pool_reaches_torch_as_a_writable_array(form, strategy, monkeypatch):
    """A pool torch may not write to (a read-only array, a pandas copy-on-write frame).

    torch warns, once per process, that a tensor of a read-only array is undefined
    behaviour; every array handed to it is checked here, since the warning is not
    repeated.
    """
    import torch

    handed = []
    for name in ("as_tensor", "from_numpy"):
        original = getattr(torch, name)

        def spy(data, *args, _original=original, **kwargs):
            if isinstance(data, np.ndarray) and not data.flags.writeable:
                handed.append(data.shape)
            return _original(data, *args, **kwargs)

        monkeypatch.setattr(torch, name, spy)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 4))
    y = np.where(X[:, 0] + X[:, 1] > 0, "pos", "neg").astype(object)
    y[20:] = None
    if form == "DataFrame":
        X = pd.DataFrame(X, columns=list("abcd"))
    else:
        X.setflags(write=False)
    al = ActiveLearner(LogisticRegression(), query_strategy=strategy, batch_size=5, random_state=0)
    al.fit(X, y)
    assert len(al.query()) == 5
    assert handed == []
