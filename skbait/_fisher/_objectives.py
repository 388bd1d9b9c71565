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
from skbait._fisher._lazy import _LAZY_MIN_ELEMENTS, LazySymmetric

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

    def track(self, G, *, keep_gfg=True):
        """:meth:`matrices` of the design's fresh ``G``, and what moves with it (nothing)."""
        return [G], _NO_EXTRA_BLOCKS

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
        """``F L``, multiplied by the old ``G`` in the design's update."""
        return L if self.F is None else self.F @ L

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
        upper, low = _one_node_bounds(2 * diags[:, 1].sum(-1), 2 * sums[:, 1], norm_P, margin)
        lower.copy_(low)
        return _settled(upper, low, diags[:, 0].amin(-1), margin)

    def bound_moments(self, PQ, nodes=3):
        """What the bounds of ``nodes`` nodes need of each row, ``(rows, 8)`` in float64.

        ``nu_j = tr(Q P^j)`` for ``j < 2 nodes`` (two ``r x r`` products a
        row for three nodes, one for two; the columns of higher moments are
        left ``nan``), then ``|P|_F`` and the smallest diagonal entry of
        ``P``. Taken chunk by chunk; the bounds themselves
        (:meth:`tight_bounds`) are many small operations on whole columns,
        cheaper done once over all the rows.
        """
        r = PQ.shape[-1]
        X = PQ.to(torch.float64)  # [P; Qh]
        P = X[:, :r]
        Y = torch.bmm(X, P)  # [P^2; Qh P]
        X, Y = X.view(-1, 2, r * r), Y.view(-1, 2, r * r)
        # tr(Qh P^a P^b) = <Qh P^a, P^b> = nu_(a+b) / 2: P and its powers are symmetric.
        dot = torch.linalg.vecdot
        diagonal = slice(None, None, r + 1)  # of a flattened r x r block
        out = X.new_full((X.shape[0], 8), math.nan)
        out[:, 0] = 2 * X[:, 1, diagonal].sum(-1)  # tr Q
        out[:, 1] = 2 * dot(X[:, 1], X[:, 0])  # Qh . P
        out[:, 2] = 2 * dot(Y[:, 1], X[:, 0])  # Qh P . P
        out[:, 3] = 2 * dot(Y[:, 1], Y[:, 0])  # Qh P . P^2
        if nodes == 3:
            W = torch.bmm(Y.view(-1, 2 * r, r), P).view(-1, 2, r * r)  # [P^3; Qh P^2]
            out[:, 4] = 2 * dot(W[:, 1], Y[:, 0])  # Qh P^2 . P^2
            out[:, 5] = 2 * dot(W[:, 1], W[:, 0])  # Qh P^2 . P^3
        out[:, 6] = X[:, 0].norm(dim=1)
        out[:, 7] = X[:, 0, diagonal].amin(-1)
        return out

    def tight_bounds(self, moments, dtype, nodes=3):
        """Upper and lower bounds of the gains from :meth:`bound_moments`, tighter than ``bounds``.

        The gain is an integral over the spectrum of ``P`` (``y >= 0``): with
        ``P = sum_i y_i v_i v_i^T`` and weights ``w_i = v_i^T Q v_i >= 0``,
        ``tr(Q (I + P)^-1) = sum_i w_i / (1 + y_i)``, whose moments are
        ``nu_j = tr(Q P^j)``. Gauss quadrature of ``1 / (1 + y)`` against
        that measure bounds it from below, and Gauss-Radau quadrature with a
        node fixed at ``y = 0`` from above (the signs of the derivatives of
        ``1 / (1 + y)``; Golub and Meurant, *Matrices, Moments and
        Quadrature*). With one node these are :meth:`bounds`; two and three
        nodes (:func:`_quadrature_bounds`) are far tighter: on a network's
        softmax layer (``k = 10``, ``d = 512``) the one-node bounds leave most
        rows to solve exactly, three nodes well under 1%.

        A rule of more nodes counts only where its recurrence is well
        conditioned; the tightest valid bound is kept, widened by a slack
        (:meth:`margin`) far above the rounding of ``P``, ``Q`` and the
        quadrature.

        Parameters
        ----------
        moments : torch.Tensor of shape (rows, 8), float64
            From :meth:`bound_moments` with at least as many ``nodes``.
        dtype : torch.dtype
            The working dtype of the exact scores the bounds are compared
            with: it sets the slack.
        nodes : {2, 3}, default=3
            The most nodes of a quadrature rule (the fewer, the looser).

        Returns
        -------
        upper, lower : torch.Tensor of shape (rows,), float64
        """
        margin = self.margin(dtype)
        upper, lower = _one_node_bounds(moments[:, 0], moments[:, 1], moments[:, 6], margin)
        quad_upper, quad_lower = _quadrature_bounds(moments[:, : 2 * nodes])
        slack = margin * moments[:, 0].clamp_min(0)
        upper = torch.minimum(upper, quad_upper + slack)
        lower = torch.maximum(lower, quad_lower - slack)
        return _settled(upper, lower, moments[:, 7], margin), lower

    @staticmethod
    def margin(dtype):
        """Relative slack of the bounds in ``dtype``, far above the rounding of ``P`` and ``Q``."""
        return _bound_margin(dtype)


class _NoExtraBlocks:
    """What moves with ``G`` for the log-det objective: nothing; no blocks beyond ``L``."""

    drifted = False

    def columns(self):
        return None

    def extra_blocks(self, term):
        return []


_NO_EXTRA_BLOCKS = _NoExtraBlocks()


class MovingGFG:
    """The trace objective's extra block of each move, from ``H = G F G`` moved with ``G``.

    ``T = G F L + (s/2) L (L^T F L)`` comes either from the design's product
    ``G (F L)`` (:meth:`columns` asks the design's update for it), or, when
    ``H`` is kept, from ``H`` alone: ``G F L = H V C^-T``. ``H`` then moves by
    ``s (T L^T + L T^T)``.

    Keeping ``H`` squares the conditioning of the moves it cancels: in float32
    with a tiny regulariser its rounding can swamp it where ``G``'s does
    not. So the first move, and every ``_CHECK_EVERY``-th, also takes ``T``
    the direct way and compares; past the tolerance, :attr:`drifted` tells
    the greedy to rebuild the design (and the rows to stop keeping ``H``).

    Parameters
    ----------
    H : torch.Tensor of shape (k d, k d) or None
        ``G F G`` of the design's current ``G``, owned from now on; ``None``
        takes every ``T`` from the design's product.
    columns : callable
        ``columns(L) = F L``, for the design's update.
    max_pending : int or None
        As :class:`~skbait._fisher._lazy.LazySymmetric` takes it.

    Attributes
    ----------
    H : LazySymmetric or None
    drifted : bool
        A check found ``H``'s ``T`` off the direct one.
    """

    def __init__(self, H, columns, max_pending):
        self.H = None if H is None else LazySymmetric(H, max_pending)
        self._columns = columns
        self.n_moves = 0
        self.drifted = False

    def columns(self):
        """What the design's next update must multiply by the old ``G``: ``F L``, or nothing."""
        if self.H is None or self.n_moves % _CHECK_EVERY == 0:
            return self._columns
        return None

    def extra_blocks(self, term):
        """``[T]`` with ``T = G F L + (s/2) L (L^T F L)``: ``X_x = V_x^T T`` updates ``Qh_x``."""
        L, s = term.L, term.sign
        T = None
        if term.X is not None:
            T = term.GX + (0.5 * s) * (L @ (L.T @ term.X))
        if self.H is not None:
            HV, V = self.H.times_kron(term.z, term.S)
            GFL = torch.linalg.solve_triangular(term.C, HV.T, upper=False).T  # H V C^-T
            W = torch.linalg.solve_triangular(term.C, V.T, upper=False).T  # V C^-T
            T_kept = GFL + (0.5 * s) * (L @ (W.T @ GFL))  # W^T G F L = L^T F L
            if T is None:
                T = T_kept
            elif _relative_gap(T_kept, T) > _gfg_tolerance(T.dtype):
                self.drifted = True
            # H' = H + s (G F L L^T + L L^T F G) + L (L^T F L) L^T = H + s (T L^T + L T^T)
            self.H.move(T, L, sign=s)
        self.n_moves += 1
        return [T]


# Every this many moves, a kept G F G is checked against the design's direct product.
_CHECK_EVERY = 8


def _gfg_tolerance(dtype):
    """Largest relative gap between ``H``'s ``T`` and the direct one that passes."""
    return 1e-7 if dtype == torch.float64 else 1e-2


def _relative_gap(A, B):
    """``max |A - B| / max |B|`` (0 when both vanish)."""
    scale = B.abs().max()
    gap = (A - B).abs().max()
    return 0.0 if scale == 0 and gap == 0 else (gap / scale).item()


def _one_node_bounds(tr_Q, tr_QP, norm_P, margin):
    """The Cauchy-Schwarz lower and chord upper bounds (with its slack): ``(upper, lower)``."""
    tr_Q, tr_QP = tr_Q.clamp_min(0), tr_QP.clamp_min(0)
    lower = tr_Q * tr_Q / (tr_Q + tr_QP).clamp_min(torch.finfo(tr_Q.dtype).tiny)
    upper = tr_Q - tr_QP / (1 + norm_P) + margin * (1 + norm_P) * tr_Q
    return upper, lower


def _settled(upper, lower, min_diag_P, margin):
    """Upper bounds as the greedy takes them: never under the lower one, ``inf`` where unsure.

    Rounding must not leave the best lower bound's row out of the
    contenders; a row whose ``P`` has a clearly negative diagonal is always
    solved exactly.
    """
    upper = torch.maximum(upper, lower)
    return torch.where(min_diag_P < -margin, math.inf, upper)


# A recurrence coefficient of the quadrature counts only if the moments'
# cancellation in it stays below this factor (float64: about 1e-10 relative).
_MAX_CANCELLATION = 1e6


def _quadrature_bounds(nu):
    """Gauss (lower) and Gauss-Radau (upper) bounds of ``tr(Q (I + P)^-1)``, two and three nodes.

    Parameters
    ----------
    nu : torch.Tensor of shape (rows, 4) or (rows, 6), float64
        The moments ``tr(Q P^j)``, ``j = 0..3`` (rules of two nodes) or
        ``j = 0..5`` (two and three nodes), of each row.

    Returns
    -------
    upper, lower : torch.Tensor of shape (rows,), float64
        The tightest of the two- and three-node bounds that are well
        conditioned on each row (``inf`` and ``-inf`` where none is).

    Notes
    -----
    The Jacobi matrix of the measure (recurrence coefficients ``alpha_j``,
    ``beta_j`` of its monic orthogonal polynomials) comes from the moments
    by the Stieltjes procedure. An ``m``-node rule is then a continued
    fraction: Gauss ``nu_0 / (1 + alpha_0 - beta_1 / (1 + alpha_1 - ...))``,
    and Radau the same with the last ``alpha`` replaced so that ``y = 0`` is
    a node.
    """
    nu = torch.where(torch.isfinite(nu), nu, 0.0)
    upper = torch.full_like(nu[:, 0], math.inf)
    lower = torch.full_like(nu[:, 0], -math.inf)

    def inner(c, shift=0):
        """``<y^shift pi, pi>`` from the moments, and the summed size of its terms."""
        total = torch.zeros_like(nu[:, 0])
        size = torch.zeros_like(nu[:, 0])
        for a in range(c.shape[1]):
            for b in range(c.shape[1]):
                term = c[:, a] * c[:, b] * nu[:, a + b + shift]
                total = total + term
                size = size + term.abs()
        return total, size

    # Stieltjes: pi_0 = 1, pi_{j+1} = (y - alpha_j) pi_j - beta_j pi_{j-1},
    # each pi_j as its coefficients in powers of y.
    ok = nu[:, 0] > 0
    norm_prev = nu[:, 0]
    alphas = [nu[:, 1] / torch.where(ok, nu[:, 0], 1.0)]
    betas = []
    c_prev = torch.zeros_like(nu[:, :1])
    c = torch.ones_like(nu[:, :1])
    for j in range(1, nu.shape[1] // 2):
        # pi_j = (y - alpha_{j-1}) pi_{j-1} - beta_{j-1} pi_{j-2}
        shifted = torch.cat([torch.zeros_like(c[:, :1]), c], dim=1)
        c_new = shifted - torch.cat([alphas[-1][:, None] * c, torch.zeros_like(c[:, :1])], dim=1)
        if betas:
            c_new[:, : c_prev.shape[1]] -= betas[-1][:, None] * c_prev
        norm, size = inner(c_new)
        ok = ok & (norm * _MAX_CANCELLATION > size) & (norm > 0)
        moment, size = inner(c_new, shift=1)
        ok = ok & (moment * _MAX_CANCELLATION > size) & (moment > 0)
        safe_norm = torch.where(ok, norm, 1.0)
        betas.append(torch.where(ok, norm / norm_prev, 0.0))
        alphas.append(torch.where(ok, moment / safe_norm, 0.0))
        c_prev, c, norm_prev = c, c_new, safe_norm
        # The (j + 1)-node rules, with alpha_0 .. alpha_j and beta_1 .. beta_j.
        gauss = _continued_fraction(nu[:, 0], alphas, betas)
        # Radau: the last alpha such that y = 0 is a node, alpha_j = -beta_j q_{j-1} / q_j
        # with q_i = pi_i(0), by the same recurrence.
        q_prev, q = torch.ones_like(nu[:, 0]), -alphas[0]
        for i in range(1, j):
            q_prev, q = q, -alphas[i] * q - betas[i - 1] * q_prev
        radau_alpha = betas[-1] * q_prev / torch.where(q != 0, -q, 1.0)
        good = ok & (q != 0) & (radau_alpha >= 0)
        radau = _continued_fraction(nu[:, 0], alphas[:-1] + [radau_alpha], betas)
        upper = torch.where(good & (radau >= 0), torch.minimum(upper, radau), upper)
        lower = torch.where(ok & (gauss >= 0), torch.maximum(lower, gauss), lower)
    return upper, lower


def _continued_fraction(nu0, alphas, betas):
    """``nu0 e_1^T (I + J)^-1 e_1`` for the Jacobi matrix of ``alphas`` and ``betas``."""
    value = 1 + alphas[-1]
    for alpha, beta in zip(reversed(alphas[:-1]), reversed(betas)):
        value = 1 + alpha - beta / value
    return nu0 / value
