"""The page's answer file: every label given in the page, on disk the moment it is given.

It is a batch answer file as ``skbait teach`` reads it (a ``row`` column and
the target column), so the labels it holds reach DATA through the campaign's
own merge, at the end of each batch, or by hand with ``skbait teach DATA FILE``
after a crash. Each label is one appended line, flushed and fsynced before the
page moves on; a line cut short by a crash (no final newline) is dropped when
the file is read again, since its label may be cut short too, and before the
next label is appended. The file is read as the campaign reads an answer file
(a spreadsheet's re-save: a byte-order mark, ``;`` separators, CRLF line ends),
and a label is appended in the file's own separator and line ends.
"""

import csv
import io
import os
import tempfile

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
    """

    def __init__(self, path, target):
        self.path = os.fspath(path)
        self.target = target

    def _line(self, values, sep=",", lineterminator="\n"):
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=sep, lineterminator=lineterminator).writerow(values)
        return buffer.getvalue()

    def read(self):
        """The labels on disk, ``{row: label}`` (the last line of a row wins)."""
        if not os.path.exists(self.path):
            return {}
        try:
            with open(self.path, encoding="utf-8-sig", newline="") as handle:
                text = handle.read()
        except UnicodeDecodeError:
            raise ValueError(
                f"{self.path!r} is not UTF-8 text (saved as 'CSV (semicolon)' by Excel?); "
                "save it as 'CSV UTF-8'."
            ) from None
        if not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]  # a line cut short by a crash
        sep = _bridge.csv_dialect(self.path).sep
        rows = list(csv.reader(io.StringIO(text), delimiter=sep))
        if not rows:
            return {}
        if rows[0] != ["row", self.target]:
            raise ValueError(
                f"{self.path!r} is not the page's answer file of column {self.target!r} "
                f"(its header is {rows[0]!r}); move it away."
            )
        labels = {}
        for values in rows[1:]:
            if len(values) == 2 and values[0].isdigit():
                labels[int(values[0])] = values[1]
        return labels

    def append(self, row, label):
        """Add one label; on disk (fsynced) when this returns."""
        sep, ending = ",", "\n"
        if os.path.exists(self.path):  # perhaps re-saved by a spreadsheet: its dialect
            dialect = _bridge.csv_dialect(self.path)
            sep, ending = dialect.sep, dialect.lineterminator
        line = self._line([int(row), label], sep, ending)
        with open(self.path, "a+b") as handle:
            end = handle.seek(0, os.SEEK_END)
            if end and (handle.seek(end - 1), handle.read(1))[1] != b"\n":
                # A line cut short by a crash would run into this one ("1" then
                # "7,neg" reads as row 17): it goes first.
                handle.seek(0)
                end = handle.read().rfind(b"\n") + 1
                handle.truncate(end)
            text = (self._line(["row", self.target]) if end == 0 else "") + line
            try:
                handle.write(text.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            except OSError:
                # Not saved (a full disk): no part of the line stays to be read later.
                handle.truncate(end)
                raise

    def rewrite(self, labels):
        """Replace the file's content with ``labels`` (atomically); remove it when empty."""
        if not labels:
            if os.path.exists(self.path):
                os.unlink(self.path)
            return
        text = self._line(["row", self.target]) + "".join(
            self._line([int(r), label]) for r, label in labels.items()
        )
        folder = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix=".skbait-", suffix=".csv", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def snapshot(self, labels, path):
        """Write ``labels`` as an answer file at ``path`` (for one merge)."""
        AnswerJournal(path, self.target).rewrite(labels)
