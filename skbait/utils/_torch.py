"""Torch device, dtype and generator selection, shared by every strategy."""

import contextlib

import numpy as np
import torch

from skbait.utils._pipeline import final_step
from skbait.utils._seeds import draw_seed

__all__ = ["global_draws_kept", "resolve_device", "resolve_dtype", "torch_generator"]


def _estimator_device(estimator):
    """The torch device a fitted model computes on (skorch's ``device``), or None."""
    if estimator is None:
        return None
    final = final_step(estimator)
    device = getattr(final, "device", None)
    if isinstance(device, (str, torch.device)) and not str(device).startswith("auto"):
        return device
    return None


def resolve_device(device=None, estimator=None):
    """Turn a device setting into a :class:`torch.device`.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"}, torch.device or None, default=None
        ``None`` and ``"auto"`` pick the device the estimator computes on when
        it has one (a skorch network's ``device``), else CUDA when it is
        available, else the CPU.
    estimator : estimator instance, default=None
        The model whose device ``"auto"`` follows.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        When ``device`` names no device, or names CUDA where it is not
        available.

    Examples
    --------
    >>> from skbait.utils import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        device = _estimator_device(estimator)
        if device is None:
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"Unknown device {device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={str(device)!r} was asked for but CUDA is not available here. "
            "Use device='auto' to fall back to the CPU."
        )
    return device


def resolve_dtype(dtype=None):
    """Turn a dtype setting into a floating :class:`torch.dtype` (float64 by default).

    Parameters
    ----------
    dtype : {"float32", "float64"}, numpy dtype, torch.dtype or None, default=None
        ``None`` is float64.

    Returns
    -------
    torch.dtype

    Raises
    ------
    ValueError
        When ``dtype`` names no float32 or float64 type.

    Examples
    --------
    >>> from skbait.utils import resolve_dtype
    >>> resolve_dtype(None), resolve_dtype("float32")
    (torch.float64, torch.float32)
    """
    if dtype is None:
        return torch.float64
    if isinstance(dtype, torch.dtype):
        resolved = dtype
    else:
        try:
            resolved = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[
                np.dtype(dtype)
            ]
        except (TypeError, KeyError):
            resolved = None
    if resolved not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}.")
    return resolved


def torch_generator(random_state, device="cpu"):
    """A :class:`torch.Generator` seeded from ``random_state`` (never the global seed).

    Parameters
    ----------
    random_state : int, RandomState instance or None
    device : str or torch.device, default="cpu"

    Returns
    -------
    torch.Generator

    Examples
    --------
    >>> import torch
    >>> from skbait.utils import torch_generator
    >>> a = torch.rand(2, generator=torch_generator(0))
    >>> b = torch.rand(2, generator=torch_generator(0))
    >>> bool(torch.equal(a, b))
    True
    """
    seed = draw_seed(random_state)
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


@contextlib.contextmanager
def global_draws_kept():
    """Leave torch's global generators as they were, whatever the block draws from them.

    A strategy's own draws come from :func:`torch_generator`; but the model it
    reads may draw from the global ones (a skorch net's prediction loader takes
    a seed from torch's CPU generator on every pass), which would move the
    caller's torch draws after the query. The CPU generator is forked, and
    those of the CUDA devices once CUDA has started (before, nothing can have
    drawn from them, and starting it here would cost seconds).

    Examples
    --------
    >>> import torch
    >>> from skbait.utils._torch import global_draws_kept
    >>> before = torch.get_rng_state()
    >>> with global_draws_kept():
    ...     _ = torch.rand(3)
    >>> bool(torch.equal(before, torch.get_rng_state()))
    True
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        yield
