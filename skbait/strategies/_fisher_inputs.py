"""From an estimator to the arrays of a Fisher-based strategy: embeddings and probabilities.

Kept out of the core (:mod:`skbait._fisher`), which sees arrays only.
"""

import warnings

import numpy as np
from sklearn.base import is_classifier

from skbait.embeddings import embed
from skbait.utils._warnings import caller_stacklevel

__all__ = [
    "NO_INFORMATION_ADVICE",
    "fisher_inputs",
    "informative_rows",
    "no_information_message",
    "partly_informative_message",
    "select_informative",
]

#: Why a model's probabilities can all be 0 or 1, and what to do about it.
NO_INFORMATION_ADVICE = (
    "Probabilities of 0 or 1 come from models such as a 1-nearest-neighbour classifier or "
    "an unpruned decision tree: calibrate the model (sklearn.calibration."
    "CalibratedClassifierCV), or use a strategy that does not read probabilities, such as "
    "'coreset'."
)


def fisher_inputs(estimator, X, embedding, strategy_name):
    """Embeddings and probabilities for a Fisher-based strategy.

    A classifier that knows a single class has zero last-layer information;
    the strategy then works on the embedding's rank-one information (as for
    regression), with a warning.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.strategies._fisher_inputs import fisher_inputs
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> Z, P = fisher_inputs(model, X, None, "BAIT")
    >>> Z.shape, P.shape
    ((4, 1), (4, 2))
    """
    Z, P = embed(estimator, X, proba=is_classifier(estimator), embedding=embedding)
    if P is not None and P.shape[1] < 2:
        warnings.warn(
            "The classifier knows a single class, so its last-layer information is zero; "
            f"{strategy_name} falls back to the embedding's rank-one information.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        P = None
    return Z, P


def informative_rows(probas):
    """Whether each row's Fisher information can be non-zero: a probability strictly in (0, 1).

    A row whose probabilities are all 0 or 1 has zero last-layer information
    whatever its embedding: BAIT's ``diag(p) - p p^T``, the rank-one
    ``p - e_yhat`` and multi-label BAIT's ``p_j (1 - p_j)`` all vanish.
    """
    P = np.asarray(probas)
    return ((P > 0.0) & (P < 1.0)).any(axis=1)


def no_information_message(strategy_name):
    """The warning of a batch drawn at random: no unlabeled row carries information."""
    return (
        f"Every probability of the unlabeled rows is 0 or 1, so every row's Fisher "
        f"information is zero and {strategy_name} cannot rank them; it draws the batch "
        f"uniformly at random instead. {NO_INFORMATION_ADVICE}"
    )


def partly_informative_message(strategy_name, n_informative, n_unlabeled, n_chosen, n_drawn):
    """The warning of a batch partly drawn at random: too few rows carry information."""
    return (
        f"Only {n_informative} of the {n_unlabeled} unlabeled rows "
        "have a probability other than 0 or 1; the others have zero Fisher information. "
        f"{strategy_name} chose {n_chosen} rows of the batch and drew the other "
        f"{n_drawn} uniformly at random from the rest. {NO_INFORMATION_ADVICE}"
    )


def select_informative(select, strategy_name, probas, labeled, batch_size, random_state):
    """``select()``'s batch, with the rows it could not rank drawn uniformly at random.

    ``select()`` returns the chosen rows and their gains. When no unlabeled
    row's probabilities carry information (all 0 or 1, see
    :func:`informative_rows`), every gain ties at zero and the greedy would
    take the unlabeled rows in index order: the batch is drawn uniformly from
    them instead, with ``random_state`` and a warning, without calling
    ``select``. When fewer rows carry information than the batch holds,
    ``select()``'s picks that carry information are kept, in its order, and
    the rest of the batch is drawn uniformly from the other unlabeled rows,
    with a warning. The drawn rows' gains are 0, which they are. Otherwise
    ``select()``'s batch is returned as it is.

    Parameters
    ----------
    select : callable
        ``select() -> (indices, gains)``.
    strategy_name : str
        Named in the warnings.
    probas : ndarray of shape (n_samples, n_outputs) or None
        The probabilities the strategy reads (validated); ``None`` (regression,
        a single class) returns ``select()``.
    labeled : ndarray of shape (n_samples,), dtype=bool
    batch_size : int
        Already capped at the number of unlabeled rows.
    random_state : numpy.random.RandomState

    Returns
    -------
    indices : ndarray of int64
    gains : ndarray of float64
    """
    unlabeled = np.flatnonzero(~labeled)
    if probas is None or unlabeled.size <= batch_size:
        return select()  # nothing to rank, or every unlabeled row goes
    informative = informative_rows(probas)
    if not informative[unlabeled].any():
        warnings.warn(
            no_information_message(strategy_name),
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        drawn = random_state.choice(unlabeled, batch_size, replace=False)
        return drawn.astype(np.int64), np.zeros(batch_size)
    indices, gains = select()
    kept = informative[indices]
    if kept.all():
        return indices, gains
    rest = np.setdiff1d(unlabeled, indices[kept])
    drawn = random_state.choice(rest, batch_size - int(kept.sum()), replace=False)
    warnings.warn(
        partly_informative_message(
            strategy_name,
            int(informative[unlabeled].sum()),
            unlabeled.size,
            int(kept.sum()),
            drawn.size,
        ),
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
    gains = np.concatenate([np.asarray(gains, dtype=np.float64)[kept], np.zeros(drawn.size)])
    return np.concatenate([indices[kept], drawn.astype(np.int64)]), gains
