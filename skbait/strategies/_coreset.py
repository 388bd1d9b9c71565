"""CoreSet: greedy k-center on the embeddings (Sener & Savarese, ICLR 2018)."""

from numbers import Integral

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from skbait.base import QueryStrategy, as_labeled_mask
from skbait.embeddings import embed
from skbait.utils._torch import resolve_device, resolve_dtype
from skbait.utils._validation import check_batch_size, check_chunk_size, check_embeddings

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

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_dims)
        Embeddings of the whole pool, labeled rows included.
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
    Z = check_embeddings(embeddings)
    mask = as_labeled_mask(labeled, Z.shape[0])
    unlabeled = np.flatnonzero(~mask)
    labeled_idx = np.flatnonzero(mask)
    batch_size = min(check_batch_size(batch_size), unlabeled.size)
    chunk = check_chunk_size(chunk_size) or _DEFAULT_CHUNK
    device = resolve_device(device)
    dtype = resolve_dtype(dtype)

    chosen = np.empty(batch_size, dtype=np.int64)
    utilities = np.empty(batch_size, dtype=np.float64)
    if batch_size == 0:
        return (chosen, utilities) if return_utilities else chosen

    pool = torch.as_tensor(Z, device=device).to(dtype)
    # Distances do not change under translation; centring keeps the norms, and
    # so the cancellation in ||a||^2 + ||b||^2 - 2<a, b>, small.
    pool = pool - pool.mean(dim=0)
    snap = (pool.shape[1] + 2) * torch.finfo(dtype).eps
    # Candidates are kept as columns (d x n): one row against all of them is then
    # a vector-matrix product that streams memory in order, three times faster on
    # a CPU than the matrix-vector product on rows.
    cand_T = pool[torch.as_tensor(unlabeled, device=device)].T.contiguous()
    norm_cand = (cand_T * cand_T).sum(dim=0)

    if labeled_idx.size:
        ref = pool[torch.as_tensor(labeled_idx, device=device)]
        del pool
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
        first = 0
    else:
        del pool
        # The pool is centred, so the norm is the distance to the pool mean.
        centre = int(torch.argmin(norm_cand))
        chosen[0], utilities[0] = centre, float("inf")
        nearest = _to_point(cand_T, norm_cand, cand_T[:, centre], norm_cand[centre], snap)
        nearest[centre] = -1.0
        first = 1

    for step in range(first, batch_size):
        # torch.argmax returns the first maximal index: ties go to the lowest index.
        centre = int(torch.argmax(nearest))
        chosen[step], utilities[step] = centre, float(nearest[centre]) ** 0.5
        new = _to_point(cand_T, norm_cand, cand_T[:, centre], norm_cand[centre], snap)
        # Chosen rows hold -1, below every distance, so they are never picked again.
        nearest = torch.minimum(nearest, new)
        nearest[centre] = -1.0
    indices = unlabeled[chosen]
    return (indices, utilities) if return_utilities else indices


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
    With no labeled row the first pick is the row nearest to the pool mean.
    The selection is deterministic: ``random_state`` is not used. The
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
        tags.deterministic = True
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
