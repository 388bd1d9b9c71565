"""BAIT's candidates: the rows it chooses among, the most uncertain and a random few."""

import math

import numpy as np
from sklearn.utils import check_random_state

from skbait.strategies._uncertainty import top_positions, uncertainty_scores
from skbait.utils._sparse import check_pool_embeddings
from skbait.utils._validation import as_labeled_mask, check_batch_size, check_probas, check_real

#: BAIT's default candidates with ``reg="scale"``: it chooses among the
#: ``DEFAULT_CANDIDATES * batch_size`` unlabeled rows of smallest margin (and
#: the random ones below); chosen with ``benchmarks/bench_realdata.py`` (see
#: "Which strategy when").
DEFAULT_CANDIDATES = 20

#: Rows per batch row drawn at random from the other unlabeled rows and added to
#: the candidates: they keep the candidates' pool Fisher close to the whole
#: pool's, and leave BAIT rows to choose where the margin points at the wrong
#: ones (see "Which strategy when").
DEFAULT_RANDOM_CANDIDATES = 20


def resolve_candidates(
    candidates,
    reg,
    *,
    random_candidates=DEFAULT_RANDOM_CANDIDATES,
    has_classes=True,
    single_class=False,
):
    """``candidates`` as BAIT applies it: ``"auto"`` resolved, a single class to every row.

    ``"auto"`` with the scale-aware ``reg="scale"`` is :data:`DEFAULT_CANDIDATES`
    for a classifier. A regressor (``has_classes=False``) has no margin: its
    candidates are the random ones alone (0), or every unlabeled row
    (``None``) when ``random_candidates`` is 0, so that ``random_candidates=0``
    means "no random rows" for both. With a number, the paper's absolute
    ``lambda``, ``"auto"`` is ``None`` (every unlabeled row), so that a numeric
    ``reg`` keeps the selections of the authors' code. A classifier that knows
    a single class (``single_class=True``) ranks nothing: ``None``.

    Examples
    --------
    >>> from skbait.strategies._candidates import resolve_candidates
    >>> resolve_candidates("auto", "scale"), resolve_candidates("auto", 1.0)
    (20, None)
    >>> resolve_candidates("auto", "scale", has_classes=False)
    0
    >>> resolve_candidates("auto", "scale", random_candidates=0, has_classes=False) is None
    True
    >>> resolve_candidates(5, "scale", single_class=True) is None
    True
    """
    if single_class:
        return None
    if candidates != "auto":
        return candidates
    if not isinstance(reg, str):
        return None
    if has_classes:
        return DEFAULT_CANDIDATES
    return 0 if random_candidates != 0 else None


def check_candidates(candidates, probas):
    """``candidates`` as a number (>= 0; 0 without class probabilities)."""
    candidates = check_real("candidates", candidates, 0.0, strict=False)
    if probas is None and candidates > 0:
        raise ValueError(
            "`candidates` keeps the unlabeled rows with the smallest margin between "
            "their two most probable classes, and regression (probas=None) has no "
            "classes: pass candidates=0 (the random candidates alone) or None (every row)."
        )
    return candidates


def candidate_counts(candidates, random_candidates, batch_size, probas):
    """How many uncertain and how many random rows: ``ceil(c B)`` and ``ceil(r B)``."""
    candidates = check_candidates(candidates, probas)
    random_candidates = check_real("random_candidates", random_candidates, 0.0, strict=False)
    if candidates == 0 and random_candidates == 0:
        raise ValueError(
            "candidates=0 and random_candidates=0 leave BAIT no row to choose: raise one "
            "of them, or pass candidates=None for every unlabeled row."
        )
    batch_size = check_batch_size(batch_size)
    return math.ceil(candidates * batch_size), math.ceil(random_candidates * batch_size)


def draw_positions(n_rest, count, random_state):
    """``count`` distinct positions among ``n_rest``, drawn uniformly, ascending.

    The one draw behind the random candidates, on one process and (from rank
    0's ``random_state``) on every rank of a sharded pool.
    """
    if count == 0:
        return np.empty(0, dtype=np.int64)
    drawn = check_random_state(random_state).choice(n_rest, count, replace=False)
    return np.sort(drawn).astype(np.int64)


def candidate_pool(
    embeddings, probas, labeled, batch_size, candidates, random_candidates=0.0, random_state=None
):
    """The pool cut down to the labeled rows and BAIT's candidates.

    The candidates are the ``ceil(candidates * batch_size)`` unlabeled rows
    with the smallest margin between their two most probable classes (ties
    to the lower index; none for regression, ``probas=None``), and
    ``ceil(random_candidates * batch_size)`` rows drawn uniformly (seeded by
    ``random_state``) from the other unlabeled rows. Every labeled row is
    kept.

    Returns
    -------
    (embeddings, probas, labeled, kept) or None
        The kept rows' embeddings, probabilities and labeled mask, and
        ``kept``, their ascending indices in the pool; ``None`` when the
        candidates would be every unlabeled row, or when a single class
        leaves no margin to rank by.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies._candidates import candidate_pool
    >>> P = np.array([[0.9, 0.1], [0.5, 0.5], [0.6, 0.4], [0.99, 0.01], [0.8, 0.2]])
    >>> candidate_pool(np.eye(5), P, [0], 1, candidates=2)[3]
    array([0, 1, 2])
    """
    count, random_count = candidate_counts(candidates, random_candidates, batch_size, probas)
    embeddings = check_pool_embeddings(embeddings)
    n = embeddings.shape[0]
    mask = as_labeled_mask(labeled, n)
    unlabeled = np.flatnonzero(~mask)
    if probas is not None:
        probas = check_probas(probas, n)
    if count + random_count >= unlabeled.size or (count and probas.shape[1] < 2):
        return None  # every row is a candidate, or a single class has no margin to rank by
    uncertain = np.empty(0, dtype=np.int64)
    if count:
        uncertain = top_positions(uncertainty_scores(probas[unlabeled], "margin"), count)
    rest = np.delete(np.arange(unlabeled.size), uncertain)
    drawn = rest[draw_positions(rest.size, random_count, random_state)]
    kept = np.sort(np.concatenate([np.flatnonzero(mask), unlabeled[uncertain], unlabeled[drawn]]))
    return embeddings[kept], None if probas is None else probas[kept], mask[kept], kept
