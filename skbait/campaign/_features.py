"""Feature columns: which columns, the rows' fingerprints, and the matrix the model sees.

Cells are compared by value: a number is the same number however a tool
wrote it (``1001``, ``1001.0``, ``1,5`` in a semicolon file), so a
spreadsheet re-save is not an edit.
"""

import base64
import decimal
import hashlib

import numpy as np
from sklearn.base import BaseEstimator

from skbait.campaign._errors import CampaignError, _problems, columns_shown
from skbait.campaign._files import (
    _DECIMAL_COMMA,
    PANDAS_NA_VALUES,
    parse_distinct,
    parse_numbers,
)

ROW = "row"  # the batch files' column of DATA row numbers
MAX_CATEGORIES = 1000  # distinct values of a one-hot encoded text column
# Above this many distinct values a text column used as a feature is noted: a patient's
# or a study's number repeated over its rows is encoded, yet names rather than describes.
MANY_CATEGORIES = 50
_HASH_BYTES = 8


def _looks_like_identifier(table, column):
    """Unique per row and either text or a run of consecutive integers."""
    text = table.text(column)
    # A set, not np.unique: sorting 200,000 strings per column took most of a first query.
    if len(text) < 3 or (text == "").any() or len(set(text)) != len(text):
        return False
    numbers, is_number = parse_numbers(text, table.dialect.decimal)
    if not is_number.all():
        return True
    values = np.sort(numbers)
    whole = np.all(values == np.round(values))
    return bool(whole and np.all(np.diff(values) == 1))


def _looks_like_labels_being_filled(table, column):
    """Blank in more than half the rows: another campaign's label column (or one not yet
    started), whose labels would leak into this campaign's model and change its
    features' values as they are filled in."""
    return bool(np.count_nonzero(table.text(column) == "") * 2 > len(table))


# The endings of files a table points to rather than holds: images (medical ones
# included), volumes, arrays, sound, documents. Lower case; compared case-blind.
FILE_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".svg", ".heic",
    ".jp2", ".dcm", ".dicom", ".ima", ".nii", ".nii.gz", ".nrrd", ".mha", ".mhd",
    ".npy", ".npz", ".wav", ".mp3", ".flac", ".mp4", ".pdf", ".txt",
)  # fmt: skip


def _looks_like_file_names(table, column):
    """Every filled cell names a file (``scans/0001.dcm``, an ``https://`` address of one):
    one-hot encoded, such a column would make each file a feature of its own row only,
    repeated or not."""
    text = table.text(column)
    # all() stops at the first cell that is no file name: a numeric column costs one cell.
    return bool((text != "").any()) and all(
        cell.lower().endswith(FILE_SUFFIXES) for cell in text if cell
    )


# The columns a campaign leaves out of its default features, each with the note why.
_LEFT_OUT_BY_DEFAULT = (
    (
        _looks_like_file_names,
        "its cells name files, like the paths of images, which are not features "
        "(to use it as a feature, list it in --features)",
    ),
    (
        _looks_like_identifier,
        "unique in every row, like an identifier (--features chooses the columns)",
    ),
    (
        _looks_like_labels_being_filled,
        "blank in most rows, like the label column of another campaign on this DATA "
        "(to use it as a feature, list it in --features)",
    ),
)


def _feature_columns(table, target, features, *, id_column=None, exclude=(), notes=None):
    """The feature columns: ``features`` as given, or every column but the target, the
    identifier, ``exclude`` and the columns that look like identifiers or like label
    columns being filled (noted)."""
    if ROW in table.columns:
        raise CampaignError(
            f"{table.path!r} has a column named {ROW!r}, which batch files use for the row "
            "number; rename it."
        )
    for what, column in (("column", target), ("--id column", id_column)):
        if column is not None and column not in table.columns:
            raise CampaignError(
                f"no {what} {column!r} in {table.path!r}; "
                f"{columns_shown(table.columns, [column])}."
            )
    unknown = [c for c in exclude if c not in table.columns]
    if unknown:
        raise CampaignError(
            f"no column {', '.join(map(repr, unknown))} to exclude in {table.path!r}; "
            f"{columns_shown(table.columns, unknown)}."
        )
    if features is None:
        left_out = {target, id_column, *exclude}
        columns = [c for c in table.columns if c not in left_out]
        for looks_left_out, why in _LEFT_OUT_BY_DEFAULT:
            dropped = [c for c in columns if looks_left_out(table, c)]
            if dropped and len(dropped) < len(columns):
                columns = [c for c in columns if c not in dropped]
                if notes is not None:
                    notes.append(
                        f"left out {', '.join(map(repr, dropped))} from the features: {why}"
                    )
    else:
        columns = list(features)
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise CampaignError(
                f"no feature column {', '.join(map(repr, missing))} in {table.path!r}; "
                f"{columns_shown(table.columns, missing)}."
            )
        if target in columns:
            raise CampaignError(f"the target {target!r} cannot also be a feature.")
    if not columns:
        raise CampaignError(f"{table.path!r} has no feature column besides {target!r}.")
    return columns


def _check_feature_columns(table, columns, known=()):
    """The campaign's feature columns are all in DATA (a renamed column is named).

    ``known`` are the other columns the campaign uses (its target, its identifier):
    not candidates for the renamed column.
    """
    missing = [c for c in columns if c not in table.columns]
    if missing:
        new = [c for c in table.columns if c not in columns and c not in known]
        raise CampaignError(
            f"the feature column(s) {', '.join(map(repr, missing))} of the campaign are gone "
            f"from {table.path!r} (renamed?); columns the campaign does not know: "
            f"{', '.join(map(repr, new)) or 'none'}. Rename them back."
        )


def _identifier_value(text):
    """A numeric identifier's exact value (``1e+05`` is ``100000``), or None for text."""
    try:
        value = decimal.Decimal(text)
    except (decimal.InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


# A spreadsheet writes whole numbers of 12 digits or more as 1.23457E+11: six digits kept.
# R's 1e+05 is exact below 16 digits, and no spreadsheet rounds a shorter number.
_ROUNDED_FROM = decimal.Decimal(10**11)


class Identifiers:
    """Where each identifier of an ``--id`` column is.

    An identifier is found by its text, else by its value when it is a
    number that a tool wrote another way (R's ``1e+05`` for ``100000``,
    pandas' ``1001.0``, a spreadsheet's ``123`` for ``00123``) and one row
    alone has that value. A large number in scientific notation names a row
    only when no other row rounds to it: a spreadsheet's ``1.23457E+17`` keeps
    six digits of ``123456789012345678``, and may stand for any of many rows.

    Parameters
    ----------
    texts : sequence of str
        The column's cells, one per row of DATA.
    """

    def __init__(self, texts):
        self.texts = list(texts)
        self.position = {text: i for i, text in enumerate(self.texts)}
        rows_of = {}
        for i, text in enumerate(self.texts):
            value = _identifier_value(text)
            if value is not None:
                rows_of.setdefault(value, []).append(i)
        self.values = list(rows_of)
        self.by_value = {v: rows[0] for v, rows in rows_of.items() if len(rows) == 1}
        self._rounded = {}  # significant digits -> {rounded value: number of rows}

    def find(self, text):
        """The row of the identifier ``text``, or None."""
        text = str(text).strip()
        if text in self.position:
            return self.position[text]
        value = _identifier_value(text)
        if value is None or value not in self.by_value:
            return None
        if "e" in text.casefold() and abs(value) >= _ROUNDED_FROM and self._rounding_to(value) > 1:
            return None  # digits were lost: more than one identifier reads so
        return self.by_value[value]

    def _rounding_to(self, value):
        """How many identifiers read ``value`` when rounded to its significant digits."""
        digits = len(value.normalize().as_tuple().digits)
        if digits not in self._rounded:
            counts = {}
            for v in self.values:
                rounded = decimal.Decimal(format(v, f".{digits - 1}E"))
                counts[rounded] = counts.get(rounded, 0) + 1
            self._rounded[digits] = counts
        return self._rounded[digits].get(value.normalize(), 0)


def _canonical(table, column, rows=None, fold_booleans=True, decimal=None):
    """The cells of ``column`` (of ``rows`` only, if given) as comparable text: numbers
    by value (read with ``decimal``, by default the file's mark), booleans by their
    folded name (pandas re-saves ``TRUE`` as ``True``; not with ``fold_booleans=False``,
    the fingerprints of older campaign files), text as it is."""
    texts = table.text(column)
    if rows is not None:
        texts = texts[np.asarray(rows, dtype=np.int64)]
    decimal = table.dialect.decimal if decimal is None else decimal
    codes, cells, values, is_number = parse_distinct(texts, decimal)
    out = cells.copy()
    out[is_number] = list(map(repr, values[is_number].tolist()))
    if fold_booleans:
        # Only text can spell a boolean (a number's repr never does): folding the numbers
        # too took a second of each query on a table of 10 million numbers.
        text = np.flatnonzero(~is_number)
        folded = np.array([c.casefold() for c in out[text]], dtype=object)
        boolean = np.isin(folded, ["true", "false"])
        out[text[boolean]] = folded[boolean]
    return out[codes]


def row_hashes(table, columns, fold_booleans=True):
    """One fingerprint per row of the feature values (bytes of length 8 per row).

    Numbers are read with the separator's conventional mark, not the detected one:
    the fingerprints that campaigns recorded before the mark was detected still
    match their rows (the two read a semicolon or tab file alike).
    """
    decimal = table.dialect.conventional_decimal
    cells = [_canonical(table, c, fold_booleans=fold_booleans, decimal=decimal) for c in columns]
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


class TableEncoder(BaseEstimator):
    """A table's feature columns as the campaign's model sees them.

    Numeric columns (every filled cell a number, a decimal comma allowed
    where ``decimal=","``) pass as floats, blanks filled with the column's
    median; text columns are one-hot encoded over the categories seen in
    :meth:`fit` (a blank is a category of its own; an unseen one encodes as
    zeros). Missing-value tokens (``na_values``) are blanks. The campaign fits
    it on every row of DATA, so that the exported pipeline reads a table the
    way the campaign did.

    Parameters
    ----------
    columns : list of str
        The feature columns, in order.
    na_values : sequence of str, default=None
        Cell texts read as blanks (the campaign's default when None).
    decimal : {".", ","}, default="."
        The decimal mark of text cells.

    Attributes
    ----------
    kinds_ : dict
        ``"number"`` or ``"text"`` per column (columns blank in every row are
        left out).
    medians_ : dict
        The fill value of each numeric column.
    categories_ : dict
        The sorted categories of each text column.
    notes_ : list of str
        What the fit did that a user should know (blanks filled, columns
        left out).

    Examples
    --------
    >>> import pandas as pd
    >>> from skbait.campaign import TableEncoder
    >>> frame = pd.DataFrame({"size": ["1,5", "NA", "3"], "color": ["red", "blue", "red"]})
    >>> TableEncoder(["size", "color"], decimal=",").fit_transform(frame)
    array([[1.5 , 0.  , 1.  ],
           [2.25, 1.  , 0.  ],
           [3.  , 0.  , 1.  ]])
    """

    def __init__(self, columns, na_values=None, decimal="."):
        self.columns = columns
        self.na_values = na_values
        self.decimal = decimal

    def _cells(self, X, column):
        from skbait.campaign._files import DEFAULT_NA_VALUES

        na = set(DEFAULT_NA_VALUES if self.na_values is None else self.na_values)
        series = X[column]
        missing = series.isna().to_numpy()
        text = series.astype(str).str.strip().to_numpy(dtype=object, copy=True)
        text[missing] = ""
        text[np.isin(text, list(na))] = ""
        return text

    def _number(self, text):
        if self.decimal == "," and _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        try:
            return float(text)
        except ValueError:
            return None

    def _numbers(self, text):
        return parse_numbers(text, self.decimal)[0]

    def _category_key(self, text):
        """A cell's value for matching categories: a boolean's lower-case name, a
        number's float, None for other text."""
        if text.lower() in ("true", "false"):
            return text.lower()
        return self._number(text)

    def _as_categories(self, text, categories):
        """The cells ``text`` with each cell that is no category, but equals one by
        value, replaced by it.

        pandas retypes the cells of a table it reads: ``true`` becomes the
        boolean True (``"True"``), ``7`` the float 7.0 in a column with blanks,
        ``None`` a missing value; unmatched, such cells were encoded as an unseen
        category (all zeros).
        """
        unknown = (text != "") & ~np.isin(text, categories)
        blank = text == ""
        # A category such as "None" that pandas reads as missing: the blank cells are it
        # when DATA had no blank of its own in the column (a blank is else unseen).
        as_na = [c for c in categories if c in PANDAS_NA_VALUES]
        if blank.any() and "" not in categories and len(as_na) == 1:
            text = np.where(blank, as_na[0], text).astype(object)
        if not unknown.any():
            return text
        by_key = {}
        for category in categories:
            by_key.setdefault(self._category_key(category), []).append(category)
        by_key.pop(None, None)
        text = text.copy()
        for i in np.flatnonzero(unknown):
            match = by_key.get(self._category_key(text[i]), ())
            if len(match) == 1:
                text[i] = match[0]
        return text

    def fit(self, X, y=None):
        """Learn each column's kind, fill value or categories from the table ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            A table holding the ``columns`` (others are ignored).
        y : None, default=None
            Ignored.

        Returns
        -------
        self : TableEncoder
        """
        self._fit(X)
        return self

    def _fit(self, X):
        """:meth:`fit`; returns each column's cells, for :meth:`fit_transform`."""
        self.kinds_, self.medians_, self.categories_, self.notes_ = {}, {}, {}, []
        problems, cells = [], {}
        for column in self.columns:
            text = cells[column] = self._cells(X, column)
            blank = text == ""
            numbers = self._numbers(text)
            if blank.all():
                self.notes_.append(f"column {column!r} is blank in every row: left out")
                continue
            if not (np.isnan(numbers) & ~blank).any():
                if np.isinf(numbers).any():
                    problems.append(f"numeric column {column!r} holds infinite values")
                    continue
                self.kinds_[column] = "number"
                self.medians_[column] = float(np.median(numbers[~blank]))
                if blank.any():
                    self.notes_.append(
                        f"numeric column {column!r} is blank in {int(blank.sum())} row(s): "
                        f"filled with its median, {self.medians_[column]:.6g}"
                    )
                continue
            categories = np.unique(text)
            if categories.size > MAX_CATEGORIES:
                problems.append(
                    f"text column {column!r} has {categories.size} distinct values (more than "
                    f"{MAX_CATEGORIES}: an identifier or free text?); leave it out"
                )
                continue
            self.kinds_[column] = "text"
            self.categories_[column] = categories.tolist()
            if categories.size > MANY_CATEGORIES:
                self.notes_.append(
                    f"text column {column!r} has {categories.size} distinct values, each "
                    "one-hot encoded as a feature of its own; if it names groups of rows "
                    "(patients, studies) rather than describing them, leave it out "
                    "(--exclude, when the campaign starts)"
                )
        if problems:
            raise _problems(
                "DATA's features cannot be used (fix them, or choose the feature columns with "
                "--features):",
                problems,
            )
        return cells

    def fit_transform(self, X, y=None):
        """:meth:`fit` then :meth:`transform` on the same table.

        Parameters
        ----------
        X : pandas.DataFrame
            A table holding the ``columns``.
        y : None, default=None
            Ignored.

        Returns
        -------
        ndarray of shape (n_rows, n_features)
        """
        # Each column's cells read once for both: seconds saved on a large DATA.
        return self._transform(X, self._fit(X))

    def _find_columns(self, X):
        """Each feature column's name in the table ``X``: the same name, else the one
        column of that name without its spaces (a header ``a, b`` read by pandas, or
        by ``skipinitialspace``, as the campaign finds it). A column missing, or input
        that is not a table, is refused with the columns needed."""
        needed = ", ".join(map(repr, self.kinds_))
        if not hasattr(X, "columns"):
            raise CampaignError(
                f"the model reads a table (a pandas DataFrame) with the columns {needed}, "
                f"not a {type(X).__name__}."
            )
        names, missing = {}, []
        for column in self.kinds_:
            if column in X.columns:
                names[column] = column
                continue
            same = [c for c in X.columns if str(c).strip() == str(column).strip()]
            if len(same) == 1:
                names[column] = same[0]
            else:
                missing.append(column)
        if missing:
            raise CampaignError(
                f"the table has no column {', '.join(map(repr, missing))}, which the model "
                f"reads (it needs {needed}); {columns_shown(X.columns, missing)}."
            )
        return names

    def transform(self, X):
        """The matrix of the table ``X`` (a DataFrame with the feature columns).

        Parameters
        ----------
        X : pandas.DataFrame
            A table holding the ``columns``.

        Returns
        -------
        ndarray of shape (n_rows, n_features)
            The numeric columns, then each text column's one-hot columns.
        """
        return self._transform(X)

    def _transform(self, X, cells=None):
        """:meth:`transform`, with the cells :meth:`_fit` read from ``X`` if given."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "kinds_")
        names = self._find_columns(X)
        parts = []
        for column, kind in self.kinds_.items():
            text = cells[column] if cells else self._cells(X, names[column])
            if kind == "number":
                numbers = self._numbers(text)
                numbers[text == ""] = self.medians_[column]
                if np.isnan(numbers).any():
                    bad = text[np.isnan(numbers)][0]
                    raise CampaignError(f"column {column!r} holds {bad!r}, not a number.")
                parts.append(numbers[:, None])
            else:
                categories = np.asarray(self.categories_[column], dtype=object)
                text = self._as_categories(text, self.categories_[column])
                parts.append((text[:, None] == categories[None, :]).astype(np.float64))
        return np.hstack(parts) if parts else np.zeros((len(X), 0))


def make_encoder(table, columns):
    """A :class:`TableEncoder` reading ``columns`` as ``table`` reads its cells."""
    return TableEncoder(list(columns), sorted(table.na_values), table.dialect.decimal)


def _feature_matrix(table, columns, notes=None):
    """Numbers for the model: numeric columns as they are (blanks filled with the column's
    median, noted), text columns one-hot encoded (a blank is a category of its own)."""
    encoder = make_encoder(table, columns)
    X = encoder.fit_transform(table.frame)
    if notes is not None:
        notes.extend(encoder.notes_)
    return X
