"""The stand-in model of a labeling loop whose labeled rows hold a single class."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from skbait.embeddings import _input_features, register_embedding

__all__ = ["SingleClassModel"]


class SingleClassModel(ClassifierMixin, BaseEstimator):
    """Predicts the one class seen, and embeds rows as the wrapped model's last step would.

    No classifier can be trained on labels of one class, yet a labeling loop
    must go on querying until a second class turns up. This stand-in predicts
    the class it saw with probability one. When ``estimator`` is a
    :class:`~sklearn.pipeline.Pipeline`, its transformers are fitted on the
    labeled rows, so that the stand-in's embedding is the last step's input
    (TF-IDF columns, one-hot columns...), as the real model's would be; for
    other models the embedding is the input features. Strategies read it as
    they read any classifier with one class (see their single-class notes).

    Parameters
    ----------
    estimator : estimator object
        The model that cannot be trained yet; only its preprocessing steps
        (a pipeline's all but last) are cloned and fitted.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        """Fit the preprocessing, if any, and remember the class.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : SingleClassModel
        """
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if self.classes_.size != 1:
            raise ValueError(f"SingleClassModel needs one class, got {self.classes_.size}.")
        if isinstance(self.estimator, Pipeline) and len(self.estimator) > 1:
            self.preprocessing_ = clone(self.estimator[:-1]).fit(X, y)
            for name in ("n_features_in_", "feature_names_in_"):
                if hasattr(self.preprocessing_, name):
                    setattr(self, name, getattr(self.preprocessing_, name))
        else:
            self.preprocessing_ = None
            validate_data(self, X, skip_check_array=True)
        return self

    def transform_rows(self, X):
        """The rows as the last step would see them."""
        check_is_fitted(self)
        return X if self.preprocessing_ is None else self.preprocessing_.transform(X)

    def predict(self, X):
        """The one class, for every row.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return np.repeat(self.classes_, _num_samples(X))

    def predict_proba(self, X):
        """Probability one for the one class.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        proba : ndarray of shape (n_samples, 1)
        """
        check_is_fitted(self)
        return np.ones((_num_samples(X), 1))

    def decision_function(self, X):
        """Zero: there is no boundary to be on either side of.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        scores : ndarray of shape (n_samples, 1)
        """
        check_is_fitted(self)
        return np.zeros((_num_samples(X), 1))


@register_embedding(SingleClassModel)
def _single_class_rule(estimator, X, proba):
    Z, _ = _input_features(None, estimator.transform_rows(X), False)
    return Z, estimator.predict_proba(X) if proba else None
