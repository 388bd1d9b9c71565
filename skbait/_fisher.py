"""Kronecker-factored last-layer Fisher information and the greedy designs built on it.

Pure torch, no scikit-learn: the strategies in :mod:`skbait.strategies` turn
estimators into arrays and call into here.

Notation. A pool of ``n`` rows has last-layer embeddings ``z`` (``d``) and, for
``k`` outputs, a *factor* ``S_x`` (``k x r``). The pointwise information of a
row is ``I(x) = V_x V_x^T`` with ``V_x = S_x (x) z_x``, a ``(k d) x r`` matrix
that is never formed: coordinates are class-major (``a * d + i``).

- BAIT, classification: ``S = (I - p 1^T) diag(sqrt p)``, ``r = k``, so that
  ``S S^T = diag(p) - p p^T`` (column ``c`` of ``V`` is
  ``sqrt(p_c) (e_c - p) (x) z``, the reference's ``V_x``).
- Regression (any number of outputs, paper eq. 6): ``k = r = 1``, ``S = [[1]]``.
- Rank-one BADGE gradient: ``S = p - e_yhat``, ``r = 1``.

The greedy (:class:`KroneckerGreedy`) keeps ``G = M^-1`` and, for every row,
``P_x = V_x^T G V_x`` and (for the trace objective) ``Q_x = V_x^T G F G V_x``,
both ``r x r``. After a row is added to or removed from the design, ``G`` moves
by a rank-``r`` term ``s L L^T`` and every ``P_x``, ``Q_x`` moves by products of
``V_x^T L`` -- one matmul ``Z @ L`` for the whole pool, in chunks -- so a step
costs ``O(n d k r + n k r^2)`` instead of the ``O(n k (kd)^2)`` of
re-multiplying ``V_x^T G F G V_x``. Memory stays ``O(n (d + k r) + (kd)^2)``.
"""

import math

import torch

__all__ = [
    "IllConditionedError",
    "KroneckerGreedy",
    "bait_factors",
    "block_quadratic",
    "kron_gram",
    "rank1_factors",
    "regression_factors",
]

# Elements in one chunk's temporaries: large enough for efficient matmuls,
# small enough to stay in cache and to keep memory flat in n.
_CHUNK_ELEMENTS = 1 << 19
_INIT_CHUNK_ELEMENTS = 1 << 21


def bait_factors(P):
    """Factors ``S_x = (I - p 1^T) diag(sqrt p)`` with ``S S^T = diag(p) - p p^T``.

    Parameters
    ----------
    P : torch.Tensor of shape (n, k)
        Class probabilities, rows summing to one.

    Returns
    -------
    S : torch.Tensor of shape (n, k, k)

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import bait_factors
    >>> p = torch.tensor([[0.25, 0.75]], dtype=torch.float64)
    >>> S = bait_factors(p)[0]
    >>> torch.allclose(S @ S.T, torch.diag(p[0]) - p[0, :, None] * p[0])
    True
    """
    k = P.shape[1]
    eye = torch.eye(k, dtype=P.dtype, device=P.device)
    # S[x, a, c] = (delta_ac - p_a) sqrt(p_c)
    return (eye - P[:, :, None]) * P.clamp_min(0).sqrt()[:, None, :]


def rank1_factors(P):
    """Factors ``S_x = p - e_yhat`` (``k x 1``), the BADGE gradient's class part.

    ``yhat`` is the most probable class, the lowest index on ties.

    Parameters
    ----------
    P : torch.Tensor of shape (n, k)

    Returns
    -------
    S : torch.Tensor of shape (n, k, 1)

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import rank1_factors
    >>> rank1_factors(torch.tensor([[0.2, 0.8]]))[0, :, 0]
    tensor([ 0.2000, -0.2000])
    """
    yhat = P.argmax(dim=1)
    S = P.clone()
    S[torch.arange(P.shape[0], device=P.device), yhat] -= 1
    return S[:, :, None]


def regression_factors(n, *, dtype=torch.float64, device="cpu"):
    """Factors ``S_x = [[1]]``: the rank-one Fisher ``z z^T`` of regression.

    Parameters
    ----------
    n : int
    dtype : torch.dtype, default=torch.float64
    device : str or torch.device, default="cpu"

    Returns
    -------
    S : torch.Tensor of shape (n, 1, 1)

    Examples
    --------
    >>> from skbait._fisher import regression_factors
    >>> regression_factors(3).shape
    torch.Size([3, 1, 1])
    """
    return torch.ones(n, 1, 1, dtype=dtype, device=device)


class IllConditionedError(ValueError, FloatingPointError):
    """The design is singular in the working precision: a bad ``reg`` or embedding scale.

    A :class:`ValueError` for callers (the input needs changing), and a
    :class:`FloatingPointError` for what it is.
    """


def _chunks(n, size):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _pairs(k, device):
    a, b = torch.triu_indices(k, k, device=device)
    return a, b


def kron_gram(Z, S, *, weights=None, chunk_size=None):
    """The summed information ``sum_x w_x (S_x S_x^T) (x) (z_x z_x^T)``.

    Parameters
    ----------
    Z : torch.Tensor of shape (n, d)
    S : torch.Tensor of shape (n, k, r)
    weights : torch.Tensor of shape (n,), default=None
    chunk_size : int, default=None
        Rows per chunk (automatic when None).

    Returns
    -------
    A : torch.Tensor of shape (k d, k d)
        Symmetric, class-major blocks.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import bait_factors, kron_gram
    >>> Z = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    >>> p = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    >>> A = kron_gram(Z, bait_factors(p))
    >>> C = torch.diag(p[0]) - p[0, :, None] * p[0]
    >>> torch.allclose(A, torch.kron(C, Z.T @ Z))
    True
    """
    n, d = Z.shape
    k = S.shape[1]
    out = Z.new_zeros(k, d, k, d)
    if n == 0:
        return out.reshape(k * d, k * d)
    a_idx, b_idx = _pairs(k, Z.device)
    n_pairs = a_idx.numel()
    size = chunk_size or max(1, _INIT_CHUNK_ELEMENTS // (n_pairs * d))
    acc = Z.new_zeros(d, n_pairs * d)
    for sl in _chunks(n, size):
        S_c = S[sl]
        C = S_c @ S_c.transpose(1, 2)
        if weights is not None:
            C = C * weights[sl, None, None]
        Zc = Z[sl]
        # One matmul for all class pairs: Z^T [c_ab * Z]_ab.
        scaled = (C[:, a_idx, b_idx, None] * Zc[:, None, :]).reshape(Zc.shape[0], -1)
        acc += Zc.T @ scaled
    blocks = acc.reshape(d, n_pairs, d).permute(1, 0, 2)
    out[a_idx, :, b_idx, :] = blocks
    out[b_idx, :, a_idx, :] = blocks.transpose(1, 2)
    return out.reshape(k * d, k * d)


def block_quadratic(Z, A, k, *, chunk_size=None):
    """Per-row ``W_x[a, b] = z_x^T A_ab z_x`` for the ``d x d`` blocks of a symmetric ``A``.

    Parameters
    ----------
    Z : torch.Tensor of shape (n, d)
    A : torch.Tensor of shape (k d, k d), symmetric
    k : int
    chunk_size : int, default=None

    Returns
    -------
    W : torch.Tensor of shape (n, k, k)

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import block_quadratic
    >>> A = torch.eye(4, dtype=torch.float64)
    >>> block_quadratic(torch.tensor([[1.0, 2.0]], dtype=torch.float64), A, 2)[0]
    tensor([[5., 0.],
            [0., 5.]], dtype=torch.float64)
    """
    n, d = Z.shape
    a_idx, b_idx = _pairs(k, Z.device)
    n_pairs = a_idx.numel()
    # Only the blocks a <= b, laid out so that one matmul serves them all.
    A_pairs = A.reshape(k, d, k, d)[a_idx, :, b_idx, :].permute(1, 0, 2).reshape(d, -1)
    W = Z.new_empty(n, k, k)
    size = chunk_size or max(1, _INIT_CHUNK_ELEMENTS // (n_pairs * d))
    for sl in _chunks(n, size):
        Zc = Z[sl]
        T = (Zc @ A_pairs).reshape(Zc.shape[0], n_pairs, d)
        w = torch.bmm(T, Zc[:, :, None])[:, :, 0]
        W[sl, a_idx, b_idx] = w
        W[sl, b_idx, a_idx] = w
    return W


def _sandwich(S, W):
    """``S^T W S`` for batches of small matrices."""
    return S.transpose(1, 2) @ W @ S


def _symmetrize_(A):
    A.add_(A.transpose(-2, -1).clone()).mul_(0.5)
    return A


def _inverse_from_cholesky(C):
    """``(C C^T)^-1`` for a lower-triangular ``C``, symmetric.

    Two BLAS-3 steps; ``torch.cholesky_inverse`` is unblocked and far slower on CPU.
    """
    eye = torch.eye(C.shape[-1], dtype=C.dtype, device=C.device)
    Cinv = torch.linalg.solve_triangular(C, eye, upper=False)
    return _symmetrize_(Cinv.transpose(-2, -1) @ Cinv)


def _rel_tolerance(dtype):
    # Scores closer than this (relative to the best) count as tied: the lowest
    # index wins, so CPU, CUDA and duplicate rows give the same selection.
    return 1e-9 if dtype == torch.float64 else 1e-5


class KroneckerGreedy:
    """Greedy experimental design over a pool with Kronecker-factored information.

    Maximises, one row at a time, either the drop of ``tr(M^-1 F)`` (``objective=
    "trace"``, BAIT) or the gain of ``log det M`` (``objective="logdet"``),
    and can remove rows again (the backward phase of BAIT).

    Parameters
    ----------
    Z : torch.Tensor of shape (m, d)
        Embeddings of the candidate rows.
    S : torch.Tensor of shape (m, k, r)
        Their factors, already scaled by the candidates' weight.
    M0 : torch.Tensor of shape (k d, k d)
        The starting design (regulariser plus labeled information), positive
        definite; best given in float64 (it is kept in float64 in any case).
    F : torch.Tensor of shape (k d, k d) or None
        The pool Fisher for ``objective="trace"``; ``None`` means the identity.
    objective : {"trace", "logdet"}
    chunk_size : int or None
        Rows per chunk when scoring and updating the pool.
    structure : {"bait", "rank1", None}, default=None
        When ``S`` came from :func:`bait_factors` or :func:`rank1_factors`,
        products ``S_x^T Y`` are taken in ``O(k w)`` from ``probas`` instead
        of ``O(k r w)``.
    probas : torch.Tensor of shape (m, k), default=None
        The probabilities behind ``S``, needed with ``structure``.
    scale : float, default=1.0
        The factor ``S`` was multiplied by (needed with ``structure``).

    Notes
    -----
    Numerical guards: ``G`` is symmetrised after each update and checked
    against ``M`` (kept explicitly, and rebuilt exactly from ``M0`` and the
    chosen rows) on a few columns every step; when the residual ``|M G - I|``
    drifts, or a ``k x k`` system that must be positive definite is not, ``G``
    is recomputed by Cholesky and every ``P_x``, ``Q_x`` from scratch. A row
    whose removal would leave a singular design (impossible in exact
    arithmetic with ``reg > 0``) gets an infinite removal cost.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import KroneckerGreedy, regression_factors
    >>> Z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    >>> greedy = KroneckerGreedy(Z, regression_factors(3), torch.eye(2, dtype=torch.float64),
    ...                          None, objective="logdet")
    >>> greedy.forward(2)
    >>> greedy.picked
    [2, 0]
    """

    def __init__(self, Z, S, M0, F=None, *, objective="trace", chunk_size=None,
                 structure=None, probas=None, scale=1.0):
        if objective not in ("trace", "logdet"):
            raise ValueError(f"Unknown objective {objective!r}.")
        self.structure = structure if probas is not None else None
        if self.structure == "bait":
            self._p = probas
            self._sqrt_p = probas.clamp_min(0).sqrt() * scale
        elif self.structure == "rank1":
            self._g = S[:, :, 0]  # p - e_yhat, already scaled
        self.Z = Z
        self.S = S
        self.M0 = M0
        self.F = F
        self.objective = objective
        self.m, self.d = Z.shape
        self.k, self.r = S.shape[1], S.shape[2]
        self.D = self.k * self.d
        self.dtype, self.device = Z.dtype, Z.device
        per_row = self.k * 2 * self.r + 6 * self.r * self.r
        self.chunk_size = int(chunk_size or max(256, _CHUNK_ELEMENTS // per_row))
        self.rtol = _rel_tolerance(self.dtype)
        self.eye_r = torch.eye(self.r, dtype=self.dtype, device=self.device)
        self.eye_D = torch.eye(self.D, dtype=torch.float64, device=self.device)
        self.drift_tol = 1e-7 if self.dtype == torch.float64 else 1e-2
        self.n_check = min(self.D, 8)
        self.check_cols = torch.linspace(0, self.D - 1, self.n_check, device=self.device).long()
        self.n_updates = 0
        self.picked = []  # candidate positions, in the order they were added
        self.gains = []
        self.n_refresh = 0
        # Score by bounds first and solve only the contenders' k x k systems:
        # the batched solves are most of a step's cost otherwise.
        self._bounded = objective == "trace" and self.r > 1
        self._lower = Z.new_empty(self.m) if self._bounded else None
        # Relative slack on the bounds, far above the rounding of P and Q.
        self.bound_margin = 1e-6 if self.dtype == torch.float64 else 1e-3
        self.n_solved = 0
        # The D x D design is kept and factorized in float64 whatever the working
        # dtype: a tiny `reg` added to O(1) entries vanishes in float32.
        self.M0 = M0.to(torch.float64)
        self.M = self.M0.clone()
        self._factorize()
        self._init_rows(torch.arange(self.m, device=self.device))

    # ------------------------------------------------------------------ setup
    def _factorize(self):
        """``G = M^-1`` by Cholesky; rebuild ``M`` exactly first if it is not PD."""
        C, info = torch.linalg.cholesky_ex(self.M)
        if info.item() != 0:
            self.M = self._exact_M()
            C, info = torch.linalg.cholesky_ex(self.M)
        if info.item() != 0:
            raise IllConditionedError(
                "The information matrix is not positive definite even in float64: the "
                "embeddings' scale makes `reg` negligible. Increase `reg`, or rescale the "
                "embeddings (a StandardScaler in front of the model, say)."
            )
        self.G = _inverse_from_cholesky(C).to(self.dtype)

    def _exact_M(self):
        M = self.M0.clone()
        if self.picked:
            idx = torch.tensor(self.picked, device=self.device)
            M += kron_gram(self.Z[idx].double(), self.S[idx].double())
        return M

    def _quadratics(self, rows):
        """Fresh ``P`` (and ``Q``) of the candidate positions ``rows``."""
        Zr, Sr = self.Z[rows], self.S[rows]
        P = _symmetrize_(_sandwich(Sr, block_quadratic(Zr, self.G, self.k)))
        Q = None
        if self.objective == "trace":
            GF = self.G if self.F is None else self.G @ self.F
            H = _symmetrize_(GF @ self.G)  # G F G
            Q = _symmetrize_(_sandwich(Sr, block_quadratic(Zr, H, self.k)))
        return P, Q

    def _init_rows(self, rows):
        self.rows = rows  # candidate positions whose P, Q are kept up to date
        self.P, self.Q = self._quadratics(rows)

    def _refresh(self):
        self.n_refresh += 1
        self.M = self._exact_M()
        self._factorize()
        self.P, self.Q = self._quadratics(self.rows)
        resid = self._residual()
        if resid > self.drift_tol / 100:
            # The problem's own conditioning sets the floor: do not refresh every step.
            self.drift_tol = 100 * resid

    def _residual(self):
        # (M G - I) on a few columns; G is symmetric, so its rows serve.
        cols = self.check_cols
        return (self.G[cols].double() @ self.M - self.eye_D[cols]).abs().max().item()

    # ---------------------------------------------------------------- scoring
    def _scores(self, P, Q, sign, lower=None):
        """Gain (``sign=+1``, adding) or cost (``sign=-1``, removing) of each row.

        Returns the scores and a mask of rows whose inner system was not
        positive definite. With ``lower`` (trace objective, adding, ``r > 1``)
        it returns cheap *bounds* instead: upper bounds as the scores, lower
        bounds written into ``lower``; :meth:`_exact_best_scores` then solves
        only the rows that can still win.
        """
        if lower is not None:
            # For A = I + P and Q both PSD:
            #   tr(Q) / (1 + tr P) <= tr(Q A^-1) <= tr(Q) / (1 + lambda_min(P)) ~ tr(Q).
            # P is singular (rank k - 1), so rounding can make lambda_min(P)
            # slightly negative, by about eps * tr(P): the slack covers it, and a
            # row with a clearly negative diagonal is always solved exactly.
            # Sharper, from the spectrum of P in [0, Lambda], Lambda = |P|_F:
            #   A^-1 <= I - P / (1 + Lambda)           (chord of 1 / (1 + x))
            #   tr(Q A^-1) >= tr(Q)^2 / tr(Q A)        (Cauchy-Schwarz)
            diag_P = P.diagonal(dim1=-2, dim2=-1)
            norm_P = P.flatten(1).norm(dim=1)
            tr_Q = Q.diagonal(dim1=-2, dim2=-1).sum(-1).clamp_min(0)
            tr_QP = (Q * P).flatten(1).sum(1).clamp_min(0)
            lower.copy_(tr_Q * tr_Q / (tr_Q + tr_QP).clamp_min(torch.finfo(Q.dtype).tiny))
            upper = tr_Q - tr_QP / (1 + norm_P)
            upper = upper + self.bound_margin * (1 + norm_P) * tr_Q
            upper = torch.where(diag_P.amin(-1) < -self.bound_margin, math.inf, upper)
            return upper, torch.zeros_like(upper, dtype=torch.bool)
        if self.r == 1:
            A = 1.0 + sign * P[:, 0, 0]
            bad = ~(A > 0)
            A = torch.where(bad, torch.ones_like(A), A)
            if self.objective == "logdet":
                return torch.log(A), bad
            return Q[:, 0, 0] / A, bad
        A = self.eye_r + sign * P
        C, info = torch.linalg.cholesky_ex(A)
        bad = info != 0
        if bad.any():
            C = torch.where(bad[:, None, None], self.eye_r, C)
        if self.objective == "logdet":
            return 2 * torch.log(C.diagonal(dim1=-2, dim2=-1)).sum(-1), bad
        X = torch.cholesky_solve(Q, C)
        return X.diagonal(dim1=-2, dim2=-1).sum(-1), bad

    def _all_scores(self, sign):
        out = self.P.new_empty(self.P.shape[0])
        bad = torch.zeros(self.P.shape[0], dtype=torch.bool, device=self.device)
        for sl in _chunks(self.P.shape[0], self.chunk_size):
            out[sl], bad[sl] = self._scores(
                self.P[sl], None if self.Q is None else self.Q[sl], sign,
                lower=self._lower_slice(sl, sign),
            )
        return out, bad

    def _lower_slice(self, sl, sign):
        """Where the bounds of rows ``sl`` go, when this pass scores by bounds."""
        if sign > 0 and self._bounded and self.rows.shape[0] == self.m:
            return self._lower[sl]
        return None

    def _exact_best_scores(self, upper, usable):
        """Exact gains of the rows whose upper bound reaches the best lower bound.

        Rows that cannot be within the tie tolerance of the best get ``-inf``:
        the arg-max, ties included, is the one of the exact scores of all rows.
        """
        lower = torch.where(usable, self._lower, -math.inf)
        floor = lower.max()
        if not torch.isfinite(floor):
            return torch.where(usable, upper, -math.inf)
        floor = floor - (self.rtol + self.bound_margin) * floor.abs()
        contenders = torch.nonzero(usable & (upper >= floor)).flatten()
        self.n_solved += contenders.numel()
        exact, bad = self._scores(self.P[contenders], self.Q[contenders], +1)
        scores = torch.full_like(upper, -math.inf)
        scores[contenders] = torch.where(bad, -math.inf, exact)
        return scores

    def _best(self, scores, maximize):
        """Position of the best score; near-ties go to the lowest position."""
        if not maximize:
            scores = -scores
        best = scores.max()
        if not torch.isfinite(best):
            return None
        tol = self.rtol * best.abs()
        return int((scores >= best - tol).to(torch.uint8).argmax().item())

    # ---------------------------------------------------------------- updates
    def _low_rank(self, pos, sign):
        """``L`` with ``G' = G - sign L L^T`` for adding (+1) or removing (-1) a row."""
        z, S = self.Z[pos], self.S[pos]
        GV = (self.G.reshape(self.D * self.k, self.d) @ z).reshape(self.D, self.k) @ S
        V = (S[:, None, :] * z[None, :, None]).reshape(self.D, self.r)
        A = self.eye_r + sign * (V.T @ GV)
        A = 0.5 * (A + A.T)
        C, info = torch.linalg.cholesky_ex(A)
        if info.item() != 0:
            return None, V
        L = torch.linalg.solve_triangular(C, GV.T, upper=False).T  # G V C^-T
        return L, V

    def _apply(self, pos, sign, *, scoring_sign=None, keep=None):
        """Add (``sign=+1``) or remove (``sign=-1``) candidate ``pos``; update the rows.

        ``keep`` restricts the tracked rows afterwards; ``scoring_sign`` asks
        for the next scores in the same pass over the rows. :attr:`picked`
        changes only once ``G`` has been updated, so that a refresh before the
        update rebuilds the design as it was.
        """
        L, V = self._low_rank(pos, sign)
        if L is None:
            self._refresh()
            L, V = self._low_rank(pos, sign)
        if L is None:
            # Still not positive definite in the working dtype (float32 with a
            # tiny `reg`): update the float64 design and refactorize from it.
            V64 = V.double()
            self.M.addmm_(V64, V64.T, alpha=sign)
            if sign > 0:
                self.picked.append(pos)
            else:
                self.picked.remove(pos)
            if keep is not None:
                self.rows = self.rows[keep]
            self._refresh()
            if scoring_sign is None:
                return None, None
            return self._all_scores(scoring_sign)
        s = -sign  # G' = G + s L L^T
        cols = [L]
        if self.objective == "trace":
            FL = L if self.F is None else self.F @ L
            K = L.T @ FL
            T = self.G @ FL + (0.5 * s) * (L @ K)  # R + s/2 L K, R = G F L (old G)
            cols.append(T)
        self.G.addmm_(L, L.T, alpha=s)
        self.n_updates += 1
        if self.n_updates % 16 == 0:
            _symmetrize_(self.G)
        V64 = V.double()
        self.M.addmm_(V64, V64.T, alpha=sign)
        if sign > 0:
            self.picked.append(pos)
        else:
            self.picked.remove(pos)
        if keep is not None:
            self.rows = self.rows[keep]
            self.P = self.P[keep]
            self.Q = None if self.Q is None else self.Q[keep]
        scores, bad = self._update_rows(torch.cat(cols, dim=1), s, scoring_sign)
        if self._residual() > self.drift_tol or (scores is not None and bad.any()):
            self._refresh()
            if scoring_sign is not None:
                scores, bad = self._all_scores(scoring_sign)
        return scores, bad

    def _update_rows(self, LT, s, scoring_sign):
        r, k, d = self.r, self.k, self.d
        width = LT.shape[1]
        LTr = LT.reshape(k, d, width).permute(1, 0, 2).reshape(d, k * width)
        n_rows = self.rows.shape[0]
        scores = bad = None
        if scoring_sign is not None:
            scores = self.P.new_empty(n_rows)
            bad = torch.zeros(n_rows, dtype=torch.bool, device=self.device)
        contiguous = n_rows == self.m
        for sl in _chunks(n_rows, self.chunk_size):
            if contiguous:
                Zc = self.Z[sl]
                Sc = self.S[sl] if self.structure is None else None
            else:
                idx = self.rows[sl]
                Zc = self.Z[idx]
                Sc = self.S[idx] if self.structure is None else None
            Y = (Zc @ LTr).reshape(-1, k, width)
            UT = self._factor_T(sl if contiguous else self.rows[sl], Sc, Y)  # [V^T L | V^T T]
            U = UT[:, :, :r]
            Pc = self.P[sl]
            Pc.baddbmm_(U, U.transpose(1, 2), alpha=s)
            if self.Q is not None:
                X = torch.bmm(U, UT[:, :, r:].transpose(1, 2))
                Qc = self.Q[sl]
                Qc.add_(X + X.transpose(1, 2), alpha=s)
            if scoring_sign is not None:
                scores[sl], bad[sl] = self._scores(
                    Pc, None if self.Q is None else self.Q[sl], scoring_sign,
                    lower=self._lower_slice(sl, scoring_sign),
                )
        return scores, bad

    def _factor_T(self, rows, Sc, Y):
        """``S_x^T Y_x`` for a chunk of rows."""
        if self.structure == "bait":
            # S^T Y = diag(sqrt p) (Y - 1 p^T Y): O(k w) instead of O(k r w).
            p = self._p[rows]
            pY = torch.matmul(p[:, None, :], Y)
            return self._sqrt_p[rows][:, :, None] * (Y - pY)
        if self.structure == "rank1":
            return torch.matmul(self._g[rows][:, None, :], Y)
        return torch.bmm(Sc.transpose(1, 2), Y)

    # ------------------------------------------------------------------ phases
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
        scores, bad = self._all_scores(+1)
        for step in range(n_steps):
            if self._bounded:
                scores = self._exact_best_scores(scores, available & ~bad)
            else:
                scores = torch.where(available & ~bad, scores, -math.inf)
            pos = self._best(scores, maximize=True)
            if pos is None:
                raise IllConditionedError(
                    "No candidate has a finite score: the design is numerically singular. "
                    "Increase `reg`, rescale the embeddings, or use dtype='float64'."
                )
            self.gains.append(scores[pos].item())
            available[pos] = False
            if step < n_steps - 1:
                scores, bad = self._apply(pos, +1, scoring_sign=+1)
            else:
                # After the last step only the chosen rows (for a backward
                # phase) or none at all need their P, Q.
                keep = self.picked + [pos] if final_keep_picked else []
                self._apply(pos, +1, keep=torch.tensor(keep, dtype=torch.long,
                                                       device=self.device))

    def backward(self, n_keep):
        """Remove chosen rows, cheapest first, until ``n_keep`` remain.

        Assumes the tracked rows are exactly :attr:`picked` (see :meth:`forward`).
        """
        if self.rows.tolist() != self.picked:
            raise RuntimeError("backward() needs forward(..., final_keep_picked=True) first.")
        costs, bad = self._all_scores(-1)
        while len(self.picked) > n_keep:
            costs = torch.where(bad, math.inf, costs)
            if not torch.isfinite(costs).any() and self.dtype != torch.float64:
                costs = self._removal_costs_float64()
            # Lowest pool position on ties: scan positions in ascending order.
            by_pos = torch.argsort(self.rows)
            j = self._best(costs[by_pos], maximize=False)
            if j is None:
                raise IllConditionedError(
                    "Every chosen row's removal leaves a singular design. Increase `reg`, "
                    "rescale the embeddings, or use dtype='float64'."
                )
            j = int(by_pos[j].item())
            pos = self.picked[j]
            self.gains.pop(j)
            keep = torch.ones(len(self.picked), dtype=torch.bool, device=self.device)
            keep[j] = False
            if len(self.picked) - 1 > n_keep:
                costs, bad = self._apply(pos, -1, scoring_sign=-1, keep=keep)
            else:
                self._apply(pos, -1, keep=keep)

    def _removal_costs_float64(self):
        """Removal costs of the tracked rows recomputed in float64 (float32 fallback)."""
        C, info = torch.linalg.cholesky_ex(self.M)
        if info.item() != 0:
            return torch.full((self.rows.numel(),), math.inf, dtype=self.dtype,
                              device=self.device)
        G = _inverse_from_cholesky(C)
        F = None if self.F is None else self.F.double()
        GF = G if F is None else G @ F
        H = _symmetrize_(GF @ G)
        Zr, Sr = self.Z[self.rows].double(), self.S[self.rows].double()
        P = _symmetrize_(_sandwich(Sr, block_quadratic(Zr, G, self.k)))
        Q = _symmetrize_(_sandwich(Sr, block_quadratic(Zr, H, self.k)))
        costs, bad = self._scores(P, Q, -1)
        return torch.where(bad, math.inf, costs).to(self.dtype)

    def objective_value(self):
        """``tr(M^-1 F)`` of the current design (``log det M`` for ``"logdet"``)."""
        if self.objective == "logdet":
            return torch.linalg.slogdet(self.M)[1].item()
        G = torch.linalg.inv(self.M)
        if self.F is None:
            return torch.trace(G).item()
        return (G * self.F.double()).sum().item()
