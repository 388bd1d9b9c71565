"""The greedy experimental design: forward steps, backward removals, and the choice of a row.

:class:`KroneckerGreedy` wires the pieces together: the candidates'
:class:`~skbait._fisher.Factors`, their :class:`~skbait._fisher.TrackedRows`,
the :class:`~skbait._fisher.Design` and an objective
(:class:`~skbait._fisher.TraceObjective` or
:class:`~skbait._fisher.LogDetObjective`). Which row wins a step is decided in
one place, :meth:`KroneckerGreedy.choose`, the hook a distributed greedy
overrides to reduce the choice across processes.
"""

import contextlib
import math
import typing

import torch

from skbait._fisher._design import Design, IllConditionedError
from skbait._fisher._rows import TrackedRows
from skbait.utils._threads import StepThreads

__all__ = ["Choice", "KroneckerGreedy", "rel_tolerance"]

# Bounds pay while they leave at most this fraction of the rows to solve
# exactly. Past it, the one-node bounds give way to the tight ones (where the
# objective has them), and those to scoring every row exactly in the update's
# own pass (no bounds, no second pass over the contenders); after this many
# steps the cheaper mode is tried again.
_PRUNE_FRACTION = 0.25
_BOUNDS_RETRY = 32
# Tight bounds only over at least this many rows (counted over the whole pool):
# their quadrature is a hundred-odd small operations whatever the row count,
# about a millisecond, more than the exact solves of a few thousand rows cost.
_TIGHT_MIN_ROWS = 4096


def rel_tolerance(dtype):
    """Scores within this fraction of the best count as tied (the lowest id wins).

    So that CPU, CUDA, duplicate rows and any split of the pool across
    processes give the same selection.
    """
    return 1e-9 if dtype == torch.float64 else 1e-5


class Choice(typing.NamedTuple):
    """The row that wins a step, as :meth:`KroneckerGreedy.choose` returns it.

    Attributes
    ----------
    id : int
        Its id (:attr:`KroneckerGreedy.ids`): what :attr:`~KroneckerGreedy.picked` records.
    value : float
        Its score: the gain of adding it, or the cost of removing it.
    z : torch.Tensor of shape (d,)
        Its embedding.
    S : torch.Tensor of shape (k, r)
        Its factor (scaled).
    slot : int or None
        Its place among the tracked rows of this process (``None`` when
        another process holds it).
    """

    id: int
    value: float
    z: torch.Tensor
    S: torch.Tensor
    slot: int | None


class KroneckerGreedy:
    """Greedy experimental design over a pool with Kronecker-factored information.

    Maximises, one row at a time, the objective's gain (the drop of
    ``tr(M^-1 F)`` for :class:`~skbait._fisher.TraceObjective`, BAIT; the gain
    of ``log det M`` for :class:`~skbait._fisher.LogDetObjective`), and can
    remove rows again (the backward phase of BAIT).

    Parameters
    ----------
    factors : Factors
        The candidate rows (``m``), their factors already scaled by the
        candidates' weight.
    M0 : torch.Tensor of shape (k d, k d)
        The starting design (regulariser plus labeled information), positive
        definite; best given in float64 (it is kept in float64 in any case).
    objective : TraceObjective or LogDetObjective
    chunk_size : int or None, default=None
        Rows per chunk when scoring and updating the pool.
    ids : torch.Tensor of shape (m,), default=None
        An id per candidate, ascending: ties go to the lowest id, and
        :attr:`picked` records ids. ``None`` uses the positions ``0..m-1``. A
        distributed greedy gives each process's shard its pool-wide ids.

    Attributes
    ----------
    design : Design
    rows : TrackedRows
    picked : list of int
        Ids of the design's rows, in the order they were added.
    gains : list of float
        Each picked row's score when it was added.
    step_threads : int or None
        ``None`` (the default) runs the steps on the threads in force; a
        count lets each phase choose between it and one thread by timing its
        steps (:class:`~skbait.utils._threads.StepThreads`).

    Notes
    -----
    The pick that ends a design (the last forward step without a backward
    phase, or the last removal) is only recorded in :attr:`picked`: nothing
    reads ``G`` or the rows' ``P_x``, ``Q_x`` again.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import Factors, KroneckerGreedy, LogDetObjective
    >>> Z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    >>> greedy = KroneckerGreedy(Factors.regression(Z), torch.eye(2, dtype=torch.float64),
    ...                          LogDetObjective())
    >>> greedy.forward(2)
    >>> greedy.picked
    [2, 0]
    """

    def __init__(self, factors, M0, objective, *, chunk_size=None, ids=None):
        self.factors = factors
        self.objective = objective
        self.m = len(factors)
        self.dtype, self.device = factors.dtype, factors.device
        self.ids = torch.arange(self.m, device=self.device) if ids is None else ids
        self.rtol = rel_tolerance(self.dtype)
        self.rows = TrackedRows(factors, objective, chunk_size)
        self.design = Design(M0, self.dtype, on_refresh=self.rows.recompute)
        self.rows.recompute(self.design.G)
        self.picked = []
        self.gains = []
        self.step_threads = None
        self._tracking_picked = False  # the tracked rows are the picked rows held here
        self._bounds_pruned = True  # the last bounded choice left few contenders
        self._rows_bounded = 0  # rows the last bounded choice covered, over the whole pool
        self._bad_after_refresh = 0  # rows left bad by the last refresh
        self._bounds_retry_at = 0  # when to try the bounds again (they are off)
        self._loosen_at = 0  # when to try the one-node bounds again (tight ones are on)

    @property
    def n_refresh(self):
        """How many times the design was rebuilt from the exact ``M``."""
        return self.design.n_refresh

    # ------------------------------------------------------------ the choice
    def choose(self, scores, usable, *, maximize=True, bounded=False):
        """The best row from the scores of the tracked rows this process holds.

        The tie rule: ``best`` is the highest score (the lowest cost when
        ``maximize=False``); every score within ``rtol * |best|`` of it is
        tied, and the lowest id among them wins.

        Parameters
        ----------
        scores : torch.Tensor of shape (len(self.rows),)
            Scores of the tracked rows, or their upper bounds when
            ``bounded`` (the lower bounds are in ``self.rows.lower``).
        usable : torch.Tensor of shape (len(self.rows),), dtype=bool
            Rows that may be chosen.
        maximize : bool, default=True
            ``False`` chooses the lowest score (a removal cost).
        bounded : bool, default=False
            ``scores`` are upper bounds: only the rows whose upper bound
            reaches the best lower bound (less the tie tolerance and the
            bounds' margin) are solved exactly; the others cannot be within
            the tolerance of the best, so the choice, ties included, is the one
            of the exact scores of all rows.

        Returns
        -------
        choice : Choice or None
            ``None`` when no usable row has a finite score.

        Notes
        -----
        A distributed override (each process tracking a shard of the rows,
        with pool-wide :attr:`ids`) must return, on every process, the same
        :class:`Choice` that this method returns for the union of the shards:

        1. when ``bounded``: all-reduce (max) the best usable lower bound, so
           that every process keeps its contenders against the same floor, and
           score those exactly (:meth:`TrackedRows.exact_scores`);
        2. all-reduce (max) the best finite score (``-score`` when
           minimising); return ``None`` everywhere if it is not finite;
        3. on each process, the lowest id whose score is within
           ``rtol * |best|`` of that global best, then all-reduce (min) the
           id -- a per-process winner under the local tie rule is not enough,
           as a local best just inside the tolerance could admit a row outside
           it;
        4. broadcast the winner's ``value``, ``z`` and ``S`` from the process
           that holds it (its ``slot``; ``None`` elsewhere).

        The helpers :meth:`_floor`, :meth:`_contenders` and :meth:`_lowest_tied`
        are the local halves of steps 1-3. Whether the bounds pruned is
        recorded with the pool-wide counts (:meth:`_record_pruning`), so that
        every process turns them off and on at the same step.
        """
        candidates = None
        if bounded:
            self._tighten(scores, usable)
            floor = self._floor(usable)
            if not math.isfinite(floor.item()):
                return None
            candidates = self._contenders(scores, usable, floor)
            self._record_pruning(candidates.numel(), len(self.rows))
            exact, bad = self.rows.exact_scores(candidates, +1)
            scores = torch.where(bad, -math.inf, exact)
        else:
            scores = torch.where(usable, scores, -math.inf if maximize else math.inf)
        if not maximize:
            scores = -scores
        if scores.numel() == 0:
            return None
        best = scores.max()
        if not math.isfinite(best.item()):
            return None
        j = self._lowest_tied(scores, best, candidates)
        value = scores[j].item() if maximize else -scores[j].item()
        slot = j if candidates is None else int(candidates[j])
        position = int(self.rows.positions[slot])
        return Choice(
            int(self.ids[position]),
            value,
            self.factors.Z[position],
            self.factors.S[position],
            slot,
        )

    def _record_pruning(self, n_contenders, n_rows):
        """Note whether the bounds left few enough rows to solve (counts over the whole pool)."""
        self._bounds_pruned = n_contenders <= _PRUNE_FRACTION * n_rows
        self._rows_bounded = n_rows

    def _adapt_bounds(self, step):
        """Before scoring for step ``step``: the cheapest way of scoring that prunes.

        One-node bounds while they prune; tight bounds while they prune and
        the one-node ones do not, on a pool of at least ``_TIGHT_MIN_ROWS``
        rows; else every row exactly. A mode given up is
        tried again after ``_BOUNDS_RETRY`` steps: the bounds prune better as
        the batch grows.
        """
        rows = self.rows
        if rows.use_bounds and not self._bounds_pruned:
            if rows.can_tighten and not rows.tight and self._rows_bounded >= _TIGHT_MIN_ROWS:
                rows.tight = True
                self._loosen_at = step + _BOUNDS_RETRY
            else:
                rows.use_bounds = rows.tight = False
                self._bounds_retry_at = step + _BOUNDS_RETRY
            self._bounds_pruned = True
        elif rows.use_bounds and rows.tight and step >= self._loosen_at:
            rows.tight = False
        elif not rows.use_bounds and step >= self._bounds_retry_at:
            rows.use_bounds = True

    def _tighten(self, upper, usable):
        """With tight bounds: three nodes for the rows that two leave in contention.

        A row whose two-node upper bound misses this process's best lower
        bound (less the slack) misses the pool's too, which is at least as
        high (and the slack grows slower than the floor). Tightening only
        the others leaves the contenders, and the floor, those of three-node
        bounds on every row, at a fraction of the cost.
        """
        if not self.rows.tight:
            return
        floor = self._floor(usable)
        if torch.isfinite(floor):
            self.rows.tighten(self._contenders(upper, usable, floor), upper)

    def _floor(self, usable):
        """The best usable lower bound (a 0-d tensor, ``-inf`` if none): the contenders' floor."""
        if usable.numel() == 0:  # a shard without candidates
            return self.rows.lower.new_tensor(-math.inf)
        return torch.where(usable, self.rows.lower, -math.inf).max()

    def _contenders(self, upper, usable, floor):
        """Tracked rows whose upper bound reaches ``floor`` less the slack, in ascending order."""
        floor = floor - (self.rtol + self.objective.margin(self.dtype)) * floor.abs()
        return torch.nonzero(usable & (upper >= floor)).flatten()

    def _lowest_tied(self, scores, best, candidates=None):
        """Index into ``scores`` of the lowest id among the scores within tolerance of ``best``.

        ``best`` is a 0-d tensor of the scores' dtype (the tolerance is taken
        in that dtype); ``candidates`` maps ``scores`` to tracked rows (all of
        them, in order, when ``None``).
        """
        tied = scores >= best - self.rtol * best.abs()
        if len(self.rows) == self.m:
            # Every candidate tracked, in ascending id order (as are the contenders):
            # the first tied score is the lowest id.
            return int(tied.to(torch.uint8).argmax().item())
        tied = torch.nonzero(tied).flatten()
        slots = tied if candidates is None else candidates[tied]
        ids = self.ids[self.rows.positions[slots]]
        return int(tied[torch.argmin(ids)].item())

    # ---------------------------------------------------------------- a step
    def _step(self, choice, sign, *, scoring_sign=None, keep=None):
        """Add (``sign=+1``) or remove (``sign=-1``) the chosen row; update the tracked rows.

        ``keep`` restricts the tracked rows first; ``scoring_sign`` asks for
        the next scores in the same pass over the rows.
        """
        if sign > 0:
            self.picked.append(choice.id)
        else:
            j = self.picked.index(choice.id)
            del self.picked[j]
        if keep is not None:
            self.rows.restrict(keep)
        columns = self.rows.next_columns()
        if sign > 0:
            term = self.design.add(choice.z, choice.S, columns=columns)
        else:
            term = self.design.remove(j, columns=columns)
        if term is None:  # the design was rebuilt: the rows are fresh already
            return (None, None) if scoring_sign is None else self.rows.scores(scoring_sign)
        scores, bad = self.rows.update(term, scoring_sign)
        if self.rows.drifted:
            # The rows' kept G F G drifted: rebuild everything from the exact M.
            self.design.refresh()
            return (None, None) if scoring_sign is None else self.rows.scores(scoring_sign)
        if scores is not None and bad.any():
            n_bad = int(bad.sum())
            # A refresh cures drift; rows still bad right after one are the
            # working precision's limit, and refreshing for them every step
            # would cost a factorisation per step.
            if n_bad > self._bad_after_refresh:
                self.design.refresh()
                scores, bad = self.rows.scores(scoring_sign)
                self._bad_after_refresh = int(bad.sum())
        return scores, bad

    # ------------------------------------------------------------------ phases
    def _step_clock(self):
        """A fresh context per step for a phase: the threads :attr:`step_threads` allows."""
        if self.step_threads is None:
            return contextlib.nullcontext
        return StepThreads(self.step_threads).step

    def forward(self, n_steps, *, final_keep_picked=False):
        """Add ``n_steps`` rows greedily.

        Parameters
        ----------
        n_steps : int
        final_keep_picked : bool, default=False
            After the last step, keep tracking only the chosen rows (for a
            backward phase) instead of the whole pool.
        """
        available = torch.ones(self.m, dtype=torch.bool, device=self.device)
        bounded = self.rows.scores_are_bounds(+1)
        scores, bad = self.rows.scores(+1)
        step_clock = self._step_clock()
        for step in range(n_steps):
            with step_clock():
                choice = self.choose(scores, available & ~bad, maximize=True, bounded=bounded)
                if choice is None:
                    raise IllConditionedError(
                        "No candidate has a finite score: the design is numerically singular. "
                        "Increase `reg`, rescale the embeddings, or use dtype='float64'."
                    )
                self.gains.append(choice.value)
                if choice.slot is not None:
                    available[choice.slot] = False
                if step < n_steps - 1:
                    self._adapt_bounds(step + 1)
                    bounded = self.rows.scores_are_bounds(+1)
                    scores, bad = self._step(choice, +1, scoring_sign=+1)
                elif final_keep_picked:
                    # A backward phase follows: only the chosen rows need their P, Q.
                    self._step(choice, +1, keep=self._slots_of(self.picked + [choice.id]))
                    self._tracking_picked = True
                else:
                    # The design is complete: nothing left to update or track.
                    self.picked.append(choice.id)
                    self.rows.restrict(torch.zeros(0, dtype=torch.long, device=self.device))

    def _slots_of(self, ids):
        """Tracked rows holding ``ids``, in that order (the ones this process holds)."""
        held = self.ids[self.rows.positions]
        wanted = torch.as_tensor(ids, dtype=held.dtype, device=self.device)
        if held.numel() == 0:
            return held
        slot = torch.searchsorted(held, wanted).clamp_max(max(len(held) - 1, 0))
        return slot[held[slot] == wanted]

    def backward(self, n_keep):
        """Remove chosen rows, cheapest first, until ``n_keep`` remain.

        Assumes the tracked rows are the design's rows (see :meth:`forward`).
        """
        if not self._tracking_picked:
            raise RuntimeError("backward() needs forward(..., final_keep_picked=True) first.")
        costs, bad = self.rows.scores(-1)
        self._bad_after_refresh = 0  # other rows than the forward phase's
        step_clock = self._step_clock()
        while len(self.picked) > n_keep:
            with step_clock():
                costs, bad = self._backward_step(costs, bad, n_keep)

    def _backward_step(self, costs, bad, n_keep):
        """One removal of :meth:`backward`: the cheapest row leaves; the next costs."""
        costs = torch.where(bad, math.inf, costs)
        if not torch.isfinite(costs).any() and self.dtype != torch.float64:
            costs = self._removal_costs_float64()
        usable = torch.ones_like(bad)
        choice = self.choose(costs, usable, maximize=False)
        if choice is None:
            raise IllConditionedError(
                "Every chosen row's removal leaves a singular design. Increase `reg`, "
                "rescale the embeddings, or use dtype='float64'."
            )
        self.gains.pop(self.picked.index(choice.id))
        keep = torch.ones(len(self.rows), dtype=torch.bool, device=self.device)
        if choice.slot is not None:
            keep[choice.slot] = False
        if len(self.picked) - 1 > n_keep:
            return self._step(choice, -1, scoring_sign=-1, keep=keep)
        self.picked.remove(choice.id)  # the last removal: nothing left to update
        return costs, bad

    def _removal_costs_float64(self):
        """Removal costs of the tracked rows recomputed in float64 (float32 fallback)."""
        G = self.design.inverse_float64()
        if G is None:
            return torch.full((len(self.rows),), math.inf, dtype=self.dtype, device=self.device)
        costs, bad = self.objective.score(self.rows.quadratics(G), -1)
        return torch.where(bad, math.inf, costs).to(self.dtype)
