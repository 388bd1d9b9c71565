"""BADGE's k-means++ seeding over a sharded pool: one global D^2 draw per pick."""

import math

import numpy as np
import torch
import torch.distributed as dist
from sklearn.utils import check_random_state

from skbait.distributed._comm import (
    Group,
    best_exact,
    from_rank0,
    host,
    shared_scale_exponent,
)
from skbait.distributed._pool import ShardedPool, owner_of, selection_result
from skbait.utils._scale import times_power_of_two
from skbait.utils._validation import check_flag


def badge_select(
    embeddings,
    probas,
    labeled,
    batch_size,
    *,
    random_state=None,
    device=None,
    dtype=None,
    return_utilities=False,
    group=None,
):
    """k-means++ seeding on BADGE gradients over a sharded pool (SPMD).

    The selection of :func:`skbait.strategies.badge_select`, drawn through the
    same global ``D^2`` distribution: the rows are ordered as in the
    concatenated pool, every rank prefix-sums its own weights, the shard
    totals are all-gathered and summed in rank order, and one uniform number
    (``random_state.random_sample()``, as on one process) is inverted against
    the global cumulative weights. The number is taken from rank 0's
    ``random_state``; every rank draws one too, so that a ``RandomState``
    passed in advances as it would on one process. The rank holding the drawn
    row broadcasts its gradient factors (``d + k + 2`` numbers).

    With the same ``random_state`` the picks are those of the single-process
    function on the concatenated pool, up to rounding: the cumulative weights
    are summed per shard and then offset, so a draw landing within rounding
    (about ``1e-16`` of the total) of the border between two rows could pick
    its neighbour.

    Parameters
    ----------
    embeddings : array-like of shape (n_local, n_dims)
        This rank's last-layer embeddings ``z``; may have no rows.
    probas : array-like of shape (n_local, n_classes)
        This rank's predicted class probabilities ``p``.
    labeled : array-like of int or bool, or None
        This shard's labeled rows: indices into ``embeddings`` or a boolean
        mask over them.
    batch_size : int
        Number of rows to return; at most the number of unlabeled rows on all
        ranks together.
    random_state : int, RandomState instance or None, default=None
        Seeds the ``D^2`` draws; rank 0's is used.
    device : str, torch.device or None, default=None
        Where this rank computes; ``None`` and ``"auto"`` mean CUDA when
        available.
    dtype : {None, "float32", "float64"}, default=None
        Floating type of the computation; ``None`` means float64.
    return_utilities : bool, default=False
        Also return ``D(x)^2`` of each chosen row when it was chosen.
    group : ProcessGroup, default=None
        The process group; ``None`` is the default group.

    Returns
    -------
    indices : ndarray of shape (batch_size,), dtype=int64
        Pool indices in the order they were chosen; the same on every rank.
    utilities : ndarray of shape (batch_size,), dtype=float64
        Only with ``return_utilities=True``.

    See Also
    --------
    skbait.strategies.badge_select : The same selection on one process.

    Examples
    --------
    >>> import numpy as np
    >>> import torch.distributed as dist
    >>> from skbait.distributed import badge_select
    >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    >>> Z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    >>> P = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5], [0.99, 0.01]])
    >>> badge_select(Z, P, labeled=[0], batch_size=2, random_state=0)
    array([2, 3])
    >>> dist.destroy_process_group()
    """
    return_utilities = check_flag("return_utilities", return_utilities)
    comm = Group(group)
    rng = None

    def check_random_state_here():
        # Checked with the shard, so that a seed only one rank rejects fails on every rank.
        nonlocal rng
        rng = check_random_state(random_state)
        return {}

    pool = ShardedPool(
        comm,
        embeddings,
        probas,
        labeled,
        batch_size,
        params={},
        device=device,
        dtype=dtype,
        needs_probas=True,
        extra_check=check_random_state_here,
    )
    device, dtype = pool.device, pool.dtype
    eps = torch.finfo(dtype).eps
    B, d, k = pool.batch_size, pool.d, pool.k
    unl = pool.unlabeled
    m = unl.size

    # As on one process: rescaled by a power of two where the squares would overflow,
    # embeddings as columns, a_x = p_x - e_yhat, the norms.
    shift = shared_scale_exponent(comm, pool.Z, dtype)
    Z = times_power_of_two(pool.Z, -shift)
    z_T = torch.as_tensor(Z[unl], device=device).to(dtype).T.contiguous()
    a = torch.as_tensor(pool.P[unl], device=device).to(dtype)
    if m:
        a[torch.arange(m, device=device), torch.argmax(a, dim=1)] -= 1.0
    norm_g = (a * a).sum(dim=1) * (z_T * z_T).sum(dim=0)
    snap = (k + d + 2) * eps
    cand_index = torch.as_tensor(pool.pool_index(unl), device="cpu")

    chosen = np.empty(B, dtype=np.int64)
    utilities = np.empty(B, dtype=np.float64)
    taken = np.zeros(m, dtype=bool)
    centre, value = best_exact(comm, norm_g, cand_index)
    if value == 0.0:  # every gradient zero: the first centre uniform, as on one process
        centre = _badge_draw(comm, pool, torch.zeros_like(norm_g), taken, rng)
    chosen[0], utilities[0] = centre, value
    d2 = torch.full_like(norm_g, float("inf"))
    for step in range(1, B):
        owner, row = owner_of(pool, centre)
        mine = comm.rank == owner
        pos = int(np.searchsorted(unl, row)) if mine else None
        # The centre's factors, from its rank: a_c, z_c, ||g_c||^2.
        buffer = norm_g.new_zeros(k + d + 1)
        if mine:
            taken[pos] = True
            buffer[:k], buffer[k : k + d], buffer[-1] = a[pos], z_T[:, pos], norm_g[pos]
        buffer = comm.broadcast(buffer, owner)
        a_c, z_c, norm_c = buffer[:k], buffer[k : k + d], buffer[-1]
        dist_ = norm_g + norm_c - 2.0 * (a @ a_c) * (z_c @ z_T)
        dist_ = torch.where(dist_ <= snap * (norm_g + norm_c), 0.0, dist_)
        d2 = torch.minimum(d2, dist_)
        if mine:
            d2[pos] = 0.0
        centre = _badge_draw(comm, pool, d2, taken, rng)
        owner, row = owner_of(pool, centre)
        value = d2.new_zeros(1)
        if comm.rank == owner:
            value[0] = d2[int(np.searchsorted(unl, row))]
        utilities[step] = float(comm.broadcast(value, owner)[0])
        chosen[step] = centre
    with np.errstate(over="ignore"):  # a weight float64 cannot hold is infinite
        utilities = np.ldexp(utilities, 2 * shift)
    return selection_result(chosen, utilities, return_utilities)


def _badge_draw(comm, pool, d2, taken, rng):
    """Pool index of the next centre, drawn with probability proportional to ``d2``.

    The inverse-CDF draw of the single-process function over the rank-order
    concatenation: cumulative weights are this rank's prefix sums offset by
    the totals of the ranks before it.
    """
    cumulative = torch.cumsum(d2.to(torch.float64), dim=0)
    local_total = float(cumulative[-1]) if cumulative.numel() else 0.0
    totals = comm.all_gather(host([local_total]))[:, 0].tolist()
    offset = total = 0.0
    for rank, t in enumerate(totals):  # in rank order, as the cumulative sum runs
        if rank == comm.rank:
            offset = total
        total += t
    if total > 0.0:
        u = from_rank0(comm, rng.random_sample())
        target = u * total
        # First row whose cumulative weight exceeds the target (searchsorted, right=True).
        where = torch.searchsorted(
            cumulative + offset,
            torch.tensor([target], dtype=torch.float64, device=d2.device),
            right=True,
        )
        pos = int(where[0])
        found = pool.offset + pool.unlabeled[pos] if pos < d2.numel() else math.inf
        index = comm.all_reduce(host([float(found)]), op=dist.ReduceOp.MIN)
        if math.isfinite(index.item()):
            return int(index.item())
        # u * total rounded up to total: the last row with a positive weight.
        positive = torch.nonzero(d2 > 0).flatten()
        last = pool.offset + pool.unlabeled[int(positive[-1])] if positive.numel() else -1
        index = comm.all_reduce(host([float(last)]), op=dist.ReduceOp.MAX)
        return int(index.item())
    # Every weight is zero: uniform over the rows not yet chosen, in pool order.
    remaining = np.flatnonzero(~taken)
    counts = comm.all_gather(host([remaining.size], torch.int64))[:, 0].numpy()
    draw = from_rank0(comm, rng.randint(int(counts.sum())))
    starts = np.concatenate([[0], np.cumsum(counts)])
    rank = int(np.searchsorted(starts, draw, side="right") - 1)
    index = host([0], torch.int64)
    if comm.rank == rank:
        index[0] = pool.offset + pool.unlabeled[remaining[draw - starts[rank]]]
    return int(comm.broadcast(index, rank)[0])
