"""Small helpers of the whole core: chunks of rows, symmetrising, an inverse, threads, class pairs.

Nothing here knows about designs or objectives; every other module of
:mod:`skbait._fisher` may import from here, and this module imports from none
of them.
"""

import functools
import math

import torch

from skbait.utils._threads import GEMM_FLOPS_PER_THREAD, limited_threads, threads_for_flops

# Elements in one chunk's temporaries: large enough for efficient matmuls,
# small enough to stay in cache and to keep memory flat in n.
_CHUNK_ELEMENTS = 1 << 20
# Symmetrising a large matrix on the CPU goes tile by tile (see _symmetrize_):
# from this many entries, in tiles of this side.
_SYMMETRIZE_TILED_MIN_ELEMENTS = 1 << 20
_SYMMETRIZE_TILE = 256


@functools.lru_cache(maxsize=16)
def _eye(r, dtype, device):
    """A shared ``r x r`` identity (never to be written to)."""
    return torch.eye(r, dtype=dtype, device=device)


def _chunks(n, size):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _threads_for_product(*sizes):
    """A block on the threads worth a chunk's matrix product of ``2 * prod(sizes)`` operations.

    A chunk's few small kernels around its product follow the product's
    count: on a busy machine each of them waits for every thread to be
    scheduled (see :mod:`skbait.utils._threads`).
    """
    flops = 2.0 * math.prod(sizes)
    return limited_threads(threads_for_flops(flops, per_thread=GEMM_FLOPS_PER_THREAD))


def _class_pairs(k, device):
    """The class pairs ``a <= b``, and the index of the pair of every ``(a, b)``, ``(k, k)``."""
    a, b = torch.triu_indices(k, k, device=device)
    pair_of = torch.empty(k, k, dtype=torch.long, device=device)
    pair_of[a, b] = torch.arange(a.numel(), device=device)
    pair_of[b, a] = pair_of[a, b]
    return a, b, pair_of


def _symmetrize_(A):
    """``A <- (A + A^T) / 2`` in place, over the last two dimensions; returns ``A``.

    A large matrix on the CPU goes tile by tile: the transposed copy of the
    whole matrix strides through memory, several times slower than tiles
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

    The one explicit inverse of the core, and needed: every candidate's gain
    reads the design's inverse ``G`` (``V^T G V``, ``V^T G F G V``), and each
    step moves ``G`` by a low-rank Woodbury update instead of refactorizing.
    It is formed from the Cholesky factor of the positive definite design.

    LAPACK hands the inverse back column-major; every later ``reshape`` of it
    (one per greedy step) would then copy all ``(k d)^2`` entries.
    """
    return _symmetrize_(torch.cholesky_inverse(C).contiguous())
