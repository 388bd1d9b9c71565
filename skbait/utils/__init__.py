"""Utilities: torch device and dtype selection, seeding, strategy checks."""

from skbait.utils._torch import resolve_device, resolve_dtype, torch_generator

__all__ = ["resolve_device", "resolve_dtype", "torch_generator"]
