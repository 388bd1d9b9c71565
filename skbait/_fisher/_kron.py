"""Kronecker products of the pool's factors: the summed information and per-row quadratics.

Every matrix of the design lives in ``R^{(k d) x (k d)}`` with class-major
coordinates (``a * d + i``); these helpers never form it row by row. A sum of
Kronecker products ``sum_x C_x (x) z_x z_x^T`` with symmetric ``C_x`` is
accumulated in a *packed* form over class pairs ``a <= b`` and coordinate pairs
``i <= j``, one matrix product per chunk of rows.
"""

import functools
import math
import typing

import torch

from skbait.utils._threads import limited_threads, threads_for_flops

__all__ = ["block_quadratic", "kron_gram", "quadratic_forms"]

# Elements in one chunk's temporaries: large enough for efficient matmuls,
# small enough to stay in cache and to keep memory flat in n.
_CHUNK_ELEMENTS = 1 << 20
# Packed products z_i z_j: a chunk of a few MB, reused from cache and from the
# allocator (freshly mapped pages cost more than the arithmetic on them).
_PACKED_CHUNK_ELEMENTS = 1 << 18
# Up to this many classes (10 class pairs), one GEMM per class pair beats the
# packed form, whose gather of z_i z_j is then not repaid by enough pairs.
_DENSE_MAX_CLASSES = 4
# Wide embeddings take the sums over coordinate pairs tile by tile (see
# _Tiles): from this d for the summed information, and this d for the per-row
# quadratics, where the packed table of a chunk of rows no longer fits in cache.
_TILED_GRAM_MIN_D = 256
_TILED_QUADRATIC_MIN_D = 64
# Coordinates per tile: the diagonal tiles' redundant half is 6% of the work at
# d = 512, and each tile's product stays wide enough for BLAS speed.
_TILE = 32
# By tile while the products are at most this many columns wide (see
# _tiling; measured at d = 64 to 512), else by tile pair, a chunk of this many
# rows at a time: its (rows, tile^2) products stay a few MB, and each tile
# pair's coefficients are read once per chunk of many rows.
_BY_TILE_MAX_WIDTH = 160
_TILE_PAIR_ROWS = 2048
# Symmetrising a large matrix on the CPU goes tile by tile (see _symmetrize_):
# from this many entries, in tiles of this side.
_SYMMETRIZE_TILED_MIN_ELEMENTS = 1 << 20
_SYMMETRIZE_TILE = 256


def _chunks(n, size):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _threads_for_product(*sizes):
    """A block on the threads worth a chunk's matrix product of ``2 * prod(sizes)`` operations.

    A chunk's few small kernels around its product follow the product's
    count: on a busy machine each of them waits for every thread to be
    scheduled (see :mod:`skbait.utils._threads`).
    """
    return limited_threads(threads_for_flops(2.0 * math.prod(sizes)))


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


def _class_pairs(k, device):
    """The class pairs ``a <= b``, and the index of the pair of every ``(a, b)``, ``(k, k)``."""
    a, b = torch.triu_indices(k, k, device=device)
    pair_of = torch.empty(k, k, dtype=torch.long, device=device)
    pair_of[a, b] = torch.arange(a.numel(), device=device)
    pair_of[b, a] = pair_of[a, b]
    return a, b, pair_of


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
    return Zt[i] * Zt[j]


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
        # One output (regression): sum_x V_x V_x^T with V_x = z_x S_x is a plain
        # Gram matrix, one product that BLAS does far better than the packed pairs.
        V = (Z[:, :, None] * S[:, 0, None, :]).transpose(1, 2).reshape(-1, d)
        with _threads_for_product(*V.shape, d):
            return _symmetrize_(V.T @ V)
    if _use_blocks(k, Z.dtype):
        return _kron_gram_blocks(Z, S, chunk_size)
    if d >= _TILED_GRAM_MIN_D:
        return _tiling(d, k, k * (k + 1) // 2, Z.device).gram(Z, S, chunk_size)
    pk = _packing(k, d, Z.device)
    size = chunk_size or max(64, _PACKED_CHUNK_ELEMENTS // pk.i.numel())
    acc = Z.new_zeros(pk.a.numel(), pk.i.numel())
    with _threads_for_product(min(size, n), *acc.shape):
        for sl in _chunks(n, size):
            S_c = S[sl]
            C = (S_c @ S_c.transpose(1, 2))[:, pk.a, pk.b]
            acc.addmm_(C.T, _packed_outer(Z[sl], pk.i, pk.j).T)
    return acc.flatten()[pk.unpack()]


def _use_blocks(k, dtype):
    """Few classes in float64: one GEMM per class pair (see :func:`_kron_gram_blocks`).

    In float32 the packed form stays: it sums each symmetric pair of entries
    once, and keeps ``z^T G z`` accurate enough when ``G`` is huge (a tiny
    ``reg``), where the plain product loses the positive definiteness of the
    per-row ``P_x``.
    """
    return k <= _DENSE_MAX_CLASSES and dtype == torch.float64


def _kron_gram_blocks(Z, S, chunk_size):
    """:func:`kron_gram` for few classes: one ``d x d`` weighted Gram product per class pair.

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


def _block_quadratic_blocks(Z, mats, k, chunk_size):
    """:func:`block_quadratic` for few classes: ``(Z @ A_ab) * Z`` summed, per class pair."""
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
            W[sl] = w[:, :, pair_of.flatten()]
    return W.reshape(n, len(mats), k, k)


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
        return lambda Z, chunk_size=None: _plain_quadratic(Z, mats, chunk_size)
    if _use_blocks(k, dtype):
        return lambda Z, chunk_size=None: _block_quadratic_blocks(Z, mats, k, chunk_size)
    if d >= _TILED_QUADRATIC_MIN_D:
        return _tiling(d, k, len(mats) * k * (k + 1) // 2, mats[0].device).quadratics(mats)
    return _packed_quadratic(mats, k, d)


def _packed_quadratic(mats, k, d):
    """:func:`quadratic_forms` in the packed form (coordinate pairs ``i <= j``)."""
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
                W[sl] = w[:, :, pk.pair_of.flatten()]
        return W.reshape(n, len(mats), k, k)

    return apply


def _tiling(d, k, width, device):
    """The tiled form of a sum over coordinate pairs whose products are ``width`` wide.

    ``width`` counts the class pairs (times the matrices of the quadratics).
    By tile (:class:`_Tiles`) a row's temporaries are ``d * width`` numbers;
    by tile pair (:class:`_TilePairs`) the products ``z_I z_J^T``, about
    ``d (d + tile) / 2``, shared by every column: the former for few
    classes (1.2 to 1.6 times faster at ``k = 10``), the latter for many.
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
        """:func:`kron_gram`: ``sum_x C_x (x) z_x z_x^T`` with ``C_x = S_x S_x^T``."""
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
        """:func:`kron_gram`: ``sum_x C_x (x) z_x z_x^T`` with ``C_x = S_x S_x^T``."""
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


def _plain_quadratic(Z, mats, chunk_size):
    """``z_x^T A z_x`` for one output (``k = 1``): ``rowsum((Z A) * Z)``, one product per chunk.

    BLAS does the ``d x d`` product far faster than the packed pairs' gathers.
    """
    n, d = Z.shape
    stacked = torch.cat(mats, dim=1)  # (d, m d)
    W = Z.new_empty(n, len(mats), 1, 1)
    size = chunk_size or max(64, _PACKED_CHUNK_ELEMENTS // (len(mats) * d))
    with _threads_for_product(min(size, n), *stacked.shape):
        for sl in _chunks(n, size):
            Zc = Z[sl]
            ZA = (Zc @ stacked).reshape(-1, len(mats), d)
            W[sl, :, 0, 0] = (ZA * Zc[:, None, :]).sum(-1)
    return W


def _symmetrize_(A):
    """``A <- (A + A^T) / 2`` in place, over the last two dimensions; returns ``A``.

    A large matrix on the CPU goes tile by tile: the transposed copy of the
    whole matrix strides through memory, about five times slower than tiles
    that stay in cache. Both give the same entries, bit for bit.
    """
    if A.dim() == 2 and A.device.type == "cpu" and A.numel() >= _SYMMETRIZE_TILED_MIN_ELEMENTS:
        n, t = A.shape[0], _SYMMETRIZE_TILE
        for i in range(0, n, t):
            diagonal = A[i : i + t, i : i + t]
            diagonal.add_(diagonal.T.clone()).mul_(0.5)
            for j in range(i + t, n, t):
                upper, lower = A[i : i + t, j : j + t], A[j : j + t, i : i + t]
                upper.add_(lower.T).mul_(0.5)
                lower.copy_(upper.T)
        return A
    A.add_(A.transpose(-2, -1).clone()).mul_(0.5)
    return A


def _inverse_from_cholesky(C):
    """``(C C^T)^-1`` for a lower-triangular ``C``, symmetric and row-major.

    LAPACK hands the inverse back column-major; every later ``reshape`` of it
    (one per greedy step) would then copy all ``(k d)^2`` entries.
    """
    return _symmetrize_(torch.cholesky_inverse(C).contiguous())
