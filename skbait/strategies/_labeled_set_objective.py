"""BAIT's objective of the labeled set alone, ``tr(M_0^-1 F)`` with no batch added.

Beside :func:`~skbait.strategies.bait_objective` (the objective of a chosen
batch); :class:`~skbait.stopping.ObjectivePlateau` follows it from round to
round.
"""

import numpy as np
import scipy.sparse as sp
import torch

from skbait._fisher import bait_factors, kron_gram, regression_factors
from skbait._fisher._multilabel import label_fisher_blocks
from skbait.base import as_labeled_mask
from skbait.utils._validation import check_real

__all__ = ["label_sets_objective", "labeled_set_objective"]


def labeled_set_objective(Z, P, labeled, *, reg=1.0):
    """BAIT's objective of the labeled set: ``tr((reg I + mean_L I(x))^-1 F)``.

    ``I(x) = (diag(p) - p p^T) (x) z z^T`` for classifiers (``z z^T`` when
    ``P`` is None), ``F`` the mean of ``I(x)`` over the whole pool, the mean
    in ``M`` over the labeled rows: the ``M_0`` of Algorithm 1 (Ash et al.
    2021) with no batch yet, ``n_L / (n_L + 0) = 1``. Computed densely in
    float64 with a Cholesky solve. It is what
    :class:`~skbait.stopping.ObjectivePlateau` follows from round to round;
    :func:`bait_objective` is the same trace with a batch added.

    Parameters
    ----------
    Z : array-like or sparse matrix of shape (n_samples, n_dims)
    P : array-like of shape (n_samples, n_classes) or None
    labeled : array-like of int or bool
        At least one labeled row.
    reg : float, default=1.0

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import labeled_set_objective
    >>> Z = np.array([[1.0], [2.0]])
    >>> # M = 1 + 1 (row 0 only), F = (1 + 4) / 2: 2.5 / 2.
    >>> round(labeled_set_objective(Z, None, [0]), 12)
    1.25
    """
    # Positive, or the Cholesky factorisation of M fails inside torch.
    reg = check_real("reg", reg, 0.0, strict=True)
    # Checked before a sparse embedding is made dense: a wide vocabulary would not fit.
    D = (np.shape(P)[1] if np.ndim(P) == 2 else 1) * Z.shape[1]
    if D > 8192:
        raise ValueError(
            f"The objective needs a {D} x {D} matrix (classes x embedding dimensions); "
            "give a lower-dimensional embedding."
        )
    Z, labeled = _pool_and_labeled_rows(Z, labeled)
    n = Z.shape[0]
    if P is None:
        S = regression_factors(n)
    else:
        S = bait_factors(torch.as_tensor(np.asarray(P, dtype=np.float64), device="cpu"))
    F = kron_gram(Z, S) / n
    M = kron_gram(Z[labeled], S[labeled]) / labeled.numel()
    M = M + reg * torch.eye(D, dtype=torch.float64, device="cpu")
    L = torch.linalg.cholesky(M)
    return float(torch.trace(torch.cholesky_solve(F, L)))


def label_sets_objective(Z, P, labeled, *, reg=1.0):
    """:func:`labeled_set_objective` of label sets: ``sum_j tr((reg I + mean_L I_j)^-1 F_j)``.

    Each label ``j`` is an independent sigmoid output with probability
    ``P[:, j]``, so a row's Fisher is block diagonal,
    ``diag(w) (x) z z^T`` with ``w_j = p_j (1 - p_j)``, and the trace splits
    into one ``d x d`` term per label (``I_j = w_j z z^T``, ``F_j`` its mean
    over the pool). What :class:`~skbait.stopping.ObjectivePlateau` follows for a
    multi-label model; computed in float64 with one Cholesky solve a label.

    Parameters
    ----------
    Z : array-like or sparse matrix of shape (n_samples, n_dims)
    P : array-like of shape (n_samples, n_labels)
        Each label's probability.
    labeled : array-like of int or bool
        At least one labeled row.
    reg : float, default=1.0

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import label_sets_objective
    >>> Z = np.array([[1.0], [2.0]])
    >>> P = np.array([[0.5, 0.5], [0.5, 0.5]])  # w = 1/4 for both labels
    >>> # Per label: M = 1 + 1/4 (row 0), F = (1 + 4) / 8; two labels: 2 * 0.625 / 1.25.
    >>> round(label_sets_objective(Z, P, [0]), 12)
    1.0
    """
    reg = check_real("reg", reg, 0.0, strict=True)
    Z, labeled = _pool_and_labeled_rows(Z, labeled)
    P = torch.as_tensor(np.asarray(P, dtype=np.float64), device="cpu")
    n = Z.shape[0]
    if P.ndim != 2 or P.shape[0] != n:
        raise ValueError(
            f"P must have shape (n_samples, n_labels) = ({n}, K), got {tuple(P.shape)}."
        )
    W = P * (1.0 - P)
    F = label_fisher_blocks(Z, W, 1.0 / n)
    M = label_fisher_blocks(Z[labeled], W[labeled], 1.0 / labeled.numel())
    M.diagonal(dim1=-2, dim2=-1).add_(reg)
    L = torch.linalg.cholesky(M)
    return float(torch.cholesky_solve(F, L).diagonal(dim1=1, dim2=2).sum())


def _pool_and_labeled_rows(Z, labeled):
    """The pool's embeddings as a float64 tensor and the labeled rows' positions (one or more)."""
    if sp.issparse(Z):  # a text pipeline's TF-IDF rows
        Z = Z.toarray()
    # On the CPU whatever default device the caller set (torch.set_default_device).
    Z = torch.as_tensor(np.asarray(Z, dtype=np.float64), device="cpu")
    labeled = torch.as_tensor(np.flatnonzero(as_labeled_mask(labeled, Z.shape[0])), device="cpu")
    if labeled.numel() == 0:
        raise ValueError("The objective of the labeled set needs at least one labeled row.")
    return Z, labeled
