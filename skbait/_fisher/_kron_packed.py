"""The packed code path of the Kronecker products: class pairs by coordinate pairs ``i <= j``.

A sum of Kronecker products ``sum_x C_x (x) z_x z_x^T`` with symmetric ``C_x``
is accumulated in a *packed* form over class pairs ``a <= b`` and coordinate
pairs ``i <= j``, one matrix product per chunk of rows; the per-row
quadratics read the same packed rows against a table of the matrices'
entries. :mod:`._kron` chooses it for moderate ``d`` and more than a few
classes.
"""

import functools
import typing

import torch

from skbait._fisher._linalg import _chunks, _class_pairs, _threads_for_product

__all__ = ["packed_gram", "packed_quadratic"]

# Packed products z_i z_j: a chunk of a few MB, reused from cache and from the
# allocator (freshly mapped pages cost more than the arithmetic on them).
_PACKED_CHUNK_ELEMENTS = 1 << 18


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
    a, b, pair_of = _class_pairs(k, device)
    i, j = torch.triu_indices(d, d, device=device)
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
    # index_select copies whole rows, several times faster than indexing by a tensor.
    return torch.index_select(Zt, 0, i).mul_(torch.index_select(Zt, 0, j))


def packed_gram(Z, S, chunk_size=None):
    """:func:`~skbait._fisher.kron_gram` in the packed form: ``C_x`` by ``z_i z_j``, ``i <= j``."""
    n, d = Z.shape
    k = S.shape[1]
    pk = _packing(k, d, Z.device)
    size = chunk_size or max(64, _PACKED_CHUNK_ELEMENTS // pk.i.numel())
    acc = Z.new_zeros(pk.a.numel(), pk.i.numel())
    with _threads_for_product(min(size, n), *acc.shape):
        for sl in _chunks(n, size):
            S_c = S[sl]
            C = (S_c @ S_c.transpose(1, 2))[:, pk.a, pk.b]
            acc.addmm_(C.T, _packed_outer(Z[sl], pk.i, pk.j).T)
    return torch.take(acc, pk.unpack())


def packed_quadratic(mats, k, d):
    """:func:`~skbait._fisher._kron.quadratic_forms` in the packed form (pairs ``i <= j``)."""
    pk = _packing(k, d, mats[0].device)
    n_pairs = pk.a.numel()
    # One (coordinate pair) x (matrix, class pair) table: one product serves all.
    first, second = pk.quadratic_entries()
    half = torch.where(pk.i == pk.j, 0.5, 1.0).to(mats[0].dtype)[:, None]
    coef = torch.cat([half * (M.flatten()[first] + M.flatten()[second]) for M in mats], dim=1)

    def apply(Z, chunk_size=None):
        n = Z.shape[0]
        W = Z.new_empty(n, len(mats), k * k)
        size = chunk_size or max(64, _PACKED_CHUNK_ELEMENTS // pk.i.numel())
        with _threads_for_product(min(size, n), *coef.shape):
            for sl in _chunks(n, size):
                w = (_packed_outer(Z[sl], pk.i, pk.j).T @ coef).reshape(-1, len(mats), n_pairs)
                torch.index_select(w, 2, pk.pair_of.flatten(), out=W[sl])
        return W.reshape(n, len(mats), k, k)

    return apply
