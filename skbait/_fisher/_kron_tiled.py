"""The tiled code path of the Kronecker products: wide embeddings, tile by tile or by tile pair.

Past a few hundred coordinates the packed table of a chunk of rows no longer
fits in cache; the sums over coordinate pairs go tile by tile instead
(:class:`_Tiles`, few classes) or by tile pair (:class:`_TilePairs`, many).
:mod:`._kron` chooses it for wide ``d``; :func:`tiling` chooses the form.
"""

import torch

from skbait._fisher._linalg import (
    _CHUNK_ELEMENTS,
    _chunks,
    _class_pairs,
    _symmetrize_,
    _threads_for_product,
)

__all__ = ["tiling"]

# Coordinates per tile: the diagonal tiles' redundant half is 6% of the work at
# d = 512, and each tile's product stays wide enough for BLAS speed.
_TILE = 32
# By tile while the products are at most this many columns wide (see
# tiling; measured at d = 64 to 512), else by tile pair, a chunk of this many
# rows at a time: its (rows, tile^2) products stay a few MB, and each tile
# pair's coefficients are read once per chunk of many rows.
_BY_TILE_MAX_WIDTH = 160
_TILE_PAIR_ROWS = 2048


def tiling(d, k, width, device):
    """The tiled form of a sum over coordinate pairs whose products are ``width`` wide.

    ``width`` counts the class pairs (times the matrices of the quadratics).
    By tile (:class:`_Tiles`) a row's temporaries are ``d * width`` numbers;
    by tile pair (:class:`_TilePairs`) the products ``z_I z_J^T``, about
    ``d (d + tile) / 2``, shared by every column: the former for few
    classes, the latter for many (measured: see "Measured choices of the core"
    in the user guide's "BAIT in depth").
    """
    if width <= _BY_TILE_MAX_WIDTH:
        return _Tiles(d, k, device)
    return _TilePairs(d, k, device)


class _TiledSums:
    """What both tiled forms share: the sizes, the tile and the class pairs ``a <= b``.

    Parameters
    ----------
    d, k : int
    device : torch.device
    tile : int, default=_TILE
    """

    def __init__(self, d, k, device, tile=None):
        self.d, self.k = d, k
        self.tile = tile or _TILE
        self.a, self.b, pair_of = _class_pairs(k, device)
        self.pair_of = pair_of.flatten()


class _TilePairs(_TiledSums):
    """Sums over coordinate pairs ``(i, j)`` by tile pairs: the packed form for many classes.

    The coordinates are cut into tiles of ``tile`` (the last one padded with
    zeros), and only the tile pairs ``I <= J`` are visited: for a chunk of
    rows, the products ``z_I z_J^T`` of one tile pair are one contiguous
    broadcast product, a few MB, and meet their coefficients (every class
    pair, every matrix) in one matrix product.
    """

    def __init__(self, d, k, device, tile=None):
        super().__init__(d, k, device, tile)
        self.n_tiles = -(-d // self.tile)
        self.padded = self.n_tiles * self.tile
        first, second = torch.triu_indices(self.n_tiles, self.n_tiles)
        self.pairs = list(zip(first.tolist(), second.tolist()))

    def _tiled(self, Z):
        """A chunk of rows as ``(rows, n_tiles, tile)``, zero-padded."""
        if self.padded != self.d:
            Z = torch.nn.functional.pad(Z, (0, self.padded - self.d))
        return Z.reshape(Z.shape[0], self.n_tiles, self.tile)

    def _outer(self, Zt, first, second):
        """``z_I z_J^T`` of every row of a chunk, flattened: ``(rows, tile^2)``."""
        return (Zt[:, first, :, None] * Zt[:, second, None, :]).reshape(Zt.shape[0], -1)

    def _blocks(self, A):
        """``A`` as ``(k, n_tiles, tile, k, n_tiles, tile)``, zero-padded."""
        k, d, pad = self.k, self.d, self.padded - self.d
        A = A.reshape(k, d, k, d)
        if pad:
            A = torch.nn.functional.pad(A, (0, pad, 0, 0, 0, pad))
        t, nt = self.tile, self.n_tiles
        return A.reshape(k, nt, t, k, nt, t)

    def gram(self, Z, S, chunk_size=None):
        """:func:`~skbait._fisher.kron_gram`: ``sum_x C_x (x) z_x z_x^T``, ``C_x = S_x S_x^T``."""
        n = Z.shape[0]
        k, t, nt, a, b = self.k, self.tile, self.n_tiles, self.a, self.b
        n_pairs = a.numel()
        acc = Z.new_zeros(len(self.pairs), n_pairs, t * t)
        size = chunk_size or _TILE_PAIR_ROWS
        with _threads_for_product(min(size, n), n_pairs, t * t):
            for sl in _chunks(n, size):
                Zt = self._tiled(Z[sl])
                S_c = S[sl]
                Ct = (S_c @ S_c.transpose(1, 2))[:, a, b].T.contiguous()  # (class pairs, rows)
                for q, (first, second) in enumerate(self.pairs):
                    acc[q].addmm_(Ct, self._outer(Zt, first, second))
        out = Z.new_empty(k, nt, t, k, nt, t)
        acc = acc.reshape(len(self.pairs), n_pairs, t, t)
        for q, (first, second) in enumerate(self.pairs):
            block = acc[q]  # c_ab z_I z_J^T summed, for the class pairs a <= b
            out[a, first, :, b, second, :] = block
            out[b, second, :, a, first, :] = block.transpose(1, 2)
            if first != second:
                out[b, first, :, a, second, :] = block
                out[a, second, :, b, first, :] = block.transpose(1, 2)
        out = out.reshape(k, self.padded, k, self.padded)[:, : self.d, :, : self.d]
        return _symmetrize_(out.reshape(k * self.d, k * self.d))

    def quadratics(self, mats):
        """A function ``(Z, chunk_size) -> W`` with ``W[x, m, a, b] = z_x^T (mats[m])_ab z_x``.

        The coefficient of every tile pair is built once here, so that a
        caller applying it to many chunks of rows pays for it once.
        """
        a, b = self.a, self.b
        blocks = [self._blocks(M) for M in mats]
        coefs = []
        for first, second in self.pairs:
            parts = []
            for A in blocks:
                part = A[a, first, :, b, second, :]  # A[a, I, b, J]: (class pairs, t, t)
                if first != second:
                    # z_J^T A[a, J, b, I] z_I is the same product, transposed.
                    part = part + A[a, second, :, b, first, :].transpose(1, 2)
                parts.append(part.reshape(a.numel(), -1))
            coefs.append(torch.cat(parts).T.contiguous())  # (t^2, matrices * class pairs)
        n_mats, k = len(mats), self.k

        def apply(Z, chunk_size=None):
            n = Z.shape[0]
            W = Z.new_empty(n, n_mats, k * k)
            size = chunk_size or _TILE_PAIR_ROWS
            with _threads_for_product(min(size, n), *coefs[0].shape):
                for sl in _chunks(n, size):
                    Zt = self._tiled(Z[sl])
                    w = Z.new_zeros(Zt.shape[0], n_mats * a.numel())
                    for (first, second), coef in zip(self.pairs, coefs):
                        w.addmm_(self._outer(Zt, first, second), coef)
                    W[sl] = w.reshape(-1, n_mats, a.numel())[:, :, self.pair_of]
            return W.reshape(n, n_mats, k, k)

        return apply


class _Tiles(_TiledSums):
    """Sums over coordinate pairs ``(i, j)`` by tiles of ``i``: the packed form for wide ``d``.

    The coordinates are cut into tiles of ``tile`` (the last one shorter);
    a tile ``I`` meets every coordinate from its own start on, ``j >= s_I``,
    so that only the tile pairs ``I <= J`` are visited, which is the packed
    form's halving of the work up to the diagonal tiles. Each tile is one
    matrix product a chunk of rows, with the class pairs (and matrices) as
    its width: for the summed information ``[c_ab z_I]^T Z[:, s_I:]``, for
    the per-row quadratics ``Z[:, s_I:] @ B_I`` contracted with ``z_I``.
    The temporaries are a chunk's ``(rows, tile * class pairs)``, a fifth of
    the products ``z_i z_j`` of every coordinate pair that the packed form
    gathers (131,328 numbers a row at ``d = 512``), and the products run at
    BLAS speed.
    """

    def __init__(self, d, k, device, tile=None):
        super().__init__(d, k, device, tile)
        t = self.tile
        self.tiles = [(s, min(s + t, d)) for s in range(0, d, t)]

    def _rows(self, chunk_size, columns):
        """Rows per chunk: a chunk's ``(rows, columns)`` temporary a few MB."""
        return chunk_size or max(64, _CHUNK_ELEMENTS // columns)

    def gram(self, Z, S, chunk_size=None):
        """:func:`~skbait._fisher.kron_gram`: ``sum_x C_x (x) z_x z_x^T``, ``C_x = S_x S_x^T``."""
        n, d = Z.shape
        k, a, b = self.k, self.a, self.b
        n_pairs = a.numel()
        # acc[I][(pair, i), j - s_I] = sum_x c_ab(x) z_i z_j, i in tile I, j >= s_I.
        acc = [Z.new_zeros(n_pairs * (e - s), d - s) for s, e in self.tiles]
        size = self._rows(chunk_size, n_pairs * self.tile)
        # A tile's product meets (d + tile) / 2 coordinates on average.
        with _threads_for_product(min(size, n), n_pairs * self.tile, (d + self.tile) / 2):
            for sl in _chunks(n, size):
                Zc, S_c = Z[sl], S[sl]
                C = (S_c @ S_c.transpose(1, 2))[:, a, b]  # (rows, class pairs)
                for (s, e), A in zip(self.tiles, acc):
                    weighted = (C[:, :, None] * Zc[:, None, s:e]).reshape(Zc.shape[0], -1)
                    A.addmm_(weighted.T, Zc[:, s:])
        out = Z.new_empty(k, d, k, d)
        for (s, e), A in zip(self.tiles, acc):
            block = A.reshape(n_pairs, e - s, d - s)
            # C_x is symmetric: the class pairs (a, b) and (b, a) share each block.
            for first, second in ((a, b), (b, a)):
                out[first, s:e, second, s:] = block
                out[first, s:, second, s:e] = block.transpose(1, 2)
        return _symmetrize_(out.reshape(k * d, k * d))

    def quadratics(self, mats):
        """A function ``(Z, chunk_size) -> W`` with ``W[x, m, a, b] = z_x^T (mats[m])_ab z_x``.

        ``z^T A_ab z = sum_I z_I^T B_I z[s_I:]`` with ``B_I[i, j] = A[a, i, b, j]``
        inside the tile and ``A[a, i, b, j] + A[a, j, b, i]`` past it. Each
        ``B_I`` is laid out once here, ``(d - s_I, tile * matrices * class
        pairs)``, so that a caller applying it to many chunks of rows pays
        for it once.
        """
        k, d, a, b = self.k, self.d, self.a, self.b
        n_mats, n_pairs = len(mats), a.numel()
        coefs = []
        for s, e in self.tiles:
            parts = []
            for M in mats:
                A = M.reshape(k, d, k, d)
                part = A[a, s:e, b, s:].clone()  # (class pairs, tile, d - s)
                part[:, :, e - s :] += A[a, e:, b, s:e].transpose(1, 2)
                parts.append(part)
            # Columns ordered (i, matrix, class pair): the product is (rows, tile, width).
            coefs.append(torch.stack(parts, 1).permute(3, 2, 1, 0).reshape(d - s, -1).contiguous())
        width = n_mats * n_pairs

        def apply(Z, chunk_size=None):
            n = Z.shape[0]
            W = Z.new_empty(n, n_mats, k * k)
            size = self._rows(chunk_size, width * self.tile)
            with _threads_for_product(min(size, n), (d + self.tile) / 2, width * self.tile):
                for sl in _chunks(n, size):
                    Zc = Z[sl]
                    rows = Zc.shape[0]
                    w = Z.new_zeros(rows, 1, width)
                    for (s, e), coef in zip(self.tiles, coefs):
                        w.baddbmm_(Zc[:, None, s:e], (Zc[:, s:] @ coef).view(rows, e - s, width))
                    W[sl] = w.view(rows, n_mats, n_pairs)[:, :, self.pair_of]
            return W.reshape(n, n_mats, k, k)

        return apply
