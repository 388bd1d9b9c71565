"""Property-based robustness: every input works correctly or gets a clear error.

Each property draws hostile inputs (odd shapes and dtypes, pandas and sparse
containers, NaN and inf, duplicate rows, constant columns, single-class
starts, k = 2 and k = 100, tiny and exhausted pools), calls the public API and
accepts exactly two outcomes:

- a correct result: distinct, in-range, unlabeled indices, as many as
  ``min(batch_size, n_unlabeled)``, finite scores, a history consistent with
  ``labeled_indices_``;
- the error that one of the input's defects calls for: each defect the
  property put in (NaN in X, a budget over the pool, a float ``batch_size``,
  an index past the end...) names the exception type and the words its
  message must hold.

Any other exception (IndexError, LinAlgError, RuntimeError, torch errors,
FloatingPointError...) fails the property, and so does an error that names no
defect of the input, or a defective input accepted. Where the input is valid,
an error is a failure too: a property cannot pass by rejecting everything.
Warnings are recorded: only those in ``EXPECTED_WARNINGS`` may occur.

The hypothesis profile (``ci`` by default, see ``conftest.py``) fixes the
number of cases; ``pytest --hypothesis-show-statistics`` reports them.
"""

import itertools
import re
import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import event, given, note
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge

from skbait import ActiveLearner, get_strategy_tags
from skbait._single_class import SingleClassModel
from skbait.cold_start import NoModelYet
from skbait.strategies import available_strategies, bait_select, logdet_select, make_strategy

ERRORS = (ValueError, TypeError)
# Single-label properties: the multi-label strategies have their own tests
# (test_multilabel_*.py), and listing them here would only shift the examples drawn.
STRATEGIES = [name for name in available_strategies() if not name.startswith("multilabel_")]
# What each strategy reads, from its tags: the model's last-layer embedding (the input
# features for a linear model), or class probabilities only a classifier gives.
_TAGS = {name: get_strategy_tags(make_strategy(name)) for name in STRATEGIES}
EMBEDDING_STRATEGIES = {name for name, tags in _TAGS.items() if tags.needs_embedding}
CLASSIFIER_ONLY = {name for name, tags in _TAGS.items() if tags.classifier_only}

# The warnings a hostile but valid input may raise; anything else fails the property.
EXPECTED_WARNINGS = (
    # A few rows, scaled by 1e4: lbfgs may stop before it converges.
    (ConvergenceWarning, r"lbfgs failed to converge|iterations"),
    # ActiveLearner's stand-in until a second class is labeled.
    (UserWarning, r"single class"),
)


# ------------------------------------------------------------------ helpers


@contextmanager
def only_expected_warnings():
    """Record every warning of the block; fail on one outside EXPECTED_WARNINGS."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            unexpected = [
                f"{w.category.__name__}: {w.message}"
                for w in caught
                if not any(
                    issubclass(w.category, category) and re.search(pattern, str(w.message))
                    for category, pattern in EXPECTED_WARNINGS
                )
            ]
            for w in caught:
                event(f"warned {w.category.__name__}")
    assert not unexpected, f"unexpected warning(s): {unexpected}"


def mostly(good, bad):
    """Values from ``good``, and about one time in six from ``bad``."""
    return st.integers(0, 5).flatmap(lambda i: bad if i == 0 else good)


def assert_rejected_for(exc, defects):
    """``exc`` is the error one of the input's ``defects`` calls for: its type and message.

    ``defects`` maps a name to ``(exception types, regular expression)``.
    """
    message = str(exc)
    assert defects, f"valid input rejected: {type(exc).__name__}({message!r})"
    named = [
        name
        for name, (types, pattern) in defects.items()
        if isinstance(exc, types) and re.search(pattern, message, re.IGNORECASE)
    ]
    assert named, (
        f"{type(exc).__name__}({message!r}) is not the error of any defect of the input: {defects}"
    )
    event(f"rejected: {named[0]}")


def assert_selection(indices, labeled_mask, batch_size):
    """The QueryStrategy contract on a returned batch."""
    n_unlabeled = int((~labeled_mask).sum())
    assert isinstance(indices, np.ndarray) and indices.dtype == np.int64
    assert indices.ndim == 1 and indices.size == min(batch_size, n_unlabeled)
    assert np.unique(indices).size == indices.size, f"duplicate picks {indices}"
    assert indices.size == 0 or (indices.min() >= 0 and indices.max() < labeled_mask.size)
    assert not labeled_mask[indices].any(), "a labeled row was picked"


def assert_history_consistent(al, n_samples):
    """labeled_indices_ and history_ tell the same story (also after an error)."""
    lab = np.asarray(al.labeled_indices_)
    assert np.issubdtype(lab.dtype, np.integer)
    assert np.unique(lab).size == lab.size, "a row is labeled twice"
    assert lab.size == 0 or (lab.min() >= 0 and lab.max() < n_samples)
    history = al.history_
    assert [r["round"] for r in history] == list(range(len(history)))
    for before, after in itertools.pairwise(history):
        # Each fit trains on what the previous query added.
        assert after["n_labeled"] == before["n_labeled"] + len(before["indices"])
    for record in history:
        chosen = np.asarray(record["indices"])
        start = record["n_labeled"]
        if start + chosen.size <= lab.size:
            np.testing.assert_array_equal(lab[start : start + chosen.size], chosen)
        assert np.isfinite(record["train_score"])
        assert np.isnan(record["eval_score"]) or np.isfinite(record["eval_score"])
    if history:
        # Every revealed label is held: the last fit saw a prefix of them.
        assert history[-1]["n_labeled"] <= lab.size


@st.composite
def pools(draw, max_rows=30, max_features=4, classes=(1, 2, 3)):
    """A hostile pool ``X`` (with a description of what is wrong with it) and labels."""
    n = draw(st.integers(1, max_rows))
    d = draw(st.integers(1, max_features))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    scale = draw(st.sampled_from([1.0, 1.0, 1e-6, 1e4]))
    X = rng.normal(size=(n, d)) * scale
    info = {"n": n, "d": d, "scale": scale}
    pathology = draw(
        st.sampled_from(
            ["none", "none", "nan", "inf", "duplicates", "constant_column", "all_constant"]
        )
    )
    info["pathology"] = pathology
    if pathology == "nan":
        X[draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))] = np.nan
    elif pathology == "inf":
        X[draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))] = draw(
            st.sampled_from([np.inf, -np.inf])
        )
    elif pathology == "duplicates":
        X = X[rng.randint(0, max(1, n // 3), size=n)]
    elif pathology == "constant_column":
        X[:, draw(st.integers(0, d - 1))] = 3.0
    elif pathology == "all_constant":
        X[:] = 1.0
    dtype = draw(st.sampled_from(["float64", "float32", "int64", "bool"]))
    info["dtype"] = dtype
    if dtype in ("int64", "bool") and pathology in ("nan", "inf"):
        dtype = info["dtype"] = "float64"  # integer arrays cannot hold NaN
    if dtype == "int64":
        X = np.round(X * 3 / scale).astype(np.int64)
    elif dtype == "bool":
        X = X > 0
    else:
        X = X.astype(dtype)
    container = draw(st.sampled_from(["ndarray", "ndarray", "dataframe", "csr", "csc", "list"]))
    info["container"] = container
    if container == "dataframe":
        X = pd.DataFrame(X, columns=[f"f{j}" for j in range(d)])
    elif container == "csr":
        X = sp.csr_matrix(X)
    elif container == "csc":
        X = sp.csc_matrix(X)
    elif container == "list":
        X = X.tolist()
    k = draw(st.sampled_from(classes))
    info["k"] = k
    y = rng.randint(0, k, size=n)
    if k > 1 and draw(st.booleans()):
        # Imbalanced: a small initial draw is often a single class.
        y = np.where(rng.uniform(size=n) < 0.9, 0, y)
    if draw(st.booleans()):
        y = pd.Series(y) if draw(st.booleans()) else np.array(["ab", "cd", "ef"])[y % 3]
    return X, y, info


def pool_defects(info, strategy, budget=None, n_initial=None):
    """What must be rejected in a pool, and how: {name: (exception types, pattern)}."""
    defects = {}
    if info["pathology"] in ("nan", "inf"):
        defects["non-finite X"] = ((ValueError,), r"nan|inf|finite")
    if budget is not None and budget > info["n"]:
        defects["budget over the pool"] = ((ValueError,), r"budget")
    if n_initial is not None and budget is not None and n_initial > budget:
        defects["n_initial over the budget"] = ((ValueError,), r"n_initial")
    return defects


def allow_untrained_non_finite(al, must_reject, strategy):
    """X is the estimator's to judge: a run that never trained it may keep non-finite rows.

    That holds only while a stand-in serves (one labeled class, or none) and no query
    read the rows' embedding.
    """
    if "non-finite X" in must_reject and isinstance(al.estimator_, (SingleClassModel, NoModelYet)):
        assert all(
            len(r["indices"]) == 0 or strategy not in EMBEDDING_STRATEGIES for r in al.history_
        )
        del must_reject["non-finite X"]


def sparse_defect(info, strategy):
    """Sparse rows reach a strategy that needs dense embeddings only if a model-based
    query happens: they may be rejected, or not."""
    if info["container"] in ("csr", "csc") and strategy in EMBEDDING_STRATEGIES:
        return {"sparse rows": ((TypeError, ValueError), r"sparse|dense")}
    return {}


# --------------------------------------------------------------- properties


@given(
    data=pools(),
    strategy=st.sampled_from(STRATEGIES),
    batch_size=st.integers(1, 8),
    with_eval=st.booleans(),
    draw=st.data(),
)
def test_simulation_contract(data, strategy, batch_size, with_eval, draw):
    """ActiveLearner.fit in simulation: a complete, consistent run or a clear error."""
    X, y, info = data
    # Mostly a budget the pool can pay for (up to exhausting it), sometimes not.
    budget = draw.draw(st.integers(1, info["n"] + 2), label="budget")
    n_initial = draw.draw(st.integers(1, budget + 1), label="n_initial")
    note(info)
    event(f"strategy={strategy}")
    al = ActiveLearner(
        LogisticRegression(max_iter=200),
        query_strategy=strategy,
        n_initial=n_initial,
        batch_size=batch_size,
        budget=budget,
        random_state=0,
    )
    eval_set = (X, y) if with_eval else None
    must_reject = pool_defects(info, strategy, budget, n_initial)
    try:
        with only_expected_warnings():
            al.fit(X, y, eval_set=eval_set)
    except ERRORS as exc:
        assert_rejected_for(exc, {**must_reject, **sparse_defect(info, strategy)})
        if hasattr(al, "history_") and hasattr(al, "labeled_indices_"):
            # An error in the middle of the loop leaves a consistent learner.
            assert_history_consistent(al, info["n"])
        return
    if "non-finite X" in must_reject and isinstance(al.estimator_, SingleClassModel):
        # X is the estimator's to judge, and a one-class run never trains it: only the
        # stand-in saw the rows, and no query read their embedding.
        assert all(
            len(r["indices"]) == 0 or strategy not in EMBEDDING_STRATEGIES for r in al.history_
        )
        del must_reject["non-finite X"]
    assert not must_reject, f"invalid input accepted: {sorted(must_reject)}"
    event("completed")
    assert len(al.labeled_indices_) == budget
    assert_history_consistent(al, info["n"])
    assert al.history_[0]["n_labeled"] == n_initial
    assert al.history_[-1]["n_labeled"] == budget
    assert len(al.history_[-1]["indices"]) == 0
    if with_eval:
        assert all(np.isfinite(r["eval_score"]) for r in al.history_)
    assert len(al.predict(X)) == info["n"]


@given(
    data=pools(max_rows=30, classes=(2, 3)),
    strategy=st.sampled_from(STRATEGIES),
    n_known=st.integers(0, 30),
    missing=st.sampled_from([-1, np.nan]),
    batch_size=st.integers(1, 12),
    rounds=st.integers(1, 3),
)
def test_real_labeling_contract(data, strategy, n_known, missing, batch_size, rounds):
    """fit on partial labels, then query/teach until the pool runs out."""
    X, y, info = data
    note(info)
    y = np.asarray(y)
    if y.dtype.kind in "US":
        y = np.unique(y, return_inverse=True)[1]
    y_partial = y.astype(np.float64 if isinstance(missing, float) else np.int64)
    y_partial[n_known:] = missing
    al = ActiveLearner(
        LogisticRegression(max_iter=200),
        query_strategy=strategy,
        batch_size=batch_size,
        missing_label=missing,
        random_state=0,
    )
    n = info["n"]
    # No known label is a cold start (a label-free first batch), not an error.
    must_reject = pool_defects(info, strategy)
    try:
        with only_expected_warnings():
            run_real_labeling(al, X, y, y_partial, n, batch_size, rounds)
    except ERRORS as exc:
        assert_rejected_for(exc, {**must_reject, **sparse_defect(info, strategy)})
        return
    allow_untrained_non_finite(al, must_reject, strategy)
    assert not must_reject, f"invalid input accepted: {sorted(must_reject)}"
    event("completed")


def run_real_labeling(al, X, y, y_partial, n, batch_size, rounds):
    """fit, then query and teach ``rounds`` times, checking each step."""
    al.fit(X, y_partial)
    for _ in range(rounds):
        n_unlabeled = n - len(al.labeled_indices_)
        if n_unlabeled == 0:
            with pytest.raises(ValueError, match="nothing is left to query"):
                al.query()
            break
        idx = al.query()
        mask = np.zeros(n, dtype=bool)
        mask[al.labeled_indices_] = True
        assert_selection(idx, mask, batch_size)
        known = np.unique(al.y_[al.labeled_indices_])
        # An annotator answers with classes the learner knows (after a cold start, any).
        labels = known[np.asarray(y)[idx] % known.size] if known.size else np.asarray(y)[idx]
        before = len(al.labeled_indices_)
        al.teach(y=labels, indices=idx)
        assert len(al.labeled_indices_) == before + idx.size
        np.testing.assert_array_equal(al.y_[idx], labels)
        assert al.history_[-1]["n_labeled"] == len(al.labeled_indices_)


# Bad `labeled` arguments of select, and the error each calls for.
BAD_LABELED = {
    "index past the end": ((ValueError,), r"labeled.*outside the pool"),
    "negative index": ((ValueError,), r"labeled.*outside the pool"),
    "mask too long": ((ValueError,), r"labeled.*mask.*one entry per pool row"),
    "float index": ((TypeError,), r"labeled.*integer row indices or a boolean mask"),
    "2-d indices": ((TypeError, ValueError), r"labeled.*(1-d|integer row indices)"),
}


# Probabilities of a fitted model on a pool; shared so that k = 100 stays cheap.
@st.composite
def select_problems(draw):
    task = draw(
        st.sampled_from(["classification", "classification", "classification", "regression"])
    )
    k = draw(st.sampled_from([2, 3, 100])) if task == "classification" else 0
    # k = 100 is kept to a few candidates: BAIT's per-step cost is O(n k^3).
    n = draw(st.integers(k + 1, k + (4 if k == 100 else 30))) if k else draw(st.integers(2, 30))
    d = draw(st.integers(1, 2 if k == 100 else 4))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    if draw(st.booleans()):
        X = X[rng.randint(0, max(1, n // 2), size=n)]  # duplicate rows
    if task == "classification":
        # Every class present, so the model knows all k of them.
        y = np.r_[np.arange(k), rng.randint(0, k, size=n - k)]
        with warnings.catch_warnings():
            # k = 100 classes in about 100 rows: scikit-learn wonders if y is a regression.
            warnings.filterwarnings("ignore", "The number of unique classes", UserWarning)
            model = LogisticRegression(max_iter=50).fit(X, y)
    else:
        model = Ridge().fit(X, X @ rng.normal(size=d))
    labeled_kind = draw(
        mostly(
            st.sampled_from(["indices", "mask", "list", "none"]), st.sampled_from(["all", "bad"])
        )
    )
    n_lab = draw(mostly(st.integers(n - 6 if k == 100 else 0, n - 1), st.just(n)))
    chosen = rng.permutation(n)[:n_lab]
    if labeled_kind == "indices":
        labeled = chosen
    elif labeled_kind == "mask":
        labeled = np.isin(np.arange(n), chosen)
    elif labeled_kind == "list":
        labeled = chosen.tolist()
    elif labeled_kind == "none":
        labeled = None
    elif labeled_kind == "all":
        labeled = np.arange(n)
    else:
        labeled_kind = draw(st.sampled_from(sorted(BAD_LABELED)))
        labeled = {
            "index past the end": np.array([n]),
            "negative index": np.array([-1]),
            "mask too long": np.ones(n + 1, dtype=bool),
            "float index": np.array([0.5]),
            "2-d indices": np.array([[0, 1]]),
        }[labeled_kind]
    info = {"task": task, "k": k, "n": n, "d": d, "n_labeled": n_lab}
    return model, X, labeled, labeled_kind, info


@given(
    problem=select_problems(),
    strategy=st.sampled_from(STRATEGIES),
    batch_size=mostly(st.integers(1, 12), st.sampled_from([0, -3, 2.0, True, None, "3"])),
    seed=st.integers(0, 10),
)
def test_strategy_select_contract(problem, strategy, batch_size, seed):
    """Every strategy's select: the contract, or a clear error (k = 2, 3, 100, regression)."""
    model, X, labeled, labeled_kind, info = problem
    note(info)
    event(f"k={info['k']}")
    s = make_strategy(strategy)
    if "device" in s.get_params():
        s.set_params(device="cpu")
    must_reject = {}
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        must_reject["batch_size not an integer"] = ((TypeError,), r"batch_size.*integer")
    elif batch_size < 1:
        must_reject["batch_size below 1"] = ((ValueError,), r"batch_size.*at least 1")
    if labeled_kind in BAD_LABELED:
        must_reject[labeled_kind] = BAD_LABELED[labeled_kind]
    if labeled_kind == "all" or (labeled_kind != "none" and info["n_labeled"] == info["n"]):
        must_reject["every row labeled"] = ((ValueError,), r"nothing left to (query|select)")
    if info["task"] == "regression" and strategy in CLASSIFIER_ONLY:
        must_reject["regressor"] = ((TypeError, ValueError), r"class probabilities|classifier")
    try:
        with only_expected_warnings():
            idx, util = s.select(
                model, X, labeled, batch_size, random_state=seed, return_utilities=True
            )
    except ERRORS as exc:
        assert_rejected_for(exc, must_reject)
        return
    assert not must_reject, f"invalid input accepted: {sorted(must_reject)}"
    mask = np.zeros(info["n"], dtype=bool)
    if labeled is not None:
        mask[np.asarray(labeled, dtype=bool if labeled_kind == "mask" else np.int64)] = True
    assert_selection(idx, mask, batch_size)
    event("pool exhausted" if batch_size >= (~mask).sum() else "selected")
    assert util.shape == idx.shape and util.dtype == np.float64
    # Scores are finite; nan where a strategy has none; +inf only for CoreSet's
    # first centre when nothing is labeled (its distance to no centre).
    inf = np.isinf(util)
    if strategy == "coreset" and not mask.any():
        inf[0] = False
    assert not inf.any(), f"infinite utilities {util}"
    if strategy in ("bait", "logdet", "logdet_rank1") and (~mask).sum() > batch_size:
        assert np.isfinite(util).all(), f"non-finite utilities {util}"


ARRAY_FUNCTIONS = {"bait_select": bait_select, "logdet_select": logdet_select}
# The flaws of a user's arrays (applied only where they apply: no probability flaw
# without probabilities), and the error each calls for.
ARRAY_FLAWS = {
    "nan_z": ((ValueError,), r"embeddings.*(nan|inf)"),
    "inf_z": ((ValueError,), r"embeddings.*(nan|inf)"),
    "z_1d": ((ValueError,), r"embeddings.*2-d"),
    "z_object": ((TypeError,), r"embeddings.*numeric"),
    "nan_p": ((ValueError,), r"probas.*nan"),
    "unnormalised": ((ValueError,), r"probas.*sum to one"),
    "negative_p": ((ValueError,), r"probas.*negative"),
    "wrong_rows": ((ValueError,), r"probas.*shape"),
    "p_1d": ((ValueError,), r"probas.*shape"),
}


@st.composite
def array_problems(draw):
    """Embeddings and probabilities as a user would pass them to bait_select, hostile."""
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 4))
    k = draw(st.sampled_from([0, 1, 2, 3, 100]))  # 0: regression (probas=None)
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    Z = rng.normal(size=(n, d)) * draw(st.sampled_from([1.0, 1e-3, 1e3]))
    P = None
    if k:
        logits = rng.normal(size=(n, k)) * draw(st.sampled_from([1.0, 50.0]))
        P = np.exp(logits - logits.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        if draw(st.booleans()):
            P = np.eye(k)[logits.argmax(axis=1)]  # one-hot
    flaws = []
    flaw = draw(
        mostly(
            st.sampled_from(["none", "none", "z_int", "z_bool", "z_float32"]),
            st.sampled_from(
                [
                    "nan_z",
                    "inf_z",
                    "nan_p",
                    "unnormalised",
                    "negative_p",
                    "wrong_rows",
                    "z_1d",
                    "z_object",
                    "p_1d",
                ]
            ),
        )
    )
    if flaw == "nan_z":
        Z[rng.randint(n), rng.randint(d)] = np.nan
    elif flaw == "inf_z":
        Z[rng.randint(n), rng.randint(d)] = np.inf
    elif flaw == "nan_p" and P is not None:
        P[rng.randint(n), 0] = np.nan
    elif flaw == "unnormalised" and P is not None:
        P = P * 2.0
    elif flaw == "negative_p" and P is not None and k > 1:
        P[0] = 0.0
        P[0, :2] = [-0.5, 1.5]  # sums to one, but not a distribution
    elif flaw == "wrong_rows" and P is not None:
        P = P[:-1] if n > 1 else np.vstack([P, P])
    elif flaw == "z_1d":
        Z = Z[:, 0]
    elif flaw == "z_object":
        Z = Z.astype(object)
        Z[0, 0] = "x"
    elif flaw == "z_int":
        Z = np.round(Z).astype(np.int32)
    elif flaw == "z_bool":
        Z = Z > 0
    elif flaw == "z_float32":
        Z = Z.astype(np.float32)
    elif flaw == "p_1d" and P is not None:
        P = P[:, 0]
    else:
        flaw = "none"
    flaws.append(flaw)
    n_lab = draw(mostly(st.integers(0, n - 1), st.just(n)))
    labeled = np.sort(rng.permutation(n)[:n_lab])
    if draw(st.booleans()):
        labeled = np.isin(np.arange(n), labeled)
    return Z, P, labeled, {"n": n, "d": d, "k": k, "flaw": flaw, "n_labeled": n_lab}


@pytest.mark.parametrize("function", sorted(ARRAY_FUNCTIONS))
@given(
    problem=array_problems(),
    batch_size=mostly(st.integers(1, 30), st.sampled_from([0, 1.5, True])),
    reg=mostly(st.sampled_from([1e-3, 1.0, 1e4]), st.sampled_from([0.0, -1.0, np.nan, np.inf])),
    chunk_size=st.sampled_from([None, 1, 7]),
)
def test_array_api_contract(function, problem, batch_size, reg, chunk_size):
    """bait_select / logdet_select on user arrays: a valid batch, or a clear error."""
    Z, P, labeled, info = problem
    note(info)
    event(f"flaw={info['flaw']}")
    must_reject = {}
    if info["flaw"] in ARRAY_FLAWS:
        must_reject[info["flaw"]] = ARRAY_FLAWS[info["flaw"]]
    if info["n_labeled"] == info["n"]:
        must_reject["every row labeled"] = ((ValueError,), r"nothing left to (query|select)")
    if not (np.isfinite(reg) and reg > 0):
        must_reject["reg"] = ((ValueError,), r"reg.*finite and > 0")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        must_reject["batch_size not an integer"] = ((TypeError,), r"batch_size.*integer")
    elif batch_size < 1:
        must_reject["batch_size below 1"] = ((ValueError,), r"batch_size.*at least 1")
    try:
        with only_expected_warnings():
            idx = ARRAY_FUNCTIONS[function](
                Z, P, labeled, batch_size, reg=reg, device="cpu", chunk_size=chunk_size
            )
    except ERRORS as exc:
        assert_rejected_for(exc, must_reject)
        return
    assert not must_reject, f"invalid input accepted: {sorted(must_reject)}"
    mask = np.zeros(info["n"], dtype=bool)
    mask[labeled] = True
    assert_selection(idx, mask, batch_size)
