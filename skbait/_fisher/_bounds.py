"""Bounds of the trace objective's gains: one node, and two or three by Gauss quadrature.

The exact gain of adding a row, ``tr(Q_x (I + P_x)^-1)``, needs an ``r x r``
solve per row. The greedy first bounds every row, from a few traces of
``P_x`` and ``Q_x`` (:func:`one_node_bounds`) or from the moments
``tr(Q_x P_x^j)`` (:func:`bound_moments`, :func:`tight_bounds`), and solves
only the rows whose upper bound reaches the best lower bound. Every bound is
widened by a slack (:func:`bound_margin`) far above the rounding of ``P`` and
``Q``, so that the choice is the one of the exact scores.
"""

import math

import torch

__all__ = ["bound_margin", "bound_moments", "one_node_bounds", "tight_bounds"]


def bound_margin(dtype):
    """Relative slack on the bounds in ``dtype``, far above the rounding of ``P`` and ``Q``."""
    return 1e-6 if dtype == torch.float64 else 1e-3


def one_node_bounds(PQ, lower):
    """Upper bounds of the gains of adding each row; lower bounds written into ``lower``.

    For ``A = I + P`` and ``Q`` both PSD::

        tr(Q) / (1 + tr P) <= tr(Q A^-1) <= tr(Q) / (1 + lambda_min(P)) ~ tr(Q).

    ``P`` is singular (rank ``k - 1``), so rounding can make
    ``lambda_min(P)`` slightly negative, by about ``eps * tr(P)``: the
    slack (:func:`bound_margin`) covers it, and a row with a clearly negative
    diagonal gets an infinite upper bound (it is always solved exactly).
    Sharper, from the spectrum of ``P`` in ``[0, Lambda]``,
    ``Lambda = |P|_F``::

        A^-1 <= I - P / (1 + Lambda)           (chord of 1 / (1 + x))
        tr(Q A^-1) >= tr(Q)^2 / tr(Q A)        (Cauchy-Schwarz)
    """
    r = PQ.shape[-1]
    margin = bound_margin(PQ.dtype)
    flat = PQ.view(-1, 2, r * r)
    # |P|_F^2 and sum(P * Qh) = tr(Q P) / 2 in one batched dot product
    sums = torch.linalg.vecdot(flat[:, :1], flat)
    diags = PQ.view(-1, 2, r, r).diagonal(dim1=2, dim2=3)  # diag P, diag Qh
    norm_P = sums[:, 0].clamp_min(0).sqrt_()
    upper = _one_node_bounds(diags[:, 1].sum(-1).mul_(2), sums[:, 1].mul(2), norm_P, margin, lower)
    return _settled(upper, lower, diags[:, 0].amin(-1), margin)


def bound_moments(PQ, nodes=3):
    """What the bounds of ``nodes`` nodes need of each row, ``(rows, 8)`` in float64.

    ``nu_j = tr(Q P^j)`` for ``j < 2 nodes`` (two ``r x r`` products a
    row for three nodes, one for two; the columns of higher moments are
    left ``nan``), then ``|P|_F`` and the smallest diagonal entry of
    ``P``. Taken chunk by chunk; the bounds themselves
    (:func:`tight_bounds`) are many small operations on whole columns,
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


def tight_bounds(moments, dtype, nodes=3):
    """Upper and lower bounds of the gains from :func:`bound_moments`, tighter than one node's.

    The gain is an integral over the spectrum of ``P`` (``y >= 0``): with
    ``P = sum_i y_i v_i v_i^T`` and weights ``w_i = v_i^T Q v_i >= 0``,
    ``tr(Q (I + P)^-1) = sum_i w_i / (1 + y_i)``, whose moments are
    ``nu_j = tr(Q P^j)``. Gauss quadrature of ``1 / (1 + y)`` against
    that measure bounds it from below, and Gauss-Radau quadrature with a
    node fixed at ``y = 0`` from above (the signs of the derivatives of
    ``1 / (1 + y)``; Golub and Meurant, *Matrices, Moments and
    Quadrature*). With one node these are :func:`one_node_bounds`; two and three
    nodes (:func:`_quadrature_bounds`) are far tighter: on a network's
    softmax layer (``k = 10``, ``d = 512``) the one-node bounds leave most
    rows to solve exactly, three nodes well under 1%.

    A rule of more nodes counts only where its recurrence is well
    conditioned; the tightest valid bound is kept, widened by a slack
    (:func:`bound_margin`) far above the rounding of ``P``, ``Q`` and the
    quadrature.

    Parameters
    ----------
    moments : torch.Tensor of shape (rows, 8), float64
        From :func:`bound_moments` with at least as many ``nodes``.
    dtype : torch.dtype
        The working dtype of the exact scores the bounds are compared
        with: it sets the slack.
    nodes : {2, 3}, default=3
        The most nodes of a quadrature rule (the fewer, the looser).

    Returns
    -------
    upper, lower : torch.Tensor of shape (rows,), float64
    """
    margin = bound_margin(dtype)
    lower = moments.new_empty(moments.shape[0])
    upper = _one_node_bounds(moments[:, 0], moments[:, 1], moments[:, 6], margin, lower)
    quad_upper, quad_lower = _quadrature_bounds(moments[:, : 2 * nodes])
    slack = margin * moments[:, 0].clamp_min(0)
    upper = torch.minimum(upper, quad_upper + slack)
    lower = torch.maximum(lower, quad_lower - slack)
    return _settled(upper, lower, moments[:, 7], margin), lower


def _one_node_bounds(tr_Q, tr_QP, norm_P, margin, lower):
    """The chord upper bound (with its slack); the Cauchy-Schwarz lower one into ``lower``.

    ``upper = tr_Q (1 + margin (1 + |P|)) - tr_QP / (1 + |P|)``; few and
    fused operations (a greedy step takes them over the whole pool).
    """
    tr_Q, tr_QP = tr_Q.clamp_min(0), tr_QP.clamp_min(0)
    torch.div(tr_Q * tr_Q, (tr_Q + tr_QP).clamp_min_(torch.finfo(tr_Q.dtype).tiny), out=lower)
    one_norm = norm_P + 1
    upper = torch.addcmul(tr_Q, one_norm, tr_Q, value=margin)
    return upper.sub_(tr_QP.div_(one_norm))


def _settled(upper, lower, min_diag_P, margin):
    """Upper bounds as the greedy takes them: never under the lower one, ``inf`` where unsure.

    Rounding must not leave the best lower bound's row out of the
    contenders; a row whose ``P`` has a clearly negative diagonal is always
    solved exactly. ``upper`` is updated in place.
    """
    torch.maximum(upper, lower, out=upper)
    return upper.masked_fill_(min_diag_P < -margin, math.inf)


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
