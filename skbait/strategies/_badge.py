"""BADGE: k-means++ seeding on hallucinated last-layer gradients (Ash et al., 2020)."""

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import is_classifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from skbait.base import QueryStrategy, as_labeled_mask
from skbait.embeddings import embed
from skbait.strategies._fisher_inputs import (
    information_advice,
    informative_rows,
    no_information_reason,
    nonzero_rows,
)
from skbait.utils._scale import largest_magnitude, scale_exponent, times_power_of_two
from skbait.utils._sparse import check_pool_embeddings, row_norms_squared, rows_dot
from skbait.utils._threads import limited_threads, single_thread_when_busy, threads_for_flops
from skbait.utils._torch import resolve_device, resolve_dtype
from skbait.utils._validation import check_batch_size, check_flag, check_probas

__all__ = ["BADGE", "SINGLE_CLASS_WARNING", "badge_select", "no_gradient_message"]

#: Why BADGE samples uniformly: a classifier of a single class has no gradient.
SINGLE_CLASS_WARNING = (
    "The classifier knows a single class, so every gradient embedding is zero; "
    "BADGE falls back to uniform random sampling."
)


def no_gradient_message(causes):
    """Why BADGE samples uniformly: no unlabeled row has a gradient.

    ``causes`` says what left the rows without one: (probabilities of 0 or 1,
    all-zero embeddings).
    """
    return (
        f"{no_information_reason(causes)}, so every gradient embedding is zero; BADGE "
        f"falls back to uniform random sampling. {information_advice(causes)}"
    )


@single_thread_when_busy
def badge_select(
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
    """k-means++ seeding on the BADGE gradient embeddings of the unlabeled rows.

    The gradient embedding of a row is ``g_x = (p_x - e_yhat) (x) z_x``, the
    last-layer gradient of the cross-entropy loss had the predicted class
    ``yhat = argmax p_x`` (the first of equal classes) been its label. It is
    never formed: with ``a_x = p_x - e_yhat``,
    ``<g_x, g_y> = <a_x, a_y> <z_x, z_y>``, so each
    step costs ``O(n (k + d))`` time and the whole run ``O(n (k + d))`` memory,
    where the ``n x kd`` matrix would need ``n k d`` floats.

    Only unlabeled rows are candidates (and centres). The first centre is the
    row with the largest gradient norm (ties: lowest index). Each further
    centre is drawn with probability proportional to ``D(x)^2``, the squared
    distance of ``g_x`` to its nearest centre. The draw takes one
    ``random_state.random_sample()`` per centre and inverts the cumulative
    ``D^2`` weights, so it is reproducible on any device. Chosen rows have
    weight exactly zero, so no row is returned twice, and no phantom centre
    (such as the origin) is ever used. When every remaining weight is zero
    (duplicated rows, all-zero gradients), the centre is drawn uniformly
    among the remaining unlabeled rows with ``random_state.randint``.

    Parameters
    ----------
    embeddings : array-like or sparse matrix of shape (n_samples, n_dims)
        Last-layer embeddings ``z`` of the whole pool. A scipy sparse matrix
        (a TF-IDF pipeline's last-step input) is never densified: its
        products with one row are taken by scipy on the CPU.
    probas : array-like of shape (n_samples, n_classes)
        Predicted class probabilities ``p`` of the whole pool.
    labeled : array-like of int or bool, or None
        Indices of the labeled rows, or a boolean mask over the pool.
    batch_size : int
        Number of rows to return; capped at the number of unlabeled rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the ``D^2`` draws.
    device : str, torch.device or None, default=None
        Where to compute; ``None`` and ``"auto"`` mean CUDA when available.
    dtype : {None, "float32", "float64"}, default=None
        Floating type of the computation; ``None`` means float64.
    return_utilities : bool, default=False
        Also return ``D(x)^2`` of each chosen row when it was chosen (the
        squared gradient norm for the first centre).

    Returns
    -------
    indices : ndarray of shape (n_chosen,), dtype=int64
        Distinct pool indices of unlabeled rows, in the order they were chosen.
    utilities : ndarray of shape (n_chosen,), dtype=float64
        Only with ``return_utilities=True``.

    Raises
    ------
    TypeError
        When ``probas`` is None: BADGE cannot serve a regressor.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import badge_select
    >>> Z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    >>> P = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5], [0.99, 0.01]])
    >>> idx, d2 = badge_select(Z, P, labeled=[0], batch_size=2, random_state=0,
    ...                        return_utilities=True)
    >>> idx  # row 2 has the largest gradient norm; row 3 is then drawn w.p. 0.64
    array([2, 3])
    >>> d2.round(4)
    array([1.    , 0.9216])
    """
    return_utilities = check_flag("return_utilities", return_utilities)
    Z = check_pool_embeddings(embeddings)
    if probas is None:
        raise TypeError(
            "BADGE needs class probabilities (its gradient embedding is built from them); "
            "for regression use bait_select or coreset_select."
        )
    P = check_probas(probas, Z.shape[0])
    mask = as_labeled_mask(labeled, Z.shape[0])
    unlabeled = np.flatnonzero(~mask)
    batch_size = min(check_batch_size(batch_size), unlabeled.size)
    rng = check_random_state(random_state)
    device = resolve_device(device)
    dtype = resolve_dtype(dtype)
    a = torch.as_tensor(P[unlabeled], device=device).to(dtype)
    # a_x = p_x - e_yhat: the class factor of the hallucinated gradient.
    a[torch.arange(a.shape[0], device=device), torch.argmax(a, dim=1)] -= 1.0
    chosen, utilities = gradient_seeding(Z, unlabeled, a, batch_size, rng, device, dtype)
    indices = unlabeled[chosen]
    return (indices, utilities) if return_utilities else indices


def gradient_seeding(Z, unlabeled, a, batch_size, rng, device, dtype):
    """k-means++ seeding on the gradient embeddings ``a_x (x) z_x`` of the unlabeled rows.

    Shared by BADGE and multi-label BADGE, which differ only in the label
    factor ``a`` (one row per unlabeled row, on ``device`` in ``dtype``).
    Returns the chosen positions into ``unlabeled`` and their D^2 weights.
    """
    eps = torch.finfo(dtype).eps
    # Exact, and needed only where the squared norms would overflow or vanish.
    shift = scale_exponent(largest_magnitude(Z), dtype)
    Z = times_power_of_two(Z, -shift)

    if sp.issparse(Z):
        # Sparse rows (TF-IDF): products with one row at a time, never densified.
        rows = Z[unlabeled].astype(np.float32 if dtype == torch.float32 else np.float64)
        norm_z = torch.as_tensor(row_norms_squared(rows), device=device).to(dtype)

        def dot_with(centre):
            return torch.as_tensor(rows_dot(rows, centre), device=device).to(dtype)

    else:
        # Embeddings are kept as columns (d x n): one row against all of them is then a
        # vector-matrix product that streams memory in order (about three times faster
        # on a CPU than the matrix-vector product on rows).
        z_T = torch.as_tensor(Z[unlabeled], device=device).to(dtype).T.contiguous()
        norm_z = (z_T * z_T).sum(dim=0)

        def dot_with(centre):
            return z_T[:, centre] @ z_T

    norm_g = (a * a).sum(dim=1) * norm_z
    # Rounding bound of the factorised distance, relative to ||g_x||^2 + ||g_c||^2:
    # anything below it is a duplicate of the centre, and is snapped to exactly 0.
    snap = (a.shape[1] + Z.shape[1] + 2) * eps

    chosen = np.empty(batch_size, dtype=np.int64)
    utilities = np.empty(batch_size, dtype=np.float64)
    if batch_size == 0:
        return chosen, utilities
    taken = np.zeros(unlabeled.size, dtype=bool)
    # torch.argmax returns the first maximal index: ties go to the lowest index. Where
    # every gradient is zero (one class known, probabilities all 0 or 1) no row leads,
    # and the first centre is drawn uniformly, as the later ones then are.
    centre = int(torch.argmax(norm_g))
    if float(norm_g[centre]) == 0.0:
        centre = int(rng.randint(unlabeled.size))
    chosen[0], utilities[0] = centre, float(norm_g[centre])
    d2 = torch.full_like(norm_g, float("inf"))
    # Each step is O(n (k + d)): threads only when that is worth waking them.
    row_work = Z.nnz / Z.shape[0] if sp.issparse(Z) else Z.shape[1]
    step_flops = 4.0 * unlabeled.size * (a.shape[1] + row_work)
    with limited_threads(threads_for_flops(step_flops)):
        _seed_centres(
            rng,
            d2,
            taken,
            chosen,
            utilities,
            centre,
            batch_size,
            norm_g,
            a,
            dot_with,
            snap,
            unlabeled.size,
            device,
        )
    with np.errstate(over="ignore"):  # a weight float64 cannot hold is infinite
        return chosen, np.ldexp(utilities, 2 * shift)


def _seed_centres(
    rng,
    d2,
    taken,
    chosen,
    utilities,
    centre,
    batch_size,
    norm_g,
    a,
    dot_with,
    snap,
    n_unlabeled,
    device,
):
    """The D^2 draws of the centres after the first (see :func:`badge_select`)."""
    for step in range(1, batch_size):
        taken[centre] = True
        dist = norm_g + norm_g[centre] - 2.0 * (a @ a[centre]) * dot_with(centre)
        dist = torch.where(dist <= snap * (norm_g + norm_g[centre]), 0.0, dist)
        # dist >= 0, so a zero set here stays zero under every later minimum.
        d2 = torch.minimum(d2, dist)
        d2[centre] = 0.0
        # Inverse-CDF draw in float64: a zero weight leaves the cumulative sum flat,
        # and searchsorted(right=True) never lands on a flat step, so chosen rows
        # (and duplicates of centres) cannot come back.
        cumulative = torch.cumsum(d2.to(torch.float64), dim=0)
        total = float(cumulative[-1])
        if total > 0.0:
            target = rng.random_sample() * total
            target = torch.tensor([target], dtype=torch.float64, device=device)
            centre = int(torch.searchsorted(cumulative, target, right=True)[0])
            if centre >= n_unlabeled:  # u * total rounded up to total
                centre = int(torch.nonzero(d2 > 0)[-1, 0])
        else:
            remaining = np.flatnonzero(~taken)
            centre = int(remaining[rng.randint(remaining.size)])
        chosen[step], utilities[step] = centre, float(d2[centre])


class BADGE(QueryStrategy):
    """Batch Active learning by Diverse Gradient Embeddings (Ash et al., ICLR 2020).

    Each unlabeled row is represented by the gradient of the loss with respect
    to the last layer had the predicted class been its label,
    ``g_x = (p_x - e_yhat) (x) z_x``: its norm grows with the model's
    uncertainty. The batch is chosen by k-means++ seeding in that space, which
    favours rows that are both uncertain and diverse. The ``n x kd`` gradient
    matrix is never formed (see :func:`badge_select`), so BADGE runs in
    ``O(n (k + d))`` memory and ``O(B n (k + d))`` time.

    BADGE needs class probabilities: it cannot serve a regressor (use
    ``"bait"`` or ``"coreset"`` there).

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
        Where to compute. ``"auto"`` follows the estimator's device (a skorch
        network's), else CUDA when available, else the CPU.
    dtype : {None, "float32", "float64"}, default=None
        Floating type of the computation; ``None`` means float64.

    See Also
    --------
    badge_select : The same selection on precomputed embeddings and probabilities.
    CoreSet : Diversity only, on the embeddings.

    Notes
    -----
    The first centre is the unlabeled row with the largest gradient norm
    (the lowest index among equals), as in the authors' code; textbook
    k-means++ (Arthur and Vassilvitskii, 2007) draws it at random instead.
    Each further one is drawn with probability proportional to its squared
    distance to the nearest centre, seeded by ``random_state``; a chosen row
    has weight zero, the same distribution as drawing again until a new row
    comes. When all remaining rows coincide with centres, the draw is uniform
    over them; a classifier that knows a single class has only zero
    gradients, so BADGE then samples uniformly (with a warning). The
    utilities returned with ``return_utilities=True`` are each chosen row's
    ``D(x)^2``.

    The hallucinated label is the most probable class, the first of equal
    ones. For a binary classifier the two columns ``(1 - p, p)`` give
    ``a_x = (p - 1[p > 0.5]) (-1, 1)``: the gradient of a network with one
    sigmoid output times a constant, so BADGE picks what it would pick from
    that network's gradients (:func:`~skbait.strategies.multilabel_badge_select`
    with one label picks the same rows). The sign of ``g_x`` (the authors
    write ``e_yhat - p``) changes no distance.

    References
    ----------
    .. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.strategies import BADGE
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(100, 3))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> model = LogisticRegression().fit(X[:20], y[:20])
    >>> idx = BADGE(device="cpu").select(model, X, labeled=range(20), batch_size=5,
    ...                                  random_state=0)
    >>> len(set(idx)), bool(np.all(idx >= 20))
    (5, True)
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
        return tags

    def _validate_estimator(self, estimator):
        if not is_classifier(estimator):
            raise TypeError(
                f"BADGE needs class probabilities, but {type(estimator).__name__} is not a "
                "classifier: its gradient embedding uses the predicted class. For regression "
                "use 'bait' or 'coreset'."
            )

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        Z, P = embed(estimator, X, proba=True, embedding=embedding)
        unlabeled = ~as_labeled_mask(labeled, len(P))
        by_probas, by_embedding = informative_rows(P)[unlabeled], nonzero_rows(Z)[unlabeled]
        if P.shape[1] < 2:
            warnings.warn(SINGLE_CLASS_WARNING, UserWarning, stacklevel=3)
        elif not (by_probas & by_embedding).any():
            causes = (not by_probas.all(), not by_embedding.all())
            warnings.warn(no_gradient_message(causes), UserWarning, stacklevel=3)
        return badge_select(
            Z,
            P,
            labeled,
            batch_size,
            random_state=random_state,
            device=resolve_device(self.device, estimator=estimator),
            dtype=self.dtype,
            return_utilities=True,
        )
