"""Labels: their type, their value, and the checks an annotator's answer must pass.

A campaign's labels are integers, numbers or text (``settings["label_type"]``).
They are compared by value in that type, never as text: ``1.0`` is the class
``1`` and ``12.50`` is ``12.5``, so a file re-saved by pandas, R or a
spreadsheet still agrees with the campaign.

A text label that is new to the campaign is checked against the classes it
knows: one that differs from a known class only by case or spacing, or by
one edit (a typo such as ``dgo`` for ``dog``, for labels of three letters or
more) is refused with the suggestion. Labels that hold different numbers
(``topic_20`` and ``topic_30``, ``grade 1`` and ``grade 10``) are different
classes, not typos. With ``--classes`` declared, any label
outside the set is refused, naming the nearest class.

A multi-label campaign's cells are label sets (:mod:`skbait.campaign._labelsets`):
:func:`read_cell` and :func:`write_cell` read and write a cell of either kind,
and the class checks apply to each label of a set.
"""

import re

import numpy as np

from skbait.campaign._errors import _problems
from skbait.campaign._labelsets import (
    as_set,
    canonical_label,
    is_number_text,
    joined_labels,
    read_set,
    write_set,
)
from skbait.campaign._spreadsheet import THOUSANDS, date_source, spreadsheet_rewrite

_TYPE_WORDS = {"int": "an integer", "float": "a number", "str": "text"}
_MIN_TYPO_LENGTH = 3  # "a" and "b" are one edit apart but not a typo of each other
# The significant digits of a number that a re-save keeps: R's write.csv writes 15, and a
# spreadsheet holds no more. A label read beyond them would differ from itself re-saved.
_DIGITS = 15


def _number_label(value):
    """A number label as the campaign holds it: to the digits every tool keeps."""
    return float(f"{value:.{_DIGITS}g}")


def _parse_label(text, label_type, number=float):
    """The label's value in ``label_type``, or None if it is not one.

    ``number`` reads a number from text (a table's own reader understands its
    decimal comma). Returned as a one-tuple-free value: int, float or str.
    """
    if label_type == "str":
        return text
    try:
        value = number(text)
    except ValueError:
        return None
    if value is None or not np.isfinite(value):
        return None
    if label_type == "int":
        if not float(value).is_integer():
            return None
        return int(value)
    return _number_label(value)


def thousands_advice(text, label_type):
    """How to type a number label written with thousands separators (``1,000``: 1000),
    which the campaign refuses rather than guess at; None for any other label."""
    if label_type not in ("int", "float"):
        return None
    if spreadsheet_rewrite(text) != THOUSANDS:
        return None
    plain = str(text).strip().replace(",", "")
    if _parse_label(plain, label_type) is None:
        return None
    return f"its comma looks like a thousands separator: type the number without it ({plain})"


def type_problem(text, label_type):
    """Why ``text`` is no label of ``label_type``, with the way to type it when it can say."""
    problem = f"label {text!r} is not {_TYPE_WORDS[label_type]}, as the campaign's labels are"
    advice = thousands_advice(text, label_type)
    return problem if advice is None else f"{problem}; {advice}"


def _as_value(label, label_type):
    """A label as the journal stores it (older journals stored text) in ``label_type``.

    A label set (a list in the journal) is a sorted tuple.
    """
    if isinstance(label, (list, tuple)):
        return as_set(label)
    if label is None or label_type is None:
        return label
    if isinstance(label, str):
        value = _parse_label(label, label_type)
        return label if value is None else value
    if label_type == "str":
        return str(label)
    return int(label) if label_type == "int" else _number_label(label)


def _format_label(value, decimal="."):
    """The text written into a CSV cell for a label value."""
    if isinstance(value, float):
        text = repr(value)
        if text.endswith(".0"):
            text = text[:-2]
        return text.replace(".", decimal)
    return str(value)


def _boolean(value):
    """A boolean's folded name (``TRUE``, ``True`` and ``true`` alike), or None."""
    if isinstance(value, str) and value.casefold() in ("true", "false"):
        return value.casefold()
    return None


def same_label(a, b):
    """Whether two label values are one class: equal, one boolean spelt by two tools (R
    and spreadsheets write ``TRUE``, pandas re-saves it ``True``), or one number written
    two ways in a text campaign (``1.0``, as pandas re-saves a column of numbers, is ``1``);
    two label sets (tuples) whose labels are so, one for one."""
    if a == b or (_boolean(a) is not None and _boolean(a) == _boolean(b)):
        return True
    if isinstance(a, tuple) and isinstance(b, tuple):
        # Label sets: ("TRUE",), as a spreadsheet re-saves the cell "true", is ("true",).
        return len(a) == len(b) and all(any(same_label(x, y) for y in b) for x in a)
    numbers = all(isinstance(v, str) and is_number_text(v) for v in (a, b))
    return numbers and canonical_label(a) == canonical_label(b)


def known_spelling(value, classes):
    """``value`` as the one class of ``classes`` that it is (:func:`same_label`), else
    itself: a boolean or a number keeps the spelling the campaign first recorded."""
    if value in classes:
        return value
    match = [c for c in classes if same_label(value, c)]
    return match[0] if len(match) == 1 else value


def read_cell(text, settings, number=float):
    """``(value, problem)``: a cell's label in the campaign's terms (a label set in a
    multi-label campaign), or None and why it is not one."""
    spec = settings.get("multi_label")
    if spec:
        return read_set(text, spec)
    label_type = settings["label_type"] or "str"
    value = _parse_label(text, label_type, number)
    if value is None:
        return None, type_problem(text, label_type)
    return value, None


def write_cell(value, settings, decimal="."):
    """The text of a label value in a cell (a label set joined by the separator)."""
    spec = settings.get("multi_label")
    if spec:
        return write_set(value, spec)
    return _format_label(value, decimal)


def shown_label(value, settings):
    """A label value as messages name it: the cell text of a label set, else the value."""
    if value is not None and settings.get("multi_label"):
        return write_set(value, settings["multi_label"])
    return value


def _infer_label_type(texts, task, number=float):
    if task == "regression":
        return "float"
    if all(_parse_label(t, "int", number) is not None for t in texts):
        return "int"
    if task != "classification" and all(
        _parse_label(t, "float", number) is not None for t in texts
    ):
        return "float"
    return "str"


def _widen_label_type(label_type, texts, task, number=float):
    """The label type that also holds ``texts``: an integer campaign meeting 12.5 under
    an automatic task becomes a number campaign; anything else stays."""
    if label_type != "int" or task not in ("auto", "regression"):
        return label_type
    numbers = all(_parse_label(t, "float", number) is not None for t in texts)
    if numbers and any(_parse_label(t, "int", number) is None for t in texts):
        return "float"
    return label_type


def _check_labels(rows, texts, label_type, where, number=float):
    """Label values; a CampaignError listing every row of the wrong type."""
    out, problems = [], []
    for row, text in zip(rows, texts):
        value = _parse_label(text, label_type, number)
        if value is None:
            problems.append(f"{where(row)}: {type_problem(text, label_type)}")
        else:
            out.append(value)
    if problems:
        raise _problems("Labels of the wrong type:", problems)
    return out


def _key(text):
    """Case and spacing folded: how two spellings of one class compare."""
    return " ".join(str(text).split()).casefold()


def _edits(a, b):
    """Optimal string alignment distance: insertions, deletions, substitutions and
    swaps of two neighbours, each counting one."""
    rows, cols = len(a) + 1, len(b) + 1
    d = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        d[i][0] = i
    for j in range(cols):
        d[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def nearest_class(label, classes):
    """The class of ``classes`` nearest to ``label`` (by folded edits), or None."""
    if not classes:
        return None
    return min(classes, key=lambda c: (_edits(_key(label), _key(c)), str(c)))


def numbers_in(text):
    """The runs of digits of ``text``: labels naming different ones (``topic_20``,
    ``topic_30``) are numbered classes, not a typo of each other."""
    return re.findall(r"\d+", text)


def near_duplicate(label, classes):
    """The known class that ``label`` is a misspelling of, or None.

    Only text labels: the same class up to case and spacing, or one edit away
    when both have at least three letters and name the same numbers. Two numbers
    (``100`` and ``101``, a label set's labels) differ by value, not by a typo, and
    so do numbered classes (``topic_20`` and ``topic_30``).
    """
    if not isinstance(label, str):
        return None
    if is_number_text(label):
        classes = [c for c in classes if not is_number_text(c)]
    for known in classes:
        if not isinstance(known, str) or known == label:
            continue
        if _key(known) == _key(label):
            return known
    for known in classes:
        if not isinstance(known, str) or known == label:
            continue
        a, b = _key(label), _key(known)
        if numbers_in(a) != numbers_in(b):
            continue
        if min(len(a), len(b)) >= _MIN_TYPO_LENGTH and _edits(a, b) == 1:
            return known
    return None


def _reading_order(label):
    """Numbers by value, texts with their numbers by value ('finding 2' before 'finding 10')."""
    if isinstance(label, (int, float, np.number)) and not isinstance(label, bool):
        return (0, float(label), ())
    parts = re.split(r"(\d+)", str(label).casefold())
    return (1, 0.0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts))


def check_classes(new, known_classes, declared, where):
    """Refuse labels outside the declared classes, or misspelt known classes.

    Parameters
    ----------
    new : list of (row, value)
        Labels about to join the campaign.
    known_classes : set
        The classes the campaign has already seen.
    declared : list or None
        The classes given by ``--classes``.
    where : callable
        Names a row in the messages.

    Returns
    -------
    problems : list of str
    notes : list of str
        One note per class new to the campaign (one for them all when the
        campaign knew none), and one per label that joins classes.
    """
    problems, notes = [], []
    if declared is not None:
        allowed = set(declared)
        for row, value in new:
            if value not in allowed:
                hint = nearest_class(value, declared)
                problems.append(
                    f"{where(row)}: label {value!r} is not one of the declared classes "
                    f"({', '.join(map(str, declared))}); did you mean {hint!r}?"
                )
        return problems, notes
    # Among labels new to the campaign, the most frequent spelling is the class and a
    # rarer near-duplicate the typo; two spellings as frequent as each other are both
    # refused, since nothing says which one is right.
    known = set(known_classes)
    rows_of, counts = {}, {}
    for row, value in new:
        if value not in known:
            rows_of.setdefault(value, []).append(row)
            counts[value] = counts.get(value, 0) + 1
    order = sorted(counts, key=lambda v: (-counts[v], list(rows_of).index(v)))
    accepted = set(known)
    for value in order:
        source = date_source(value, known)
        if source is not None:
            problems.extend(
                f"{where(row)}: label {value!r} looks like the class {source!r} that a "
                f"spreadsheet read as a date; write {source!r} in a cell formatted as Text "
                f"(or declare every class with --classes if {value!r} is a class of its own)"
                for row in rows_of[value]
            )
            continue
        typo = near_duplicate(value, accepted)
        if typo is None:
            accepted.add(value)
            note = f"new class {value!r} (first in {where(rows_of[value][0])})"
            classes = accepted | set(counts)
            joined = joined_labels(value, classes, None) if isinstance(value, str) else None
            if joined is not None:
                # "sports|politics" in a campaign of one label per row: a class of its own.
                mark, parts = joined
                note += (
                    f", the classes {' and '.join(map(repr, parts))} joined by {mark!r}: "
                    "this campaign takes one label per row, so it is a class of its own (a "
                    "campaign of label sets starts with skbait query --multi-label)"
                )
            notes.append((value, note, joined is None))
            continue
        tied = typo not in known and counts[typo] == counts[value]
        for row in rows_of[value]:
            if tied:
                problems.append(
                    f"{where(row)}: label {value!r} and {typo!r} (in "
                    f"{where(rows_of[typo][0])}) look like two spellings of one class; "
                    "write one of them, or declare every class with --classes"
                )
            else:
                problems.append(
                    f"{where(row)}: label {value!r} looks like a misspelling of the class "
                    f"{typo!r}; write {typo!r}, or declare every class with --classes if "
                    f"{value!r} is a class of its own"
                )
    plain = [value for value, _, alone in notes if alone]
    if not known and len(plain) > 1:
        # The campaign's first labels: one line for its classes, not one per class.
        plain.sort(key=_reading_order)
        first = [note for value, note, alone in notes if not alone]
        return problems, [
            f"{len(plain)} classes in the labels so far: {', '.join(map(repr, plain))}",
            *first,
        ]
    return problems, [note for _, note, _ in notes]
