"""The summed information and the per-row quadratics: which of five code paths computes them.

Every matrix of the design lives in ``R^{(k d) x (k d)}`` with class-major
coordinates (``a * d + i``); the two operations here never form it row by
row:

- :func:`kron_gram`, ``sum_x (S_x S_x^T) (x) (z_x z_x^T)`` (the pool Fisher,
  the labeled part of ``M_0``, an exact rebuild of ``M``);
- :func:`block_quadratic` / :func:`quadratic_forms`, the per-row
  ``z_x^T A_ab z_x`` of the ``d x d`` blocks of symmetric matrices (the
  tracked rows' fresh state).

Each has one code path per shape of the problem, one module each:

- one output (``k = 1``): a plain Gram product, ``rowsum((Z A) * Z)``
  (:mod:`._kron_dense`);
- few classes in float64: one GEMM per class pair (:mod:`._kron_dense`);
- the packed form over coordinate pairs ``i <= j`` (:mod:`._kron_packed`);
- wide embeddings: the packed form tile by tile, by tile or by tile pair
  (:mod:`._kron_tiled`).

This module only chooses among them.
"""

import torch

from skbait._fisher import _kron_dense as _dense
from skbait._fisher import _kron_packed as _packed
from skbait._fisher import _kron_tiled as _tiled

__all__ = ["block_quadratic", "kron_gram", "quadratic_forms"]

# Up to this many classes (10 class pairs), one GEMM per class pair beats the
# packed form, whose gather of z_i z_j is then not repaid by enough pairs.
_DENSE_MAX_CLASSES = 4
# Wide embeddings take the sums over coordinate pairs tile by tile (see
# _kron_tiled): from this d for the summed information, and this d for the
# per-row quadratics, where the packed table of a chunk of rows no longer fits
# in cache.
_TILED_GRAM_MIN_D = 256
_TILED_QUADRATIC_MIN_D = 64


def kron_gram(Z, S, *, chunk_size=None):
    """The summed information ``sum_x (S_x S_x^T) (x) (z_x z_x^T)``.

    Parameters
    ----------
    Z : torch.Tensor of shape (n, d)
    S : torch.Tensor of shape (n, k, r)
    chunk_size : int, default=None
        Rows per chunk (automatic when None); one output (``k = 1``) takes a
        single Gram product ``V^T V`` instead.

    Returns
    -------
    A : torch.Tensor of shape (k d, k d)
        Exactly symmetric, class-major blocks.

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
    if k == 1:
        return _dense.one_output_gram(Z, S)
    if _use_blocks(k, Z.dtype):
        return _dense.class_pair_gram(Z, S, chunk_size)
    if d >= _TILED_GRAM_MIN_D:
        return _tiled.tiling(d, k, k * (k + 1) // 2, Z.device).gram(Z, S, chunk_size)
    return _packed.packed_gram(Z, S, chunk_size)


def _use_blocks(k, dtype):
    """Few classes in float64: one GEMM per class pair (see :func:`._kron_dense.class_pair_gram`).

    In float32 the packed form stays: it sums each symmetric pair of entries
    once, and keeps ``z^T G z`` accurate enough when ``G`` is huge (a tiny
    ``reg``), where the plain product loses the positive definiteness of the
    per-row ``P_x``.
    """
    return k <= _DENSE_MAX_CLASSES and dtype == torch.float64


def block_quadratic(Z, A, k, *, chunk_size=None):
    """Per-row ``W_x[a, b] = z_x^T A_ab z_x`` for the ``d x d`` blocks of a symmetric ``A``.

    Parameters
    ----------
    Z : torch.Tensor of shape (n, d)
    A : torch.Tensor of shape (k d, k d), or a sequence of such
        Symmetric; several matrices share one pass over ``Z``. With one
        output (``k = 1``) the forms are ``rowsum((Z A) * Z)``, one product.
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
    W = quadratic_forms([A] if single else list(A), k, Z.shape[1], Z.dtype)(Z, chunk_size)
    return W[:, 0] if single else W


def quadratic_forms(mats, k, d, dtype):
    """:func:`block_quadratic` of ``mats`` as a function of the rows, prepared once.

    Returns ``forms(Z, chunk_size=None) -> W`` of shape ``(n, len(mats), k, k)``;
    a caller that applies the same matrices to many chunks of rows (the
    tracked rows' fresh state) prepares their coefficients only once.
    """
    if k == 1:
        return lambda Z, chunk_size=None: _dense.one_output_quadratic(Z, mats, chunk_size)
    if _use_blocks(k, dtype):
        return lambda Z, chunk_size=None: _dense.class_pair_quadratic(Z, mats, k, chunk_size)
    if d >= _TILED_QUADRATIC_MIN_D:
        return _tiled.tiling(d, k, len(mats) * k * (k + 1) // 2, mats[0].device).quadratics(mats)
    return _packed.packed_quadratic(mats, k, d)
