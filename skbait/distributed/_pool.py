"""This rank's shard, checked, and the layout of the whole pool, agreed on by every rank."""

import numpy as np
import torch

from skbait.base import as_labeled_mask
from skbait.distributed._comm import raise_everywhere
from skbait.utils._torch import resolve_device, resolve_dtype
from skbait.utils._validation import (
    check_batch_size,
    check_embeddings,
    check_probas,
)


class ShardedPool:
    """This rank's validated shard and the layout of the whole pool.

    Checks the shard locally, then shares one record per rank: row count,
    embedding width, classes, labeled count and the call's parameters. Every
    rank checks the same records, so every rank raises the same error.
    ``device`` and ``dtype`` are resolved in the same check: a device one rank
    cannot use fails on every rank, not only on that one.
    """

    def __init__(
        self,
        comm,
        embeddings,
        probas,
        labeled,
        batch_size,
        *,
        params,
        device=None,
        dtype=None,
        probas_arg=True,
        needs_probas=False,
        extra_check=None,
    ):
        self.comm = comm
        error = meta = None
        try:
            self.device = resolve_device(device)  # per rank: each may have its own GPU
            self.dtype = resolve_dtype(dtype)
            params = dict(params, dtype=str(self.dtype))
            self.Z = _shard_embeddings(embeddings)
            n = self.Z.shape[0]
            self.P = None
            if probas_arg:
                if probas is None and needs_probas:
                    raise TypeError(
                        "This selection needs class probabilities; `probas` is None. For "
                        "regression use bait_select or coreset_select."
                    )
                self.P = _shard_probas(probas, n)
            self.mask = as_labeled_mask(labeled, n)
            self.batch_size = check_batch_size(batch_size)
            if extra_check is not None:
                params = dict(params, **extra_check())
            meta = {
                "n": n,
                "d": self.Z.shape[1] if n else None,
                "probas": self.P is not None,
                "k": self.P.shape[1] if self.P is not None and n else None,
                "n_labeled": int(self.mask.sum()),
                "batch_size": self.batch_size,
                "params": params,
            }
        except Exception as exc:  # shared below, so that no rank hangs
            error = exc
        metas = raise_everywhere(comm, error, meta)
        self._check_agreement(metas)
        counts = np.array([m["n"] for m in metas], dtype=np.int64)
        labeled_counts = np.array([m["n_labeled"] for m in metas], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.n = int(self.offsets[-1])
        self.labeled_counts = labeled_counts
        self.n_labeled = int(labeled_counts.sum())
        self.n_unlabeled = self.n - self.n_labeled
        self.d = next(m["d"] for m in metas if m["d"] is not None)
        ks = [m["k"] for m in metas if m["k"] is not None]
        self.k = ks[0] if ks else None
        # Shapes fixed by the other ranks, for an empty shard.
        self.Z = self.Z.reshape(self.Z.shape[0], self.d)
        if self.P is not None:
            self.P = self.P.reshape(self.P.shape[0], self.k)
        self.offset = int(self.offsets[comm.rank])
        self.unlabeled = np.flatnonzero(~self.mask)
        self.labeled = np.flatnonzero(self.mask)

    def _check_agreement(self, metas):
        def disagree(what, values):
            shown = ", ".join(f"rank {r} has {v!r}" for r, v in values)
            raise ValueError(
                f"The shards disagree on {what}: {shown}. Every rank must pass the same "
                "kind of arrays and the same parameters."
            )

        if all(m["n"] == 0 for m in metas):
            raise ValueError("Every shard is empty: the pool has no rows.")
        widths = [(r, m["d"]) for r, m in enumerate(metas) if m["d"] is not None]
        if len({d for _, d in widths}) > 1:
            disagree("the embedding width d (embeddings.shape[1])", widths)
        has_probas = [(r, m["probas"]) for r, m in enumerate(metas)]
        if len({p for _, p in has_probas}) > 1:
            disagree("whether probabilities are given (None on some ranks)", has_probas)
        classes = [(r, m["k"]) for r, m in enumerate(metas) if m["k"] is not None]
        if len({k for _, k in classes}) > 1:
            disagree("the number of classes k (probas.shape[1])", classes)
        sizes = [(r, m["batch_size"]) for r, m in enumerate(metas)]
        if len({b for _, b in sizes}) > 1:
            disagree("batch_size", sizes)
        for name in metas[0]["params"]:
            values = [(r, m["params"][name]) for r, m in enumerate(metas)]
            if len({repr(v) for _, v in values}) > 1:
                disagree(f"`{name}`", values)
        n_unlabeled = sum(m["n"] - m["n_labeled"] for m in metas)
        if n_unlabeled == 0:
            raise ValueError("Every row of the pool is labeled: there is nothing left to select.")
        batch_size = metas[0]["batch_size"]
        if batch_size > n_unlabeled:
            raise ValueError(
                f"batch_size={batch_size} is larger than the number of unlabeled rows on all "
                f"ranks together ({n_unlabeled}). Ask for at most {n_unlabeled}."
            )

    def pool_index(self, local_rows):
        """Pool indices of this shard's rows."""
        return self.offset + np.asarray(local_rows, dtype=np.int64)


def _shard_embeddings(embeddings):
    """Like ``check_embeddings``, but a shard may have no rows."""
    if isinstance(embeddings, torch.Tensor):
        embeddings = embeddings.detach().cpu().numpy()
    Z = np.asarray(embeddings)
    if Z.ndim in (1, 2) and Z.shape[0] == 0:
        # An empty shard: its width, if any, comes from the other ranks.
        return np.empty((0, Z.shape[1] if Z.ndim == 2 else 0), dtype=np.float64)
    return check_embeddings(Z)


def _shard_probas(probas, n):
    if probas is None:
        return None
    if n == 0:
        P = np.asarray(probas.detach().cpu() if isinstance(probas, torch.Tensor) else probas)
        if P.shape[0] != 0:
            raise ValueError(f"`probas` must have one row per embedding row (0), got {P.shape}.")
        return np.empty((0, P.shape[1] if P.ndim == 2 else 0), dtype=np.float64)
    return check_probas(probas, n)


def owner_of(pool, index):
    """The rank holding pool row ``index``, and the row's position in that shard."""
    rank = int(np.searchsorted(pool.offsets, index, side="right") - 1)
    return rank, int(index - pool.offsets[rank])


def selection_result(chosen, utilities, return_utilities):
    chosen = np.asarray(chosen, dtype=np.int64)
    return (chosen, np.asarray(utilities, dtype=np.float64)) if return_utilities else chosen
