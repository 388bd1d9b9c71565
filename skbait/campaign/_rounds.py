"""Rounds: fit on the labeled rows, choose the next batch, update the stopping criteria."""

import contextlib
import datetime
import os
import warnings

import numpy as np

from skbait.campaign._errors import CampaignError
from skbait.campaign._features import ROW
from skbait.campaign._files import (
    _is_parquet,
    _require_pyarrow,
    _Table,
    check_writable,
    remove_stale_temporaries,
    replaced_together,
    write_csv,
    write_frame,
)
from skbait.campaign._journal import (
    DEFAULTS,
    _known_labels,
    _session,
    _sync_from_data,
    _write_campaign,
)
from skbait.campaign._labels import (
    _as_value,
    _infer_label_type,
    _parse_label,
    nearest_class,
    read_cell,
    same_label,
)
from skbait.campaign._labelsets import canonical_label, check_label_names
from skbait.campaign._model import fit_model, label_names, labeled_set, varies
from skbait.campaign._stopping import parse_stop, update_criteria


def _round_seed(settings):
    from skbait.utils._seeds import draw_seed

    return draw_seed(settings["random_state"])


def _validate_options(options):
    from skbait._presets import CLASSIFIERS, REGRESSORS
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
    task = options.get("task")
    if settings.get("multi_label") and task not in (None, "auto"):
        # Its task is multi-label; a single-label task made the page fit one on label sets.
        raise CampaignError(
            f"a multi-label campaign classifies label sets: --task {task} does not apply "
            "(leave out --task)."
        )
    if settings["task"] == "regression" and settings["label_type"] == "int":
        settings["label_type"] = "float"
    return notes


def _declare_classes(state, classes, number):
    """``--classes``: the class set, in the labels' type; every label so far must be in it."""
    texts = [c.strip() for c in classes if c.strip()]
    if not texts:
        raise CampaignError("--classes is empty: give the class names, comma-separated.")
    settings = state["settings"]
    if settings.get("multi_label"):
        return _declare_labels(state, texts)
    label_type = settings["label_type"] or _infer_label_type(texts, "classification", number)
    values = []
    for text in texts:
        value = _parse_label(text, label_type, number)
        if value is None:
            raise CampaignError(
                f"--classes names {text!r}, but the campaign's labels are of type {label_type}."
            )
        values.append(value)
    if len(set(values)) != len(values):
        raise CampaignError(f"--classes names a class twice: {', '.join(texts)}.")
    _refuse_outside(
        sorted({(r, v) for r, v in _known_labels(state).items() if v not in set(values)}, key=str),
        values,
    )
    settings["label_type"] = label_type
    old = settings.get("classes")
    settings["classes"] = values
    return [] if old in (None, values) else [f"classes change from {old} to {values}"]


def _refuse_outside(outside, allowed):
    """Refuse ``--classes`` that leave out labels already given: ``outside`` holds (row, label)."""
    if outside:
        shown = "; ".join(
            f"row {r}: {v!r} (nearest {nearest_class(v, allowed)!r})" for r, v in outside[:5]
        )
        raise CampaignError(
            f"labels already given are not among --classes: {shown}; add them to --classes "
            "or correct them (skbait correct)."
        )


def _declare_labels(state, texts):
    """``--classes`` of a multi-label campaign: the labels a set may hold."""
    settings = state["settings"]
    texts = [canonical_label(t) for t in texts]  # 1.0 is the label 1, as in the cells
    check_label_names(texts, settings["multi_label"], "--classes names")
    if len(set(texts)) != len(texts):
        raise CampaignError(f"--classes names a label twice: {', '.join(texts)}.")
    allowed = set(texts)
    known = _known_labels(state).items()
    _refuse_outside(
        sorted({(r, v) for r, labels in known for v in labels if v not in allowed}), texts
    )
    values = sorted(texts)
    old = settings.get("classes")
    settings["classes"] = values
    return [] if old in (None, values) else [f"classes change from {old} to {values}"]


def _pending(state):
    """Rows of the last batch still without a label (empty when none)."""
    if not state["rounds"]:
        return []
    known = _known_labels(state)
    return [r for r in state["rounds"][-1]["batch"] if r not in known]


def _choose(state, table, notes, progress):
    """Fit on the labeled rows and choose the next batch; returns the round record."""
    from sklearn.base import is_classifier

    from skbait._presets import UsageError, _classes_note, _make_strategies, _serves_regression
    from skbait.cold_start import ColdStart
    from skbait.strategies import RandomSampling
    from skbait.utils._seeds import round_random_state
    from skbait.utils._threads import round_threads

    settings = state["settings"]
    progress("building the feature matrix")
    X, rows, y, task = labeled_set(state, table, notes)
    n = X.shape[0]
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
        "n_journal": len(state["labels"]),
        "settings": {k: settings[k] for k in DEFAULTS},
        "task": task,
    }
    previous = next((r["task"] for r in reversed(state["rounds"]) if r.get("task")), None)
    if task == "classification" and previous is None and settings["task"] == "auto":
        # The first round to decide the task says how whole numbers were read, once.
        note = _classes_note(y)
        if note is not None:
            notes.append(note)
    # Only auto decides from the labels; a task the user just gave has its own note.
    if (
        task is not None
        and previous is not None
        and task != previous
        and settings["task"] == "auto"
    ):
        notes.append(
            f"the labels now call for {task} (they were taken as {previous}); give --task "
            "to fix the task"
        )
    # No model to learn from yet: one class, no label that tells rows apart, or
    # fewer than two values to fit a regression on (as with --task and no label).
    no_model = (
        (task == "classification" and np.unique(y).size < 2)
        or (task == "multi-label" and not varies(y))
        or (task == "regression" and rows.size < 2)
    )
    try:
        # The round's fit, criteria and selection: on one thread in every pool while
        # the machine is oversubscribed, as the learner's rounds (the user's settings
        # come back after it).
        with round_threads("auto"):
            if (task is None or no_model) and settings["strategy"].lower() == "random":
                # Random sampling needs no model, and stays the uniform baseline.
                record["design"] = "random"
                progress(f"choosing {batch_size} row(s) of {n} uniformly at random")
                indices, utilities = RandomSampling().select(
                    None, X, labeled, batch_size, random_state=rng, return_utilities=True
                )
            elif task is None or no_model:
                # No model can be trained: the label-free design, the labeled rows counted.
                record["design"] = "cold_start"
                progress(f"choosing {batch_size} row(s) of {n} with the label-free design")
                indices, utilities = ColdStart(device=settings["device"]).select(
                    None, X, labeled, batch_size, random_state=rng, return_utilities=True
                )
            else:
                strategy_name = settings["strategy"].lower()
                if task == "multi-label":
                    strategy_name, strategy = _multilabel_strategy(strategy_name, settings)
                else:
                    (strategy,) = _make_strategies(
                        strategy_name, task, settings["device"]
                    ).values()
                if task == "regression" and not _serves_regression(strategy_name):
                    from skbait.strategies._registry import regression_strategies

                    raise CampaignError(
                        f"strategy {strategy_name!r} needs class probabilities and cannot serve a "
                        f"regression target; use {regression_strategies()}."
                    )
                progress(f"fitting the model on {rows.size} labeled row(s)")
                model, X, rows, y, task, name = fit_model(state, table, labeled=(X, rows, y, task))
                record["design"] = strategy_name
                record["estimator"] = name
                if len(state["labels"]) != state.get("stopping_journal"):
                    progress("updating the stopping criteria")
                    record["stopping"] = update_criteria(state, task, model, X, labeled, seed)
                    state["stopping_journal"] = len(state["labels"])
                else:
                    # The same labels as the last update: the same model, not new evidence.
                    last = next((r for r in reversed(state["rounds"]) if "stopping" in r), None)
                    record["stopping"] = dict(last["stopping"]) if last else {}
                    record["stopping_unchanged"] = True
                progress(f"{strategy_name} choosing {batch_size} row(s) of {n}")
                with _campaign_advice():
                    indices, utilities = strategy.select(
                        model, X, labeled, batch_size, random_state=rng, return_utilities=True
                    )
                if task == "multi-label":
                    record["classes"] = label_names(state)
                elif is_classifier(model):
                    record["classes"] = np.unique(y).tolist()
    except UsageError as exc:
        raise CampaignError(str(exc)) from None
    record["batch"] = [int(i) for i in indices]
    id_column = state["data"].get("id")
    if id_column is not None:
        record["batch_ids"] = [table.text(id_column)[i] for i in record["batch"]]
    record["utilities"] = [None if not np.isfinite(u) else float(u) for u in utilities]
    return record


_CAMPAIGN_ADVICE = (
    "A campaign sets no approximation: for exact BAIT, give fewer feature columns "
    "(--features or --exclude; its memory grows with the square of the classes times the "
    "model's embedding) or choose another strategy (--strategy badge)."
)


@contextlib.contextmanager
def _campaign_advice():
    """Re-issue the strategy's warnings, the approximation's advice said as a campaign
    user can follow it (no ``approximation=`` or ``memory_limit`` to set there)."""
    from skbait._approximations import EXACT_ADVICE

    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            yield
    finally:  # also when the selection fails: its warnings may say why
        for caught_warning in caught:
            message = str(caught_warning.message).replace(EXACT_ADVICE, _CAMPAIGN_ADVICE)
            warnings.warn(message, caught_warning.category, stacklevel=3)


def _multilabel_strategy(name, settings):
    """The multi-label strategy a name means (``bait`` is multi-label BAIT); refused when
    the strategy cannot serve label sets."""
    from skbait._presets import UsageError, _make_multilabel_strategy

    try:
        return _make_multilabel_strategy(name, settings["device"])
    except UsageError as exc:
        raise CampaignError(str(exc)) from None


def _check_output_folder(output):
    """Refuse a batch path that cannot be written: its folder missing or read-only, a
    folder, a read-only file, a parquet file without pyarrow."""
    if _is_parquet(output):
        # Now, not at the write: the round would be recorded and the batch never written.
        _require_pyarrow(output)
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise CampaignError(
            f"cannot write the batch file {os.fspath(output)!r}: the folder {folder!r} does "
            "not exist."
        )
    if os.path.isdir(output):
        raise CampaignError(
            f"cannot write the batch file {os.fspath(output)!r}: it is a folder; give -o "
            "the path of a file (batch.csv)."
        )
    check_writable(output)
    if not os.access(folder, os.W_OK):
        raise CampaignError(
            f"cannot write the batch file {os.fspath(output)!r}: the folder {folder!r} is "
            "not writable."
        )


def _refuse_overwrite(output, protected, what="the batch file"):
    """Refuse to write ``output`` over a file of ``protected`` (``{name: path}``)."""
    for name, path in protected.items():
        if os.path.exists(output) and os.path.exists(path) and os.path.samefile(output, path):
            raise CampaignError(
                f"{what} {os.fspath(output)!r} would overwrite {name}; choose another -o."
            )


def _check_output_free(state, output, protected, what="the batch file"):
    """Refuse to overwrite DATA, the campaign file, or a batch holding unmerged answers.

    ``what`` names the file about to be written in the messages. Returns the
    dialect of the batch file there (None if there is none): a spreadsheet that
    re-saved it opens the next one alike.
    """
    if not os.path.exists(output):
        return None
    _refuse_overwrite(output, {repr(os.fspath(path)): path for path in protected}, what)
    try:
        previous = _Table(output, na_values=state["settings"].get("na_values"))
    except CampaignError:
        return None  # not a table (or unreadable): nothing of ours to lose
    target = state["data"]["target"]
    if ROW not in previous.columns or target not in previous.columns:
        return None
    known = _known_labels(state)
    unmerged = 0
    label_type = state["settings"]["label_type"]
    history = {}
    for entry in state["labels"]:
        history.setdefault(int(entry["row"]), []).extend(
            [_as_value(entry["label"], label_type), _as_value(entry.get("previous"), label_type)]
        )
    settings = dict(state["settings"], label_type=label_type or "str")
    for row, label in zip(previous.text(ROW), previous.labels(target)):
        if label == "":
            continue
        number = previous.number(row)
        value = read_cell(label, settings, previous.number)[0]
        row = None if number is None else int(number)
        # A label corrected since was merged: the journal remembers every label of a row.
        merged = [known.get(row), *history.get(row, ())]
        unmerged += row is None or not any(same_label(value, v) for v in merged)
    if unmerged:
        raise CampaignError(
            f"{os.fspath(output)!r} holds {unmerged} answer(s) not merged into DATA yet; "
            f"merge them first (skbait teach DATA {os.fspath(output)}, or query --answers), "
            f"or write {what} elsewhere with -o."
        )
    return None if previous.parquet else previous.dialect


def _write_batch(table, state, rows, output, path, dialect=None):
    """Record the batch in the campaign file ``path`` and write it to ``output``.

    The batch is written in ``dialect``, the one of the batch file it replaces,
    else in DATA's (a semicolon spreadsheet opens its batch as it opens DATA, and
    again after re-saving it). Both files are written whole before either is put
    in place: a batch that cannot be written (a read-only file, a full disk)
    records nothing. The campaign file is put in place first: if the process dies
    between the two, a rerun writes the same batch again.
    """
    frame = table.frame.iloc[rows].copy()
    target = state["data"]["target"]
    frame[target] = [""] * len(rows) if not table.parquet else [None] * len(rows)
    frame.insert(0, ROW, np.asarray(rows, dtype=np.int64))
    if dialect is None and not table.parquet:
        dialect = table.dialect
    with replaced_together():
        _write_campaign(state, path)
        if dialect is None or _is_parquet(output):
            write_frame(frame, output, dialect=dialect)
        else:
            missing = [""] + [table.na_token(c) for c in frame.columns[1:]]
            write_csv(
                frame.astype(object), output, dialect, na_values=table.na_values, missing=missing
            )


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
    id_column=None,
    exclude=(),
    na_values=None,
    classes=None,
    stop=None,
    accept_changes=False,
    progress=None,
    multi_label=None,
    label_sep=None,
    no_labels=None,
):
    """Write the next batch of rows to label, and record the round.

    Reads DATA and its campaign file (creating it on the first call), records
    the labels filled in DATA since the last round, trains the estimator on
    every labeled row and writes the rows the strategy chooses to ``output``:
    all of DATA's columns, the target blank, and a ``row`` column first (the
    0-based position among DATA's data rows). With no label yet, or labels of
    a single class, the batch comes from the label-free design of
    :mod:`skbait.cold_start` (with the ``random`` strategy, a uniform draw).

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
    id_column : str, default=None
        A column that names each row (fixed at the first call): rows are then
        matched by it, so sorting DATA or appending rows is harmless.
    exclude : sequence of str, default=()
        Columns left out of the features (first call).
    na_values : sequence of str, default=None
        Cell texts read as blanks (default: ``NA``, ``N/A``, ``nan``,
        ``NaN``, ``null`` and the like); kept by the campaign.
    classes : sequence of str, default=None
        The class set: answers outside it are refused.
    stop : str, default=None
        The stopping criteria, as ``--stop`` takes them (see
        :mod:`skbait.campaign`).
    accept_changes : bool, default=False
        Accept edited feature values in DATA (rows without an identifier).
    progress : callable, default=None
        Called with a short line at each stage (reading DATA, checking its
        rows, the feature matrix, fitting, choosing).
    multi_label : bool, default=None
        Read each label cell as a *set* of labels (first call; None keeps the
        campaign's kind, and a contradicting value is an error). The model is
        then one logistic regression per label (``OneVsRestClassifier``) or
        an MLP with one sigmoid per label, the strategy ``bait`` is
        :class:`~skbait.strategies.MultiLabelBAIT`, ``badge``
        :class:`~skbait.strategies.MultiLabelBADGE`, ``margin``
        :class:`~skbait.strategies.MultiLabelUncertainty`; the stopping
        criteria read every label's decision.
    label_sep : str, default=None
        The separator of the labels in a cell (``|`` when None), fixed by
        the first call.
    no_labels : str, default=None
        The cell text of a row where no label applies (``(none)`` when
        None), fixed by the first call; a blank cell is a row not labeled
        yet.

    Returns
    -------
    dict
        ``round`` (the round's record, as kept in the campaign file, or None
        when every row is labeled), ``rewritten`` (True when the pending batch
        was written again), ``from_data`` (labels found in DATA) and ``notes``.

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
    stop = parse_stop(stop)
    progress = progress if progress is not None else (lambda line: None)
    _check_output_folder(output)
    opened = _session(
        data_path,
        campaign,
        target=target,
        features=features,
        id_column=id_column,
        exclude=exclude,
        na_values=na_values,
        accept_changes=accept_changes,
        create=True,
        label_sets=(multi_label, label_sep, no_labels),
        progress=progress,
    )
    with opened as (table, state, path, notes):
        remove_stale_temporaries(output)
        # --classes before DATA's new labels: they are checked against the declared
        # classes, not against each other as spellings of one class (cat, car).
        declared = [] if classes is None else _declare_classes(state, classes, table.number)
        from_data = _sync_from_data(state, table, notes)
        changes = _update_settings(state, options) + declared
        if stop is not None and stop != state["settings"].get("stop"):
            if state["rounds"]:
                changes.append(f"stopping criteria change to {', '.join(stop) or 'none'}")
            state["settings"]["stop"] = stop
        previous = _check_output_free(state, output, (data_path, path))
        pending = _pending(state)
        last = state["rounds"][-1] if state["rounds"] else None
        unchanged = (
            last is not None
            and len(state["labels"]) == last.get("n_journal", last["n_labeled"])
            and not changes
        )
        result = {
            "rewritten": False,
            "from_data": from_data,
            "notes": notes + changes,
            "stop": state["settings"].get("stop"),
        }
        if unchanged and pending:
            # Nothing learnt since this batch was chosen: the same batch again.
            last["output"] = os.fspath(output)
            _write_batch(table, state, pending, output, path, previous)
            return dict(result, round=last, rewritten=True)
        record = _choose(state, table, notes, progress)
        result["notes"] = notes + changes
        if record is None:
            if from_data or notes or changes:
                _write_campaign(state, path)
            return dict(result, round=None)
        record["output"] = os.fspath(output)
        if changes:
            record["changes"] = changes
        state["rounds"].append(record)
        _write_batch(table, state, record["batch"], output, path, previous)
    return dict(result, round=record)
