"""The one place that looks inside a scikit-learn Pipeline: its final step, and the rows
that step sees."""

from sklearn.pipeline import Pipeline

__all__ = ["final_step", "preprocessing_steps", "split_pipeline"]


def final_step(estimator):
    """The estimator that makes the predictions: a pipeline's last step, or the estimator."""
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


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
