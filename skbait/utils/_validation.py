"""Checks of the arrays and scalars that the low-level selection functions take."""

import math
from numbers import Integral, Real

import numpy as np
import torch

__all__ = [
    "as_labeled_mask",
    "check_batch_size",
    "check_chunk_size",
    "check_embeddings",
    "check_option",
    "check_probas",
    "check_real",
]


def check_embeddings(embeddings):
    """A finite, numeric, 2-d (n_samples, n_dims) array of embeddings for the whole pool."""
    if isinstance(embeddings, torch.Tensor):
        embeddings = embeddings.detach().cpu().numpy()
    if hasattr(embeddings, "tocsr"):
        raise TypeError(
            "`embeddings` is a scipy sparse matrix (a TF-IDF pipeline's last-step input, say), "
            "but this selection needs a dense array. Add a TruncatedSVD step before the model, "
            "pass embedding=... returning dense rows, or use a strategy that takes sparse "
            "embeddings."
        )
    Z = np.asarray(embeddings)
    if Z.dtype == object or not (
        np.issubdtype(Z.dtype, np.number) or np.issubdtype(Z.dtype, np.bool_)
    ):
        raise TypeError(f"`embeddings` must be a numeric array, got dtype {Z.dtype}.")
    if Z.ndim != 2:
        raise ValueError(
            f"`embeddings` must be 2-d (n_samples, n_dims) for the whole pool, got shape "
            f"{Z.shape}. Reshape a single feature with X.reshape(-1, 1)."
        )
    if Z.shape[0] == 0 or Z.shape[1] == 0:
        raise ValueError(f"`embeddings` is empty: shape {Z.shape}.")
    if not np.isfinite(Z).all():
        raise ValueError("`embeddings` holds NaN or inf.")
    if not Z.flags.writeable:
        # A read-only pool (pandas' copy-on-write frames, a frozen array): torch takes
        # no tensor of it without a warning that writing to it is undefined behaviour.
        Z = Z.copy()
    return Z


def check_probas(probas, n_samples):
    """Class probabilities (n_samples, n_classes), rows renormalised; None passes through."""
    if probas is None:
        return None
    if isinstance(probas, torch.Tensor):
        probas = probas.detach().cpu().numpy()
    P = np.asarray(probas)
    if P.dtype == object or not np.issubdtype(P.dtype, np.number):
        raise TypeError(f"`probas` must be a numeric array or None, got dtype {P.dtype}.")
    P = P.astype(np.float64)
    if P.ndim != 2 or P.shape[0] != n_samples or P.shape[1] < 1:
        raise ValueError(
            f"`probas` must have shape (n_samples={n_samples}, n_classes), got {P.shape}; "
            "pass None for regression."
        )
    if not np.isfinite(P).all() or (P < -1e-6).any():
        raise ValueError("`probas` holds NaN, inf or negative values.")
    P = np.clip(P, 0.0, None)
    total = P.sum(axis=1, keepdims=True)
    if P.shape[1] == 1 and (np.abs(total - 1.0) > 1e-3).any():
        # A binary model's one sigmoid output, as some networks and libraries give it.
        raise ValueError(
            "Each row of `probas` must sum to one (a probability per class), but it has "
            "one column that is not all ones. If it holds a binary model's probability p "
            "of the positive class, pass np.column_stack([1 - p, p])."
        )
    if (np.abs(total - 1.0) > 1e-3).any():
        raise ValueError(
            "Each row of `probas` must sum to one (class probabilities); row "
            f"{int(np.argmax(np.abs(total[:, 0] - 1.0)))} sums to "
            f"{total[np.argmax(np.abs(total[:, 0] - 1.0)), 0]:.6g}."
        )
    return P / total


def check_batch_size(batch_size):
    """A positive integer batch size."""
    if not isinstance(batch_size, Integral) or isinstance(batch_size, bool):
        raise TypeError(f"`batch_size` must be an integer, got {batch_size!r}.")
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be at least 1, got {batch_size}.")
    return int(batch_size)


def check_real(name, value, low, *, strict):
    """A finite real number above ``low`` (``strict``) or at least ``low``."""
    if not isinstance(value, Real) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a real number, got {value!r}.")
    value = float(value)
    bad = value <= low if strict else value < low
    if not math.isfinite(value) or bad:
        relation = ">" if strict else ">="
        raise ValueError(f"`{name}` must be finite and {relation} {low}, got {value!r}.")
    return value


def check_chunk_size(chunk_size):
    """None, or a positive integer number of rows per chunk."""
    if chunk_size is None:
        return None
    if not isinstance(chunk_size, Integral) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ValueError(f"`chunk_size` must be None or a positive integer, got {chunk_size!r}.")
    return int(chunk_size)


def check_option(name, value, options):
    """One of ``options``."""
    if value not in options:
        raise ValueError(f"`{name}` must be one of {sorted(options)}, got {value!r}.")
    return value


def as_labeled_mask(labeled, n_samples):
    """Turn indices or a boolean mask of labeled rows into a boolean mask.

    Parameters
    ----------
    labeled : array-like of int or bool, or None
        Indices of the labeled rows, or a boolean mask of length ``n_samples``.
        ``None`` means that no row is labeled.
    n_samples : int
        Number of rows in the pool.

    Returns
    -------
    mask : ndarray of shape (n_samples,), dtype=bool
        A fresh array; the caller may modify it.
    """
    if labeled is None:
        return np.zeros(n_samples, dtype=bool)
    labeled = np.asarray(labeled)
    if labeled.dtype == bool:
        if labeled.shape != (n_samples,):
            raise ValueError(
                f"A boolean `labeled` mask must have one entry per pool row ({n_samples}), "
                f"got shape {labeled.shape}."
            )
        return labeled.copy()
    if labeled.size == 0:
        return np.zeros(n_samples, dtype=bool)
    if labeled.ndim != 1 or not np.issubdtype(labeled.dtype, np.integer):
        raise TypeError(
            "`labeled` must be a 1-d array of integer row indices or a boolean mask, "
            f"got dtype {labeled.dtype} with shape {labeled.shape}."
        )
    if labeled.min() < 0 or labeled.max() >= n_samples:
        raise ValueError(
            f"`labeled` holds indices outside the pool: valid indices are 0..{n_samples - 1}, "
            f"got values from {labeled.min()} to {labeled.max()}."
        )
    mask = np.zeros(n_samples, dtype=bool)
    mask[labeled] = True
    return mask


def check_flag(name, value):
    """``value`` as a bool: only True or False (numpy's too).

    Every other truthy value ("yes", "False", 1.0) would silently read as True.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False, got {value!r}.")
    return bool(value)
