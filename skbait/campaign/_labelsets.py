"""Label sets: the cells of a multi-label campaign's label column.

A multi-label campaign (``skbait query --multi-label``) reads each cell of
its label column as a *set* of labels joined by a separator
(``settings["multi_label"]["sep"]``, ``|`` by default): ``sports|politics``.
Labels are stripped of surrounding spaces, a label given twice counts once
and the order does not matter (``b|a`` is ``a|b``). A blank cell is a row
not labeled yet; a row where no label applies holds the *no-labels token*
(``settings["multi_label"]["no_labels"]``, ``(none)`` by default), which is
never a label: it cannot be combined with labels, declared as a class, or
contain the separator. ``(none)`` is none of the texts that pandas, R or a
spreadsheet read as missing, so it survives their re-saves as it is.

The journal keeps a label set as a sorted list of labels (``[]`` for the
token); in memory it is a sorted tuple, which compares and hashes as a value.
A label that is a number is kept in its shortest form (``1.0`` and ``01`` are
``1``): a single-label campaign compares its numbers by value, and pandas, R
or a spreadsheet re-save a column of one-number cells as ``1.0``.
"""

import math
import re

from skbait.campaign._errors import CampaignError
from skbait.campaign._files import PANDAS_NA_VALUES

__all__ = ["DEFAULT_NO_LABELS", "DEFAULT_SEP", "label_set_settings"]

DEFAULT_SEP = "|"
DEFAULT_NO_LABELS = "(none)"


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _key(text):
    return " ".join(str(text).split()).casefold()


def is_number_text(text):
    """Whether a label is a number written in decimal (``1``, ``-2.5``, ``1e3``)."""
    return _NUMBER.fullmatch(str(text).strip()) is not None


def canonical_label(label):
    """A label of a set as the campaign keeps it: stripped, a number in its shortest
    form (``1.0`` and ``01`` are ``1``, ``12.50`` is ``12.5``), other text as it is."""
    text = str(label).strip()
    if not is_number_text(text):
        return text
    if text.lstrip("+-").isdigit():
        return str(int(text))  # exact, however many digits
    value = float(text)
    if not math.isfinite(value):
        return text
    return str(int(value)) if value.is_integer() else repr(value)


def label_set_settings(sep=None, no_labels=None, na_values=()):
    """The campaign's ``multi_label`` setting, checked: ``{"sep": ..., "no_labels": ...}``.

    Parameters
    ----------
    sep : str, default=None
        The separator (``|`` when None).
    no_labels : str, default=None
        The token of a row where no label applies (``(none)`` when None).
    na_values : collection of str
        The texts DATA reads as blanks: the token must not be one of them.
    """
    sep = DEFAULT_SEP if sep is None else sep
    no_labels = DEFAULT_NO_LABELS if no_labels is None else no_labels.strip()
    if not isinstance(sep, str) or sep == "" or sep != sep.strip():
        raise CampaignError(
            f"--label-sep must be one or more characters other than spaces, got {sep!r}."
        )
    if any(ord(c) < 32 for c in sep + no_labels) or sep in (",", ";", "\t", '"'):
        # The table's own separators and quotes would split or quote the cell instead.
        raise CampaignError(
            f"--label-sep {sep!r} is a CSV separator, a quote or a control character; use "
            "another character, such as | or /."
        )
    if not no_labels:
        raise CampaignError("--no-labels cannot be blank: a blank cell is a row not labeled yet.")
    if sep in no_labels:
        raise CampaignError(
            f"--no-labels {no_labels!r} contains the separator {sep!r}; choose another token."
        )
    if no_labels in set(na_values):
        raise CampaignError(
            f"--no-labels {no_labels!r} reads as a missing value in DATA (--na-values); "
            "choose another token, such as (none)."
        )
    if no_labels in PANDAS_NA_VALUES:
        raise CampaignError(
            f"--no-labels {no_labels!r} reads as a missing value in pandas, and a file "
            "re-saved by it would lose these labels; choose another token, such as (none)."
        )
    return {"sep": sep, "no_labels": no_labels}


def is_multi_label(settings):
    """Whether the campaign's labels are label sets."""
    return bool(settings.get("multi_label"))


def as_set(labels):
    """A label set as the campaign keeps it in memory: a sorted tuple of text."""
    return tuple(sorted({canonical_label(v) for v in labels}))


def read_set(text, spec):
    """``(labels, problem)``: the cell's label set (a sorted tuple) and None, or None
    and why the cell is not a label set."""
    from skbait.utils import parse_label_sets

    text = text.strip()
    token, sep = spec["no_labels"], spec["sep"]
    if text == token:
        return (), None
    (labels,) = parse_label_sets([text], sep=sep)
    if not labels:
        return None, (
            f"{text!r} holds no label between its separators (write {token!r} when no "
            "label applies)"
        )
    if labels == {token}:
        return (), None  # "(none)|": a trailing separator, as in "a|"
    tokens = [label for label in labels if _key(label) == _key(token)]
    if tokens and len(tokens) == len(labels):
        return None, (
            f"{text!r} is not the token {token!r} of a row where no label applies; write "
            f"{token!r} as it is"
        )
    if tokens:
        return None, (
            f"{text!r} combines labels with {token!r}, which means that no label applies"
        )
    return as_set(labels), None


def write_set(labels, spec):
    """The cell text of a label set: sorted labels joined by the separator, or the token."""
    from skbait.utils import format_label_sets

    if not labels:
        return spec["no_labels"]
    return format_label_sets([labels], sep=spec["sep"])[0]


def spells_no_label(label):
    """Whether a label is "none" written out, which means that no label applies."""
    return str(label).strip().casefold() == "none"


# The marks annotators join labels with, beside a campaign's own separator.
JOINING_MARKS = (",", ";", "|", "/", "+", "&")


def joined_labels(label, labels, sep):
    """``(mark, parts)`` when ``label`` is labels of ``labels`` joined by a mark other than
    ``sep`` (``arts, sports``; ``arts|sports`` where ``sep`` is ``/``), else None."""
    for mark in JOINING_MARKS:
        if mark == sep:
            continue
        parts = [canonical_label(part) for part in label.split(mark)]
        if len(parts) > 1 and all(part in labels for part in parts):
            return mark, parts
    return None


def check_label_names(names, spec, what):
    """Refuse label names that a cell could not hold: a separator, or the token."""
    for name in names:
        if spec["sep"] in name:
            raise CampaignError(
                f"{what} {name!r} contains the label separator {spec['sep']!r}; a label "
                "cannot hold it (choose another --label-sep in a new campaign)."
            )
        if _key(name) == _key(spec["no_labels"]):
            raise CampaignError(
                f"{what} {name!r} is the token of a row where no label applies "
                f"(--no-labels {spec['no_labels']!r}), not a label."
            )
