"""The command line's presets, shared by ``skbait run`` and the campaigns.

The estimator and strategy names the commands accept, how a target's task is
decided, and the error these raise. :mod:`skbait._cli` and
:mod:`skbait.campaign` both import this module; neither imports the other.
"""

import argparse
import sys

__all__ = [
    "CLASSIFICATION_STRATEGIES",
    "CLASSIFIERS",
    "MULTILABEL_CLASSIFIERS",
    "REGRESSION_STRATEGIES",
    "REGRESSORS",
    "UsageError",
]

CLASSIFIERS = ("logistic", "ridge", "mlp")
# Multi-label strategies read each label's probability: the estimators that give them.
MULTILABEL_CLASSIFIERS = ("logistic", "mlp")
REGRESSORS = ("ridge", "linear", "mlp")
# The paper's five.
CLASSIFICATION_STRATEGIES = ("bait", "badge", "coreset", "confidence", "random")
# Those of the five whose tags allow a regressor, written out so that the
# command line starts without importing the strategies (torch); a test checks
# them against the registry.
REGRESSION_STRATEGIES = ("bait", "coreset", "random")


class UsageError(Exception):
    """A bad option or input: reported on one line, exit status 2."""


def _positive_int(text):
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


# A numeric target with more distinct values than this is a quantity, not a class label.
MAX_AUTO_CLASSES = 20


def _task(y, requested, notes=None, note_classes=True):
    """classification or regression: as requested, or read from the target.

    The note on a numeric target taken as regression, and (with
    ``note_classes``) the one of :func:`_classes_note`, go to ``notes`` (a
    list) when given, else to stderr.
    """
    import numpy as np
    from sklearn.utils.multiclass import type_of_target

    if requested != "auto":
        return requested
    kind = type_of_target(y)
    if kind == "continuous":
        return "regression"
    if kind not in ("binary", "multiclass"):
        raise UsageError(f"cannot learn a target of type {kind!r}: give one label column.")
    y = np.asarray(y)
    n_values = len(np.unique(y))
    # Whole numbers (151.0, or the integer 151) with many distinct values are amounts:
    # scikit-learn's diabetes target has 214 of them in 442 rows.
    if y.dtype.kind in "iuf" and n_values > MAX_AUTO_CLASSES:
        note = (
            f"the target holds {n_values} distinct numbers, so it is taken as a regression "
            "target (pass --task classification to treat them as classes)"
        )
        task = "regression"
    else:
        note = _classes_note(y) if note_classes else None
        task = "classification"
    if note is None:
        return task
    if notes is None:
        print(f"skbait: note: {note}", file=sys.stderr)
    else:
        notes.append(note)
    return task


def _classes_note(y):
    """The note on whole numbers that ``auto`` takes as classes, or None.

    Ratings on a scale (1 to 10, wine quality 3 to 8) read as class codes do:
    the note says which was chosen and how to choose the other. No note for two
    values (a binary label), for text, nor for exactly 0 to k - 1, the codes a
    label encoder writes (digits, make_classification).
    """
    import numpy as np

    y = np.asarray(y)
    if y.dtype.kind not in "iuf":
        return None
    values = np.unique(y)
    if not 2 < values.size <= MAX_AUTO_CLASSES or np.array_equal(values, np.arange(values.size)):
        return None
    low, high = (_whole(v) for v in (values[0], values[-1]))
    return (
        f"the target holds {values.size} distinct whole numbers ({low} to {high}), so they "
        "are taken as classes (pass --task regression if they are measurements or ratings "
        "on a scale, or --task classification to keep them as classes)"
    )


def _whole(value):
    """A whole number as it is written: ``3`` for 3.0."""
    return int(value) if float(value).is_integer() else value


def _make_estimator(name, task):
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeClassifier
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "classification":
        choices = {
            "logistic": lambda: LogisticRegression(max_iter=1000),
            "ridge": lambda: RidgeClassifier(),
            "mlp": lambda: MLPClassifier(hidden_layer_sizes=(128,), max_iter=500),
        }
        name = name or "logistic"
    else:
        choices = {
            "ridge": lambda: Ridge(),
            "linear": lambda: LinearRegression(),
            "mlp": lambda: MLPRegressor(hidden_layer_sizes=(128,), max_iter=500),
        }
        name = name or "ridge"
    if name not in choices:
        raise UsageError(f"unknown {task} estimator {name!r}: use one of {', '.join(choices)}.")
    return name, make_pipeline(StandardScaler(), choices[name]())


def _make_multilabel_estimator(name):
    """A multi-label classifier on the indicator matrix: one logistic regression per
    label (one-vs-rest), or a network with one sigmoid output per label."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    choices = {
        "logistic": lambda: OneVsRestClassifier(LogisticRegression(max_iter=1000)),
        "mlp": lambda: MLPClassifier(hidden_layer_sizes=(128,), max_iter=500),
    }
    name = name or "logistic"
    if name not in choices:
        raise UsageError(
            f"estimator {name!r} gives no label probabilities for a multi-label target: use "
            f"one of {', '.join(choices)}."
        )
    return name, make_pipeline(StandardScaler(), choices[name]())


def _make_strategies(text, task, device):
    from skbait.strategies import available_strategies, make_strategy
    from skbait.utils import resolve_device

    if text is None:
        names = list(
            CLASSIFICATION_STRATEGIES if task == "classification" else REGRESSION_STRATEGIES
        )
    else:
        names = [part.strip().lower() for part in text.split(",") if part.strip()]
        if not names:
            raise UsageError("--strategies is empty: give comma-separated names.")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"--strategies names {', '.join(duplicates)} twice.")
    known = set(available_strategies())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(
            f"unknown strategy {', '.join(map(repr, unknown))}: available strategies are "
            f"{', '.join(sorted(known))}."
        )
    try:
        resolve_device(device)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    strategies = {}
    for name in names:
        strategy = make_strategy(name)
        if "device" in strategy.get_params():
            strategy.set_params(device=device)
        strategies[name] = strategy
    return strategies


def _make_multilabel_strategy(name, device):
    """``(resolved_name, strategy)``: the multi-label strategy a name means (``bait`` is
    multi-label BAIT, ``confidence`` the mean margin); refused when it cannot serve label sets."""
    from skbait.base import get_strategy_tags
    from skbait.strategies import multilabel_strategy_name

    resolved = multilabel_strategy_name(name)
    (strategy,) = _make_strategies(resolved, "classification", device).values()
    if not get_strategy_tags(strategy).multilabel:
        raise UsageError(
            f"strategy {name!r} cannot choose rows for label sets; use bait, badge, margin, "
            "min_margin, coreset or random (or multilabel_* names, see skbait strategies)."
        )
    return resolved, strategy


def _serves_regression(name):
    """Whether the strategy ``name`` can query for a regressor (by its tags)."""
    from skbait.strategies._registry import serves_regression

    return serves_regression(name)
