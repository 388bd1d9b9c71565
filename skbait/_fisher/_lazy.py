"""A symmetric ``(k d) x (k d)`` matrix whose low-rank moves are applied late, in bulk.

The greedy's ``G = M^-1`` and the trace objective's ``H = G F G`` move by a
term of rank ``r`` (``G``) or ``2 r`` (``H``) at every step. Applying each one
at once reads and writes the whole matrix for a product of memory speed;
kept pending up to a few tens of columns, they are applied as one product at
BLAS speed, and every product with the matrix adds their low-rank part
instead. A product with a row's ``V_x = S_x (x) z_x`` reads the matrix as a
``(k d k) x d`` matrix times ``z_x``: one matrix-vector product, at memory
speed, where a product with the ``r`` columns of ``V_x`` would run at the
slower speed of a thin matrix product.
"""

import torch

from skbait._fisher._linalg import _symmetrize_

__all__ = ["LazySymmetric", "kron_columns"]

# Keep the moves pending from this many entries of the matrix, up to this many
# columns: a rank-64 product runs at BLAS speed, and the pending terms of
# each product with the matrix stay a small fraction of it.
_LAZY_MIN_ELEMENTS = 1 << 21
_MAX_PENDING = 64
# Rounding makes the applied moves slightly asymmetric: symmetrise at the first
# application after this many moves.
_SYMMETRIZE_EVERY = 16


def kron_columns(z, S):
    """``V = S (x) z``, ``(k d) x r``, class-major (``a * d + i``)."""
    return (S[:, None, :] * z[None, :, None]).reshape(-1, S.shape[1])


class LazySymmetric:
    """A symmetric matrix ``A`` plus its pending moves ``sum s U W^T``.

    Parameters
    ----------
    A : torch.Tensor of shape (D, D)
        Symmetric; owned (updated in place) from now on.
    max_pending : int or None, default=None
        Columns of pending moves beyond which they are applied; ``None``
        keeps them pending only for a large matrix (about 1,500 rows on).

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher._lazy import LazySymmetric
    >>> A = LazySymmetric(torch.eye(2, dtype=torch.float64), max_pending=4)
    >>> A.move(torch.ones(2, 1, dtype=torch.float64), sign=-1)  # kept pending
    False
    >>> A.times(torch.tensor([[1.0], [0.0]], dtype=torch.float64)).flatten()
    tensor([ 0., -1.], dtype=torch.float64)
    >>> A.value
    tensor([[ 0., -1.],
            [-1.,  0.]], dtype=torch.float64)
    """

    def __init__(self, A, max_pending=None):
        if max_pending is None:
            max_pending = _MAX_PENDING if A.numel() >= _LAZY_MIN_ELEMENTS else 0
        self.max_pending = max_pending
        self._A = A
        self._pending = []  # (U, W, s): A = self._A + sum of s U W^T
        self._moves = 0  # moves since the last symmetrisation

    @property
    def value(self):
        """The matrix, pending moves applied first."""
        self.flush()
        return self._A

    @property
    def n_pending(self):
        """Columns of the moves not yet applied."""
        return sum(U.shape[1] for U, _, _ in self._pending)

    def flush(self):
        """Apply the pending moves: one product of their summed rank. Returns whether any were."""
        if not self._pending:
            return False
        sU = torch.cat([s * U for U, _, s in self._pending], dim=1)
        W = torch.cat([W for _, W, _ in self._pending], dim=1)
        self._pending = []
        self._A.addmm_(sU, W.T)
        if self._moves >= _SYMMETRIZE_EVERY:
            _symmetrize_(self._A)
            self._moves = 0
        return True

    def move(self, U, W=None, *, sign):
        """``A += sign U U^T`` (``W`` omitted) or ``A += sign (U W^T + W U^T)``.

        Returns whether the pending moves were applied (so that a caller
        keeping products with ``A`` can take them afresh).
        """
        self._moves += 1
        self._pending.append((U, U if W is None else W, sign))
        if W is not None:
            self._pending.append((W, U, sign))
        if self.n_pending > self.max_pending:
            return self.flush()
        return False

    def _add_pending(self, out, Y):
        for U, W, s in self._pending:
            out.addmm_(U, W.T @ Y, alpha=s)
        return out

    def times(self, Y):
        """``A Y`` for a thin ``Y`` (pending moves as low-rank terms).

        Taken as ``(Y^T A)^T`` (``A`` is symmetric): with a thin ``Y`` the
        transposed product is the faster BLAS shape (twice as fast at
        ``320 x 320`` by ``320 x 11``, four times in float32). The result is
        a transposed view.
        """
        out = Y.T @ self._A
        for U, W, s in self._pending:
            out.addmm_((W.T @ Y).T, U.T, alpha=s)
        return out.T

    def times_kron(self, z, S):
        """``A V`` with ``V = S (x) z`` (``z``: ``d``, ``S``: ``k x r``), and ``V``.

        ``A`` read once, as a ``(D k) x d`` matrix times ``z``: the blocks
        ``A[:, a d : (a + 1) d] z``, then combined by ``S``.
        """
        D, k = self._A.shape[0], S.shape[0]
        AV = (self._A.reshape(D * k, -1) @ z).reshape(D, k) @ S
        V = kron_columns(z, S)
        return self._add_pending(AV, V), V
