"""Strategy names: ``ActiveLearner(query_strategy="bait")`` and the like."""

import difflib

from sklearn.base import clone

from skbait.base import QueryStrategy, get_strategy_tags

__all__ = [
    "available_strategies",
    "make_strategy",
    "register_strategy",
    "regression_strategies",
    "serves_regression",
]

_FACTORIES = {}


def register_strategy(name, factory, *, replace=False):
    """Make a strategy available by name.

    Parameters
    ----------
    name : str
        The name, such as ``"bait"``; kept in lower case, and matched in any
        case by :func:`make_strategy`.
    factory : callable
        Called with no argument, returns a fresh :class:`~skbait.QueryStrategy`.
    replace : bool, default=False
        Replace the factory already registered under ``name``. Without it a
        name that is taken (a built-in such as ``"bait"`` included) is refused,
        so that no import silently changes what a name means elsewhere.

    Raises
    ------
    TypeError
        When ``name`` is not a non-empty string, or ``factory`` is not
        callable (an instance given for its class).
    ValueError
        When ``name`` is taken and ``replace`` is False.

    Examples
    --------
    >>> from skbait.strategies import (
    ...     BAIT, available_strategies, make_strategy, register_strategy)
    >>> register_strategy("bait_no_fisher", lambda: BAIT(fisher="identity"))
    >>> make_strategy("bait_no_fisher")
    BAIT(fisher='identity')
    >>> "bait_no_fisher" in available_strategies()
    True
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"A strategy name must be a non-empty string, got {name!r}.")
    if not callable(factory):
        # An instance (register_strategy("x", BAIT(reg=1.0))) failed only when the
        # name was first used, with "'BAIT' object is not callable".
        raise TypeError(
            f"register_strategy({name!r}, ...) needs a factory called with no argument, "
            f"got {type(factory).__name__} instance; pass the class or a lambda, "
            f"such as lambda: {factory!r}."
        )
    if name.lower() in _FACTORIES and not replace:
        raise ValueError(
            f"A strategy named {name.lower()!r} is already registered; choose another name, "
            "or pass replace=True to register_strategy to replace it."
        )
    _FACTORIES[name.lower()] = factory


def available_strategies():
    """Sorted names accepted wherever a strategy is expected.

    Returns
    -------
    names : list of str
        The built-in names and those added with :func:`register_strategy`.

    Examples
    --------
    >>> from skbait.strategies import available_strategies
    >>> "random" in available_strategies()
    True
    """
    return sorted(_FACTORIES)


def make_strategy(strategy):
    """A fresh strategy from a name or an instance (cloned, never shared).

    Parameters
    ----------
    strategy : str or QueryStrategy
        A name of :func:`available_strategies` (any case), or an instance.

    Returns
    -------
    QueryStrategy

    Raises
    ------
    ValueError
        When the name is not registered (in this process: the worker
        processes of ``n_jobs > 1`` know only skbait's own names).
    TypeError
        When ``strategy`` is neither a name nor an instance (a class
        included), or a registered factory returns no ``QueryStrategy``.

    Examples
    --------
    >>> from skbait.strategies import make_strategy
    >>> make_strategy("margin")
    UncertaintySampling(measure='margin')
    """
    if isinstance(strategy, str):
        try:
            factory = _FACTORIES[strategy.lower()]
        except KeyError:
            # The likeliest cause of a name registered by the user: a joblib worker
            # (GridSearchCV(n_jobs=2)) imports skbait afresh, without the user's names.
            close = difflib.get_close_matches(strategy.lower(), available_strategies(), n=1)
            guess = f"; did you mean {close[0]!r}?" if close else "."
            raise ValueError(
                f"Unknown query strategy {strategy!r}{guess} Valid names are: "
                f"{', '.join(available_strategies())}; or pass a QueryStrategy instance. "
                "A name given to register_strategy is known only to the process that "
                "registered it, not to the worker processes of n_jobs > 1: pass an instance "
                "there."
            ) from None
        made = factory()
        if not isinstance(made, QueryStrategy):
            raise TypeError(
                f"The factory registered as {strategy!r} returned a {type(made).__name__}, "
                "not a QueryStrategy instance."
            )
        return made
    if isinstance(strategy, QueryStrategy):
        return clone(strategy)
    if isinstance(strategy, type) and issubclass(strategy, QueryStrategy):
        raise TypeError(
            f"query_strategy got the class {strategy.__name__}: pass an instance, "
            f"{strategy.__name__}()."
        )
    raise TypeError(
        "query_strategy must be a strategy name or a QueryStrategy instance, got "
        f"{type(strategy).__name__}. Valid names are: {', '.join(available_strategies())}."
    )


def serves_regression(strategy):
    """Whether a strategy can choose rows for a regressor: the one rule, read from its tags.

    Every place that filters strategies by task (the command line's presets, the
    campaign, :func:`~skbait.evaluation.compare_strategies`) asks this, so that a
    new or registered strategy is judged by its ``classifier_only`` tag (see
    :func:`~skbait.get_strategy_tags`), never by a list of names.

    Parameters
    ----------
    strategy : str or QueryStrategy
        A registered name or an instance.

    Returns
    -------
    bool

    Examples
    --------
    >>> from skbait.strategies._registry import serves_regression
    >>> serves_regression("bait"), serves_regression("margin")
    (True, False)
    """
    return not get_strategy_tags(make_strategy(strategy)).classifier_only


def regression_strategies():
    """The registered names that serve a regressor, as a phrase for an error message.

    Read from the registry and the tags (:func:`serves_regression`), so that a
    message naming the alternatives stays true when strategies are added.

    Returns
    -------
    str

    Examples
    --------
    >>> from skbait.strategies._registry import regression_strategies
    >>> "'bait'" in regression_strategies() and "'margin'" not in regression_strategies()
    True
    """
    names = []
    for name in available_strategies():
        try:
            serves = serves_regression(name)
        except Exception:
            # A registered factory that fails is not offered: the message listing the
            # alternatives must not fail with it.
            continue
        if serves:
            names.append(repr(name))
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)
