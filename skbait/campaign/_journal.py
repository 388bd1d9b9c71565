"""The campaign file: its format, reading and writing it, and keeping it in step with DATA."""

import contextlib
import contextvars
import json
import os

import numpy as np

from skbait.campaign import _files
from skbait.campaign._errors import CampaignError, _problems
from skbait.campaign._features import (
    Identifiers,
    _check_feature_columns,
    _feature_columns,
    _legacy_digest,
    changed_rows,
    decode_hashes,
    encode_hashes,
    row_hashes,
)
from skbait.campaign._files import _Table, remove_stale_temporaries
from skbait.campaign._labels import (
    _as_value,
    _infer_label_type,
    _parse_label,
    _widen_label_type,
    check_classes,
    known_spelling,
    read_cell,
    same_label,
    shown_label,
    type_problem,
    write_cell,
)
from skbait.campaign._labelsets import (
    as_set,
    joined_labels,
    label_set_settings,
    spells_no_label,
)
from skbait.campaign._spreadsheet import REWRITE_ADVICE, spreadsheet_rewrite

FORMAT = "skbait-campaign"
VERSION = 1
DEFAULTS = {
    "strategy": "bait",
    "estimator": None,
    "task": "auto",
    "batch_size": 10,
    "device": "auto",
    "random_state": 0,
}
_SHOWN_ROWS = 10  # rows named in a message about many rows


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


def page_answers_path(campaign):
    """The labeling page's answer file of a campaign file (``skbait label`` saves each
    label there as it is given): the campaign file's name less ``.json``, plus
    ``.answers.csv``."""
    campaign = os.fspath(campaign)
    stem = campaign[: -len(".json")] if campaign.endswith(".json") else campaign
    return stem + ".answers.csv"


def read_campaign(path):
    """Read a campaign file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict
        The campaign (see :mod:`skbait.campaign` for its fields).

    Raises
    ------
    CampaignError
        When the file cannot be read, is not a skbait campaign file of this
        format version, or is damaged; the message says which.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from skbait.campaign import read_campaign
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "x.campaign.json")
    >>> campaign = {"format": "skbait-campaign", "version": 1, "settings": {},
    ...             "data": {"target": "label", "features": ["x"], "n_rows": 3},
    ...             "labels": [{"row": 0, "label": "cat"}], "rounds": []}
    >>> with open(path, "w") as handle:
    ...     _ = handle.write(json.dumps(campaign))
    >>> read_campaign(path)["labels"]
    [{'row': 0, 'label': 'cat'}]
    >>> with open(path, "w") as handle:
    ...     _ = handle.write('{"format": "skbait-campaign", "version": 1}')
    >>> read_campaign(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skbait.campaign.CampaignError: '...' is not a valid campaign file: no 'data' object ...
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CampaignError(f"{path!r} is not a campaign file (invalid JSON: {exc}).") from None
    except OSError as exc:
        raise CampaignError(
            f"cannot read the campaign file {path!r}: {exc.strerror or exc}."
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CampaignError(f"{path!r} is not a skbait campaign file.")
    if state.get("version") != VERSION:
        raise CampaignError(
            f"{path!r} has campaign format version {state.get('version')!r}; this skbait "
            f"reads version {VERSION}."
        )
    problem = _structure_problem(state)
    if problem is not None:
        raise CampaignError(
            f"{path!r} is not a valid campaign file: {problem} (edited by hand?); restore it "
            "from a copy."
        )
    return state


def _structure_problem(state):
    """What is missing or malformed in a campaign's fields (None when nothing), so that a
    hand-edited file is an error that names it rather than a crash later on."""
    data = state.get("data")
    if not isinstance(data, dict):
        return "no 'data' object"
    if not isinstance(data.get("target"), str) or not isinstance(data.get("features"), list):
        return "'data' lacks the target or the feature columns"
    if not _is_count(data.get("n_rows")):
        return "'data' lacks the number of rows"
    if not isinstance(state.get("settings"), dict):
        return "no 'settings' object"
    if not isinstance(state.get("stopping", {}), dict):
        return "'stopping' is not an object"
    for key in ("labels", "rounds"):
        if not isinstance(state.get(key), list):
            return f"no {key!r} list"
    for i, entry in enumerate(state["labels"]):
        if not isinstance(entry, dict) or not _is_count(entry.get("row")) or "label" not in entry:
            return f"label entry {i} lacks a row number or a label"
    for i, record in enumerate(state["rounds"]):
        if not isinstance(record, dict) or not isinstance(record.get("batch"), list):
            return f"round {i} lacks its batch"
        if not all(_is_count(row) for row in record["batch"]):
            return f"round {i} has a batch row that is not a row number"
    return None


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


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

    _files._atomic_write(path, write)


LOCK_TIMEOUT = 120  # seconds a command waits for another one holding DATA
# Called with DATA's path and its lock file when the lock is busy, before waiting for it:
# the command line says so at once (see lock_wait_notice); a library caller waits quietly.
_LOCK_WAIT_NOTICE = contextvars.ContextVar("skbait_lock_wait_notice", default=None)


@contextlib.contextmanager
def lock_wait_notice(notice):
    """In the block, ``notice(data_path, lock_path)`` is called when a command finds
    DATA's lock held by another and starts waiting for it."""
    token = _LOCK_WAIT_NOTICE.set(notice)
    try:
        yield
    finally:
        _LOCK_WAIT_NOTICE.reset(token)


def _lock_path(data_path):
    # DATA's lock, whichever campaign file: two campaigns of one DATA (two label
    # columns, --campaign) both rewrite it, and must take turns.
    return campaign_path(data_path) + ".lock"


@contextlib.contextmanager
def _locked(data_path):
    """Hold DATA's lock: one read-modify-write of DATA and a campaign of it at a time."""
    import filelock

    lock_path = _lock_path(data_path)
    lock = filelock.FileLock(lock_path, timeout=LOCK_TIMEOUT)
    try:
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            notice = _LOCK_WAIT_NOTICE.get()
            if notice is not None:
                notice(os.fspath(data_path), lock_path)
            lock.acquire()
    except filelock.Timeout:
        raise CampaignError(
            f"another skbait command has held the campaign of {os.fspath(data_path)!r} for "
            f"{LOCK_TIMEOUT} s (lock file {lock_path!r}); try again when it is done."
        ) from None
    except OSError as exc:
        raise CampaignError(
            f"cannot lock the campaign of {os.fspath(data_path)!r} ({lock_path!r}: "
            f"{exc.strerror or exc}); is the folder writable?"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _label_type(state):
    return state["settings"].get("label_type")


def _known_labels(state):
    """The current label of every labeled row: the journal replayed, corrections included."""
    label_type = _label_type(state)
    known = {}
    for entry in state["labels"]:
        row = int(entry["row"])
        if entry.get("label") is None:
            known.pop(row, None)
        else:
            known[row] = _as_value(entry["label"], label_type)
    return known


def _last_entries(state):
    last = {}
    for entry in state["labels"]:
        last[int(entry["row"])] = entry
    return last


def _rows_text(rows):
    rows = sorted(rows)
    shown = ", ".join(map(str, rows[:_SHOWN_ROWS]))
    return shown + (f" and {len(rows) - _SHOWN_ROWS} more" if len(rows) > _SHOWN_ROWS else "")


def _apply_identity(state, table):
    """With ``--id``, journal and batch rows follow their identifiers to today's positions."""
    id_column = state["data"].get("id")
    if id_column is None:
        return
    if id_column not in table.columns:
        raise CampaignError(
            f"the identifier column {id_column!r} of the campaign is gone from {table.path!r} "
            "(renamed?); rename it back."
        )
    ids = table.text(id_column)
    blank = [i for i, v in enumerate(ids) if v == ""]
    if blank:
        raise CampaignError(
            f"the identifier column {id_column!r} is blank in row(s) {_rows_text(blank)} of "
            f"{table.path!r}; every row needs its identifier."
        )
    position = {}
    repeated = set()
    for i, value in enumerate(ids):
        if value in position:
            repeated.add(value)
        position[value] = i
    if repeated:
        shown = ", ".join(map(repr, sorted(repeated)[:_SHOWN_ROWS]))
        rewritten = any(spreadsheet_rewrite(v) for v in repeated)
        raise CampaignError(
            f"the identifier column {id_column!r} repeats {shown} in {table.path!r}; each "
            "identifier must name one row" + (f": {REWRITE_ADVICE}." if rewritten else ".")
        )
    # By text, or by value where a tool rewrote a numeric identifier (1e+05, 1001.0).
    identifiers = Identifiers(ids)
    gone = {}
    for entry in state["labels"]:
        if identifiers.find(entry["id"]) is None:
            gone.setdefault(entry["id"], int(entry["row"]))
    if gone:
        shown = ", ".join(map(repr, sorted(gone)[:_SHOWN_ROWS]))
        # Where the rows were last seen: an identifier a spreadsheet rewrote shows there.
        now = [
            f"{ident!r} is now {ids[row]!r}"
            for ident, row in sorted(gone.items())
            if row < len(ids) and spreadsheet_rewrite(ids[row])
        ]
        if now:
            raise CampaignError(
                f"no row of {table.path!r} has the {id_column} {shown} of labeled row(s); "
                f"their rows hold other identifiers ({', '.join(now[:_SHOWN_ROWS])}): "
                f"{REWRITE_ADVICE}."
            )
        raise CampaignError(
            f"labeled row(s) with {id_column} {shown} are gone from {table.path!r}; put them "
            "back (their labels are in the campaign file)."
        )
    for entry in state["labels"]:
        entry["row"] = identifiers.find(entry["id"])
    for record in state["rounds"]:
        if "batch_ids" in record:
            found = (identifiers.find(i) for i in record["batch_ids"])
            record["batch"] = [row for row in found if row is not None]
    state["data"]["n_rows"] = len(table)


def _check_data(state, table, accept_changes=False, notes=None):
    """DATA is the campaign's file: the same feature values in its rows (by position
    without an identifier column)."""
    data = state["data"]
    if data["target"] not in table.columns:
        raise CampaignError(
            f"the label column {data['target']!r} of the campaign is gone from "
            f"{table.path!r} (renamed?); rename it back."
        )
    _check_feature_columns(table, data["features"], known=(data["target"], data.get("id")))
    if data.get("id") is not None:
        _apply_identity(state, table)
        return
    n_known = data["n_rows"]
    if len(table) < n_known:
        raise CampaignError(
            f"{table.path!r} has {len(table)} rows but had {n_known} when the campaign last "
            "saw it: rows were removed, and the row numbers would no longer match. Restore "
            "the file (or key the rows with --id COLUMN in a new campaign)."
        )
    current = row_hashes(table, data["features"])
    if "row_hashes" not in data:  # a campaign from format 1: its digest, once
        if _legacy_digest(table, data["features"], n_known) != data.get("digest"):
            changed = np.arange(n_known)
        else:
            changed = np.arange(0)
    else:
        changed = changed_rows(decode_hashes(data["row_hashes"]), current)
        if changed.size:
            # A campaign file from before booleans were folded: its rows of TRUE match
            # their old fingerprints. Upgraded below, as every check rewrites them.
            unfolded = row_hashes(table, data["features"], fold_booleans=False)
            changed = np.intersect1d(
                changed, changed_rows(decode_hashes(data["row_hashes"]), unfolded)
            )
    if changed.size:
        old = decode_hashes(data.get("row_hashes", ""))
        size = len(current) // max(len(table), 1)
        moved = (
            size
            and len(old) == n_known * size
            and sorted(old[i : i + size] for i in range(0, len(old), size))
            == sorted(current[i : i + size] for i in range(0, n_known * size, size))
        )
        what = "were sorted or moved" if moved else "changed"
        if not accept_changes:
            raise CampaignError(
                f"the feature values of {changed.size} row(s) of {table.path!r} {what} since "
                f"the campaign last saw it: row(s) {_rows_text(changed.tolist())}. If they "
                "are still the same rows (a corrected value, a re-save), accept the changes "
                "with skbait teach DATA --accept-changes (query and teach take the option); "
                "if the rows moved, restore the file's order (or key the rows with --id "
                "COLUMN in a new campaign)."
            )
        if notes is not None:
            notes.append(f"accepted the changed feature values of row(s) {_rows_text(changed)}")
    data["n_rows"] = len(table)
    data["row_hashes"] = encode_hashes(current)
    data.pop("digest", None)


def _finish_corrections(state, table):
    """Finish a correction that a crash cut short: the campaign recorded it, DATA still
    holds the label it replaced. Returns the rows rewritten in DATA."""
    target = state["data"]["target"]
    texts = table.labels(target)
    label_type = _label_type(state)
    stale = []
    for row, entry in _last_entries(state).items():
        if "previous" not in entry or row >= len(texts):
            continue
        now = read_cell(texts[row], state["settings"], table.number)[0] if texts[row] else None
        new = _as_value(entry["label"], label_type)
        if not same_label(now, new) and same_label(now, _as_value(entry["previous"], label_type)):
            stale.append((row, new))
    if not stale:
        return []
    _write_labels(table, state, stale)
    return [row for row, _ in stale]


def _write_labels(table, state, values):
    """Write ``(row, value)`` pairs into DATA (None blanks a cell), in DATA's dialect."""
    import pandas as pd

    target = state["data"]["target"]
    frame = table.frame.copy()
    multi = state["settings"].get("multi_label")
    if table.parquet:
        original = table.frame[target].dtype
        # A column of text keeps text: "1" read as the number 1 goes back as "1".
        text = _holds_text(table.frame[target])
        column = frame[target].astype(object).to_numpy(copy=True)
        for row, value in values:
            column[row] = (
                value
                if value is None or not (multi or text)
                else write_cell(value, state["settings"])
            )
        frame[target] = column
        floats = pd.api.types.is_float_dtype(original)
        if text:
            if not isinstance(original, pd.CategoricalDtype):
                frame[target] = frame[target].astype(original)
        elif _label_type(state) == "int":
            # pandas reads an int64 column with nulls (R, polars) as floats: the file's type
            # decides, so that a float column (NaN for missing) stays one too.
            floats = floats and _stored_as_float(table.path, target)
            frame[target] = frame[target].astype(original if floats else "Int64")
        elif _label_type(state) == "float":
            frame[target] = frame[target].astype(original if floats else "Float64")
        elif _is_boolean(table.frame[target]):
            # Booleans read as the classes "True" and "False": the column stays boolean while
            # they are its only labels, and becomes text with another class.
            truth = {"True": True, "False": False}
            cells = [None if pd.isna(v) else truth.get(v, v) for v in column]
            if all(c is None or isinstance(c, (bool, np.bool_)) for c in cells):
                frame[target] = pd.array(cells, dtype="boolean")
            else:
                frame[target] = [None if c is None else str(c) for c in cells]
        if isinstance(original, pd.CategoricalDtype):
            # A categorical column stays one, a new class joining its categories.
            cells = frame[target].astype(object).where(frame[target].notna(), None)
            new = [c for c in pd.unique(cells.dropna()) if c not in original.categories]
            frame[target] = pd.Categorical(
                cells, categories=[*original.categories, *new], ordered=original.ordered
            )
    else:
        column = frame[target].to_numpy(dtype=object, copy=True)
        # The mark of the column's other numbers: 1.5 beside 1.5, 1,5 beside 1,5.
        decimal = table.dialect.decimal_for(target)
        for row, value in values:
            # None: a missing cell, which the file writes as it writes the others (R: NA).
            column[row] = None if value is None else write_cell(value, state["settings"], decimal)
        frame[target] = column
    written = np.zeros(frame.shape, dtype=bool)
    written[[row for row, _ in values], frame.columns.get_loc(target)] = True
    table.write(frame, written=written)


def _holds_text(series):
    """A column of text (a string column, text objects, or text categories), whatever its
    cells spell: its labels are written as text, never cast to the numbers they read as."""
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = pd.Series(dtype.categories)
        dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return True
    cells = series.dropna()
    return series.dtype == object and len(cells) > 0 and all(isinstance(c, str) for c in cells)


def _is_boolean(series):
    """A boolean column: pandas reads a bool column with nulls (R, polars) as objects."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype):
        return True
    cells = series.dropna()
    return (
        series.dtype == object
        and len(cells) > 0
        and all(isinstance(c, (bool, np.bool_)) for c in cells)
    )


def _stored_as_float(path, column):
    """Whether the parquet file at ``path`` stores ``column`` as floats."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    index = schema.get_field_index(column)
    return index < 0 or pa.types.is_floating(schema.field(index).type)


def _conflicts(state, table):
    target = state["data"]["target"]
    texts = table.labels(target)
    known = _known_labels(state)
    lost, changed = [], []
    for row, value in sorted(known.items()):
        if row >= len(texts) or texts[row] == "":
            lost.append(row)
        elif not same_label(read_cell(texts[row], state["settings"], table.number)[0], value):
            changed.append(row)
    return known, texts, lost, changed


def _sync_from_data(state, table, notes=None, skip=()):
    """Labels filled in DATA join the journal; a label DATA lost or changed is an error.

    Rows in ``skip`` (a row being corrected) are left alone. Returns the rows
    newly learnt from DATA.
    """
    known, texts, lost, changed = _conflicts(state, table)
    lost = [r for r in lost if r not in skip]
    changed = [r for r in changed if r not in skip]
    if lost or changed:
        label = {r: shown_label(known[r], state["settings"]) for r in lost + changed}
        problems = [f"row {r}: DATA lost the label {label[r]!r}" for r in lost]
        problems += [
            f"row {r}: DATA says {texts[r]!r}, the campaign recorded {label[r]!r}" for r in changed
        ]
        raise _problems(
            f"{table.path!r} disagrees with the labels the campaign recorded (skbait teach "
            "DATA --restore writes the campaign's labels back; skbait correct DATA --row R "
            "--label X keeps a new one):",
            problems,
        )
    new_rows = [
        r for r in np.flatnonzero(texts != "").tolist() if r not in known and r not in skip
    ]
    if not new_rows:
        return []
    values = _accept_labels(
        state, [(r, texts[r]) for r in new_rows], table.number, lambda r: f"DATA row {r}", notes
    )
    _append(state, table, values)
    return new_rows


def _accept_labels(state, given, number, where, notes=None, problems=None):
    """Check new ``(row, text)`` labels; returns ``(row, value)`` pairs or raises.

    With ``problems`` given, problems are added there instead of raised.
    """
    settings = state["settings"]
    if settings.get("multi_label"):
        return _accept_label_sets(state, given, where, notes, problems)
    texts = [text for _, text in given]
    label_type = settings["label_type"]
    if label_type is None:
        label_type = _infer_label_type(texts, settings["task"], number)
    else:
        widened = _widen_label_type(label_type, texts, settings["task"], number)
        if widened != label_type and notes is not None:
            notes.append("the labels now include non-whole numbers: read as numbers from now on")
        label_type = widened
    own = [] if problems is None else None
    found = own if own is not None else problems
    values = []
    for row, text in given:
        value = _parse_label(text, label_type, number)
        if value is None:
            found.append(f"{where(row)}: {type_problem(text, label_type)}")
        else:
            values.append((row, value))
    declared = settings.get("classes")
    if declared is not None or label_type == "str":
        known = set(_known_labels(state).values())
        # A boolean as another tool spells it is the class the campaign knows.
        classes = known | set(declared or ())
        values = [(row, known_spelling(value, classes)) for row, value in values]
        class_problems, class_notes = check_classes(values, known, declared, where)
        found.extend(class_problems)
        if notes is not None:
            notes.extend(class_notes)
    if own:
        raise _problems("Labels that cannot be used:", own)
    settings["label_type"] = label_type
    return values


def _accept_label_sets(state, given, where, notes=None, problems=None):
    """:func:`_accept_labels` for a multi-label campaign: each cell a label set, each label
    of it checked against the classes (declared, or known and not misspelt)."""
    settings = state["settings"]
    found = [] if problems is None else problems
    values, flat = [], []
    known = {label for labels in _known_labels(state).values() for label in labels}
    declared = settings.get("classes")
    classes = known | set(declared or ())
    for row, text in given:
        value, problem = read_cell(text, settings)
        if problem is not None:
            found.append(f"{where(row)}: {problem}")
            continue
        # A boolean as another tool spells it (TRUE for true) is the label the campaign knows.
        value = as_set(known_spelling(label, classes) for label in value)
        values.append((row, value))
        flat.extend((row, label) for label in value)
    if declared is None:
        # "none" written out means that no label applies, not a label named so.
        token = settings["multi_label"]["no_labels"]
        nones = [
            (row, label) for row, label in flat if label not in known and spells_no_label(label)
        ]
        found.extend(
            f"{where(row)}: label {label!r} reads as 'no label applies', which this campaign "
            f"writes {token!r}; write {token!r} where no label applies, or declare every "
            f"class with --classes if {label!r} is a label of its own"
            for row, label in nones
        )
        flat = [pair for pair in flat if pair not in nones]
    # "arts, politics", "arts|politics" in a campaign joined by "/": labels of the campaign
    # joined by another mark than its separator would make a new label of the pair.
    sep = settings["multi_label"]["sep"]
    labels = set(declared) if declared is not None else known | {label for _, label in flat}
    joined = {}
    for row, label in flat:
        if label not in known and (declared is None or label not in declared):
            found_join = joined_labels(label, labels, sep)
            if found_join is not None:
                mark, parts = found_join
                joined[row, label] = parts
                found.append(
                    f"{where(row)}: label {label!r} joins the labels "
                    f"{', '.join(map(repr, parts))} with {mark!r}; this campaign joins "
                    f"them with {sep!r}: write {sep.join(sorted(set(parts)))!r}"
                )
    flat = [pair for pair in flat if pair not in joined]
    class_problems, class_notes = check_classes(flat, known, declared, where)
    found.extend(class_problems)
    if notes is not None:
        notes.extend(class_notes)
    if problems is None and found:
        raise _problems("Labels that cannot be used:", found)
    return values


def _append(state, table, values, **extra):
    """Journal entries for ``(row, value)`` pairs, with the row's identifier if keyed."""
    id_column = state["data"].get("id")
    round_ = len(state["rounds"])
    for row, value in values:
        label = list(value) if isinstance(value, tuple) else value  # a label set: a list
        entry = {"row": int(row), "label": label, "round": round_}
        if id_column is not None:
            entry["id"] = table.text(id_column)[row]
        entry.update(extra)
        state["labels"].append(entry)


def _new_campaign(
    table, target, features, id_column=None, exclude=(), notes=None, multi_label=None
):
    columns = _feature_columns(
        table, target, features, id_column=id_column, exclude=exclude, notes=notes
    )
    data = {
        "file": os.path.basename(table.path),
        "target": target,
        "features": columns,
        "n_rows": len(table),
    }
    if id_column is not None:
        data["id"] = id_column
    else:
        data["row_hashes"] = encode_hashes(row_hashes(table, columns))
    return {
        "format": FORMAT,
        "version": VERSION,
        "data": data,
        "settings": dict(
            DEFAULTS,
            label_type=None if multi_label is None else "str",
            na_values=None,
            classes=None,
            multi_label=multi_label,
        ),
        "labels": [],
        "rounds": [],
        "stopping": {},
    }


@contextlib.contextmanager
def _session(
    data_path,
    campaign,
    *,
    target=None,
    features=None,
    id_column=None,
    exclude=(),
    na_values=None,
    accept_changes=False,
    create=False,
    label_sets=None,
    progress=None,
):
    """Hold the lock, then read DATA and its campaign (a new one if ``create``).

    ``label_sets`` is ``(multi_label, label_sep, no_labels)`` as the caller was
    given them (None where not given): a new campaign takes them, an existing
    one must agree. ``progress``, if given, is called with a line before each
    step that takes long on a large DATA. Yields ``(table, state, path, notes)``.
    """
    progress = progress if progress is not None else (lambda line: None)
    path = campaign_path(data_path) if campaign is None else os.fspath(campaign)
    if not os.path.isfile(os.fspath(data_path)):
        raise CampaignError(f"no such file: {os.fspath(data_path)!r}.")
    with _locked(data_path):
        notes = []
        removed = remove_stale_temporaries(data_path, path)
        if removed:
            notes.append(f"removed {len(removed)} temporary file(s) a stopped run left behind")
        exists = os.path.exists(path)
        state = read_campaign(path) if exists else None
        if state is not None and na_values is not None:
            _check_na_values(state, na_values)
            state["settings"]["na_values"] = list(na_values)
        saved_na = None if state is None else state["settings"].get("na_values")
        progress(f"reading {os.path.basename(os.fspath(data_path))}")
        table = _Table(data_path, na_values=na_values if na_values is not None else saved_na)
        # Column names as the user types them, without a header's spaces (a, b, label).
        target, id_column = table.resolve(target), table.resolve(id_column)
        features = None if features is None else [table.resolve(c) for c in features]
        exclude = [table.resolve(c) for c in exclude]
        if state is not None:
            _check_fixed(state, path, target, features, id_column)
            _check_label_sets(state, path, label_sets)
            if state["data"].get("id") is None:  # rows known by fingerprints, not --id
                progress(f"checking the {len(table)} rows against the campaign's fingerprints")
            _check_data(state, table, accept_changes=accept_changes, notes=notes)
            finished = _finish_corrections(state, table)
            if finished:
                notes.append(
                    f"finished the correction of row(s) {_rows_text(finished)} that a stopped "
                    "run had recorded but not written into DATA"
                )
                table = _Table(data_path, na_values=table.na_values)
                _check_data(state, table)
        elif create:
            if target is None:
                raise CampaignError(
                    f"no campaign file {path!r} yet: give --target COLUMN, the label column."
                )
            if len(table) == 0:
                # A header alone would start a campaign that is "finished" at once.
                raise CampaignError(
                    f"{os.fspath(data_path)!r} has a header and no rows: add the rows to "
                    "label, then query again."
                )
            spec = _new_label_sets(label_sets, table.na_values)
            progress(f"choosing the feature columns and fingerprinting the {len(table)} rows")
            state = _new_campaign(table, target, features, id_column, exclude, notes, spec)
            if na_values is not None:
                state["settings"]["na_values"] = list(na_values)
        else:
            raise CampaignError(
                f"no campaign file {path!r}: run skbait query DATA --target COLUMN first."
            )
        yield table, state, path, notes


def _check_fixed(state, path, target, features, id_column):
    data = state["data"]
    if target is not None and target != data["target"]:
        raise CampaignError(
            f"the campaign {path!r} labels column {data['target']!r}, not {target!r}; start a "
            "new campaign with --campaign to label another column."
        )
    if features is not None and list(features) != data["features"]:
        raise CampaignError(
            f"the campaign {path!r} uses the feature columns {', '.join(data['features'])}; "
            "they cannot change mid-campaign."
        )
    if id_column is not None and id_column != data.get("id"):
        raise CampaignError(
            f"the campaign {path!r} keys its rows by {data.get('id')!r}, not {id_column!r}; "
            "the identifier column is fixed by the first query."
        )


def _new_label_sets(label_sets, na_values):
    """The ``multi_label`` setting of a new campaign (None for single labels)."""
    multi, sep, token = label_sets or (None, None, None)
    if not multi:
        if sep is not None or token is not None:
            raise CampaignError(
                "--label-sep and --no-labels apply to a multi-label campaign: add --multi-label."
            )
        return None
    return label_set_settings(sep, token, na_values)


def _check_na_values(state, na_values):
    """New ``--na-values`` of a multi-label campaign must leave its no-labels token out:
    read as missing, a row where no label applies would be a row not labeled yet."""
    spec = state["settings"].get("multi_label")
    if spec and spec["no_labels"] in set(na_values):
        raise CampaignError(
            f"--na-values holds {spec['no_labels']!r}, the campaign's token of a row where "
            "no label applies: those rows would read as not labeled yet. Leave "
            f"{spec['no_labels']!r} out of --na-values."
        )


def _check_label_sets(state, path, label_sets):
    """Options given to a later command must agree with the campaign's label kind."""
    multi, sep, token = label_sets or (None, None, None)
    spec = state["settings"].get("multi_label")
    if spec is None:
        given = [
            flag
            for flag, value in (
                ("--multi-label", multi),
                ("--label-sep", sep),
                ("--no-labels", token),
            )
            if value
        ]
        if given:
            raise CampaignError(
                f"the campaign {path!r} has one label per row, but {' and '.join(given)} "
                "says label sets; a campaign's kind of label is fixed by its first query "
                "(start a multi-label campaign with --campaign NEW.json)."
            )
        return
    if multi is False:
        raise CampaignError(f"the campaign {path!r} is multi-label; its kind is fixed.")
    for flag, value, recorded in (
        ("--label-sep", sep, spec["sep"]),
        ("--no-labels", token, spec["no_labels"]),
    ):
        if value is not None and value.strip() != recorded.strip():
            raise CampaignError(
                f"the campaign {path!r} was started with {flag} {recorded!r}, not {value!r}; "
                "it is fixed by the first query (leave the option out)."
            )
