"""The factors of the pointwise information, and one object that keeps them consistent.

A row ``x`` with embedding ``z_x`` (``d``) and factor ``S_x`` (``k x r``) has
the pointwise information ``I(x) = V_x V_x^T`` with ``V_x = S_x (x) z_x``, a
``(k d) x r`` matrix that is never formed (coordinates are class-major,
``a * d + i``):

- BAIT, classification: ``S = (I - p 1^T) diag(sqrt p)``, ``r = k``, so that
  ``S S^T = diag(p) - p p^T`` (column ``c`` of ``V`` is
  ``sqrt(p_c) (e_c - p) (x) z``, the reference's ``V_x``). ``S sqrt(p) = 0``,
  so :class:`Factors` keeps ``S H_x`` without its last column,
  ``r = k - 1``, ``H_x`` a reflection that sends ``sqrt(p)`` to the last
  axis (:func:`reduced_bait_factors`): the same information, and every
  per-row ``r x r`` quadratic of the greedy smaller.
- Regression (any number of outputs, paper eq. 6): ``k = r = 1``, ``S = [[1]]``.
- Rank-one BADGE gradient: ``S = p - e_yhat``, ``r = 1``.
"""

import dataclasses
import functools

import torch

__all__ = [
    "Factors",
    "bait_factors",
    "rank1_factors",
    "reduced_bait_factors",
    "regression_factors",
]

# Up to this many classes, the products S_x^T Y_x of BAIT's factors are a dense
# batch of small matrix products: twice as fast as the structured form at
# k = 10, which wins from a few tens of classes on.
_DENSE_TRANSPOSE_MAX_CLASSES = 20


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


def _null_reflections(P):
    """The reflections ``H_x = I - c_x v_x v_x^T`` with ``H_x sqrt(p_x) = -|sqrt(p_x)| e_k``.

    ``v = u + e_k`` with ``u = sqrt(p) / |sqrt(p)|``: ``v^T v = 2 + 2 u_k >= 2``,
    so the reflection is well conditioned whatever ``p`` (Householder's choice
    of sign). Returns ``v`` of shape ``(n, k)`` and ``c = 2 / v^T v``, ``(n,)``.
    """
    u = P.clamp_min(0).sqrt()
    u = u / u.norm(dim=1, keepdim=True).clamp_min(torch.finfo(P.dtype).tiny)
    v = u.clone()
    v[:, -1] += 1
    return v, 2 / (v * v).sum(1)


def reduced_bait_factors(P):
    """BAIT's factors without their null column: ``(n, k, k - 1)``, the same ``S S^T``.

    ``S_x = (I - p 1^T) diag(sqrt p)`` (:func:`bait_factors`) sends ``sqrt(p)``
    to zero. With ``H_x`` the reflection that sends ``sqrt(p)`` to the last
    axis, ``S_x H_x`` has a zero last column; dropping it leaves ``k - 1``
    columns with ``(S H)(S H)^T = S S^T = diag(p) - p p^T`` (up to
    ``(1 - sum p)^2``, far below rounding for probabilities that sum to one).
    Every score of the greedy is unchanged: they depend on ``S_x`` only
    through ``S_x S_x^T`` and through quadratics ``S_x^T A S_x`` whose
    scores are invariant under an orthonormal change of the columns.

    Parameters
    ----------
    P : torch.Tensor of shape (n, k)
        Class probabilities, rows summing to one.

    Returns
    -------
    S : torch.Tensor of shape (n, k, k - 1)
        ``(n, 1, 1)`` zeros for a single class.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import reduced_bait_factors
    >>> p = torch.tensor([[0.2, 0.3, 0.5]], dtype=torch.float64)
    >>> S = reduced_bait_factors(p)[0]
    >>> S.shape, torch.allclose(S @ S.T, torch.diag(p[0]) - p[0, :, None] * p[0])
    (torch.Size([3, 2]), True)
    """
    S = bait_factors(P)
    if P.shape[1] < 2:
        return S  # one class: a single zero column, kept so that r >= 1
    v, c = _null_reflections(P)
    # S H = S - c (S v) v^T, and S v = S e_k up to rounding: keep the first k - 1 columns.
    Sv = torch.bmm(S, v[:, :, None])
    return S[:, :, :-1] - (c[:, None, None] * Sv) * v[:, None, :-1]


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


_STRUCTURES = (None, "bait", "rank1")


@dataclasses.dataclass(frozen=True, eq=False)
class Factors:
    """Embeddings and information factors of a set of rows, kept consistent.

    Build it with :meth:`bait`, :meth:`rank1`, :meth:`regression` or
    :meth:`generic`; :meth:`take` (or indexing) selects rows and
    :meth:`scaled` multiplies every factor by a weight, so that ``S``,
    ``structure``, ``probas`` and ``scale`` always describe the same rows.

    Parameters
    ----------
    Z : torch.Tensor of shape (n, d)
        Embeddings.
    S : torch.Tensor of shape (n, k, r)
        Factors, already multiplied by ``scale``.
    structure : {"bait", "rank1", None}, default=None
        How ``S`` derives from ``probas`` (``"bait"``: :func:`reduced_bait_factors`):
        with many classes, products ``S_x^T Y`` are then taken in ``O(k w)``
        instead of ``O(k r w)`` (see :meth:`transpose_product`).
    probas : torch.Tensor of shape (n, k) or None, default=None
        The probabilities behind ``S`` (unscaled); required with ``structure``.
    scale : float, default=1.0
        The weight ``S`` was multiplied by (each ``I(x)`` by ``scale ** 2``).

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import Factors
    >>> Z = torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=torch.float64)
    >>> p = torch.tensor([[0.5, 0.5], [0.9, 0.1]], dtype=torch.float64)
    >>> f = Factors.bait(Z, p).scaled(0.5)
    >>> f.k, f.r, f.d, len(f), f.structure
    (2, 1, 2, 2, 'bait')
    >>> f[[1]].probas
    tensor([[0.9000, 0.1000]], dtype=torch.float64)
    """

    Z: torch.Tensor
    S: torch.Tensor
    structure: str | None = None
    probas: torch.Tensor | None = None
    scale: float = 1.0

    def __post_init__(self):
        if self.structure not in _STRUCTURES:
            raise ValueError(f"Unknown factor structure {self.structure!r}.")
        if (self.structure is None) != (self.probas is None):
            raise ValueError("`probas` must be given exactly when `structure` is.")
        if self.Z.ndim != 2 or self.S.ndim != 3 or self.S.shape[0] != self.Z.shape[0]:
            raise ValueError(
                f"Z of shape (n, d) and S of shape (n, k, r) expected, got {tuple(self.Z.shape)} "
                f"and {tuple(self.S.shape)}."
            )

    # -------------------------------------------------------------- builders
    @classmethod
    def bait(cls, Z, probas):
        """Rows with the full Fisher ``(diag(p) - p p^T) (x) z z^T``, ``r = k - 1``.

        The factors are :func:`reduced_bait_factors`.
        """
        return cls(Z, reduced_bait_factors(probas), "bait", probas)

    @classmethod
    def rank1(cls, Z, probas):
        """Rows with the BADGE gradient's rank-one information (:func:`rank1_factors`)."""
        return cls(Z, rank1_factors(probas), "rank1", probas)

    @classmethod
    def regression(cls, Z):
        """Rows with the rank-one information ``z z^T`` (:func:`regression_factors`)."""
        return cls(Z, regression_factors(Z.shape[0], dtype=Z.dtype, device=Z.device))

    @classmethod
    def generic(cls, Z, S):
        """Rows with arbitrary factors ``S`` (no structure to exploit)."""
        return cls(Z, S)

    # ------------------------------------------------------------- selection
    def take(self, rows):
        """The factors of ``rows`` (an index tensor, a list or a slice)."""
        if not isinstance(rows, (slice, torch.Tensor)):
            rows = torch.as_tensor(rows, dtype=torch.long, device=self.Z.device)
        probas = None if self.probas is None else self.probas[rows]
        return Factors(self.Z[rows], self.S[rows], self.structure, probas, self.scale)

    __getitem__ = take

    def scaled(self, factor):
        """The same rows with every ``S_x`` multiplied by ``factor`` (``I(x)`` by its square)."""
        return Factors(self.Z, self.S * factor, self.structure, self.probas, self.scale * factor)

    # ------------------------------------------------------------ properties
    def __len__(self):
        return self.Z.shape[0]

    @property
    def d(self):
        """Embedding dimension."""
        return self.Z.shape[1]

    @property
    def k(self):
        """Outputs (classes): the information lives in ``R^{(k d) x (k d)}``."""
        return self.S.shape[1]

    @property
    def r(self):
        """Rank of each row's information."""
        return self.S.shape[2]

    @property
    def dtype(self):
        return self.Z.dtype

    @property
    def device(self):
        return self.Z.device

    @functools.cached_property
    def _sqrt_p(self):
        # sqrt(p) as a column per row, to scale the rows of Y_x.
        return (self.probas.clamp_min(0).sqrt() * self.scale)[:, :, None]

    @functools.cached_property
    def _reflections(self):
        # The reflections that dropped each row's null column (reduced_bait_factors).
        return _null_reflections(self.probas)

    # -------------------------------------------------------------- products
    def V(self, row):
        """``V_x = S_x (x) z_x`` of one row, ``(k d) x r`` (for references and tests)."""
        return torch.kron(self.S[row], self.Z[row][:, None])

    def transpose_product(self, rows, Y):
        """``S_x^T Y_x`` for the rows ``rows`` (``Y``: (rows, k, w)), ``(rows, r, w)``.

        A batch of small matrix products, which BLAS takes fastest up to a
        few tens of classes. With more, ``structure="bait"`` takes
        ``W = diag(sqrt p) (Y - 1 p^T Y)`` (the full factor's product), in
        place in ``Y``, then the reflection ``H^T W`` without its last row, in
        ``O(k w)`` instead of ``O(k r w)``; scalar factors (regression, a
        binary approximation) are a broadcast product.
        """
        if self.S.shape[1] == 1 and self.S.shape[2] == 1:
            return Y.mul_(self.S[rows])
        if self.structure == "bait" and self.k > _DENSE_TRANSPOSE_MAX_CLASSES:
            pY = torch.bmm(self.probas[rows][:, None, :], Y)
            W = Y.sub_(pY).mul_(self._sqrt_p[rows])
            v, c = self._reflections
            v, c = v[rows], c[rows]
            vW = torch.bmm(v[:, None, :], W).mul_(c[:, None, None])  # (rows, 1, w)
            return W[:, :-1] - v[:, :-1, None] * vW
        return torch.bmm(self.S[rows].transpose(1, 2), Y)
