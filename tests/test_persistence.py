"""Interruption and persistence: no revealed or taught label is ever lost.

- A KeyboardInterrupt or an exception in the wrapped estimator's fit (or in
  the strategy's query) at any round of a simulated loop leaves a learner that
  holds every label revealed so far, with a consistent ``history_``; pickled
  and resumed, it makes exactly the selections of an uninterrupted run.
- A real-labeling learner pickled at any round continues identically.
- ``teach`` with bad labels, and ``fit`` with bad inputs, are rejected
  without changing any state.
"""

import itertools
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skbait import ActiveLearner
from skbait.base import QueryStrategy
from skbait.strategies import make_strategy

pytestmark = pytest.mark.filterwarnings("ignore")

STRATEGIES = ["random", "margin", "bait", "badge", "coreset", "logdet"]

X_POOL, Y_POOL = make_classification(
    n_samples=80, n_features=4, n_informative=3, n_redundant=0, n_classes=3, random_state=0
)

# Calls counted per run (keyed by a token), so that clones share the count.
_CALLS = {}
_TOKENS = itertools.count()


class Crashing(ClassifierMixin, BaseEstimator):
    """A logistic regression whose ``fail_at``-th fit (0-based) raises ``error``, once."""

    def __init__(self, token=None, fail_at=-1, error=RuntimeError):
        self.token = token
        self.fail_at = fail_at
        self.error = error

    def fit(self, X, y):
        calls = _CALLS.setdefault(("fit", self.token), [0])
        calls[0] += 1
        if calls[0] - 1 == self.fail_at:
            raise self.error("the labeler's model crashed")
        self.model_ = LogisticRegression(max_iter=300).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


class CrashingStrategy(QueryStrategy):
    """Wraps a strategy; its ``fail_at``-th query raises ``error``, once."""

    def __init__(self, inner="random", token=None, fail_at=-1, error=KeyboardInterrupt):
        self.inner = inner
        self.token = token
        self.fail_at = fail_at
        self.error = error

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        calls = _CALLS.setdefault(("query", self.token), [0])
        calls[0] += 1
        if calls[0] - 1 == self.fail_at:
            raise self.error("interrupted in the middle of a query")
        inner = make_strategy(self.inner)
        if "device" in inner.get_params():
            inner.set_params(device="cpu")
        return inner.select(
            estimator,
            X,
            labeled,
            batch_size,
            random_state=random_state,
            embedding=embedding,
            return_utilities=True,
        )


def assert_consistent(al):
    lab = al.labeled_indices_
    assert np.unique(lab).size == lab.size
    assert [r["round"] for r in al.history_] == list(range(len(al.history_)))
    for before, after in zip(al.history_, al.history_[1:]):
        assert after["n_labeled"] == before["n_labeled"] + len(before["indices"])
    for record in al.history_:
        chosen = record["indices"]
        start = record["n_labeled"]
        if start + len(chosen) <= lab.size:
            np.testing.assert_array_equal(lab[start : start + len(chosen)], chosen)
    # The labels of every labeled row are the oracle's: none lost, none altered.
    np.testing.assert_array_equal(al.y_[lab], Y_POOL[lab])


def simulation(estimator, strategy, seed, **params):
    # 4 fits and 3 queries: rounds 0-3 can be interrupted.
    defaults = dict(n_initial=8, batch_size=6, budget=26, random_state=seed)
    defaults.update(params)
    return ActiveLearner(estimator, query_strategy=strategy, **defaults)


def _reference(strategy, seed):
    token = next(_TOKENS)
    return simulation(Crashing(token), CrashingStrategy(strategy, token), seed).fit(
        X_POOL, Y_POOL, eval_set=(X_POOL, Y_POOL)
    )


_REFERENCES = {}


def reference(strategy, seed):
    if (strategy, seed) not in _REFERENCES:
        _REFERENCES[strategy, seed] = _reference(strategy, seed)
    return _REFERENCES[strategy, seed]


# Each case runs two loops: half the profile's cases keep CI within its budget.
@settings(max_examples=max(10, settings.default.max_examples // 2))
@given(
    strategy=st.sampled_from(STRATEGIES),
    seed=st.integers(0, 2),
    where=st.sampled_from(["fit", "query"]),
    fail_at=st.integers(0, 3),
    error=st.sampled_from([KeyboardInterrupt, RuntimeError, MemoryError]),
    via_pickle=st.booleans(),
    eval_on_resume=st.booleans(),
)
def test_interrupted_simulation_resumes_identically(
    strategy, seed, where, fail_at, error, via_pickle, eval_on_resume
):
    """Interrupt at any fit or query of the loop; nothing is lost, resume is exact."""
    expected = reference(strategy, seed)
    token = next(_TOKENS)
    if where == "query":
        fail_at = min(fail_at, 2)
    fit_fail = fail_at if where == "fit" else -1
    query_fail = fail_at if where == "query" else -1
    al = simulation(
        Crashing(token, fit_fail, error),
        CrashingStrategy(strategy, token, query_fail, error),
        seed,
    )
    with pytest.raises(error):
        al.fit(X_POOL, Y_POOL, eval_set=(X_POOL, Y_POOL))
    event(f"interrupted in {where}")
    n_held = len(al.labeled_indices_)
    note(f"held {n_held} labels, {len(al.history_)} history records")
    # Every revealed label is held, in the order of the uninterrupted run.
    np.testing.assert_array_equal(al.labeled_indices_, expected.labeled_indices_[:n_held])
    assert_consistent(al)
    # The fitted model is the last one that succeeded, and matches its record.
    if al.history_:
        assert hasattr(al, "estimator_")
        last = al.history_[-1]
        assert last["n_labeled"] in (n_held, n_held - len(last["indices"]))
    if via_pickle:
        al = pickle.loads(pickle.dumps(al))
    al.resume(X_POOL, Y_POOL, eval_set=(X_POOL, Y_POOL) if eval_on_resume else None)
    np.testing.assert_array_equal(al.labeled_indices_, expected.labeled_indices_)
    assert [r["n_labeled"] for r in al.history_] == [r["n_labeled"] for r in expected.history_]
    for got, want in zip(al.history_, expected.history_):
        np.testing.assert_array_equal(got["indices"], want["indices"])
    assert_consistent(al)
    np.testing.assert_allclose(al.predict_proba(X_POOL), expected.predict_proba(X_POOL))


def test_interrupt_twice_then_resume():
    """Two interrupts in a row (fit, then the query of the resumed run) lose nothing."""
    expected = reference("bait", 0)
    token = next(_TOKENS)
    al = simulation(
        Crashing(token, 2, KeyboardInterrupt),
        CrashingStrategy("bait", token, 2, KeyboardInterrupt),
        0,
    )
    with pytest.raises(KeyboardInterrupt):
        al.fit(X_POOL, Y_POOL)
    with pytest.raises(KeyboardInterrupt):
        al.resume(X_POOL, Y_POOL)
    assert_consistent(al)
    al = pickle.loads(pickle.dumps(al)).resume(X_POOL, Y_POOL)
    np.testing.assert_array_equal(al.labeled_indices_, expected.labeled_indices_)


def real_learner(strategy, seed=0):
    s = make_strategy(strategy)
    if "device" in s.get_params():
        s.set_params(device="cpu")
    return ActiveLearner(
        LogisticRegression(max_iter=300), query_strategy=s, batch_size=4, random_state=seed
    )


def partial():
    y = Y_POOL.astype(float)
    y[12:] = np.nan  # the missing-label marker
    return y


@settings(max_examples=max(10, settings.default.max_examples // 2))
@given(strategy=st.sampled_from(STRATEGIES), rounds=st.integers(0, 3), seed=st.integers(0, 3))
def test_real_labeling_pickled_at_any_round_continues_identically(strategy, rounds, seed):
    a = real_learner(strategy, seed).fit(X_POOL, partial())
    for _ in range(rounds):
        idx = a.query()
        a.teach(y=Y_POOL[idx], indices=idx)
    b = pickle.loads(pickle.dumps(a))
    for _ in range(2):
        ia, ib = a.query(), b.query()
        np.testing.assert_array_equal(ia, ib)
        a.teach(y=Y_POOL[ia], indices=ia)
        b.teach(y=Y_POOL[ib], indices=ib)
    np.testing.assert_array_equal(a.labeled_indices_, b.labeled_indices_)
    assert len(b.labeled_indices_) == 12 + 4 * (rounds + 2)
    np.testing.assert_array_equal(b.y_[b.labeled_indices_], Y_POOL[b.labeled_indices_])


def test_failed_teach_refit_keeps_labels_then_pickle_resumes():
    """A refit that raises in teach keeps the taught labels, across a pickle too."""
    token = next(_TOKENS)
    al = ActiveLearner(
        Crashing(token, fail_at=1, error=KeyboardInterrupt),
        query_strategy="bait",
        batch_size=4,
        random_state=0,
    )
    al.fit(X_POOL, partial())
    idx = al.query()
    with pytest.raises(KeyboardInterrupt):
        al.teach(y=Y_POOL[idx], indices=idx)
    al = pickle.loads(pickle.dumps(al))
    assert np.isin(idx, al.labeled_indices_).all()
    np.testing.assert_array_equal(al.y_[idx], Y_POOL[idx])
    nxt = al.query()
    assert not np.isin(nxt, al.labeled_indices_).any()
    al.teach(y=Y_POOL[nxt], indices=nxt)
    assert al.history_[-1]["n_labeled"] == 20


def _pipeline_learner():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    names = np.array(["cat", "dog", "eel"], dtype=object)
    y = names[Y_POOL].copy()
    y[12:] = None  # string classes, missing labels
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    return ActiveLearner(model, query_strategy="bait", batch_size=4, random_state=0), y, names


def _multilabel_learner():
    from sklearn.multiclass import OneVsRestClassifier

    Y = np.column_stack([Y_POOL == 0, Y_POOL == 1, X_POOL[:, 0] > 0]).astype(float)
    y = Y.copy()
    y[12:] = np.nan
    model = OneVsRestClassifier(LogisticRegression(max_iter=300))
    return ActiveLearner(model, query_strategy="bait", batch_size=4, random_state=0), y, Y


@pytest.mark.parametrize("store", ["pickle", "joblib"])
@pytest.mark.parametrize("kind", ["pipeline, string classes", "multi-label"])
def test_a_stored_learner_mid_loop_keeps_labels_and_queries_as_the_original(tmp_path, kind, store):
    """Stored after some teach calls (a pipeline with string classes and missing labels,
    or a multi-label y), the learner keeps labels and classes_, and queries as it would."""
    import joblib

    if kind == "multi-label":
        al, y, oracle = _multilabel_learner()
        answer = lambda rows: oracle[rows]  # noqa: E731
    else:
        al, y, names = _pipeline_learner()
        answer = lambda rows: names[Y_POOL[rows]]  # noqa: E731
    al.fit(X_POOL, y)
    for _ in range(2):
        idx = al.query()
        al.teach(y=answer(idx), indices=idx)
    if store == "pickle":
        twin = pickle.loads(pickle.dumps(al))
    else:
        twin = joblib.load(joblib.dump(al, tmp_path / "al.joblib")[0])
    np.testing.assert_array_equal(twin.classes_, al.classes_)
    np.testing.assert_array_equal(twin.labeled_indices_, al.labeled_indices_)
    lab = al.labeled_indices_
    np.testing.assert_array_equal(twin.y_[lab], al.y_[lab])
    np.testing.assert_array_equal(twin.query(), al.query())
    np.testing.assert_allclose(twin.predict_proba(X_POOL), al.predict_proba(X_POOL))


def snapshot(al):
    return (
        al.labeled_indices_.copy(),
        al.y_.copy(),
        al.X_.shape,
        len(al.history_),
        al.estimator_,
        al.n_features_in_,
        pickle.dumps(al),
    )


def assert_unchanged(al, snap):
    lab, y, shape, n_hist, est, n_feat, blob = snap
    np.testing.assert_array_equal(al.labeled_indices_, lab)
    np.testing.assert_array_equal(al.y_, y)
    assert al.X_.shape == shape and len(al.history_) == n_hist
    assert al.estimator_ is est and al.n_features_in_ == n_feat
    assert pickle.dumps(al) == blob


# New classes are welcome (the refit grows classes_), so an unseen label is
# not on this list; see test_data_forms.py.
BAD_TEACH = {
    "string class": lambda idx: dict(y=np.array(["a"] * len(idx)), indices=idx),
    "too many labels": lambda idx: dict(y=np.r_[Y_POOL[idx], 0], indices=idx),
    "too few labels": lambda idx: dict(y=Y_POOL[idx[:-1]], indices=idx),
    "2-d labels": lambda idx: dict(y=Y_POOL[idx][:, None], indices=idx),
    "NaN label": lambda idx: dict(y=np.r_[Y_POOL[idx[:-1]], np.nan], indices=idx),
    "scalar label": lambda idx: dict(y=0, indices=idx[:1]),
    "labeled row": lambda idx: dict(y=Y_POOL[:2], indices=np.arange(2)),
    "repeated row": lambda idx: dict(y=Y_POOL[[idx[0], idx[0]]], indices=idx[[0, 0]]),
    "out of range": lambda idx: dict(y=[0], indices=[10**6]),
    "float indices": lambda idx: dict(y=Y_POOL[idx], indices=idx.astype(float)),
    "rows: wrong length": lambda idx: dict(X=X_POOL[idx], y=Y_POOL[idx[:-1]]),
    "rows: wrong width": lambda idx: dict(X=X_POOL[idx][:, :2], y=Y_POOL[idx]),
    "rows: NaN": lambda idx: dict(X=np.full((1, 4), np.nan), y=[0]),
    "both X and indices": lambda idx: dict(X=X_POOL[idx], y=Y_POOL[idx], indices=idx),
    "no labels": lambda idx: dict(indices=idx),
}


@given(
    kind=st.sampled_from(sorted(BAD_TEACH)),
    strategy=st.sampled_from(["margin", "bait"]),
    rounds=st.integers(0, 2),
)
def test_bad_teach_is_rejected_without_changing_state(kind, strategy, rounds):
    al = real_learner(strategy).fit(X_POOL, partial())
    for _ in range(rounds):
        idx = al.query()
        al.teach(y=Y_POOL[idx], indices=idx)
    idx = al.query()
    snap = snapshot(al)
    with pytest.raises((ValueError, TypeError)) as info:
        al.teach(**BAD_TEACH[kind](idx))
    assert len(str(info.value).split()) >= 3
    assert_unchanged(al, snap)
    # ... and the learner still works.
    al.teach(y=Y_POOL[idx], indices=idx)
    assert len(al.labeled_indices_) == 12 + 4 * (rounds + 1)


BAD_REFIT = {
    "y with inf": lambda: (X_POOL, np.r_[Y_POOL[:-1], np.inf].astype(float)),
    "other width, bad y": lambda: (X_POOL[:, :2], np.r_[Y_POOL[:-1], np.inf].astype(float)),
    "X with NaN": lambda: (np.full_like(X_POOL, np.nan), Y_POOL),
    "y of the wrong length": lambda: (X_POOL, Y_POOL[:-1]),
}


@pytest.mark.parametrize("kind", sorted(BAD_REFIT))
def test_rejected_refit_keeps_the_taught_labels(kind):
    """fit() called again with bad inputs must not break a learner holding taught labels.

    Found by this suite: fit() reset history_, estimator_ and n_features_in_
    before its last checks, so after the ValueError query() raised
    AttributeError ('_fallback') and teach() IndexError.
    """
    al = real_learner("bait").fit(X_POOL, partial())
    idx = al.query()
    al.teach(y=Y_POOL[idx], indices=idx)
    snap = snapshot(al)
    X_bad, y_bad = BAD_REFIT[kind]()
    with pytest.raises(ValueError):
        al.fit(X_bad, y_bad)
    assert_unchanged(al, snap)
    nxt = al.query()
    al.teach(y=Y_POOL[nxt], indices=nxt)
    assert len(al.labeled_indices_) == 20


def test_rejected_simulation_refit_keeps_previous_run():
    """Same for a simulation's parameters checked in fit (budget larger than the pool)."""
    al = real_learner("bait").fit(X_POOL, partial())
    snap = snapshot(al)
    with pytest.raises(ValueError, match="budget"):
        al.set_params(budget=10_000).fit(X_POOL, Y_POOL)
    al.set_params(budget=None)
    lab, _y, _shape, n_hist, est, _n_feat, _ = snap
    np.testing.assert_array_equal(al.labeled_indices_, lab)
    assert al.estimator_ is est and len(al.history_) == n_hist
    assert al.query().shape == (4,)


def test_clone_of_interrupted_learner_is_fresh():
    token = next(_TOKENS)
    al = simulation(Crashing(token, 1, KeyboardInterrupt), "random", 0)
    with pytest.raises(KeyboardInterrupt):
        al.fit(X_POOL, Y_POOL)
    fresh = clone(al)
    assert not hasattr(fresh, "labeled_indices_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="resume"):
            fresh.resume(X_POOL, Y_POOL)
