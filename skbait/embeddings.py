"""Last-layer embeddings and predicted probabilities of a fitted model.

BAIT, BADGE, CoreSet and the log-det strategies look at a model through two
arrays for the rows of the pool: the *embedding* ``Z`` (the input of the
model's last linear layer, shape ``(n_samples, n_dims)``) and, for classifiers,
the predicted probabilities ``P`` (shape ``(n_samples, n_classes)``).

How to get them depends on the model family, so each family registers a rule
with :func:`register_embedding` and :func:`embed` dispatches on the estimator:

- **any estimator** (linear models, kernel models, trees...): the input
  features themselves. This is the *convex-model view*: for a linear model the
  last layer is the whole model, so the features are its last-layer input.
  Sparse features stay sparse (a CSR matrix): the embedding of a TF-IDF
  pipeline is its TF-IDF matrix, never densified here.
- :class:`~sklearn.neural_network.MLPClassifier` and
  :class:`~sklearn.neural_network.MLPRegressor`: the activations of the last
  hidden layer, computed from ``coefs_`` and ``intercepts_`` (dense, also for
  sparse input such as a TF-IDF pipeline's).
- :class:`~sklearn.pipeline.Pipeline`: the rows are transformed by every step
  but the last, then the last step's rule applies. Rows may come in any form
  the pipeline accepts (a list of documents, a DataFrame with string
  columns); the embedding is what the last step sees.
- :class:`~sklearn.compose.TransformedTargetRegressor`: the rule of the
  regressor it wraps (it transforms the target only, never the rows).
- :class:`~sklearn.model_selection.GridSearchCV`,
  :class:`~sklearn.model_selection.RandomizedSearchCV` and the other searches:
  the rule of the model they refitted (``best_estimator_``), so that a search
  over a pipeline or a network embeds as that pipeline or network does.
- skorch networks (:class:`skorch.NeuralNet` and its classifiers and
  regressors): the input of the last :class:`torch.nn.Linear` its forward
  pass calls, captured by a forward hook, and the probabilities from the
  same forward pass (:class:`~skbait.SkorchEmbedding` names another layer;
  skorch is imported only once a net exists).

Probabilities come from ``predict_proba``; a classifier without it (a
:class:`~sklearn.svm.LinearSVC`, say) gets the softmax of its
``decision_function`` (a logistic sigmoid for two classes); the pairwise
scores of a one-vs-one :class:`~sklearn.svm.SVC`
(``decision_function_shape="ovo"``) are first turned into per-class votes, as
its ``"ovr"`` shape does. Regressors have no
probabilities: ``P`` is ``None``.
"""

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection._search import BaseSearchCV
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import _ovr_decision_function
from sklearn.utils.validation import _num_samples, check_array

# skbait._skorch imports skorch lazily: its predicate never imports it.
from skbait._skorch import _is_skorch_net, skorch_rule
from skbait.utils._pipeline import final_step, split_pipeline, tuned_model
from skbait.utils._validation import check_flag, check_probas

__all__ = ["embed", "embeds_input_features", "predict_probabilities", "register_embedding"]

# (matcher, rule) pairs, searched newest first so that later registrations win.
_RULES = []


def register_embedding(matcher, rule=None):
    """Register how to embed the rows of one family of fitted models.

    Parameters
    ----------
    matcher : type or callable
        A class (the rule applies to its instances) or a predicate
        ``matcher(estimator) -> bool``.
    rule : callable, default=None
        ``rule(estimator, X, proba) -> (Z, P)`` returning the embedding
        ``Z`` of shape (n_samples, n_dims) and, when ``proba`` is true and the
        model is a classifier, the probabilities ``P`` of shape
        (n_samples, n_classes); otherwise ``P`` is ``None``. When omitted,
        ``register_embedding`` returns a decorator.

    Returns
    -------
    rule : callable
        The registered rule, so that this works as a decorator.

    Raises
    ------
    TypeError
        When ``matcher`` is neither a class nor a predicate, or ``rule`` is
        not callable.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skbait.embeddings import embed, register_embedding
    >>> class SquaredRidge(Ridge):
    ...     '''A ridge model whose last layer sees squared features.'''
    ...     def fit(self, X, y):
    ...         return super().fit(np.square(X), y)
    ...     def predict(self, X):
    ...         return super().predict(np.square(X))
    >>> @register_embedding(SquaredRidge)
    ... def _squared(estimator, X, proba):
    ...     return np.square(np.asarray(X, dtype=float)), None
    >>> X = np.array([[1.0, -2.0], [3.0, 0.5]])
    >>> Z, P = embed(SquaredRidge().fit(X, [0.0, 1.0]), X)
    >>> Z
    array([[1.  , 4.  ],
           [9.  , 0.25]])
    """
    if not (isinstance(matcher, type) or callable(matcher)):
        raise TypeError(f"`matcher` must be a class or a predicate, got {matcher!r}.")

    def decorator(func):
        if not callable(func):
            raise TypeError(f"`rule` must be callable, got {func!r}.")
        _RULES.append((matcher, func))
        return func

    return decorator if rule is None else decorator(rule)


def _find_rule(estimator):
    for matcher, rule in reversed(_RULES):
        if isinstance(matcher, type):
            if isinstance(estimator, matcher):
                return rule
        elif matcher(estimator):
            return rule
    return _input_features


def embed(estimator, X, *, proba=True, embedding=None):
    """Last-layer embedding and predicted probabilities of the rows of ``X``.

    Parameters
    ----------
    estimator : fitted estimator
        The model whose view of the rows is wanted.
    X : array-like of shape (n_samples, ...)
        Rows in the form the estimator accepts.
    proba : bool, default=True
        Also compute the probabilities (classifiers only).
    embedding : callable, default=None
        ``embedding(estimator, X) -> array`` replacing the registered rule for
        the embedding; probabilities still come from the estimator. An object
        that also has a method ``rule(estimator, X, proba) -> (Z, P)`` (such as
        :class:`~skbait.SkorchEmbedding`) is called through that method
        instead, so that one pass over the rows gives both.

    Returns
    -------
    Z : ndarray or sparse CSR matrix of shape (n_samples, n_dims), dtype float32 or float64
        The embedding; finite, or a ``ValueError`` says which rows are not.
        Sparse when the last step's input is sparse.
    P : ndarray of shape (n_samples, n_classes) or None
        Class probabilities, rows summing to one; ``None`` for regressors or
        when ``proba=False``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.embeddings import embed
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    >>> Z, P = embed(LogisticRegression().fit(X, [0, 1, 1, 0]), X)
    >>> Z.shape, P.shape
    ((4, 2), (4, 2))
    """
    want_proba = check_flag("proba", proba) and is_classifier(estimator)
    if embedding is None:
        Z, P = _find_rule(estimator)(estimator, X, want_proba)
    elif callable(getattr(embedding, "rule", None)):
        Z, P = embedding.rule(estimator, X, want_proba)
    else:
        Z = embedding(estimator, X)
        P = predict_probabilities(estimator, X) if want_proba else None
    Z = _check_embedding(Z, X)
    if want_proba:
        P = check_probas(P, Z.shape[0])
    else:
        P = None
    return Z, P


def embeds_input_features(estimator):
    """Whether the embedding of ``estimator`` is its last step's input (the convex-model view).

    True for a linear model and for a pipeline ending in one (a TF-IDF
    pipeline's embedding is its TF-IDF matrix); false for a network, whose
    embedding is a hidden layer of fixed width, and for any model with a
    registered rule.

    Parameters
    ----------
    estimator : estimator

    Returns
    -------
    bool

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from skbait.embeddings import embeds_input_features
    >>> embeds_input_features(make_pipeline(TfidfVectorizer(), LogisticRegression()))
    True
    >>> embeds_input_features(make_pipeline(TfidfVectorizer(), MLPClassifier()))
    False
    """
    final = final_step(estimator)
    if isinstance(final, BaseSearchCV):
        return embeds_input_features(tuned_model(final))
    if isinstance(final, TransformedTargetRegressor):
        # Unfitted: the regressor it will fit (LinearRegression when None).
        return final.regressor is None or embeds_input_features(final.regressor)
    return _find_rule(final) is _input_features


def predict_probabilities(estimator, X):
    """Class probabilities of a fitted classifier, rows summing to one.

    Uses ``predict_proba`` when the estimator has it, and otherwise the softmax
    of ``decision_function`` (a sigmoid for a two-class problem).

    Parameters
    ----------
    estimator : fitted classifier
    X : array-like of shape (n_samples, ...)

    Returns
    -------
    P : ndarray of shape (n_samples, n_classes)

    Raises
    ------
    TypeError
        When ``estimator`` has neither ``predict_proba`` nor
        ``decision_function``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.svm import LinearSVC
    >>> from skbait.embeddings import predict_probabilities
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> P = predict_probabilities(LinearSVC().fit(X, [0, 0, 1, 1]), X)
    >>> P.shape, bool(np.allclose(P.sum(axis=1), 1.0))
    ((4, 2), True)
    """
    if hasattr(estimator, "predict_proba"):
        try:
            return np.asarray(estimator.predict_proba(X))
        except AttributeError:
            # available_if hides predict_proba at call time (SVC(probability=False)).
            pass
    if hasattr(estimator, "decision_function"):
        scores = _class_scores(estimator, estimator.decision_function(X))
        if scores.ndim == 1:
            scores = np.column_stack([-scores / 2, scores / 2])
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)
    raise TypeError(
        f"{type(estimator).__name__} has neither predict_proba nor decision_function, so "
        "its class probabilities are unknown. Wrap a classifier that has one of them, or "
        "pick a strategy that needs no probabilities (random, coreset)."
    )


def _class_scores(estimator, scores):
    """One decision score per class (one column in all for two classes).

    A one-vs-one SVC (``decision_function_shape="ovo"``) scores class *pairs*:
    three classes give three columns too, whose softmax was no probability of
    anything. Its pairwise scores become per-class votes, as its own ``"ovr"``
    shape computes them.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n_classes = len(getattr(estimator, "classes_", ()))
    if scores.ndim != 2 or n_classes < 3:
        return scores
    one_vs_one = getattr(_predicting_model(estimator), "decision_function_shape", None) == "ovo"
    if one_vs_one and scores.shape[1] == n_classes * (n_classes - 1) // 2:
        return _ovr_decision_function(scores < 0, -scores, n_classes)
    if scores.shape[1] != n_classes:
        raise ValueError(
            f"{type(estimator).__name__}.decision_function gave {scores.shape[1]} scores a "
            f"row for its {n_classes} classes, so its class probabilities are unknown. Give "
            "the model a predict_proba (CalibratedClassifierCV, probability=True) or one "
            "score per class."
        )
    return scores


def _predicting_model(estimator):
    """The model whose decision function a pipeline or a search hands on."""
    inner = final_step(tuned_model(estimator))
    return estimator if inner is estimator else _predicting_model(inner)


def _check_embedding(Z, X):
    if sp.issparse(Z):
        return _check_sparse_embedding(Z, X)
    Z = np.asarray(Z)
    if Z.ndim == 1:
        Z = Z.reshape(-1, 1)
    if Z.ndim != 2:
        raise ValueError(f"An embedding must be 2-d (n_samples, n_dims), got shape {Z.shape}.")
    _check_embedding_rows(Z, X)
    if not np.issubdtype(Z.dtype, np.floating) or Z.dtype == np.float16:
        Z = Z.astype(np.float64)
    bad = ~np.isfinite(Z).all(axis=1)
    if bad.any():
        raise ValueError(
            f"The embedding of {bad.sum()} row(s) holds NaN or inf (first at row "
            f"{np.flatnonzero(bad)[0]}). Check the model and its inputs for non-finite values."
        )
    return Z


def _check_embedding_rows(Z, X):
    """One embedding row per row of ``X``, or an error that says so.

    Otherwise the strategies found the mismatch later, against the
    probabilities or the labeled mask, which the user never gave. Inputs
    whose rows cannot be counted (a skorch net's dict of arrays, whose
    length is its number of keys, or a dataset) are left to the strategy.
    """
    if isinstance(X, Mapping):
        return
    try:
        n_rows = _num_samples(X)
    except TypeError:
        return
    if Z.shape[0] != n_rows:
        raise ValueError(
            f"The embedding returned {Z.shape[0]} rows for the {n_rows} rows it was given; "
            "an embedding(estimator, X) must return one row per row of X."
        )


def _check_sparse_embedding(Z, X):
    """A sparse embedding stays sparse (CSR, float): a TF-IDF pool never becomes dense here."""
    _check_embedding_rows(Z, X)
    Z = Z.tocsr()
    if not np.issubdtype(Z.dtype, np.floating) or Z.dtype == np.float16:
        Z = Z.astype(np.float64)
    if not np.isfinite(Z.data).all():
        bad = np.unique(np.repeat(np.arange(Z.shape[0]), np.diff(Z.indptr))[~np.isfinite(Z.data)])
        raise ValueError(
            f"The embedding of {bad.size} row(s) holds NaN or inf (first at row {bad[0]}). "
            "Check the model and its inputs for non-finite values."
        )
    return Z


def _input_features(estimator, X, proba):
    """The convex-model view: the last layer sees the input features, sparse or dense."""
    # None: the single-class stand-in's rows, a classifier's.
    classifier = estimator is None or is_classifier(estimator)
    try:
        Z = check_array(
            X,
            accept_sparse=["csr", "csc", "coo"],
            dtype=(np.float64, np.float32),
            ensure_all_finite=False,
        )
    except (TypeError, ValueError) as exc:
        # The model took X (categorical columns, say), but no strategy can measure it.
        raise type(exc)(
            "The embedding that strategies read is the model's input here, and it is not a "
            f"numeric array ({exc}). "
            + (
                _wrapped_pipeline_advice(estimator)
                or "A model that takes categorical or string columns itself "
                "(HistGradientBoosting reads categories from a DataFrame's dtypes) leaves no "
                "embedding: encode them in a Pipeline before the model (make_pipeline("
                "make_column_transformer((OneHotEncoder(), columns), remainder='passthrough'), "
                "model)), pass embedding=..., or "
                + _embedding_free_advice(classifier)
            )
        ) from exc
    values = Z.data if sp.issparse(Z) else Z
    if not np.isfinite(values).all():
        raise ValueError(
            "The embedding that strategies read is the model's input here, and it holds NaN "
            "or inf. "
            + (
                _wrapped_pipeline_advice(estimator)
                or "A model that takes missing values (HistGradientBoosting, say) still "
                "leaves no finite embedding: put an imputer before it in a Pipeline "
                "(make_pipeline(SimpleImputer(), model)), pass embedding=..., or "
                f"{_embedding_free_advice(classifier)}"
            )
        )
    return Z, predict_probabilities(estimator, X) if proba else None


def _wrapped_pipeline_advice(estimator):
    """The fix for a meta-estimator around a pipeline, whose input is what strategies see."""
    inner = getattr(estimator, "estimator", None)
    if not isinstance(inner, Pipeline) or len(inner) < 2:
        return None
    name = type(estimator).__name__
    steps = ", ".join(type(step).__name__ for step in inner[:-1])
    return (
        f"This {name} wraps a Pipeline, whose steps ({steps}) run inside it, out of "
        f"the strategies' sight: make the pipeline the outer layer, "
        f"make_pipeline({steps}, {name}({type(inner[-1]).__name__}())), so that "
        "strategies read what its last step sees; or pass embedding=..., or "
        f"{_embedding_free_advice(is_classifier(estimator))}"
    )


def _embedding_free_advice(classifier):
    """The strategies that need no embedding: a regressor has no probabilities to read."""
    if classifier:
        return (
            "use a strategy that reads only probabilities (margin, entropy, confidence, random)."
        )
    return (
        "use 'random', which reads no embedding (margin, entropy and confidence read class "
        "probabilities, which a regressor does not have)."
    )


def _mlp_hidden(estimator, X, proba):
    """Activations of the last hidden layer of a fitted scikit-learn MLP.

    Sparse rows (a TF-IDF pipeline's) enter the first layer as a sparse product,
    as the MLP itself computes it; every hidden layer is dense.
    """
    activation = _ACTIVATIONS[estimator.activation]
    Z = check_array(X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32))
    for W, b in zip(estimator.coefs_[:-1], estimator.intercepts_[:-1]):
        Z = activation(safe_sparse_dot(Z, W, dense_output=True) + b)
    return Z, predict_probabilities(estimator, X) if proba else None


def _pipeline(estimator, X, proba):
    """Transform through all steps but the last, then apply the last step's rule."""
    final, Xt = split_pipeline(estimator, X)
    return _find_rule(final)(final, Xt, proba)


def _transformed_target(estimator, X, proba):
    """The wrapped regressor's rule: the target is transformed, the rows go to it as given."""
    regressor = estimator.regressor_
    return _find_rule(regressor)(regressor, X, False)[0], None


def _search_cv(estimator, X, proba):
    """The rule of the model a search refitted: its best estimator sees the rows."""
    best = tuned_model(estimator)
    return _find_rule(best)(best, X, proba)


def _is_refitted_search(estimator):
    # A search with refit=False keeps no model (and has no predict either).
    return isinstance(estimator, BaseSearchCV) and hasattr(estimator, "best_estimator_")


_ACTIVATIONS = {
    "identity": lambda a: a,
    "logistic": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0.0),
}

register_embedding(lambda est: isinstance(est, (MLPClassifier, MLPRegressor)), _mlp_hidden)
register_embedding(Pipeline, _pipeline)
register_embedding(TransformedTargetRegressor, _transformed_target)
register_embedding(_is_refitted_search, _search_cv)


# Input of the net's last nn.Linear and its probabilities, from one forward pass.
register_embedding(_is_skorch_net, skorch_rule)
