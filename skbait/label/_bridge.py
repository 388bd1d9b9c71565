"""The labeling page's only door into the campaign (:mod:`skbait.campaign`).

Everything the page needs from a campaign goes through this module, so that a
change of the campaign's internals is adapted here and nowhere else. Every
read-modify-write of DATA and its campaign file holds the campaign's file lock,
``DATA.campaign.json.lock`` (the project's convention): here around each call,
as long as the campaign's functions do not take it themselves
(:data:`CAMPAIGN_LOCKS_ITSELF`).
"""

import contextlib
import os

from skbait.campaign import (
    CampaignError,
    campaign_path,
    merge_answers,
    query_batch,
    read_campaign,
)

__all__ = [
    "CampaignError",
    "campaign_file",
    "campaign_lock",
    "check_label",
    "criteria_rules",
    "feature_matrix",
    "label_values",
    "make_model",
    "merge",
    "query",
    "read_state",
    "read_table",
    "recorded_labels",
    "shown_value",
]

# Query options the page passes through to query_batch (None keeps the campaign's).
OPTIONS = ("batch_size", "strategy", "estimator", "task", "device", "random_state")

# query_batch and merge_answers take the campaign's lock themselves: it must not be held
# around them, since a second FileLock on the same file in one process waits for the
# first (a deadlock, or the campaign's lock timeout).
CAMPAIGN_LOCKS_ITSELF = True


def campaign_file(data, campaign=None):
    """The campaign file of DATA (``DATA.campaign.json`` unless given)."""
    return os.path.abspath(campaign_path(data) if campaign is None else os.fspath(campaign))


def campaign_lock(path):
    """The campaign's file lock, shared by every writer of DATA and its campaign file.

    A filelock singleton: reentrant within a thread, exclusive between threads
    and processes.
    """
    from filelock import FileLock

    return FileLock(str(path) + ".lock", is_singleton=True)


def _locked(path):
    return contextlib.nullcontext() if CAMPAIGN_LOCKS_ITSELF else campaign_lock(path)


def read_state(path):
    """The campaign as saved, or None when the file does not exist yet."""
    if not os.path.exists(path):
        return None
    return read_campaign(path)


def recorded_labels(state):
    """``{row: label}`` of the campaign's journal (empty without a campaign)."""
    if state is None:
        return {}
    return {int(entry["row"]): entry["label"] for entry in state["labels"]}


def read_table(data):
    """DATA as the campaign reads it: an object with ``frame``, ``columns`` and ``text(col)``."""
    from skbait.campaign._files import _Table

    return _Table(data)


def merge(data, answers, campaign):
    """Merge an answer file into DATA, as ``skbait teach DATA ANSWERS`` does."""
    with _locked(campaign):
        return merge_answers(data, answers, campaign=campaign)


def query(data, batch_file, campaign, *, target=None, features=None, options=None):
    """Choose (or rewrite) the current batch, as ``skbait query`` does."""
    options = {k: v for k, v in (options or {}).items() if k in OPTIONS}
    with _locked(campaign):
        return query_batch(
            data, batch_file, target=target, campaign=campaign, features=features, **options
        )


def check_label(text, label_type):
    """The label's canonical text; ValueError saying why when it is not a label."""
    from skbait.campaign._labels import _parse_label

    text = str(text).strip()
    if not text:
        raise ValueError("a label cannot be blank (skip the row instead).")
    if any(ord(c) < 32 for c in text):
        raise ValueError("a label is one line of text, without control characters.")
    if label_type is None:
        return text
    if _parse_label(text, label_type) is None:
        word = {"int": "an integer", "float": "a number", "str": "text"}[label_type]
        raise ValueError(f"{text!r} is not {word}, as the campaign's labels are.")
    # DATA keeps the spelling typed; the campaign compares values.
    return text


def label_values(texts, label_type):
    """The labels as the model learns them (numbers for numeric campaigns)."""
    import numpy as np

    from skbait.campaign._labels import _as_value

    # The journal keeps values (older journals kept text): both read as values.
    values = [_as_value(t, label_type) for t in texts]
    if label_type == "int":
        return np.asarray(values, dtype=np.int64)
    if label_type == "float":
        return np.asarray(values, dtype=np.float64)
    return np.asarray(values, dtype=object)


def feature_matrix(table, features):
    """The model's inputs for every row of DATA, as the campaign builds them."""
    from skbait.campaign._features import _feature_matrix

    return _feature_matrix(table, features)


def make_model(settings, task):
    """The campaign's estimator for ``task`` (unfitted): its name and the estimator."""
    from skbait._presets import _make_estimator

    return _make_estimator(settings.get("estimator"), task)


def criteria_rules(task, stop=None):
    """``{name: rule}`` of the campaign's stopping criteria, each rule with its threshold.

    ``stop`` is the campaign's ``--stop`` setting (None: the defaults for ``task``).
    """
    from skbait.campaign._stopping import describe, make_criteria

    rules = {}
    for criterion in make_criteria(task, stop):
        name, _, rule, _ = describe(criterion)
        rules[name] = rule
    return rules


def shown_value(name, value):
    """A criterion's recorded value as the command line shows it (max confidence rising)."""
    from skbait.campaign._stopping import shown_value as campaign_shown_value

    return campaign_shown_value(name, value)
