"""Reading and writing DATA, answer and batch files: CSV or parquet, atomically.

A CSV file is read the way the tool that wrote it meant it: the separator
(comma, semicolon or tab), a UTF-8 byte-order mark and the encoding (UTF-8,
else Windows-1252, as Excel on Windows saves "CSV") are sniffed, the usual
missing-value tokens read as blanks, and the decimal mark is the one the
file's numbers are written with (:func:`decimal_marks`). Every cell is kept
as the text it was, so that writing DATA back changes only the cells the
campaign fills, in the file's own dialect (encoding, separator, byte-order mark,
line ends, header, quotes, decimal mark).
"""

import codecs
import contextlib
import contextvars
import csv
import glob
import os
import re
import stat

import numpy as np

from skbait.campaign._errors import CampaignError
from skbait.utils._files import is_read_only, new_temporary

# Read as blanks unless --na-values says otherwise: what R, pandas, Excel and
# databases write for a missing cell. "None" is left out: it is a fair class name.
DEFAULT_NA_VALUES = ("NA", "N/A", "n/a", "#N/A", "nan", "NaN", "NAN", "null", "NULL")
# The texts pandas.read_csv reads as missing by default (R reads NA, a spreadsheet
# nothing more): a label or category among them comes back blank from a re-saved file.
PANDAS_NA_VALUES = frozenset(
    ("#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN")
    + ("<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
)
SEPARATORS = (",", ";", "\t")
# Excel's "CSV (Comma delimited)" and "CSV (semicolon)" are written in the ANSI code page:
# Windows-1252 in Western locales. The one encoding read besides UTF-8.
WINDOWS_1252 = "cp1252"
_SAMPLE_BYTES = 1 << 16
TMP_MARK = ".skbait-tmp-"  # temporary files are named ".NAME.skbait-tmp-XXXX"
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+([eE][+-]?\d+)?$")
_DECIMAL_POINT = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")
# A quoted 1,234 in a comma-separated file is as likely Excel's US thousands grouping as a
# decimal comma: it says nothing of the mark there.
_GROUPED = re.compile(r"^[+-]?\d{1,3},\d{3}$")
CRASH_ENV = "SKBAIT_TEST_KILL_AT"
PAUSE_ENV = "SKBAIT_TEST_PAUSE_AT"


def _checkpoint(name):
    """Die, or pause for a second, at a named write point when a test asks for it.

    For the crash and race tests only: ``SKBAIT_TEST_KILL_AT`` names the point
    (for example ``replace:pool.csv``) where the process kills itself with
    SIGKILL; ``SKBAIT_TEST_PAUSE_AT`` one where it sleeps, so that two
    processes overlap there.
    """
    if os.environ.get(PAUSE_ENV) == name:
        import time

        time.sleep(1.0)
    if os.environ.get(CRASH_ENV) == name:  # pragma: no cover - the process dies here
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def check_writable(*paths):
    """Refuse to replace a file made read-only (``chmod a-w``), which the atomic write
    would replace all the same: its owner said "do not write here" (see
    :func:`~skbait.utils._files.is_read_only`); a missing file is fine."""
    for path in map(os.fspath, paths):
        if is_read_only(path):
            raise CampaignError(
                f"cannot write {path!r}: the file is read-only. Allow writing to it "
                f"(chmod u+w {os.path.basename(path)}) and run the command again."
            )


# The files written under replaced_together(), each (temporary, path), waiting to be put
# in place; None outside it. A context variable: the labeling page writes from threads.
_PENDING = contextvars.ContextVar("skbait_pending_replaces", default=None)


@contextlib.contextmanager
def replaced_together():
    """Put the files that :func:`_atomic_write` writes in the block in place at its end.

    Each is written whole to its temporary file first; they then replace their
    files in the order they were written, which crash recovery relies on (DATA
    before the campaign file for ``teach``). A write that fails anywhere in the
    block (a full disk, a folder that refuses new files) so changes no file,
    where the files written before it were already in place. A nested block
    is part of the outer one. Read no file written in the block back in it.
    """
    if _PENDING.get() is not None:
        yield
        return
    pending = []
    token = _PENDING.set(pending)
    try:
        yield
        _PENDING.reset(token)
        token = None
        while pending:
            tmp, path = pending[0]
            _replace(tmp, path)
            pending.pop(0)
    finally:
        if token is not None:
            _PENDING.reset(token)
        for tmp, _ in pending:
            _remove_quietly(tmp)


def _replace(tmp, path):
    name = os.path.basename(path)
    _checkpoint(f"write:{name}")
    try:
        os.replace(tmp, path)
    except OSError as exc:
        raise CampaignError(f"cannot write {path!r}: {exc.strerror or exc}.") from None
    _checkpoint(f"replace:{name}")


def _atomic_write(path, write):
    """Write through ``write(tmp_path)`` to a temporary file, then replace ``path``.

    Any failure (a full disk, a read-only folder or file) leaves ``path`` as it
    was and no temporary file behind, and is reported as a :class:`CampaignError`.
    Under :func:`replaced_together`, ``path`` is replaced at the end of the block.
    """
    path = os.fspath(path)
    check_writable(path)
    if os.path.isdir(path):
        raise CampaignError(f"cannot write {path!r}: it is a folder; give the path of a file.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CampaignError(f"cannot write {path!r}: the folder {folder!r} does not exist.")
    try:
        tmp = new_temporary(path, TMP_MARK)
    except OSError as exc:
        raise CampaignError(f"cannot write {path!r}: {exc.strerror or exc}.") from None
    try:
        if os.path.exists(path):
            # The file replaced keeps its permissions: a shared DATA stays readable and
            # writable by the other annotators.
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
    except OSError as exc:
        _remove_quietly(tmp)
        raise CampaignError(f"cannot write {path!r}: {exc.strerror or exc}.") from None
    except BaseException:
        _remove_quietly(tmp)
        raise
    pending = _PENDING.get()
    if pending is not None:
        pending.append((tmp, path))
        return
    try:
        _replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise


def _remove_quietly(path):
    with contextlib.suppress(OSError):
        os.unlink(path)


def remove_stale_temporaries(*paths):
    """Remove the temporary files a killed run left beside ``paths``; return their names.

    Call it only while holding DATA's lock: then no other run is
    writing them.
    """
    removed = []
    for path in paths:
        folder = os.path.dirname(os.path.abspath(path))
        pattern = os.path.join(glob.escape(folder), f".{glob.escape(os.path.basename(path))}")
        for stale in glob.glob(pattern + glob.escape(TMP_MARK) + "*"):
            _remove_quietly(stale)
            removed.append(os.path.basename(stale))
    return removed


def parse_numbers(texts, decimal="."):
    """Each cell of ``texts`` as ``float`` reads it, at C speed where the column allows.

    The same values as parsing cell by cell (a decimal comma taken where
    ``decimal=","``): a column of 200,000 rows is parsed at once, each
    distinct text once, rather than by a Python call per cell.

    Parameters
    ----------
    texts : sequence of str
        Stripped cells, blanks as ``""``.
    decimal : {".", ","}, default="."
        The decimal mark of the file.

    Returns
    -------
    values : ndarray of float
        NaN where a cell is blank or no number.
    is_number : ndarray of bool
        Where a cell is a number (a ``nan`` that ``float`` reads included).
    """
    codes, _, values, is_number = parse_distinct(texts, decimal)
    return values[codes], is_number[codes]


def decimal_marks(cells, sep):
    """``(points, commas)``: how many cells of ``cells`` are decimal numbers written
    with a point (``-1.5``, ``.5``, ``2.5e3``), and with a comma.

    A cell with both marks (``1.234,5``, ``1,234.5``: thousands grouped, as a
    spreadsheet shows numbers) is no decimal number to skbait, and says
    nothing. In a comma-separated file a comma is a decimal mark only in a
    quoted cell, where ``1,234`` is as likely a US export's thousands grouping:
    it says nothing either.

    Parameters
    ----------
    cells : sequence of str
        A column's cells (missing ones may be None or NaN).
    sep : str
        The file's separator.
    """
    return sum(_numbers_with(cells, ".", sep)), sum(_numbers_with(cells, ",", sep))


def _numbers_with(cells, mark, sep):
    """For each cell of ``cells`` that holds ``mark``, whether it is a decimal number
    written with it (lazily: ``any`` stops at the first)."""
    import pandas as pd

    series = cells if isinstance(cells, pd.Series) else pd.Series(list(cells), dtype=object)
    try:
        # Only the cells that hold the mark are looked at, found at C speed.
        holds = series.str.contains(mark, regex=False, na=False).to_numpy(dtype=bool)
    except AttributeError:  # no text at all (numbers a parquet file typed): no mark
        return
    holds = np.flatnonzero(holds)
    for i in holds:
        text = str(series.iat[i]).strip()
        if mark == ".":
            yield _DECIMAL_POINT.match(text) is not None
        else:
            yield _DECIMAL_COMMA.match(text) is not None and not (
                sep == "," and _GROUPED.match(text)
            )


def parse_distinct(texts, decimal="."):
    """:func:`parse_numbers` of the distinct cells: ``(codes, cells, values, is_number)``,
    where ``cells[codes]`` is ``texts`` and ``values``, ``is_number`` are per distinct cell."""
    import pandas as pd

    codes, cells = pd.factorize(np.asarray(texts, dtype=object), use_na_sentinel=False)
    cells = np.asarray(cells, dtype=object)
    read = cells
    if decimal == ",":
        read = np.array(
            [c.replace(",", ".") if _DECIMAL_COMMA.match(c) else c for c in cells], dtype=object
        )
    is_number = read != ""
    values = np.full(len(read), np.nan)
    try:
        # numpy reads each object with float(): the same values, the loop in C.
        values[is_number] = read[is_number].astype(np.float64)
    except ValueError:
        for i in np.flatnonzero(is_number):
            try:
                values[i] = float(read[i])
            except ValueError:
                is_number[i] = False
    return codes, cells, values, is_number


# Files given for a CSV that are no text at all, by their first bytes: what each is, and
# the fix. They would read as text in an unknown encoding (or fail in a decompressor).
_NOT_TEXT = (
    (
        b"PK\x03\x04",
        "a zip file (an Excel .xlsx or OpenDocument workbook?)",
        "save it as 'CSV UTF-8' in Excel (or 'Text CSV' in LibreOffice) and give that file",
    ),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an Excel 97-2003 workbook",
        "save it as 'CSV UTF-8' in Excel and give that file",
    ),
    (b"\x1f\x8b", "gzip-compressed", "decompress it (gunzip) and give the CSV file"),
    (b"PAR1", "a parquet file", "name it .parquet"),
)


def _not_text(path):
    """``(what, fix)`` for a file whose first bytes say it is no CSV text, else None."""
    with open(path, "rb") as handle:
        start = handle.read(8)
    for magic, what, fix in _NOT_TEXT:
        if start.startswith(magic):
            return what, fix
    return None


def _is_parquet(path):
    return os.fspath(path).lower().endswith((".parquet", ".pq"))


def _require_pyarrow(path):
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise CampaignError(
            f"{os.fspath(path)!r} is a parquet file, which needs pyarrow: "
            "pip install 'skbait[parquet]' (or use a CSV file)."
        ) from None


def _encoding(raw, path):
    """The encoding of a CSV file's bytes ``raw``: ``"utf-8"`` where they are UTF-8 (with
    or without a byte-order mark), else :data:`WINDOWS_1252` where every byte is one of its
    characters; a CampaignError naming the byte that is neither.

    No guessing beyond that rule: a file that decodes as UTF-8 is UTF-8, and the five
    bytes Windows-1252 leaves undefined (0x81, 0x8d, 0x8f, 0x90, 0x9d) make it no
    Windows-1252. A NUL byte makes it no text of either: UTF-16 (Excel's "Unicode Text"),
    which Windows-1252 would read as letters between NULs.
    """
    fix = "Save it as 'CSV UTF-8' in Excel, or with encoding='utf-8' in pandas."
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise CampaignError(
            f"cannot read {path!r}: it holds a NUL byte ({_where(raw, nul)}): UTF-16 text "
            f"(Excel's 'Unicode Text'?), or no text at all. {fix}"
        )
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        not_utf8 = f"byte {raw[exc.start]:#x} {_where(raw, exc.start)}"
    if raw.startswith(codecs.BOM_UTF8):
        raise CampaignError(
            f"cannot read {path!r}: it starts with UTF-8's byte-order mark but is not UTF-8 "
            f"text ({not_utf8}). {fix}"
        )
    try:
        raw.decode(WINDOWS_1252)
        return WINDOWS_1252
    except UnicodeDecodeError as exc:
        undefined = f"byte {raw[exc.start]:#x} {_where(raw, exc.start)}"
    undefined += ", which Windows-1252 leaves undefined"
    if undefined.startswith(not_utf8):
        neither = f"neither UTF-8 nor Windows-1252 text ({undefined})"
    else:
        neither = f"neither UTF-8 text ({not_utf8}) nor Windows-1252 text ({undefined})"
    raise CampaignError(f"cannot read {path!r}: it is {neither}. {fix}")


def _where(raw, position):
    """Where byte ``position`` of ``raw`` is, as an editor counts lines."""
    line = raw[:position].replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
    return f"at position {position}, line {line}"


def _cannot_hold(path, text, char, what="labels"):
    """The error of a cell ``text`` that a Windows-1252 file at ``path`` cannot hold."""
    return (
        f"cannot write {text!r} into {os.fspath(path)!r}: the file is Windows-1252 text (as "
        f"Excel on Windows saves 'CSV'), which has no {char!r}. To use such {what}, save "
        "it as 'CSV UTF-8' in Excel (or with encoding='utf-8' in pandas) and try again; "
        "nothing was changed."
    )


def check_encodable(dialect, path, texts):
    """Refuse, before anything is written, a text of ``texts`` (labels, cells) that the
    encoding of ``dialect`` has no bytes for: a Windows-1252 file cannot hold "日本"."""
    if dialect.encoding == "utf-8":
        return
    for text in texts:
        try:
            text.encode(dialect.encoding)
        except UnicodeEncodeError as exc:
            raise CampaignError(_cannot_hold(path, text, text[exc.start])) from None


class Dialect:
    """How a CSV file was written: encoding, separator, byte-order mark, line ends,
    decimal mark and quotes.

    ``quoting`` says, for each kind of cell (``"header"``, ``"text"``, ``"number"``,
    ``"blank"``), whether the file quotes it (None where its cells do not say); None
    for a file whose first rows quote nothing (or no file yet). ``encoding`` is
    ``"utf-8"`` or :data:`WINDOWS_1252` (see :attr:`codec`).
    """

    def __init__(self, sep=",", bom=False, lineterminator="\n", quoting=None, encoding="utf-8"):
        self.encoding = encoding
        self.sep = sep
        self.bom = bom
        self.lineterminator = lineterminator
        self.quoting = quoting
        # Whether some missing cell is written bare (R's NA), where ``quoting`` is known.
        self.bare_blank = False
        # The decimal mark numbers are read with: :meth:`detect_decimal` finds it.
        self.decimal = self.conventional_decimal
        self.mixed = False  # whether the file's numbers use both marks
        self._columns = {}

    @property
    def codec(self):
        """The codec that reads and writes the file's text, its byte-order mark included."""
        return "utf-8-sig" if self.bom else self.encoding

    @property
    def conventional_decimal(self):
        """The decimal mark of a file whose numbers do not say: a comma in a semicolon or
        tab file (European Excel's), a point in a comma-separated one.

        Row fingerprints read numbers with it, as every campaign did before the mark
        was detected: they stay the same for the same file.
        """
        return "." if self.sep == "," else ","

    def detect_decimal(self, columns):
        """Set :attr:`decimal` from ``columns`` (``{name: cells}``), the file's cells.

        The mark of the file's decimal numbers (:func:`decimal_marks`) where they
        use one; :attr:`conventional_decimal` where there are none (integers,
        blanks) or where they mix both, as the file was always read.
        """
        self._columns = columns
        points = commas = False
        for cells in columns.values():
            points = points or any(_numbers_with(cells, ".", self.sep))
            commas = commas or any(_numbers_with(cells, ",", self.sep))
            if points and commas:
                break
        self.mixed = points and commas
        if points != commas:
            self.decimal = "." if points else ","
        else:
            self.decimal = self.conventional_decimal

    def decimal_for(self, column):
        """The decimal mark of a number written into ``column``: the one most of its
        numbers use, else the file's. A comma only where the file reads it back: in a
        comma-separated file that mixes both marks, whose decimal commas are text."""
        if not self.mixed or self.decimal == "." or column not in self._columns:
            return self.decimal
        points, commas = decimal_marks(self._columns[column], self.sep)
        return "." if points > commas else "," if commas > points else self.decimal

    def to_csv(self, frame, path, header=True, na_values=(), missing="", texts=None):
        """Write ``frame`` of text cells to ``path`` in this dialect.

        A None cell is missing: written ``missing`` (one text, or one per column).
        Where ``quoting`` quotes kinds apart, a cell among ``na_values`` is a blank
        (bare as R writes NA) unless ``texts`` (a boolean mask of the frame) says
        it is text.
        """
        encoding = self.codec
        missing = [missing] * frame.shape[1] if isinstance(missing, str) else list(missing)
        frame = _floats_as_text(frame, self.decimal)
        if self.quoting is None or not any(self.quoting.values()):
            if frame.isna().to_numpy().any():
                frame = frame.astype(object).copy()
                for c, token in enumerate(missing):
                    column = frame.iloc[:, c]
                    frame.iloc[:, c] = column.where(column.notna(), token)
            frame.to_csv(
                path,
                sep=self.sep,
                index=False,
                header=header,
                lineterminator=self.lineterminator,
                encoding=encoding,
            )
            return
        # Each kind of cell quoted as the file quotes it (R's write.csv: header and text).
        quote = {kind: bool(flag) for kind, flag in self.quoting.items()}
        names = list(frame.columns) if header is True else header
        lines = []
        if names is not False:
            names = (_quoted_cell(str(n), quote["header"], self.sep) for n in names)
            lines.append(self.sep.join(names))
        cells = frame.to_numpy(dtype=object)
        for r, values in enumerate(cells):
            line = []
            for c, value in enumerate(values):
                if value is None or (not isinstance(value, str) and _isna(value)):
                    line.append(_quoted_cell(missing[c], quote["blank"], self.sep))
                    continue
                text = str(value)
                kind = "text" if texts is not None and texts[r, c] else None
                kind = kind or _cell_kind(text, na_values, self)
                line.append(_quoted_cell(text, quote[kind], self.sep))
            lines.append(self.sep.join(line))
        _write_text(path, "".join(line + self.lineterminator for line in lines), encoding)


def _floats_as_text(frame, decimal):
    """``frame`` with its columns of floats (scores, probabilities) as text written with
    ``decimal``; missing cells stay missing."""
    import pandas as pd

    floats = [c for c, dtype in enumerate(frame.dtypes) if pd.api.types.is_float_dtype(dtype)]
    if decimal == "." or not floats:
        return frame
    frame = frame.copy()
    for c in floats:
        column = frame.iloc[:, c]
        texts = [None if pd.isna(v) else repr(float(v)).replace(".", decimal) for v in column]
        frame.isetitem(c, pd.Series(texts, index=frame.index, dtype=object))
    return frame


def _isna(value):
    import pandas as pd

    return bool(pd.isna(value))


def _cell_kind(text, na_values, dialect):
    """``"blank"``, ``"number"`` or ``"text"``: the kinds of cell a file may quote apart."""
    text = text.strip()
    if text == "" or text in na_values:
        return "blank"
    if dialect.decimal == "," and _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    try:
        float(text)
    except ValueError:
        return "text"
    return "number"


def _consistent_fields(lines, sep):
    """The number of fields of every line under ``sep``, or 0 if they differ.

    A separator that splits no line (one field each) counts as 0 too: it would
    otherwise win over the file's own separator wherever one line is ragged.
    """
    counts = {len(row) for row in csv.reader(lines, delimiter=sep) if row}
    return counts.pop() if len(counts) == 1 and min(counts) > 1 else 0


def sniff_dialect(path, na_values=DEFAULT_NA_VALUES, whole_lines=False):
    """The dialect of the CSV file at ``path`` (comma, semicolon or tab), its quotes
    judged with ``na_values`` as the missing-value tokens.

    ``whole_lines``: judge only the lines up to the last line end, in a file appended to
    line by line (the labeling page's answer file), whose last line a crash may have cut
    short, perhaps inside a character.
    """
    with open(path, "rb") as handle:
        raw = handle.read()  # the encoding is the whole file's
    if whole_lines:
        raw = raw[: max(raw.rfind(b"\n"), raw.rfind(b"\r")) + 1]
    encoding = _encoding(raw, os.fspath(path))
    bom = raw.startswith(codecs.BOM_UTF8)
    raw = raw[:_SAMPLE_BYTES]
    sample = raw.decode("utf-8-sig" if bom else encoding, errors="replace")
    # Windows ends lines with CRLF, old Mac Excel ("CSV (Macintosh)") with a CR alone.
    if "\r\n" in sample:
        lineterminator = "\r\n"
    elif "\r" in sample and "\n" not in sample:
        lineterminator = "\r"
    else:
        lineterminator = "\n"
    lines = sample.splitlines()
    if len(raw) == _SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    lines = lines[:200]
    try:
        sep = csv.Sniffer().sniff("\n".join(lines), delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        sep = ","
    # The sniffer can be fooled (decimal commas in a semicolon file); trust a separator
    # that splits every line alike into most fields.
    fields = {s: _consistent_fields(lines, s) for s in SEPARATORS}
    if fields.get(sep, 0) < max(fields.values()):
        sep = max(SEPARATORS, key=lambda s: (fields[s], -SEPARATORS.index(s)))
    dialect = Dialect(sep=sep, bom=bom, lineterminator=lineterminator, encoding=encoding)
    # The decimal mark from the first rows; a table read whole finds it in every row.
    rows = list(csv.reader(lines, delimiter=sep))
    if rows:
        names, cells = rows[0], rows[1:]
        dialect.detect_decimal(
            {name: [row[i] for row in cells if i < len(row)] for i, name in enumerate(names)}
        )
    dialect.quoting, dialect.bare_blank = _sniff_quoting(raw, dialect, frozenset(na_values))
    return dialect


def _header(path, dialect):
    with open(path, encoding=dialect.codec, newline="") as handle:
        for row in csv.reader(handle, delimiter=dialect.sep):
            return row
    return []


class _Table:
    """A data or answer file: the frame as read and a text view of every cell.

    Parameters
    ----------
    path : str or path-like
    na_values : sequence of str, default=DEFAULT_NA_VALUES
        Cell texts read as blanks (besides the empty cell).
    """

    def __init__(self, path, na_values=None):
        import pandas as pd

        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise CampaignError(f"no such file: {self.path!r}.")
        self.na_values = frozenset(DEFAULT_NA_VALUES if na_values is None else na_values)
        self.parquet = _is_parquet(self.path)
        self.dialect = Dialect()
        self.header = None
        try:
            if self.parquet:
                _require_pyarrow(self.path)
                self.frame = pd.read_parquet(self.path)
            else:
                kind = _not_text(self.path)
                if kind is not None:
                    raise CampaignError(
                        f"cannot read {self.path!r}: it is {kind[0]}, not CSV text; {kind[1]}."
                    )
                self.dialect = sniff_dialect(self.path, self.na_values)
                # Every cell as text, nothing read as missing: rewriting changes nothing.
                self.frame = pd.read_csv(
                    self.path,
                    sep=self.dialect.sep,
                    dtype=str,
                    keep_default_na=False,
                    encoding=self.dialect.codec,
                    compression=None,  # read as sniffed: a name ending .gz says nothing
                )
                self.header = _header(self.path, self.dialect)
        except CampaignError:
            raise
        except UnicodeDecodeError as exc:
            # Only a file that changed since its encoding was sniffed gets here.
            raise CampaignError(
                f"cannot read {self.path!r}: it changed while read, and is no longer "
                f"{exc.encoding} text (byte {exc.object[exc.start]:#x}). Save it as "
                "'CSV UTF-8' in Excel, or with "
                "encoding='utf-8' in pandas."
            ) from None
        except (ValueError, OSError) as exc:
            ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            if ragged:
                expected, line, saw = ragged.groups()
                raise CampaignError(
                    f"cannot read {self.path!r}: line {line} has {saw} fields where the header "
                    f"has {expected}. Quote any cell that holds the separator "
                    f"{self.dialect.sep!r}, or remove the extra fields."
                ) from None
            raise CampaignError(f"cannot read {self.path!r}: {exc}") from None
        if (
            not self.parquet
            and len(self.frame)
            and not isinstance(self.frame.index, pd.RangeIndex)
        ):
            # pandas takes a first column without a header as the index, so every
            # column would shift one place: a cell with an unquoted separator, or
            # a column left unnamed.
            raise CampaignError(
                f"cannot read {self.path!r}: its rows have more fields than its header "
                f"({self.frame.shape[1] + self.frame.index.nlevels} against "
                f"{self.frame.shape[1]}, from the first row on). Give every column a "
                f"name, and quote any cell that holds the separator {self.dialect.sep!r}."
            )
        if self.header is not None and len(self.header) != self.frame.shape[1]:
            self.header = None
        if not self.parquet and len(self.frame):
            # A spreadsheet ends the file with rows of empty cells (";;;;") where cells below
            # the data were ever formatted: no row to label, nor an answer. pandas skips an
            # empty line the same way; rows before them keep their positions.
            kept = len(self.frame)
            while kept and all(not str(c).strip() for c in self.frame.iloc[kept - 1].fillna("")):
                kept -= 1
            self.frame = self.frame.iloc[:kept]
        self.frame.columns = [str(c) for c in self.frame.columns]
        self._text = {}
        self._labels = {}
        self._quoted = {}
        if len(set(self.frame.columns)) != len(self.frame.columns):
            raise CampaignError(f"{self.path!r} has two columns of one name.")
        if not self.parquet:
            self.dialect.detect_decimal({c: self.frame[c] for c in self.frame.columns})

    def __len__(self):
        return len(self.frame)

    @property
    def columns(self):
        return list(self.frame.columns)

    def resolve(self, name):
        """The column a user means by ``name``: itself, else the one column whose name is
        ``name`` but for surrounding spaces (a header written ``a, b, label``)."""
        if name is None or name in self.frame.columns:
            return name
        matches = [c for c in self.frame.columns if c.strip() == str(name).strip()]
        return matches[0] if len(matches) == 1 else name

    def unnamed(self):
        """The columns whose header cell is blank: pandas names them by position
        ("Unnamed: 0"), so the name says nothing about what they hold."""
        if self.header is None:
            return set()
        return {c for c, h in zip(self.frame.columns, self.header) if not h.strip()}

    def text(self, column):
        """The cells of ``column`` as stripped text, missing cells as "" (cached)."""
        if column not in self._text:
            series = self.frame[column]
            missing = series.isna().to_numpy()
            values = series.astype(str).str.strip().to_numpy(dtype=object, copy=True)
            values[missing] = ""
            values[np.isin(values, list(self.na_values))] = ""
            self._text[column] = values
        return self._text[column]

    @property
    def quotes_na_as_text(self):
        """Whether this file tells a quoted missing-value token from a bare one.

        R's ``write.csv`` quotes the header and every text cell and writes a
        missing cell ``NA`` bare: there ``"NA"`` is the text NA (North America).
        Only a CSV file that quotes every text cell and writes some blank or
        missing cell bare says so; in any other file ``NA`` is missing, quoted or
        not.
        """
        quoting = self.dialect.quoting
        return bool(quoting and quoting["text"] and self.dialect.bare_blank)

    def labels(self, column):
        """The cells of ``column`` as :meth:`text` has them, except that a missing-value
        token quoted in a file that :attr:`quotes_na_as_text` is the text it says (cached).

        The label column and an answer file's labels are read so: a class named
        ``NA`` that R wrote is a label, not an unlabeled row.
        """
        if column not in self._labels:
            texts = self.text(column)
            literal = self._quoted_na(column)
            if literal.any():
                texts = texts.copy()
                cells = self.frame[column].to_numpy(dtype=object)
                texts[literal] = [str(c).strip() for c in cells[literal]]
            self._labels[column] = texts
        return self._labels[column]

    def _quoted_na(self, column):
        """Where a cell of ``column`` is a missing-value token written in quotes, in a file
        that :attr:`quotes_na_as_text` (none elsewhere; cached)."""
        if column not in self._quoted:
            self._quoted[column] = self._find_quoted_na(column)
        return self._quoted[column]

    def _find_quoted_na(self, column):
        none = np.zeros(len(self), dtype=bool)
        quoting = self.dialect.quoting
        if self.parquet or not (quoting and quoting["text"]):
            return none
        cells = self.frame[column].astype(str).str.strip().to_numpy(dtype=object)
        candidates = np.flatnonzero(np.isin(cells, list(self.na_values)))
        if not candidates.size:
            return none
        with open(self.path, encoding=self.dialect.codec, newline="") as handle:
            records = _records(handle.read(), self.dialect.sep)
        if len(records) < len(self) + 1:
            return none
        index = self.columns.index(column)
        quoted = np.zeros(candidates.size, dtype=bool)
        for k, row in enumerate(candidates):
            if f'"{cells[row]}"' not in records[row + 1][0]:
                continue  # bare: only a line with the token in quotes is parsed (speed)
            fields = _fields(records[row + 1][0], self.dialect.sep)
            if fields is None or len(fields) != len(self.columns):
                return none  # not read back exactly: nothing says which cell was quoted
            _, quoted[k], cell = fields[index]
            if cell.strip() != cells[row]:
                return none
        # A bare NA in the column itself says that the file writes missing cells bare.
        self.dialect.bare_blank = self.dialect.bare_blank or not quoted.all()
        if not self.quotes_na_as_text:
            return none
        none[candidates[quoted]] = True
        return none

    def number(self, text):
        """``text`` as a float read with this file's decimal mark, or None."""
        if self.dialect.decimal == "," and _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            return None
        return value

    def na_token(self, column):
        """The text this file writes for a missing cell of ``column`` ("" if none seen)."""
        cells = self.frame[column].astype(str).str.strip()
        tokens = cells[cells.isin(self.na_values) & ~self._quoted_na(column)]
        return tokens.mode().iloc[0] if len(tokens) else ""

    def write(self, frame, path=None, written=None):
        """Write ``frame`` to ``path`` (this file by default) in this file's dialect.

        A CSV file that quotes cells (R's ``write.csv`` quotes the header and every
        text cell, not numbers nor ``NA``) is rewritten line by line: the lines
        whose cells are unchanged stay as they are, and a new cell is quoted as the
        column (else the line, else the header) quotes cells of its kind.

        ``written`` (a boolean mask of ``frame``; by default where it differs from
        the file) marks the cells the caller wrote: None there is a missing cell,
        written as the column writes them (R: ``NA`` bare), and a text, a missing-
        value token included, is a label, quoted where :attr:`quotes_na_as_text`.
        """
        path = self.path if path is None else path
        if written is None:
            same_shape = frame.shape == self.frame.shape
            written = (
                frame.to_numpy(dtype=object) != self.frame.to_numpy(dtype=object)
                if same_shape
                else np.ones(frame.shape, dtype=bool)
            )
        if self.dialect.encoding != "utf-8" and not (self.parquet or _is_parquet(path)):
            # UTF-8 holds every text: only a Windows-1252 file's cells need the check.
            cells = frame.to_numpy(dtype=object)[np.asarray(written, dtype=bool)]
            check_encodable(self.dialect, path, [c for c in cells if isinstance(c, str)])
        if path == self.path and not self.parquet:
            text = _requoted(self, frame, written)
            if text is not None:
                codec = self.dialect.codec
                _atomic_write(path, lambda tmp: _write_text(tmp, text, codec))
                return
        header = self.header if self.header is not None and path == self.path else True
        if self.parquet or _is_parquet(path):
            write_frame(frame, path, dialect=self.dialect, header=header)
            return
        missing = [self.na_token(c) if c in self.columns else "" for c in frame.columns]
        texts = self._literal_cells(frame, written)
        write_csv(frame, path, self.dialect, header, self.na_values, missing, texts)

    def _literal_cells(self, frame, written):
        """Where a cell of ``frame`` is a missing-value token to write as text: a label
        written, or a cell :meth:`labels` read so."""
        literal = np.zeros(frame.shape, dtype=bool)
        if not self.quotes_na_as_text:
            return literal
        cells = frame.to_numpy(dtype=object)
        for c, column in enumerate(frame.columns):
            labels = written[:, c].copy()
            labels[labels] = [isinstance(v, str) for v in cells[labels, c]]
            if column in self._labels and len(frame) == len(self):
                labels |= ~written[:, c] & self._quoted_na(column)
            literal[:, c] = labels
        return literal


def _sniff_quoting(raw, dialect, na_values, sample_rows=200):
    """``(quoting, bare_blank)`` of a CSV file from ``raw``, its first bytes (at most
    ``_SAMPLE_BYTES``), read as ``dialect`` says.

    ``quoting`` is, for each kind of cell, True where every cell of that kind is
    quoted, False where some is bare, None where none was seen (cells that need
    quotes, holding the separator, a quote or a line end, say nothing); None for
    a file whose first rows quote nothing. ``bare_blank``: some missing cell
    (a blank or a missing-value token) is written bare.
    """
    if b'"' not in raw:
        return None, False
    sep = dialect.sep
    records = _records(raw.decode(dialect.codec, errors="replace"), sep)
    if len(raw) == _SAMPLE_BYTES and len(records) > 1:
        records = records[:-1]  # the last record may be cut off
    flags = {"header": [], "text": [], "number": [], "blank": []}
    for i, (content, _) in enumerate(records[: sample_rows + 1]):
        fields = _fields(content, sep)
        if fields is None:
            continue
        for _, quoted, cell in fields:
            if _needs_quotes(cell, sep):
                continue
            kind = "header" if i == 0 else _cell_kind(cell, na_values, dialect)
            flags[kind].append(quoted)
    quoting = {kind: (all(found) if found else None) for kind, found in flags.items()}
    return quoting, not all(flags["blank"])


def _write_text(path, text, encoding):
    with open(path, "w", encoding=encoding, newline="") as handle:
        handle.write(text)


def _records(text, sep):
    """The CSV records of ``text``, each ``(content, line end)``; a record goes on over
    line ends inside quotes. Blank lines, which pandas skips, are left out."""
    pieces = re.split(r"(\r\n|\n|\r)", text)
    records, open_record = [], None
    for content, end in zip(pieces[::2], pieces[1::2] + [""]):
        if open_record is not None:
            content = open_record + content
        if content.count('"') % 2:
            open_record = content + end
            continue
        open_record = None
        if sep in content or content.strip():
            records.append((content, end))
    return records


_FIELD = {}  # the pattern of one field, by separator


def _fields(record, sep):
    """The fields of one record, each ``(raw text, quoted, cell)``; None where it is not
    plain CSV (a quote inside a bare cell, text after a closing quote)."""
    pattern = _FIELD.get(sep)
    if pattern is None:
        s = re.escape(sep)
        pattern = _FIELD[sep] = re.compile(f'(?:"((?:[^"]|"")*)"|([^"{s}]*))({s}|\\Z)')
    fields, pos = [], 0
    while True:
        match = pattern.match(record, pos)
        if match is None:
            return None
        quoted = match.group(1) is not None
        cell = match.group(1).replace('""', '"') if quoted else match.group(2)
        fields.append((record[match.start() : match.start(3)], quoted, cell))
        if not match.group(3):
            return fields if match.end() == len(record) else None
        pos = match.end()


def _requoted(table, frame, written):
    """The text of ``table``'s file with the cells ``written`` (a mask of ``frame``) as
    ``frame`` has them, quoted as the file quotes cells of their kind; None if the file
    quotes nothing (pandas writes it as it was) or is not read back exactly (pandas
    writes it then)."""
    with open(table.path, encoding=table.dialect.codec, newline="") as handle:
        text = handle.read()
    sep, n = table.dialect.sep, len(table)
    if '"' not in text or list(frame.columns) != table.columns or frame.shape != table.frame.shape:
        return None
    records = _records(text, sep)
    # The records after the rows are the rows of empty cells that were no rows.
    if len(records) < n + 1 or any(r.replace(sep, "").strip() for r, _ in records[n + 1 :]):
        return None
    old = table.frame.to_numpy(dtype=object)
    new = frame.to_numpy(dtype=object)
    changed = np.asarray(written, dtype=bool)
    split = {}

    def fields(row):  # row -1 is the header
        if row not in split:
            found = _fields(records[row + 1][0], sep)
            expected = table.header if row < 0 else list(old[row])
            if found is None or [cell for _, _, cell in found] != expected:
                raise LookupError(row)
            split[row] = found
        return split[row]

    rows = np.flatnonzero(changed.any(axis=1))
    try:
        for row in rows:
            fields(row)
        quoting = {
            c: _column_quoting(table, c, rows, fields) for c in np.flatnonzero(changed.any(axis=0))
        }
        lines = []
        for i, (content, end) in enumerate(records[: n + 1]):
            row = i - 1
            if row >= 0 and changed[row].any():
                cells = [raw for raw, _, _ in fields(row)]
                for c in np.flatnonzero(changed[row]):
                    if not isinstance(new[row, c], str) and _isna(new[row, c]):
                        # A missing cell: the column's token, bare as R writes NA.
                        text = table.na_token(table.columns[c])
                        cells[c] = _quoted_cell(text, quoting[c](text, missing=True), sep)
                    else:
                        text = str(new[row, c])
                        cells[c] = _quoted_cell(text, quoting[c](text), sep)
                content = sep.join(cells)
            lines.append(content + (end or table.dialect.lineterminator))
    except LookupError:
        return None
    return "".join(lines)


def _kind(table, text, literal=False):
    """The kind of a cell of ``table``; a missing-value token is text where ``literal``."""
    if literal and text.strip():
        return _cell_kind(text, (), table.dialect)
    return _cell_kind(text, table.na_values, table.dialect)


def _column_quoting(table, column, rows, fields, sample=20):
    """``quote(text)``: whether a new cell of ``column`` is quoted. As the column's other
    cells of its kind (blank, number, text) are, else as the changed lines' other cells,
    else (text) as the header is; bare where nothing says."""
    texts = table.labels(table.columns[column])
    is_number = parse_numbers(texts, table.dialect.decimal)[1]
    kinds = np.where(texts == "", "blank", np.where(is_number, "number", "text"))
    skip, sep = set(rows.tolist()), table.dialect.sep
    by_kind = {}
    for kind in ("blank", "number", "text"):
        others = [r for r in np.flatnonzero(kinds == kind)[: sample + len(skip)] if r not in skip]
        # A cell that holds the separator, a quote or a line end says nothing: it is
        # quoted in every style.
        flags = [
            fields(r)[column][1]
            for r in others[:sample]
            if not _needs_quotes(fields(r)[column][2], sep)
        ]
        if not flags:
            flags = [
                quoted
                for r in rows
                for c, (_, quoted, cell) in enumerate(fields(r))
                if c != column and _kind(table, cell) == kind and not _needs_quotes(cell, sep)
            ]
        if not flags and kind == "text":
            flags = [quoted for _, quoted, cell in fields(-1) if not _needs_quotes(cell, sep)]
        by_kind[kind] = bool(flags) and sum(flags) * 2 >= len(flags)

    # A missing-value token written as a label is text where the file tells them apart.
    def quote(text, missing=False):
        return by_kind["blank" if missing else _kind(table, text, table.quotes_na_as_text)]

    return quote


def _needs_quotes(text, sep):
    return any(ch in text for ch in (sep, '"', "\n", "\r"))


def _quoted_cell(text, quote, sep):
    if quote or _needs_quotes(text, sep):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_csv(frame, path, dialect, header=True, na_values=(), missing="", texts=None):
    """Write ``frame`` to the CSV file ``path`` in ``dialect``, atomically (the
    arguments as :meth:`Dialect.to_csv` takes them)."""
    _atomic_csv_write(
        path,
        dialect,
        lambda tmp: dialect.to_csv(
            frame, tmp, header=header, na_values=na_values, missing=missing, texts=texts
        ),
    )


def _atomic_csv_write(path, dialect, write):
    """:func:`_atomic_write` of a CSV file in ``dialect``: a cell its encoding has no
    bytes for (a Windows-1252 file), which no check before caught, is a CampaignError
    (a batch written as the batch file a spreadsheet re-saved)."""
    try:
        _atomic_write(path, write)
    except UnicodeEncodeError as exc:
        if dialect.encoding != WINDOWS_1252:
            raise CampaignError(f"cannot write {os.fspath(path)!r}: {exc}.") from None
        text, start = exc.object, exc.start
        cell = (
            re.search(r'[^,;\t\r\n"]*\Z', text[:start]).group()
            + re.match(r'[^,;\t\r\n"]*', text[start:]).group()
        )
        raise CampaignError(_cannot_hold(path, cell, text[start], "text")) from None


def write_frame(frame, path, dialect=None, header=True):
    """Write a DataFrame to CSV or parquet (by extension), atomically.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or path-like
    dialect : Dialect, default=None
        The CSV dialect (comma-separated, UTF-8, ``\\n`` by default).
    header : bool or list of str, default=True
        The CSV header as pandas takes it (a list writes those names).

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skbait.campaign import write_frame
    >>> path = os.path.join(tempfile.mkdtemp(), "table.csv")
    >>> write_frame(pd.DataFrame({"x": [1, 2]}), path)
    >>> pd.read_csv(path)["x"].tolist()
    [1, 2]
    """
    if _is_parquet(path):
        _require_pyarrow(path)
        _atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        dialect = Dialect() if dialect is None else dialect
        _atomic_csv_write(path, dialect, lambda tmp: dialect.to_csv(frame, tmp, header=header))
