"""CoreSet: greedy k-center on the embeddings (Sener & Savarese, ICLR 2018)."""

import math
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from skbait.base import QueryStrategy, as_labeled_mask
from skbait.embeddings import embed
from skbait.utils._scale import largest_magnitude, scale_exponent, times_power_of_two
from skbait.utils._sparse import check_pool_embeddings, row_norms_squared, rows_dot
from skbait.utils._threads import limited_threads, single_thread_when_busy, threads_for_flops
from skbait.utils._torch import resolve_device, resolve_dtype
from skbait.utils._validation import check_batch_size, check_chunk_size, check_flag

__all__ = ["CoreSet", "coreset_select"]

# Rows per side of a distance block: 1024 x 1024 entries, 8 MiB in float64.
_DEFAULT_CHUNK = 1024


def _block_min(cand_T, ref, norm_ref):
    """For each candidate column of ``cand_T``: min over ``ref`` rows of ||b||^2 - 2<a, b>.

    One fused GEMM per block (``addmm``); ``||a||^2`` is constant along the
    min, so it is added afterwards on a vector instead of on the block.
    Returns the minima and the positions of the minimising ``ref`` rows.
    """
    block = torch.addmm(norm_ref[None, :], cand_T.T, ref.T, alpha=-2.0)
    return block.min(dim=1)


def _to_point(cand_T, norm_cand, point, norm_point, snap):
    """Squared distances of every candidate to one point, in O(n d)."""
    dist = norm_cand + norm_point - 2.0 * (point @ cand_T)
    # Within rounding of zero (relative to the norms) means a duplicate: exactly 0.
    return torch.where(dist <= snap * (norm_cand + norm_point), 0.0, dist)


@single_thread_when_busy
def coreset_select(
    embeddings,
    labeled,
    batch_size,
    *,
    device=None,
    dtype=None,
    chunk_size=None,
    return_utilities=False,
):
    """Greedy k-center: add, one at a time, the row farthest from the chosen set.

    The chosen set starts with the labeled rows. Each step adds the unlabeled
    row whose distance to its nearest labeled or already chosen row is largest
    (ties: lowest index), then updates every row's nearest distance against
    the new row only. The distances to the labeled rows are computed in
    ``chunk_size x chunk_size`` blocks, so no ``n x n`` matrix is ever held:
    memory is ``O(n d + chunk_size^2)``, time ``O(n_unlabeled (n_labeled + B) d)``.

    With no labeled row, the first row is the one nearest to the pool mean
    (ties: lowest index): a central row rather than an outlier, so that the
    first label describes the bulk of the pool; the farthest-first steps then
    reach the outskirts. The selection is deterministic; it draws no random
    number.

    In float64 (the default) on dense embeddings, the sweeps over the pool
    run in float32, which halves the memory traffic that bounds them, and
    every pick is then confirmed in float64: each float32 distance is within
    a proven rounding bound of the float64 one, so only the rows whose
    bounds reach the best row's can be the float64 winner, and their nearest
    distances are recomputed exactly. The selection and the utilities are
    those of the float64 computation.

    Parameters
    ----------
    embeddings : array-like or sparse matrix of shape (n_samples, n_dims)
        Embeddings of the whole pool, labeled rows included. A scipy sparse
        matrix (a TF-IDF pipeline's last-step input) is never densified: its
        products are taken by scipy on the CPU, in the requested dtype.
    labeled : array-like of int or bool, or None
        Indices of the labeled rows, or a boolean mask over the pool.
    batch_size : int
        Number of rows to return; capped at the number of unlabeled rows.
    device : str, torch.device or None, default=None
        Where to compute; ``None`` and ``"auto"`` mean CUDA when available.
    dtype : {None, "float32", "float64"}, default=None
        Floating type of the computation; ``None`` means float64.
    chunk_size : int, default=None
        Rows per side of a distance block; ``None`` means 1024.
    return_utilities : bool, default=False
        Also return each chosen row's Euclidean distance to its nearest
        labeled or previously chosen row when it was chosen (``inf`` for the
        first row when nothing is labeled).

    Returns
    -------
    indices : ndarray of shape (n_chosen,), dtype=int64
        Distinct pool indices of unlabeled rows, in the order they were chosen.
    utilities : ndarray of shape (n_chosen,), dtype=float64
        Only with ``return_utilities=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import coreset_select
    >>> Z = np.array([[0.0], [1.0], [2.0], [5.0], [9.0], [10.0]])
    >>> coreset_select(Z, labeled=[0], batch_size=3)
    array([5, 3, 2])
    """
    return_utilities = check_flag("return_utilities", return_utilities)
    Z = check_pool_embeddings(embeddings)
    mask = as_labeled_mask(labeled, Z.shape[0])
    unlabeled = np.flatnonzero(~mask)
    labeled_idx = np.flatnonzero(mask)
    batch_size = min(check_batch_size(batch_size), unlabeled.size)
    chunk = check_chunk_size(chunk_size) or _DEFAULT_CHUNK
    device = resolve_device(device)
    dtype = resolve_dtype(dtype)
    # Exact, and needed only where the squared distances would overflow or vanish.
    shift = scale_exponent(largest_magnitude(Z), dtype)
    Z = times_power_of_two(Z, -shift)

    if batch_size == 0:
        chosen, utilities = np.empty(0, dtype=np.int64), np.empty(0)
    elif sp.issparse(Z):
        rows = _SparseRows(Z, unlabeled, labeled_idx, dtype, device)
        chosen, utilities = _greedy(rows, batch_size, chunk)
    elif dtype == torch.float64 and _SCREEN_IN_FLOAT32:
        rows = _ScreenedRows(Z, unlabeled, labeled_idx, device)
        chosen, utilities = _greedy(rows, batch_size, chunk)
    else:
        rows = _DenseRows(Z, unlabeled, labeled_idx, dtype, device)
        chosen, utilities = _greedy(rows, batch_size, chunk)
    indices = unlabeled[chosen]
    with np.errstate(over="ignore"):  # a distance float64 cannot hold is infinite
        utilities = np.ldexp(utilities, shift)
    return (indices, utilities) if return_utilities else indices


# Sweep dense float64 pools in float32 and confirm each pick in float64.
_SCREEN_IN_FLOAT32 = True


def _greedy(rows, batch_size, chunk):
    """Farthest-first traversal over ``rows`` (see :func:`coreset_select`)."""
    chosen = np.empty(batch_size, dtype=np.int64)
    utilities = np.empty(batch_size, dtype=np.float64)
    if rows.has_labeled:
        with limited_threads(threads_for_flops(2.0 * chunk * chunk * rows.n_dims)):
            nearest = rows.nearest_labeled(chunk)
        first = 0
    else:
        centre = rows.most_central()
        chosen[0], utilities[0] = centre, float("inf")
        nearest = rows.to_row(centre)
        rows.add_centre(centre)
        nearest[centre] = -math.inf
        first = 1
    # Each step is a pass of O(n d) over the candidates: threads only when it is
    # long enough to be worth waking them (see skbait.utils._threads).
    with limited_threads(threads_for_flops(2.0 * rows.n_rows * rows.n_dims)):
        _farthest_first(rows, nearest, chosen, utilities, first, batch_size)
    return chosen, utilities


def _farthest_first(rows, nearest, chosen, utilities, first, batch_size):
    for step in range(first, batch_size):
        centre, squared = rows.farthest(nearest)
        chosen[step], utilities[step] = centre, squared**0.5
        if step + 1 < batch_size:
            # Chosen rows hold -inf, below every distance: never picked again.
            nearest = torch.minimum(nearest, rows.to_row(centre))
            rows.add_centre(centre)
        nearest[centre] = -math.inf


class _DenseRows:
    """Squared distances among dense candidate rows, in one working dtype."""

    def __init__(self, Z, unlabeled, labeled_idx, dtype, device):
        pool = torch.as_tensor(Z, device=device).to(dtype)
        # Distances do not change under translation; centring keeps the norms,
        # and so the cancellation in ||a||^2 + ||b||^2 - 2<a, b>, small.
        pool = pool - pool.mean(dim=0)
        self.snap = (pool.shape[1] + 2) * torch.finfo(dtype).eps
        # Candidates are kept as columns (d x n): one row against all of them is
        # then a vector-matrix product that streams memory in order, three times
        # faster on a CPU than the matrix-vector product on rows.
        self.cand_T = pool[torch.as_tensor(unlabeled, device=device)].T.contiguous()
        self.norm = (self.cand_T * self.cand_T).sum(dim=0)
        self.ref = pool[torch.as_tensor(labeled_idx, device=device)]
        self.has_labeled = labeled_idx.size > 0
        self.n_dims, self.n_rows = self.cand_T.shape

    def nearest_labeled(self, chunk):
        return _nearest_in_blocks(self.cand_T, self.norm, self.ref, chunk, self.snap)

    def most_central(self):
        # The pool is centred, so the norm is the distance to the pool mean.
        return int(torch.argmin(self.norm))

    def to_row(self, centre):
        return _to_point(
            self.cand_T, self.norm, self.cand_T[:, centre], self.norm[centre], self.snap
        )

    def add_centre(self, centre):
        pass

    def farthest(self, nearest):
        # torch.argmax returns the first maximal index: ties go to the lowest index.
        centre = int(torch.argmax(nearest))
        return centre, float(nearest[centre])


def _nearest_in_blocks(cand_T, norm_cand, ref, chunk, snap, norm_ref=None):
    """Each candidate's squared distance to its nearest ``ref`` row, in blocks."""
    if norm_ref is None:
        norm_ref = (ref * ref).sum(dim=1)
    nearest = torch.empty_like(norm_cand)
    for start in range(0, norm_cand.numel(), chunk):
        stop = start + chunk
        best = nearest_norm = None
        for lo in range(0, ref.shape[0], chunk):
            value, arg = _block_min(
                cand_T[:, start:stop], ref[lo : lo + chunk], norm_ref[lo : lo + chunk]
            )
            value_norm = norm_ref[lo : lo + chunk][arg]
            if best is None:
                best, nearest_norm = value, value_norm
            else:
                better = value < best
                best = torch.where(better, value, best)
                nearest_norm = torch.where(better, value_norm, nearest_norm)
        dist = norm_cand[start:stop] + best
        total = norm_cand[start:stop] + nearest_norm
        nearest[start:stop] = torch.where(dist <= snap * total, 0.0, dist)
    return nearest


class _ScreenedRows(_DenseRows):
    """float32 sweeps, float64 picks: the selection of the float64 computation.

    A float32 squared distance ``||a||^2 + ||b||^2 - 2<a, b>`` of float64
    rows differs from the float64 one by less than ``gamma (||a||^2 +
    ||b||^2)`` with ``gamma = (2 d + 16) eps32``: the rounding of the inputs
    to float32 (relative ``eps32`` each), of the ``d``-term inner product and
    norms (at most ``d eps32`` relative to ``||a|| ||b||``, whatever the
    summation order), and of the three additions. The minimum over centres
    moves by no more than the largest such error. So with the bound
    ``slack_x`` of row ``x``, the float64 farthest row is among those whose
    ``nearest32 + slack`` reaches the largest ``nearest32 - slack``; their
    nearest distances are recomputed in float64 against every centre.
    """

    def __init__(self, Z, unlabeled, labeled_idx, device):
        super().__init__(Z, unlabeled, labeled_idx, torch.float64, device)
        self.cand64_T, self.norm64, self.ref64 = self.cand_T, self.norm, self.ref
        self.snap64 = self.snap
        d = self.cand_T.shape[0]
        largest = float(self.norm64.max())
        if self.ref64.shape[0]:
            largest = max(largest, float((self.ref64 * self.ref64).sum(dim=1).max()))
        # float32 squares overflow from norms of about 1e19 (and vanish below 1e-19),
        # where float64 holds: the sweeps run on the rows times a power of two that
        # brings the largest squared norm near one, exactly, at any scale.
        unit = 1.0
        if 0.0 < largest < math.inf:
            unit = math.ldexp(1.0, -math.frexp(math.sqrt(largest))[1])
        self.cand_T = (self.cand64_T * unit).float()
        self.norm = (self.norm64 * unit**2).float()
        self.ref = (self.ref64 * unit).float()
        self.snap = (d + 2) * torch.finfo(torch.float32).eps
        gamma = (2 * d + 16) * torch.finfo(torch.float32).eps
        # Every centre's squared norm is at most `largest`; the float32 sweeps' units.
        self.slack = gamma * (self.norm64 + largest) * unit**2
        self.centres = []  # chosen candidate positions, in order
        self.chunk = _DEFAULT_CHUNK
        # Rows (not columns) for the float64 checks: a few rows are gathered per
        # step, and gathering columns of a d x n matrix is a strided copy.
        self.cand64 = self.cand64_T.T.contiguous()
        del self.cand64_T
        self.norm_ref64 = (self.ref64 * self.ref64).sum(dim=1)
        self.points = self.cand64[:0]  # the chosen centres' rows

    def nearest_labeled(self, chunk):
        self.chunk = chunk
        return super().nearest_labeled(chunk)

    def most_central(self):
        return int(torch.argmin(self.norm64))  # exact, once

    def add_centre(self, centre):
        self.centres.append(centre)
        self.points = torch.cat([self.points, self.cand64[centre : centre + 1]])

    def _exact_nearest(self, rows):
        """float64 nearest squared distances of candidate ``rows`` to every centre."""
        cand = self.cand64[rows]
        norm = self.norm64[rows]
        best = torch.full_like(norm, math.inf)
        if self.ref64.shape[0]:
            # Labeled rows: the blocked computation of the float64 path.
            best = _nearest_in_blocks(
                cand.T, norm, self.ref64, self.chunk, self.snap64, norm_ref=self.norm_ref64
            )
        if self.centres:
            # All chosen centres at once: one (contenders x centres) product.
            picked = torch.as_tensor(self.centres, device=cand.device)
            norm_points = self.norm64[picked]
            total = norm[:, None] + norm_points[None, :]
            dist = total - 2.0 * (cand @ self.points.T)
            dist = torch.where(dist <= self.snap64 * total, 0.0, dist)
            best = torch.minimum(best, dist.min(dim=1).values)
        return best

    def farthest(self, nearest):
        available = nearest > -math.inf
        floor = torch.where(available, nearest.double() - self.slack, -math.inf).max()
        contenders = torch.nonzero(available & (nearest.double() + self.slack >= floor))
        contenders = contenders.flatten()  # ascending positions
        exact = self._exact_nearest(contenders)
        j = int(torch.argmax(exact))  # first maximum: the lowest position on ties
        return int(contenders[j]), float(exact[j])


class _SparseRows:
    """Squared distances among sparse candidate rows (scipy products on the CPU)."""

    def __init__(self, Z, unlabeled, labeled_idx, dtype, device):
        np_dtype = np.float32 if dtype == torch.float32 else np.float64
        self.Z = Z.astype(np_dtype)
        self.cand = self.Z[unlabeled]
        self.ref = self.Z[labeled_idx]
        self.dtype, self.device = dtype, device
        self.snap = (Z.shape[1] + 2) * torch.finfo(dtype).eps
        self.norm = self._tensor(row_norms_squared(self.cand))
        self.has_labeled = labeled_idx.size > 0
        self.n_rows = self.cand.shape[0]
        self.n_dims = max(1, self.cand.nnz // max(1, self.n_rows))  # work per row

    def _tensor(self, values):
        return torch.as_tensor(np.asarray(values), device=self.device).to(self.dtype)

    def nearest_labeled(self, chunk):
        norm_ref = row_norms_squared(self.ref)
        nearest = torch.empty_like(self.norm)
        for start in range(0, self.cand.shape[0], chunk):
            block_rows = self.cand[start : start + chunk]
            norm_cand = self.norm[start : start + chunk]
            best = torch.full_like(norm_cand, math.inf)
            for lo in range(0, self.ref.shape[0], chunk):
                # One sparse product per block: a dense chunk x chunk result.
                inner = self._tensor((block_rows @ self.ref[lo : lo + chunk].T).toarray())
                norm_ref_block = self._tensor(norm_ref[lo : lo + chunk])
                dist = norm_cand[:, None] + norm_ref_block[None, :] - 2.0 * inner
                total = norm_cand[:, None] + norm_ref_block[None, :]
                dist = torch.where(dist <= self.snap * total, 0.0, dist)
                best = torch.minimum(best, dist.min(dim=1).values)
            nearest[start : start + chunk] = best
        return nearest

    def most_central(self):
        # ||z - m||^2 = ||z||^2 - 2 <z, m> + ||m||^2, with m the pool mean.
        mean = np.asarray(self.Z.mean(axis=0)).ravel()
        dist = self.norm - 2.0 * self._tensor(self.cand @ mean)
        return int(torch.argmin(dist))

    def to_row(self, centre):
        inner = self._tensor(rows_dot(self.cand, centre))
        dist = self.norm + self.norm[centre] - 2.0 * inner
        return torch.where(dist <= self.snap * (self.norm + self.norm[centre]), 0.0, dist)

    def add_centre(self, centre):
        pass

    def farthest(self, nearest):
        centre = int(torch.argmax(nearest))
        return centre, float(nearest[centre])


class CoreSet(QueryStrategy):
    """Greedy k-center on the last-layer embeddings (Sener & Savarese, ICLR 2018).

    The batch covers the embedding space: each step adds the unlabeled row
    farthest from the labeled and already chosen rows, so that every pool row
    ends close to some labeled row. It uses only the embedding, so it serves
    classifiers and regressors alike. Distances are computed in blocks, never
    as an ``n x n`` matrix (see :func:`coreset_select`).

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
        Where to compute. ``"auto"`` follows the estimator's device (a skorch
        network's), else CUDA when available, else the CPU.
    dtype : {None, "float32", "float64"}, default=None
        Floating type of the computation; ``None`` means float64.
    chunk_size : int, default=None
        Rows per side of a block of distances to the labeled rows, which
        bounds the memory at ``chunk_size ** 2`` floats; ``None`` means 1024.

    See Also
    --------
    coreset_select : The same selection on precomputed embeddings.
    BADGE : Diversity and uncertainty, on gradient embeddings.

    Notes
    -----
    The labeled rows are the initial centres and the distances are Euclidean
    on the embedding as given (not normalised), as in the paper. With no
    labeled row the first pick is the row nearest to the pool mean: a
    deliberate difference from implementations that draw that first row at
    random, so that the selection is deterministic (``random_state`` is not
    used) and the first label describes the bulk of the pool. The
    utilities returned with ``return_utilities=True`` are each chosen row's
    distance to its nearest labeled or previously chosen row.

    References
    ----------
    .. [1] O. Sener and S. Savarese, "Active Learning for Convolutional Neural
       Networks: A Core-Set Approach", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skbait.strategies import CoreSet
    >>> X = np.array([[0.0], [1.0], [2.0], [5.0], [9.0], [10.0]])
    >>> model = Ridge().fit(X[:1], [0.0])
    >>> CoreSet(device="cpu").select(model, X, labeled=[0], batch_size=2)
    array([5, 3])
    """

    _parameter_constraints: dict = {
        "device": [StrOptions({"auto"}), str, torch.device, None],
        "dtype": [StrOptions({"float32", "float64"}), np.dtype, type, torch.dtype, None],
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, *, device="auto", dtype=None, chunk_size=None):
        self.device = device
        self.dtype = dtype
        self.chunk_size = chunk_size

    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.needs_embedding = True
        tags.sparse_embedding = True
        tags.deterministic = True
        tags.multilabel = True  # the embedding alone: any target
        return tags

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        Z, _ = embed(estimator, X, proba=False, embedding=embedding)
        return coreset_select(
            Z,
            labeled,
            batch_size,
            device=resolve_device(self.device, estimator=estimator),
            dtype=self.dtype,
            chunk_size=self.chunk_size,
            return_utilities=True,
        )
