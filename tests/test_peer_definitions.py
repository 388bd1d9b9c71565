"""Uncertainty, BADGE and random sampling against brute-force references from their definitions.

Each reference below is written from the published definition, in plain
Python and NumPy with loops, and knows nothing of how skbait computes:

- uncertainty sampling (least confident, margin, entropy; Settles, "Active
  Learning Literature Survey", 2009): the ``B`` highest scores, equal scores
  to the lowest row index (skbait's documented rule);
- its multi-label forms: minus the mean, or the smallest, of the margins
  ``|2 p_j - 1|``;
- BADGE (Ash et al., ICLR 2020): k-means++ seeding on the explicit gradient
  embeddings ``(p - e_argmax p) (x) z``, or ``(p - 1[p > 0.5]) (x) z`` for
  independent labels; the first centre has the largest norm (lowest index
  among equals), each next one is drawn with probability ``D(x)^2 / sum D^2``;
- random sampling: every ordered batch of distinct unlabeled rows equally
  likely.

Probabilities are vote fractions (``count / N``, as a forest of fully grown
trees or a nearest-neighbour classifier gives), so that rows tie often and
exactly: a reference ranks by exact fractions where the score is rational.
"""

import itertools
import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from scipy.stats import chisquare
from sklearn.base import BaseEstimator, ClassifierMixin

from skbait.strategies import (
    BADGE,
    MultiLabelBADGE,
    MultiLabelUncertainty,
    RandomSampling,
    UncertaintySampling,
    badge_select,
    multilabel_badge_select,
)


class _GivenProbabilities(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose pool rows carry their probabilities and embedding.

    Row ``i`` of ``X`` is ``[i, p_1 .. p_k, z_1 .. z_d]``: its own probabilities
    whatever order the pool is in.
    """

    def __init__(self, n_outputs=2):
        self.n_outputs = n_outputs

    def fit(self, X=None, y=None):
        self.classes_ = np.arange(max(self.n_outputs, 2))
        return self

    def predict_proba(self, X):
        return np.asarray(X)[:, 1 : 1 + self.n_outputs]


def _embedding(estimator, X):
    return np.asarray(X)[:, 1 + estimator.n_outputs :]


def _pool(P, Z=None):
    Z = np.zeros((len(P), 1)) if Z is None else Z
    return _GivenProbabilities(P.shape[1]).fit(), np.hstack([np.arange(len(P))[:, None], P, Z])


@st.composite
def _votes(draw, *, max_classes=5, independent=False):
    """Vote counts (n, k) and their total N: probabilities count / N, 0 and 1 included."""
    n = draw(st.integers(1, 14))
    k = draw(st.integers(1 if independent else 2, max_classes))
    total = draw(st.sampled_from([1, 2, 4, 5, 8, 10, 16, 20, 25]))
    rows = []
    for _ in range(n):
        if independent:
            rows.append(draw(st.lists(st.integers(0, total), min_size=k, max_size=k)))
        else:
            cuts = sorted(draw(st.lists(st.integers(0, total), min_size=k - 1, max_size=k - 1)))
            rows.append(np.diff([0, *cuts, total]).tolist())
    # A few rows repeated with their classes in another order: equal by symmetry.
    for _ in range(draw(st.integers(0, 4))):
        source = rows[draw(st.integers(0, n - 1))]
        rows.append(draw(st.permutations(source)))
    return np.array(rows, dtype=np.int64), total


@st.composite
def _labeled_and_batch(draw, n):
    labeled = draw(st.lists(st.integers(0, n - 1), max_size=n - 1, unique=True))
    n_unlabeled = n - len(labeled)
    batch = draw(st.one_of(st.just(n_unlabeled), st.just(1), st.integers(1, n_unlabeled + 2)))
    return np.array(sorted(labeled), dtype=np.int64), batch


# ------------------------------------------------------------- uncertainty
def _reference_score(counts, total, measure):
    """A row's uncertainty from its vote counts: exact for LC and margin."""
    ordered = sorted(counts, reverse=True)
    if measure == "least_confident":
        return Fraction(total - ordered[0], total)
    if measure == "margin":
        return Fraction(ordered[1] - ordered[0], total)
    # Entropy in bits (nats give the same order): the exactly rounded sum of the
    # terms, to 12 decimals, so that rows equal in exact arithmetic compare equal.
    terms = [c / total * math.log2(c / total) for c in counts if c > 0]
    return round(-math.fsum(terms) + 0.0, 12)


def _reference_top(scores, labeled, batch_size):
    """The ``batch_size`` unlabeled rows of highest score, equal scores to the lowest index."""
    unlabeled = [i for i in range(len(scores)) if i not in set(labeled.tolist())]
    return sorted(unlabeled, key=lambda i: (-scores[i], i))[:batch_size]


@pytest.mark.parametrize("measure", ["least_confident", "margin", "entropy"])
@settings(max_examples=200)  # cheap, and enough to meet rows tied in exact arithmetic
@given(data=st.data())
def test_uncertainty_picks_the_definitions_rows(measure, data):
    counts, total = data.draw(_votes())
    labeled, batch_size = data.draw(_labeled_and_batch(len(counts)))
    note(f"P = {(counts / total).tolist()}")
    scores = [_reference_score(row, total, measure) for row in counts]
    model, X = _pool(counts / total)
    got = UncertaintySampling(measure).select(model, X, labeled, batch_size)
    np.testing.assert_array_equal(got, _reference_top(scores, labeled, batch_size))


@pytest.mark.parametrize("measure", ["least_confident", "margin", "entropy"])
@given(data=st.data())
def test_uncertainty_on_a_permuted_pool_is_the_definitions_rows_there(measure, data):
    # The permutation contract: the same rows, except that rows of equal score go
    # to the lowest index of the permuted pool (the reference on that pool).
    counts, total = data.draw(_votes())
    labeled, batch_size = data.draw(_labeled_and_batch(len(counts)))
    order = np.array(data.draw(st.permutations(range(len(counts)))))
    position = np.argsort(order)
    moved_labeled = np.sort(position[labeled])
    scores = [_reference_score(row, total, measure) for row in counts[order]]
    model, X = _pool(counts / total)
    got = UncertaintySampling(measure).select(model, X[order], moved_labeled, batch_size)
    np.testing.assert_array_equal(got, _reference_top(scores, moved_labeled, batch_size))


@given(data=st.data())
def test_the_three_measures_pick_the_same_rows_for_two_classes(data):
    # With two classes each measure is a decreasing function of max(p, 1 - p).
    counts, total = data.draw(_votes(max_classes=2))
    labeled, batch_size = data.draw(_labeled_and_batch(len(counts)))
    model, X = _pool(counts / total)
    picks = [
        UncertaintySampling(measure).select(model, X, labeled, batch_size)
        for measure in ("least_confident", "margin", "entropy")
    ]
    np.testing.assert_array_equal(picks[1], picks[0])
    np.testing.assert_array_equal(picks[2], picks[0])


@pytest.mark.parametrize("measure", ["least_confident", "margin", "entropy"])
def test_class_order_does_not_decide_between_equally_uncertain_rows(measure):
    # Rows with the same probabilities in another class order are equally uncertain:
    # the batch is the lowest indices, whatever the last bits of a sum taken in class
    # order would say.
    same = np.array(list(itertools.permutations([0.1, 0.4, 0.5])))
    P = np.vstack([[1.0, 0.0, 0.0], same, [0.8, 0.1, 0.1]])
    model, X = _pool(P)
    np.testing.assert_array_equal(UncertaintySampling(measure).select(model, X, [], 3), [1, 2, 3])


@pytest.mark.parametrize(
    "measure, P",
    [
        # Margins 0.4 - 0.3 and 0.5 - 0.4: both 0.1, in floats 0.1 + 3e-17 and 0.1 - 2e-17.
        ("margin", [[0.9, 0.1, 0.0], [0.3, 0.3, 0.4], [0.1, 0.4, 0.5], [0.2, 0.35, 0.45]]),
        # Entropies log 4 (four classes of 1/4) and (1/2) log 2 + (1/2) log 8 = log 4.
        (
            "entropy",
            [[1.0, 0, 0, 0, 0], [0.25, 0.25, 0.25, 0.25, 0], [0.5, 0.125, 0.125, 0.125, 0.125]],
        ),
    ],
)
def test_rows_equally_uncertain_in_exact_arithmetic_tie(measure, P):
    model, X = _pool(np.array(P))
    np.testing.assert_array_equal(UncertaintySampling(measure).select(model, X, [], 1), [1])
    # The utilities are those ranked: best first, equal where the rows tie.
    _, utilities = UncertaintySampling(measure).select(model, X, [], 2, return_utilities=True)
    assert utilities[0] == utilities[1]
    np.testing.assert_array_equal(UncertaintySampling(measure).select(model, X[::-1], [], 1), [0])


@pytest.mark.parametrize("measure", ["mean_margin", "min_margin"])
@given(data=st.data())
def test_multilabel_uncertainty_picks_the_definitions_rows(measure, data):
    counts, total = data.draw(_votes(independent=True))
    labeled, batch_size = data.draw(_labeled_and_batch(len(counts)))
    note(f"P = {(counts / total).tolist()}")
    # |2 p - 1| = |2 c - N| / N, exactly.
    margins = [[Fraction(abs(2 * c - total), total) for c in row] for row in counts]
    if measure == "mean_margin":
        scores = [-sum(row) / len(row) for row in margins]
    else:
        scores = [-min(row) for row in margins]
    model, X = _pool(counts / total)
    got = MultiLabelUncertainty(measure).select(model, X, labeled, batch_size)
    np.testing.assert_array_equal(got, _reference_top(scores, labeled, batch_size))


def test_uncertainty_of_a_single_class_model_is_a_seeded_uniform_draw():
    P = np.ones((6, 1))
    model, X = _pool(P)
    model.classes_ = np.array([0])
    with pytest.warns(UserWarning, match="single class"):
        first = UncertaintySampling().select(model, X, [0], 3, random_state=5)
    with pytest.warns(UserWarning, match="single class"):
        again = UncertaintySampling().select(model, X, [0], 3, random_state=5)
    np.testing.assert_array_equal(first, again)
    assert len(set(first.tolist())) == 3 and 0 not in first


# ------------------------------------------------------------------- BADGE
def _reference_badge(G, labeled, batch_size, seed):
    """k-means++ seeding on explicit gradients ``G``, as BADGE's paper defines it.

    The draws follow skbait's documented use of ``random_state``: one
    ``random_sample()`` per centre, inverted on the running sum of ``D^2`` in row
    order; a uniform ``randint`` over the remaining rows when every ``D^2`` is 0.
    """
    rng = np.random.RandomState(seed)
    unlabeled = [i for i in range(len(G)) if i not in set(labeled.tolist())]
    norms = [float(G[i] @ G[i]) for i in unlabeled]
    best = max(norms)
    if best > 0:
        first = norms.index(best)  # the largest norm, the lowest index among equals
    else:
        first = rng.randint(len(unlabeled))
    chosen = [first]
    for _ in range(1, min(batch_size, len(unlabeled))):
        d2 = []
        for i in unlabeled:
            d2.append(
                min(float((G[i] - G[unlabeled[c]]) @ (G[i] - G[unlabeled[c]])) for c in chosen)
            )
        for c in chosen:
            d2[c] = 0.0
        total = sum(d2)
        if total > 0:
            target, running, pick = rng.random_sample() * total, 0.0, None
            for position, weight in enumerate(d2):
                running += weight
                if running > target:
                    pick = position
                    break
            chosen.append(pick)
        else:
            remaining = [i for i in range(len(unlabeled)) if i not in chosen]
            chosen.append(remaining[rng.randint(len(remaining))])
    return [unlabeled[c] for c in chosen]


def _softmax_gradients(P, Z):
    G = []
    for p, z in zip(P, Z):
        a = p.copy()
        a[np.argmax(p)] -= 1.0  # the hallucinated label: the most probable class
        G.append(np.outer(a, z).ravel())
    return np.array(G)


def _label_gradients(P, Z):
    return np.array([np.outer(p - (p > 0.5), z).ravel() for p, z in zip(P, Z)])


@st.composite
def _dyadic_problem(draw, *, independent=False):
    """Probabilities count / 8 and small integer embeddings: every product exact in float64."""
    n, d = draw(st.integers(1, 12)), draw(st.integers(1, 3))
    k = draw(st.integers(1 if independent else 2, 4))
    rows, Z = [], []
    for _ in range(n):
        if independent:
            rows.append(draw(st.lists(st.integers(0, 8), min_size=k, max_size=k)))
        else:
            cuts = sorted(draw(st.lists(st.integers(0, 8), min_size=k - 1, max_size=k - 1)))
            rows.append(np.diff([0, *cuts, 8]).tolist())
        Z.append(draw(st.lists(st.integers(-3, 3), min_size=d, max_size=d)))
    P, Z = np.array(rows) / 8.0, np.array(Z, dtype=np.float64)
    for _ in range(draw(st.integers(0, 3))):  # duplicated rows
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        P[j], Z[j] = P[i], Z[i]
    return P, Z


@given(data=st.data(), seed=st.integers(0, 2**16))
def test_badge_picks_the_definitions_rows(data, seed):
    P, Z = data.draw(_dyadic_problem())
    labeled, batch_size = data.draw(_labeled_and_batch(len(P)))
    note(f"P = {P.tolist()}\nZ = {Z.tolist()}")
    expected = _reference_badge(_softmax_gradients(P, Z), labeled, batch_size, seed)
    got = badge_select(Z, P, labeled, batch_size, random_state=seed, device="cpu")
    np.testing.assert_array_equal(got, expected)
    model, X = _pool(P, Z)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # all gradients zero: a warned uniform draw
        picked = BADGE(device="cpu").select(
            model, X, labeled, batch_size, random_state=seed, embedding=_embedding
        )
    np.testing.assert_array_equal(picked, expected)


@given(data=st.data(), seed=st.integers(0, 2**16))
def test_binary_badge_is_the_one_output_gradient(data, seed):
    # A binary model's two columns (1 - p, p) give (p - 1[p > 0.5]) (-1, 1) (x) z:
    # the one-output gradient times a constant, so the same seeding picks.
    P, Z = data.draw(_dyadic_problem(independent=True))
    p = P[:, :1]
    labeled, batch_size = data.draw(_labeled_and_batch(len(P)))
    expected = _reference_badge(_label_gradients(p, Z), labeled, batch_size, seed)
    two_columns = np.hstack([1.0 - p, p])
    got = badge_select(Z, two_columns, labeled, batch_size, random_state=seed, device="cpu")
    np.testing.assert_array_equal(got, expected)
    got = multilabel_badge_select(Z, p, labeled, batch_size, random_state=seed, device="cpu")
    np.testing.assert_array_equal(got, expected)


@given(data=st.data(), seed=st.integers(0, 2**16))
def test_multilabel_badge_picks_the_definitions_rows(data, seed):
    P, Z = data.draw(_dyadic_problem(independent=True))
    labeled, batch_size = data.draw(_labeled_and_batch(len(P)))
    note(f"P = {P.tolist()}\nZ = {Z.tolist()}")
    expected = _reference_badge(_label_gradients(P, Z), labeled, batch_size, seed)
    got = multilabel_badge_select(Z, P, labeled, batch_size, random_state=seed, device="cpu")
    np.testing.assert_array_equal(got, expected)
    model, X = _pool(P, Z)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        picked = MultiLabelBADGE(device="cpu").select(
            model, X, labeled, batch_size, random_state=seed, embedding=_embedding
        )
    np.testing.assert_array_equal(picked, expected)


# ------------------------------------------------------------------ random
def test_random_sampling_draws_every_ordered_batch_equally_often():
    # Uniform without replacement: each of the 5 * 4 ordered pairs of the five
    # unlabeled rows is equally likely.
    model, X = _pool(np.full((8, 2), 0.5))
    labeled = [0, 3, 6]
    unlabeled = [1, 2, 4, 5, 7]
    pairs = {(a, b): 0 for a in unlabeled for b in unlabeled if a != b}
    for seed in range(4000):
        first, second = RandomSampling().select(model, X, labeled, 2, random_state=seed)
        pairs[(int(first), int(second))] += 1
    _, pvalue = chisquare(list(pairs.values()))
    assert pvalue > 1e-3, pairs


@given(data=st.data(), seed=st.integers(0, 2**16))
def test_random_sampling_is_distinct_unlabeled_rows_reproducibly(data, seed):
    n = data.draw(st.integers(1, 20))
    labeled, batch_size = data.draw(_labeled_and_batch(n))
    model, X = _pool(np.full((n, 2), 0.5))
    got = RandomSampling().select(model, X, labeled, batch_size, random_state=seed)
    unlabeled = np.setdiff1d(np.arange(n), labeled)
    assert len(got) == min(batch_size, unlabeled.size) == len(set(got.tolist()))
    assert set(got.tolist()) <= set(unlabeled.tolist())
    again = RandomSampling().select(
        model, X, labeled, batch_size, random_state=np.random.RandomState(seed)
    )
    np.testing.assert_array_equal(got, again)
