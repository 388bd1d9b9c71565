"""The model of a campaign: its labeled set, its task, and the estimator fitted on it.

The task is decided from every label the campaign holds, the way ``skbait
run`` decides it (whole numbers with more than 20 distinct values are
amounts, not classes), afresh each round while ``task`` is ``auto``; a task
given with ``--task`` wins and is checked against the labels.

A multi-label campaign's task is ``"multi-label"``: its labels are label
sets, learnt as an indicator matrix (:class:`~sklearn.preprocessing.MultiLabelBinarizer`,
one column per label, in :func:`label_names` order).
"""

import warnings

import numpy as np

from skbait.campaign._errors import CampaignError
from skbait.campaign._features import _feature_matrix
from skbait.campaign._journal import _known_labels


def labeled_set(state, table, notes=None):
    """``(X, rows, y, task)``: the features of every row, the labeled rows, their labels
    and the task (None before the first label)."""
    X = _feature_matrix(table, state["data"]["features"], notes)
    known = _known_labels(state)
    rows = np.array(sorted(known), dtype=np.int64)
    label_type = state["settings"]["label_type"]
    y = None
    if state["settings"].get("multi_label"):
        if rows.size:
            from sklearn.preprocessing import MultiLabelBinarizer

            binarizer = MultiLabelBinarizer(classes=label_names(state))
            y = binarizer.fit_transform([known[r] for r in rows]).astype(np.int64)
        return X, rows, y, decide_task(state, rows, y, notes)
    if rows.size:
        values = [known[r] for r in rows]
        if label_type == "int":
            y = np.asarray(values, dtype=np.int64)
        elif label_type == "float":
            y = np.asarray(values, dtype=np.float64)
        else:
            y = np.asarray(values, dtype=object)
    return X, rows, y, decide_task(state, rows, y, notes)


def label_names(state):
    """A multi-label campaign's labels, sorted: those declared with ``--classes`` and
    those given so far (the indicator matrix's columns)."""
    names = set(state["settings"].get("classes") or ())
    for labels in _known_labels(state).values():
        names.update(labels)
    return sorted(names)


def varies(y):
    """Whether some label of the indicator ``y`` is present in some rows and absent from
    others: what a multi-label model needs to learn anything."""
    return y is not None and y.shape[0] > 0 and bool(np.any(y.min(axis=0) != y.max(axis=0)))


def decide_task(state, rows, y, notes=None):
    """The task the labels ``y`` call for, or the one requested, checked against them."""
    from skbait._presets import UsageError, _task

    settings = state["settings"]
    if settings.get("multi_label"):
        return None if y is None else "multi-label"
    requested = settings["task"]
    label_type = settings["label_type"]
    if y is None:
        return None if requested == "auto" else requested
    if requested == "regression" and label_type == "str":
        shown = [f"row {r}: {v!r}" for r, v in zip(rows, y) if _not_a_number(v)][:3]
        raise CampaignError(
            "--task regression needs numeric labels, and these are text "
            f"({'; '.join(shown)}); use --task classification, or correct the labels."
        )
    if requested == "classification" and label_type == "float":
        fractional = [f"row {r}: {v!r}" for r, v in zip(rows, y) if not float(v).is_integer()]
        if fractional:
            raise CampaignError(
                "--task classification, but the labels hold non-whole numbers "
                f"({'; '.join(fractional[:3])}), which are amounts, not classes; use --task "
                "regression or auto."
            )
    if requested != "auto":
        return requested
    try:
        # The note on whole numbers taken as classes comes once, from the round that first
        # decides the task (see _rounds), not from every command that reads the labels.
        return _task(y, "auto", notes if notes is not None else [], note_classes=False)
    except UsageError as exc:
        raise CampaignError(str(exc)) from None


def _not_a_number(value):
    try:
        float(value)
    except ValueError:
        return True
    return False


def make_model(state, task):
    """``(name, unfitted estimator)`` of the campaign's settings for ``task``."""
    from skbait._presets import UsageError, _make_estimator, _make_multilabel_estimator

    try:
        if task == "multi-label":
            return _make_multilabel_estimator(state["settings"]["estimator"])
        return _make_estimator(state["settings"]["estimator"], task)
    except UsageError as exc:
        raise CampaignError(str(exc)) from None


def fit_model(state, table, notes=None, labeled=None):
    """The estimator fitted on every label, with ``(X, rows, y, task, name)``.

    ``labeled`` is :func:`labeled_set`'s result when the caller has it (encoding
    every row of a large DATA again costs seconds). Returns ``model=None`` when
    no model can be fitted yet (no label, or a single class).
    """
    from sklearn.base import clone

    X, rows, y, task = labeled_set(state, table, notes) if labeled is None else labeled
    if task is None or (task == "classification" and np.unique(y).size < 2):
        return None, X, rows, y, task, None
    if task == "multi-label" and not varies(y):
        return None, X, rows, y, task, None
    name, estimator = make_model(state, task)
    model = fit(_seeded(clone(estimator), state["settings"].get("random_state")), X[rows], y)
    return model, X, rows, y, task, name


def _seeded(estimator, seed):
    """``estimator`` with its unset random states at the campaign's seed: an MLP fitted
    again (the next query, predict, export) is the same model, as the campaign promises."""
    if not isinstance(seed, int):
        return estimator
    unset = [k for k, v in estimator.get_params().items() if k.endswith("random_state")]
    unset = [k for k in unset if estimator.get_params()[k] is None]
    return estimator.set_params(**dict.fromkeys(unset, seed))


def fit(estimator, X, y):
    """``estimator.fit(X, y)``; a multi-label model's labels that every row has (or
    none has) are constant predictors, which one-vs-rest fits with a warning we expect."""
    if getattr(y, "ndim", 1) == 2 and y.shape[1] == 1:
        # One label is learned as a binary target, as the predictions are read
        # (an MLP warned of a column-vector y on every fit).
        y = y.ravel()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Label .* is present in all training")
        return estimator.fit(X, y)
