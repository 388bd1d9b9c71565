"""Multi-label BAIT: the block-diagonal Fisher of K independent sigmoid outputs.

With ``K`` independent sigmoid outputs ``p_j`` on a last-layer embedding
``z`` (``d``), the gradient of output ``j``'s log-likelihood is
``(y_j - p_j) z``, so the Fisher of one row is
``I(x) = diag(w(x)) (x) z z^T`` with ``w_j = p_j (1 - p_j)``: block diagonal,
``K`` blocks of ``d x d``, each of rank one per row. Every matrix of the
design is block diagonal too (``M = blockdiag(M_j)``, ``F = blockdiag(F_j)``),
and the objectives split into one term per label:

- trace (BAIT): ``tr(M^-1 F) = sum_j tr(G_j F_j)``, ``G_j = M_j^-1``;
- log-det: ``log det M = sum_j log det M_j``.

Adding a row (weight ``omega_j = c w_j``, ``c`` the candidates' scale) moves
each block by Sherman-Morrison, so a row's whole state is two numbers per
label, ``a_j = z^T G_j z`` and ``b_j = z^T G_j F_j G_j z``::

    gain(x)   = sum_j omega_j b_j / (1 + omega_j a_j)        (trace)
              = sum_j log(1 + omega_j a_j)                   (log-det)

A step costs one product of the pool with a ``d x 2K`` matrix (``O(m d K)``)
and ``K`` rank-one moves of ``d x d`` blocks, where the multiclass greedy
moves one ``(K d) x (K d)`` matrix. The greedy still picks one set of rows
for all labels at once. Forward and backward phases, the tie rule
(:func:`~skbait._fisher.rel_tolerance`, lowest id) and the numerical guards
(a drift check of ``G_j M_j u = u`` on fixed sign vectors after every move,
symmetrisation every 16 moves, a rebuild from the exact ``M`` in float64 when
a move is not positive definite or drifts) follow
:class:`~skbait._fisher.RankOneGreedy`, of which this is the ``K``-block
version; the two share their phases (:mod:`._scalar_phases`).
"""

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

__all__ = ["MultiLabelGreedy", "label_fisher_blocks"]

# Rows per chunk when the per-row quadratics are computed from G: the
# (rows, K d) temporaries stay near this many entries.
_CHUNK_ELEMENTS = 1 << 21


def label_fisher_blocks(Z, W, scale=1.0):
    """``scale * sum_x W[x, j] z_x z_x^T`` for every label ``j``: a ``(K, d, d)`` tensor.

    Parameters
    ----------
    Z : torch.Tensor of shape (n, d)
    W : torch.Tensor of shape (n, K)
        Non-negative weights, ``p (1 - p)`` for the Fisher.
    scale : float, default=1.0

    Returns
    -------
    torch.Tensor of shape (K, d, d)
        Symmetric blocks, in the dtype and on the device of ``Z``.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher._multilabel import label_fisher_blocks
    >>> Z = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    >>> W = torch.tensor([[0.25, 0.0], [0.5, 0.1]], dtype=torch.float64)
    >>> label_fisher_blocks(Z, W)[0]
    tensor([[0.2500, 0.0000],
            [0.0000, 2.0000]], dtype=torch.float64)
    """
    d = Z.shape[1]
    K = W.shape[1]
    out = torch.empty((K, d, d), dtype=Z.dtype, device=Z.device)
    for j in range(K):
        block = (Z * W[:, j : j + 1]).T @ Z
        out[j] = 0.5 * (block + block.T) * scale
    return out


class MultiLabelGreedy(ScalarStatePhases):
    """BAIT's forward-backward greedy over a block-diagonal (multi-label) Fisher.

    Parameters
    ----------
    Z : torch.Tensor of shape (m, d)
        The candidates' embeddings, in the working dtype (float32 or float64).
    W : torch.Tensor of shape (m, K)
        The candidates' weights ``omega_j = c p_j (1 - p_j)``, their scale
        ``c`` included (non-negative).
    M0 : torch.Tensor of shape (K, d, d)
        The starting design's blocks, positive definite (kept in float64).
    F : torch.Tensor of shape (K, d, d) or None
        The pool Fisher's blocks; ``None`` for the identity (``tr(M^-1)``).
        Ignored by the log-det objective.
    objective : {"trace", "logdet"}, default="trace"
        ``"trace"`` minimises ``tr(M^-1 F)`` (BAIT); ``"logdet"`` maximises
        ``log det M``.

    Attributes
    ----------
    picked : list of int
        Positions (among the candidates) of the design's rows, in the order added.
    gains : list of float
        Each picked row's gain when it was added.
    n_refresh : int
        How many times the blocks' inverses were rebuilt from the exact ``M``.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher._multilabel import MultiLabelGreedy
    >>> Z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    >>> W = torch.tensor([[0.25, 0.0], [0.0, 0.25], [0.2, 0.2]], dtype=torch.float64)
    >>> M0 = torch.eye(2, dtype=torch.float64).expand(2, 2, 2).clone()
    >>> greedy = MultiLabelGreedy(Z, W, M0, None)
    >>> greedy.forward(2)
    >>> greedy.picked
    [2, 0]
    """

    def __init__(self, Z, W, M0, F, objective="trace"):
        if Z.ndim != 2 or W.ndim != 2 or W.shape[0] != Z.shape[0]:
            raise ValueError(
                f"MultiLabelGreedy needs embeddings (m, d) and weights (m, K), got shapes "
                f"{tuple(Z.shape)} and {tuple(W.shape)}."
            )
        m, d = Z.shape
        K = W.shape[1]
        if tuple(M0.shape) != (K, d, d):
            raise ValueError(f"M0 must have shape (K, d, d) = {(K, d, d)}, got {tuple(M0.shape)}.")
        if objective not in ("trace", "logdet"):
            raise ValueError(f"objective must be 'trace' or 'logdet', got {objective!r}.")
        if Z.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"MultiLabelGreedy runs in float32 or float64, got {Z.dtype}.")
        self.Z = Z.contiguous()
        self.W = W.to(Z.dtype).contiguous()
        self.m, self.d, self.K = m, d, K
        self.dtype, self.device = Z.dtype, Z.device
        self.objective = objective
        self.rtol = rel_tolerance(Z.dtype)
        self.M0 = M0.to(torch.float64)
        if objective == "logdet":
            F = None
        self.trace = objective == "trace"
        self.F = None if F is None else F.to(Z.dtype)
        self.drift_tol = drift_tolerance(Z.dtype)
        self.n_updates = 0
        self.n_refresh = 0
        self.picked = []
        self.gains = []
        # The tracked rows: every candidate (forward), then the design's own rows.
        self._rows = torch.arange(m, device=self.device)
        self._tracking_picked = False
        self._bad_after_refresh = 0
        probe = drift_probes(d).to(self.device)  # (d, 2) float64
        self._probe = probe
        self._probe_w = probe.to(Z.dtype)
        self._factorize(self.M0)
        self._recompute()

    # ------------------------------------------------------------ exact state
    def _factorize(self, M):
        C, info = torch.linalg.cholesky_ex(M)
        if bool((info != 0).any()):
            raise IllConditionedError(
                "A label's information matrix is not positive definite even in float64: the "
                "embeddings' scale makes `reg` negligible. Increase `reg`, or rescale the "
                "embeddings (a StandardScaler in front of the model, say)."
            )
        G = torch.stack([_inverse_from_cholesky(C[j]) for j in range(self.K)])
        if self.n_refresh == 0:
            # The starting design, once: float32 is as good as the worst label's block.
            cond = M.abs().sum(dim=2).amax(dim=1) * G.abs().sum(dim=2).amax(dim=1)
            worst = int(cond.argmax())
            warn_if_unresolved(M[worst], G[worst], self.dtype)
        self.G = G.to(self.dtype)
        self._M_probe = M @ self._probe  # (K, d, 2) float64

    def _exact_M(self):
        """The blocks of ``M`` in float64 from ``M0`` and the design's rows."""
        M = self.M0.clone()
        if self.picked:
            rows = torch.as_tensor(self.picked, device=self.device)
            Zp = self.Z[rows].to(torch.float64)
            M += label_fisher_blocks(Zp, self.W[rows].to(torch.float64))
        return M

    def _refresh(self):
        """Rebuild the inverses from the exact ``M``, recompute the tracked rows."""
        self.n_refresh += 1
        self._factorize(self._exact_M())
        self._recompute()
        resid = self._residual()
        if resid > self.drift_tol / 100:
            # The problem's own conditioning sets the floor: do not refresh every step.
            self.drift_tol = 100 * resid

    def _residual(self):
        Mu = self._M_probe.to(self.dtype)
        return float((self.G @ Mu - self._probe_w).abs().max())

    def _quadratics(self, G, Z):
        """``a[x, j] = z^T G_j z`` and ``b[x, j] = z^T G_j F_j G_j z`` (``b`` None for log-det)."""
        K, d = self.K, self.d
        mats = [G]
        if self.trace:
            GF = G if self.F is None else G @ self.F.to(G.dtype)
            H = GF @ G
            mats.append(0.5 * (H + H.transpose(1, 2)))
        # (d, K d) per matrix: one product of the rows with every block at once.
        stacked = torch.cat([A.permute(1, 0, 2).reshape(d, K * d) for A in mats], dim=1)
        n = Z.shape[0]
        out = torch.empty((len(mats), n, K), dtype=G.dtype, device=G.device)
        size = max(16, _CHUNK_ELEMENTS // max(1, stacked.shape[1]))
        for start in range(0, n, size):
            Zc = Z[start : start + size].to(G.dtype)
            prod = (Zc @ stacked).reshape(Zc.shape[0], len(mats), K, d)
            out[:, start : start + size] = (prod * Zc[:, None, None, :]).sum(dim=3).transpose(0, 1)
        return out[0], (out[1] if self.trace else None)

    def _recompute(self):
        self.a, self.b = self._quadratics(self.G, self.Z[self._rows])

    # ---------------------------------------------------------------- scores
    def _scores(self, sign):
        """Gains (+1) or removal costs (-1) of the tracked rows, and the undefined rows."""
        Wr = self.W[self._rows]
        wa = Wr * self.a
        denom = 1.0 + wa if sign > 0 else 1.0 - wa
        bad = ~(denom > 0).all(dim=1)
        safe = torch.where(denom > 0, denom, torch.ones_like(denom))
        if self.trace:
            scores = (Wr * self.b / safe).sum(dim=1)
        elif sign > 0:
            scores = torch.log1p(wa).sum(dim=1)
        else:
            scores = -torch.log(safe).sum(dim=1)
        return scores, bad

    def _lowest_tied(self, scores):
        """Index of the lowest id among the scores within tolerance of the best (max)."""
        if scores.numel() == 0:
            return None
        best = scores.max()
        if not torch.isfinite(best):
            return None
        tied = scores >= best - self.rtol * best.abs()
        if not self._tracking_picked:  # every candidate, in ascending id order
            return int(tied.to(torch.uint8).argmax())
        idx = torch.nonzero(tied).flatten()
        return int(idx[torch.argmin(self._rows[idx])])

    # ---------------------------------------------------------------- updates
    def _update(self, position, sign):
        """Add (+1) or remove (-1) candidate ``position``; update the tracked rows.

        Returns ``False`` when the inverses were rebuilt instead (the tracked
        rows are fresh then).
        """
        z = self.Z[position]
        w = self.W[position]  # (K,)
        g = self.G @ z  # (K, d)
        denom = 1.0 + sign * w * (g @ z)
        if not bool((denom > 0).all()):
            self._record(position, sign)
            self._refresh()
            return False
        sigma = -sign  # G_j' = G_j + sigma u_j u_j^T
        U = g * torch.sqrt(w / denom)[:, None]  # (K, d)
        z64 = z.to(torch.float64)
        self._M_probe += (sign * w.to(torch.float64))[:, None, None] * (
            z64[None, :, None] * (z64 @ self._probe)[None, None, :]
        )
        if self.trace:
            Fu = U if self.F is None else torch.einsum("kde,ke->kd", self.F, U)
            uFu = (U * Fu).sum(dim=1)
            T = torch.einsum("kde,ke->kd", self.G, Fu) + (0.5 * sigma) * uFu[:, None] * U
            L = torch.cat([U, T], dim=0)  # (2K, d)
        else:
            L = U
        self.G += sigma * U[:, :, None] * U[:, None, :]
        self.n_updates += 1
        if self.n_updates % 16 == 0:
            self.G = 0.5 * (self.G + self.G.transpose(1, 2))
        self._record(position, sign)
        if self._residual() > self.drift_tol:
            self._refresh()
            return False
        prod = self.Z[self._rows] @ L.T  # (rows, K) or (rows, 2K)
        e = prod[:, : self.K]
        self.a += sigma * e * e
        if self.trace:
            self.b += (2.0 * sigma) * e * prod[:, self.K :]
        return True

    def _restrict(self, keep):
        """Track only the rows ``keep`` (positions into the tracked rows)."""
        self._rows = self._rows[keep]
        self.a = self.a[keep]
        if self.b is not None:
            self.b = self.b[keep]

    # ------------------------------------------------------- the phases' hooks
    def _flags(self, n, value):
        return torch.full((n,), value, dtype=torch.bool, device=self.device)

    def _excluded(self, scores, mask, fill):
        return torch.where(mask, fill, scores)

    def _index(self, positions):
        return torch.as_tensor(positions, device=self.device)
