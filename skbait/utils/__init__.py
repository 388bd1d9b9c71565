"""Utilities: torch device and dtype selection, seeding, strategy checks, multi-label targets."""

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
