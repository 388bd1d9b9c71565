"""The page's answer file: every label given in the page, on disk the moment it is given.

It is a batch answer file as ``skbait teach`` reads it (a ``row`` column and
the target column), so the labels it holds reach DATA through the campaign's
own merge, at the end of each batch, or by hand with ``skbait teach DATA FILE``
after a crash. Each label is one appended line, flushed and fsynced before the
page moves on; a line cut short by a crash (no final newline) is dropped when
the file is read again, since its label may be cut short too, and before the
next label is appended (``skbait teach`` refuses the file until it is). The
file is read as the campaign reads an answer file (a spreadsheet's re-save: a
byte-order mark, ``;`` separators, CRLF line ends, Windows-1252; pandas' index
or R's row names as a column, columns in another order), and a label is
appended, or the file rewritten, in the file's own encoding, separator, line
ends, byte-order mark and quotes. In a campaign of
numbers, a label is written with the decimal mark of the file's labels (``2,5``
once a spreadsheet saved them so) and read back as the page keeps it (``2.5``).
"""

import csv
import io
import os
import stat

from skbait.label import _bridge

__all__ = ["AnswerJournal"]


class AnswerJournal:
    """``{row: label}`` kept in a CSV answer file.

    Parameters
    ----------
    path : str
        The answer file.
    target : str
        The target column's name (the header of the label column).
    numbers : callable, default=None
        Whether the labels are numbers now (the campaign's type may be learnt
        later): then they are written with the file's decimal mark. Text labels
        are written as they are.
    """

    def __init__(self, path, target, numbers=None):
        self.path = os.fspath(path)
        self.target = target
        self.numbers = numbers

    def _decimal(self, dialect):
        """The decimal mark the file's labels are written with, where labels are numbers
        (None where they are not, or the file uses a point)."""
        if dialect is None or self.numbers is None or not self.numbers():
            return None
        mark = dialect.decimal_for(self.target)
        return mark if mark != "." else None

    def _dialect(self):
        """The dialect of the file on disk (perhaps re-saved by a spreadsheet or R), else
        skbait's own: a comma, LF line ends, no byte-order mark, quotes where needed."""
        if os.path.exists(self.path) and os.path.getsize(self.path):
            return _bridge.csv_dialect(self.path)
        return None

    def _encoded(self, text, dialect, codec):
        """``text`` in ``codec``; a ValueError where the file (re-saved as Windows-1252)
        cannot hold a character of it."""
        if dialect is not None:
            _bridge.check_encodable(dialect, self.path, [text])
        return text.encode(codec)

    def _line(self, values, dialect=None):
        decimal = self._decimal(dialect)
        if decimal is not None and isinstance(values[0], int):
            values = [values[0], _bridge.decimal_label(str(values[1]), ".", decimal)]
        if dialect is None:
            sep, ending, quoting = ",", "\n", csv.QUOTE_MINIMAL
        else:
            sep, ending, quoting = dialect.sep, dialect.lineterminator, _quoting(dialect)
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=sep, lineterminator=ending, quoting=quoting).writerow(values)
        return buffer.getvalue()

    def read(self):
        """The labels on disk, ``{row: label}`` (the last line of a row wins)."""
        if not os.path.exists(self.path):
            return {}
        with open(self.path, "rb") as handle:
            raw = handle.read()
        # A last line cut short by a crash (perhaps inside a character) is no label; old
        # Mac Excel ends lines with a CR alone. The encoding is the whole lines'.
        raw = raw[: max(raw.rfind(b"\n"), raw.rfind(b"\r")) + 1]
        dialect = _bridge.csv_dialect(self.path)  # a ValueError naming a byte not text
        text = raw.decode(dialect.codec)
        decimal = self._decimal(dialect)
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=dialect.sep))
        if not rows:
            return {}
        at_row, at_label = self._columns(rows[0])
        labels = {}
        for values in rows[1:]:
            if len(values) == len(rows[0]) and values[at_row].isdigit():
                label = values[at_label]
                if decimal is not None:
                    label = _bridge.decimal_label(label, decimal, ".")
                labels[int(values[at_row])] = label
        return labels

    def _columns(self, header):
        """Where the row numbers and the labels are: by name, as ``skbait teach`` reads an
        answer file (re-saved by pandas with its index, by R with row names, or with its
        columns moved, the file has other columns, or another order)."""
        if header.count("row") != 1 or header.count(self.target) != 1:
            raise ValueError(
                f"{self.path!r} is not the page's answer file of column {self.target!r} "
                f"(its header is {header!r}); give its labels to DATA with skbait teach "
                "DATA FILE, then move it away."
            )
        return header.index("row"), header.index(self.target)

    def _own_layout(self):
        """Whether the file is missing, empty, or has the page's two columns in order:
        then a label is one appended line."""
        if not os.path.exists(self.path) or not os.path.getsize(self.path):
            return True
        dialect = _bridge.csv_dialect(self.path)
        with open(self.path, encoding=dialect.codec, newline="") as handle:
            header = next(csv.reader(handle, delimiter=dialect.sep), [])
        return header == ["row", self.target]

    def append(self, row, label):
        """Add one label; on disk (fsynced) when this returns."""
        if not self._own_layout():
            # Re-saved with other columns (an index, row names) or in another order: a
            # line of two cells would not fit them. The page's two columns first.
            self.rewrite({**self.read(), int(row): label})
            return
        dialect = self._dialect()  # perhaps re-saved by a spreadsheet: its dialect
        # Appended in the file's encoding (its byte-order mark, if any, is at the start).
        encoding = "utf-8" if dialect is None else dialect.encoding
        line = self._encoded(self._line([int(row), label], dialect), dialect, encoding)
        with open(self.path, "a+b") as handle:
            end = handle.seek(0, os.SEEK_END)
            if end and (handle.seek(end - 1), handle.read(1))[1] not in (b"\n", b"\r"):
                # A line cut short by a crash would run into this one ("1" then
                # "7,neg" reads as row 17): it goes first.
                handle.seek(0)
                start = handle.read()
                end = max(start.rfind(b"\n"), start.rfind(b"\r")) + 1
                handle.truncate(end)
            header = self._line(["row", self.target]).encode("utf-8") if end == 0 else b""
            try:
                handle.write(header + line)
                handle.flush()
                os.fsync(handle.fileno())
            except OSError:
                # Not saved (a full disk): no part of the line stays to be read later.
                handle.truncate(end)
                raise

    def rewrite(self, labels, permissions_of=None):
        """Replace the file's content with ``labels`` (atomically); remove it when empty.

        The file keeps its permissions (those of ``permissions_of`` where given): an
        answer file kept private stays so, one shared with a group stays writable by it.
        """
        if not labels:
            if os.path.exists(self.path):
                os.unlink(self.path)
            return
        # In the file's own dialect, as a spreadsheet or R last saved it.
        dialect = self._dialect()
        text = self._line(["row", self.target], dialect) + "".join(
            self._line([int(r), label], dialect) for r, label in labels.items()
        )
        data = self._encoded(text, dialect, "utf-8" if dialect is None else dialect.codec)
        # Named as the campaign's temporaries: one a killed page leaves is removed at
        # the next start (LabelSession._tidy_answers).
        tmp = _bridge.new_temporary(self.path)
        model = self.path if permissions_of is None else os.fspath(permissions_of)
        try:
            mode = stat.S_IMODE(os.stat(model).st_mode) if os.path.exists(model) else None
            if mode is not None:
                # Owner-only while the labels are written, so that no one the file is
                # kept from opens the temporary meanwhile; its mode once written.
                os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if mode is not None:
                os.chmod(tmp, mode)
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def snapshot(self, labels, path):
        """Write ``labels`` as an answer file at ``path`` (for one merge), readable by
        whom the answer file is."""
        AnswerJournal(path, self.target, self.numbers).rewrite(labels, self.path)


def _quoting(dialect):
    """The csv module's quoting that writes the page's lines (a row number, a label) as
    the file quotes its cells: R quotes the header and text, not numbers."""
    quoting = dialect.quoting or {}
    if not quoting.get("text") and not quoting.get("header"):
        return csv.QUOTE_MINIMAL
    return csv.QUOTE_ALL if quoting.get("number") else csv.QUOTE_NONNUMERIC
