"""Selection over a pool sharded across the ranks of a ``torch.distributed`` group.

Each function here is SPMD: call it on every rank of an initialised process
group (``torch.distributed.init_process_group``, as ``torchrun`` sets up), with
that rank's *shard* of the pool, in the same order on every rank and with the
same parameters. The pool is the concatenation of the shards in rank order;
every rank returns the same indices into that concatenation. Shards may be
uneven, and some may be empty.

``labeled`` is given per shard: indices into the rank's own rows (or a boolean
mask over them). Row ``i`` of rank ``r`` is row ``offset_r + i`` of the pool,
where ``offset_r`` is the number of rows on the ranks before ``r``
(:func:`shard_offsets`).

No rank ever holds the whole pool. What travels is small: the ``(k d) x (k d)``
pool Fisher and starting design of BAIT, once; then per greedy step a few
scalars (the best local candidate's score and index) and the winner's factors
(``d + k`` numbers). The picks are those of the single-process functions of
:mod:`skbait.strategies` on the concatenated pool; see each function for the
rounding caveats.

Inputs are checked on every rank, and an error on any rank is raised on all of
them (naming the rank), so that a bad shard never leaves the others waiting in
a collective.
"""

import math
import pickle
import warnings

import numpy as np
import scipy.sparse as sp
import torch
import torch.distributed as dist
from sklearn.base import clone, is_classifier
from sklearn.utils import _safe_indexing, check_random_state

from skbait._fisher import (
    Choice,
    Factors,
    KroneckerGreedy,
    TraceObjective,
    forward_steps,
    kron_gram,
)
from skbait.base import as_labeled_mask, n_rows
from skbait.embeddings import embed
from skbait.strategies._coreset import _DEFAULT_CHUNK, _block_min, _to_point
from skbait.strategies._uncertainty import uncertainty_scores
from skbait.utils._torch import resolve_device, resolve_dtype
from skbait.utils._validation import (
    check_batch_size,
    check_chunk_size,
    check_embeddings,
    check_option,
    check_probas,
    check_real,
)

__all__ = [
    "badge_select",
    "bait_select",
    "coreset_select",
    "fit_and_select",
    "shard_offsets",
    "uncertainty_select",
]


# ---------------------------------------------------------------------------- the group
class _Group:
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


def _raise_everywhere(group, error, meta=None):
    """Share every rank's local error (or metadata); raise the first error on all ranks.

    One ``all_gather_object``: after it, every rank has seen the same errors,
    so they all raise the same one and none is left waiting in a collective.
    """
    gathered = group.all_gather_object((meta, _report(error)))
    for rank, (_, report) in enumerate(gathered):
        if report is not None:
            raise _rebuild(report, f"rank {rank}") from error
    return [m for m, _ in gathered]


def _report(error):
    """What travels of an exception: its class and message (both pickle)."""
    return None if error is None else (type(error), str(error))


def _rebuild(report, where):
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
    comm = _Group(group)
    counts = comm.all_gather(torch.tensor([int(n_local)], dtype=torch.int64))
    return np.concatenate([[0], np.cumsum(counts.flatten().numpy())]).astype(np.int64)


# ---------------------------------------------------------------------- the sharded pool
class _Pool:
    """This rank's validated shard and the layout of the whole pool.

    Checks the shard locally, then shares one record per rank: row count,
    embedding width, classes, labeled count and the call's parameters. Every
    rank checks the same records, so every rank raises the same error.
    """

    def __init__(
        self,
        comm,
        embeddings,
        probas,
        labeled,
        batch_size,
        *,
        params,
        probas_arg=True,
        needs_probas=False,
        extra_check=None,
    ):
        self.comm = comm
        error = meta = None
        try:
            self.Z = _shard_embeddings(embeddings)
            n = self.Z.shape[0]
            self.P = None
            if probas_arg:
                if probas is None and needs_probas:
                    raise TypeError(
                        "This selection needs class probabilities; `probas` is None. For "
                        "regression use bait_select or coreset_select."
                    )
                self.P = _shard_probas(probas, n)
            self.mask = as_labeled_mask(labeled, n)
            self.batch_size = check_batch_size(batch_size)
            if extra_check is not None:
                params = dict(params, **extra_check())
            meta = {
                "n": n,
                "d": self.Z.shape[1] if n else None,
                "probas": self.P is not None,
                "k": self.P.shape[1] if self.P is not None and n else None,
                "n_labeled": int(self.mask.sum()),
                "batch_size": self.batch_size,
                "params": params,
            }
        except Exception as exc:  # shared below, so that no rank hangs
            error = exc
        metas = _raise_everywhere(comm, error, meta)
        self._check_agreement(metas)
        counts = np.array([m["n"] for m in metas], dtype=np.int64)
        labeled_counts = np.array([m["n_labeled"] for m in metas], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.n = int(self.offsets[-1])
        self.labeled_counts = labeled_counts
        self.n_labeled = int(labeled_counts.sum())
        self.n_unlabeled = self.n - self.n_labeled
        self.d = next(m["d"] for m in metas if m["d"] is not None)
        ks = [m["k"] for m in metas if m["k"] is not None]
        self.k = ks[0] if ks else None
        # Shapes fixed by the other ranks, for an empty shard.
        self.Z = self.Z.reshape(self.Z.shape[0], self.d)
        if self.P is not None:
            self.P = self.P.reshape(self.P.shape[0], self.k)
        self.offset = int(self.offsets[comm.rank])
        self.unlabeled = np.flatnonzero(~self.mask)
        self.labeled = np.flatnonzero(self.mask)

    def _check_agreement(self, metas):
        def disagree(what, values):
            shown = ", ".join(f"rank {r} has {v!r}" for r, v in values)
            raise ValueError(
                f"The shards disagree on {what}: {shown}. Every rank must pass the same "
                "kind of arrays and the same parameters."
            )

        if all(m["n"] == 0 for m in metas):
            raise ValueError("Every shard is empty: the pool has no rows.")
        widths = [(r, m["d"]) for r, m in enumerate(metas) if m["d"] is not None]
        if len({d for _, d in widths}) > 1:
            disagree("the embedding width d (embeddings.shape[1])", widths)
        has_probas = [(r, m["probas"]) for r, m in enumerate(metas)]
        if len({p for _, p in has_probas}) > 1:
            disagree("whether probabilities are given (None on some ranks)", has_probas)
        classes = [(r, m["k"]) for r, m in enumerate(metas) if m["k"] is not None]
        if len({k for _, k in classes}) > 1:
            disagree("the number of classes k (probas.shape[1])", classes)
        sizes = [(r, m["batch_size"]) for r, m in enumerate(metas)]
        if len({b for _, b in sizes}) > 1:
            disagree("batch_size", sizes)
        for name in metas[0]["params"]:
            values = [(r, m["params"][name]) for r, m in enumerate(metas)]
            if len({repr(v) for _, v in values}) > 1:
                disagree(f"`{name}`", values)
        n_unlabeled = sum(m["n"] - m["n_labeled"] for m in metas)
        if n_unlabeled == 0:
            raise ValueError("Every row of the pool is labeled: there is nothing left to select.")
        batch_size = metas[0]["batch_size"]
        if batch_size > n_unlabeled:
            raise ValueError(
                f"batch_size={batch_size} is larger than the number of unlabeled rows on all "
                f"ranks together ({n_unlabeled}). Ask for at most {n_unlabeled}."
            )

    def pool_index(self, local_rows):
        """Pool indices of this shard's rows."""
        return self.offset + np.asarray(local_rows, dtype=np.int64)


def _shard_embeddings(embeddings):
    """Like ``check_embeddings``, but a shard may have no rows."""
    if isinstance(embeddings, torch.Tensor):
        embeddings = embeddings.detach().cpu().numpy()
    Z = np.asarray(embeddings)
    if Z.ndim in (1, 2) and Z.shape[0] == 0:
        # An empty shard: its width, if any, comes from the other ranks.
        return np.empty((0, Z.shape[1] if Z.ndim == 2 else 0), dtype=np.float64)
    return check_embeddings(Z)


def _shard_probas(probas, n):
    if probas is None:
        return None
    if n == 0:
        P = np.asarray(probas.detach().cpu() if isinstance(probas, torch.Tensor) else probas)
        if P.shape[0] != 0:
            raise ValueError(f"`probas` must have one row per embedding row (0), got {P.shape}.")
        return np.empty((0, P.shape[1] if P.ndim == 2 else 0), dtype=np.float64)
    return check_probas(probas, n)


# ------------------------------------------------------------------- global reductions
def _best_exact(comm, values, pool_index, *, maximize=True):
    """Global best of ``values`` (exact ties: lowest pool index), as (pool index, value).

    ``values`` are this rank's candidates, ``pool_index`` their pool indices
    (ascending). One all-gather of a (value, index) pair per rank.
    """
    worst = -math.inf if maximize else math.inf
    pair = torch.tensor([worst, math.inf], dtype=torch.float64)
    if values.numel():
        # torch.argmax/argmin return the first extreme position: the lowest index.
        pos = int(torch.argmax(values) if maximize else torch.argmin(values))
        pair = torch.tensor([float(values[pos]), float(pool_index[pos])], dtype=torch.float64)
    pairs = comm.all_gather(pair)
    best = pairs[:, 0].max() if maximize else pairs[:, 0].min()
    index = pairs[pairs[:, 0] == best, 1].min()
    return int(index.item()), float(best.item())


def _owner(pool, index):
    """The rank holding pool row ``index``, and the row's position in that shard."""
    rank = int(np.searchsorted(pool.offsets, index, side="right") - 1)
    return rank, int(index - pool.offsets[rank])


def _gather_rows(comm, local, counts, lo, hi):
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


def _selection(chosen, utilities, return_utilities):
    chosen = np.asarray(chosen, dtype=np.int64)
    return (chosen, np.asarray(utilities, dtype=np.float64)) if return_utilities else chosen


# --------------------------------------------------------------------------------- BAIT
class _ShardedGreedy(KroneckerGreedy):
    """:class:`~skbait._fisher.KroneckerGreedy` over one shard, choosing across all of them.

    Every rank tracks only its own candidates (``ids`` are their pool
    indices) and keeps a full copy of the design: the ``(k d)^2`` matrices
    and the factors of the rows added. Only :meth:`choose` talks to the other
    ranks; every rank then applies the same update with the winner's factors.

    A rank whose rows turn ``bad`` (an ``r x r`` system not positive definite,
    a numerical accident) refreshes its own design from the exact ``M``; the
    others keep theirs, equal to rounding. Choices are collective, so the
    ranks never disagree on a pick.
    """

    def __init__(self, factors, M0, objective, *, chunk_size, ids, comm, owners):
        self.comm = comm
        self._owners = owners  # pool offsets of the shards: who holds an id
        super().__init__(factors, M0, objective, chunk_size=chunk_size, ids=ids)

    def choose(self, scores, usable, *, maximize=True, bounded=False):
        """The single-process tie rule over every rank's rows (see the base class's notes)."""
        comm = self.comm
        candidates = None
        if bounded:
            self._tighten(scores, usable)  # local: the pool's floor is at least this rank's
            floor = comm.all_reduce(self._floor(usable).reshape(1), dist.ReduceOp.MAX)[0]
            if not torch.isfinite(floor):
                return None
            candidates = self._contenders(scores, usable, floor)
            counts = torch.tensor([candidates.numel(), len(self.rows)])
            counts = comm.all_reduce(counts, dist.ReduceOp.SUM)
            self._record_pruning(int(counts[0]), int(counts[1]))
            exact, bad = self.rows.exact_scores(candidates, +1)
            scores = torch.where(bad, -math.inf, exact)
        else:
            scores = torch.where(usable, scores, -math.inf if maximize else math.inf)
        if not maximize:
            scores = -scores
        local_best = scores.max() if scores.numel() else scores.new_tensor(-math.inf)
        best = comm.all_reduce(local_best.reshape(1), dist.ReduceOp.MAX)[0]
        if not torch.isfinite(best):
            return None
        # The lowest id within the tolerance of the global best, on every rank.
        tied = torch.nonzero(scores >= best - self.rtol * best.abs()).flatten()
        slots = tied if candidates is None else candidates[tied]
        ids = self.ids[self.rows.positions[slots]]
        mine = int(ids.min()) if ids.numel() else _NO_ID
        winner = int(comm.all_reduce(torch.tensor([mine]), dist.ReduceOp.MIN)[0])
        owner = int(np.searchsorted(self._owners, winner, side="right") - 1)
        # Its score and factors, from the rank that holds it.
        d, k, r = self.factors.d, self.factors.k, self.factors.r
        buffer = scores.new_zeros(1 + d + k * r)
        slot = None
        if comm.rank == owner:
            j = int(torch.nonzero(ids == winner)[0, 0])
            slot = int(slots[j])
            position = self.rows.positions[slot]
            buffer[0] = scores[tied[j]] if maximize else -scores[tied[j]]
            buffer[1 : 1 + d] = self.factors.Z[position]
            buffer[1 + d :] = self.factors.S[position].flatten()
        buffer = comm.broadcast(buffer, owner)
        return Choice(
            winner, buffer[0].item(), buffer[1 : 1 + d], buffer[1 + d :].reshape(k, r), slot
        )


_NO_ID = np.iinfo(np.int64).max


def bait_select(
    embeddings,
    probas,
    labeled,
    batch_size,
    *,
    reg=1.0,
    oversample=2,
    backward=True,
    fisher="pool",
    device=None,
    dtype=None,
    chunk_size=None,
    return_utilities=False,
    group=None,
):
    """BAIT over a sharded pool: :func:`skbait.strategies.bait_select` (SPMD).

    Call on every rank with that rank's shard. What each rank does:

    - its rows' share of the pool Fisher ``F`` and of the labeled information
      in ``M_0`` (packed ``kron_gram`` sums), all-reduced once: every rank
      then holds ``F``, ``M_0`` and ``G = M^-1`` (``(k d) x (k d)`` each);
    - the per-row state ``P_x``, ``Q_x`` (``k x k`` each) of its own
      unlabeled rows only;
    - each greedy step: its best candidate's score, all-reduced (max), then
      the lowest pool index within the tie tolerance of the global best,
      all-reduced (min); with bounds (classification), one more all-reduce
      (max) of the best lower bound first, so that every rank solves the
      same contenders; then the winner's rank broadcasts its factors
      (``1 + d + k^2`` numbers) and every rank applies the same rank-``k``
      update to ``G`` and to its own rows;
    - the backward phase: each rank keeps the state of the rows it
      contributed, and every removal is chosen the same way.

    The picks are those of the single-process function on the concatenated
    pool, by the same tie rule (relative ``1e-9`` in float64, ``1e-5`` in
    float32; the lowest pool index wins), including the bounded scoring of
    the contenders. ``F`` and ``M_0`` are summed in another order than on one
    process, so scores agree to rounding, far inside the tie tolerance.

    Parameters
    ----------
    embeddings : array-like of shape (n_local, n_dims)
        This rank's last-layer embeddings, labeled rows included; may have no
        rows.
    probas : array-like of shape (n_local, n_classes) or None
        This rank's class probabilities, or ``None`` for regression (on every
        rank).
    labeled : array-like of int or bool
        This shard's labeled rows: indices into ``embeddings`` or a boolean
        mask over them.
    batch_size : int
        Number of rows to return; at most the number of unlabeled rows on all
        ranks together. When it equals that number, every unlabeled row is
        returned in pool order.
    reg : float, default=1.0
        The regulariser ``lambda`` (> 0).
    oversample : float, default=2
        Forward steps per batch row (>= 1) before pruning back.
    backward : bool, default=True
        Prune back to ``batch_size``; ``False`` is the forward-only variant.
    fisher : {"pool", "identity"}, default="pool"
        ``"identity"`` minimises ``tr(M^-1)``.
    device : {"auto", "cpu", "cuda", "cuda:N"}, torch.device or None, default=None
        Where this rank computes; ``None`` and ``"auto"`` use CUDA when available.
    dtype : {None, "float32", "float64"} or torch.dtype, default=None
        Computation dtype; ``None`` is float64.
    chunk_size : int, default=None
        Rows processed together on each rank.
    return_utilities : bool, default=False
        Also return each chosen row's decrease of ``tr(M^-1 F)`` at the
        forward step that added it.
    group : ProcessGroup, default=None
        The process group; ``None`` is the default group.

    Returns
    -------
    indices : ndarray of shape (batch_size,), dtype=int64
        Pool indices in the order they were added; the same on every rank.
    utilities : ndarray of shape (batch_size,), dtype=float64
        Only with ``return_utilities=True``.

    See Also
    --------
    skbait.strategies.bait_select : The same selection on one process.

    Examples
    --------
    >>> import numpy as np
    >>> import torch.distributed as dist
    >>> from skbait.distributed import bait_select
    >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    >>> rng = np.random.RandomState(0)
    >>> Z = rng.normal(size=(40, 3))
    >>> P = np.exp(Z @ rng.normal(size=(3, 4)))
    >>> P /= P.sum(axis=1, keepdims=True)
    >>> idx = bait_select(Z, P, labeled=np.arange(5), batch_size=4, device="cpu")
    >>> idx.shape, bool(np.all(idx >= 5)), np.unique(idx).size
    ((4,), True, 4)
    >>> dist.destroy_process_group()
    """
    comm = _Group(group)

    def check_params():
        if not isinstance(backward, (bool, np.bool_)):
            raise TypeError(f"`backward` must be a bool, got {backward!r}.")
        return {
            "reg": check_real("reg", reg, 0.0, strict=True),
            "oversample": check_real("oversample", oversample, 1.0, strict=False),
            "fisher": check_option("fisher", fisher, {"pool", "identity"}),
            "chunk_size": check_chunk_size(chunk_size),
        }

    pool = _Pool(
        comm,
        embeddings,
        probas,
        labeled,
        batch_size,
        params={"backward": bool(backward), "dtype": str(dtype)},
        extra_check=check_params,
    )
    B, U = pool.batch_size, pool.n_unlabeled
    if U == B:
        # Nothing to choose: every unlabeled row goes, in pool order.
        everyone = comm.all_gather_object(pool.pool_index(pool.unlabeled))
        return _selection(np.concatenate(everyone), np.full(U, np.nan), return_utilities)
    device = resolve_device(device)
    dtype = resolve_dtype(dtype)
    Z = torch.as_tensor(pool.Z, device=device).to(dtype)
    if pool.P is None:
        rows = Factors.regression(Z)
    else:
        rows = Factors.bait(Z, torch.as_tensor(pool.P, device=device).to(dtype))
    k, d = rows.k, pool.d
    # M_0 = reg I + n_L / (n_L + B) * mean labeled information, from every rank's rows.
    lab = rows[torch.as_tensor(pool.labeled, dtype=torch.long, device=device)]
    M0 = comm.all_reduce(kron_gram(lab.Z.double(), lab.S.double())) / (pool.n_labeled + B)
    M0 = M0 + float(reg) * torch.eye(k * d, dtype=torch.float64, device=device)
    F = None
    if fisher == "pool":
        F = comm.all_reduce(kron_gram(rows.Z, rows.S)) / pool.n
    scale = math.sqrt(B / (pool.n_labeled + B))
    candidates = rows[torch.as_tensor(pool.unlabeled, dtype=torch.long, device=device)]
    candidates = candidates.scaled(scale)
    del Z, rows, lab  # only the candidates' factors are needed from here on
    greedy = _ShardedGreedy(
        candidates,
        M0,
        TraceObjective(F),
        chunk_size=check_chunk_size(chunk_size),
        ids=torch.as_tensor(pool.pool_index(pool.unlabeled), device=device),
        comm=comm,
        owners=pool.offsets,
    )
    n_forward = forward_steps(oversample, B, U, bool(backward))
    prune = n_forward > B
    greedy.forward(n_forward, final_keep_picked=prune)
    if prune:
        greedy.backward(B)
    return _selection(greedy.picked, greedy.gains, return_utilities)


# ------------------------------------------------------------------------------ CoreSet
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
    comm = _Group(group)
    pool = _Pool(
        comm,
        embeddings,
        None,
        labeled,
        batch_size,
        params={"dtype": str(dtype), "chunk_size": chunk_size},
        probas_arg=False,
        extra_check=lambda: {"chunk_size": check_chunk_size(chunk_size)},
    )
    chunk = check_chunk_size(chunk_size) or _DEFAULT_CHUNK
    device = resolve_device(device)
    dtype = resolve_dtype(dtype)
    B = pool.batch_size
    chosen = np.empty(B, dtype=np.int64)
    utilities = np.empty(B, dtype=np.float64)

    Z = torch.as_tensor(pool.Z, device=device).to(dtype)
    # The pool mean from every rank's column sums (float64, then the working dtype).
    total = comm.all_reduce(Z.double().sum(dim=0))
    Z = Z - (total / pool.n).to(dtype)
    snap = (pool.d + 2) * torch.finfo(dtype).eps
    cand_T = Z[torch.as_tensor(pool.unlabeled, device=device)].T.contiguous()
    norm_cand = (cand_T * cand_T).sum(dim=0)
    cand_index = torch.as_tensor(pool.pool_index(pool.unlabeled))

    if pool.n_labeled:
        ref_local = Z[torch.as_tensor(pool.labeled, device=device)]
        del Z
        best = nearest_norm = None
        # Blocks of the global labeled rows in pool order, as one process takes them.
        for lo in range(0, pool.n_labeled, chunk):
            ref = _gather_rows(comm, ref_local, pool.labeled_counts, lo, lo + chunk)
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
        centre, _ = _best_exact(comm, norm_cand, cand_index, maximize=False)
        chosen[0], utilities[0] = centre, float("inf")
        nearest = _coreset_update(comm, pool, cand_T, norm_cand, None, centre, snap)
        first = 1

    for step in range(first, B):
        centre, value = _best_exact(comm, nearest, cand_index)
        chosen[step], utilities[step] = centre, value**0.5
        if step < B - 1:  # the last pick needs no update
            nearest = _coreset_update(comm, pool, cand_T, norm_cand, nearest, centre, snap)
    return _selection(chosen, utilities, return_utilities)


def _coreset_update(comm, pool, cand_T, norm_cand, nearest, centre, snap):
    """Every rank's distances to its nearest chosen row, after ``centre`` is chosen."""
    owner, row = _owner(pool, centre)
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


# -------------------------------------------------------------------------------- BADGE
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
    comm = _Group(group)
    pool = _Pool(
        comm,
        embeddings,
        probas,
        labeled,
        batch_size,
        params={"dtype": str(dtype)},
        needs_probas=True,
    )
    rng = check_random_state(random_state)
    device = resolve_device(device)
    dtype = resolve_dtype(dtype)
    eps = torch.finfo(dtype).eps
    B, d, k = pool.batch_size, pool.d, pool.k
    unl = pool.unlabeled
    m = unl.size

    # As on one process: embeddings as columns, a_x = p_x - e_yhat, the norms.
    z_T = torch.as_tensor(pool.Z[unl], device=device).to(dtype).T.contiguous()
    a = torch.as_tensor(pool.P[unl], device=device).to(dtype)
    if m:
        a[torch.arange(m, device=device), torch.argmax(a, dim=1)] -= 1.0
    norm_g = (a * a).sum(dim=1) * (z_T * z_T).sum(dim=0)
    snap = (k + d + 2) * eps
    cand_index = torch.as_tensor(pool.pool_index(unl))

    chosen = np.empty(B, dtype=np.int64)
    utilities = np.empty(B, dtype=np.float64)
    taken = np.zeros(m, dtype=bool)
    centre, value = _best_exact(comm, norm_g, cand_index)
    chosen[0], utilities[0] = centre, value
    d2 = torch.full_like(norm_g, float("inf"))
    for step in range(1, B):
        owner, row = _owner(pool, centre)
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
        owner, row = _owner(pool, centre)
        value = d2.new_zeros(1)
        if comm.rank == owner:
            value[0] = d2[int(np.searchsorted(unl, row))]
        utilities[step] = float(comm.broadcast(value, owner)[0])
        chosen[step] = centre
    return _selection(chosen, utilities, return_utilities)


def _badge_draw(comm, pool, d2, taken, rng):
    """Pool index of the next centre, drawn with probability proportional to ``d2``.

    The inverse-CDF draw of the single-process function over the rank-order
    concatenation: cumulative weights are this rank's prefix sums offset by
    the totals of the ranks before it.
    """
    cumulative = torch.cumsum(d2.to(torch.float64), dim=0)
    local_total = float(cumulative[-1]) if cumulative.numel() else 0.0
    totals = comm.all_gather(torch.tensor([local_total], dtype=torch.float64))[:, 0].tolist()
    offset = total = 0.0
    for rank, t in enumerate(totals):  # in rank order, as the cumulative sum runs
        if rank == comm.rank:
            offset = total
        total += t
    if total > 0.0:
        u = _from_rank0(comm, rng.random_sample())
        target = u * total
        # First row whose cumulative weight exceeds the target (searchsorted, right=True).
        where = torch.searchsorted(
            cumulative + offset,
            torch.tensor([target], dtype=torch.float64, device=d2.device),
            right=True,
        )
        pos = int(where[0])
        found = pool.offset + pool.unlabeled[pos] if pos < d2.numel() else math.inf
        index = comm.all_reduce(
            torch.tensor([float(found)], dtype=torch.float64), op=dist.ReduceOp.MIN
        )
        if math.isfinite(index.item()):
            return int(index.item())
        # u * total rounded up to total: the last row with a positive weight.
        positive = torch.nonzero(d2 > 0).flatten()
        last = pool.offset + pool.unlabeled[int(positive[-1])] if positive.numel() else -1
        index = comm.all_reduce(
            torch.tensor([float(last)], dtype=torch.float64), op=dist.ReduceOp.MAX
        )
        return int(index.item())
    # Every weight is zero: uniform over the rows not yet chosen, in pool order.
    remaining = np.flatnonzero(~taken)
    counts = comm.all_gather(torch.tensor([remaining.size], dtype=torch.int64))[:, 0].numpy()
    draw = _from_rank0(comm, rng.randint(int(counts.sum())))
    starts = np.concatenate([[0], np.cumsum(counts)])
    rank = int(np.searchsorted(starts, draw, side="right") - 1)
    index = torch.zeros(1, dtype=torch.int64)
    if comm.rank == rank:
        index[0] = pool.offset + pool.unlabeled[remaining[draw - starts[rank]]]
    return int(comm.broadcast(index, rank)[0])


def _from_rank0(comm, value):
    """Rank 0's ``value`` (a float or an integer below 2**53) on every rank."""
    out = comm.broadcast(torch.tensor([float(value)], dtype=torch.float64), 0)[0].item()
    return int(out) if isinstance(value, (int, np.integer)) else out


# -------------------------------------------------------------------------- uncertainty
def uncertainty_select(
    probas, labeled, batch_size, *, measure="least_confident", return_utilities=False, group=None
):
    """The ``batch_size`` most uncertain unlabeled rows of a sharded pool (SPMD).

    The selection of :class:`skbait.strategies.UncertaintySampling`: the
    largest :func:`~skbait.strategies.uncertainty_scores`, ties to the lowest
    pool index. Every rank scores its own rows and keeps its best
    ``batch_size``; those (a score and an index each) are all-gathered and
    merged. Scores are per row, so the picks are exactly the single-process
    ones, ties included.

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
    comm = _Group(group)

    def check_measure():
        return {
            "measure": check_option("measure", measure, {"least_confident", "margin", "entropy"})
        }

    n_local = _probas_rows(probas)
    pool = _Pool(
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
    _raise_everywhere(comm, error)
    # This rank's best B, then the best B of those: a stable sort on the negated
    # scores keeps ties in pool order, as on one process.
    top = np.argsort(-scores, kind="stable")[:B]
    pairs = torch.full((B, 2), math.inf, dtype=torch.float64)
    pairs[: top.size, 0] = torch.as_tensor(-scores[top])
    pairs[: top.size, 1] = torch.as_tensor(pool.pool_index(unl[top]), dtype=torch.float64)
    pairs = comm.all_gather(pairs).reshape(-1, 2).numpy()
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))[:B]
    return _selection(pairs[order, 1], -pairs[order, 0], return_utilities)


def _probas_rows(probas):
    shape = getattr(probas, "shape", None)
    try:
        return int(shape[0]) if shape is not None else len(probas)
    except TypeError:
        return 0


# ------------------------------------------------------------------------ one whole round
_STRATEGIES = ("bait", "badge", "coreset", "uncertainty")


def fit_and_select(
    estimator,
    X,
    y,
    labeled,
    batch_size,
    *,
    strategy="bait",
    strategy_params=None,
    embedding=None,
    random_state=None,
    group=None,
):
    """One active-learning round over a sharded pool: fit on rank 0, select everywhere (SPMD).

    1. The labeled rows of every shard (and their labels) are gathered on
       rank 0, in pool order, and rank 0 fits a clone of ``estimator`` on
       them.
    2. The fitted estimator is broadcast to every rank (pickled by
       ``torch.distributed.broadcast_object_list``; scikit-learn
       estimators and skorch nets both pickle).
    3. Every rank embeds its own shard with :func:`skbait.embeddings.embed`
       (the registered rule for the estimator's family, or ``embedding``).
    4. The sharded selection runs: :func:`bait_select`, :func:`badge_select`,
       :func:`coreset_select` or :func:`uncertainty_select`.

    Only the labeled rows travel to rank 0; the unlabeled rows never leave
    their rank.

    Parameters
    ----------
    estimator : estimator instance
        Unfitted (or fitted: it is cloned) scikit-learn estimator or skorch
        net. Only rank 0's is used.
    X : array-like of shape (n_local, ...)
        This rank's rows, labeled ones included, in any form the estimator
        accepts (arrays, DataFrames, sparse matrices, lists); may have no rows.
    y : array-like of shape (n_local,) or (n_local, n_outputs)
        Labels aligned with ``X``; only the entries of labeled rows are read
        (the others may hold anything, such as -1 or NaN).
    labeled : array-like of int or bool
        This shard's labeled rows: indices into ``X`` or a boolean mask.
    batch_size : int
        Number of rows to select.
    strategy : {"bait", "badge", "coreset", "uncertainty"}, default="bait"
        The selection to run.
    strategy_params : dict, default=None
        Keyword arguments of that selection function (``reg``, ``device``,
        ``measure``...).
    embedding : callable, default=None
        ``embedding(estimator, X) -> array``, replacing the registered
        embedding rule (see :func:`skbait.embeddings.embed`).
    random_state : int, RandomState instance or None, default=None
        Seeds BADGE's draws (rank 0's is used).
    group : ProcessGroup, default=None
        The process group; ``None`` is the default group.

    Returns
    -------
    indices : ndarray of shape (batch_size,), dtype=int64
        Pool indices (into the rank-order concatenation of the shards); the
        same on every rank.
    fitted : estimator
        The estimator rank 0 fitted, on every rank.

    Notes
    -----
    A classifier that knows a single class gives BAIT the rank-one Fisher of
    the embedding (as :class:`skbait.strategies.BAIT` does, with a warning).
    On GPUs, a skorch net is unpickled on the device it was fitted on; set
    each rank's CUDA device with :func:`torch.cuda.set_device` before the call.

    Examples
    --------
    >>> import numpy as np
    >>> import torch.distributed as dist
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.distributed import fit_and_select
    >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> idx, model = fit_and_select(LogisticRegression(), X, y, np.arange(10), 4,
    ...                             strategy_params={"device": "cpu"})
    >>> idx.shape, bool(np.all(idx >= 10))
    ((4,), True)
    >>> dist.destroy_process_group()
    """
    comm = _Group(group)
    error = part = None
    try:
        strategy = check_option("strategy", strategy, set(_STRATEGIES))
        params = dict(strategy_params or {})
        n_local = n_rows(X)
        if n_rows(y) != n_local:
            raise ValueError(
                f"`y` must have one entry per row of this rank's X ({n_local}), got "
                f"{n_rows(y)}; entries of unlabeled rows are ignored."
            )
        rows = np.flatnonzero(as_labeled_mask(labeled, n_local))
        part = (_safe_indexing(X, rows), _safe_indexing(y, rows)) if rows.size else None
    except Exception as exc:
        error = exc
    _raise_everywhere(comm, error)

    # 1-2. Rank 0 fits on the labeled rows in pool order, then shares the model.
    parts = [None] * comm.size if comm.rank == 0 else None
    dist.gather_object(part, parts, dst=comm.global_rank(0), group=comm.group)
    payload = error = None
    if comm.rank == 0:
        try:
            parts = [p for p in parts if p is not None]
            if not parts:
                raise ValueError("No rank holds a labeled row: there is nothing to fit on.")
            fitted = clone(estimator).fit(
                _concat_rows([p[0] for p in parts]), _concat_rows([p[1] for p in parts])
            )
            # Pickled here, so that a model that does not pickle fails on every rank.
            payload = (pickle.dumps(fitted), None)
        except Exception as exc:
            error = exc
            payload = (None, _report(exc))
    blob, report = comm.broadcast_object(payload, 0)
    if report is not None:
        raise _rebuild(report, "rank 0 could not fit or send the estimator") from error
    fitted = pickle.loads(blob)

    # 3. Every rank embeds its own rows.
    error = Z = P = None
    proba = strategy != "coreset" and is_classifier(fitted)
    try:
        if n_local:
            Z, P = embed(fitted, X, proba=proba, embedding=embedding)
        else:
            Z, P = np.empty((0, 0)), (np.empty((0, 0)) if proba else None)
    except Exception as exc:
        error = exc
    widths = _raise_everywhere(comm, error, None if P is None or not n_local else P.shape[1])
    n_classes = next((k for k in widths if k is not None), None)
    if P is not None and not n_local and n_classes is not None:
        P = np.empty((0, n_classes))

    # 4. The sharded selection.
    if strategy == "coreset":
        indices = coreset_select(Z, labeled, batch_size, group=group, **params)
    elif strategy == "uncertainty":
        indices = uncertainty_select(P, labeled, batch_size, group=group, **params)
    elif strategy == "badge":
        indices = badge_select(
            Z, P, labeled, batch_size, random_state=random_state, group=group, **params
        )
    else:
        if n_classes is not None and n_classes < 2:
            if comm.rank == 0:
                warnings.warn(
                    "The classifier knows a single class, so its last-layer information is "
                    "zero; BAIT falls back to the embedding's rank-one information.",
                    UserWarning,
                    stacklevel=2,
                )
            P = None
        indices = bait_select(Z, P, labeled, batch_size, group=group, **params)
    return indices, fitted


def _concat_rows(parts):
    """Concatenate row blocks of one form: arrays, sparse matrices, DataFrames or lists."""
    first = parts[0]
    if len(parts) == 1:
        return first
    if hasattr(first, "iloc"):
        import pandas as pd

        return pd.concat(parts)
    if sp.issparse(first):
        return sp.vstack(parts, format=first.format)
    if isinstance(first, list):
        return [row for part in parts for row in part]
    return np.concatenate([np.asarray(p) for p in parts])
