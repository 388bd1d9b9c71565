"""Feature columns: which columns, the rows' fingerprints, and the matrix the model sees.

Cells are compared by value: a number is the same number however a tool
wrote it (``1001``, ``1001.0``, ``1,5`` in a semicolon file), so a
spreadsheet re-save is not an edit.
"""

import base64
import hashlib

import numpy as np

from skbait.campaign._errors import CampaignError, _problems

ROW = "row"  # the batch files' column of DATA row numbers
MAX_CATEGORIES = 1000  # distinct values of a one-hot encoded text column
_HASH_BYTES = 8


def _looks_like_identifier(table, column):
    """Unique per row and either text or a run of consecutive integers."""
    text = table.text(column)
    if len(text) < 3 or (text == "").any() or np.unique(text).size != len(text):
        return False
    numbers = [table.number(t) for t in text]
    if any(v is None for v in numbers):
        return True
    values = np.sort(np.asarray(numbers, dtype=np.float64))
    whole = np.all(values == np.round(values))
    return bool(whole and np.all(np.diff(values) == 1))


def _feature_columns(table, target, features, *, id_column=None, exclude=(), notes=None):
    """The feature columns: ``features`` as given, or every column but the target, the
    identifier, ``exclude`` and the columns that look like identifiers (noted)."""
    if ROW in table.columns:
        raise CampaignError(
            f"{table.path!r} has a column named {ROW!r}, which batch files use for the row "
            "number; rename it."
        )
    shown = ", ".join(table.columns[:20])
    for what, column in (("column", target), ("--id column", id_column)):
        if column is not None and column not in table.columns:
            raise CampaignError(
                f"no {what} {column!r} in {table.path!r}; its columns are: {shown}."
            )
    unknown = [c for c in exclude if c not in table.columns]
    if unknown:
        raise CampaignError(
            f"no column {', '.join(map(repr, unknown))} to exclude in {table.path!r}; its "
            f"columns are: {shown}."
        )
    if features is None:
        left_out = {target, id_column, *exclude}
        columns = [c for c in table.columns if c not in left_out]
        identifiers = [c for c in columns if _looks_like_identifier(table, c)]
        if identifiers and len(identifiers) < len(columns):
            columns = [c for c in columns if c not in identifiers]
            if notes is not None:
                notes.append(
                    f"left out {', '.join(map(repr, identifiers))} from the features: unique "
                    "in every row, like an identifier (--features chooses the columns)"
                )
    else:
        columns = list(features)
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise CampaignError(
                f"no feature column {', '.join(map(repr, missing))} in {table.path!r}; its "
                f"columns are: {shown}."
            )
        if target in columns:
            raise CampaignError(f"the target {target!r} cannot also be a feature.")
    if not columns:
        raise CampaignError(f"{table.path!r} has no feature column besides {target!r}.")
    return columns


def _check_feature_columns(table, columns):
    """The campaign's feature columns are all in DATA (a renamed column is named)."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        new = [c for c in table.columns if c not in columns]
        raise CampaignError(
            f"the feature column(s) {', '.join(map(repr, missing))} of the campaign are gone "
            f"from {table.path!r} (renamed?); columns the campaign does not know: "
            f"{', '.join(map(repr, new)) or 'none'}. Rename them back."
        )


def _canonical(table, column):
    """The cells of ``column`` as comparable text: numbers by value, text as it is."""
    out = []
    for text in table.text(column):
        value = table.number(text) if text else None
        out.append(repr(value) if value is not None else text)
    return out


def row_hashes(table, columns):
    """One fingerprint per row of the feature values (bytes of length 8 per row)."""
    cells = [_canonical(table, c) for c in columns]
    out = bytearray()
    for row in zip(*cells) if cells else ():
        joined = "\x1f".join(row).encode("utf-8")
        out += hashlib.blake2b(joined, digest_size=_HASH_BYTES).digest()
    return bytes(out)


def encode_hashes(hashes):
    return base64.b64encode(hashes).decode("ascii")


def decode_hashes(text):
    return base64.b64decode(text.encode("ascii"))


def changed_rows(old, new):
    """Rows whose fingerprints differ among the first ``len(old)`` rows."""
    n = len(old) // _HASH_BYTES
    a = np.frombuffer(old, dtype=np.uint8).reshape(n, _HASH_BYTES)
    b = np.frombuffer(new[: n * _HASH_BYTES], dtype=np.uint8).reshape(n, _HASH_BYTES)
    return np.flatnonzero((a != b).any(axis=1))


def _legacy_digest(table, columns, n_rows):
    """The digest format 1 kept (the cells' text): read once, to upgrade its campaigns."""
    digest = hashlib.sha256()
    for column in columns:
        digest.update(column.encode("utf-8") + b"\x00")
        digest.update("\x1f".join(table.text(column)[:n_rows]).encode("utf-8") + b"\x1e")
    return digest.hexdigest()


def _feature_matrix(table, columns, notes=None):
    """Numbers for the model: numeric columns as they are (blanks filled with the column's
    median, noted), text columns one-hot encoded (a blank is a category of its own)."""
    import pandas as pd

    parts, problems = [], []
    for column in columns:
        text = table.text(column)
        blank = text == ""
        numbers = _numbers(table, text, blank)
        unparsed = np.isnan(numbers) & ~blank
        if blank.all():
            if notes is not None:
                notes.append(f"column {column!r} is blank in every row: left out")
            continue
        if not unparsed.any():
            if np.isinf(numbers).any():
                problems.append(f"numeric column {column!r} holds infinite values")
                continue
            if blank.any():
                median = float(np.median(numbers[~blank]))
                numbers[blank] = median
                if notes is not None:
                    notes.append(
                        f"numeric column {column!r} is blank in {int(blank.sum())} row(s): "
                        f"filled with its median, {median:.6g}"
                    )
            parts.append(numbers[:, None])
        else:
            n_values = np.unique(text).size
            if n_values > MAX_CATEGORIES:
                problems.append(
                    f"text column {column!r} has {n_values} distinct values (more than "
                    f"{MAX_CATEGORIES}: an identifier or free text?); leave it out"
                )
                continue
            parts.append(pd.get_dummies(pd.Series(text), dtype=np.float64).to_numpy())
    if problems:
        raise _problems(
            "DATA's features cannot be used (fix them, or choose the feature columns with "
            "--features):",
            problems,
        )
    return np.hstack(parts)


def _numbers(table, text, blank):
    """The cells as floats: NaN where blank or not a number."""
    out = np.full(len(text), np.nan)
    for i, (t, b) in enumerate(zip(text, blank)):
        if not b:
            value = table.number(t)
            if value is not None:
                out[i] = value
    return out
