"""Strategy tags: what each strategy declares, and that check_query_strategy holds it to them."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from skbait import QueryStrategy, StrategyTags, get_strategy_tags
from skbait.embeddings import embed
from skbait.strategies import (
    BADGE,
    BAIT,
    CoreSet,
    LogDet,
    RandomSampling,
    UncertaintySampling,
    available_strategies,
    make_strategy,
)
from skbait.utils.estimator_checks import check_query_strategy


@pytest.mark.parametrize("name", available_strategies())
def test_every_registered_strategy_honours_its_tags(name):
    check_query_strategy(make_strategy(name))


@pytest.mark.parametrize(
    "strategy, classifier_only, needs_embedding, deterministic, sparse_embedding",
    [
        # BAIT's default draws random candidates; the paper's BAIT and the
        # uncertain candidates alone draw nothing.
        (BAIT(), False, True, False, True),
        (BAIT(reg=1.0), False, True, True, True),
        (BAIT(candidates=None), False, True, True, True),
        (BAIT(random_candidates=0), False, True, True, True),
        (LogDet(), False, True, True, True),
        (CoreSet(), False, True, True, True),
        (BADGE(), True, True, False, True),
        (UncertaintySampling(), True, False, False, False),
        (RandomSampling(), False, False, False, False),
    ],
)
def test_declared_tags(
    strategy, classifier_only, needs_embedding, deterministic, sparse_embedding
):
    tags = get_strategy_tags(strategy)
    assert isinstance(tags, StrategyTags)
    assert tags.classifier_only is classifier_only
    assert tags.needs_embedding is needs_embedding
    assert tags.deterministic is deterministic
    assert tags.sparse_embedding is sparse_embedding


def test_tags_are_a_fresh_copy_and_defaults_apply_to_duck_types():
    tags = get_strategy_tags(BAIT())
    tags.needs_embedding = False
    assert get_strategy_tags(BAIT()).needs_embedding is True

    class DuckStrategy:
        def select(self, *args, **kwargs):
            return np.array([0])

    assert get_strategy_tags(DuckStrategy()) == StrategyTags()
    with pytest.raises(TypeError, match=r"instance.*BAIT\(\)"):
        get_strategy_tags(BAIT)

    class BadTags(RandomSampling):
        def __skbait_tags__(self):
            return {"deterministic": True}

    with pytest.raises(TypeError, match="must return a StrategyTags"):
        get_strategy_tags(BadTags())


# Strategies whose tags lie: the checks must catch each lie.


class _FirstRows(QueryStrategy):
    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        return np.flatnonzero(~labeled)[:batch_size], None


class ReadsEmbeddingSilently(_FirstRows):
    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        Z, _ = embed(estimator, X, proba=False, embedding=embedding)
        order = np.argsort(-np.abs(Z[:, 0]), kind="stable")
        order = order[~labeled[order]]
        return order[:batch_size], None


class ClaimsEmbeddingButIgnoresIt(_FirstRows):
    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.needs_embedding = True
        return tags


class ClaimsDeterminismButDraws(RandomSampling):
    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.deterministic = True
        return tags


class ClaimsClassifierOnlyButServesAll(_FirstRows):
    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.classifier_only = True
        return tags

    def _validate_estimator(self, estimator):
        pass  # overrides the base class's refusal


class ClaimsSparseButDensifiesWrongly(ReadsEmbeddingSilently):
    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.needs_embedding = True
        tags.sparse_embedding = True
        return tags

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        Z = X if embedding is None else embedding(estimator, X)
        if hasattr(Z, "toarray"):  # a sparse embedding: falls back to the last rows
            return np.flatnonzero(~labeled)[-batch_size:], None
        order = np.argsort(-np.abs(Z[:, 0]), kind="stable")
        order = order[~labeled[order]]
        return order[:batch_size], None


@pytest.mark.parametrize(
    "strategy, message",
    [
        (ReadsEmbeddingSilently(), "tag it needs_embedding"),
        (ClaimsEmbeddingButIgnoresIt(), "never read the embedding"),
        (ClaimsDeterminismButDraws(), "depends on random_state"),
        (ClaimsClassifierOnlyButServesAll(), "served a regressor"),
        (ClaimsSparseButDensifiesWrongly(), "sparse embedding"),
    ],
)
def test_check_query_strategy_catches_false_tags(strategy, message):
    with pytest.raises(AssertionError, match=message):
        check_query_strategy(strategy)


class NeedsProbabilities(_FirstRows):
    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.classifier_only = True
        return tags


def test_classifier_only_tag_refuses_regressors_by_default():
    X = np.random.RandomState(0).normal(size=(20, 2))
    with pytest.raises(TypeError, match="NeedsProbabilities needs class probabilities.*Ridge"):
        NeedsProbabilities().select(Ridge().fit(X[:5], X[:5, 0]), X, np.arange(5), 3)
    model = LogisticRegression().fit(X[:6], [0, 1] * 3)
    assert NeedsProbabilities().select(model, X, np.arange(5), 3).tolist() == [5, 6, 7]
    check_query_strategy(NeedsProbabilities())


@pytest.mark.parametrize("name", available_strategies())
def test_serves_regression_says_what_a_regressor_gets(name):
    # The one rule for "can this strategy serve a regressor": true exactly when the
    # strategy chooses rows for a fitted regressor, false when it refuses one.
    from skbait.strategies._registry import serves_regression

    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    model = Ridge().fit(X[:8], X[:8, 0])
    strategy = make_strategy(name)
    assert serves_regression(name) == serves_regression(strategy)
    if serves_regression(name):
        chosen = strategy.select(model, X, np.arange(8), 3, random_state=0)
        assert len(chosen) == 3 and np.all(chosen >= 8)
    else:
        with pytest.raises(TypeError):
            strategy.select(model, X, np.arange(8), 3, random_state=0)
