"""One contract for every registered strategy: inputs untouched, any pool form the model takes.

Parametrised over ``available_strategies()``, so that a strategy registered
later is held to the same contract without a line added here.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import make_pipeline

from skbait import get_strategy_tags
from skbait.strategies import UncertaintySampling, available_strategies, make_strategy

STRATEGIES = available_strategies()
WORDS = "red green blue cat dog fish sun rain snow wind"


def problem(seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(80, 5))
    y = np.argmax(X[:, :3] + 0.5 * rng.normal(size=(80, 3)), axis=1)
    labeled = np.arange(15)
    return X, y, labeled


def fitted_model(strategy, task, X, y, labeled):
    """A model of the task fitted on the labeled rows; skips a strategy that cannot serve it."""
    if task == "classification":
        return LogisticRegression().fit(X[labeled], y[labeled])
    if get_strategy_tags(make_strategy(strategy)).classifier_only:
        pytest.skip(f"{strategy} serves classifiers only (its tags say so)")
    return Ridge().fit(X[labeled], X[labeled, 0])


def select(strategy, model, X, labeled, batch_size=6, **kwargs):
    s = make_strategy(strategy)
    if "device" in s.get_params():
        s.set_params(device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return s.select(model, X, labeled, batch_size, random_state=3, **kwargs)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_inputs_are_not_modified(strategy, task):
    X, y, labeled = problem()
    model = fitted_model(strategy, task, X, y, labeled)
    mask = np.zeros(len(X), dtype=bool)
    mask[labeled] = True
    X_before, mask_before, labeled_before = X.copy(), mask.copy(), labeled.copy()
    model_before = pickle.dumps(model)
    strategy_obj = make_strategy(strategy)
    params_before = strategy_obj.get_params()
    for given in (labeled, mask):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            strategy_obj.select(model, X, given, 6, random_state=0)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(mask, mask_before)
    np.testing.assert_array_equal(labeled, labeled_before)
    assert pickle.dumps(model) == model_before
    assert strategy_obj.get_params() == params_before


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_dataframe_pool_picks_what_the_array_picks(strategy):
    X, y, labeled = problem()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)], index=np.arange(80) * 7)
    frame_before = frame.copy()
    from_frame = select(
        strategy, LogisticRegression().fit(frame.iloc[labeled], y[labeled]), frame, labeled
    )
    from_array = select(strategy, LogisticRegression().fit(X[labeled], y[labeled]), X, labeled)
    np.testing.assert_array_equal(from_frame, from_array)
    pd.testing.assert_frame_equal(frame, frame_before)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_list_pool_picks_what_an_array_of_the_same_rows_picks(strategy):
    rng = np.random.RandomState(0)
    words = WORDS.split()
    docs = [" ".join(rng.choice(words, 5)) for _ in range(60)]
    y = np.array(["warm" if ("sun" in d or "red" in d) else "cold" for d in docs])
    labeled = np.arange(12)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    model.fit([docs[i] for i in labeled], y[labeled])
    docs_before = list(docs)
    from_list = select(strategy, model, docs, labeled)
    assert docs == docs_before
    from_array = select(strategy, model, np.array(docs, dtype=object), labeled)
    np.testing.assert_array_equal(from_list, from_array)
    assert from_list.shape == (6,) and not np.isin(from_list, labeled).any()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_sparse_pool_picks_what_its_dense_copy_picks(strategy):
    X, y, labeled = problem()
    X = np.where(np.abs(X) > 0.8, X, 0.0)  # about 40% non-zeros
    X_sparse = sp.csr_matrix(X)
    dense_pick = select(strategy, LogisticRegression().fit(X[labeled], y[labeled]), X, labeled)
    model = LogisticRegression().fit(X_sparse[labeled], y[labeled])
    sparse_pick = select(strategy, model, X_sparse, labeled)
    np.testing.assert_array_equal(sparse_pick, dense_pick)
    assert X_sparse.format == "csr" and (X_sparse != sp.csr_matrix(X)).nnz == 0


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_float32_embedding_picks_what_its_float64_original_picks(strategy, task):
    # Computing in float64 by default, a strategy reads a float32 embedding (a
    # network's) as the float64 one it rounds: on a well-conditioned pool the same
    # rows, and utilities within float32's rounding.
    X, y, labeled = problem()
    model = fitted_model(strategy, task, X, y, labeled)
    Z64 = np.tanh(X @ np.random.RandomState(1).normal(size=(5, 7)))
    Z32 = Z64.astype(np.float32)
    picks = []
    for Z in (Z64, Z32):
        s = make_strategy(strategy)
        if "device" in s.get_params():
            s.set_params(device="cpu")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            picks.append(
                s.select(
                    model,
                    X,
                    labeled,
                    6,
                    random_state=3,
                    embedding=lambda estimator, rows, Z=Z: Z,
                    return_utilities=True,
                )
            )
    (i64, u64), (i32, u32) = picks
    np.testing.assert_array_equal(i32, i64)
    np.testing.assert_allclose(u32, u64, rtol=1e-5, atol=1e-12)


def _draws_nothing(name):
    """Whether a strategy's picks depend on the rows alone, not on a random draw."""
    strategy = make_strategy(name)
    # Uncertainty sampling draws only for a classifier of a single class.
    return get_strategy_tags(strategy).deterministic or isinstance(strategy, UncertaintySampling)


@pytest.mark.parametrize("strategy", [name for name in STRATEGIES if _draws_nothing(name)])
def test_a_permuted_pool_gives_the_same_rows(strategy):
    # Rows in another order are the same rows: a strategy that draws nothing picks
    # them again, in the same order. Continuous rows leave no tie, which these
    # strategies break by the lower index (the one thing row order may decide).
    X, y, labeled = problem()
    tags = get_strategy_tags(make_strategy(strategy))
    if tags.multilabel and tags.classifier_only:
        # Label sets: a single-label model's probabilities would tie many rows here.
        label_sets = X[:, :3] + 0.5 * np.random.RandomState(1).normal(size=(len(X), 3)) > 0
        model = MultiOutputClassifier(LogisticRegression())
        model.fit(X[labeled], label_sets[labeled].astype(int))
    else:
        model = LogisticRegression().fit(X[labeled], y[labeled])
    order = np.random.RandomState(4).permutation(len(X))  # row i of X[order] is row order[i]
    position = np.argsort(order)  # where each row of X went
    picks, utilities = select(strategy, model, X, labeled, return_utilities=True)
    moved, moved_utilities = select(
        strategy, model, X[order], position[labeled], return_utilities=True
    )
    np.testing.assert_array_equal(order[moved], picks)
    np.testing.assert_allclose(moved_utilities, utilities, rtol=1e-9)


@pytest.mark.parametrize(
    "name, close", [("baitt", "bait"), ("margn", "margin"), ("coreeset", "coreset")]
)
def test_a_misspelled_strategy_name_suggests_the_close_one(name, close):
    with pytest.raises(
        ValueError, match=rf"Unknown query strategy '{name}'; did you mean '{close}'\?"
    ):
        make_strategy(name)
    # A name like none gets no guess, only the list.
    with pytest.raises(ValueError, match=r"Unknown query strategy 'xyz'\. Valid names are"):
        make_strategy("xyz")


def test_a_strategy_class_says_to_pass_an_instance():
    from skbait.strategies import BAIT

    # It said "got type".
    with pytest.raises(TypeError, match=r"got the class BAIT: pass an instance, BAIT\(\)"):
        make_strategy(BAIT)
