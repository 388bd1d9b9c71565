"""Labels: their type (int, float or text), parsing and checks."""

import numpy as np

from skbait.campaign._errors import _problems


def _parse_label(text, label_type):
    """The label's canonical text and value, or None if it is not of ``label_type``."""
    if label_type == "str":
        return text, text
    try:
        value = float(text)
    except ValueError:
        return None
    if not np.isfinite(value):
        return None
    if label_type == "int":
        if not value.is_integer():
            return None
        return str(int(value)), int(value)
    return text, value


def _infer_label_type(texts, task):
    if task == "regression":
        return "float"
    if all(_parse_label(t, "int") is not None for t in texts):
        return "int"
    if task == "auto" and all(_parse_label(t, "float") is not None for t in texts):
        return "float"
    return "str"


_TYPE_WORDS = {"int": "an integer", "float": "a number", "str": "text"}


def _check_labels(rows, texts, label_type, where):
    """Canonical label texts; a CampaignError listing every row of the wrong type."""
    out, problems = [], []
    for row, text in zip(rows, texts):
        parsed = _parse_label(text, label_type)
        if parsed is None:
            problems.append(
                f"{where(row)}: label {text!r} is not {_TYPE_WORDS[label_type]}, as the "
                "campaign's labels are"
            )
        else:
            out.append(parsed[0])
    if problems:
        raise _problems("Labels of the wrong type:", problems)
    return out
