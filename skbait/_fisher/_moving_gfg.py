"""What moves with ``G`` for an objective: nothing (log-det), or the trace objective's ``G F G``.

After each move of the design, ``G' = G + s L L^T``, the trace objective's
rows need ``X_x = V_x^T T`` with ``T = G F L + (s/2) L (L^T F L)``. On a
small design ``T`` comes from the design's own product ``G (F L)``; on a
large one, :class:`MovingGFG` keeps ``H = G F G`` and reads it once per step
instead, checking it against the direct product every few moves.
"""

import torch

from skbait._fisher._lazy import LazySymmetric

__all__ = ["NO_EXTRA_BLOCKS", "MovingGFG"]


class _NoExtraBlocks:
    """What moves with ``G`` for the log-det objective: nothing; no blocks beyond ``L``."""

    drifted = False

    def columns(self):
        return None

    def extra_blocks(self, term):
        return []


NO_EXTRA_BLOCKS = _NoExtraBlocks()


class MovingGFG:
    """The trace objective's extra block of each move, from ``H = G F G`` moved with ``G``.

    ``T = G F L + (s/2) L (L^T F L)`` comes either from the design's product
    ``G (F L)`` (:meth:`columns` asks the design's update for it), or, when
    ``H`` is kept, from ``H`` alone: ``G F L = H V C^-T``. ``H`` then moves by
    ``s (T L^T + L T^T)``.

    Keeping ``H`` squares the conditioning of the moves it cancels: in float32
    with a tiny regulariser its rounding can swamp it where ``G``'s does
    not. So the first move, and every ``_CHECK_EVERY``-th, also takes ``T``
    the direct way and compares; past the tolerance, :attr:`drifted` tells
    the greedy to rebuild the design (and the rows to stop keeping ``H``).

    Parameters
    ----------
    H : torch.Tensor of shape (k d, k d) or None
        ``G F G`` of the design's current ``G``, owned from now on; ``None``
        takes every ``T`` from the design's product.
    columns : callable
        ``columns(L) = F L``, for the design's update.
    max_pending : int or None
        As :class:`~skbait._fisher._lazy.LazySymmetric` takes it.

    Attributes
    ----------
    H : LazySymmetric or None
    drifted : bool
        A check found ``H``'s ``T`` off the direct one.
    """

    def __init__(self, H, columns, max_pending):
        self.H = None if H is None else LazySymmetric(H, max_pending)
        self._columns = columns
        self.n_moves = 0
        self.drifted = False

    def columns(self):
        """What the design's next update must multiply by the old ``G``: ``F L``, or nothing."""
        if self.H is None or self.n_moves % _CHECK_EVERY == 0:
            return self._columns
        return None

    def extra_blocks(self, term):
        """``[T]`` with ``T = G F L + (s/2) L (L^T F L)``: ``X_x = V_x^T T`` updates ``Qh_x``."""
        L, s = term.L, term.sign
        T = None
        if term.X is not None:
            T = term.GX + (0.5 * s) * (L @ (L.T @ term.X))
        if self.H is not None:
            HV, V = self.H.times_kron(term.z, term.S)
            GFL = torch.linalg.solve_triangular(term.C, HV.T, upper=False).T  # H V C^-T
            W = torch.linalg.solve_triangular(term.C, V.T, upper=False).T  # V C^-T
            T_kept = GFL + (0.5 * s) * (L @ (W.T @ GFL))  # W^T G F L = L^T F L
            if T is None:
                T = T_kept
            elif _relative_gap(T_kept, T) > _gfg_tolerance(T.dtype):
                self.drifted = True
            # H' = H + s (G F L L^T + L L^T F G) + L (L^T F L) L^T = H + s (T L^T + L T^T)
            self.H.move(T, L, sign=s)
        self.n_moves += 1
        return [T]


# Every this many moves, a kept G F G is checked against the design's direct product.
_CHECK_EVERY = 8


def _gfg_tolerance(dtype):
    """Largest relative gap between ``H``'s ``T`` and the direct one that passes."""
    return 1e-7 if dtype == torch.float64 else 1e-2


def _relative_gap(A, B):
    """``max |A - B| / max |B|`` (0 when both vanish)."""
    scale = B.abs().max()
    gap = (A - B).abs().max()
    return 0.0 if scale == 0 and gap == 0 else (gap / scale).item()
