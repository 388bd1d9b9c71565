"""Utilities: torch device and dtype selection, seeding, strategy checks, multi-label targets."""

import importlib
from typing import TYPE_CHECKING

# Loaded on first use (PEP 562): the campaign commands import small helpers of this
# package (skbait.utils._files) and must not wait for torch to do so.
_PUBLIC = {
    "LabelSets": "skbait.utils._multilabel",
    "format_label_sets": "skbait.utils._multilabel",
    "is_multilabel_target": "skbait.utils._multilabel",
    "label_probabilities": "skbait.utils._multilabel",
    "multilabel_scores": "skbait.utils._multilabel",
    "parse_label_sets": "skbait.utils._multilabel",
    "read_label_sets": "skbait.utils._multilabel",
    "resolve_device": "skbait.utils._torch",
    "resolve_dtype": "skbait.utils._torch",
    "torch_generator": "skbait.utils._torch",
}

__all__ = [
    "LabelSets",
    "format_label_sets",
    "is_multilabel_target",
    "label_probabilities",
    "multilabel_scores",
    "parse_label_sets",
    "read_label_sets",
    "resolve_device",
    "resolve_dtype",
    "torch_generator",
]

if TYPE_CHECKING:
    from skbait.utils._multilabel import (
        LabelSets,
        format_label_sets,
        is_multilabel_target,
        label_probabilities,
        multilabel_scores,
        parse_label_sets,
        read_label_sets,
    )
    from skbait.utils._torch import resolve_device, resolve_dtype, torch_generator


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    if name == "estimator_checks":
        return importlib.import_module("skbait.utils.estimator_checks")
    raise AttributeError(f"module 'skbait.utils' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_PUBLIC, "estimator_checks"})
