"""Multi-label strategies: BAIT on the block-diagonal Fisher, and its baselines.

A multi-label classifier gives each row ``K`` label probabilities ``p_j``
(independent sigmoids, read by
:func:`~skbait.utils.label_probabilities` from whatever form the
model's ``predict_proba`` has). Every strategy here is tagged ``multilabel``
(see :class:`~skbait.StrategyTags`); :class:`~skbait.strategies.CoreSet` and
:class:`~skbait.strategies.RandomSampling` are too, as they read no
probabilities.
"""

import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from skbait._fisher import design_start, forward_steps
from skbait._fisher._multilabel import MultiLabelGreedy, label_fisher_blocks
from skbait._skorch import _is_skorch_net
from skbait.base import QueryStrategy, as_labeled_mask
from skbait.embeddings import embed
from skbait.strategies._badge import gradient_seeding
from skbait.strategies._bait import _absolute_reg, resolve_standardize, zero_rows_source
from skbait.strategies._fisher_inputs import select_informative
from skbait.strategies._uncertainty import _predict_rows, top_positions
from skbait.utils import resolve_device, resolve_dtype
from skbait.utils._multilabel import label_probabilities
from skbait.utils._pipeline import final_step
from skbait.utils._sparse import check_pool_embeddings, drop_empty_columns
from skbait.utils._threads import limited_threads, single_thread_when_busy, threads_for_flops
from skbait.utils._validation import (
    check_batch_size,
    check_embeddings,
    check_flag,
    check_option,
    check_real,
)

__all__ = [
    "MultiLabelBADGE",
    "MultiLabelBAIT",
    "MultiLabelUncertainty",
    "multilabel_badge_select",
    "multilabel_bait_objective",
    "multilabel_bait_select",
    "multilabel_strategy_name",
    "multilabel_uncertainty_scores",
    "predict_label_probabilities",
    "predict_label_sets",
]

#: The relative regulariser of multi-label BAIT's ``reg="scale"``, a tenth of
#: BAIT's: ``benchmarks/bench_multilabel_reg.py`` measured 0.001 ahead of 0.01
#: on each of its four problems (one-vs-rest logistic regressions with 5, 8
#: and 12 labels, an MLP with 8), by 0.007 to 0.026 of micro-F1 AUC.
DEFAULT_MULTILABEL_RELATIVE_REG = 0.001

# What a single-label strategy name means for a multi-label y.
_MULTILABEL_NAMES = {
    "bait": "multilabel_bait",
    "logdet": "multilabel_logdet",
    "badge": "multilabel_badge",
    "margin": "multilabel_margin",
    "uncertainty": "multilabel_margin",
    "confidence": "multilabel_margin",
}


def multilabel_strategy_name(name):
    """The multi-label strategy a name stands for: ``"bait"`` is ``"multilabel_bait"``.

    Names of strategies that serve any target (``"random"``, ``"coreset"``)
    and names already multi-label are returned as given.

    Parameters
    ----------
    name : str
        A strategy name, as :func:`make_strategy` takes it (any case):
        ``"bait"``, ``"logdet"``, ``"badge"``, and ``"margin"``,
        ``"uncertainty"`` or ``"confidence"`` have multi-label forms.

    Returns
    -------
    str
        The name of the multi-label form (``"multilabel_margin"`` for the
        three uncertainty names), or ``name`` itself.

    Examples
    --------
    >>> from skbait.strategies import multilabel_strategy_name
    >>> multilabel_strategy_name("bait"), multilabel_strategy_name("coreset")
    ('multilabel_bait', 'coreset')
    """
    return _MULTILABEL_NAMES.get(name.lower(), name)


def predict_label_probabilities(estimator, X, *, n_labels=None):
    """Each label's probability from a fitted multi-label model: ``(n_samples, n_labels)``.

    Parameters
    ----------
    estimator : fitted estimator with ``predict_proba``
        :class:`~sklearn.multiclass.OneVsRestClassifier`,
        :class:`~sklearn.multioutput.MultiOutputClassifier`,
        :class:`~sklearn.multioutput.ClassifierChain`,
        :class:`~sklearn.neural_network.MLPClassifier` fitted on an indicator
        matrix, a network with a sigmoid head, or a pipeline ending in one.
    X : array-like of shape (n_samples, ...)
    n_labels : int, default=None
        The number of labels the model was fitted on. With one label, most
        models (:class:`~sklearn.multiclass.OneVsRestClassifier`, MLPs,
        forests) learn it as a binary target and give the two columns of a
        binary classifier: the second is the label's probability.

    Returns
    -------
    ndarray of shape (n_samples, n_labels)

    Raises
    ------
    TypeError
        When ``estimator`` has no ``predict_proba``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multioutput import MultiOutputClassifier
    >>> from skbait.strategies import predict_label_probabilities
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> Y = np.array([[0, 1], [0, 1], [1, 0], [1, 1]])
    >>> model = MultiOutputClassifier(LogisticRegression()).fit(X, Y)
    >>> predict_label_probabilities(model, X).shape
    (4, 2)
    """
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"{type(estimator).__name__} has no predict_proba, so its label probabilities "
            "are unknown: use a multi-label model that has one (OneVsRestClassifier, "
            "MultiOutputClassifier, ClassifierChain, MLPClassifier)."
        )
    raw = estimator.predict_proba(X)
    if isinstance(raw, torch.Tensor):
        raw = raw.detach().cpu().numpy()
    n = raw[0].shape[0] if isinstance(raw, (list, tuple)) and raw else np.shape(raw)[0]
    if n_labels == 1 and not isinstance(raw, (list, tuple)) and np.shape(raw)[1:] == (2,):
        raw = np.asarray(raw)[:, 1:]  # one label learned as a binary target
    # Each output's classes say whether a label seen with one value has it everywhere.
    return label_probabilities(
        raw, n, n_labels, output_classes=getattr(estimator, "classes_", None)
    )


def predict_label_sets(estimator, X, *, n_labels=None):
    """The predicted label sets of a fitted multi-label model, as a 0/1 ``(n, K)`` matrix.

    The model's ``predict`` when it gives an indicator matrix (or, for one
    label, the 0/1 vector of a binary classifier); otherwise (a network whose
    ``predict`` takes an argmax) each label whose probability exceeds 0.5.

    Parameters
    ----------
    estimator : fitted multi-label estimator
    X : array-like of shape (n_samples, ...)
    n_labels : int, default=None
        The number of labels the model was fitted on (see
        :func:`predict_label_probabilities`).

    Returns
    -------
    ndarray of shape (n_samples, n_labels), dtype=int64

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from skbait.strategies import predict_label_sets
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> Y = np.array([[0, 1], [0, 1], [1, 0], [1, 1]])
    >>> predict_label_sets(OneVsRestClassifier(LogisticRegression()).fit(X, Y), X).shape
    (4, 2)
    """
    pred = estimator.predict(X)
    if sp.issparse(pred):
        pred = pred.toarray()
    pred = np.asarray(pred.detach().cpu() if isinstance(pred, torch.Tensor) else pred)
    if n_labels == 1 and pred.ndim == 1 and not _is_skorch_net(final_step(estimator)):
        pred = pred.reshape(-1, 1)  # one label learned as a binary target
    if pred.ndim == 2 and pred.dtype != object and np.isin(pred, (0, 1)).all():
        return pred.astype(np.int64)
    return (predict_label_probabilities(estimator, X, n_labels=n_labels) > 0.5).astype(np.int64)


def _check_label_probas(probas, n_samples):
    P = np.asarray(probas, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != n_samples or P.shape[1] < 1:
        raise ValueError(
            f"`probas` must hold each label's probability, shape (n_samples={n_samples}, "
            f"n_labels), got {P.shape}."
        )
    return label_probabilities(P, n_samples)


# ------------------------------------------------------------------- BAIT
def _setup(embeddings, probas, labeled, batch_size, reg, device, dtype):
    """Validated arrays and the design's ingredients, in the working dtype."""
    Z = _dense_embeddings(embeddings, np.shape(probas)[1] if np.ndim(probas) == 2 else 1)
    n = Z.shape[0]
    P = _check_label_probas(probas, n)
    mask = as_labeled_mask(labeled, n)
    B = check_batch_size(batch_size)
    reg = check_real("reg", reg, 0.0, strict=True)
    device = resolve_device(device)
    dtype = resolve_dtype(dtype)
    n_L = int(mask.sum())
    cand = np.flatnonzero(~mask)
    B = min(B, cand.size)
    Zt = torch.as_tensor(Z, device=device).to(dtype)
    Wt = torch.as_tensor(P * (1.0 - P), device=device).to(dtype)  # p_j (1 - p_j)
    return Zt, Wt, mask, cand, B, n_L, reg, device, dtype


# The largest K d^2 entries (per matrix) for which a sparse embedding is densified.
_DENSE_BLOCK_ENTRIES = 1 << 24


def _dense_embeddings(embeddings, n_labels):
    """Dense embeddings; a sparse one (TF-IDF) densified when its K d x d blocks are small."""
    if not sp.issparse(embeddings):
        return check_embeddings(embeddings)
    # Exact: a column no row uses adds nothing to any label's block.
    embeddings = drop_empty_columns(embeddings)
    n, d = embeddings.shape
    if n_labels * d * d > _DENSE_BLOCK_ENTRIES or n * d > 4 * _DENSE_BLOCK_ENTRIES:
        raise ValueError(
            f"The embedding is sparse with {d} columns: multi-label BAIT keeps {n_labels} "
            f"blocks of {d} x {d}, too many to densify. Add a TruncatedSVD step before the "
            "model (make_pipeline(TfidfVectorizer(), TruncatedSVD(100), model)), or pass "
            "embedding=... returning fewer dense columns."
        )
    return check_embeddings(embeddings.toarray())


def _start(Zt, Wt, mask, B, n_L, reg):
    """``M_0`` (float64 blocks) and the candidates' weight scale, by :func:`design_start`."""
    rows = torch.as_tensor(np.flatnonzero(mask), device=Zt.device)
    labeled_information = label_fisher_blocks(
        Zt[rows].to(torch.float64), Wt[rows].to(torch.float64)
    )
    M0, factor_scale = design_start(labeled_information, n_L, B, reg)
    # The weights p (1 - p) multiply the information itself: the factor's scale squared.
    return M0, factor_scale**2


def _pool_fisher(Zt, Wt, fisher):
    if fisher == "identity":
        return None
    return label_fisher_blocks(Zt, Wt, 1.0 / Zt.shape[0])


@single_thread_when_busy
def _multilabel_bait_select(
    embeddings,
    probas,
    labeled,
    batch_size,
    *,
    reg=1.0,
    relative_reg=DEFAULT_MULTILABEL_RELATIVE_REG,
    oversample=2,
    backward=True,
    fisher="pool",
    objective="trace",
    device=None,
    dtype=None,
    standardize="auto",
):
    """:func:`multilabel_bait_select` that also returns each chosen row's gain."""
    reg, embeddings = _absolute_reg(reg, relative_reg, embeddings, probas, standardize)
    fisher = check_option("fisher", fisher, {"pool", "identity"})
    objective = check_option("objective", objective, {"trace", "logdet"})
    oversample = check_real("oversample", oversample, 1.0, strict=False)
    if not isinstance(backward, (bool, np.bool_)):
        raise TypeError(f"`backward` must be a bool, got {backward!r}.")
    Zt, Wt, mask, cand, B, n_L, reg, device, dtype = _setup(
        embeddings, probas, labeled, batch_size, reg, device, dtype
    )
    if cand.size <= B:
        return cand.astype(np.int64), np.full(cand.size, np.nan)
    K, d = Wt.shape[1], Zt.shape[1]
    with limited_threads(threads_for_flops(2.0 * Zt.shape[0] * d * d * K)):
        M0, scale = _start(Zt, Wt, mask, B, n_L, reg)
        F = _pool_fisher(Zt, Wt, fisher) if objective == "trace" else None
        rows = torch.as_tensor(cand, device=device)
        greedy = MultiLabelGreedy(Zt[rows], Wt[rows] * scale, M0, F, objective)
    n_forward = forward_steps(oversample, B, cand.size, bool(backward))
    prune = n_forward > B
    with limited_threads(threads_for_flops(4.0 * cand.size * d * K)):
        greedy.forward(n_forward, final_keep_picked=prune)
        if prune:
            greedy.backward(B)
    return cand[np.asarray(greedy.picked, dtype=np.int64)], np.asarray(greedy.gains)


def multilabel_bait_select(
    embeddings,
    probas,
    labeled,
    batch_size,
    *,
    reg=1.0,
    relative_reg=DEFAULT_MULTILABEL_RELATIVE_REG,
    oversample=2,
    backward=True,
    fisher="pool",
    objective="trace",
    device=None,
    dtype=None,
    standardize="auto",
):
    """Choose a batch by multi-label BAIT from embeddings and label probabilities.

    With ``K`` independent sigmoid outputs, a row's last-layer Fisher is
    ``I(x) = diag(p_j (1 - p_j)) (x) z z^T``, block diagonal (``K`` blocks of
    ``d x d``). The design follows :func:`~skbait.strategies.bait_select`
    with that Fisher:

    - pool Fisher ``F`` = mean of ``I(x)`` over the whole pool, labeled rows
      included (the identity with ``fisher="identity"``);
    - ``M_0 = reg I + n_L / (n_L + B)`` times the labeled rows' mean ``I(x)``
      (``reg`` means what it means for multiclass BAIT);
    - each candidate's ``I(x)`` is scaled by ``B / (n_L + B)``;
    - forward: ``round(oversample * B)`` greedy steps, each adding the
      unlabeled row that most decreases ``tr(M^-1 F) = sum_j tr(M_j^-1 F_j)``
      (one set of rows for all labels);
    - backward: removals among the picked rows, each raising it least, until
      ``B`` remain.

    With ``objective="logdet"`` each step instead adds the row that most
    increases ``log det M = sum_j log det M_j``.

    The computation is exact: each label's block moves by Sherman-Morrison,
    and a row's state is two numbers per label, so a step costs
    ``O(m d K)`` for ``m`` candidates (multiclass BAIT's costs
    ``O(m d k^2)``, and its ``(k d)^2`` matrix becomes ``K`` blocks of
    ``d^2``).

    Parameters
    ----------
    embeddings : array-like or sparse matrix of shape (n_samples, n_dims)
        Last-layer embeddings of the WHOLE pool, labeled rows included. A
        sparse matrix (a TF-IDF pipeline's) is densified when its
        ``n_labels`` blocks of ``n_dims x n_dims`` hold at most ``2**24``
        entries; a wider one is refused with a clear error (reduce it with a
        :class:`~sklearn.decomposition.TruncatedSVD` step).
    probas : array-like of shape (n_samples, n_labels)
        Each label's predicted probability (see
        :func:`predict_label_probabilities`); rows need not sum to one.
    labeled : array-like of int or bool
        Indices of the labeled rows, or a boolean mask over the pool.
    batch_size : int
        Number of rows to return; when at most that many rows are unlabeled,
        all of them are returned in pool order.
    reg : float or "scale", default=1.0
        The regulariser ``lambda`` (> 0), as in
        :func:`~skbait.strategies.bait_select`: a number is the absolute
        ``lambda``; ``"scale"`` is ``relative_reg`` times the pool's mean
        squared embedding norm (:func:`~skbait.strategies.scaled_reg`), which
        chooses the same rows for ``c Z`` as for ``Z``.
    relative_reg : float, default=0.001
        With ``reg="scale"``: ``lambda`` as a fraction of the mean squared
        embedding norm (> 0). Ignored for a numeric ``reg``.
    oversample : float, default=2
        Forward steps per batch row (>= 1).
    backward : bool, default=True
        Prune the oversampled set back to ``B``; ``False`` runs ``B``
        forward steps only.
    fisher : {"pool", "identity"}, default="pool"
        ``"identity"`` minimises ``tr(M^-1)``.
    objective : {"trace", "logdet"}, default="trace"
    device : {"auto", "cpu", "cuda", "cuda:N"}, torch.device or None, default=None
    dtype : {None, "float32", "float64"} or torch.dtype, default=None
        ``None`` is float64.
    standardize : "auto" or bool, default="auto"
        As in :func:`~skbait.strategies.bait_select`: ``True`` works on the
        embedding standardised over the pool with an intercept column;
        ``"auto"`` does so with ``reg="scale"`` when the columns differ more
        than 100-fold in size.

    Returns
    -------
    indices : ndarray of shape (batch_size,), dtype=int64
        Distinct indices of unlabeled rows, in the order they were added.

    Notes
    -----
    Scores within a relative ``1e-9`` (``1e-5`` in float32) of the best are
    tied and the lowest pool index wins. A label whose probability is 0 or 1
    everywhere carries no information and does not move the choice; rows
    whose every probability is 0 or 1 tie at a gain of zero, and the lowest
    index wins (:class:`MultiLabelBAIT` draws such rows at random instead).

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import multilabel_bait_select
    >>> rng = np.random.RandomState(0)
    >>> Z = rng.normal(size=(40, 3))
    >>> P = 1 / (1 + np.exp(-Z @ rng.normal(size=(3, 4))))
    >>> idx = multilabel_bait_select(Z, P, labeled=np.arange(5), batch_size=4, device="cpu")
    >>> idx.shape, bool(np.all(idx >= 5)), np.unique(idx).size
    ((4,), True, 4)
    """
    indices, _ = _multilabel_bait_select(
        embeddings,
        probas,
        labeled,
        batch_size,
        reg=reg,
        relative_reg=relative_reg,
        oversample=oversample,
        backward=backward,
        fisher=fisher,
        objective=objective,
        device=device,
        dtype=dtype,
        standardize=standardize,
    )
    return indices


def multilabel_bait_objective(
    embeddings,
    probas,
    labeled,
    selected,
    *,
    reg=1.0,
    relative_reg=DEFAULT_MULTILABEL_RELATIVE_REG,
    fisher="pool",
    objective="trace",
    standardize="auto",
):
    """The objective of a chosen batch: ``tr(M^-1 F)`` (lower is better) or ``log det M``.

    ``M = M_0 + B / (n_L + B) * sum of I(x) over the selected rows``, as in
    :func:`multilabel_bait_select`; computed block by block in float64 on the
    CPU.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_dims)
    probas : array-like of shape (n_samples, n_labels)
    labeled : array-like of int or bool
    selected : array-like of int
    reg : float or "scale", default=1.0
    relative_reg : float, default=0.001
    fisher : {"pool", "identity"}, default="pool"
    objective : {"trace", "logdet"}, default="trace"
    standardize : "auto" or bool, default="auto"
        As in :func:`multilabel_bait_select`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When ``selected`` is empty, not 1-d, or holds indices outside the
        pool.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import multilabel_bait_objective, multilabel_bait_select
    >>> rng = np.random.RandomState(0)
    >>> Z = rng.normal(size=(30, 2))
    >>> P = rng.uniform(size=(30, 3))
    >>> chosen = multilabel_bait_select(Z, P, [0, 1], 3, device="cpu")
    >>> first = np.arange(2, 5)
    >>> bool(multilabel_bait_objective(Z, P, [0, 1], chosen)
    ...      <= multilabel_bait_objective(Z, P, [0, 1], first))
    True
    """
    fisher = check_option("fisher", fisher, {"pool", "identity"})
    objective = check_option("objective", objective, {"trace", "logdet"})
    selected = np.asarray(selected)
    if selected.ndim != 1 or selected.size == 0 or not np.issubdtype(selected.dtype, np.integer):
        raise ValueError("`selected` must be a non-empty 1-d array of row indices.")
    reg, embeddings = _absolute_reg(reg, relative_reg, embeddings, probas, standardize)
    Zt, Wt, mask, _, _, n_L, reg, _, _ = _setup(
        embeddings, probas, labeled, int(selected.size), reg, "cpu", torch.float64
    )
    if selected.min() < 0 or selected.max() >= Zt.shape[0]:
        raise ValueError("`selected` holds indices outside the pool.")
    B = int(selected.size)
    M0, scale = _start(Zt, Wt, mask, B, n_L, reg)
    sel = torch.as_tensor(selected, device="cpu")
    M = M0 + label_fisher_blocks(Zt[sel], Wt[sel], scale)
    if objective == "logdet":
        return float(torch.linalg.slogdet(M)[1].sum())
    G = torch.cholesky_inverse(torch.linalg.cholesky(M))
    F = _pool_fisher(Zt, Wt, fisher)
    return float(G.diagonal(dim1=1, dim2=2).sum() if F is None else (G * F).sum())


def _label_inputs(estimator, X, embedding):
    """Dense embeddings and label probabilities of the pool."""
    Z, _ = embed(estimator, X, proba=False, embedding=embedding)
    P = predict_label_probabilities(estimator, X)
    if P.shape[0] != Z.shape[0]:
        raise ValueError(f"The model gave {P.shape[0]} rows of probabilities for {Z.shape[0]}.")
    return Z, P


class MultiLabelBAIT(QueryStrategy):
    """BAIT for multi-label classifiers: the batch that most reduces ``sum_j tr(M_j^-1 F_j)``.

    Each label is an independent sigmoid output, so a row's last-layer Fisher
    is block diagonal, ``diag(p_j (1 - p_j)) (x) z z^T``; BAIT's greedy
    forward-backward design (see :func:`multilabel_bait_select`) then picks
    one set of rows for all labels at once, exactly, at a step cost linear in
    the number of labels.

    Parameters
    ----------
    reg : "scale" or float, default="scale"
        The regulariser ``lambda`` (> 0), with the meaning of
        :class:`~skbait.strategies.BAIT`'s. ``"scale"``: ``relative_reg``
        times the pool's mean squared embedding norm, measured every round
        (:func:`~skbait.strategies.scaled_reg`), so that ``lambda`` weighs the
        same against the Fisher whatever the scale of the features; the
        strategy then chooses the same rows for ``c Z`` as for ``Z``. A number
        is the absolute ``lambda`` (the default before this option was 1).
    relative_reg : float, default=0.001
        ``lambda`` as a fraction of the mean squared embedding norm when
        ``reg="scale"`` (> 0); ignored for a numeric ``reg``.
    oversample : float, default=2
        Forward steps per batch row (>= 1) before pruning back.
    backward : bool, default=True
        Prune back to the batch size; ``False`` is the forward-only variant.
    fisher : {"pool", "identity"}, default="pool"
        ``"identity"`` drops the pool Fisher.
    objective : {"trace", "logdet"}, default="trace"
        ``"logdet"`` maximises ``log det M`` instead (forward only unless
        ``backward``: the determinantal rival).
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
    dtype : {None, "float32", "float64"}, default=None
        ``None`` is float64.
    standardize : "auto" or bool, default="auto"
        As in :class:`~skbait.strategies.BAIT`: ``True`` works on the
        embedding standardised over the pool (centred, unit variance per
        column) with an intercept column, which makes the choice independent
        of each column's units; ``"auto"`` does so with ``reg="scale"`` when
        the embedding is the model's input features and its columns differ
        more than 100-fold in size (raw features in different units).

    Notes
    -----
    A sparse embedding (TF-IDF) is densified when its blocks are small (see
    :func:`multilabel_bait_select`); put a
    :class:`~sklearn.decomposition.TruncatedSVD` after a wide one. The
    selection is deterministic (``random_state`` is not used), except where
    label probabilities of 0 or 1 (a 1-nearest-neighbour model, an unpruned
    tree) or an all-zero embedding (unless the design is standardised) leave
    rows without information, whose gains all tie at zero: when no unlabeled
    row has any, the batch is drawn uniformly at random (seeded by
    ``random_state``) with a warning, where the greedy would take the rows in
    index order; when fewer rows than the batch have information, the greedy
    chooses those and the rest of the batch is drawn uniformly from the other
    unlabeled rows, with a warning. The utilities returned with
    ``return_utilities=True`` are each chosen row's gain at the forward step
    that added it (0 for a drawn row).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from skbait.strategies import MultiLabelBAIT
    >>> X, Y = make_multilabel_classification(n_samples=100, n_classes=3, random_state=0)
    >>> model = OneVsRestClassifier(LogisticRegression()).fit(X[:30], Y[:30])
    >>> idx = MultiLabelBAIT(device="cpu").select(model, X, labeled=np.arange(30), batch_size=5)
    >>> idx.shape, bool(np.all(idx >= 30))
    ((5,), True)
    """

    _parameter_constraints: dict = {
        "reg": [StrOptions({"scale"}), Interval(Real, 0, None, closed="neither")],
        "relative_reg": [Interval(Real, 0, None, closed="neither")],
        "oversample": [Interval(Real, 1, None, closed="left")],
        "backward": ["boolean"],
        "fisher": [StrOptions({"pool", "identity"})],
        "objective": [StrOptions({"trace", "logdet"})],
        "device": [str, torch.device],
        "dtype": [None, StrOptions({"float32", "float64"}), type, np.dtype, torch.dtype],
        "standardize": [StrOptions({"auto"}), "boolean"],
    }

    def __init__(
        self,
        *,
        reg="scale",
        relative_reg=DEFAULT_MULTILABEL_RELATIVE_REG,
        oversample=2,
        backward=True,
        fisher="pool",
        objective="trace",
        device="auto",
        dtype=None,
        standardize="auto",
    ):
        self.reg = reg
        self.relative_reg = relative_reg
        self.oversample = oversample
        self.backward = backward
        self.fisher = fisher
        self.objective = objective
        self.device = device
        self.dtype = dtype
        self.standardize = standardize

    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.classifier_only = True
        tags.needs_embedding = True
        tags.sparse_embedding = True
        tags.deterministic = True
        tags.multilabel = True
        return tags

    def _validate_estimator(self, estimator):
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(
                f"{type(self).__name__} needs label probabilities (a multi-label "
                f"classifier), but {type(estimator).__name__} has no predict_proba."
            )

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        Z, P = _label_inputs(estimator, X, embedding)
        standardize = resolve_standardize(self.standardize, estimator, embedding)
        return select_informative(
            lambda: _multilabel_bait_select(
                Z,
                P,
                labeled,
                batch_size,
                reg=self.reg,
                relative_reg=self.relative_reg,
                oversample=self.oversample,
                backward=self.backward,
                fisher=self.fisher,
                objective=self.objective,
                device=resolve_device(self.device, estimator=estimator),
                dtype=self.dtype,
                standardize=standardize,
            ),
            type(self).__name__,
            _check_label_probas(P, Z.shape[0]),
            labeled,
            batch_size,
            random_state,
            zero_rows_source(Z, self.reg, standardize),
        )


# ------------------------------------------------------------ uncertainty
def multilabel_uncertainty_scores(probas, measure="mean_margin"):
    """Uncertainty of each row from its label probabilities (larger is more uncertain).

    A label's margin is ``|2 p_j - 1|``, the gap between the probabilities of
    having and not having it.

    Parameters
    ----------
    probas : array-like of shape (n_samples, n_labels)
    measure : {"mean_margin", "min_margin"}, default="mean_margin"
        ``"mean_margin"``: minus the mean margin over labels.
        ``"min_margin"``: minus the smallest margin (the row's most uncertain
        label).

    Returns
    -------
    ndarray of shape (n_samples,)

    Raises
    ------
    ValueError
        When ``measure`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import multilabel_uncertainty_scores
    >>> P = np.array([[0.5, 1.0], [0.8, 0.8]])
    >>> multilabel_uncertainty_scores(P, "mean_margin")
    array([-0.5, -0.6])
    >>> multilabel_uncertainty_scores(P, "min_margin")
    array([-0. , -0.6])
    """
    P = np.asarray(probas, dtype=np.float64)
    margins = np.abs(2.0 * P - 1.0)
    if measure == "mean_margin":
        return -margins.mean(axis=1)
    if measure == "min_margin":
        return -margins.min(axis=1)
    raise ValueError(f"Unknown measure {measure!r}: use 'mean_margin' or 'min_margin'.")


class MultiLabelUncertainty(QueryStrategy):
    """Query the rows whose labels the model is least sure about.

    The batch is the ``batch_size`` rows with the largest uncertainty (see
    :func:`multilabel_uncertainty_scores`); ties go to the lowest row index.
    Each row is judged alone, so a batch may be redundant.

    Parameters
    ----------
    measure : {"mean_margin", "min_margin"}, default="mean_margin"
        The mean of the labels' margins ``|2 p_j - 1|``, or their minimum.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from skbait.strategies import MultiLabelUncertainty
    >>> X, Y = make_multilabel_classification(n_samples=60, n_classes=3, random_state=0)
    >>> model = OneVsRestClassifier(LogisticRegression()).fit(X[:20], Y[:20])
    >>> MultiLabelUncertainty().select(model, X, labeled=np.arange(20), batch_size=3).shape
    (3,)
    """

    _parameter_constraints: dict = {"measure": [StrOptions({"mean_margin", "min_margin"})]}

    def __init__(self, measure="mean_margin"):
        self.measure = measure

    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.classifier_only = True
        tags.deterministic = True
        tags.multilabel = True
        return tags

    _validate_estimator = MultiLabelBAIT._validate_estimator

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        unlabeled = np.flatnonzero(~labeled)
        raw = _predict_rows(_RawProbas(estimator), X, unlabeled)
        # Rounded far below any meaningful difference, so that rows tied but for the
        # last bits (a sparse and a dense copy of the pool) tie exactly: lowest index wins.
        scores = np.round(multilabel_uncertainty_scores(raw, self.measure), 12)
        top = top_positions(scores, batch_size)
        return unlabeled[top], scores[top]


class _RawProbas:
    """An estimator view whose ``predict_proba`` gives the ``(n, K)`` label probabilities.

    So that the single-label helper that predicts only the unlabeled rows serves here too.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def predict_proba(self, X):
        return predict_label_probabilities(self.estimator, X)


# ------------------------------------------------------------------ BADGE
@single_thread_when_busy
def multilabel_badge_select(
    embeddings,
    probas,
    labeled,
    batch_size,
    *,
    random_state=None,
    device=None,
    dtype=None,
    return_utilities=False,
):
    """k-means++ seeding on multi-label gradient embeddings of the unlabeled rows.

    A row's gradient embedding is ``g_x = (p_x - yhat_x) (x) z_x`` with the
    hallucinated labels ``yhat_j = 1[p_j > 0.5]``: the last-layer gradient of
    the binary cross-entropy of every label, had the predicted label set been
    the row's. As in :func:`~skbait.strategies.badge_select` it is never
    formed (``<g_x, g_y> = <a_x, a_y> <z_x, z_y>``); the first centre is the
    row with the largest gradient norm, each further one is drawn with
    probability proportional to its squared distance to the nearest centre.

    Parameters
    ----------
    embeddings : array-like or sparse matrix of shape (n_samples, n_dims)
    probas : array-like of shape (n_samples, n_labels)
    labeled : array-like of int or bool
    batch_size : int
    random_state : int, RandomState instance or None, default=None
    device : str, torch.device or None, default=None
    dtype : {None, "float32", "float64"}, default=None
    return_utilities : bool, default=False
        Also return each chosen row's ``D(x)^2`` when it was chosen.

    Returns
    -------
    indices : ndarray of shape (n_chosen,), dtype=int64
    utilities : ndarray of shape (n_chosen,), dtype=float64
        Only with ``return_utilities=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import multilabel_badge_select
    >>> Z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    >>> P = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5], [0.99, 0.01]])
    >>> multilabel_badge_select(Z, P, labeled=[0], batch_size=2, random_state=0)
    array([2, 1])
    """
    return_utilities = check_flag("return_utilities", return_utilities)
    Z = check_pool_embeddings(embeddings)
    P = _check_label_probas(probas, Z.shape[0])
    mask = as_labeled_mask(labeled, Z.shape[0])
    unlabeled = np.flatnonzero(~mask)
    batch_size = min(check_batch_size(batch_size), unlabeled.size)
    rng = check_random_state(random_state)
    device = resolve_device(device)
    dtype = resolve_dtype(dtype)
    Pu = torch.as_tensor(P[unlabeled], device=device).to(dtype)
    a = Pu - (Pu > 0.5).to(dtype)  # p - yhat: the label factor of the gradient
    chosen, utilities = gradient_seeding(Z, unlabeled, a, batch_size, rng, device, dtype)
    indices = unlabeled[chosen]
    return (indices, utilities) if return_utilities else indices


class MultiLabelBADGE(QueryStrategy):
    """BADGE for multi-label classifiers: k-means++ on ``(p - 1[p > 0.5]) (x) z``.

    See :func:`multilabel_badge_select`. When every gradient vanishes (all
    probabilities 0 or 1), the centres are drawn uniformly, with a warning.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
    dtype : {None, "float32", "float64"}, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from skbait.strategies import MultiLabelBADGE
    >>> X, Y = make_multilabel_classification(n_samples=60, n_classes=3, random_state=0)
    >>> model = OneVsRestClassifier(LogisticRegression()).fit(X[:20], Y[:20])
    >>> idx = MultiLabelBADGE(device="cpu").select(model, X, np.arange(20), 4, random_state=0)
    >>> len(set(idx))
    4
    """

    _parameter_constraints: dict = {
        "device": [StrOptions({"auto"}), str, torch.device, None],
        "dtype": [StrOptions({"float32", "float64"}), np.dtype, type, torch.dtype, None],
    }

    def __init__(self, *, device="auto", dtype=None):
        self.device = device
        self.dtype = dtype

    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.classifier_only = True
        tags.needs_embedding = True
        tags.sparse_embedding = True
        tags.multilabel = True
        return tags

    _validate_estimator = MultiLabelBAIT._validate_estimator

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        Z, P = _label_inputs(estimator, X, embedding)
        unl = ~np.asarray(labeled)
        if not np.any(np.abs(P[unl] - (P[unl] > 0.5)) > 0):
            warnings.warn(
                "Every label probability is 0 or 1, so every gradient embedding is zero; "
                "MultiLabelBADGE falls back to uniform random sampling.",
                UserWarning,
                stacklevel=3,
            )
        return multilabel_badge_select(
            Z,
            P,
            labeled,
            batch_size,
            random_state=random_state,
            device=resolve_device(self.device, estimator=estimator),
            dtype=self.dtype,
            return_utilities=True,
        )
