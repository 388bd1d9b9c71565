"""Labels into DATA: merging answer files, recording typed labels, restoring lost ones,
and correcting or retracting a label."""

import os
import re
import warnings

import numpy as np

from skbait.campaign._errors import CampaignError, _problems
from skbait.campaign._features import ROW, Identifiers, _canonical
from skbait.campaign._files import _Table, check_writable, replaced_together
from skbait.campaign._journal import (
    _accept_labels,
    _append,
    _conflicts,
    _known_labels,
    _last_entries,
    _session,
    _sync_from_data,
    _write_campaign,
    _write_labels,
    campaign_path,
    page_answers_path,
)
from skbait.campaign._labels import read_cell, same_label, shown_label
from skbait.campaign._spreadsheet import REWRITE_ADVICE, spreadsheet_rewrite

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def merge_answers(
    data_path,
    answers_path,
    *,
    campaign=None,
    accept_changes=False,
    na_values=None,
    multi_label=None,
    label_sep=None,
    no_labels=None,
    progress=None,
):
    """Merge an answer file (a filled batch file) into DATA.

    The answer file needs the ``row`` column (or the campaign's ``--id``
    column) and the target column; blank labels are skipped (still to be
    answered). Every problem is collected and reported at once, and then
    nothing changes: a row that is not a row of DATA, a label of the wrong
    type, a misspelt class or one outside ``--classes``, a row answered twice
    with different labels, a label for a row that DATA labels differently,
    or a row whose other columns do not match DATA's (a sorted or edited
    file). A column outside the campaign's features and identifier may be
    blank in the answer file where DATA has gained a value since: another
    campaign's label column, labeled meanwhile. Labels and cells are
    compared by value (``1.0`` is ``1``). DATA is written first, then the
    campaign file.

    Parameters
    ----------
    data_path : str or path-like
        The CSV or parquet file being labeled.
    answers_path : str or path-like
        The filled batch file (CSV or parquet).
    campaign : str or path-like, default=None
        The campaign file; ``DATA.campaign.json`` by default.
    accept_changes : bool, default=False
        Accept edited feature values in DATA (rows without an identifier).
    na_values : sequence of str, default=None
        Cell texts read as blanks (kept by the campaign; see :func:`query_batch`).
    multi_label : bool, default=None
        Whether the campaign's labels are label sets; None keeps the
        campaign's kind (a contradicting value, or a ``label_sep`` or
        ``no_labels`` other than the campaign's, is an error).
    label_sep, no_labels : str, default=None
        A multi-label campaign's separator and no-labels token (see
        :func:`query_batch`); None keeps the campaign's.
    progress : callable, default=None
        Called with a short line before each step that takes long on a large
        DATA (reading it, checking its rows), as :func:`query_batch` does.

    Returns
    -------
    dict
        ``merged`` (rows newly labeled, in row order), ``unanswered`` (rows of
        the answer file with a blank label), ``already`` (rows answered that
        DATA already labeled alike), ``from_data`` (labels found in DATA
        that the campaign had not recorded yet) and ``notes``.

    Raises
    ------
    CampaignError
        When the table at ``data_path``, its campaign file or an argument
        cannot be used; the message says which, and how to fix it. Nothing
        is changed on disk.

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
    _check_whole_page_answers(
        answers_path, campaign_path(data_path) if campaign is None else campaign
    )
    with _session(
        data_path,
        campaign,
        accept_changes=accept_changes,
        na_values=na_values,
        label_sets=(multi_label, label_sep, no_labels),
        progress=progress,
    ) as session:
        table, state, path, notes = session
        from_data = _sync_from_data(state, table, notes)
        answers = _Table(answers_path, na_values=table.na_values)
        target = state["data"]["target"]
        id_of_data = state["data"].get("id")
        id_column = answers.resolve(id_of_data)
        key = id_column if id_column is not None and id_column in answers.columns else ROW
        key = answers.resolve(key)
        # The answers' own name of the label column: a tool may have trimmed its spaces.
        theirs = answers.resolve(target)
        missing = [c for c in (key, theirs) if c not in answers.columns]
        if missing:
            raise CampaignError(
                f"the answer file {answers.path!r} has no {' or '.join(map(repr, missing))} "
                "column; answer in the batch file that skbait query wrote. Nothing was changed."
            )
        line = lambda i: f"answers line {i + 2}"  # noqa: E731 (header is line 1)
        entries, problems = _answer_rows(table, answers, key, theirs, line, id_of_data)
        # Other columns must match DATA: catches sorted, filtered or hand-edited files. A
        # column without a header in the answers (R's row names) is not one of DATA's.
        unnamed = answers.unnamed()
        shared = [
            c
            for c in answers.columns
            if c not in (key, theirs, ROW, target) and c in table.columns and c not in unnamed
        ]
        # Only the answered rows of DATA: a batch of 20 rows compares 20 rows, not the pool.
        lines = [i for i, _, _ in entries]
        rows = [row for _, row, _ in entries]
        # The campaign's features and identifier say which row this is, and DATA keeps
        # them (fingerprints): they must match. Another column may have been filled in
        # DATA since the batch was written (another campaign's label column): only a
        # blank in the batch where DATA now has a value is excused there.
        identifying = {*state["data"]["features"], id_of_data}
        same = {}
        for c in shared:
            same[c] = _canonical(answers, c, lines) == _canonical(table, c, rows)
            if not same[c].all():
                same[c] |= _same_dates(answers.text(c)[lines], table.text(c)[rows])
            if c not in identifying:
                same[c] |= answers.text(c)[lines] == ""
        for k, (i, row, _) in enumerate(entries):
            for c in shared:
                if not same[c][k]:
                    problems.append(
                        f"{line(i)}, row {row}: column {c!r} is {answers.text(c)[i]!r} here "
                        f"but {table.text(c)[row]!r} in DATA (does the row number belong to "
                        "this row?)"
                    )
                    break
        answered = [(i, row, label) for i, row, label in entries if label != ""]
        # A row repeated in the file, answered on one line, is not still blank.
        unanswered = sorted(
            {row for _, row, label in entries if label == ""} - {row for _, row, _ in answered}
        )
        known = _known_labels(state)
        settings = state["settings"]
        # Rows already labeled: the same value is fine, another one is an error.
        already, fresh = [], []
        for i, row, label in answered:
            if label in table.na_values and not table.quotes_na_as_text:
                # Quoted in an answer file that quotes its text (R), it is a label; written
                # into DATA it would read as a blank cell, and the label would be lost.
                problems.append(
                    f"{line(i)}, row {row}: the label {label!r} would read back from DATA as "
                    "a missing cell; give --na-values without it (the texts read as "
                    "missing), or name the class otherwise"
                )
                continue
            if row not in known:
                fresh.append((i, row, label))
                continue
            value, problem = read_cell(label, settings, answers.number)
            if problem is not None:
                problems.append(f"{line(i)}, row {row}: {problem}")
            elif same_label(value, known[row]):
                already.append(row)
            else:
                problems.append(
                    f"row {row}: already labeled {shown_label(known[row], settings)!r}; the "
                    f"answer {label!r} would overwrite it (skbait correct DATA --row {row} "
                    "--label X corrects a label)"
                )
        by_line = {}
        rows_of = {i: row for i, row, _ in fresh}
        values = _accept_labels(
            state,
            [(i, label) for i, _, label in fresh],
            answers.number,
            lambda i: f"{line(i)}, row {rows_of[i]}",
            notes,
            problems,
        )
        for i, value in values:
            by_line.setdefault(rows_of[i], []).append((i, value))
        merged = []
        for row, given in sorted(by_line.items()):
            if len({value for _, value in given}) > 1:
                shown = ", ".join(
                    f"{shown_label(value, settings)!r} ({line(i)})" for i, value in given
                )
                problems.append(f"row {row}: answered twice with different labels: {shown}")
                continue
            merged.append((row, given[0][1]))
        if problems:
            raise _problems(f"The answer file {answers.path!r} cannot be merged:", problems)
        if merged:
            check_writable(data_path, path)
            # Both written whole before either is in place, DATA first: if the process
            # dies before the campaign is replaced, the next run finds these labels in DATA.
            with replaced_together():
                _write_labels(table, state, merged)
                _append(state, table, merged)
                _write_campaign(state, path)
        elif from_data or notes or not os.path.exists(path):
            _write_campaign(state, path)
    return {
        "merged": [row for row, _ in merged],
        "unanswered": unanswered,
        "already": sorted(set(already)),
        "from_data": from_data,
        "notes": notes,
    }


def _same_dates(theirs, ours):
    """Where an answer cell is DATA's ISO date (``2024-01-05``) as a spreadsheet shows it:
    day or month first (one reading for the whole column, the one that matches more
    rows), with or without a time of 00:00."""
    import pandas as pd

    same = np.zeros(len(ours), dtype=bool)
    iso = np.array([bool(_ISO_DATE.match(cell)) for cell in ours], dtype=bool)
    if not iso.any():
        return same
    # Cell by cell (a batch's rows): each ISO cell as it is, with or without a time, in
    # every pandas (format="ISO8601" needs pandas 2).
    dates = pd.to_datetime(pd.Series([pd.to_datetime(c, errors="coerce") for c in ours[iso]]))
    readings = []
    for dayfirst in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "could not infer format": read cell by cell
            read = pd.to_datetime(pd.Series(theirs[iso]), dayfirst=dayfirst, errors="coerce")
        readings.append((read == dates).to_numpy())
    same[iso] = max(readings, key=np.count_nonzero)
    return same


def _answer_rows(table, answers, key, target, line, id_column=None):
    """``(line, row, label text)`` for each answer line whose row is one of DATA's.

    ``key`` and ``target`` are the answers' columns; ``id_column`` is DATA's
    identifier column, which ``key`` names unless it is the row number.
    """
    problems, entries = [], []
    n = len(table)
    if id_column is None or key.strip() == ROW:
        for i, row_text in enumerate(answers.text(key)):
            value = table.number(row_text) if row_text else None
            if value is None or not float(value).is_integer() or not 0 <= value < n:
                problems.append(
                    f"{line(i)}: unknown row {row_text!r} (DATA has rows 0 to {n - 1})"
                )
                continue
            entries.append((i, int(value), None))
    else:
        identifiers = Identifiers(table.text(id_column))
        any_rewritten = False
        for i, ident in enumerate(answers.text(key)):
            row = identifiers.find(ident)
            if row is None:
                rewritten = spreadsheet_rewrite(ident)
                any_rewritten = any_rewritten or rewritten is not None
                problems.append(
                    f"{line(i)}: no row of DATA has {key} {ident!r}"
                    + (f" (it looks like {rewritten})" if rewritten else "")
                )
                continue
            entries.append((i, row, None))
        if any_rewritten:
            problems.append(f"{key}: {REWRITE_ADVICE}")
    labels = answers.labels(target)
    return [(i, row, labels[i]) for i, row, _ in entries], problems


def record_labels(
    data_path,
    *,
    campaign=None,
    accept_changes=False,
    na_values=None,
    multi_label=None,
    label_sep=None,
    no_labels=None,
    notes=None,
    progress=None,
):
    """Record in the campaign file the labels typed into DATA since it last looked.

    Parameters
    ----------
    data_path : str or path-like
    campaign : str or path-like, default=None
    accept_changes : bool, default=False
        Accept edited feature values in DATA (rows without an identifier).
    na_values : sequence of str, default=None
        Cell texts read as blanks (kept by the campaign; see :func:`query_batch`).
    multi_label : bool, default=None
    label_sep, no_labels : str, default=None
        Checked against the campaign's, as in :func:`merge_answers`.
    notes : list, default=None
        Where to append the notes on what the user should know (a new class,
        edited rows accepted), as ``skbait`` prints them; they are dropped
        when None.
    progress : callable, default=None
        Called with a short line before each step that takes long on a large
        DATA (reading it, checking its rows), as :func:`query_batch` does.

    Returns
    -------
    list of int
        The rows newly recorded.

    Raises
    ------
    CampaignError
        When the table at ``data_path``, its campaign file or an argument
        cannot be used; the message says which, and how to fix it. Nothing
        is changed on disk.

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
    with _session(
        data_path,
        campaign,
        accept_changes=accept_changes,
        na_values=na_values,
        label_sets=(multi_label, label_sep, no_labels),
        progress=progress,
    ) as session:
        table, state, path, found = session
        new = _sync_from_data(state, table, found)
        if new or found:
            _write_campaign(state, path)
    if notes is not None:
        notes.extend(found)
    return new


def restore_labels(
    data_path,
    *,
    campaign=None,
    accept_changes=False,
    na_values=None,
    multi_label=None,
    label_sep=None,
    no_labels=None,
    notes=None,
    progress=None,
):
    """Write the labels the campaign recorded back into DATA where DATA lost them.

    Labels that DATA holds and the campaign does not are kept (and recorded);
    a row where both hold different labels is an error, and nothing changes.

    Parameters
    ----------
    data_path : str or path-like
    campaign : str or path-like, default=None
    accept_changes : bool, default=False
        Accept edited feature values in DATA (rows without an identifier).
    na_values : sequence of str, default=None
        Cell texts read as blanks (kept by the campaign; see :func:`query_batch`).
    multi_label : bool, default=None
    label_sep, no_labels : str, default=None
        Checked against the campaign's, as in :func:`merge_answers`.
    notes : list, default=None
        Where to append the notes on what the user should know (a new class,
        edited rows accepted), as ``skbait`` prints them; they are dropped
        when None.
    progress : callable, default=None
        Called with a short line before each step that takes long on a large
        DATA (reading it, checking its rows), as :func:`query_batch` does.

    Returns
    -------
    list of int
        The rows restored.

    Raises
    ------
    CampaignError
        When the table at ``data_path``, its campaign file or an argument
        cannot be used; the message says which, and how to fix it. Nothing
        is changed on disk.

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
    with _session(
        data_path,
        campaign,
        accept_changes=accept_changes,
        na_values=na_values,
        label_sets=(multi_label, label_sep, no_labels),
        progress=progress,
    ) as session:
        table, state, path, found = session
        known, texts, lost, changed = _conflicts(state, table)
        if changed:
            settings = state["settings"]
            raise _problems(
                "DATA and the campaign hold different labels; fix these rows by hand, or keep "
                "DATA's with skbait correct DATA --row R --label X:",
                [
                    f"row {r}: DATA {texts[r]!r}, campaign {shown_label(known[r], settings)!r}"
                    for r in changed
                ],
            )
        # Labels typed into DATA are checked (and recorded) before DATA is written: a typo
        # among them stops the command with nothing changed.
        new_rows = _sync_from_data(state, table, found, skip=lost)
        if lost:
            check_writable(data_path, path)
            _write_labels(table, state, [(row, known[row]) for row in lost])
        if new_rows or lost or found:
            _write_campaign(state, path)
    if notes is not None:
        notes.extend(found)
    return lost


def correct_label(
    data_path,
    row,
    label=None,
    *,
    retract=False,
    campaign=None,
    multi_label=None,
    label_sep=None,
    no_labels=None,
    notes=None,
):
    """Correct the label of one row, or retract it, in DATA and the campaign's history.

    The journal keeps the old label and the new one (or the retraction), so
    the campaign's history shows what was corrected and when; the next round
    fits on the corrected labels, and a retracted row joins the pool again.
    The campaign file is written first, then DATA; a crash between the two
    is finished by the next command.

    Parameters
    ----------
    data_path : str or path-like
    row : int or str
        The row number (as in batch files), or its identifier when the
        campaign keys rows with ``--id``.
    label : str, default=None
        The new label (checked like any answer).
    retract : bool, default=False
        Remove the row's label instead.
    campaign : str or path-like, default=None
    multi_label : bool, default=None
    label_sep, no_labels : str, default=None
        Checked against the campaign's, as in :func:`merge_answers`. In a
        multi-label campaign ``label`` is a label set as a cell holds it
        (``"a|b"``, or the no-labels token).
    notes : list, default=None
        Where to append the notes on what the user should know (a new class,
        edited rows accepted), as ``skbait`` prints them; they are dropped
        when None.

    Returns
    -------
    dict
        ``row``, ``previous`` (the label replaced; None if the row had none,
        or a retraction found already done) and ``label`` (the new one; None
        when retracted); label sets as their cell text.

    Raises
    ------
    CampaignError
        When the table at ``data_path``, its campaign file or an argument
        cannot be used; the message says which, and how to fix it. Nothing
        is changed on disk.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skbait.campaign import correct_label, query_batch, read_campaign
    >>> folder = tempfile.mkdtemp()
    >>> data = os.path.join(folder, "pool.csv")
    >>> frame = pd.DataFrame({"x": [0.5, 1.5, 2.5, 3.5], "y": ["cat", "dog", "", ""]})
    >>> frame.to_csv(data, index=False)
    >>> _ = query_batch(data, os.path.join(folder, "b.csv"), target="y", batch_size=1,
    ...                 device="cpu")
    >>> correct_label(data, 1, "cat")
    {'row': 1, 'previous': 'dog', 'label': 'cat'}
    >>> pd.read_csv(data)["y"].tolist()[:2]
    ['cat', 'cat']
    >>> read_campaign(data + ".campaign.json")["labels"][-1]["previous"]
    'dog'
    """
    if retract == (label is not None):
        raise CampaignError("give either a new label or retract=True (--label or --retract).")
    with _session(data_path, campaign, label_sets=(multi_label, label_sep, no_labels)) as session:
        table, state, path, found = session
        settings = state["settings"]
        position = _position(state, table, row)
        _sync_from_data(state, table, found, skip=(position,))
        known = _known_labels(state)
        previous = known.get(position)
        cell = table.labels(state["data"]["target"])[position]
        if previous is None and cell != "":
            # A label typed into DATA and not recorded yet is the one replaced: the journal
            # keeps it, and a crash before DATA is written is finished by the next command
            # (it reads the replaced label in DATA), where every command then refused DATA.
            previous = read_cell(cell, settings, table.number)[0]
        if retract:
            if previous is None:
                if _last_entries(state).get(position, {}).get("correction") == "retract":
                    # Run again (after a crash, say): the retraction stands, nothing to do.
                    if notes is not None:
                        notes.extend(found)
                    return {"row": position, "previous": None, "label": None}
                raise CampaignError(f"row {row} has no label to retract.")
            value = None
        else:
            text = str(label).strip()
            if text == "":
                raise CampaignError(f"the label {label!r} is blank; use --retract to remove one.")
            if text in table.na_values and not table.quotes_na_as_text:
                raise CampaignError(
                    f"the label {label!r} reads as a missing cell in DATA; use --retract to "
                    "remove a label, or make it a class: give --na-values without it to "
                    "skbait query or teach first."
                )
            if previous is not None:
                # The row's own label does not count as a known class while it changes.
                entry = {"row": position, "label": None}
                state["labels"].append(entry)
                try:
                    ((_, value),) = _accept_labels(
                        state, [(position, text)], table.number, lambda r: f"row {r}", found
                    )
                finally:
                    state["labels"].remove(entry)
            else:
                ((_, value),) = _accept_labels(
                    state, [(position, text)], table.number, lambda r: f"row {r}", found
                )
            if value == previous:
                shown = shown_label(value, settings)
                if notes is not None:
                    notes.extend(found)
                return {"row": position, "previous": shown, "label": shown}
        kind = "retract" if retract else "correct"
        _append(state, table, [(position, value)], previous=previous, correction=kind)
        # Both written whole before either is in place, the campaign first: if the process
        # dies before DATA is replaced, the next run finishes the correction.
        check_writable(data_path, path)
        with replaced_together():
            _write_campaign(state, path)
            _write_labels(table, state, [(position, value)])
    if notes is not None:
        notes.extend(found)
    return {
        "row": position,
        "previous": shown_label(previous, settings),
        "label": shown_label(value, settings),
    }


def _check_whole_page_answers(answers_path, campaign):
    """Refuse the labeling page's answer file when its last line has no line end.

    The page ends each label's line as it saves it: a line without one was cut
    short by a crash, and its label perhaps with it ("ne" of "neg"). The page
    drops such a line; merged by hand it would be a label nobody gave. Other
    answer files may end without a line end (as some editors save them).
    """
    page_file = page_answers_path(campaign)
    try:
        if not os.path.samefile(answers_path, page_file):
            return
        with open(answers_path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - 4096))
            tail = handle.read()
    except OSError:
        return  # a missing file is reported as usual
    if not tail or tail.endswith((b"\n", b"\r")):
        return
    last = tail.splitlines()[-1].decode("utf-8", errors="replace")
    raise CampaignError(
        f"the last line of the labeling page's answer file {os.fspath(answers_path)!r}, "
        f"{last!r}, has no line end: the page was stopped while saving it, and its label "
        "may be cut short. Delete that line (and give that row its label again), then run "
        "again. Nothing was changed."
    )


def _position(state, table, row):
    id_column = state["data"].get("id")
    if id_column is not None:
        position = Identifiers(table.text(id_column)).find(row)
        if position is not None:
            return position
        raise CampaignError(f"no row of DATA has {id_column} {str(row)!r}.")
    try:
        position = int(row)
    except (TypeError, ValueError):
        raise CampaignError(f"row must be a row number, got {row!r}.") from None
    if not 0 <= position < len(table):
        raise CampaignError(f"no row {row} in DATA (rows 0 to {len(table) - 1}).")
    return position
