"""The campaign's stopping criteria: which, their thresholds, and what "stop" means.

The criteria of :mod:`skbait.stopping` are updated once per round *with new
labels*: a query that only changes the batch size or the strategy refits
the same labels, and feeding the criteria a copy of the same model would
make them agree with themselves. ``--stop`` chooses and configures them:
``--stop stabilizing_predictions=0.95,objective_plateau`` keeps two, the first
with its threshold changed; ``--stop none`` keeps none.
"""

import numpy as np

from skbait.campaign._errors import CampaignError

# name: (task it needs, the parameter --stop sets, what the value is, the rule, what stop means)
CRITERIA = {
    "stabilizing_predictions": (
        None,
        "threshold",
        "agreement of this round's predictions with the last round's on a fixed stop set "
        "(Cohen's kappa, over every label decision for label sets; R^2 for a regressor)",
        "stop when the mean of the last {window} is >= {t:g}",
        "the model no longer changes its mind as labels arrive",
    ),
    "overall_uncertainty": (
        "classification",
        "threshold",
        "mean uncertainty 1 - max p over the unlabeled rows (each label's min(p, 1 - p) "
        "for label sets)",
        "stop when <= {t:g}",
        "the model is sure of the unlabeled rows on average",
    ),
    "max_confidence": (
        "classification",
        "threshold",
        "the smallest top probability max p over the unlabeled rows (each label's "
        "max(p, 1 - p) for label sets)",
        "stop when >= {t:g}",
        "even the least sure unlabeled row is predicted that surely",
    ),
    "objective_plateau": (
        None,
        "tol",
        "BAIT's objective of the labeled set",
        "stop when it moved by <= {t:.0%} in each of the last {window} rounds",
        "new labels no longer add information the model uses",
    ),
}


def parse_stop(text):
    """``--stop`` as a dict ``{name: threshold or None}``; ``"none"`` keeps none."""
    if text is None:
        return None
    text = text.strip()
    if text.lower() == "none":
        return {}
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        name = name.strip().lower().replace("-", "_")
        if name not in CRITERIA:
            raise CampaignError(
                f"unknown stopping criterion {name!r} in --stop: use {', '.join(CRITERIA)} "
                "(each optionally =THRESHOLD), or none."
            )
        threshold = None
        if value.strip():
            try:
                threshold = float(value)
            except ValueError:
                raise CampaignError(
                    f"--stop {name}={value}: the threshold must be a number."
                ) from None
            if not np.isfinite(threshold) or threshold < 0:
                raise CampaignError(f"--stop {name}={value}: the threshold must be >= 0.")
            if name != "objective_plateau" and threshold > 1:
                raise CampaignError(f"--stop {name}={value}: the threshold must be in [0, 1].")
        out[name] = threshold
    return out


def make_criteria(task, stop):
    """The criteria objects for ``task`` under the ``--stop`` setting ``stop``."""
    from skbait.stopping import (
        MaxConfidence,
        ObjectivePlateau,
        OverallUncertainty,
        StabilizingPredictions,
    )

    classes = {
        "stabilizing_predictions": StabilizingPredictions,
        "overall_uncertainty": OverallUncertainty,
        "max_confidence": MaxConfidence,
        "objective_plateau": ObjectivePlateau,
    }
    # Label sets are classification: the criteria read each label's decision.
    needs = "classification" if task == "multi-label" else task
    names = [n for n, spec in CRITERIA.items() if spec[0] in (None, needs)]
    if stop is not None:
        names = [n for n in names if n in stop]
    criteria = []
    for name in names:
        criterion = classes[name]()
        threshold = None if stop is None else stop.get(name)
        if threshold is not None:
            if name == "max_confidence":
                threshold = 1.0 - threshold  # shown as a confidence, kept as an uncertainty
            criterion.set_params(**{CRITERIA[name][1]: threshold})
        criteria.append(criterion)
    return criteria


def describe(criterion):
    """``(name, what is measured, rule, what stop means)`` for the CLI and ``status``."""
    _, param, what, rule, meaning = CRITERIA[criterion.name]
    threshold = getattr(criterion, param)
    if criterion.name == "max_confidence":
        threshold = 1.0 - threshold
    rule = rule.format(t=threshold, window=getattr(criterion, "window", 1))
    return criterion.name, what, rule, meaning


def shown_value(name, value):
    """The value as the CLI shows it (max confidence as a probability, rising)."""
    if value is None:
        return None
    return 1.0 - value if name == "max_confidence" else value


def update_criteria(state, task, model, X, labeled, seed):
    """Update each criterion with this round's model; its values keyed by name."""
    values = {}
    for criterion in make_criteria(task, state["settings"].get("stop")):
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
