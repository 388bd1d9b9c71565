"""BAIT over a sharded pool: the greedy of the core, choosing across the ranks."""

import math
import warnings

import numpy as np
import torch
import torch.distributed as dist

from skbait._fisher import (
    Choice,
    Factors,
    KroneckerGreedy,
    TraceObjective,
    design_start,
    forward_steps,
    kron_gram,
)
from skbait.distributed._comm import Group, host, raise_everywhere
from skbait.distributed._pool import (
    ShardedPool,
    selection_result,
)
from skbait.distributed._uncertainty import most_uncertain
from skbait.strategies._bait import (
    DEFAULT_RELATIVE_REG,
    check_standardize,
    pool_design,
    reg_at_scale,
    warn_on_scale_spread,
)
from skbait.strategies._candidates import (
    DEFAULT_RANDOM_CANDIDATES,
    candidate_counts,
    draw_positions,
)
from skbait.utils._sparse import row_norms_squared
from skbait.utils._validation import (
    check_chunk_size,
    check_flag,
    check_option,
    check_real,
)


class ShardedGreedy(KroneckerGreedy):
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
            counts = host([candidates.numel(), len(self.rows)], torch.int64)
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
        winner = int(comm.all_reduce(host([mine], torch.int64), dist.ReduceOp.MIN)[0])
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
# The start of warn_on_scale_spread's message, to silence its repeat on the kept rows.
_SPREAD_WARNING = "The embedding BAIT reads has columns"


def bait_select(
    embeddings,
    probas,
    labeled,
    batch_size,
    *,
    reg=1.0,
    relative_reg=DEFAULT_RELATIVE_REG,
    oversample=2,
    backward=True,
    fisher="pool",
    device=None,
    dtype=None,
    chunk_size=None,
    return_utilities=False,
    group=None,
    candidates=None,
    random_candidates=DEFAULT_RANDOM_CANDIDATES,
    random_state=None,
    standardize="auto",
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
    reg : float or "scale", default=1.0
        The regulariser ``lambda`` (> 0): a number is the paper's absolute
        ``lambda``; ``"scale"`` is ``relative_reg`` times the mean squared
        embedding norm over every rank's rows (all-reduced), the rule of
        :func:`skbait.strategies.scaled_reg`, so that the picks are those of
        :class:`skbait.strategies.BAIT` at its default.
    relative_reg : float, default=0.01
        With ``reg="scale"``: ``lambda`` as a fraction of the mean squared
        embedding norm (> 0). Ignored for a numeric ``reg``.
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
    candidates : float or None, default=None
        As :func:`skbait.strategies.bait_select` takes it: BAIT among the
        ``ceil(candidates * batch_size)`` unlabeled rows of smallest margin
        across the ranks (found as :func:`uncertainty_select` finds them, on
        the margins as computed, as on one process), the random
        candidates and the labeled rows, as if they were the pool. ``None``:
        every unlabeled row.
    random_candidates : float, default=20
        As :func:`skbait.strategies.bait_select` takes it: with
        ``candidates``, ``ceil(random_candidates * batch_size)`` of the other
        unlabeled rows, drawn uniformly across the ranks.
    random_state : int, RandomState instance or None, default=None
        Seeds the random candidates. The draw is rank 0's (every rank draws
        too, so that a ``RandomState`` passed in advances as on one process);
        with the same ``random_state``, the rows of the single-process
        function on the concatenated pool.
    standardize : "auto" or bool, default="auto"
        As :func:`skbait.strategies.bait_select` takes it, with the columns'
        means, variances and sizes all-reduced over every rank's rows: the
        standardised design of the whole pool.

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
    return_utilities = check_flag("return_utilities", return_utilities)
    comm = Group(group)

    def check_params():
        if not isinstance(backward, (bool, np.bool_)):
            raise TypeError(f"`backward` must be a bool, got {backward!r}.")
        drawing = {"candidates": None, "random_candidates": None}
        if candidates is not None:
            # Checked with the shard, so that no rank starts the candidates' collectives
            # alone: every rank cuts the candidates, or none does.
            candidate_counts(candidates, random_candidates, batch_size, probas)
            drawing = {"candidates": candidates, "random_candidates": random_candidates}
        return {
            "reg": (
                check_option("reg", reg, {"scale"})
                if isinstance(reg, str)
                else check_real("reg", reg, 0.0, strict=True)
            ),
            "relative_reg": check_real("relative_reg", relative_reg, 0.0, strict=True),
            "oversample": check_real("oversample", oversample, 1.0, strict=False),
            "fisher": check_option("fisher", fisher, {"pool", "identity"}),
            "chunk_size": check_chunk_size(chunk_size),
            "standardize": check_standardize(standardize),
            **drawing,
        }

    pool = ShardedPool(
        comm,
        embeddings,
        probas,
        labeled,
        batch_size,
        params={"backward": bool(backward)},
        device=device,
        dtype=dtype,
        extra_check=check_params,
    )
    if candidates is not None:
        restricted = _candidate_shard(
            comm,
            pool,
            (candidates, random_candidates, random_state),
            group,
            (reg, standardize),
        )
        if restricted is not None:
            embeddings, probas, labeled, kept = restricted
            with warnings.catch_warnings():
                # The whole pool's columns were warned about; the kept rows' are not news.
                warnings.filterwarnings("ignore", message=_SPREAD_WARNING)
                chosen, gains = bait_select(
                    embeddings,
                    probas,
                    labeled,
                    batch_size,
                    reg=reg,
                    relative_reg=relative_reg,
                    oversample=oversample,
                    backward=backward,
                    fisher=fisher,
                    device=device,
                    dtype=dtype,
                    chunk_size=chunk_size,
                    return_utilities=True,
                    group=group,
                    standardize=False,  # the whole pool's design, made by _candidate_shard
                )
            return selection_result(kept[chosen], gains, return_utilities)
    B, U = pool.batch_size, pool.n_unlabeled
    if U == B:
        # Nothing to choose: every unlabeled row goes, in pool order.
        everyone = comm.all_gather_object(pool.pool_index(pool.unlabeled))
        return selection_result(np.concatenate(everyone), np.full(U, np.nan), return_utilities)
    device, dtype = pool.device, pool.dtype
    _standardize_shard(comm, pool, reg, standardize)
    Z = torch.as_tensor(pool.Z, device=device).to(dtype)
    if pool.P is None:
        rows = Factors.regression(Z)
    else:
        rows = Factors.bait(Z, torch.as_tensor(pool.P, device=device).to(dtype))
    # M_0 from every rank's labeled rows, by the single-process convention.
    lab = rows[torch.as_tensor(pool.labeled, dtype=torch.long, device=device)]
    labeled_information = comm.all_reduce(kron_gram(lab.Z.double(), lab.S.double()))
    if isinstance(reg, str):
        # The whole pool's mean squared norm, as one process would measure it.
        squares = torch.as_tensor(
            row_norms_squared(pool.Z), dtype=torch.float64, device="cpu"
        ).sum()
        reg = reg_at_scale(float(comm.all_reduce(squares.reshape(1))) / pool.n, relative_reg)
    M0, scale = design_start(labeled_information, pool.n_labeled, B, float(reg))
    F = None
    if fisher == "pool":
        F = comm.all_reduce(kron_gram(rows.Z, rows.S)) / pool.n
    candidates = rows[torch.as_tensor(pool.unlabeled, dtype=torch.long, device=device)]
    candidates = candidates.scaled(scale)
    del Z, rows, lab  # only the candidates' factors are needed from here on
    greedy = ShardedGreedy(
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
    return selection_result(greedy.picked, greedy.gains, return_utilities)


def _summed_over_ranks(comm):
    """Per-column arrays summed over every rank (float64), for :func:`pool_design`."""

    def total(columns):
        return comm.all_reduce(torch.as_tensor(columns, dtype=torch.float64, device="cpu")).numpy()

    return total


def _standardize_shard(comm, pool, reg, standardize):
    """Replace ``pool.Z`` by its rows of the whole pool's standardised design, if BAIT uses one.

    The column sums are all-reduced, so that every rank decides alike and
    standardises by the whole pool's means and variances, as one process would.
    """
    pool.Z, spread = pool_design(pool.Z, reg, standardize, total=_summed_over_ranks(comm))
    pool.d = pool.Z.shape[1]
    _warn_on_rank0(comm, pool.Z, spread)


def _warn_on_rank0(comm, embeddings, spread):
    """One process's warning of columns too uneven for ``reg="scale"``, from the whole
    pool's column sizes, given once: by rank 0, as the other warnings of a sharded round."""
    if spread is not None and comm.rank == 0:
        warn_on_scale_spread(embeddings, spread)


def _candidate_shard(comm, pool, drawing, group, design):
    """This rank's part of :func:`~skbait.strategies._candidates.candidate_pool` (SPMD).

    ``pool`` is the checked :class:`ShardedPool`; ``drawing`` is
    ``(candidates, random_candidates, random_state)``. The
    ``ceil(candidates * batch_size)`` unlabeled rows of smallest margin are
    found across the ranks by :func:`most_uncertain` on the margins as computed
    (ties to the lower pool index, as on one process); the random ones are drawn among the other
    unlabeled rows in pool order, which is rank order, from the shards' counts.
    Returns this shard's kept embeddings, probabilities and labeled mask, and
    the pool indices of every rank's kept rows in pool order (the same on
    every rank); ``None`` where nothing would be left out. ``design`` is
    ``(reg, standardize)``: the kept embeddings are rows of the whole pool's
    design (:func:`pool_design`), made before the candidates are cut, as on
    one process.
    """
    candidates, random_candidates, random_state = drawing
    count, random_count = candidate_counts(candidates, random_candidates, pool.batch_size, pool.P)
    if count + random_count >= pool.n_unlabeled:
        return None  # nothing left out
    if count and pool.k < 2:
        return None  # a single class: no margin to rank by
    embeddings, spread = pool_design(pool.Z, *design, total=_summed_over_ranks(comm))
    _warn_on_rank0(comm, embeddings, spread)
    mask, probas = pool.mask, pool.P
    lo, hi = pool.offsets[comm.rank], pool.offsets[comm.rank + 1]
    uncertain = np.empty(0, dtype=np.int64)
    if count:
        chosen = most_uncertain(probas, mask, count, "margin", False, group, as_ranked=False)
        uncertain = chosen[(chosen >= lo) & (chosen < hi)] - lo
    rest = np.setdiff1d(np.flatnonzero(~mask), uncertain)
    rest_counts = np.asarray(comm.all_gather_object(rest.size))
    starts = np.concatenate([[0], np.cumsum(rest_counts)])
    # Every rank draws, so that a RandomState passed in advances as on one process;
    # rank 0's draw is the one used. A random_state one rank cannot use fails on all.
    drawn = error = None
    try:
        drawn = draw_positions(starts[-1], random_count, random_state)
    except Exception as exc:
        error = exc
    raise_everywhere(comm, error)
    drawn = comm.broadcast_object(drawn, 0)
    here = drawn[(drawn >= starts[comm.rank]) & (drawn < starts[comm.rank + 1])]
    kept_here = np.sort(
        np.concatenate([np.flatnonzero(mask), uncertain, rest[here - starts[comm.rank]]])
    ).astype(np.int64)
    kept = np.concatenate(comm.all_gather_object(kept_here + lo))
    kept_probas = None if probas is None else probas[kept_here]
    return embeddings[kept_here], kept_probas, mask[kept_here], kept
