"""Reading and writing DATA, answer and batch files: CSV or parquet, atomically."""

import os
import tempfile

from skbait.campaign._errors import CampaignError


def _atomic_write(path, write):
    """Write through ``write(handle_path)`` to a temporary file, then replace ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".skbait-", suffix=os.path.basename(path), dir=folder)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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


class _Table:
    """A data or answer file: the frame as read and a text view of every cell."""

    def __init__(self, path):
        import pandas as pd

        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise CampaignError(f"no such file: {self.path!r}.")
        self.parquet = _is_parquet(self.path)
        try:
            if self.parquet:
                _require_pyarrow(self.path)
                self.frame = pd.read_parquet(self.path)
            else:
                # Every cell as text, blanks as "": nothing is reformatted on rewrite.
                # utf-8-sig: spreadsheet programs often start a CSV with a byte-order mark.
                self.frame = pd.read_csv(
                    self.path, dtype=str, keep_default_na=False, encoding="utf-8-sig"
                )
        except CampaignError:
            raise
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            raise CampaignError(f"cannot read {self.path!r}: {exc}") from None
        self.frame.columns = [str(c) for c in self.frame.columns]
        self._text = {}
        if len(set(self.frame.columns)) != len(self.frame.columns):
            raise CampaignError(f"{self.path!r} has two columns of one name.")

    def __len__(self):
        return len(self.frame)

    @property
    def columns(self):
        return list(self.frame.columns)

    def text(self, column):
        """The cells of ``column`` as stripped text, missing cells as "" (cached)."""
        if column not in self._text:
            series = self.frame[column]
            missing = series.isna().to_numpy()
            values = series.astype(str).str.strip().to_numpy(dtype=object, copy=True)
            values[missing] = ""
            self._text[column] = values
        return self._text[column]

    def write(self, frame, path=None):
        path = self.path if path is None else path
        write_frame(frame, path)


def write_frame(frame, path):
    """Write a DataFrame to CSV or parquet (by extension), atomically."""
    if _is_parquet(path):
        _require_pyarrow(path)
        _atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        _atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
