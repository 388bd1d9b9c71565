"""What a spreadsheet makes of cells it takes for numbers or dates.

Excel reads ``1-2`` as the 2nd of January and saves it as ``2-Jan``, writes
``123456789012345678`` as ``1.23457E+17`` and ``1234`` as ``1,234`` when
a format groups thousands. The campaign never guesses the cell a rewrite came
from: it recognises one, to refuse it with the way to undo it.
"""

import re

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

_MONTH = "(" + "|".join(MONTHS) + ")"

# What spreadsheet_rewrite says a cell became.
SCIENTIFIC = "a long number in scientific notation"
DATE = "a date"
THOUSANDS = "a number with thousands separators"

# How a spreadsheet writes a cell it took for a number or a date.
_SPREADSHEET_REWRITES = (
    (re.compile(r"^[+-]?\d(\.\d+)?E[+-]\d+$"), SCIENTIFIC),
    (
        re.compile(rf"^\d{{1,2}}-{_MONTH}(-\d{{2,4}})?$|^{_MONTH}-\d{{2}}$", re.IGNORECASE),
        DATE,
    ),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}$|^\d{4}-\d{2}-\d{2}$"), DATE),
    (re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"), THOUSANDS),
)


def spreadsheet_rewrite(text):
    """What a spreadsheet made of a cell that now reads ``text`` (a date, a number
    in scientific notation...), or None when it does not look rewritten."""
    for pattern, what in _SPREADSHEET_REWRITES:
        if pattern.match(str(text).strip()):
            return what
    return None


REWRITE_ADVICE = (
    "a spreadsheet may have rewritten the identifiers (dates, scientific notation, "
    "thousands separators); restore the file as skbait wrote it, or import the column "
    "as text (Excel: Data > From Text/CSV, column type Text) before saving"
)


_TWO_NUMBERS = re.compile(r"^(\d{1,2})\s*[-/]\s*(\d{1,4})$")


def _date_parts(text):
    """The numbers of a date as a spreadsheet writes one (``2-Jan`` -> 2 and 1,
    ``03/04/2026`` -> 3, 4 and 26), or None."""
    text = str(text).strip()
    if spreadsheet_rewrite(text) != DATE:
        return None
    parts = []
    for token in re.split(r"[-/]", text):
        if token.isdigit():
            parts.append(int(token) % 100 if len(token) == 4 else int(token))
        else:
            parts.append(MONTHS.index(token.casefold()) + 1)
    return parts


def date_source(label, classes):
    """The class of ``classes`` (``1-2``, ``3/4``) that a spreadsheet shows as the date
    ``label`` (``2-Jan``, ``04/03/2026``), or None."""
    parts = _date_parts(label)
    if parts is None:
        return None
    for known in classes:
        match = _TWO_NUMBERS.match(str(known)) if isinstance(known, str) else None
        if match is None or known == label:
            continue
        pair = sorted(int(n) % 100 if len(n) == 4 else int(n) for n in match.groups())
        if any(sorted((a, b)) == pair for i, a in enumerate(parts) for b in parts[i + 1 :]):
            return known
    return None
