"""The one place that looks inside a scikit-learn Pipeline (its final step, and the rows
that step sees) and a search (the model it tunes)."""

from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline

__all__ = ["final_step", "preprocessing_steps", "split_pipeline", "tuned_model"]


def final_step(estimator):
    """The estimator that makes the predictions: a pipeline's last step, or the estimator."""
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def tuned_model(estimator):
    """The model a search tunes: fitted, the one it refitted (``best_estimator_``);
    unfitted, its ``estimator``. Any other estimator is itself."""
    if isinstance(estimator, BaseSearchCV):
        return getattr(estimator, "best_estimator_", estimator.estimator)
    return estimator


def split_pipeline(estimator, X):
    """``(final step, X transformed by every step before it)``; ``(estimator, X)`` otherwise.

    The pipeline must be fitted: its transformers are applied, not refitted.
    """
    if isinstance(estimator, Pipeline) and len(estimator) > 1:
        return estimator[-1], estimator[:-1].transform(X)
    return final_step(estimator), X


def preprocessing_steps(estimator):
    """The ``(name, step)`` pairs of a pipeline before its final step, ``"passthrough"``
    and ``None`` left out; ``[]`` for any other estimator."""
    if not isinstance(estimator, Pipeline):
        return []
    return [
        (name, step) for name, step in estimator.steps[:-1] if step not in (None, "passthrough")
    ]
