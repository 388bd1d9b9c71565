"""The per-row state ``[P_x; Qh_x]`` of a set of candidate rows, and its chunked update.

After a row enters or leaves the design, ``G`` moves by ``s L L^T``
(:class:`~skbait._fisher.LowRank`) and every tracked ``P_x``, ``Q_x`` moves by
products of ``V_x^T L``: one matmul ``Z @ L`` for the rows of a chunk, so a
step costs ``O(n d k r + n k r^2)`` instead of the ``O(n k (kd)^2)`` of
re-multiplying ``V_x^T G F G V_x``. The next scores are taken in the same pass.
Memory stays ``O(n (d + k r) + (kd)^2)``.
"""

import torch

from skbait._fisher._kron import quadratic_forms
from skbait._fisher._linalg import _CHUNK_ELEMENTS, _chunks, _symmetrize_
from skbait.utils._threads import limited_threads, threads_for_flops

__all__ = ["TrackedRows"]


class TrackedRows:
    """``[P_x; Qh_x]`` for some rows of a :class:`~skbait._fisher.Factors`, kept up to date.

    Parameters
    ----------
    factors : Factors
        The candidate rows (``m`` of them); :attr:`positions` index into it.
    objective : TraceObjective or LogDetObjective
        Sets the blocks kept per row (``[P]`` or ``[P; Qh]``) and the scores.
    chunk_size : int or None
        Rows per chunk when scoring and updating; ``None`` picks a
        cache-friendly size.

    Attributes
    ----------
    positions : torch.Tensor of shape (n_rows,)
        The rows tracked (positions in ``factors``); all ``m`` at first.
    PQ : torch.Tensor of shape (n_rows, n_blocks * r, r)
        Their state, in the order of :attr:`positions`.
    lower : torch.Tensor of shape (m,) or None
        Where the lower bounds go when a pass scores by bounds.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import Factors, LogDetObjective, TrackedRows
    >>> rows = TrackedRows(Factors.regression(torch.eye(2, dtype=torch.float64)),
    ...                    LogDetObjective(), None)
    >>> rows.recompute(0.5 * torch.eye(2, dtype=torch.float64))
    >>> rows.PQ[:, 0, 0]
    tensor([0.5000, 0.5000], dtype=torch.float64)
    """

    def __init__(self, factors, objective, chunk_size):
        self.factors = factors
        self.objective = objective
        self.m = len(factors)
        k, r = factors.k, factors.r
        # Blocks of the per-row state [P; Qh] and of the update [L | T].
        per_row = 3 * objective.n_blocks * k * r + 4 * r * r
        self.chunk_size = int(chunk_size or max(256, _CHUNK_ELEMENTS // per_row))
        self.positions = torch.arange(self.m, device=factors.device)
        self.PQ = None
        self._moving = None  # what moves with G (the objective's track)
        self._gfg_drifted = False  # a kept G F G drifted once: never kept again
        # Score by bounds first and solve only the contenders' r x r systems.
        self._has_bounds = objective.has_bounds(r)
        self.can_tighten = self._has_bounds and objective.has_tight_bounds(r)
        # The greedy turns bounds off while they fail to prune, and tight ones
        # on while the one-node bounds fail (KroneckerGreedy._adapt_bounds).
        self.use_bounds = True
        self.tight = False
        self.lower = factors.Z.new_empty(self.m) if self._has_bounds else None
        self._moments = None  # what the tight bounds need of each row

    def __len__(self):
        return self.positions.shape[0]

    def recompute(self, G):
        """Fresh state of every tracked row from the design's ``G`` (the objective tracks it)."""
        mats, self._moving = self.objective.track(G, keep_gfg=not self._gfg_drifted)
        self.PQ = self._quadratics(mats)

    def quadratics(self, G):
        """``[P_x; Qh_x]`` of the tracked rows from any ``G``, in ``G``'s dtype."""
        return self._quadratics(self.objective.matrices(G))

    def _quadratics(self, mats):
        G = mats[0]
        h, r = self.objective.n_blocks, self.factors.r
        PQ = G.new_empty(len(self), h * r, r)
        forms = quadratic_forms(mats, self.factors.k, self.factors.d, G.dtype)
        k, size = self.factors.k, self.chunk_size
        # The small products around the forms (which choose their own threads)
        # get threads by their own size: one, unless k is large.
        small = threads_for_flops(2.0 * min(size, len(self)) * h * r * k * (k + r))
        # In chunks, so that the (rows, blocks, k, k) temporaries stay small.
        contiguous = len(self) == self.m  # every row, in order: slices, not gathers
        for sl in _chunks(len(self), size):
            rows = sl if contiguous else self.positions[sl]
            with limited_threads(small):
                Zr, Sr = self.factors.Z[rows].to(G.dtype), self.factors.S[rows].to(G.dtype)
            W = forms(Zr)  # (rows, blocks, k, k)
            with limited_threads(small):
                out = _symmetrize_(Sr.transpose(1, 2)[:, None] @ W @ Sr[:, None])
                if h == 2:
                    out[:, 1] *= 0.5  # Qh = Q / 2
                PQ[sl] = out.reshape(-1, h * r, r)
        return PQ

    def next_columns(self):
        """The ``columns`` the design's next update needs (see :meth:`MovingGFG.columns`)."""
        return self._moving.columns()

    @property
    def drifted(self):
        """Whether the last update found the kept ``G F G`` drifted: rebuild the design."""
        return self._moving.drifted

    def restrict(self, keep):
        """Track only ``keep`` (a boolean mask or positions into the tracked rows).

        The tracked rows stay in ascending order whatever the order of
        ``keep``: all ``m`` tracked rows are then the factors' rows in order,
        which the chunked passes (slices instead of gathers) and the tie rule
        rely on.
        """
        if keep.dtype != torch.bool:
            # The picked rows come in the order they were added; every candidate
            # picked would otherwise track a permutation read as the identity.
            keep = torch.sort(keep).values
        self.positions = self.positions[keep]
        self.PQ = self.PQ[keep]

    # ---------------------------------------------------------------- scoring
    def scores_are_bounds(self, sign):
        """Whether a pass with ``sign`` returns upper bounds (lower ones in :attr:`lower`).

        Only when adding, with an objective that has bounds, over all ``m`` rows,
        while :attr:`use_bounds`.
        """
        return sign > 0 and self._has_bounds and self.use_bounds and len(self) == self.m

    def _score_chunk(self, PQ, sign, sl, bounded, out, bad):
        """Scores (or bounds) of a chunk of rows into ``out`` and ``bad``.

        With :attr:`tight` bounds, only the chunk's moments are taken here
        (while its state is in cache); :meth:`_finish_tight` turns them into
        bounds for all rows at once.
        """
        if not bounded:
            out[sl], bad[sl] = self.objective.score(PQ, sign)
        elif self.tight:
            if self._moments is None:
                self._moments = torch.empty(self.m, 8, dtype=torch.float64, device=PQ.device)
            self._moments[sl] = self.objective.bound_moments(PQ, nodes=2)
        else:
            out[sl] = self.objective.bounds(PQ, self.lower[sl])

    def _finish_tight(self, out):
        """Every row's two-node upper bound into ``out`` and lower bound into :attr:`lower`.

        The three-node ones cost a second product a row; :meth:`tighten`
        takes them only for the rows that these leave in contention.
        """
        if self._moments is None:
            return  # no rows here (a process's empty shard): nothing was scored
        upper, lower = self.objective.tight_bounds(self._moments, self.PQ.dtype, nodes=2)
        out.copy_(upper)
        self.lower.copy_(lower)

    def tighten(self, which, upper):
        """Three-node bounds of the tracked rows ``which``: into ``upper`` and :attr:`lower`.

        After a pass with :attr:`tight` bounds (two nodes), for the rows
        those leave in contention; ``upper`` holds that pass's upper bounds.
        """
        moments = self.objective.bound_moments(self.PQ[which], nodes=3)
        tight_upper, tight_lower = self.objective.tight_bounds(moments, self.PQ.dtype, nodes=3)
        upper[which] = tight_upper.to(upper.dtype)
        self.lower[which] = tight_lower.to(self.lower.dtype)

    def scores(self, sign):
        """Scores of every tracked row (bounds when :meth:`scores_are_bounds`), and bad rows."""
        n_rows = len(self)
        out = self.PQ.new_empty(n_rows)
        bad = torch.zeros(n_rows, dtype=torch.bool, device=self.PQ.device)
        bounded = self.scores_are_bounds(sign)
        for sl in _chunks(n_rows, self.chunk_size):
            self._score_chunk(self.PQ[sl], sign, sl, bounded, out, bad)
        if bounded and self.tight:
            self._finish_tight(out)
        return out, bad

    def exact_scores(self, which, sign):
        """Exact scores of the tracked rows ``which`` (indices into the tracked rows)."""
        return self.objective.score(self.PQ[which], sign)

    # ---------------------------------------------------------------- updates
    def update(self, term, scoring_sign=None):
        """Apply the design's move ``term`` to every tracked row; score in the same pass.

        ``[P | Qh] += s U [U | X]^T`` with ``[U | X] = V_x^T [L | T]``, row by
        row (``T`` from :meth:`MovingGFG.extra_blocks`). With
        ``scoring_sign``, returns the rows' next scores and bad rows (as
        :meth:`scores`), else ``(None, None)``.
        """
        LT = torch.cat([term.L, *self._moving.extra_blocks(term)], dim=1)
        self._gfg_drifted |= self._moving.drifted
        s = term.sign
        f = self.factors
        r, k, d, h = f.r, f.k, f.d, self.objective.n_blocks
        c = term.L.shape[1]  # the move's rank (the chosen row's, at most r)
        # Columns ordered (class, block, column): Y_x comes out as a k x (h c)
        # matrix, and S^T Y as [U | X], stacked into [U; X] by one copy.
        LTr = LT.reshape(k, d, h * c).transpose(0, 1).reshape(d, k * h * c)
        n_rows = len(self)
        scores = bad = None
        if scoring_sign is not None:
            scores = self.PQ.new_empty(n_rows)
            bad = torch.zeros(n_rows, dtype=torch.bool, device=self.PQ.device)
            bounded = self.scores_are_bounds(scoring_sign)
        contiguous = n_rows == self.m
        for sl in _chunks(n_rows, self.chunk_size):
            rows = sl if contiguous else self.positions[sl]
            Y = (f.Z[rows] @ LTr).view(-1, k, h * c)
            UX = f.transpose_product(rows, Y).view(-1, r, h, c).transpose(1, 2)
            UX = UX.reshape(-1, h * r, c)  # [U; X] per row
            PQ = self.PQ[sl]
            # U^T copied first: the batched product runs faster on a contiguous operand.
            PQ.baddbmm_(UX, UX[:, :r].transpose(1, 2).contiguous(), alpha=s)
            if scoring_sign is not None:
                self._score_chunk(PQ, scoring_sign, sl, bounded, scores, bad)
        if scoring_sign is not None and bounded and self.tight:
            self._finish_tight(scores)
        return scores, bad
