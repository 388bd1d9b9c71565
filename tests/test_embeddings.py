"""Last-layer embeddings and probabilities for each model family."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC, LinearSVC

from skbait import ActiveLearner, QueryStrategy
from skbait.embeddings import (
    embed,
    embeds_input_features,
    predict_probabilities,
    register_embedding,
)


@pytest.fixture
def data():
    return make_classification(
        n_samples=80, n_features=5, n_informative=3, n_classes=3, random_state=0
    )


def test_linear_model_embedding_is_the_input(data):
    X, y = data
    Z, P = embed(LogisticRegression().fit(X, y), X)
    np.testing.assert_array_equal(Z, X)
    np.testing.assert_allclose(P, LogisticRegression().fit(X, y).predict_proba(X))


def test_regressor_has_no_probabilities(data):
    X, y = data
    Z, P = embed(Ridge().fit(X, y), X)
    assert P is None and Z.shape == X.shape


def test_other_estimators_use_input_features(data):
    X, y = data
    Z, _ = embed(KNeighborsRegressor().fit(X, y), X)
    np.testing.assert_array_equal(Z, X)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_mlp_embedding_matches_manual_forward_pass(data, activation):
    X, y = data
    mlp = MLPClassifier(
        hidden_layer_sizes=(7, 4), activation=activation, max_iter=50, random_state=0
    )
    with pytest.warns(Warning):  # not converged in 50 iterations: fine here
        mlp.fit(X, y)
    f = {
        "relu": lambda a: np.maximum(a, 0),
        "tanh": np.tanh,
        "identity": lambda a: a,
        "logistic": lambda a: 1 / (1 + np.exp(-a)),
    }[activation]
    hidden = f(f(X @ mlp.coefs_[0] + mlp.intercepts_[0]) @ mlp.coefs_[1] + mlp.intercepts_[1])
    Z, P = embed(mlp, X)
    np.testing.assert_allclose(Z, hidden)
    np.testing.assert_allclose(P, mlp.predict_proba(X))
    # The last layer maps the embedding to the output logits.
    logits = Z @ mlp.coefs_[-1] + mlp.intercepts_[-1]
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), P)


def test_mlp_regressor_embedding(data):
    X, y = data
    mlp = MLPRegressor(hidden_layer_sizes=(6,), max_iter=2000, random_state=0).fit(X, y)
    Z, P = embed(mlp, X)
    assert P is None
    np.testing.assert_allclose(Z @ mlp.coefs_[-1] + mlp.intercepts_[-1], mlp.predict(X)[:, None])


def test_transformed_target_regressor_embeds_through_its_regressor(data):
    # It transforms y only: its embedding is its regressor's (an MLP's hidden layer), where
    # it was the input features.
    X, y = data
    mlp = MLPRegressor(hidden_layer_sizes=(6,), max_iter=300, random_state=0)
    for regressor in (mlp, make_pipeline(StandardScaler(), mlp)):
        model = TransformedTargetRegressor(regressor=regressor, transformer=StandardScaler())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # not converged: fine here
            model.fit(X, y)
        Z, P = embed(model, X)
        assert P is None and Z.shape == (len(X), 6)
        np.testing.assert_array_equal(Z, embed(model.regressor_, X)[0])
        assert not embeds_input_features(model)
    ridge = TransformedTargetRegressor(regressor=Ridge(), func=np.exp, inverse_func=np.log)
    assert embeds_input_features(ridge) and embeds_input_features(TransformedTargetRegressor())
    np.testing.assert_array_equal(embed(ridge.fit(X, np.abs(y) + 1), X)[0], X)


def test_pipeline_transforms_then_applies_final_rule(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), PCA(3), LogisticRegression()).fit(X, y)
    Z, P = embed(pipe, X)
    np.testing.assert_allclose(Z, pipe[:-1].transform(X))
    np.testing.assert_allclose(P, pipe.predict_proba(X))
    mlp_pipe = make_pipeline(StandardScaler(), MLPClassifier((4,), max_iter=300, random_state=0))
    with pytest.warns(Warning):
        mlp_pipe.fit(X, y)
    Z, _ = embed(mlp_pipe, X)
    np.testing.assert_allclose(Z, embed(mlp_pipe[-1], mlp_pipe[0].transform(X))[0])


def test_user_callable_overrides(data):
    X, y = data
    model = LogisticRegression().fit(X, y)
    Z, P = embed(model, X, embedding=lambda est, rows: rows[:, :2] * 2)
    np.testing.assert_allclose(Z, X[:, :2] * 2)
    np.testing.assert_allclose(P, model.predict_proba(X))


def test_registration_dispatches_on_type_and_newest_wins(data):
    X, y = data

    class Tagged(Ridge):
        pass

    register_embedding(Tagged, lambda est, rows, proba: (np.ones((len(rows), 1)), None))
    register_embedding(
        lambda est: isinstance(est, Tagged) and est.alpha == 2.0,
        lambda est, rows, proba: (np.zeros((len(rows), 1)), None),
    )
    np.testing.assert_array_equal(embed(Tagged().fit(X, y), X)[0], 1.0)
    np.testing.assert_array_equal(embed(Tagged(alpha=2.0).fit(X, y), X)[0], 0.0)
    with pytest.raises(TypeError, match="matcher"):
        register_embedding(42, lambda *a: None)


def test_decision_function_fallback_gives_probabilities(data):
    X, y = data
    svc = LinearSVC().fit(X, y)
    P = predict_probabilities(svc, X)
    scores = svc.decision_function(X)
    expected = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    np.testing.assert_allclose(P, expected)
    binary = LinearSVC().fit(X, y == 0)
    Pb = predict_probabilities(binary, X)
    np.testing.assert_allclose(Pb[:, 1], 1 / (1 + np.exp(-binary.decision_function(X))))


@pytest.mark.parametrize("n_classes", [3, 4])
def test_a_one_vs_one_svc_gets_per_class_probabilities(n_classes):
    # Its decision function scores class pairs: with three classes the pair scores were
    # softmaxed as if they were the classes' (an argmax unrelated to predict), with four
    # they were six columns for four classes (an IndexError).
    X, y = make_classification(
        n_samples=150, n_features=6, n_informative=4, n_classes=n_classes, random_state=0
    )
    ovo = make_pipeline(StandardScaler(), SVC(decision_function_shape="ovo")).fit(X, y)
    ovr = make_pipeline(StandardScaler(), SVC(decision_function_shape="ovr")).fit(X, y)
    P = predict_probabilities(ovo, X)
    np.testing.assert_allclose(P, predict_probabilities(ovr, X))
    assert P.shape == (150, n_classes)
    np.testing.assert_array_equal(ovo.classes_[P.argmax(axis=1)], ovo.predict(X))
    search = GridSearchCV(SVC(decision_function_shape="ovo"), {"C": [1.0]}, cv=2).fit(X, y)
    P_search = embed(search, X)[1]
    np.testing.assert_array_equal(search.classes_[P_search.argmax(axis=1)], search.predict(X))


def test_a_decision_function_of_another_width_than_the_classes_is_named(data):
    # Two scores for three classes: an IndexError deep in a strategy, or worse, none.
    X, y = data

    class PairScores(LogisticRegression):
        predict_proba = property()  # hidden, as available_if hides it

        def decision_function(self, X):
            return super().decision_function(X)[:, :2]

    model = PairScores().fit(X, y)
    with pytest.raises(ValueError, match="gave 2 scores a row for its 3 classes"):
        predict_probabilities(model, X)


class NoProba(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


def test_errors_are_clear(data):
    X, y = data
    with pytest.raises(TypeError, match="neither predict_proba nor decision_function"):
        predict_probabilities(NoProba().fit(X, y), X)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="NaN or inf"):
        embed(model, X, embedding=lambda est, rows: np.full((len(rows), 2), np.nan))
    with pytest.raises(ValueError, match="2-d"):
        embed(model, X, embedding=lambda est, rows: np.zeros((len(rows), 2, 2)))


@pytest.mark.parametrize("n_rows", [3, 120])
@pytest.mark.parametrize("strategy", ["bait", "badge", "coreset", "logdet"])
def test_embedding_of_another_row_count_is_named(data, strategy, n_rows):
    # It blamed the probabilities or the labeled mask, neither of which the user gave.
    X, y = data
    y_known = np.where(np.arange(len(y)) < 20, y, np.nan)
    al = ActiveLearner(
        LogisticRegression(),
        query_strategy=strategy,
        embedding=lambda est, rows: np.ones((n_rows, 2)),
        random_state=0,
    ).fit(X, y_known)
    with pytest.raises(ValueError, match=f"embedding returned {n_rows} rows for the 80 rows"):
        al.query()


def test_learner_passes_its_embedding_to_the_strategy(data):
    X, y = data
    seen = []

    class Spy(QueryStrategy):
        def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
            seen.append(embed(estimator, X, embedding=embedding)[0])
            return np.flatnonzero(~labeled)[:batch_size], None

    ActiveLearner(
        LogisticRegression(),
        query_strategy=Spy(),
        embedding=lambda est, r: r[:, :2],
        n_initial=10,
        batch_size=5,
        budget=20,
        random_state=0,
    ).fit(X, y)
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[0], X[:, :2])


# ------------------------------------------------ any form the model takes


def test_sparse_input_stays_sparse(data):
    X, y = data
    X_sparse = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
    Z, P = embed(LogisticRegression().fit(X_sparse, y), X_sparse.tocoo())
    assert sp.issparse(Z) and Z.format == "csr" and Z.dtype == np.float64
    assert (X_sparse != Z).nnz == 0
    assert P.shape == (80, 3)
    Z32, _ = embed(LogisticRegression().fit(X_sparse, y), X_sparse.astype(np.float32))
    assert sp.issparse(Z32) and Z32.dtype == np.float32


def test_sparse_embedding_with_nan_names_the_rows(data):
    X, y = data
    model = LogisticRegression().fit(X, y)
    bad = sp.csr_matrix(np.eye(80, 4))
    bad.data[2] = np.nan
    with pytest.raises(ValueError, match="1 row\\(s\\) holds NaN or inf \\(first at row 2\\)"):
        embed(model, X, embedding=lambda est, rows: bad)


def test_pipeline_embedding_is_the_last_steps_input_for_text_and_frames():
    docs = ["red apple", "green apple", "red car", "fast car", "green leaf", "fast red car"]
    y = [0, 0, 1, 1, 0, 1]
    text = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(docs, y)
    Z, _ = embed(text, docs)
    assert sp.issparse(Z) and (text[0].transform(docs) != Z).nnz == 0
    frame = pd.DataFrame(
        {
            "colour": ["red", "green", "red", "blue", "green", "red"],
            "size": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    encode = ColumnTransformer(
        [("c", OneHotEncoder(sparse_output=False), ["colour"]), ("n", "passthrough", ["size"])]
    )
    tabular = make_pipeline(encode, LogisticRegression()).fit(frame, y)
    Z, _ = embed(tabular, frame)
    np.testing.assert_array_equal(Z, tabular[0].transform(frame))


def test_nan_input_features_give_a_clear_error(data):
    X, y = data
    X = X.copy()
    X[4, 1] = np.nan
    model = HistGradientBoostingClassifier(max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="put an imputer before it"):
        embed(model, X)


def test_categorical_input_features_give_a_clear_error():
    # HistGradientBoosting takes a DataFrame's categorical columns itself; its input
    # is then no numeric embedding, and the default strategy must say what to do.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {"size": rng.normal(size=60), "colour": pd.Categorical(rng.choice(["r", "g"], 60))}
    )
    y = (frame["size"] > 0).to_numpy().astype(int)
    al = ActiveLearner(HistGradientBoostingClassifier(max_iter=5), budget=30, random_state=0)
    with pytest.raises(ValueError, match="not a numeric.*OneHotEncoder.*margin") as info:
        al.fit(frame, y)
    assert "could not convert string to float" in str(info.value)


def _tfidf_mlp_campaign(n_docs=80, seed=0):
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(60)])
    docs = [" ".join(rng.choice(words, 6)) for _ in range(n_docs)]
    y = np.array([int("w1" in d.split() or "w2" in d.split()) for d in docs])
    return docs, y


def test_mlp_hidden_layer_of_sparse_tfidf_rows_matches_the_dense_computation():
    docs, y = _tfidf_mlp_campaign()
    pipe = make_pipeline(
        TfidfVectorizer(), MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, random_state=0)
    )
    with pytest.warns(Warning):  # not converged: fine here
        pipe.fit(docs, y)
    Z, P = embed(pipe, docs)
    rows = pipe[0].transform(docs)
    assert sp.issparse(rows)
    mlp = pipe[-1]
    dense = np.maximum(rows.toarray() @ mlp.coefs_[0] + mlp.intercepts_[0], 0.0)
    assert not sp.issparse(Z) and Z.shape == dense.shape
    np.testing.assert_allclose(Z, dense, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(P, pipe.predict_proba(docs))


@pytest.mark.parametrize("strategy", ["bait", "badge", "coreset"])
def test_strategies_query_a_tfidf_mlp_pipeline(strategy):
    docs, y = _tfidf_mlp_campaign()
    y_known = np.full(len(docs), np.nan)
    y_known[:16] = y[:16]
    y_known[:2] = [0, 1]
    pipe = make_pipeline(
        TfidfVectorizer(), MLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged: fine here
        al = ActiveLearner(pipe, query_strategy=strategy, batch_size=4, random_state=0)
        idx = al.fit(docs, y_known).query()
    assert len(set(idx.tolist())) == 4 and not np.isin(idx, al.labeled_indices_).any()


def test_a_search_embeds_as_the_model_it_refitted(data):
    # A GridSearchCV was read by its raw input: a search over a pipeline with a string
    # column was refused as if the column were never encoded, and one over an MLP was
    # embedded by its input features instead of its hidden layer.
    X, y = data
    frame = pd.DataFrame(X, columns=list("abcde")).assign(colour=np.array(["r", "g"])[y % 2])
    encode = ColumnTransformer([("oh", OneHotEncoder(), ["colour"])], remainder="passthrough")
    search = GridSearchCV(
        make_pipeline(encode, LogisticRegression(max_iter=500)),
        {"logisticregression__C": [0.1, 1.0]},
        cv=2,
    ).fit(frame, y)
    Z, P = embed(search, frame)
    Z_best, _ = embed(search.best_estimator_, frame)
    np.testing.assert_array_equal(Z, Z_best)
    np.testing.assert_allclose(P, search.predict_proba(frame), rtol=1e-12)
    assert Z.shape == (len(X), 7)  # two one-hot columns and the five numbers

    mlp = GridSearchCV(MLPClassifier((4,), max_iter=50, random_state=0), {"alpha": [1e-4]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the MLP's convergence warning
        mlp.fit(X, y)
    np.testing.assert_array_equal(embed(mlp, X)[0], embed(mlp.best_estimator_, X)[0])
    assert embed(mlp, X)[0].shape == (len(X), 4)
    # A search over a linear model still embeds its input features (BAIT standardises them).
    assert embeds_input_features(GridSearchCV(LogisticRegression(), {"C": [1.0]}))
    assert not embeds_input_features(GridSearchCV(MLPClassifier(), {"alpha": [1e-4]}))

    learner = ActiveLearner(
        GridSearchCV(
            make_pipeline(encode, LogisticRegression(max_iter=500)),
            {"logisticregression__C": [0.1, 1.0]},
            cv=2,
        ),
        query_strategy="bait",
        n_initial=20,
        batch_size=5,
        budget=30,
        random_state=0,
    ).fit(frame, y)
    assert len(np.unique(learner.labeled_indices_)) == 30


def test_a_pipeline_inside_a_meta_estimator_gets_the_fix_that_applies():
    # CalibratedClassifierCV(make_pipeline(encode, LinearSVC())) was told to encode its
    # string column in a Pipeline before the model, which it already did.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"size": rng.normal(size=60), "colour": rng.choice(["r", "g"], 60)})
    y = (frame["size"] > 0).to_numpy().astype(int)
    encode = ColumnTransformer([("oh", OneHotEncoder(), ["colour"])], remainder="passthrough")
    calibrated = CalibratedClassifierCV(make_pipeline(encode, LinearSVC()), cv=3)
    al = ActiveLearner(calibrated, query_strategy="bait", n_initial=20, budget=30, random_state=0)
    with pytest.raises(ValueError, match="not a numeric") as info:
        al.fit(frame, y)
    message = str(info.value)
    assert "wraps a Pipeline" in message and "encode them in a Pipeline" not in message
    assert "make_pipeline(ColumnTransformer, CalibratedClassifierCV(LinearSVC()))" in message
    # The fix it names works.
    outer = make_pipeline(encode, CalibratedClassifierCV(LinearSVC(), cv=3))
    al = ActiveLearner(outer, query_strategy="bait", n_initial=20, budget=30, random_state=0)
    al.fit(frame, y)
    assert len(np.unique(al.labeled_indices_)) == 30
