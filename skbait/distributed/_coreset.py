"""Greedy k-center (CoreSet) over a sharded pool."""

import numpy as np
import torch

from skbait.distributed._comm import Group, best_exact, gather_rows, shared_scale_exponent
from skbait.distributed._pool import ShardedPool, owner_of, selection_result
from skbait.strategies._coreset import _DEFAULT_CHUNK, _block_min, _to_point
from skbait.utils._scale import times_power_of_two
from skbait.utils._validation import (
    check_chunk_size,
    check_flag,
)


def coreset_select(
    embeddings,
    labeled,
    batch_size,
    *,
    device=None,
    dtype=None,
    chunk_size=None,
    return_utilities=False,
    group=None,
):
    """Greedy k-center over a sharded pool: :func:`skbait.strategies.coreset_select` (SPMD).

    Call on every rank with that rank's shard. The pool is centred on its
    mean (one all-reduce of column sums); the distances to the labeled rows
    are taken in blocks of ``chunk_size`` labeled rows, each block gathered
    from the ranks that hold it, so no rank holds more than its shard and one
    block. Each greedy step finds the farthest row on every rank, takes the
    farthest of those (exact ties: the lowest pool index, as
    :func:`torch.argmax` does on one process) and broadcasts it from its rank
    (``d + 1`` numbers); every rank then updates its own rows.

    The picks are those of the single-process function on the concatenated
    pool. The pool mean is summed in another order than on one process, so
    the distances agree to rounding (about ``1e-16`` relative in float64):
    only two rows at distances equal to within that rounding could be picked
    in the other order.

    Parameters
    ----------
    embeddings : array-like of shape (n_local, n_dims)
        This rank's rows of the pool, labeled rows included; may have no rows.
    labeled : array-like of int or bool, or None
        This shard's labeled rows: indices into ``embeddings`` or a boolean
        mask over them.
    batch_size : int
        Number of rows to return; at most the number of unlabeled rows on all
        ranks together (a ``ValueError`` otherwise).
    device : str, torch.device or None, default=None
        Where this rank computes; ``None`` and ``"auto"`` mean CUDA when
        available.
    dtype : {None, "float32", "float64"}, default=None
        Floating type of the computation; ``None`` means float64.
    chunk_size : int, default=None
        Rows per side of a distance block; ``None`` means 1024.
    return_utilities : bool, default=False
        Also return each chosen row's distance to its nearest labeled or
        previously chosen row.
    group : ProcessGroup, default=None
        The process group; ``None`` is the default group.

    Returns
    -------
    indices : ndarray of shape (batch_size,), dtype=int64
        Pool indices (into the rank-order concatenation of the shards), in
        the order they were chosen; the same on every rank.
    utilities : ndarray of shape (batch_size,), dtype=float64
        Only with ``return_utilities=True``.

    See Also
    --------
    skbait.strategies.coreset_select : The same selection on one process.

    Examples
    --------
    A group of one process (``torchrun`` starts several):

    >>> import numpy as np
    >>> import torch.distributed as dist
    >>> from skbait.distributed import coreset_select
    >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    >>> Z = np.array([[0.0], [1.0], [2.0], [5.0], [9.0], [10.0]])
    >>> coreset_select(Z, labeled=[0], batch_size=3)
    array([5, 3, 2])
    >>> dist.destroy_process_group()
    """
    return_utilities = check_flag("return_utilities", return_utilities)
    comm = Group(group)
    pool = ShardedPool(
        comm,
        embeddings,
        None,
        labeled,
        batch_size,
        params={"chunk_size": chunk_size},
        device=device,
        dtype=dtype,
        probas_arg=False,
        extra_check=lambda: {"chunk_size": check_chunk_size(chunk_size)},
    )
    chunk = check_chunk_size(chunk_size) or _DEFAULT_CHUNK
    device, dtype = pool.device, pool.dtype
    B = pool.batch_size
    chosen = np.empty(B, dtype=np.int64)
    utilities = np.empty(B, dtype=np.float64)

    # As on one process: rescaled by a power of two where the squares would overflow.
    shift = shared_scale_exponent(comm, pool.Z, dtype)
    Z = torch.as_tensor(times_power_of_two(pool.Z, -shift), device=device).to(dtype)
    # The pool mean from every rank's column sums (float64, then the working dtype).
    total = comm.all_reduce(Z.double().sum(dim=0))
    Z = Z - (total / pool.n).to(dtype)
    snap = (pool.d + 2) * torch.finfo(dtype).eps
    cand_T = Z[torch.as_tensor(pool.unlabeled, device=device)].T.contiguous()
    norm_cand = (cand_T * cand_T).sum(dim=0)
    cand_index = torch.as_tensor(pool.pool_index(pool.unlabeled), device="cpu")

    if pool.n_labeled:
        ref_local = Z[torch.as_tensor(pool.labeled, device=device)]
        del Z
        best = nearest_norm = None
        # Blocks of the global labeled rows in pool order, as one process takes them.
        for lo in range(0, pool.n_labeled, chunk):
            ref = gather_rows(comm, ref_local, pool.labeled_counts, lo, lo + chunk)
            norm_ref = (ref * ref).sum(dim=1)
            value = torch.empty_like(norm_cand)
            value_norm = torch.empty_like(norm_cand)
            for start in range(0, norm_cand.numel(), chunk):
                stop = start + chunk
                v, arg = _block_min(cand_T[:, start:stop], ref, norm_ref)
                value[start:stop], value_norm[start:stop] = v, norm_ref[arg]
            if best is None:
                best, nearest_norm = value, value_norm
            else:
                better = value < best
                best = torch.where(better, value, best)
                nearest_norm = torch.where(better, value_norm, nearest_norm)
        dist_ = norm_cand + best
        nearest = torch.where(dist_ <= snap * (norm_cand + nearest_norm), 0.0, dist_)
        first = 0
    else:
        del Z
        # Nearest to the pool mean: the smallest norm of the centred rows.
        centre, _ = best_exact(comm, norm_cand, cand_index, maximize=False)
        chosen[0], utilities[0] = centre, float("inf")
        nearest = _coreset_update(comm, pool, cand_T, norm_cand, None, centre, snap)
        first = 1

    for step in range(first, B):
        centre, value = best_exact(comm, nearest, cand_index)
        chosen[step], utilities[step] = centre, value**0.5
        if step < B - 1:  # the last pick needs no update
            nearest = _coreset_update(comm, pool, cand_T, norm_cand, nearest, centre, snap)
    with np.errstate(over="ignore"):  # a distance float64 cannot hold is infinite
        utilities = np.ldexp(utilities, shift)
    return selection_result(chosen, utilities, return_utilities)


def _coreset_update(comm, pool, cand_T, norm_cand, nearest, centre, snap):
    """Every rank's distances to its nearest chosen row, after ``centre`` is chosen."""
    owner, row = owner_of(pool, centre)
    buffer = cand_T.new_zeros(pool.d + 1)
    if comm.rank == owner:
        pos = int(np.searchsorted(pool.unlabeled, row))
        buffer[: pool.d] = cand_T[:, pos]
        buffer[pool.d] = norm_cand[pos]
    buffer = comm.broadcast(buffer, owner)
    new = _to_point(cand_T, norm_cand, buffer[: pool.d], buffer[pool.d], snap)
    nearest = new if nearest is None else torch.minimum(nearest, new)
    if comm.rank == owner:
        # Chosen rows hold -1, below every distance, so they are never picked again.
        nearest[pos] = -1.0
    return nearest
