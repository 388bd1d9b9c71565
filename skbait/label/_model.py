"""What the page says about the model: predictions, an accuracy estimate, a learning curve.

All of it is computed in the background after each round (never on a request):
the campaign's estimator fitted on the labeled rows, its prediction for each
row of the batch, and a cross-validated estimate of its score on the labeled
rows (accuracy with a Wilson interval for classification, R² with a bootstrap
interval for regression), also on the labels known at earlier rounds, which
draws the learning curve.
"""

import math

import numpy as np

from skbait.label import _bridge

__all__ = ["analyse", "cross_validated_score", "wilson_interval"]

MAX_FOLDS = 5
CURVE_POINTS = 12
Z95 = 1.959963984540054


def wilson_interval(correct, n, z=Z95):
    """The Wilson score interval of a proportion ``correct / n`` (95% by default).

    Examples
    --------
    >>> lo, hi = wilson_interval(8, 10)
    >>> round(lo, 3), round(hi, 3)
    (0.49, 0.943)
    """
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def cross_validated_score(model, X, y, task, random_state=0):
    """Score of ``model`` by cross-validation on ``(X, y)``, with a 95% interval.

    Returns None when there are too few labels to cross-validate (fewer than
    two per class, or fewer than four rows). Otherwise a dict with ``metric``
    (``"accuracy"`` or ``"r2"``), ``value``, ``low``, ``high``, ``n`` and
    ``folds``.
    """
    from sklearn.base import clone
    from sklearn.metrics import r2_score
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    n = len(y)
    if n < 4:
        return None
    if task == "classification":
        _, counts = np.unique(y, return_counts=True)
        folds = int(min(MAX_FOLDS, counts.min()))
        if counts.size < 2 or folds < 2:
            return None
        cv = StratifiedKFold(folds, shuffle=True, random_state=random_state)
        predicted = cross_val_predict(clone(model), X, y, cv=cv)
        correct = int(np.sum(predicted == y))
        low, high = wilson_interval(correct, n)
        return {
            "metric": "accuracy",
            "value": correct / n,
            "low": low,
            "high": high,
            "n": n,
            "folds": folds,
        }
    folds = min(MAX_FOLDS, n)
    cv = KFold(folds, shuffle=True, random_state=random_state)
    predicted = cross_val_predict(clone(model), X, y, cv=cv)
    value = float(r2_score(y, predicted))
    # The interval: R² of the same out-of-fold predictions on resampled rows.
    rng = np.random.default_rng(random_state)
    draws = []
    for _ in range(200):
        pick = rng.integers(0, n, n)
        if np.ptp(y[pick]) > 0:
            draws.append(r2_score(y[pick], predicted[pick]))
    low, high = np.percentile(draws, [2.5, 97.5]) if draws else (value, value)
    return {
        "metric": "r2",
        "value": value,
        "low": float(low),
        "high": float(high),
        "n": n,
        "folds": folds,
    }


def _curve_sizes(state, n_total):
    sizes = sorted({int(r["n_labeled"]) for r in state["rounds"]} | {n_total})
    sizes = [s for s in sizes if s >= 4]
    if len(sizes) > CURVE_POINTS:
        keep = np.linspace(0, len(sizes) - 1, CURVE_POINTS).round().astype(int)
        sizes = [sizes[i] for i in sorted(set(keep.tolist()))]
    return sizes


def _text(value):
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _estimate_text(value):
    """A regression estimate as the page shows it: four significant digits, no exponent.

    The model's sixteen digits say nothing an annotator can use, and an exponent
    (``1.235e+05``) reads as a typo beside the labels of a column of plain numbers.
    """
    return np.format_float_positional(
        float(value) + 0.0, precision=4, unique=False, fractional=False, trim="-"
    )


def analyse(table, state, rows, curve_cache=None, random_state=0):
    """Fit the campaign's model on its labels; predictions for ``rows`` and the estimates.

    Parameters
    ----------
    table : the campaign's view of DATA (see :func:`skbait.label._bridge.read_table`)
    state : dict
        The campaign, as read after the round was chosen.
    rows : list of int
        The rows to predict (the batch).
    curve_cache : dict, default=None
        Estimates from earlier calls, keyed by the labels they were made on
        (the first ``n`` labels the campaign learnt rarely change).

    Returns
    -------
    dict
        ``task``, ``estimator``, ``predictions`` (``{row: {"label", "probability"}}``),
        ``accuracy`` (an estimate or None) and ``curve`` (a list of estimates,
        each with its ``n``).
    """
    curve_cache = {} if curve_cache is None else curve_cache
    settings = state["settings"]
    task = _bridge.campaign_task(state)
    known = _bridge.journal_labels(state)
    out = {"task": task, "estimator": None, "predictions": {}, "accuracy": None, "curve": []}
    if task not in ("classification", "regression") or not known:
        return out
    label_rows = np.fromiter(known, dtype=np.int64, count=len(known))
    y_all = _bridge.label_values(list(known.values()), settings["label_type"])
    if task == "classification" and np.unique(y_all).size < 2:
        return out
    X = _bridge.feature_matrix(table, state["data"]["features"])
    name, model = _bridge.make_model(state, task)
    out["estimator"] = name
    fitted = model.fit(X[label_rows], y_all)
    if rows:
        X_rows = X[np.asarray(rows, dtype=np.int64)]
        predicted = fitted.predict(X_rows)
        proba = None
        if task == "classification" and hasattr(fitted, "predict_proba"):
            proba = fitted.predict_proba(X_rows).max(axis=1)
        show = _estimate_text if task == "regression" else _text
        for i, row in enumerate(rows):
            out["predictions"][int(row)] = {
                "label": show(predicted[i]),
                "probability": None if proba is None else float(proba[i]),
            }
    for n in _curve_sizes(state, len(known)):
        # Keyed by the labels themselves: a correction changes an earlier point.
        key = (task, n, hash((label_rows[:n].tobytes(), tuple(y_all[:n].tolist()))))
        if key not in curve_cache:
            curve_cache[key] = cross_validated_score(
                model, X[label_rows[:n]], y_all[:n], task, random_state
            )
        if curve_cache[key] is not None:
            out["curve"].append(dict(curve_cache[key], n=n))
    if out["curve"] and out["curve"][-1]["n"] == len(known):
        out["accuracy"] = out["curve"][-1]
    return out
