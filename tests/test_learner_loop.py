"""The Python loop's defects: teach before the first label, callbacks, eval_set, set_params."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skbait import ActiveLearner
from skbait.strategies import RandomSampling, UncertaintySampling


@pytest.fixture
def data():
    return make_classification(
        n_samples=200, n_features=5, n_informative=3, n_classes=3, random_state=0
    )


def _learner(**params):
    defaults = dict(query_strategy="margin", batch_size=5, random_state=0)
    return ActiveLearner(LogisticRegression(max_iter=500), **{**defaults, **params})


def _partial(y, n_known=30):
    y_known = y.astype(float)
    y_known[n_known:] = np.nan
    return y_known


def test_teach_new_rows_before_the_first_label(data):
    X, y = data
    al = _learner().fit(X[:150], np.full(150, np.nan))
    al.teach(X[150:170], y[150:170])
    np.testing.assert_array_equal(al.labeled_indices_, np.arange(150, 170))
    reference = LogisticRegression(max_iter=500).fit(X[150:170], y[150:170])
    np.testing.assert_allclose(al.estimator_.coef_, reference.coef_)
    assert [r["n_labeled"] for r in al.history_] == [0, 20]
    np.testing.assert_array_equal(al.history_[0]["indices"], np.arange(150, 170))


def test_teach_rows_the_first_model_rejects_before_the_first_label_adds_nothing(data):
    X, y = data
    al = _learner().fit(X[:150], np.full(150, np.nan))
    with pytest.raises(ValueError, match="3 features, but the pool has 5"):
        al.teach(X[150:170, :3], y[150:170])
    assert al.X_.shape == (150, 5) and len(al.labeled_indices_) == 0
    assert len(al.history_) == 1
    bad = X[150:170].copy()
    bad[0, 0] = np.nan  # LogisticRegression takes no NaN
    with pytest.raises(ValueError, match="none was added"):
        al.teach(bad, y[150:170])
    assert al.X_.shape == (150, 5) and len(al.labeled_indices_) == 0
    assert len(al.history_) == 1 and al.history_[0]["indices"].size == 0
    al.teach(X[150:170], y[150:170])  # and the learner goes on
    assert len(al.labeled_indices_) == 20


def test_stopping_callbacks_read_the_round_just_recorded(data):
    X, y = data
    seen = []

    def enough(learner):
        record = learner.history_[-1]
        seen.append((record["round"], record["n_labeled"]))
        return record["n_labeled"] >= 30

    al = _learner(n_initial=10, batch_size=10, budget=80, stopping=enough).fit(X, y)
    assert seen == [(0, 10), (1, 20), (2, 30)]
    assert [r["n_labeled"] for r in al.history_] == [10, 20, 30]
    assert [r["stop"] for r in al.history_] == [False, False, True]
    assert len(al.labeled_indices_) == 30


def test_a_failing_callback_leaves_no_half_record(data):
    X, y = data
    calls = []

    def flaky(learner):
        calls.append(len(learner.history_))
        if len(calls) == 2:
            raise RuntimeError("callback failed")
        return False

    al = _learner(stopping=flaky).fit(X, _partial(y))
    idx = al.query()
    with pytest.raises(RuntimeError, match="callback failed"):
        al.teach(y=y[idx], indices=idx)
    assert len(al.history_) == 1 and len(al.labeled_indices_) == 35  # labels kept


def test_eval_set_is_scored_after_teach(data):
    X, y = data
    al = _learner().fit(X[:150], _partial(y[:150]), eval_set=(X[150:], y[150:]))
    for _ in range(2):
        idx = al.query()
        al.teach(y=y[idx], indices=idx)
    al.teach(X[140:145] + 0.01, y[140:145])
    scores = [r["eval_score"] for r in al.history_]
    assert len(scores) == 4 and np.isfinite(scores).all()
    assert scores[-1] == al.score(X[150:], y[150:])
    # A new fit without eval_set forgets the old one.
    al.fit(X[:150], _partial(y[:150]))
    idx = al.query()
    al.teach(y=y[idx], indices=idx)
    assert np.isnan([r["eval_score"] for r in al.history_]).all()


@pytest.mark.parametrize(
    "params",
    [
        {"query_strategy": "random"},
        {"query_strategy": RandomSampling()},
        {"query_strategy": "margin", "query_strategy__measure": "entropy"},
    ],
)
def test_set_params_of_the_strategy_after_fit_takes_effect(data, params):
    X, y = data
    al = _learner(query_strategy="margin").fit(X, _partial(y))
    al.set_params(**params)
    expected = ActiveLearner(LogisticRegression(max_iter=500), random_state=0, batch_size=5)
    expected.set_params(**params).fit(X, _partial(y))
    assert type(al.query_strategy_) is type(expected.query_strategy_)
    assert al.query_strategy_.get_params() == expected.query_strategy_.get_params()
    np.testing.assert_array_equal(al.query(), expected.query())


def test_set_params_with_an_unknown_strategy_after_fit_changes_nothing(data):
    X, y = data
    al = _learner(query_strategy="margin").fit(X, _partial(y))
    with pytest.raises(ValueError, match="no_such"):
        al.set_params(query_strategy="no_such")
    assert al.query_strategy == "margin"
    assert isinstance(al.query_strategy_, UncertaintySampling)


def _texts(n=60, seed=0):
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(300)])
    docs = [" ".join(rng.choice(words, 5)) for _ in range(n)]
    y = np.array([int(any(w in {"w1", "w2", "w3"} for w in d.split())) for d in docs])
    y[:2] = [0, 1]
    return docs, y


def _text_learner(docs, y, model, strategy="bait"):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    model = model or make_pipeline(TfidfVectorizer(), LogisticRegression())
    y_known = np.full(len(y), np.nan)
    y_known[:8] = y[:8]
    return ActiveLearner(model, query_strategy=strategy, batch_size=4, random_state=0).fit(
        docs, y_known
    )


def test_a_vocabulary_growing_with_the_labels_is_warned_once_with_advice():
    import warnings

    from sklearn.feature_extraction.text import TfidfVectorizer

    docs, y = _texts()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to say before the width changes
        al = _text_learner(docs, y, None)
    rows = al.query()
    before = len(TfidfVectorizer().fit([docs[i] for i in range(8)]).vocabulary_)
    after = len(TfidfVectorizer().fit([docs[i] for i in [*range(8), *rows]]).vocabulary_)
    assert after > before
    with pytest.warns(UserWarning, match=rf"grew from {before} to {after} columns") as caught:
        al.teach(y=y[rows], indices=rows)
    assert "TruncatedSVD" in str(caught[0].message)
    rows = al.query()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per fit
        al.teach(y=y[rows], indices=rows)


@pytest.mark.parametrize("case", ["pool_representation", "margin", "mlp"])
def test_no_growth_warning_when_the_queries_do_not_slow_down(case):
    import warnings

    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline

    docs, y = _texts()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", Warning if case == "mlp" else DeprecationWarning)
        if case == "pool_representation":  # the advice: fitted once on the whole pool
            X = make_pipeline(TfidfVectorizer(), TruncatedSVD(20, random_state=0))
            X = X.fit_transform(docs)
            al = ActiveLearner(LogisticRegression(), batch_size=4, random_state=0)
            y_known = y.astype(float)
            y_known[8:] = np.nan
            al.fit(X, y_known)
        elif case == "margin":  # reads probabilities only
            al = _text_learner(docs, y, None, strategy="margin")
        else:  # the embedding is a hidden layer of fixed width
            mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
            al = _text_learner(docs, y, make_pipeline(TfidfVectorizer(), mlp))
        for _ in range(2):
            rows = al.query()
            al.teach(y=y[rows], indices=rows)
