"""Seeds: a run's integer seed, and the generator of each of its rounds.

Every simulation and campaign derives its randomness here, so that an
``ActiveLearner``, :func:`~skbait.stopping.evaluate_stopping` and ``skbait
query`` given the same ``random_state`` draw the same rows.
"""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["check_seed", "draw_seed", "round_random_state"]


def check_seed(random_state):
    """``random_state`` as a RandomState (scikit-learn's rule), a Generator refused clearly.

    scikit-learn takes an int, a ``RandomState`` or ``None``; given a
    :class:`numpy.random.Generator` its error ("cannot be used to seed a
    numpy.random.RandomState instance") names neither what is accepted nor
    how to keep the Generator's stream.

    Parameters
    ----------
    random_state : int, RandomState instance or None

    Returns
    -------
    numpy.random.RandomState

    Examples
    --------
    >>> from skbait.utils._seeds import check_seed
    >>> check_seed(0).randint(10) == check_seed(0).randint(10)
    True
    """
    if isinstance(random_state, np.random.Generator):
        raise ValueError(
            "random_state must be an int, a numpy.random.RandomState or None (scikit-learn's "
            "convention), got a numpy.random.Generator. Pass a seed drawn from it, such as "
            "random_state=int(generator.integers(2**31 - 1))."
        )
    return check_random_state(random_state)


def draw_seed(random_state):
    """One integer seed in ``[0, 2**31 - 1)`` drawn from ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        An integer always gives the same seed; a ``RandomState`` advances by
        one draw; ``None`` draws from numpy's global generator.

    Returns
    -------
    int

    Examples
    --------
    >>> from skbait.utils._seeds import draw_seed
    >>> draw_seed(0) == draw_seed(0)
    True
    """
    return int(check_seed(random_state).randint(np.iinfo(np.int32).max))


def round_random_state(seed, round_):
    """The RandomState of one round (-1: the initial draw), derived from a run's seed.

    Each round gets its own generator (rather than one running generator) so
    that a run resumed from saved state, pickled, or spread over several
    processes draws exactly what an uninterrupted run would.

    Parameters
    ----------
    seed : int
        The run's seed (:func:`draw_seed`).
    round_ : int
        The round: -1 for the initial draw, then 0, 1, ...

    Returns
    -------
    numpy.random.RandomState

    Examples
    --------
    >>> from skbait.utils._seeds import round_random_state
    >>> a = round_random_state(0, 3).randint(100)
    >>> bool(a == round_random_state(0, 3).randint(100))
    True
    """
    return np.random.RandomState(np.random.SeedSequence([seed, round_ + 1]).generate_state(1)[0])
