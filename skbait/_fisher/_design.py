"""The design ``M`` of a greedy, its inverse and their rank-``r`` updates.

``M = M0 + sum of V_x V_x^T`` over the rows the design has added, with
``V_x = S_x (x) z_x``. The design keeps ``G = M^-1`` in the working dtype and
``M0`` in float64, plus the factors ``(z_x, S_x)`` of its own rows, so that an
exact rebuild of ``M`` and every update need nothing from the pool: a
distributed greedy broadcasts the winning row's factors and every process
applies the same :meth:`Design.add` / :meth:`Design.remove`.
"""

import typing
import warnings

import torch

from skbait._fisher._kron import kron_gram
from skbait._fisher._lazy import LazySymmetric
from skbait._fisher._linalg import _eye, _inverse_from_cholesky
from skbait.utils._threads import dense_threads, limited_threads
from skbait.utils._warnings import caller_stacklevel

__all__ = ["Design", "IllConditionedError", "LowRank", "warn_if_unresolved"]


class IllConditionedError(ValueError, FloatingPointError):
    """The design is singular in the working precision: a bad ``reg`` or embedding scale.

    A :class:`ValueError` for callers (the input needs changing), and a
    :class:`FloatingPointError` for what it is.

    Examples
    --------
    >>> from skbait._fisher import IllConditionedError
    >>> issubclass(IllConditionedError, ValueError)
    True
    """


def drift_probes(D):
    """The drift check's two fixed sign vectors, ``(D, 2)`` float64 on the CPU (seeded)."""
    # device="cpu": the CPU generator cannot draw on a default device set by the
    # caller (torch.set_default_device("cuda")), and the signs must not depend on it.
    generator = torch.Generator(device="cpu").manual_seed(0)
    signs = torch.randint(0, 2, (D, 2), generator=generator, device="cpu")
    return (2.0 * signs - 1.0).to(torch.float64)


def drift_tolerance(dtype):
    """The starting tolerance of ``max |G M u - u|`` in the working dtype."""
    return 1e-7 if dtype == torch.float64 else 1e-2


#: The relative rounding error of the gains (the starting design's condition
#: number times the working dtype's eps) above which the greedy warns. Measured
#: on BAIT with ill-conditioned embeddings: float32's picks first differ from
#: float64's at about 1e-3, and most of them at 1e-2.
UNRESOLVED_GAINS = 1e-3


def warn_if_unresolved(M, G, dtype):
    """Warn when the working dtype cannot resolve the gains of a design ``M`` (float64).

    ``G`` is ``M^-1`` in float64; the condition number in the infinity norm,
    ``||M|| ||G||``, costs two passes over the matrices. float64 resolves any
    design that is positive definite in it; float32 rounds the gains by about
    the condition number times ``6e-8``, and past :data:`UNRESOLVED_GAINS` its
    picks silently differ from float64's.
    """
    if dtype != torch.float32:
        return
    cond = M.abs().sum(dim=1).max().item() * G.abs().sum(dim=1).max().item()
    rounding = cond * torch.finfo(dtype).eps
    if rounding > UNRESOLVED_GAINS:
        warnings.warn(
            f"dtype=float32 cannot resolve the greedy's gains here: the starting design's "
            f"condition number is about {cond:.1e}, so its rounding errors (about "
            f"{rounding:.0e} of each gain) can exceed the differences that choose between "
            "rows, and the picks may differ from float64's. Use dtype='float64' (the "
            "default), or a larger `reg`.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


class LowRank(typing.NamedTuple):
    """The rank-``c`` move of ``G = M^-1`` made by one :meth:`Design.add` or :meth:`Design.remove`.

    ``G_new = G_old + sign * L L^T`` with ``L = G_old V C^-T``: ``V = S (x) z``
    the row's columns (``S`` at the row's rank ``c``) and ``C`` the Cholesky
    factor of ``I -/+ V^T G_old V``. Whoever keeps a product with ``G`` (the
    trace objective's ``G F G``) moves it from these. When the update was
    asked for extra ``columns`` (a ``(k d) x c`` matrix ``X`` built from
    ``L``), ``X`` and ``GX = G_old X`` come with it, from the same product as
    the drift check.
    """

    L: torch.Tensor
    sign: int
    z: torch.Tensor | None = None
    S: torch.Tensor | None = None
    C: torch.Tensor | None = None
    X: torch.Tensor | None = None
    GX: torch.Tensor | None = None


# _full_rank skips the singular vectors when the smallest singular value is this
# many times above its threshold: far beyond any difference between the values
# of svdvals and svd (a few eps of the largest).
_FULL_RANK_GUARD = 16


def _full_rank(S):
    """``S W``, ``W`` an orthonormal basis of ``S``'s row space: ``S S^T`` with fewer columns.

    A BAIT row's factor has rank ``k - 1`` (``S sqrt(p) = 0``), a binary
    row's rank one: a move of that rank makes every product of the step
    (the pool's, the design's) narrower by the null columns. Only singular
    values below ``r eps`` of the largest are dropped (taken in float64), so
    ``S S^T`` moves by less than ``(r eps)^2`` of its norm. The ``k x r``
    SVD runs on the CPU whatever the device: one small LAPACK call, where a
    GPU would launch a solver and wait for it, and every device gets the
    same basis.
    """
    r = S.shape[1]
    if r == 1:
        return S
    S64 = S.to("cpu", torch.float64)
    threshold = r * torch.finfo(S.dtype).eps
    sigma = torch.linalg.svdvals(S64).tolist()
    if sigma[-1] > sigma[0] * (_FULL_RANK_GUARD * threshold):
        # Far above the threshold (the usual row): every column stays, without
        # the singular vectors; near it, the full SVD decides as always.
        return S
    _, sigma, Vh = torch.linalg.svd(S64, full_matrices=False)
    keep = sigma > sigma[0] * threshold
    keep[0] = True  # a row without information still makes a (zero) move
    if bool(keep.all()):
        return S
    return S @ Vh[keep].T.to(S.device, S.dtype)


class Design:
    """``M = M0 + sum_x V_x V_x^T`` over the rows added, and ``G = M^-1``.

    Parameters
    ----------
    M0 : torch.Tensor of shape (k d, k d)
        The starting design (regulariser plus labeled information), positive
        definite; kept in float64 (a tiny ``reg`` added to O(1) entries
        vanishes in float32).
    dtype : torch.dtype
        The working dtype of ``G`` and of the updates.
    on_refresh : callable, default=None
        Called as ``on_refresh(G)`` whenever ``G`` is refactorised from the
        exact ``M`` (:meth:`refresh`), so that whoever keeps quantities
        derived from ``G`` (the tracked rows) recomputes them.

    Attributes
    ----------
    G : torch.Tensor of shape (k d, k d)
        ``M^-1`` in the working dtype.
    n_refresh : int
        How many times ``G`` was rebuilt from the exact ``M``.

    Notes
    -----
    On a large design (``G`` beyond a few MB, ``D = k d`` from about 1,500)
    the moves ``s L L^T`` are kept pending, up to ``max_pending`` columns
    (:class:`~skbait._fisher._lazy.LazySymmetric`): a step reads ``G`` once,
    for ``G V``, and the pending moves are applied as one product at BLAS
    speed. Reading :attr:`G` applies them first.

    Numerical guards: ``G`` is symmetrised every 16 updates and checked after
    every update by ``|G M u - u|`` on two fixed sign vectors ``u`` (``M u``
    is kept exactly, in float64, by rank-``r`` corrections: far cheaper than
    keeping the whole of ``M``). ``G M u`` is taken afresh from ``G``
    whenever the pending moves are applied, and in between moved with them,
    ``G' M' u = G M u +/- (G V)(V^T u) + s L (L^T M' u)``, from the ``G V``
    that the step computes anyway. When that residual drifts past a tolerance,
    or the ``r x r`` system of an update is not positive definite in the
    working dtype, ``M`` is rebuilt exactly from ``M0`` and the design's own
    factors and ``G`` refactorised by Cholesky (:meth:`refresh`). The
    tolerance then rises to 100 times the fresh residual if that is higher:
    the problem's own conditioning sets the floor.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import Design
    >>> design = Design(torch.eye(2, dtype=torch.float64), torch.float64)
    >>> term = design.add(torch.tensor([1.0, 1.0], dtype=torch.float64),
    ...                   torch.ones(1, 1, dtype=torch.float64))
    >>> torch.allclose(design.G, torch.linalg.inv(torch.tensor([[2.0, 1.0], [1.0, 2.0]],
    ...                                                         dtype=torch.float64)))
    True
    >>> term.sign, len(design)
    (-1, 1)
    """

    def __init__(self, M0, dtype, *, on_refresh=None, max_pending=None):
        self.M0 = M0.to(torch.float64)
        self.dtype, self.device = dtype, M0.device
        self.D = M0.shape[0]
        self.on_refresh = on_refresh
        self.max_pending = max_pending
        self._G = None  # LazySymmetric: G and its pending moves
        self._G_probe = None  # G M u in the working dtype
        self.drift_tol = drift_tolerance(dtype)
        self.n_updates = 0
        self.n_refresh = 0
        self._z = []  # the design's own rows, in the order they were added
        self._S = []
        # Fixed sign vectors u and M u (float64, exact up to rounding) for the
        # drift check.
        self._probe = drift_probes(self.D).to(self.device)
        self._probe_working = self._probe.to(dtype)
        self._factorize(self.M0)

    def __len__(self):
        return len(self._z)

    @property
    def G(self):
        """``M^-1`` in the working dtype, ``(k d, k d)`` (pending moves applied first)."""
        return self._G.value

    @G.setter
    def G(self, value):
        # A new G (factorised, or replaced): no pending moves, and G M u taken afresh.
        self._G = LazySymmetric(value, self.max_pending)
        self._G_probe = self._G.times(self._M_probe.to(self.dtype))

    @property
    def n_pending(self):
        """Columns of ``G``'s moves not yet applied."""
        return self._G.n_pending

    @property
    def Z(self):
        """Embeddings of the design's rows, ``(len(self), d)``, in the order added."""
        return torch.stack(self._z)

    @property
    def S(self):
        """Factors of the design's rows, ``(len(self), k, r)``."""
        return torch.stack(self._S)

    # ------------------------------------------------------------ exact state
    def _factorize(self, M):
        """``G = M^-1`` by Cholesky, and the probes' ``M u``."""
        with limited_threads(dense_threads(self.D)):
            C, info = torch.linalg.cholesky_ex(M)
            if info.item() != 0:
                raise IllConditionedError(
                    "The information matrix is not positive definite even in float64: the "
                    "embeddings' scale makes `reg` negligible. Increase `reg`, or rescale the "
                    "embeddings (a StandardScaler in front of the model, say)."
                )
            self._M_probe = M @ self._probe
            G = _inverse_from_cholesky(C)
            if self._G is None:  # the starting design
                warn_if_unresolved(M, G, self.dtype)
            self.G = G.to(self.dtype)

    def exact_M(self):
        """``M`` rebuilt in float64 from ``M0`` and the design's own factors."""
        M = self.M0.clone()
        if self._z:
            M += kron_gram(self.Z.double(), self.S.double())
        return M

    def inverse_float64(self):
        """``M^-1`` in float64 from the exact ``M``, or ``None`` if ``M`` is singular there."""
        M = self.exact_M()
        with limited_threads(dense_threads(self.D)):
            C, info = torch.linalg.cholesky_ex(M)
            if info.item() != 0:
                return None
            return _inverse_from_cholesky(C)

    def refresh(self):
        """Rebuild ``M`` exactly, refactorise ``G``, and tell ``on_refresh``."""
        self.n_refresh += 1
        self._factorize(self.exact_M())
        if self.on_refresh is not None:
            self.on_refresh(self.G)
        resid = self._residual()
        if resid > self.drift_tol / 100:
            # The problem's own conditioning sets the floor: do not refresh every step.
            self.drift_tol = 100 * resid

    def _residual(self, G_probe=None):
        """``max |G M u - u|`` over the probes."""
        if G_probe is None:
            G_probe = self.G @ self._M_probe.to(self.dtype)
        return (G_probe - self._probe_working).abs().max().item()

    # ---------------------------------------------------------------- updates
    def add(self, z, S, *, columns=None):
        """Add the row with embedding ``z`` (``d``) and factor ``S`` (``k x r``).

        Parameters
        ----------
        z : torch.Tensor of shape (d,)
        S : torch.Tensor of shape (k, r)
            Already scaled by the row's weight.
        columns : callable, default=None
            ``columns(L)`` returns a ``(k d) x c`` matrix ``X`` whose product
            with the old ``G`` the caller needs (the trace objective's
            ``F L``), or ``None``; it shares one product with the drift
            check, which then reads ``G`` afresh.

        Returns
        -------
        term : LowRank or None
            The move of ``G``. ``None`` when ``G`` was instead rebuilt from
            the exact ``M`` (``on_refresh`` has been called): quantities
            derived from ``G`` are already fresh, with nothing to update.
        """
        return self._update(z, S, +1, columns, None)

    def remove(self, j, *, columns=None):
        """Remove the design's ``j``-th row (in the order added); as :meth:`add`."""
        return self._update(self._z[j], self._S[j], -1, columns, j)

    def _low_rank(self, z, S, sign):
        """For adding (+1) or removing (-1) a row: ``L``, ``V``, ``G V`` and ``C``.

        ``G' = G - sign L L^T``; ``L`` and ``C`` are ``None`` when the row's
        ``r x r`` system is not positive definite in the working dtype.
        """
        GV, V = self._G.times_kron(z, S)
        eye = _eye(S.shape[1], self.dtype, self.device)
        VGV = V.T @ GV
        A = eye + VGV if sign > 0 else eye - VGV
        A = 0.5 * (A + A.T)
        C, info = torch.linalg.cholesky_ex(A)
        if info.item() != 0:
            return None, V, GV, None
        L = torch.linalg.solve_triangular(C, GV.T, upper=False).T  # G V C^-T
        return L, V, GV, C

    def _record(self, z, S, j):
        if j is None:
            self._z.append(z)
            self._S.append(S)
        else:
            del self._z[j], self._S[j]

    def _update(self, z, S, sign, columns, j):
        S_move = _full_rank(S)
        L, V, GV, C = self._low_rank(z, S_move, sign)
        if L is None:
            self.refresh()
            L, V, GV, C = self._low_rank(z, S_move, sign)
        V64 = V.double()
        Vu = V64.T @ self._probe
        M_probe = self._M_probe + sign * (V64 @ Vu)
        if L is None:
            # Still not positive definite in the working dtype (float32 with a
            # tiny `reg`): refactorize the float64 design with the row.
            self._record(z, S, j)
            self.refresh()
            return None
        s = -sign  # G' = G + s L L^T
        Mu = M_probe.to(self.dtype)
        X = None if columns is None else columns(L)
        GX = None
        if X is None:
            # The new G times the new M u, moved from the old product with the step's G V.
            G_probe = self._G_probe + sign * (GV @ Vu.to(self.dtype))
        else:
            # One product with the old G for G X and the drift check.
            both = self._G.times(torch.cat([X, Mu], dim=1))
            GX, G_probe = both[:, : X.shape[1]], both[:, X.shape[1] :]
        G_probe = G_probe + s * (L @ (L.T @ Mu))
        if self._G.move(L, sign=s) and X is None:
            G_probe = self._G.times(Mu)  # G was just rewritten: measure it afresh
        self.n_updates += 1
        self._M_probe, self._G_probe = M_probe, G_probe
        self._record(z, S, j)
        if self._residual(G_probe) > self.drift_tol:
            self.refresh()
            return None
        return LowRank(L, s, z, S_move, C, X, GX)
