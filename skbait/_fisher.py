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

import functools
import math
import typing

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
_CHUNK_ELEMENTS = 1 << 20
# Packed products z_i z_j: a chunk of a few MB, reused from cache and from the
# allocator (freshly mapped pages cost more than the arithmetic on them).
_PACKED_CHUNK_ELEMENTS = 1 << 18


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


class _Packing(typing.NamedTuple):
    a: torch.Tensor  # class pairs a <= b
    b: torch.Tensor
    i: torch.Tensor  # coordinate pairs i <= j
    j: torch.Tensor
    pair_of: torch.Tensor  # (k, k): the class pair of every (a, b)
    coord_of: torch.Tensor  # (d, d): the coordinate pair of every (i, j)

    def unpack(self):
        """For every entry of the ``(k d) x (k d)`` matrix, its place in the packed table."""
        k, d = self.pair_of.shape[0], self.coord_of.shape[0]
        index = self.pair_of[:, None, :, None] * self.i.numel() + self.coord_of[None, :, None, :]
        return index.reshape(k * d, k * d)

    def quadratic_entries(self):
        """Flat indices of ``A[a, i, b, j]`` and ``A[a, j, b, i]`` (coordinate x class pairs).

        ``z^T A_ab z = sum_{i <= j} z_i z_j (A[a, i, b, j] + A[a, j, b, i]) / (1 + [i == j])``.
        """
        k, d = self.pair_of.shape[0], self.coord_of.shape[0]
        a, b, i, j = self.a[None, :], self.b[None, :], self.i[:, None], self.j[:, None]
        return ((a * d + i) * k + b) * d + j, ((a * d + j) * k + b) * d + i


@functools.lru_cache(maxsize=8)
def _packing(k, d, device):
    """Index maps between the ``(k d) x (k d)`` matrices and their packed form.

    A sum of Kronecker products ``sum_x C_x (x) z_x z_x^T`` with symmetric
    ``C_x`` is fixed by the products ``c_ab z_i z_j`` over class pairs
    ``a <= b`` and coordinate pairs ``i <= j``: ``k (k + 1) / 2`` times
    ``d (d + 1) / 2`` numbers. Accumulating those by one matrix product per
    chunk halves the work of the full ``d x d`` blocks and streams a far
    smaller temporary. Only the small maps are cached; the ``(k d)^2``-sized
    ones are built per call.
    """
    a, b = torch.triu_indices(k, k, device=device)
    i, j = torch.triu_indices(d, d, device=device)
    pair_of = torch.empty(k, k, dtype=torch.long, device=device)
    pair_of[a, b] = torch.arange(a.numel(), device=device)
    pair_of[b, a] = pair_of[a, b]
    coord_of = torch.empty(d, d, dtype=torch.long, device=device)
    coord_of[i, j] = torch.arange(i.numel(), device=device)
    coord_of[j, i] = coord_of[i, j]
    return _Packing(a, b, i, j, pair_of, coord_of)


def _packed_outer(Z, i, j):
    """``z_i z_j`` for the coordinate pairs ``i <= j``, one row per pair (transposed).

    Gathering whole rows of ``Z^T`` is a copy of contiguous memory; gathering
    columns of ``Z`` is many times slower.
    """
    Zt = Z.T.contiguous()
    return Zt[i] * Zt[j]


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
    if n == 0:
        return Z.new_zeros(k * d, k * d)
    pk = _packing(k, d, Z.device)
    size = chunk_size or max(64, _PACKED_CHUNK_ELEMENTS // pk.i.numel())
    acc = Z.new_zeros(pk.a.numel(), pk.i.numel())
    for sl in _chunks(n, size):
        S_c = S[sl]
        C = (S_c @ S_c.transpose(1, 2))[:, pk.a, pk.b]
        if weights is not None:
            C = C * weights[sl, None]
        acc.addmm_(C.T, _packed_outer(Z[sl], pk.i, pk.j).T)
    return acc.flatten()[pk.unpack()]


def block_quadratic(Z, A, k, *, chunk_size=None):
    """Per-row ``W_x[a, b] = z_x^T A_ab z_x`` for the ``d x d`` blocks of a symmetric ``A``.

    Parameters
    ----------
    Z : torch.Tensor of shape (n, d)
    A : torch.Tensor of shape (k d, k d), or a sequence of such
        Symmetric; several matrices share one pass over ``Z``.
    k : int
    chunk_size : int, default=None

    Returns
    -------
    W : torch.Tensor of shape (n, k, k), or (n, m, k, k) for ``m`` matrices

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import block_quadratic
    >>> A = torch.eye(4, dtype=torch.float64)
    >>> block_quadratic(torch.tensor([[1.0, 2.0]], dtype=torch.float64), A, 2)[0]
    tensor([[5., 0.],
            [0., 5.]], dtype=torch.float64)
    """
    single = isinstance(A, torch.Tensor)
    mats = [A] if single else list(A)
    n, d = Z.shape
    pk = _packing(k, d, Z.device)
    n_pairs = pk.a.numel()
    # One (coordinate pair) x (matrix, class pair) table: one product serves all.
    first, second = pk.quadratic_entries()
    half = torch.where(pk.i == pk.j, 0.5, 1.0).to(Z.dtype)[:, None]
    coef = torch.cat([half * (M.flatten()[first] + M.flatten()[second]) for M in mats], dim=1)
    W = Z.new_empty(n, len(mats), k * k)
    size = chunk_size or max(64, _PACKED_CHUNK_ELEMENTS // pk.i.numel())
    for sl in _chunks(n, size):
        w = (_packed_outer(Z[sl], pk.i, pk.j).T @ coef).reshape(-1, len(mats), n_pairs)
        W[sl] = w[:, :, pk.pair_of.flatten()]
    W = W.reshape(n, len(mats), k, k)
    return W[:, 0] if single else W


def _sym_mm(A, X):
    """``A @ X`` for a symmetric ``A``, taken as ``(X^T A)^T``.

    With a thin ``X`` the transposed product is the faster BLAS shape.
    """
    return (X.T @ A).T


def _symmetrize_(A):
    A.add_(A.transpose(-2, -1).clone()).mul_(0.5)
    return A


def _inverse_from_cholesky(C):
    """``(C C^T)^-1`` for a lower-triangular ``C``, symmetric."""
    return _symmetrize_(torch.cholesky_inverse(C))


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
    Each tracked row keeps ``[P_x; Qh_x]`` (``2r x r``), where ``Qh_x`` is
    half of ``Q_x`` up to a skew-symmetric part: ``Q_x = Qh_x + Qh_x^T``.
    Every score needs ``Q_x`` only through ``tr(A Q_x)`` with ``A``
    symmetric, which equals ``2 tr(A Qh_x)``, so one batched product
    ``[U_x; X_x] U_x^T`` updates both ``P_x`` and ``Q_x`` after each step.

    Numerical guards: ``G`` is symmetrised every few updates and checked at
    every step by ``|G M u - u|`` on two fixed sign vectors ``u`` (``M u``
    is kept exactly, in float64, by rank-``r`` corrections); when that
    residual drifts, or a ``k x k`` system that must be positive definite is
    not, ``M`` is rebuilt exactly from ``M0`` and the chosen rows, ``G``
    refactorised by Cholesky and every ``P_x``, ``Q_x`` recomputed. A row
    whose removal would leave a singular design (impossible in exact
    arithmetic with ``reg > 0``) gets an infinite removal cost.

    The pick that ends a design (the last forward step without a backward
    phase, or the last removal) is only recorded in :attr:`picked`: nothing
    reads ``G`` or the rows' ``P_x``, ``Q_x`` again.

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

    def __init__(
        self,
        Z,
        S,
        M0,
        F=None,
        *,
        objective="trace",
        chunk_size=None,
        structure=None,
        probas=None,
        scale=1.0,
    ):
        if objective not in ("trace", "logdet"):
            raise ValueError(f"Unknown objective {objective!r}.")
        self.structure = structure if probas is not None else None
        if self.structure == "bait":
            self._p = probas
            # sqrt(p) laid out like a chunk's Y, so that scaling Y by it is one
            # contiguous product (a broadcast over a short last axis is slow).
            k = probas.shape[1]
            self._sqrt_p = (
                (probas.clamp_min(0).sqrt() * scale)[:, None, :, None]
                .expand(-1, 1, k, k)
                .contiguous()
            )
        elif self.structure == "rank1":
            self._g = S[:, :, 0]  # p - e_yhat, already scaled
        self.Z = Z
        self.S = S
        self.F = F
        self.objective = objective
        self.m, self.d = Z.shape
        self.k, self.r = S.shape[1], S.shape[2]
        self.D = self.k * self.d
        self.dtype, self.device = Z.dtype, Z.device
        # Blocks of the per-row state [P; Qh] and of the update [L | T].
        self.n_blocks = 2 if objective == "trace" else 1
        per_row = 3 * self.n_blocks * self.k * self.r + 4 * self.r * self.r
        self.chunk_size = int(chunk_size or max(256, _CHUNK_ELEMENTS // per_row))
        self.rtol = _rel_tolerance(self.dtype)
        self.eye_r = torch.eye(self.r, dtype=self.dtype, device=self.device)
        self.drift_tol = 1e-7 if self.dtype == torch.float64 else 1e-2
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
        # Fixed sign vectors u and M u (float64, exact up to rounding) for the
        # drift check: far cheaper than keeping the whole of M.
        signs = torch.randint(0, 2, (self.D, 2), generator=torch.Generator().manual_seed(0))
        self._probe = (2.0 * signs - 1.0).to(device=self.device, dtype=torch.float64)
        self._factorize(self.M0)
        self._init_rows(torch.arange(self.m, device=self.device))

    # ------------------------------------------------------------------ setup
    def _factorize(self, M):
        """``G = M^-1`` by Cholesky, and the probes' ``M u``."""
        C, info = torch.linalg.cholesky_ex(M)
        if info.item() != 0:
            raise IllConditionedError(
                "The information matrix is not positive definite even in float64: the "
                "embeddings' scale makes `reg` negligible. Increase `reg`, or rescale the "
                "embeddings (a StandardScaler in front of the model, say)."
            )
        self.G = _inverse_from_cholesky(C).to(self.dtype)
        self._M_probe = M @ self._probe

    def _exact_M(self):
        M = self.M0.clone()
        if self.picked:
            idx = torch.tensor(self.picked, device=self.device)
            M += kron_gram(self.Z[idx].double(), self.S[idx].double())
        return M

    def _quadratics(self, rows, G):
        """Fresh ``[P_x; Qh_x]`` of the candidate positions ``rows``, from ``G``."""
        mats = [G]
        if self.objective == "trace":
            GF = G if self.F is None else G @ self.F.to(G.dtype)
            mats.append(_symmetrize_(GF @ G))  # G F G
        h, r = self.n_blocks, self.r
        PQ = G.new_empty(len(rows), h * r, r)
        # In chunks, so that the (rows, blocks, k, k) temporaries stay small.
        for sl in _chunks(len(rows), self.chunk_size):
            Zr, Sr = self.Z[rows[sl]].to(G.dtype), self.S[rows[sl]].to(G.dtype)
            W = block_quadratic(Zr, mats, self.k)  # (rows, blocks, k, k)
            out = _symmetrize_(Sr.transpose(1, 2)[:, None] @ W @ Sr[:, None])
            if h == 2:
                out[:, 1] *= 0.5  # Qh = Q / 2
            PQ[sl] = out.reshape(-1, h * r, r)
        return PQ

    def _init_rows(self, rows):
        self.rows = rows  # candidate positions whose P, Q are kept up to date
        self.PQ = self._quadratics(rows, self.G)

    def _refresh(self):
        self.n_refresh += 1
        self._factorize(self._exact_M())
        self.PQ = self._quadratics(self.rows, self.G)
        resid = self._residual()
        if resid > self.drift_tol / 100:
            # The problem's own conditioning sets the floor: do not refresh every step.
            self.drift_tol = 100 * resid

    def _residual(self, G_probe=None):
        """``max |G M u - u|`` over the probes."""
        if G_probe is None:
            G_probe = self.G @ self._M_probe.to(self.dtype)
        return (G_probe - self._probe.to(self.dtype)).abs().max().item()

    # ---------------------------------------------------------------- scoring
    def _scores(self, PQ, sign, lower=None):
        """Gain (``sign=+1``, adding) or cost (``sign=-1``, removing) of each row.

        Returns the scores and a mask of rows whose inner system was not
        positive definite. With ``lower`` (trace objective, adding, ``r > 1``)
        it returns cheap *bounds* instead: upper bounds as the scores, lower
        bounds written into ``lower``; :meth:`_pick_bounded` then solves
        only the rows that can still win.
        """
        r = self.r
        P = PQ[:, :r]
        Qh = PQ[:, r:] if self.objective == "trace" else None
        if lower is not None:
            # For A = I + P and Q both PSD:
            #   tr(Q) / (1 + tr P) <= tr(Q A^-1) <= tr(Q) / (1 + lambda_min(P)) ~ tr(Q).
            # P is singular (rank k - 1), so rounding can make lambda_min(P)
            # slightly negative, by about eps * tr(P): the slack covers it, and a
            # row with a clearly negative diagonal is always solved exactly.
            # Sharper, from the spectrum of P in [0, Lambda], Lambda = |P|_F:
            #   A^-1 <= I - P / (1 + Lambda)           (chord of 1 / (1 + x))
            #   tr(Q A^-1) >= tr(Q)^2 / tr(Q A)        (Cauchy-Schwarz)
            flat = PQ.view(-1, 2, r * r)
            # |P|_F^2 and sum(P * Qh) = tr(Q P) / 2 in one batched product
            sums = torch.bmm(flat[:, :1], flat.transpose(1, 2))[:, 0]
            diags = PQ.view(-1, 2, r, r).diagonal(dim1=2, dim2=3)  # diag P, diag Qh
            norm_P = sums[:, 0].clamp_min(0).sqrt()
            tr_Q = 2 * diags[:, 1].sum(-1).clamp_min(0)
            tr_QP = 2 * sums[:, 1].clamp_min(0)
            lower.copy_(tr_Q * tr_Q / (tr_Q + tr_QP).clamp_min(torch.finfo(PQ.dtype).tiny))
            upper = tr_Q - tr_QP / (1 + norm_P)
            upper = upper + self.bound_margin * (1 + norm_P) * tr_Q
            # Rounding must not leave the best lower bound's row out of the contenders.
            upper = torch.maximum(upper, lower)
            upper = torch.where(diags[:, 0].amin(-1) < -self.bound_margin, math.inf, upper)
            return upper, torch.zeros_like(upper, dtype=torch.bool)
        if r == 1:
            A = 1.0 + sign * P[:, 0, 0]
            bad = ~(A > 0)
            A = torch.where(bad, torch.ones_like(A), A)
            if Qh is None:
                return torch.log(A), bad
            return 2 * Qh[:, 0, 0] / A, bad
        A = self.eye_r + sign * P
        C, info = torch.linalg.cholesky_ex(A)
        bad = info != 0
        if bad.any():
            C = torch.where(bad[:, None, None], self.eye_r, C)
        if Qh is None:
            return 2 * torch.log(C.diagonal(dim1=-2, dim2=-1)).sum(-1), bad
        X = torch.cholesky_solve(Qh, C)
        return 2 * X.diagonal(dim1=-2, dim2=-1).sum(-1), bad

    def _all_scores(self, sign):
        n_rows = self.PQ.shape[0]
        out = self.PQ.new_empty(n_rows)
        bad = torch.zeros(n_rows, dtype=torch.bool, device=self.device)
        for sl in _chunks(n_rows, self.chunk_size):
            out[sl], bad[sl] = self._scores(self.PQ[sl], sign, lower=self._lower_slice(sl, sign))
        return out, bad

    def _lower_slice(self, sl, sign):
        """Where the bounds of rows ``sl`` go, when this pass scores by bounds."""
        if sign > 0 and self._bounded and self.rows.shape[0] == self.m:
            return self._lower[sl]
        return None

    def _pick_bounded(self, upper, usable):
        """Best row and its exact gain, from the bounds; ``(None, None)`` if none is finite.

        Only the rows whose upper bound reaches the best lower bound (less the
        tie tolerance) are solved exactly; the others cannot be within the
        tolerance of the best, so the pick, ties included, is the one of the
        exact scores of all rows.
        """
        floor = torch.where(usable, self._lower, -math.inf).max()
        if not torch.isfinite(floor):
            return None, None
        floor = floor - (self.rtol + self.bound_margin) * floor.abs()
        contenders = torch.nonzero(usable & (upper >= floor)).flatten()  # ascending
        self.n_solved += contenders.numel()
        exact, bad = self._scores(self.PQ[contenders], +1)
        exact = torch.where(bad, -math.inf, exact)
        j = self._best(exact, maximize=True)
        if j is None:
            return None, None
        return int(contenders[j].item()), exact[j].item()

    def _best(self, scores, maximize):
        """Position of the best score; near-ties go to the lowest position."""
        if scores.numel() == 0:
            return None
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

    def _record(self, pos, sign, keep):
        if sign > 0:
            self.picked.append(pos)
        else:
            self.picked.remove(pos)
        if keep is not None:
            self.rows = self.rows[keep]
            self.PQ = self.PQ[keep]

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
        V64 = V.double()
        M_probe = self._M_probe + sign * (V64 @ (V64.T @ self._probe))
        if L is None:
            # Still not positive definite in the working dtype (float32 with a
            # tiny `reg`): refactorize the float64 design with the row.
            self._record(pos, sign, keep)
            self._refresh()
            return (None, None) if scoring_sign is None else self._all_scores(scoring_sign)
        s = -sign  # G' = G + s L L^T
        Mu = M_probe.to(self.dtype)
        cols = [L]
        if self.objective == "trace":
            FL = L if self.F is None else _sym_mm(self.F, L)
            K = L.T @ FL
            # One product with the old G for G F L and the drift check.
            GX = _sym_mm(self.G, torch.cat([FL, Mu], dim=1))
            cols.append(GX[:, : self.r] + (0.5 * s) * (L @ K))  # T = G F L + s/2 L K
            G_probe = GX[:, self.r :]
        else:
            G_probe = _sym_mm(self.G, Mu)
        G_probe = G_probe + s * (L @ (L.T @ Mu))  # the new G times the new M u
        self.G.addmm_(L, L.T, alpha=s)
        self.n_updates += 1
        if self.n_updates % 16 == 0:
            _symmetrize_(self.G)
        self._M_probe = M_probe
        self._record(pos, sign, keep)
        if self._residual(G_probe) > self.drift_tol:
            self._refresh()
            return (None, None) if scoring_sign is None else self._all_scores(scoring_sign)
        scores, bad = self._update_rows(torch.cat(cols, dim=1), s, scoring_sign)
        if scores is not None and bad.any():
            self._refresh()
            scores, bad = self._all_scores(scoring_sign)
        return scores, bad

    def _update_rows(self, LT, s, scoring_sign):
        """``[P | Qh] += s U [U | X]^T`` with ``[U | X] = V_x^T [L | T]``, row by row."""
        r, k, d, h = self.r, self.k, self.d, self.n_blocks
        # Columns ordered (block, class, column): Y_x comes out as (block,
        # class, column), and S^T Y as the stacked [U; X].
        LTr = LT.reshape(k, d, h, r).permute(1, 2, 0, 3).reshape(d, h * k * r)
        n_rows = self.rows.shape[0]
        scores = bad = None
        if scoring_sign is not None:
            scores = self.PQ.new_empty(n_rows)
            bad = torch.zeros(n_rows, dtype=torch.bool, device=self.device)
        contiguous = n_rows == self.m
        for sl in _chunks(n_rows, self.chunk_size):
            rows = sl if contiguous else self.rows[sl]
            Y = (self.Z[rows] @ LTr).reshape(-1, h, k, r)
            UX = self._factor_T(rows, Y).reshape(-1, h * r, r)  # [U; X] per row
            PQ = self.PQ[sl]
            PQ.baddbmm_(UX, UX[:, :r].transpose(1, 2), alpha=s)
            if scoring_sign is not None:
                scores[sl], bad[sl] = self._scores(
                    PQ, scoring_sign, lower=self._lower_slice(sl, scoring_sign)
                )
        return scores, bad

    def _factor_T(self, rows, Y):
        """``S_x^T Y_x[b]`` for each block ``b`` of a chunk of rows."""
        if self.structure == "bait":
            # S^T Y = diag(sqrt p) (Y - 1 p^T Y): O(k w) instead of O(k r w).
            pY = torch.matmul(self._p[rows][:, None, None, :], Y)
            return Y.sub_(pY).mul_(self._sqrt_p[rows])
        if self.structure == "rank1":
            return torch.matmul(self._g[rows][:, None, None, :], Y)
        return self.S[rows].transpose(1, 2)[:, None] @ Y

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
            usable = available & ~bad
            if self._bounded:
                pos, gain = self._pick_bounded(scores, usable)
            else:
                scores = torch.where(usable, scores, -math.inf)
                pos = self._best(scores, maximize=True)
                gain = None if pos is None else scores[pos].item()
            if pos is None:
                raise IllConditionedError(
                    "No candidate has a finite score: the design is numerically singular. "
                    "Increase `reg`, rescale the embeddings, or use dtype='float64'."
                )
            self.gains.append(gain)
            available[pos] = False
            if step < n_steps - 1:
                scores, bad = self._apply(pos, +1, scoring_sign=+1)
            elif final_keep_picked:
                # A backward phase follows: only the chosen rows need their P, Q.
                keep = torch.tensor(self.picked + [pos], dtype=torch.long, device=self.device)
                self._apply(pos, +1, keep=keep)
            else:
                # The design is complete: nothing left to update.
                self._record(pos, +1, torch.zeros(0, dtype=torch.long, device=self.device))

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
                self._record(pos, -1, keep)  # the last removal: nothing left to update

    def _removal_costs_float64(self):
        """Removal costs of the tracked rows recomputed in float64 (float32 fallback)."""
        C, info = torch.linalg.cholesky_ex(self._exact_M())
        if info.item() != 0:
            return torch.full((self.rows.numel(),), math.inf, dtype=self.dtype, device=self.device)
        G = _inverse_from_cholesky(C)
        costs, bad = self._scores(self._quadratics(self.rows, G), -1)
        return torch.where(bad, math.inf, costs).to(self.dtype)

    def objective_value(self):
        """``tr(M^-1 F)`` of the current design (``log det M`` for ``"logdet"``)."""
        M = self._exact_M()
        if self.objective == "logdet":
            return torch.linalg.slogdet(M)[1].item()
        G = torch.linalg.inv(M)
        if self.F is None:
            return torch.trace(G).item()
        return (G * self.F.double()).sum().item()
