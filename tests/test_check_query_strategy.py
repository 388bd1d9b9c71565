"""Third-party strategies: check_query_strategy and select fail each breach with a message,
and register_strategy refuses what make_strategy could not use."""

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.linear_model import LogisticRegression

from skbait import QueryStrategy
from skbait.utils.estimator_checks import check_query_strategy


class FirstRows(QueryStrategy):
    """A correct minimal strategy, as the custom strategy guide writes one."""

    def __init__(self, offset=0):
        self.offset = offset

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        return np.flatnonzero(~labeled)[self.offset :][:batch_size], None


class CountsItsCalls(QueryStrategy):
    def __init__(self, calls=0):
        self.calls = calls

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        self.calls += 1  # same name, another value
        return np.flatnonzero(~labeled)[:batch_size], None


def test_a_correct_minimal_strategy_passes():
    check_query_strategy(FirstRows())


def test_a_strategy_that_changes_a_parameter_value_fails():
    # Only the names of the parameters were compared: a new value passed.
    message = r"CountsItsCalls.select changed its parameters \['calls'\]"
    with pytest.raises(AssertionError, match=message):
        check_query_strategy(CountsItsCalls())


class KeepsACache(FirstRows):
    def __init__(self, offset=0):
        super().__init__(offset=offset)
        self.cache = {}


def test_a_strategy_that_sets_an_attribute_in_init_fails():
    # The guide's rule "set nothing but the parameters in __init__" was not checked.
    with pytest.raises(AssertionError, match=r"KeepsACache.__init__ sets \['cache'\]"):
        check_query_strategy(KeepsACache())


class ClassifiersOnly(FirstRows):
    def _validate_estimator(self, estimator):
        if not is_classifier(estimator):
            raise TypeError("ClassifiersOnly needs a classifier.")


def test_tasks_are_checked_and_a_string_names_one_task():
    # "classification" ran as 14 regression problems (one per letter), and an
    # unknown task or an empty tuple checked nothing, silently.
    check_query_strategy(ClassifiersOnly(), tasks="classification")
    for tasks in [("classif",), (), "regresion"]:
        with pytest.raises(ValueError, match="tasks must be"):
            check_query_strategy(FirstRows(), tasks=tasks)


class ReturnsADuplicate(QueryStrategy):
    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        unlabeled = np.flatnonzero(~labeled)
        return np.r_[unlabeled[: batch_size - 1], unlabeled[0]], None


class ReturnsTooManyUtilities(FirstRows):
    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        indices, _ = super()._select(estimator, X, labeled, batch_size, random_state, embedding)
        return indices, np.ones(batch_size + 1)


class DoublesItsParameter(FirstRows):
    def __init__(self, offset=1):
        self.offset = 2 * offset


@pytest.mark.parametrize(
    "strategy, message",
    [
        (ReturnsADuplicate(), "ReturnsADuplicate breaks .* returned the same row twice"),
        (ReturnsTooManyUtilities(), "ReturnsTooManyUtilities breaks .* 4 utilities for 3"),
        (DoublesItsParameter(), "DoublesItsParameter breaks .* modifies parameter offset"),
    ],
)
def test_a_contract_breach_is_an_assertion_error_naming_the_strategy(strategy, message):
    # The guide promises an AssertionError; select's and clone's RuntimeError went through.
    with pytest.raises(AssertionError, match=message):
        check_query_strategy(strategy)


def test_a_strategy_that_does_not_pickle_fails_with_the_reason():
    class Local(FirstRows):  # a class defined in a function does not pickle
        pass

    with pytest.raises(AssertionError, match="Local does not pickle .*n_jobs"):
        check_query_strategy(Local())


class ReturnsIndicesAlone(QueryStrategy):
    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        return np.flatnonzero(~labeled)[:batch_size]


class ReturnsWordsAsUtilities(FirstRows):
    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        indices, _ = super()._select(estimator, X, labeled, batch_size, random_state, embedding)
        return indices, ["high"] * batch_size


def test_a_malformed_select_result_names_the_strategy():
    # They failed with numpy's or Python's words only: "too many values to unpack
    # (expected 2)", "could not convert string to float".
    X = np.random.RandomState(0).normal(size=(20, 2))
    model = LogisticRegression().fit(X[:6], [0, 1] * 3)
    with pytest.raises(RuntimeError, match=r"ReturnsIndicesAlone._select must return a pair"):
        ReturnsIndicesAlone().select(model, X, np.arange(6), 3)
    with pytest.raises(RuntimeError, match="ReturnsWordsAsUtilities returned utilities that"):
        ReturnsWordsAsUtilities().select(model, X, np.arange(6), 3, return_utilities=True)


def test_register_strategy_refuses_what_is_not_a_factory_of_strategies():
    # An instance failed at the name's first use ("object is not callable"), and a
    # factory of something else deep in the learner's fit ("has no attribute 'select'").
    from skbait.strategies import make_strategy, register_strategy
    from skbait.strategies._registry import _FACTORIES

    with pytest.raises(TypeError, match="pass the class or a lambda, such as lambda: FirstRows"):
        register_strategy("test_an_instance", FirstRows(offset=1))
    assert "test_an_instance" not in _FACTORIES
    register_strategy("test_not_a_strategy", dict)
    try:
        with pytest.raises(TypeError, match="'test_not_a_strategy' returned a dict"):
            make_strategy("test_not_a_strategy")
    finally:
        _FACTORIES.pop("test_not_a_strategy")


def test_register_strategy_refuses_a_taken_name_unless_told_to_replace():
    # A built-in replaced by a later import changed what "margin" meant everywhere.
    from skbait.strategies import make_strategy, register_strategy
    from skbait.strategies._registry import _FACTORIES

    with pytest.raises(ValueError, match="'margin' is already registered.*replace=True"):
        register_strategy("Margin", FirstRows)
    assert make_strategy("margin").get_params()["measure"] == "margin"
    register_strategy("test_taken", FirstRows)
    try:
        with pytest.raises(ValueError, match="'test_taken' is already registered"):
            register_strategy("test_taken", lambda: FirstRows(offset=2))
        assert make_strategy("test_taken").get_params()["offset"] != 2
        register_strategy("test_taken", lambda: FirstRows(offset=2), replace=True)
        assert make_strategy("test_taken").get_params()["offset"] == 2
    finally:
        _FACTORIES.pop("test_taken")
