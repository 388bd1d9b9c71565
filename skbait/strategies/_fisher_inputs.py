"""From an estimator to the arrays of a Fisher-based strategy: embeddings and probabilities.

Kept out of the core (:mod:`skbait._fisher`), which sees arrays only.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier

from skbait.embeddings import embed
from skbait.utils._warnings import caller_stacklevel

__all__ = [
    "NO_INFORMATION_ADVICE",
    "ZERO_EMBEDDING_ADVICE",
    "fisher_inputs",
    "information_advice",
    "informative_rows",
    "no_information_message",
    "no_information_reason",
    "nonzero_rows",
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
#: Where all-zero embeddings come from.
ZERO_EMBEDDING_ADVICE = (
    "An all-zero embedding comes from a row with none of the features the model knows (a "
    "document with no word of a vocabulary fitted on the labeled rows: fit it on the whole "
    "pool) or from a layer whose units are all off."
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


def nonzero_rows(embeddings):
    """Whether each row of a dense or sparse embedding has an entry other than zero.

    A row whose embedding is all zero has zero last-layer information whatever
    its probabilities: every pointwise Fisher is a product with ``z z^T``.
    """
    if sp.issparse(embeddings):
        return np.asarray(abs(embeddings).max(axis=1).todense()).ravel() > 0
    return np.asarray(embeddings).any(axis=1)


def no_information_message(strategy_name, causes=(True, False)):
    """The warning of a batch drawn at random: no unlabeled row carries information.

    ``causes`` says what left rows without information: (probabilities of 0 or
    1, all-zero embeddings).
    """
    return (
        f"{no_information_reason(causes)}, so every row's Fisher information is zero and "
        f"{strategy_name} cannot rank them; it draws the batch uniformly at random instead. "
        f"{information_advice(causes)}"
    )


def no_information_reason(causes):
    """Why no unlabeled row carries information, for a warning's first words."""
    by_probas, by_embedding = causes
    if by_embedding and not by_probas:
        return "Every unlabeled row has an all-zero embedding"
    if by_embedding:
        return "Every unlabeled row has probabilities of 0 or 1 or an all-zero embedding"
    return "Every probability of the unlabeled rows is 0 or 1"


def partly_informative_message(
    strategy_name, n_informative, n_unlabeled, n_chosen, n_drawn, causes=(True, False)
):
    """The warning of a batch partly drawn at random: too few rows carry information."""
    having = " and ".join(
        what
        for what, cause in zip(("a probability other than 0 or 1", "a non-zero embedding"), causes)
        if cause
    )
    return (
        f"Only {n_informative} of the {n_unlabeled} unlabeled rows have {having}; the others "
        f"have zero Fisher information. {strategy_name} chose {n_chosen} rows of the batch "
        f"and drew the other {n_drawn} uniformly at random from the rest. "
        f"{information_advice(causes)}"
    )


def information_advice(causes):
    """Where rows without information come from, for each of ``causes``."""
    return " ".join(
        advice
        for advice, cause in zip((NO_INFORMATION_ADVICE, ZERO_EMBEDDING_ADVICE), causes)
        if cause
    )


def select_informative(
    select, strategy_name, probas, labeled, batch_size, random_state, embeddings=None
):
    """``select()``'s batch, with the rows it could not rank drawn uniformly at random.

    ``select()`` returns the chosen rows and their gains. When no unlabeled
    row carries information (its probabilities all 0 or 1, see
    :func:`informative_rows`, or its embedding all zero, see
    :func:`nonzero_rows`), every gain ties at zero and the greedy would take
    the unlabeled rows in a fixed order: the batch is drawn uniformly from
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
        The probabilities the strategy reads (validated); ``None`` for
        regression or a single class.
    labeled : ndarray of shape (n_samples,), dtype=bool
    batch_size : int
        Already capped at the number of unlabeled rows.
    random_state : numpy.random.RandomState
    embeddings : array-like or sparse matrix of shape (n_samples, n_dims), default=None
        The embedding the strategy's Fisher is made of, whose all-zero rows
        carry no information; ``None`` where it has none (a standardised
        design, whose intercept column is 1). With ``probas=None`` as well,
        ``select()`` is returned.

    Returns
    -------
    indices : ndarray of int64
    gains : ndarray of float64
    """
    unlabeled = np.flatnonzero(~labeled)
    if (probas is None and embeddings is None) or unlabeled.size <= batch_size:
        return select()  # nothing to rank, or every unlabeled row goes
    everywhere = np.ones(labeled.shape[0], dtype=bool)
    by_probas = everywhere if probas is None else informative_rows(probas)
    by_embedding = everywhere if embeddings is None else nonzero_rows(embeddings)
    informative = by_probas & by_embedding
    causes = (not by_probas[unlabeled].all(), not by_embedding[unlabeled].all())
    if not informative[unlabeled].any():
        warnings.warn(
            no_information_message(strategy_name, causes),
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
            causes,
        ),
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
    gains = np.concatenate([np.asarray(gains, dtype=np.float64)[kept], np.zeros(drawn.size)])
    return np.concatenate([indices[kept], drawn.astype(np.int64)]), gains
