"""The greedy's objectives: what a row is worth, from its tracked ``r x r`` quadratics.

A tracked row keeps ``P_x = V_x^T G V_x`` and, for the trace objective,
``Qh_x`` with ``Q_x = V_x^T G F G V_x = Qh_x + Qh_x^T`` (see
:class:`~skbait._fisher.TrackedRows`). Adding a row (``sign=+1``) or removing
one of the design's rows (``sign=-1``) changes ``M`` by ``sign V V^T``; by
Woodbury and the matrix determinant lemma, with ``A = I + sign P``:

- trace (BAIT): ``tr(M^-1 F)`` drops by ``sign tr(Q A^-1)`` -- the gain of
  adding, or the cost of removing;
- log-det: ``log det M`` rises by ``sign log det A``.

A row whose ``A`` is not positive definite (impossible in exact arithmetic with
``reg > 0``) is flagged ``bad``: the greedy refreshes the design, or gives the
row an infinite removal cost.
"""

import torch

from skbait._fisher._bounds import bound_margin, bound_moments, one_node_bounds, tight_bounds
from skbait._fisher._lazy import _LAZY_MIN_ELEMENTS
from skbait._fisher._linalg import _eye, _symmetrize_
from skbait._fisher._moving_gfg import NO_EXTRA_BLOCKS, MovingGFG

__all__ = ["LogDetObjective", "TraceObjective"]


class LogDetObjective:
    """Greedy ``log det M``: the gain of a row is ``log det(I + P_x)``.

    The paper's determinantal rivals of BAIT (appendix B). Tracks ``P_x``
    only (one ``r x r`` block per row) and has no bounds.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import LogDetObjective
    >>> P = torch.tensor([[[1.0]]], dtype=torch.float64)  # one row, r = 1
    >>> gain, bad = LogDetObjective().score(P, +1)
    >>> round(gain.item(), 6), bool(bad.item())
    (0.693147, False)
    """

    name = "logdet"
    n_blocks = 1  # [P]

    def matrices(self, G):
        """The ``(k d) x (k d)`` matrices whose blocks give each row's state: ``[G]``."""
        return [G]

    def track(self, G, *, keep_gfg=True):
        """:meth:`matrices` of the design's fresh ``G``, and what moves with it (nothing)."""
        return [G], NO_EXTRA_BLOCKS

    def has_bounds(self, r):
        return False

    def score(self, PQ, sign):
        """``log det(I + sign P_x)`` of each row, and a mask of rows where it is undefined.

        Parameters
        ----------
        PQ : torch.Tensor of shape (rows, r, r)
        sign : {+1, -1}
            Adding (+1) or removing (-1).

        Returns
        -------
        scores : torch.Tensor of shape (rows,)
        bad : torch.Tensor of shape (rows,), dtype=bool
            ``I + sign P_x`` not positive definite (its score is meaningless).
        """
        r = PQ.shape[-1]
        P = PQ[:, :r]
        if r == 1:
            A = 1.0 + sign * P[:, 0, 0]
            bad = ~(A > 0)
            A = torch.where(bad, torch.ones_like(A), A)
            return torch.log(A), bad
        eye = _eye(r, PQ.dtype, PQ.device)
        C, info = torch.linalg.cholesky_ex(eye + sign * P)
        bad = info != 0
        if bad.any():
            C = torch.where(bad[:, None, None], eye, C)
        return 2 * torch.log(C.diagonal(dim1=-2, dim2=-1)).sum(-1), bad


class TraceObjective:
    """BAIT: the change of ``tr(M^-1 F)``, ``tr(Q_x (I + sign P_x)^-1)``.

    Parameters
    ----------
    F : torch.Tensor of shape (k d, k d) or None, default=None
        The pool Fisher; ``None`` means the identity (minimise ``tr(M^-1)``).
    max_pending : int or None, default=None
        Columns of ``H``'s moves kept pending (see
        :class:`~skbait._fisher._lazy.LazySymmetric`); ``None`` decides by
        its size.

    Notes
    -----
    Each tracked row keeps ``[P_x; Qh_x]`` (``2r x r``), where ``Qh_x`` is
    half of ``Q_x`` up to a skew-symmetric part: ``Q_x = Qh_x + Qh_x^T``.
    Every score needs ``Q_x`` only through ``tr(A Q_x)`` with ``A``
    symmetric, which equals ``2 tr(A Qh_x)``, so one batched product
    ``[U_x; X_x] U_x^T`` updates both ``P_x`` and ``Q_x`` after each step
    (``U_x = V_x^T L``, ``X_x = V_x^T T``, ``T = G F L + (s/2) L (L^T F L)``
    from the old ``G``).

    On a large design, ``G F L`` needs no product with ``F``: the tracked
    rows keep ``H = G F G`` (:meth:`track`, from the matrices of their fresh
    state; :class:`MovingGFG`), and with ``L = G V C^-T``,
    ``G F L = H V C^-T`` and ``L^T F L = C^-1 V^T (H V C^-T)``. ``H V``
    reads ``H`` once, as a matrix-vector product (the row's
    ``V = S (x) z``), and ``H`` moves by ``s (T L^T + L T^T)`` with the same
    ``T``. Against ``F L`` and then ``G (F L)``, two thin products, a step
    reads one matrix instead of two, at memory speed.

    Bounds (:meth:`bounds`, adding with ``r > 1``): the batched ``r x r``
    solves are most of a step's cost, so the greedy first bounds every row
    and solves only the rows that can still win. Where these one-node bounds
    fail to prune (wide embeddings, early in a batch), the greedy switches to
    :meth:`tight_bounds` (quadrature over the spectrum of ``P``, for
    ``1 < r <= 32``): two nodes for every row, at about a third of the cost
    of the solves, and three for the rows that two leave in contention; well
    under 1% of the rows are then left to solve.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import TraceObjective
    >>> PQ = torch.tensor([[[1.0]], [[0.5]]], dtype=torch.float64).reshape(1, 2, 1)
    >>> gain, bad = TraceObjective().score(PQ, +1)  # tr(Q) / (1 + P) with Q = 2 Qh
    >>> gain.item()
    0.5
    """

    name = "trace"
    n_blocks = 2  # [P; Qh]

    def __init__(self, F=None, *, max_pending=None, keep_gfg=None):
        self.F = F
        self.max_pending = max_pending
        self.keep_gfg = keep_gfg

    def matrices(self, G):
        """``[G, G F G]``: the blocks ``z^T (.)_ab z`` give ``P_x`` and ``Q_x``."""
        GF = G if self.F is None else G @ self.F.to(G.dtype)
        return [G, _symmetrize_(GF @ G)]

    def columns(self, L):
        """``F L``, multiplied by the old ``G`` in the design's update.

        Taken as ``(L^T F)^T`` (``F`` is symmetric), the faster BLAS shape for a thin ``L``.
        """
        return L if self.F is None else (L.T @ self.F).T

    def track(self, G, *, keep_gfg=True):
        """:meth:`matrices` of the design's fresh ``G``, and a :class:`MovingGFG` to move with it.

        ``G F G`` is kept while ``keep_gfg`` and, unless the objective was told
        (``keep_gfg`` at construction), while ``G`` is large enough for its
        moves to be kept pending; else each step takes ``G F L`` directly.
        """
        mats = self.matrices(G)
        keep = keep_gfg and (
            G.numel() >= _LAZY_MIN_ELEMENTS if self.keep_gfg is None else self.keep_gfg
        )
        return mats, MovingGFG(mats[1] if keep else None, self.columns, self.max_pending)

    def has_bounds(self, r):
        """Bounds pay off when each score needs an ``r x r`` solve (``r > 1``)."""
        return r > 1

    def has_tight_bounds(self, r):
        """Whether :meth:`tight_bounds` can beat :meth:`bounds` and cost less than the scores.

        At ``r = 1`` the score is a closed form (no bounds); at ``r = 2`` two
        nodes are exact for the two eigenvalues of ``P``; past ``r = 32`` the
        moments cost more than the solves, and three nodes say little about a
        spectrum of so many eigenvalues.
        """
        return 1 < r <= 32

    def score(self, PQ, sign):
        """``tr(Q_x (I + sign P_x)^-1)`` of each row, and a mask of undefined rows.

        Parameters
        ----------
        PQ : torch.Tensor of shape (rows, 2 r, r)
            ``[P_x; Qh_x]``.
        sign : {+1, -1}
            Adding (+1: the drop of ``tr(M^-1 F)``) or removing (-1: its rise).

        Returns
        -------
        scores : torch.Tensor of shape (rows,)
        bad : torch.Tensor of shape (rows,), dtype=bool
        """
        r = PQ.shape[-1]
        P, Qh = PQ[:, :r], PQ[:, r:]
        if r == 1:
            A = 1.0 + sign * P[:, 0, 0]
            bad = ~(A > 0)
            A = torch.where(bad, torch.ones_like(A), A)
            return 2 * Qh[:, 0, 0] / A, bad
        eye = _eye(r, PQ.dtype, PQ.device)
        C, info = torch.linalg.cholesky_ex(eye + P if sign > 0 else eye - P)
        bad = info != 0
        if bad.any():
            C = torch.where(bad[:, None, None], eye, C)
        X = torch.cholesky_solve(Qh, C)
        return 2 * X.diagonal(dim1=-2, dim2=-1).sum(-1), bad

    def bounds(self, PQ, lower):
        """Upper bounds of the gains of adding each row; lower ones into ``lower``.

        See :func:`._bounds.one_node_bounds`.
        """
        return one_node_bounds(PQ, lower)

    def bound_moments(self, PQ, nodes=3):
        """What the tight bounds need of each row: :func:`._bounds.bound_moments`."""
        return bound_moments(PQ, nodes)

    def tight_bounds(self, moments, dtype, nodes=3):
        """Quadrature bounds of the gains (:func:`._bounds.tight_bounds`)."""
        return tight_bounds(moments, dtype, nodes)

    @staticmethod
    def margin(dtype):
        """Relative slack of the bounds in ``dtype``: :func:`._bounds.bound_margin`."""
        return bound_margin(dtype)
