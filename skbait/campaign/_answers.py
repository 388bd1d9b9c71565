"""Labels into DATA: merging answer files, recording typed labels, restoring lost ones."""

import os

from skbait.campaign._errors import CampaignError, _problems
from skbait.campaign._features import ROW
from skbait.campaign._files import _Table
from skbait.campaign._journal import _known_labels, _open, _sync_from_data, _write_campaign
from skbait.campaign._labels import _TYPE_WORDS, _infer_label_type, _parse_label


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
