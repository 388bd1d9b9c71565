"""Uncertainty sampling over a sharded pool: each rank's best, merged."""

import math

import numpy as np
import torch

from skbait.distributed._comm import (
    Group,
    raise_everywhere,
)
from skbait.distributed._pool import ShardedPool, selection_result
from skbait.strategies._uncertainty import ranked_scores, uncertainty_scores
from skbait.utils._validation import (
    check_option,
)


def uncertainty_select(
    probas, labeled, batch_size, *, measure="least_confident", return_utilities=False, group=None
):
    """The ``batch_size`` most uncertain unlabeled rows of a sharded pool (SPMD).

    The selection of :class:`skbait.strategies.UncertaintySampling`: the
    largest :func:`~skbait.strategies.uncertainty_scores`, ties to the lowest
    pool index. Every rank scores its own rows and keeps its best
    ``batch_size``; those (a score and an index each) are all-gathered and
    merged. Scores are per row, so the picks are exactly the single-process
    ones, ties included: margins and entropies are ranked, and returned, to 12
    decimals, as on one process.

    Parameters
    ----------
    probas : array-like of shape (n_local, n_classes)
        This rank's predicted class probabilities; may have no rows.
    labeled : array-like of int or bool, or None
        This shard's labeled rows: indices into ``probas`` or a boolean mask.
    batch_size : int
        Number of rows to return; at most the number of unlabeled rows on all
        ranks together.
    measure : {"least_confident", "margin", "entropy"}, default="least_confident"
        See :func:`skbait.strategies.uncertainty_scores`.
    return_utilities : bool, default=False
        Also return the chosen rows' scores.
    group : ProcessGroup, default=None
        The process group; ``None`` is the default group.

    Returns
    -------
    indices : ndarray of shape (batch_size,), dtype=int64
        Pool indices, most uncertain first; the same on every rank.
    utilities : ndarray of shape (batch_size,), dtype=float64
        Only with ``return_utilities=True``.

    See Also
    --------
    skbait.strategies.UncertaintySampling : The same selection on one process.

    Examples
    --------
    >>> import numpy as np
    >>> import torch.distributed as dist
    >>> from skbait.distributed import uncertainty_select
    >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    >>> P = np.array([[0.9, 0.1], [0.5, 0.5], [0.7, 0.3], [0.6, 0.4]])
    >>> uncertainty_select(P, labeled=[1], batch_size=2)
    array([3, 2])
    >>> dist.destroy_process_group()
    """
    return most_uncertain(
        probas, labeled, batch_size, measure, return_utilities, group, as_ranked=True
    )


def most_uncertain(probas, labeled, batch_size, measure, return_utilities, group, *, as_ranked):
    """:func:`uncertainty_select`; with ``as_ranked=False``, on the scores as computed.

    BAIT's margin candidates rank the scores as computed, as on one process.
    """
    comm = Group(group)

    def check_measure():
        return {
            "measure": check_option("measure", measure, {"least_confident", "margin", "entropy"})
        }

    n_local = _probas_rows(probas)
    pool = ShardedPool(
        comm,
        np.zeros((n_local, 1)),
        probas,
        labeled,
        batch_size,
        params={"measure": measure},
        needs_probas=True,
        extra_check=check_measure,
    )
    B = pool.batch_size
    unl = pool.unlabeled
    # Scored over the whole shard, as one process scores the whole pool (numpy's
    # vectorised log rounds the last elements of an array its own way).
    scores = uncertainty_scores(pool.P, measure)[unl] if pool.P.shape[0] else np.empty(0)
    error = None
    if not np.isfinite(scores).all():
        error = ValueError("The probabilities gave non-finite uncertainty scores.")
    raise_everywhere(comm, error)
    if as_ranked:
        scores = ranked_scores(scores, measure)  # as UncertaintySampling ranks them
    # This rank's best B, then the best B of those: a stable sort on the negated
    # scores keeps ties in pool order, as on one process.
    top = np.argsort(-scores, kind="stable")[:B]
    pairs = np.full((B, 2), math.inf)
    pairs[: top.size, 0] = -scores[top]
    pairs[: top.size, 1] = pool.pool_index(unl[top])
    # from_numpy: on the CPU, whatever default device the caller set.
    pairs = comm.all_gather(torch.from_numpy(pairs)).reshape(-1, 2).numpy()
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))[:B]
    return selection_result(pairs[order, 1], -pairs[order, 0], return_utilities)


def _probas_rows(probas):
    shape = getattr(probas, "shape", None)
    try:
        return int(shape[0]) if shape is not None else len(probas)
    except TypeError:
        return 0
