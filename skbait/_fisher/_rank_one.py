"""BAIT's greedy for one-output rows (``k = r = 1``): two numbers per candidate.

With one output (regression, paper eq. 6) every row's information is rank
one, ``I(x) = v_x v_x^T`` with ``v_x = s_x z_x`` (``s_x`` its scalar factor,
the candidates' weight included). A row's whole state is two scalars,
``P_x = v_x^T G v_x`` and ``Qh_x = v_x^T G F G v_x / 2``. Adding a row ``y``
(``sign=+1``) or removing it (``sign=-1``) moves ``G = M^-1`` by
Sherman-Morrison, ``G' = G + s u u^T`` with ``s = -sign`` and
``u = G v_y / sqrt(1 + sign P_y)``, and every row follows from one product of
the pool with a ``d x 2`` matrix, ``[a | b] = V [u | T]`` with
``T = G F u + (s / 2) u (u^T F u)`` (old ``G``)::

    P'_x  = P_x  + s a_x^2
    Qh'_x = Qh_x + s a_x b_x

The gain of adding a row is ``2 Qh_x / (1 + P_x)``, the cost of removing one
``2 Qh_x / (1 - P_x)``.

:class:`RankOneGreedy` is :class:`~skbait._fisher.KroneckerGreedy` with a
:class:`~skbait._fisher.TraceObjective` for that case, without the general
machinery (chunks, bounds, ``r x r`` systems, :class:`~skbait._fisher.Choice`
objects, a torch call per small product): the same forward and backward
steps, the same tie rule (:func:`~skbait._fisher.rel_tolerance`, lowest id)
and the same numerical guards as :class:`~skbait._fisher.Design` (a drift
check of ``G M u = u`` on two fixed sign vectors against a float64 ``M u``
after every update, symmetrisation every 16 updates, a rebuild of ``G`` from
the exact ``M`` when an update is not positive definite or drifts or a row's
score is undefined, a float64 fallback for float32 removal costs), hence the
same selections up to rounding far inside the tie tolerance.

A step is one pass over the pool plus a few ``d``-sized products; on the
CPU those small products cost far less through NumPy than through torch
calls, so the steps run on NumPy views of the (CPU) tensors, and the pool
product goes through whichever BLAS streams that size faster
(:data:`_TORCH_GEMM_ELEMENTS`).
"""

import numpy as np
import torch

from skbait._fisher._design import (
    IllConditionedError,
    drift_probes,
    drift_tolerance,
    warn_if_unresolved,
)
from skbait._fisher._greedy import rel_tolerance
from skbait._fisher._linalg import _inverse_from_cholesky
from skbait._fisher._scalar_phases import ScalarStatePhases

__all__ = ["RankOneGreedy"]

# Rows per chunk when P and Qh are computed from G (a fresh start or a
# refresh): the (rows, 2 d) temporary stays a few MB.
_QUADRATIC_CHUNK_ELEMENTS = 1 << 19
# From this many pool entries (m d) on, the step's pool product goes through
# torch's BLAS, which streams a pool out of cache faster; NumPy's is faster on
# a pool held in cache (the user guide's "Measured choices of the core" has
# the figures). The result is the same product either way.
_TORCH_GEMM_ELEMENTS = 1 << 20


class RankOneGreedy(ScalarStatePhases):
    """BAIT's forward-backward greedy over one-output candidates (``k = r = 1``), on the CPU.

    Parameters
    ----------
    V : torch.Tensor of shape (m, d)
        The candidates' vectors ``v_x = s_x z_x``, their weight included, in
        the working dtype (float32 or float64), on the CPU (see
        :meth:`from_factors`).
    M0 : torch.Tensor of shape (d, d)
        The starting design, positive definite (kept in float64).
    F : torch.Tensor of shape (d, d) or None
        The pool Fisher; ``None`` for the identity.

    Attributes
    ----------
    picked : list of int
        Positions (among the candidates) of the design's rows, in the order added.
    gains : list of float
        Each picked row's gain when it was added.
    n_refresh : int
        How many times ``G`` was rebuilt from the exact ``M``.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import RankOneGreedy
    >>> V = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    >>> greedy = RankOneGreedy(V, torch.eye(2, dtype=torch.float64), None)
    >>> greedy.forward(2)
    >>> greedy.picked
    [2, 0]
    """

    def __init__(self, V, M0, F):
        if V.ndim != 2 or tuple(M0.shape) != (V.shape[1], V.shape[1]):
            raise ValueError(
                "RankOneGreedy needs the candidates' vectors v_x = s_x z_x as an (m, d) matrix "
                f"and a (d, d) M0, got shapes {tuple(V.shape)} and {tuple(M0.shape)}."
            )
        if V.device.type != "cpu" or V.dtype not in (torch.float32, torch.float64):
            raise ValueError(
                f"RankOneGreedy runs on float32 or float64 CPU tensors, got {V.dtype} on "
                f"{V.device}."
            )
        # Rows as columns: a step's product [a; b] = [u T]^T V^T comes out as two
        # contiguous rows, and the element-wise work runs on contiguous vectors.
        self._VT_torch = V.T.contiguous()
        self.VT = self._VT_torch.numpy()
        self.d, self.m = self.VT.shape
        self.dtype = V.dtype
        self._np = self.VT.dtype.type  # the working dtype's scalar type
        self.rtol = self._np(rel_tolerance(V.dtype))
        self.F = None if F is None else F.detach().cpu().to(V.dtype).numpy()
        self.M0 = M0.detach().cpu().to(torch.float64).numpy()
        self.drift_tol = drift_tolerance(V.dtype)
        self.n_updates = 0
        self.n_refresh = 0
        self.picked = []
        self.gains = []
        # The tracked rows: every candidate in the forward phase (None); the
        # design's own rows, in the order added, once the backward phase begins.
        self._rows = None
        self._VT_rows = self.VT
        self._tracking_picked = False
        self._bad_after_refresh = 0  # rows left bad by the last refresh
        # The same fixed sign vectors as Design's drift check.
        self._probe = drift_probes(self.d).numpy()
        self._probe_w = self._probe.astype(self.VT.dtype)
        with np.errstate(all="ignore"):  # non-finite values are caught, as in torch
            self._factorize(self.M0)
            self._recompute()

    @classmethod
    def from_factors(cls, factors, M0, F):
        """From the candidates' :class:`~skbait._fisher.Factors` (``k = r = 1``, scaled)."""
        if factors.k != 1 or factors.r != 1:
            raise ValueError(
                f"RankOneGreedy needs one output and rank-one factors, got k={factors.k}, "
                f"r={factors.r}."
            )
        return cls(factors.Z * factors.S[:, 0], M0, F)

    # ------------------------------------------------------------ exact state
    def _factorize(self, M):
        C, info = torch.linalg.cholesky_ex(torch.from_numpy(M))
        if info.item() != 0:
            raise IllConditionedError(
                "The information matrix is not positive definite even in float64: the "
                "embeddings' scale makes `reg` negligible. Increase `reg`, or rescale the "
                "embeddings (a StandardScaler in front of the model, say)."
            )
        G = _inverse_from_cholesky(C)
        if not hasattr(self, "G"):  # the starting design
            warn_if_unresolved(torch.from_numpy(M), G, self.dtype)
        self.G = G.numpy().astype(self.VT.dtype)
        self._M_probe = M @ self._probe

    def _exact_M(self):
        """``M`` in float64 from ``M0`` and the design's own rows (as :class:`Design`)."""
        M = self.M0.copy()
        if self.picked:
            Vd = self.VT[:, self.picked].astype(np.float64)
            gram = Vd @ Vd.T
            M += 0.5 * (gram + gram.T)
        return M

    def _inverse_float64(self):
        C, info = torch.linalg.cholesky_ex(torch.from_numpy(self._exact_M()))
        return None if info.item() != 0 else _inverse_from_cholesky(C).numpy()

    def _refresh(self):
        """Rebuild ``G`` from the exact ``M``, recompute the tracked rows, raise the tolerance."""
        self.n_refresh += 1
        self._factorize(self._exact_M())
        self._recompute()
        resid = self._residual(self.G @ self._M_probe.astype(self.VT.dtype))
        if resid > self.drift_tol / 100:
            # The problem's own conditioning sets the floor: do not refresh every step.
            self.drift_tol = 100 * resid

    def _residual(self, G_probe):
        return float(np.abs(G_probe - self._probe_w).max())

    def _quadratics(self, G, VT):
        """``P``, ``Qh`` of the columns of ``VT`` ((d, rows), ``G``'s dtype) from ``G``."""
        GF = G if self.F is None else G @ self.F.astype(G.dtype)
        H = GF @ G
        both = np.concatenate([G, 0.5 * (H + H.T)], axis=0)  # (2 d, d)
        d, n = VT.shape
        P, Qh = np.empty(n, dtype=G.dtype), np.empty(n, dtype=G.dtype)
        size = max(64, _QUADRATIC_CHUNK_ELEMENTS // (2 * d))
        for start in range(0, n, size):
            VTc = VT[:, start : start + size]
            W = self._product(both, VTc).reshape(2, d, -1)
            W *= VTc
            P[start : start + size], Qh[start : start + size] = W.sum(axis=1)
        Qh *= 0.5
        return P, Qh

    def _recompute(self):
        self.P, self.Qh = self._quadratics(self.G, self._VT_rows)

    def _product(self, L, VT):
        """``L @ VT``: NumPy's BLAS for a pool held in cache, torch's beyond (the same product)."""
        if VT.size < _TORCH_GEMM_ELEMENTS:
            return L @ VT
        return (torch.from_numpy(np.ascontiguousarray(L)) @ torch.from_numpy(VT)).numpy()

    # ---------------------------------------------------------------- updates
    def _update(self, position, sign):
        """Add (+1) or remove (-1) a candidate; update the tracked rows.

        Returns ``False`` when ``G`` was instead rebuilt from the exact ``M``
        (the tracked rows are fresh then), ``True`` otherwise.
        """
        one, sign_w = self._np(1), self._np(sign)
        v = self.VT[:, position]
        g = self.G @ v
        A = one + sign_w * (v @ g)
        if not A > 0:
            self._refresh()
            g = self.G @ v
            A = one + sign_w * (v @ g)
        v64 = v.astype(np.float64)
        M_probe = self._M_probe + v64[:, None] * (sign * (v64 @ self._probe))
        if not A > 0:
            # Still not positive definite in the working dtype: rebuild with the row.
            self._record(position, sign)
            self._refresh()
            return False
        u = g / np.sqrt(A)
        s = -sign  # G' = G + s u u^T
        Fu = u if self.F is None else self.F @ u
        # L = [u T]^T with T = G F u + (s / 2) u (u^T F u), from the old G
        L = np.empty((2, self.d), dtype=self.VT.dtype)
        L[0] = u
        np.matmul(self.G, Fu, out=L[1])
        L[1] += (self._np(0.5 * s) * (u @ Fu)) * u
        self.G += u[:, None] * (self._np(s) * u)
        self.n_updates += 1
        if self.n_updates % 16 == 0:
            self.G += self.G.T
            self.G *= self._np(0.5)
        self._M_probe = M_probe
        self._record(position, sign)
        Mu = M_probe if self.dtype == torch.float64 else M_probe.astype(self.VT.dtype)
        if self._residual(self.G @ Mu) > self.drift_tol:
            self._refresh()  # drifted: max |G M u - u| above the tolerance
            return False
        a, b = self._product(L, self._VT_rows)  # a = V u, b = V T
        b *= a
        a *= a
        if s > 0:
            self.P += a
            self.Qh += b
        else:
            self.P -= a
            self.Qh -= b
        return True

    def _scores(self, sign):
        """Half-gains (+1) or half removal costs (-1) of the tracked rows, and undefined rows.

        ``Qh / (1 + sign P)``: half the score, exactly (the tie rule is
        relative, so the choice is that of the scores). ``bad`` is ``None``
        when every row's ``1 + sign P`` is positive.
        """
        one = self._np(1)
        A = self.P + one if sign > 0 else one - self.P
        if A.size == 0 or A.min() > 0:  # a NaN fails the test too
            return np.divide(self.Qh, A, out=A), None
        bad = ~(A > 0)
        A[bad] = 1
        return np.divide(self.Qh, A, out=A), bad

    def _restrict(self, keep):
        """Track only ``keep`` (positions into the tracked rows)."""
        self._rows = keep if self._rows is None else self._rows[keep]
        self._VT_rows = self.VT[:, self._rows]
        self.P, self.Qh = self.P[keep], self.Qh[keep]

    def _lowest_tied(self, scores):
        """Index into ``scores`` of the lowest id among the best (maximum) within tolerance."""
        best = scores.max()
        if not np.isfinite(best):
            return None
        tied = scores >= best - self.rtol * abs(best)
        if self._rows is None:
            return int(np.argmax(tied))
        tied = np.flatnonzero(tied)
        return int(tied[np.argmin(self._rows[tied])])

    # ------------------------------------------------------- the phases' hooks
    _gain_scale = 2.0  # _scores gives half-gains

    def _numerics(self):
        return np.errstate(all="ignore")  # non-finite values are caught, as in torch

    def _flags(self, n, value):
        return np.full(n, value, dtype=bool)

    def _excluded(self, scores, mask, fill):
        np.copyto(scores, fill, where=mask)
        return scores

    def _index(self, positions):
        return np.asarray(positions, dtype=np.int64)

    def _fallback_costs(self, costs):
        if not np.isfinite(costs).any() and self.dtype != torch.float64:
            return self._removal_costs_float64()
        return costs

    def _removal_costs_float64(self):
        """Half removal costs of the tracked rows recomputed in float64 (float32 fallback)."""
        G = self._inverse_float64()
        if G is None:
            return np.full(len(self._rows), np.inf, dtype=self.VT.dtype)
        P, Qh = self._quadratics(G, self._VT_rows.astype(np.float64))
        A = 1.0 - P
        bad = ~(A > 0)
        costs = Qh / np.where(bad, 1.0, A)
        costs[bad] = np.inf
        return costs.astype(self.VT.dtype)
