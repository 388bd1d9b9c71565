"""The dense code paths of the Kronecker products: one output, and few classes in float64.

With one output (``k = 1``) both operations are plain products of ``Z``; with
few classes (float64, ``k <= 4``), one GEMM per class pair does twice the
multiply-adds of the packed form but at full BLAS speed. :mod:`._kron`
chooses; these assume their case.
"""

import torch

from skbait._fisher._linalg import (
    _CHUNK_ELEMENTS,
    _chunks,
    _class_pairs,
    _symmetrize_,
    _threads_for_product,
)

__all__ = ["class_pair_gram", "class_pair_quadratic", "one_output_gram", "one_output_quadratic"]

# Rows per chunk of the one-output quadratics: a chunk's (rows, d) products a few MB.
_ONE_OUTPUT_CHUNK_ELEMENTS = 1 << 18


def one_output_gram(Z, S):
    """:func:`~skbait._fisher.kron_gram` with one output (``k = 1``): a plain Gram matrix.

    ``sum_x V_x V_x^T`` with ``V_x = z_x S_x`` is one product ``V^T V``, which
    BLAS does far better than the packed pairs.
    """
    d = Z.shape[1]
    V = (Z[:, :, None] * S[:, 0, None, :]).transpose(1, 2).reshape(-1, d)
    with _threads_for_product(*V.shape, d):
        return _symmetrize_(V.T @ V)


def class_pair_gram(Z, S, chunk_size):
    """:func:`~skbait._fisher.kron_gram` for few classes: one weighted Gram product a class pair.

    ``A_ab = sum_x c_ab(x) z_x z_x^T`` for the class pairs ``a <= b``, all
    pairs in one GEMM per chunk, ``[c_1 z | c_2 z | ...]^T Z``. It does twice
    the multiply-adds of the packed form, but at full BLAS speed: with few
    pairs the packed form's gather of ``z_i z_j`` costs more than the
    products it saves.
    """
    n, d = Z.shape
    k = S.shape[1]
    a, b = torch.triu_indices(k, k, device=Z.device)
    n_pairs = a.numel()
    size = chunk_size or max(64, _CHUNK_ELEMENTS // (n_pairs * d))
    acc = Z.new_zeros(n_pairs * d, d)
    with _threads_for_product(min(size, n), *acc.shape):
        for sl in _chunks(n, size):
            S_c = S[sl]
            C = (S_c @ S_c.transpose(1, 2))[:, a, b]  # (rows, pairs)
            weighted = (C[:, :, None] * Z[sl, None, :]).reshape(-1, n_pairs * d)
            acc.addmm_(weighted.T, Z[sl])
    blocks = acc.reshape(n_pairs, d, d)
    out = Z.new_empty(k, d, k, d)
    for pair in range(n_pairs):
        block = blocks[pair]
        out[a[pair], :, b[pair], :] = block
        out[b[pair], :, a[pair], :] = block.T
    return _symmetrize_(out.reshape(k * d, k * d))


def class_pair_quadratic(Z, mats, k, chunk_size):
    """:func:`~skbait._fisher.block_quadratic`, few classes: ``(Z A_ab) * Z`` summed, per pair."""
    n, d = Z.shape
    a, b, pair_of = _class_pairs(k, Z.device)
    n_pairs = a.numel()
    # (d, matrices * pairs * d): the blocks A_ab side by side, one GEMM per chunk.
    blocks = torch.cat(
        [M.reshape(k, d, k, d)[a, :, b, :].permute(1, 0, 2).reshape(d, -1) for M in mats], dim=1
    )
    W = Z.new_empty(n, len(mats), k * k)
    size = chunk_size or max(64, _CHUNK_ELEMENTS // (len(mats) * n_pairs * d))
    with _threads_for_product(min(size, n), *blocks.shape):
        for sl in _chunks(n, size):
            T = (Z[sl] @ blocks).reshape(-1, len(mats) * n_pairs, d)
            w = torch.bmm(T, Z[sl, :, None]).reshape(-1, len(mats), n_pairs)
            torch.index_select(w, 2, pair_of.flatten(), out=W[sl])
    return W.reshape(n, len(mats), k, k)


def one_output_quadratic(Z, mats, chunk_size):
    """``z_x^T A z_x`` for one output (``k = 1``): ``rowsum((Z A) * Z)``, one product per chunk.

    BLAS does the ``d x d`` product far faster than the packed pairs' gathers.
    """
    n, d = Z.shape
    stacked = torch.cat(mats, dim=1)  # (d, m d)
    W = Z.new_empty(n, len(mats), 1, 1)
    size = chunk_size or max(64, _ONE_OUTPUT_CHUNK_ELEMENTS // (len(mats) * d))
    with _threads_for_product(min(size, n), *stacked.shape):
        for sl in _chunks(n, size):
            Zc = Z[sl]
            ZA = (Zc @ stacked).reshape(-1, len(mats), d)
            W[sl, :, 0, 0] = (ZA * Zc[:, None, :]).sum(-1)
    return W
