"""Real labeling campaigns on a table with blank labels, kept in a campaign file.

A *campaign* labels the rows of one table (``DATA``, a CSV or parquet file)
whose target column is blank for the rows nobody has labeled yet. Each round,
:func:`query_batch` trains the estimator on the labeled rows and writes the
next batch of rows to label to a file; the annotators fill in the labels,
either in ``DATA`` itself or in the batch file, which :func:`merge_answers`
merges back into ``DATA``. These are the ``skbait query`` and ``skbait teach``
commands.

A **campaign file** beside ``DATA`` (``DATA.campaign.json``) keeps what a
later round needs to continue exactly as if no time had passed:

- ``data``: the target column, the feature columns and a digest of the
  feature values, so that a file that was edited, sorted or replaced is
  noticed;
- ``settings``: strategy, estimator, task, batch size, device, random seed
  and the type of the labels;
- ``labels``: every label the campaign has seen, in the order it learnt them
  (a journal: ``DATA`` losing a label is an error, and
  :func:`restore_labels` writes the journal back);
- ``rounds``: per round, the labels known, the design used, the batch, and
  the value of each stopping criterion (:mod:`skbait.stopping`);
- ``stopping``: the criteria's state.

Files are written atomically (a temporary file in the same folder, then
``os.replace``), in an order that keeps them consistent if the process dies
between any two writes: ``query`` records the batch in the campaign file
before writing the batch file (a rerun rewrites the same batch), and
``teach`` writes ``DATA`` before the campaign file (a rerun finds the new
labels in ``DATA`` and records them). A malformed answer file changes nothing.

Labels are text: a blank cell is a missing label, anything else is a label
(``-1`` is a class like any other).
"""

import datetime
import hashlib
import json
import os
import tempfile

import numpy as np

__all__ = [
    "CampaignError",
    "campaign_path",
    "merge_answers",
    "query_batch",
    "read_campaign",
    "record_labels",
    "restore_labels",
]

FORMAT = "skbait-campaign"
VERSION = 1
ROW = "row"
DEFAULTS = {
    "strategy": "bait",
    "estimator": None,
    "task": "auto",
    "batch_size": 10,
    "device": "auto",
    "random_state": 0,
}
_SHOWN = 20  # problems listed in one error message
MAX_CATEGORIES = 1000  # distinct values of a one-hot encoded text column


class CampaignError(ValueError):
    """A campaign input that cannot be used. Nothing was changed on disk.

    Examples
    --------
    >>> from skbait.campaign import CampaignError
    >>> issubclass(CampaignError, ValueError)
    True
    """


def _problems(title, problems):
    lines = [title] + [f"  {p}" for p in problems[:_SHOWN]]
    if len(problems) > _SHOWN:
        lines.append(f"  ... and {len(problems) - _SHOWN} more")
    lines.append("Nothing was changed.")
    return CampaignError("\n".join(lines))


def campaign_path(data_path):
    """The default campaign file of a data file: ``DATA.campaign.json`` beside it.

    Parameters
    ----------
    data_path : str or path-like

    Returns
    -------
    str

    Examples
    --------
    >>> from skbait.campaign import campaign_path
    >>> campaign_path("pool.csv")
    'pool.csv.campaign.json'
    """
    return os.fspath(data_path) + ".campaign.json"


# --------------------------------------------------------------------- files


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


def read_campaign(path):
    """Read a campaign file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict
        The campaign (see :mod:`skbait.campaign` for its fields).

    Examples
    --------
    >>> import os, tempfile
    >>> from skbait.campaign import read_campaign
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "x.campaign.json")
    >>> with open(path, "w") as handle:
    ...     _ = handle.write('{"format": "skbait-campaign", "version": 1}')
    >>> read_campaign(path)["version"]
    1
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except json.JSONDecodeError as exc:
        raise CampaignError(f"{path!r} is not a campaign file (invalid JSON: {exc}).") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CampaignError(f"{path!r} is not a skbait campaign file.")
    if state.get("version") != VERSION:
        raise CampaignError(
            f"{path!r} has campaign format version {state.get('version')!r}; this skbait "
            f"reads version {VERSION}."
        )
    return state


def _dumps(state):
    """JSON with one line per label and per round, so that the file reads (and diffs) well."""
    parts = []
    for key, value in state.items():
        if isinstance(value, list) and value:
            items = ",\n".join("  " + json.dumps(item) for item in value)
            parts.append(f" {json.dumps(key)}: [\n{items}\n ]")
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(parts) + "\n}"


def _write_campaign(state, path):
    text = _dumps(state)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")

    _atomic_write(path, write)


# -------------------------------------------------------------------- labels


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


# ----------------------------------------------------------------- features


def _feature_columns(table, target, features):
    if ROW in table.columns:
        raise CampaignError(
            f"{table.path!r} has a column named {ROW!r}, which batch files use for the row "
            "number; rename it."
        )
    if target not in table.columns:
        shown = ", ".join(table.columns[:20])
        raise CampaignError(f"no column {target!r} in {table.path!r}; its columns are: {shown}.")
    if features is None:
        columns = [c for c in table.columns if c != target]
    else:
        columns = list(features)
        unknown = [c for c in columns if c not in table.columns]
        if unknown:
            raise CampaignError(f"no feature column {', '.join(map(repr, unknown))} in DATA.")
        if target in columns:
            raise CampaignError(f"the target {target!r} cannot also be a feature.")
    if not columns:
        raise CampaignError(f"{table.path!r} has no feature column besides {target!r}.")
    return columns


def _digest(table, columns, n_rows):
    digest = hashlib.sha256()
    for column in columns:
        digest.update(column.encode("utf-8") + b"\x00")
        digest.update("\x1f".join(table.text(column)[:n_rows]).encode("utf-8") + b"\x1e")
    return digest.hexdigest()


def _feature_matrix(table, columns):
    """Numbers for the model: numeric columns as they are, text columns one-hot encoded."""
    import pandas as pd

    parts, problems = [], []
    for column in columns:
        text = table.text(column)
        blank = text == ""
        values = pd.to_numeric(pd.Series(np.where(blank, None, text)), errors="coerce")
        unparsed = values.isna().to_numpy() & ~blank
        if not unparsed.any():
            if blank.any():
                rows = np.flatnonzero(blank)
                problems.append(
                    f"numeric column {column!r} is blank in rows "
                    f"{', '.join(map(str, rows[:10]))}{' ...' if rows.size > 10 else ''}"
                )
                continue
            numbers = values.to_numpy(dtype=np.float64)
            if not np.isfinite(numbers).all():
                problems.append(f"numeric column {column!r} holds infinite values")
                continue
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
            "DATA's features need a value in every row (fill them, or choose the feature "
            "columns with --features):",
            problems,
        )
    return np.hstack(parts)


# ------------------------------------------------------------------- syncing


def _known_labels(state):
    return {int(entry["row"]): entry["label"] for entry in state["labels"]}


def _check_data(state, table):
    """DATA is the campaign's file: the same feature values in its first rows."""
    data = state["data"]
    n_known = data["n_rows"]
    if len(table) < n_known:
        raise CampaignError(
            f"{table.path!r} has {len(table)} rows but had {n_known} when the campaign last "
            "saw it: rows were removed. Restore the file, or start a new campaign (--campaign)."
        )
    if _digest(table, data["features"], n_known) != data["digest"]:
        raise CampaignError(
            f"the feature values in {table.path!r} changed since the campaign last saw it "
            "(rows edited, sorted or removed?): the row numbers would no longer match. "
            "Restore the file, or start a new campaign (--campaign)."
        )
    if len(table) > n_known:
        data["n_rows"] = len(table)
        data["digest"] = _digest(table, data["features"], len(table))


def _sync_from_data(state, table):
    """Labels filled in DATA join the journal; a label DATA lost or changed is an error.

    Returns the rows newly learnt from DATA.
    """
    target = state["data"]["target"]
    texts = table.text(target)
    known = _known_labels(state)
    lost = [r for r, label in known.items() if r >= len(texts) or texts[r] == ""]
    changed = [r for r, label in known.items() if r < len(texts) and texts[r] not in ("", label)]
    if lost or changed:
        problems = [f"row {r}: DATA lost the label {known[r]!r}" for r in sorted(lost)]
        problems += [
            f"row {r}: DATA says {texts[r]!r}, the campaign recorded {known[r]!r}"
            for r in sorted(changed)
        ]
        raise _problems(
            f"{table.path!r} disagrees with the labels the campaign recorded (skbait teach "
            "DATA --restore writes them back):",
            problems,
        )
    new_rows = [r for r in np.flatnonzero(texts != "").tolist() if r not in known]
    if not new_rows:
        return []
    settings = state["settings"]
    label_type = settings["label_type"]
    if label_type is None:
        label_type = _infer_label_type([texts[r] for r in new_rows], settings["task"])
    _check_labels(new_rows, [texts[r] for r in new_rows], label_type, lambda r: f"DATA row {r}")
    settings["label_type"] = label_type
    # The journal keeps DATA's own spelling ("3.0" for the class 3), so that the two agree.
    round_ = len(state["rounds"])
    for row in new_rows:
        state["labels"].append({"row": int(row), "label": texts[row], "round": round_})
    return new_rows


def _new_campaign(table, target, features):
    columns = _feature_columns(table, target, features)
    return {
        "format": FORMAT,
        "version": VERSION,
        "data": {
            "file": os.path.basename(table.path),
            "target": target,
            "features": columns,
            "n_rows": len(table),
            "digest": _digest(table, columns, len(table)),
        },
        "settings": dict(DEFAULTS, label_type=None),
        "labels": [],
        "rounds": [],
        "stopping": {},
    }


def _open(data_path, campaign, *, target=None, features=None, create=False):
    """Read DATA and its campaign (a new one if ``create`` and none exists)."""
    table = _Table(data_path)
    path = campaign_path(data_path) if campaign is None else os.fspath(campaign)
    if os.path.exists(path):
        state = read_campaign(path)
        if target is not None and target != state["data"]["target"]:
            raise CampaignError(
                f"the campaign {path!r} labels column {state['data']['target']!r}, not "
                f"{target!r}; start a new campaign with --campaign to label another column."
            )
        if features is not None and list(features) != state["data"]["features"]:
            raise CampaignError(
                f"the campaign {path!r} uses the feature columns "
                f"{', '.join(state['data']['features'])}; they cannot change mid-campaign."
            )
        _check_data(state, table)
    elif create:
        if target is None:
            raise CampaignError(
                f"no campaign file {path!r} yet: give --target COLUMN, the label column."
            )
        state = _new_campaign(table, target, features)
    else:
        raise CampaignError(
            f"no campaign file {path!r}: run skbait query DATA --target COLUMN first."
        )
    _feature_columns(table, state["data"]["target"], state["data"]["features"])
    return table, state, path


# ------------------------------------------------------------------- answers


def merge_answers(data_path, answers_path, *, campaign=None):
    """Merge an answer file (a filled batch file) into DATA.

    The answer file needs the ``row`` column and the target column; blank
    labels are skipped (still to be answered). Every problem is collected and
    reported at once, and then nothing changes: a row that is not a row of
    DATA, a label of the wrong type, a row answered twice with different
    labels, a label for a row that DATA labels differently, or a row whose
    other columns do not match DATA's (a sorted or edited file). DATA is
    written first, then the campaign file.

    Parameters
    ----------
    data_path : str or path-like
        The CSV or parquet file being labeled.
    answers_path : str or path-like
        The filled batch file (CSV or parquet).
    campaign : str or path-like, default=None
        The campaign file; ``DATA.campaign.json`` by default.

    Returns
    -------
    dict
        ``merged`` (rows newly labeled, in row order), ``unanswered`` (rows of
        the answer file with a blank label), ``already`` (rows answered that
        DATA already labeled alike) and ``from_data`` (labels found in DATA
        that the campaign had not recorded yet).

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skbait.campaign import merge_answers, query_batch
    >>> folder = tempfile.mkdtemp()
    >>> data, batch = os.path.join(folder, "pool.csv"), os.path.join(folder, "batch.csv")
    >>> pd.DataFrame({"x": range(8), "y": [""] * 8}).to_csv(data, index=False)
    >>> _ = query_batch(data, batch, target="y", batch_size=3, device="cpu")
    >>> answers = pd.read_csv(batch)
    >>> answers["y"] = ["a", "b", ""]  # the third row is left for later
    >>> answers.to_csv(batch, index=False)
    >>> result = merge_answers(data, batch)
    >>> len(result["merged"]), len(result["unanswered"])
    (2, 1)
    >>> answers["y"] = ["a", "b", 7.5]
    >>> answers.loc[0, "row"] = 99
    >>> answers.to_csv(batch, index=False)
    >>> merge_answers(data, batch)
    Traceback (most recent call last):
    ...
    skbait.campaign.CampaignError: The answer file ... cannot be merged:
      answers line 2: unknown row '99' (DATA has rows 0 to 7)
    Nothing was changed.
    """
    table, state, path = _open(data_path, campaign)
    from_data = _sync_from_data(state, table)
    answers = _Table(answers_path)
    target = state["data"]["target"]
    missing = [c for c in (ROW, target) if c not in answers.columns]
    if missing:
        raise CampaignError(
            f"the answer file {answers.path!r} has no {' or '.join(map(repr, missing))} "
            f"column; answer in the batch file that skbait query wrote. Nothing was changed."
        )
    line = lambda i: f"answers line {i + 2}"  # noqa: E731 (header is line 1)
    rows_text, labels_text = answers.text(ROW), answers.text(target)
    n = len(table)
    problems, entries = [], []
    for i, (row_text, label) in enumerate(zip(rows_text, labels_text)):
        try:
            value = float(row_text)
            ok = value.is_integer() and 0 <= value < n
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"{line(i)}: unknown row {row_text!r} (DATA has rows 0 to {n - 1})")
            continue
        entries.append((i, int(value), label))
    # Other columns must match DATA: catches sorted, filtered or hand-edited files.
    shared = [c for c in answers.columns if c not in (ROW, target) and c in table.columns]
    columns = {c: (answers.text(c), table.text(c)) for c in shared}
    for i, row, _ in entries:
        for c, (theirs, ours) in columns.items():
            if theirs[i] != ours[row]:
                problems.append(
                    f"{line(i)}, row {row}: column {c!r} is {theirs[i]!r} here but "
                    f"{ours[row]!r} in DATA (does the row number belong to this row?)"
                )
                break
    answered = [(i, row, label) for i, row, label in entries if label != ""]
    unanswered = sorted({row for _, row, label in entries if label == ""})
    settings = state["settings"]
    label_type = settings["label_type"]
    if label_type is None and answered:
        label_type = _infer_label_type([label for _, _, label in answered], settings["task"])
    canonical = {}
    for i, row, label in answered:
        parsed = _parse_label(label, label_type)
        if parsed is None:
            problems.append(
                f"{line(i)}, row {row}: label {label!r} is not {_TYPE_WORDS[label_type]}, as "
                "the campaign's labels are"
            )
            continue
        canonical.setdefault(row, []).append((i, parsed))
    known = _known_labels(state)
    merged, already = [], []
    for row, given in sorted(canonical.items()):
        values = {value for _, (_, value) in given}
        if len(values) > 1:
            shown = ", ".join(f"{text!r} ({line(i)})" for i, (text, _) in given)
            problems.append(f"row {row}: answered twice with different labels: {shown}")
            continue
        text = given[0][1][0]
        if row in known:
            previous = _parse_label(known[row], label_type)
            if previous is None or previous[1] != given[0][1][1]:
                problems.append(
                    f"row {row}: already labeled {known[row]!r}; the answer {text!r} would "
                    "overwrite it"
                )
            else:
                already.append(row)
            continue
        merged.append((row, text))
    if problems:
        raise _problems(f"The answer file {answers.path!r} cannot be merged:", problems)
    if merged:
        settings["label_type"] = label_type
        frame = table.frame.copy()
        values = frame[target].to_numpy(dtype=object, copy=True)
        for row, text in merged:
            values[row] = text if not table.parquet else _parse_label(text, label_type)[1]
        frame[target] = values
        # DATA first: if the campaign write is lost, the next run finds these labels in DATA.
        table.write(frame)
        round_ = len(state["rounds"])
        for row, text in merged:
            state["labels"].append({"row": row, "label": text, "round": round_})
    if merged or from_data or not os.path.exists(path):
        _write_campaign(state, path)
    return {
        "merged": [row for row, _ in merged],
        "unanswered": unanswered,
        "already": already,
        "from_data": from_data,
    }


def record_labels(data_path, *, campaign=None):
    """Record in the campaign file the labels typed into DATA since it last looked.

    Parameters
    ----------
    data_path : str or path-like
    campaign : str or path-like, default=None

    Returns
    -------
    list of int
        The rows newly recorded.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skbait.campaign import query_batch, record_labels
    >>> folder = tempfile.mkdtemp()
    >>> data = os.path.join(folder, "pool.csv")
    >>> pd.DataFrame({"x": range(6), "y": [""] * 6}).to_csv(data, index=False)
    >>> _ = query_batch(data, os.path.join(folder, "b.csv"), target="y", batch_size=2,
    ...                 device="cpu")
    >>> pool = pd.read_csv(data, dtype=str, keep_default_na=False)
    >>> pool.loc[4, "y"] = "spam"  # typed straight into DATA
    >>> pool.to_csv(data, index=False)
    >>> record_labels(data)
    [4]
    """
    table, state, path = _open(data_path, campaign)
    new = _sync_from_data(state, table)
    if new:
        _write_campaign(state, path)
    return new


def restore_labels(data_path, *, campaign=None):
    """Write the labels the campaign recorded back into DATA where DATA lost them.

    Labels that DATA holds and the campaign does not are kept (and recorded);
    a row where both hold different labels is an error, and nothing changes.

    Parameters
    ----------
    data_path : str or path-like
    campaign : str or path-like, default=None

    Returns
    -------
    list of int
        The rows restored.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skbait.campaign import query_batch, restore_labels
    >>> folder = tempfile.mkdtemp()
    >>> data = os.path.join(folder, "pool.csv")
    >>> pd.DataFrame({"x": range(6), "y": ["1", "0"] + [""] * 4}).to_csv(data, index=False)
    >>> _ = query_batch(data, os.path.join(folder, "b.csv"), target="y", batch_size=2,
    ...                 device="cpu")
    >>> pd.DataFrame({"x": range(6), "y": [""] * 6}).to_csv(data, index=False)  # labels lost
    >>> restore_labels(data)
    [0, 1]
    >>> pd.read_csv(data)["y"].tolist()[:2]
    [1.0, 0.0]
    """
    table, state, path = _open(data_path, campaign)
    target = state["data"]["target"]
    texts = table.text(target)
    known = _known_labels(state)
    changed = [r for r, label in known.items() if texts[r] not in ("", label)]
    if changed:
        raise _problems(
            "DATA and the campaign hold different labels; fix these rows by hand:",
            [f"row {r}: DATA {texts[r]!r}, campaign {known[r]!r}" for r in sorted(changed)],
        )
    lost = sorted(r for r in known if texts[r] == "")
    if lost:
        frame = table.frame.copy()
        values = frame[target].to_numpy(dtype=object, copy=True)
        label_type = state["settings"]["label_type"]
        for row in lost:
            values[row] = (
                known[row] if not table.parquet else _parse_label(known[row], label_type)[1]
            )
        frame[target] = values
        table.write(frame)
        table = _Table(data_path)
    if _sync_from_data(state, table) or lost:
        _write_campaign(state, path)
    return lost


# --------------------------------------------------------------------- query


def _round_seed(settings):
    from skbait.utils._seeds import draw_seed

    return draw_seed(settings["random_state"])


def _criteria_for(task):
    from skbait.stopping import (
        MaxConfidence,
        ObjectivePlateau,
        OverallUncertainty,
        StabilizingPredictions,
    )

    if task == "classification":
        return [
            StabilizingPredictions(),
            OverallUncertainty(),
            MaxConfidence(),
            ObjectivePlateau(),
        ]
    return [StabilizingPredictions(), ObjectivePlateau()]


def _validate_options(options):
    from skbait._cli import CLASSIFIERS, REGRESSORS
    from skbait.strategies import available_strategies
    from skbait.utils import resolve_device

    strategy = options["strategy"]
    if strategy is not None and strategy not in available_strategies():
        raise CampaignError(
            f"unknown strategy {strategy!r}: available strategies are "
            f"{', '.join(available_strategies())}."
        )
    estimator = options["estimator"]
    known = sorted(set(CLASSIFIERS) | set(REGRESSORS))
    if estimator is not None and estimator not in known:
        raise CampaignError(f"unknown estimator {estimator!r}: use one of {', '.join(known)}.")
    if options["task"] not in (None, "auto", "classification", "regression"):
        raise CampaignError("task must be auto, classification or regression.")
    batch_size = options["batch_size"]
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise CampaignError(f"batch size must be a positive integer, got {batch_size!r}.")
    if options["device"] is not None:
        try:
            resolve_device(options["device"])
        except (ValueError, TypeError, RuntimeError) as exc:
            raise CampaignError(str(exc)) from None


def _update_settings(state, options):
    """Apply the options given; return notes on what changed."""
    _validate_options(options)
    settings = state["settings"]
    notes = []
    for key, value in options.items():
        if value is None or value == settings.get(key):
            continue
        if state["rounds"]:
            notes.append(f"{key} changes from {settings.get(key)!r} to {value!r}")
        settings[key] = value
    return notes


def _pending(state):
    """Rows of the last batch still without a label (empty when none)."""
    if not state["rounds"]:
        return []
    known = _known_labels(state)
    return [r for r in state["rounds"][-1]["batch"] if r not in known]


def _choose(state, table):
    """Fit on the labeled rows and choose the next batch; returns the round record."""
    from sklearn.base import clone, is_classifier

    from skbait._cli import UsageError, _make_estimator, _make_strategies, _task
    from skbait.cold_start import ColdStart
    from skbait.utils._seeds import round_random_state

    settings = state["settings"]
    X = _feature_matrix(table, state["data"]["features"])
    n = X.shape[0]
    known = _known_labels(state)
    rows = np.array(sorted(known), dtype=np.int64)
    labeled = np.zeros(n, dtype=bool)
    labeled[rows] = True
    if labeled.all():
        return None
    round_ = len(state["rounds"])
    seed = _round_seed(settings)
    rng = round_random_state(seed, round_)
    batch_size = min(int(settings["batch_size"]), int((~labeled).sum()))
    record = {
        "round": round_,
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "n_labeled": int(rows.size),
        "settings": {k: settings[k] for k in DEFAULTS},
    }
    label_type = settings["label_type"]
    y = None
    task = None
    if rows.size:
        y = np.array([_parse_label(known[r], label_type)[1] for r in rows], dtype=object)
        if label_type in ("int", "float"):
            y = y.astype(np.int64 if label_type == "int" else np.float64)
        try:
            task = _task(y, settings["task"])
        except UsageError as exc:
            raise CampaignError(str(exc)) from None
        # Resolved once, then kept: later rounds must not flip between the two.
        settings["task"] = task
    record["task"] = task
    single_class = task == "classification" and np.unique(y).size < 2
    try:
        if task is None or single_class:
            # No model can be trained: the label-free design, the labeled rows counted.
            record["design"] = "cold_start"
            indices, utilities = ColdStart(device=settings["device"]).select(
                None, X, labeled, batch_size, random_state=rng, return_utilities=True
            )
        else:
            name, estimator = _make_estimator(settings["estimator"], task)
            strategy_name = settings["strategy"].lower()
            (strategy,) = _make_strategies(strategy_name, task, settings["device"]).values()
            if task == "regression" and not _serves_regression(strategy_name):
                raise CampaignError(
                    f"strategy {strategy_name!r} needs class probabilities and cannot serve a "
                    "regression target; use bait, coreset or random."
                )
            model = clone(estimator).fit(X[rows], y)
            record["design"] = strategy_name
            record["estimator"] = name
            record["stopping"] = _update_criteria(state, task, model, X, labeled, seed)
            indices, utilities = strategy.select(
                model, X, labeled, batch_size, random_state=rng, return_utilities=True
            )
            if is_classifier(model):
                record["classes"] = np.unique(y).tolist()
    except UsageError as exc:
        raise CampaignError(str(exc)) from None
    record["batch"] = [int(i) for i in indices]
    record["utilities"] = [None if not np.isfinite(u) else float(u) for u in utilities]
    return record


def _serves_regression(name):
    return name not in ("badge", "confidence", "margin", "entropy", "uncertainty")


def _update_criteria(state, task, model, X, labeled, seed):
    values = {}
    for criterion in _criteria_for(task):
        saved = state["stopping"].get(criterion.name)
        if saved is not None:
            criterion.set_state(saved)
        try:
            criterion.update(model, X, labeled, random_state=seed)
        except (ValueError, TypeError) as exc:
            values[criterion.name] = None
            values[f"{criterion.name}_note"] = str(exc).splitlines()[0]
            continue
        state["stopping"][criterion.name] = criterion.get_state()
        value = criterion.values_[-1]
        values[criterion.name] = None if not np.isfinite(value) else value
        values[f"{criterion.name}_stop"] = criterion.stop_
    return values


def _check_output_free(state, output, protected):
    """Refuse to overwrite DATA, the campaign file, or a batch holding unmerged answers."""
    if not os.path.exists(output):
        return
    for path in protected:
        if os.path.exists(path) and os.path.samefile(output, path):
            raise CampaignError(
                f"the batch file {os.fspath(output)!r} would overwrite {os.fspath(path)!r}; "
                "choose another -o."
            )
    try:
        previous = _Table(output)
    except CampaignError:
        return  # not a table (or unreadable): nothing of ours to lose
    target = state["data"]["target"]
    if ROW not in previous.columns or target not in previous.columns:
        return
    known = _known_labels(state)
    unmerged = 0
    for row, label in zip(previous.text(ROW), previous.text(target)):
        if label == "":
            continue
        try:
            merged = known.get(int(float(row))) == label
        except ValueError:
            merged = False
        unmerged += not merged
    if unmerged:
        raise CampaignError(
            f"{os.fspath(output)!r} holds {unmerged} answer(s) not merged into DATA yet; "
            f"merge them first (skbait teach DATA {os.fspath(output)}, or query --answers), "
            "or write the batch elsewhere with -o."
        )


def _write_batch(table, state, rows, output):
    frame = table.frame.iloc[rows].copy()
    target = state["data"]["target"]
    frame[target] = [""] * len(rows) if not table.parquet else [None] * len(rows)
    frame.insert(0, ROW, np.asarray(rows, dtype=np.int64))
    write_frame(frame, output)


def query_batch(
    data_path,
    output,
    *,
    target=None,
    campaign=None,
    features=None,
    batch_size=None,
    strategy=None,
    estimator=None,
    task=None,
    device=None,
    random_state=None,
):
    """Write the next batch of rows to label, and record the round.

    Reads DATA and its campaign file (creating it on the first call), records
    the labels filled in DATA since the last round, trains the estimator on
    every labeled row and writes the rows the strategy chooses to ``output``:
    all of DATA's columns, the target blank, and a ``row`` column first (the
    0-based position among DATA's data rows). With no label yet, or labels of
    a single class, the batch comes from the label-free design of
    :mod:`skbait.cold_start`.

    If the last batch is still wholly unanswered and no label arrived since,
    the same batch is written again (a rerun after a crash or a lost file
    gives the same rows); otherwise a new round starts.

    Settings left ``None`` keep the campaign's (the defaults on the first
    call: bait, the default estimator of the task, batch size 10, device
    auto, seed 0).

    Parameters
    ----------
    data_path : str or path-like
        The CSV or parquet file; blank target cells are unlabeled rows.
    output : str or path-like
        The batch file to write (``.csv`` or ``.parquet``).
    target : str, default=None
        The label column; needed when the campaign file does not exist yet.
    campaign : str or path-like, default=None
        The campaign file; ``DATA.campaign.json`` by default.
    features : list of str, default=None
        Feature columns (default: every column but the target); fixed at the
        first call.
    batch_size : int, default=None
    strategy : str, default=None
        A strategy name (see ``skbait strategies``).
    estimator : str, default=None
        An estimator name of ``skbait run``.
    task : {"auto", "classification", "regression"}, default=None
    device : str, default=None
    random_state : int, default=None

    Returns
    -------
    dict
        ``round`` (the round's record, as kept in the campaign file, or None
        when every row is labeled), ``rewritten`` (True when the pending batch
        was written again), ``from_data`` (labels found in DATA) and ``notes``.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skbait.campaign import query_batch
    >>> folder = tempfile.mkdtemp()
    >>> data = os.path.join(folder, "pool.csv")
    >>> pd.DataFrame({"x": range(8), "y": [""] * 8}).to_csv(data, index=False)
    >>> result = query_batch(data, os.path.join(folder, "batch.csv"), target="y",
    ...                      batch_size=3, device="cpu")
    >>> result["round"]["design"], len(result["round"]["batch"])
    ('cold_start', 3)
    >>> list(pd.read_csv(os.path.join(folder, "batch.csv")).columns)
    ['row', 'x', 'y']
    """
    options = {
        "batch_size": batch_size,
        "strategy": None if strategy is None else strategy.lower(),
        "estimator": estimator,
        "task": task,
        "device": device,
        "random_state": random_state,
    }
    table, state, path = _open(data_path, campaign, target=target, features=features, create=True)
    from_data = _sync_from_data(state, table)
    notes = _update_settings(state, options)
    _check_output_free(state, output, (data_path, path))
    pending = _pending(state)
    last = state["rounds"][-1] if state["rounds"] else None
    unchanged = last is not None and len(state["labels"]) == last["n_labeled"] and not notes
    if unchanged and pending:
        # Nothing learnt since this batch was chosen: the same batch again.
        last["output"] = os.fspath(output)
        _write_campaign(state, path)
        _write_batch(table, state, pending, output)
        return {"round": last, "rewritten": True, "from_data": from_data, "notes": notes}
    record = _choose(state, table)
    if record is None:
        if from_data or notes:
            _write_campaign(state, path)
        return {"round": None, "rewritten": False, "from_data": from_data, "notes": notes}
    record["output"] = os.fspath(output)
    if notes:
        record["changes"] = notes
    state["rounds"].append(record)
    # The campaign first: if the batch write is lost, a rerun writes this batch again.
    _write_campaign(state, path)
    _write_batch(table, state, record["batch"], output)
    return {"round": record, "rewritten": False, "from_data": from_data, "notes": notes}
