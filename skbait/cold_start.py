"""Cold start: the first batch to label when no label is known yet.

With no label there is no model, so no probability and no learned embedding:
the first batch can only come from the rows themselves. skbait's label-free
design is **BAIT with the pool's rank-one Fisher**: on the standardised input
features (or a given embedding) ``z``, it greedily chooses the batch ``S`` that
minimises

.. math::

    \\operatorname{tr}\\Big(\\big(\\lambda I + \\textstyle\\sum_{x \\in S} z_x z_x^\\top\\big)^{-1}
    \\, \\tfrac{1}{n} \\textstyle\\sum_{x \\in \\text{pool}} z_x z_x^\\top\\Big),

the Bayes risk of a ridge model on ``z`` averaged over the pool (Ash et al.
2021, eq. 3), with BAIT's forward-backward greedy (2B forward steps, pruned to
B).

Why this design rather than k-center or k-means++ seeding:

- It is BAIT itself, under the only model one has before the first label.
  A classifier that predicts the uniform distribution over ``k`` classes has
  pointwise Fisher ``C (x) z z^T`` with the same ``C = I/k - 1 1^T / k^2`` for
  every row; in the eigenbasis of ``C`` the BAIT objective splits into
  ``k - 1`` identical copies of the rank-one objective above with ``lambda``
  replaced by ``k lambda`` (and a zero block). So the cold start and the first
  BAIT round after it optimise one criterion, and the test suite checks this
  identity against BAIT run with uniform probabilities.
- It weighs directions by how much of the pool lies along them (the pool
  matrix on the right), so it does not spend the batch on outliers, which the
  farthest-first k-center traversal picks first.
- It is deterministic: the same pool gives the same batch (ties go to the
  lowest row), with no random draw, unlike k-means++ seeding.

The features are standardised (zero mean, unit variance over the pool;
constant columns dropped) so that no unit of measurement dominates, as the
``StandardScaler`` in front of skbait's default estimators does. The design
needs a ``d x d`` matrix: above 4096 features give an ``embedding`` (a
pretrained encoder, a random projection such as
:func:`skbait.datasets.random_representation`, a PCA).

Rows of more than one dimension (images of shape ``(channels, height,
width)``) are read as one row of their values each.

Rows that are not numbers (documents, a table with text columns) need
numbers first. For a :class:`~sklearn.pipeline.Pipeline`,
:func:`cold_start_features` fits clones of the steps before the model on the
pool alone, with no label (a ``TfidfVectorizer``, a ``ColumnTransformer``
with a ``OneHotEncoder``), and the design reads what the model would read;
wider than 4096 columns, their first 100 singular directions
(:class:`~sklearn.decomposition.TruncatedSVD`).
"""

from numbers import Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array

from skbait.base import QueryStrategy, as_labeled_mask
from skbait.embeddings import _check_embedding_rows
from skbait.strategies._bait import _bait_select
from skbait.utils import resolve_device
from skbait.utils._pipeline import preprocessing_steps
from skbait.utils._validation import check_batch_size, check_flag

__all__ = [
    "ColdStart",
    "NoModelYet",
    "cold_start_features",
    "cold_start_select",
    "standardize_features",
]

# Features above which the d x d design matrix (8 d^2 bytes and more) needs an embedding.
MAX_FEATURES = 4096
# Singular directions kept of a pipeline's preprocessing wider than MAX_FEATURES (a
# TF-IDF vocabulary): the dimension skbait's messages suggest for a TruncatedSVD step.
SVD_COMPONENTS = 100
_SPARSE = ["csr", "csc", "coo"]


def standardize_features(X):
    """Zero mean and unit variance per column over the rows; constant columns dropped.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric rows, finite.

    Returns
    -------
    Z : ndarray of shape (n_samples, n_kept), dtype float64
        The standardised non-constant columns (population standard deviation,
        as :class:`~sklearn.preprocessing.StandardScaler`).

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.cold_start import standardize_features
    >>> standardize_features(np.array([[1.0, 5.0], [3.0, 5.0]]))
    array([[-1.],
           [ 1.]])
    """
    X = check_array(X, dtype=np.float64, ensure_all_finite=True, input_name="X")
    scale = X.std(axis=0)
    # A column constant up to rounding carries no information about the rows.
    keep = scale > 1e-12 * np.maximum(1.0, np.abs(X).max(axis=0))
    return (X[:, keep] - X[:, keep].mean(axis=0)) / scale[keep]


def _flat_rows(X):
    """Images (n, channels, height, width) or other arrays of rows of more than one
    dimension as one row of their values each, in order; other rows as they are."""
    if getattr(X, "ndim", 2) > 2:
        return np.asarray(X).reshape(X.shape[0], -1)
    return X


def _design_inputs(X, standardize):
    X = _flat_rows(X)
    try:
        Z = check_array(
            X, accept_sparse=_SPARSE, dtype=np.float64, ensure_all_finite=True, input_name="X"
        )
    except (ValueError, TypeError) as exc:
        raise type(exc)(
            f"The cold-start design needs numeric rows: {str(exc).rstrip('.')}. Give an "
            "embedding (for ActiveLearner, embedding(None, X) is called before the first "
            "label), or an estimator that is a Pipeline whose steps before the model turn "
            "the rows into numbers, or label a few rows first."
        ) from None
    if Z.shape[1] > MAX_FEATURES:
        raise ValueError(
            f"The cold-start design needs a {Z.shape[1]} x {Z.shape[1]} matrix; above "
            f"{MAX_FEATURES} features give a lower-dimensional embedding instead (a "
            "pretrained encoder, a PCA, or skbait.datasets.random_representation)."
        )
    if sp.issparse(Z):
        # Standardising centres the columns: the d <= MAX_FEATURES columns become
        # dense, as exact BAIT densifies a sparse embedding.
        Z = Z.toarray()
    return standardize_features(Z) if standardize else Z


def _reads_as_numbers(X):
    """Whether the design can read ``X`` as it is: finite numbers, dense or sparse."""
    try:
        check_array(X, accept_sparse=_SPARSE, dtype=np.float64, ensure_all_finite=True)
    except (ValueError, TypeError):
        return False
    return True


def _fit_transform_without_labels(name, step, X):
    step = clone(step)
    try:
        if hasattr(step, "fit_transform"):
            return step.fit_transform(X)
        return step.fit(X).transform(X)
    except (ValueError, TypeError) as exc:
        kind = TypeError if isinstance(exc, TypeError) else ValueError
        raise kind(
            f"Before the first label the cold start fits the pipeline's step {name!r} "
            f"({type(step).__name__}) on the rows without labels, and it refused: "
            f"{str(exc).rstrip('.')}. A step that learns from the labels (SelectKBest, "
            "TargetEncoder...) cannot be fitted before the first label: label a few rows "
            "first (teach), or give an embedding (embedding(None, X) is what the cold start "
            "reads before the first label)."
        ) from exc


def cold_start_features(estimator, X):
    """The rows the label-free design reads for ``estimator``, which has no label yet.

    Rows of finite numbers are read as they are. Otherwise, when
    ``estimator`` is a :class:`~sklearn.pipeline.Pipeline`, clones of the
    steps before its final step are fitted on ``X`` alone, with no label
    (``fit_transform(X)``), and their output is what the design reads: the
    input the model will see, fitted on the whole pool. Sparse output (TF-IDF)
    stays sparse; output wider than 4096 columns is reduced to its first 100
    singular directions (:class:`~sklearn.decomposition.TruncatedSVD`, seeded,
    so the batch stays deterministic). Any other estimator gets ``X`` back,
    for the design to refuse with a clear error.

    Parameters
    ----------
    estimator : estimator object
        The learner's estimator, unfitted; only a pipeline's steps before
        the final one are cloned and fitted.
    X : array-like, sparse matrix, DataFrame or list of shape (n_samples, ...)
        The rows, in the form the estimator takes.

    Returns
    -------
    Z : array-like or sparse matrix of shape (n_samples, n_features)

    Raises
    ------
    ValueError or TypeError
        A step cannot be fitted without labels (it needs ``y``, as
        ``SelectKBest`` or ``TargetEncoder`` do); the message names it.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skbait.cold_start import cold_start_features
    >>> docs = ["cheap pills", "meeting at noon", "cheap cash"]
    >>> pipe = make_pipeline(TfidfVectorizer(), LogisticRegression())
    >>> cold_start_features(pipe, docs).shape
    (3, 6)
    """
    steps = preprocessing_steps(estimator)
    if not steps or _reads_as_numbers(X):
        return X
    Z = X
    for name, step in steps:
        Z = _fit_transform_without_labels(name, step, Z)
    if len(Z.shape) == 2 and Z.shape[1] > MAX_FEATURES:
        from sklearn.decomposition import TruncatedSVD

        svd = TruncatedSVD(n_components=min(SVD_COMPONENTS, Z.shape[0]), random_state=0)
        Z = svd.fit_transform(Z)
    return Z


def _cold_start(X, labeled, batch_size, *, reg, standardize, device, dtype):
    Z = _design_inputs(X, standardize)
    labeled = as_labeled_mask(labeled, Z.shape[0])
    if Z.shape[1] == 0:
        # Every column is constant: the rows are indistinguishable, take them in order.
        chosen = np.flatnonzero(~labeled)[:batch_size]
        return chosen, np.zeros(chosen.size)
    return _bait_select(
        Z,
        None,
        labeled,
        batch_size,
        reg=reg,
        oversample=2,
        backward=True,
        fisher="pool",
        device=device,
        dtype=dtype,
        chunk_size=None,
    )


def cold_start_select(X, batch_size, *, labeled=None, reg=1.0, standardize=True, device=None):
    """Choose a first batch with no label: BAIT with the pool's rank-one Fisher.

    See :mod:`skbait.cold_start` for the design and why it was chosen.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
        The pool as numbers: input features or an embedding. A sparse
        matrix is made dense (its columns are standardised); an array of
        more dimensions (images of shape ``(n, channels, height, width)``)
        is read as one row of its values per sample.
    batch_size : int
        Rows to choose; capped at the number of unlabeled rows.
    labeled : array-like of int or bool, default=None
        Rows already labeled (they count in ``M_0`` as in BAIT); ``None``
        means none.
    reg : float, default=1.0
        The regulariser ``lambda`` (> 0), in units of the standardised
        features.
    standardize : bool, default=True
        Standardise the columns first (see :func:`standardize_features`).
    device : {"auto", "cpu", "cuda", "cuda:N"}, torch.device or None, default=None
        ``None`` and ``"auto"`` use CUDA when available.

    Returns
    -------
    indices : ndarray of int64
        Distinct unlabeled rows, in the order the greedy added them.

    Raises
    ------
    ValueError
        When ``reg`` is not a positive number, or every row is labeled.
    TypeError
        When ``standardize`` is not True or False.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.cold_start import cold_start_select
    >>> X = np.random.RandomState(0).normal(size=(50, 4))
    >>> idx = cold_start_select(X, 5, device="cpu")
    >>> idx.shape, np.unique(idx).size
    ((5,), 5)
    >>> bool(np.array_equal(idx, cold_start_select(X, 5, device="cpu")))
    True
    """
    batch_size = check_batch_size(batch_size)
    if isinstance(reg, bool) or not isinstance(reg, Real) or not reg > 0:
        raise ValueError(f"reg must be a positive number, got {reg!r}.")
    standardize = check_flag("standardize", standardize)
    X = _flat_rows(X)
    n = check_array(
        X, accept_sparse=_SPARSE, dtype=np.float64, ensure_all_finite=True, input_name="X"
    ).shape[0]
    labeled = as_labeled_mask(labeled, n)
    if labeled.all():
        raise ValueError("Every row is labeled: there is nothing left to choose.")
    indices, _ = _cold_start(
        X,
        labeled,
        min(batch_size, int((~labeled).sum())),
        reg=float(reg),
        standardize=standardize,
        device=resolve_device(device),
        dtype=None,
    )
    return np.asarray(indices, dtype=np.int64)


class ColdStart(QueryStrategy):
    """The label-free design as a query strategy (the model is not used).

    BAIT with the pool's rank-one Fisher on the standardised input features or
    on ``embedding(None, X)``; see :mod:`skbait.cold_start`. This is what
    :class:`~skbait.ActiveLearner` and ``skbait query`` use for the first
    batch when no label is known, and what they fall back to while the labels
    hold a single class. ``select`` accepts ``estimator=None``.

    Parameters
    ----------
    reg : float, default=1.0
        The regulariser ``lambda`` (> 0).
    standardize : bool, default=True
        Standardise the columns of the features (or the embedding) first.
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
        Where the greedy runs.
    dtype : {None, "float32", "float64"}, default=None
        ``None`` is float64.

    Notes
    -----
    The selection is deterministic; ``random_state`` is not used. Utilities
    are each row's decrease of the objective when the forward greedy added it.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.cold_start import ColdStart
    >>> X = np.random.RandomState(0).normal(size=(60, 3))
    >>> idx = ColdStart(device="cpu").select(None, X, labeled=None, batch_size=4)
    >>> idx.shape
    (4,)
    """

    _parameter_constraints: dict = {
        "reg": [Interval(Real, 0, None, closed="neither")],
        "standardize": ["boolean"],
        "device": [str, torch.device],
        "dtype": [None, StrOptions({"float32", "float64"})],
    }

    def __init__(self, *, reg=1.0, standardize=True, device="auto", dtype=None):
        self.reg = reg
        self.standardize = standardize
        self.device = device
        self.dtype = dtype

    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        # The model is not read, but a user's embedding(None, X) replaces the rows.
        tags.needs_embedding = True
        tags.sparse_embedding = True
        tags.deterministic = True
        return tags

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        Z = X if embedding is None else embedding(estimator, X)
        if not sp.issparse(Z):
            Z = np.asarray(Z)  # a sparse embedding (TF-IDF) is read as the sparse rows are
        if embedding is not None and Z.ndim >= 1:
            _check_embedding_rows(Z, X)
        return _cold_start(
            Z,
            labeled,
            batch_size,
            reg=float(self.reg),
            standardize=self.standardize,
            device=resolve_device(self.device),
            dtype=self.dtype,
        )


class NoModelYet:
    """The model of a learner that has no label yet: every prediction says so.

    :class:`~skbait.ActiveLearner` fitted with every label missing holds this
    as ``estimator_`` until the first labels are taught; its queries use the
    label-free design (:class:`ColdStart`).

    Examples
    --------
    >>> from skbait.cold_start import NoModelYet
    >>> NoModelYet().predict([[0.0]])
    Traceback (most recent call last):
    ...
    sklearn.exceptions.NotFittedError: No label yet, so there is no model to predict with...
    """

    def _refuse(self, *args, **kwargs):
        """Raise :class:`~sklearn.exceptions.NotFittedError`: no label, no model yet.

        Parameters
        ----------
        *args, **kwargs
            Ignored: whatever the model's method would take.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Always, saying to teach some labels first.
        """
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(
            "No label yet, so there is no model to predict with: teach some labels first "
            "(query() proposes rows to label)."
        )

    predict = predict_proba = predict_log_proba = decision_function = score = _refuse

    def __repr__(self):
        return "NoModelYet()"
