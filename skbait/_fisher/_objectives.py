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

import functools
import math

import torch

from skbait._fisher._kron import _symmetrize_

__all__ = ["LogDetObjective", "TraceObjective"]


@functools.lru_cache(maxsize=16)
def _eye(r, dtype, device):
    return torch.eye(r, dtype=dtype, device=device)


def _bound_margin(dtype):
    # Relative slack on the bounds, far above the rounding of P and Q.
    return 1e-6 if dtype == torch.float64 else 1e-3


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

    def columns(self, L):
        """No extra columns are needed to update ``P``."""
        return None

    def extra_blocks(self, term):
        """No blocks beyond ``L`` in the rows' update."""
        return []

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

    Notes
    -----
    Each tracked row keeps ``[P_x; Qh_x]`` (``2r x r``), where ``Qh_x`` is
    half of ``Q_x`` up to a skew-symmetric part: ``Q_x = Qh_x + Qh_x^T``.
    Every score needs ``Q_x`` only through ``tr(A Q_x)`` with ``A``
    symmetric, which equals ``2 tr(A Qh_x)``, so one batched product
    ``[U_x; X_x] U_x^T`` updates both ``P_x`` and ``Q_x`` after each step
    (``U_x = V_x^T L``, ``X_x = V_x^T T``, ``T = G F L + (s/2) L (L^T F L)``
    from the old ``G``).

    Bounds (:meth:`bounds`, adding with ``r > 1``): the batched ``r x r``
    solves are most of a step's cost, so the greedy first bounds every row
    and solves only the rows that can still win.

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

    def __init__(self, F=None):
        self.F = F

    def matrices(self, G):
        """``[G, G F G]``: the blocks ``z^T (.)_ab z`` give ``P_x`` and ``Q_x``."""
        GF = G if self.F is None else G @ self.F.to(G.dtype)
        return [G, _symmetrize_(GF @ G)]

    def columns(self, L):
        """``F L``, multiplied by the old ``G`` in the design's update."""
        return L if self.F is None else self.F @ L

    def extra_blocks(self, term):
        """``[T]`` with ``T = G F L + (s/2) L (L^T F L)``: ``X_x = V_x^T T`` updates ``Qh_x``."""
        K = term.L.T @ term.X
        return [term.GX + (0.5 * term.sign) * (term.L @ K)]

    def has_bounds(self, r):
        """Bounds pay off when each score needs an ``r x r`` solve (``r > 1``)."""
        return r > 1

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
        C, info = torch.linalg.cholesky_ex(eye + sign * P)
        bad = info != 0
        if bad.any():
            C = torch.where(bad[:, None, None], eye, C)
        X = torch.cholesky_solve(Qh, C)
        return 2 * X.diagonal(dim1=-2, dim2=-1).sum(-1), bad

    def bounds(self, PQ, lower):
        """Upper bounds of the gains of adding each row; lower bounds written into ``lower``.

        For ``A = I + P`` and ``Q`` both PSD::

            tr(Q) / (1 + tr P) <= tr(Q A^-1) <= tr(Q) / (1 + lambda_min(P)) ~ tr(Q).

        ``P`` is singular (rank ``k - 1``), so rounding can make
        ``lambda_min(P)`` slightly negative, by about ``eps * tr(P)``: the
        slack (:meth:`margin`) covers it, and a row with a clearly negative
        diagonal gets an infinite upper bound (it is always solved exactly).
        Sharper, from the spectrum of ``P`` in ``[0, Lambda]``,
        ``Lambda = |P|_F``::

            A^-1 <= I - P / (1 + Lambda)           (chord of 1 / (1 + x))
            tr(Q A^-1) >= tr(Q)^2 / tr(Q A)        (Cauchy-Schwarz)
        """
        r = PQ.shape[-1]
        margin = self.margin(PQ.dtype)
        flat = PQ.view(-1, 2, r * r)
        # |P|_F^2 and sum(P * Qh) = tr(Q P) / 2 in one batched product
        sums = torch.bmm(flat[:, :1], flat.transpose(1, 2))[:, 0]
        diags = PQ.view(-1, 2, r, r).diagonal(dim1=2, dim2=3)  # diag P, diag Qh
        norm_P = sums[:, 0].clamp_min(0).sqrt()
        tr_Q = 2 * diags[:, 1].sum(-1).clamp_min(0)
        tr_QP = 2 * sums[:, 1].clamp_min(0)
        lower.copy_(tr_Q * tr_Q / (tr_Q + tr_QP).clamp_min(torch.finfo(PQ.dtype).tiny))
        upper = tr_Q - tr_QP / (1 + norm_P)
        upper = upper + margin * (1 + norm_P) * tr_Q
        # Rounding must not leave the best lower bound's row out of the contenders.
        upper = torch.maximum(upper, lower)
        return torch.where(diags[:, 0].amin(-1) < -margin, math.inf, upper)

    @staticmethod
    def margin(dtype):
        """Relative slack of the bounds in ``dtype``, far above the rounding of ``P`` and ``Q``."""
        return _bound_margin(dtype)
