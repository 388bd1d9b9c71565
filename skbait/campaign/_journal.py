"""The campaign file: its format, reading and writing it, and keeping it in step with DATA."""

import json
import os

import numpy as np

from skbait.campaign import _files
from skbait.campaign._errors import CampaignError, _problems
from skbait.campaign._features import _digest, _feature_columns
from skbait.campaign._files import _Table
from skbait.campaign._labels import _check_labels, _infer_label_type

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

    _files._atomic_write(path, write)


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
