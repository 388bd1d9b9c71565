"""The process group: collectives on the right device, errors raised on every rank.

Also the reductions every sharded selection shares: the global best of a score, rows
gathered in pool order, a value of rank 0's.
"""

import math

import numpy as np
import torch
import torch.distributed as dist

from skbait.utils._scale import largest_magnitude, scale_exponent


class Group:
    """A process group and the device its collectives run on.

    NCCL communicates CUDA tensors only (on the rank's current device); gloo
    and MPI communicate CPU tensors here.
    """

    def __init__(self, group):
        if not dist.is_available():
            raise RuntimeError(
                "torch.distributed is not available in this build of torch; the functions of "
                "skbait.distributed need it. Use skbait.strategies on a single machine."
            )
        if not dist.is_initialized():
            raise RuntimeError(
                "No torch.distributed process group is initialised. Call "
                "torch.distributed.init_process_group('gloo') (CPUs) or ('nccl') (GPUs) on "
                "every rank first; torchrun sets the environment it reads. On one machine "
                "without torchrun, use skbait.strategies instead."
            )
        self.group = group
        self.rank = dist.get_rank(group)
        if self.rank < 0:
            raise RuntimeError("This process is not a member of the process group passed.")
        self.size = dist.get_world_size(group)
        backend = str(dist.get_backend(group)).lower()
        if "nccl" in backend:
            self.device = torch.device("cuda", torch.cuda.current_device())
        else:
            self.device = torch.device("cpu")

    def global_rank(self, rank):
        return rank if self.group is None else dist.get_global_rank(self.group, rank)

    def all_gather_object(self, obj):
        out = [None] * self.size
        dist.all_gather_object(out, obj, group=self.group)
        return out

    def broadcast_object(self, obj, src):
        box = [obj]
        dist.broadcast_object_list(box, src=self.global_rank(src), group=self.group)
        return box[0]

    def all_gather(self, tensor):
        """Every rank's copy of ``tensor`` (same shape on every rank), on ``tensor``'s device."""
        t = tensor.to(self.device).contiguous()
        out = [torch.empty_like(t) for _ in range(self.size)]
        dist.all_gather(out, t, group=self.group)
        return torch.stack(out).to(tensor.device)

    def all_reduce(self, tensor, op=dist.ReduceOp.SUM):
        t = tensor.to(self.device).contiguous()
        dist.all_reduce(t, op=op, group=self.group)
        return t.to(tensor.device)

    def broadcast(self, tensor, src):
        """``tensor`` as held by rank ``src`` (every rank passes one of the same shape)."""
        t = tensor.to(self.device).contiguous()
        dist.broadcast(t, src=self.global_rank(src), group=self.group)
        return t.to(tensor.device)


def host(values, dtype=torch.float64):
    """A CPU tensor of ``values`` (a list) to send through a collective.

    Made on the CPU whatever default device the caller set
    (``torch.set_default_device``): :class:`Group` moves it to the
    communication device and back, and the callers read it with numpy.
    """
    return torch.tensor(values, dtype=dtype, device="cpu")


def raise_everywhere(group, error, meta=None):
    """Share every rank's local error (or metadata); raise the first error on all ranks.

    One ``all_gather_object``: after it, every rank has seen the same errors,
    so they all raise the same one and none is left waiting in a collective.
    """
    gathered = group.all_gather_object((meta, error_report(error)))
    for rank, (_, report) in enumerate(gathered):
        if report is not None:
            raise rebuild_error(report, f"rank {rank}") from error
    return [m for m, _ in gathered]


def error_report(error):
    """What travels of an exception: its class and message (both pickle)."""
    return None if error is None else (type(error), str(error))


def rebuild_error(report, where):
    cls, message = report
    try:
        return cls(f"{where}: {message}")
    except Exception:  # an exception class with another signature
        return RuntimeError(f"{where}: {cls.__name__}: {message}")


def shard_offsets(n_local, *, group=None):
    """Pool index of the first row of every rank's shard (and the pool size).

    Parameters
    ----------
    n_local : int
        Number of rows in this rank's shard.
    group : ProcessGroup, default=None
        The process group; ``None`` is the default group.

    Returns
    -------
    offsets : ndarray of shape (world_size + 1,), dtype=int64
        Rank ``r`` holds pool rows ``offsets[r]`` to ``offsets[r + 1] - 1``;
        ``offsets[-1]`` is the pool size. The same on every rank.

    Examples
    --------
    A group of one process (``torchrun`` starts several):

    >>> import torch.distributed as dist
    >>> from skbait.distributed import shard_offsets
    >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    >>> shard_offsets(5)
    array([0, 5])
    >>> dist.destroy_process_group()
    """
    comm = Group(group)
    counts = comm.all_gather(host([int(n_local)], torch.int64))
    return np.concatenate([[0], np.cumsum(counts.flatten().numpy())]).astype(np.int64)


def best_exact(comm, values, pool_index, *, maximize=True):
    """Global best of ``values`` (exact ties: lowest pool index), as (pool index, value).

    ``values`` are this rank's candidates, ``pool_index`` their pool indices
    (ascending). One all-gather of a (value, index) pair per rank.
    """
    worst = -math.inf if maximize else math.inf
    pair = host([worst, math.inf])
    if values.numel():
        # torch.argmax/argmin return the first extreme position: the lowest index.
        pos = int(torch.argmax(values) if maximize else torch.argmin(values))
        pair = host([float(values[pos]), float(pool_index[pos])])
    pairs = comm.all_gather(pair)
    best = pairs[:, 0].max() if maximize else pairs[:, 0].min()
    index = pairs[pairs[:, 0] == best, 1].min()
    return int(index.item()), float(best.item())


def gather_rows(comm, local, counts, lo, hi):
    """Rows ``lo:hi`` of the rank-order concatenation of every rank's ``local`` rows.

    ``counts`` are the numbers of rows every rank holds; the result is the same
    on every rank. One all-gather, each rank padding its part to the longest.
    """
    starts = np.concatenate([[0], np.cumsum(counts)])
    parts = [(max(lo, starts[r]), min(hi, starts[r + 1])) for r in range(comm.size)]
    width = max(max(b - a, 0) for a, b in parts)
    a, b = parts[comm.rank]
    mine = local.new_zeros((width,) + tuple(local.shape[1:]))
    if b > a:
        mine[: b - a] = local[a - starts[comm.rank] : b - starts[comm.rank]]
    gathered = comm.all_gather(mine)
    return torch.cat([gathered[r, : max(b - a, 0)] for r, (a, b) in enumerate(parts)])


def shared_scale_exponent(comm, local, dtype):
    """:func:`~skbait.utils._scale.scale_exponent` of the whole pool: the same on every rank.

    ``local`` is this rank's rows; their largest entries are all-reduced, so
    that every rank rescales by the power of two one process would use.
    """
    largest = host([largest_magnitude(local)])
    return scale_exponent(float(comm.all_reduce(largest, op=dist.ReduceOp.MAX)[0]), dtype)


def from_rank0(comm, value):
    """Rank 0's ``value`` (a float or an integer below 2**53) on every rank."""
    out = comm.broadcast(host([float(value)]), 0)[0].item()
    return int(out) if isinstance(value, (int, np.integer)) else out
