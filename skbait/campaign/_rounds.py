"""Rounds: fit on the labeled rows, choose the next batch, update the stopping criteria."""

import datetime
import os

import numpy as np

from skbait.campaign._errors import CampaignError
from skbait.campaign._features import ROW, _feature_matrix
from skbait.campaign._files import _Table, write_frame
from skbait.campaign._journal import (
    DEFAULTS,
    _known_labels,
    _open,
    _sync_from_data,
    _write_campaign,
)
from skbait.campaign._labels import _parse_label


# TODO(house): one round-seed function for the library; this is today's.
def _round_seed(settings):
    from sklearn.utils import check_random_state

    return int(check_random_state(settings["random_state"]).randint(np.iinfo(np.int32).max))


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

    from skbait._presets import (
        UsageError,
        _make_estimator,
        _make_strategies,
        _serves_regression,
        _task,
    )
    from skbait.cold_start import ColdStart
    from skbait.stopping import round_random_state

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
