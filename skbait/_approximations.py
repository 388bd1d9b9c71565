"""Approximations of the last-layer Fisher for BAIT and log-det when ``k d`` is large.

Exact BAIT works with ``(k d) x (k d)`` matrices and a ``k x k`` state per pool
row. With ``k = 100`` classes and ``d = 512`` those matrices hold 2.6 billion
floats each; with 20,000 TF-IDF columns even ``k = 2`` is out of reach. Each
option below replaces the pointwise Fisher ``I(x) = C_x (x) z_x z_x^T``, with
``C_x = diag(p) - p p^T``, by a smaller one; the greedy then runs exactly on
the smaller problem. **They are approximations**: the selection optimises a
different objective than exact BAIT, and its fidelity (the fraction of the
exact objective's drop it reaches, the overlap with the exact selection) is
measured in ``benchmarks/bench_approximations.py`` and quoted in the user
guide.

- ``embedding_dims=r`` (*reduced embedding*): ``z`` is replaced by ``U^T z``,
  with ``U`` the top ``r`` right singular vectors of the pool's embedding,
  rows weighted by ``sqrt(tr C_x)``. The Fisher involves the *uncentred*
  ``z z^T`` (the last layer has no reason to be centred, and a bias column
  would be lost by centring), and
  ``tr F`` restricted to a subspace ``U`` equals ``mean_x tr(C_x) ||U^T z_x||^2``,
  so this ``U`` keeps the largest possible share of the pool Fisher's trace of
  any ``r``-dimensional subspace: a Fisher-weighted, uncentred PCA. It comes
  from :func:`sklearn.utils.extmath.randomized_svd`, seeded by
  ``random_state``, which also takes sparse embeddings (TF-IDF) without
  densifying them.
- ``class_dims=q`` (*class subspace*, from the Kronecker structure): ``C_x`` is
  replaced by ``W^T C_x W``, with ``W`` the top ``q`` eigenvectors of
  ``mean_x ||z_x||^2 C_x``: for the same reason, the ``q``-dimensional class
  subspace that keeps the most of ``tr F``. The state per row drops from
  ``k x k`` to ``q x q`` and the matrices to ``(q d) x (q d)``.
- ``top_classes=c`` (Fast Fishing, Huseljic et al., ECML-PKDD 2024): the
  expectation over classes ``C_x = sum_c p_c (e_c - p)(e_c - p)^T`` is taken
  over the row's ``c`` most probable classes only (no renormalisation, so the
  approximate Fisher is below the exact one in the PSD order). The state per
  row drops to ``c x c``; the matrices stay ``(k d) x (k d)``.
- ``binary=True`` (Fast Fishing): the binary likelihood of the most probable
  class, ``I(x) = p_max (1 - p_max) z z^T``: a ``d x d`` problem with a
  rank-one state per row, whatever ``k``.

``class_dims`` and ``embedding_dims`` combine (``(q r) x (q r)`` matrices).
:func:`choose_approximation` picks one automatically when the exact problem
would not fit a memory budget.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import randomized_svd

from skbait._fisher._factors import reduced_bait_factors
from skbait.utils._sparse import row_norms_squared

__all__ = [
    "ApproximatedFisher",
    "FisherApproximation",
    "choose_approximation",
    "exact_memory_bytes",
]

# Default class subspace when classes must be reduced: the top 10 directions
# (a 10-class problem is exact under it).
_DEFAULT_CLASS_DIMS = 10
# Largest k'd' an automatic approximation aims for.
_AUTO_MAX_DIMS = 2048


class ApproximatedFisher:
    """A pool in the approximated coordinates: the greedy's ``Z`` and factors ``S``.

    ``I(x) = (S_x S_x^T) (x) (z_x z_x^T)`` with ``z_x = Z[x]`` (``n x d'``) and
    ``S_x = S[x]`` (``k' x r``). ``retained`` is the fraction of the exact pool
    Fisher's trace that the approximated one keeps (1 for exact reductions of
    nothing), ``description`` names the approximation.
    """

    def __init__(self, Z, S, description, retained):
        self.Z = Z
        self.S = S
        self.description = description
        self.retained = retained


class FisherApproximation(BaseEstimator):
    """Settings of an approximate Fisher for BAIT and log-det at large ``k d``.

    Pass it as ``approximation`` to :class:`~skbait.strategies.BAIT` or
    :class:`~skbait.strategies.LogDet`. ``FisherApproximation()`` approximates
    nothing. With ``p_x`` the row's probabilities and
    ``C_x = diag(p_x) - p_x p_x^T``, exact BAIT uses ``I(x) = C_x (x) z_x z_x^T``:

    - ``embedding_dims=r`` (reduced embedding) replaces ``z`` by ``U^T z``,
      ``U`` the top ``r`` right singular vectors of the pool's embedding with
      rows weighted by ``sqrt(tr C_x)``, *uncentred*: ``tr F`` restricted to a
      subspace is ``mean_x tr(C_x) ||U^T z_x||^2``, so this ``U`` keeps the
      largest share of the pool Fisher's trace of any ``r``-dimensional
      subspace (centring would optimise the variance instead, and drop the
      mean direction, which carries Fisher information). Computed by
      :func:`sklearn.utils.extmath.randomized_svd` seeded from
      ``random_state``; sparse embeddings (TF-IDF) are not densified.
    - ``class_dims=q`` (class subspace, from the Kronecker structure)
      replaces ``C_x`` by ``W^T C_x W``, ``W`` the top ``q`` eigenvectors of
      ``mean_x ||z_x||^2 C_x``: the ``q``-dimensional class subspace that
      keeps the most of ``tr F``. Matrices ``(q d)^2``, state ``q x q`` per row.
    - ``top_classes=c`` (Fast Fishing, Huseljic et al., ECML-PKDD 2024):
      ``C_x = sum_c p_c (e_c - p)(e_c - p)^T`` summed over the row's ``c``
      most probable classes only (below the exact ``C_x``). State ``c x c``
      per row; the matrices stay ``(k d)^2``.
    - ``binary=True`` (Fast Fishing): the binary likelihood of the most
      probable class, ``I(x) = p_max (1 - p_max) z z^T``: ``d x d``.

    ``class_dims`` and ``embedding_dims`` combine. These are approximations:
    the greedy is exact on the approximated Fisher, not on BAIT's.

    Parameters
    ----------
    embedding_dims : int, default=None
        Keep the top ``embedding_dims`` Fisher-weighted principal directions of
        the pool's embedding (a reduced embedding).
    class_dims : int, default=None
        Keep the top ``class_dims`` directions of the class space (a class
        subspace from the Kronecker structure).
    top_classes : int, default=None
        Fast Fishing: each row's expectation over its ``top_classes`` most
        probable classes only.
    binary : bool, default=False
        Fast Fishing: the binary likelihood of the most probable class
        (``d x d``). Excludes ``class_dims`` and ``top_classes``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import FisherApproximation
    >>> rng = np.random.RandomState(0)
    >>> Z = rng.normal(size=(50, 8))
    >>> P = rng.dirichlet(np.ones(5), size=50)
    >>> approx = FisherApproximation(embedding_dims=4, class_dims=2).fit_transform(Z, P, 0)
    >>> tuple(approx.Z.shape), tuple(approx.S.shape)
    ((50, 4), (50, 2, 2))
    >>> print(approx.description)
    class subspace of 2 of 5 classes, reduced embedding of 4 of 8 dims
    """

    _parameter_constraints: dict = {
        "embedding_dims": [Interval(Integral, 1, None, closed="left"), None],
        "class_dims": [Interval(Integral, 1, None, closed="left"), None],
        "top_classes": [Interval(Integral, 1, None, closed="left"), None],
        "binary": ["boolean"],
    }

    def __init__(self, *, embedding_dims=None, class_dims=None, top_classes=None, binary=False):
        self.embedding_dims = embedding_dims
        self.class_dims = class_dims
        self.top_classes = top_classes
        self.binary = binary

    def is_exact(self, d, k):
        """Whether these settings change nothing for ``d`` dims and ``k`` classes.

        Parameters
        ----------
        d : int
            The embedding's dimension.
        k : int
            The number of classes.

        Returns
        -------
        bool
            True when no setting drops a dimension or a class and ``binary``
            is off: the approximation is exact BAIT.
        """
        return (
            not self.binary
            and (self.embedding_dims is None or self.embedding_dims >= d)
            and (self.class_dims is None or self.class_dims >= k)
            and (self.top_classes is None or self.top_classes >= k)
        )

    def fit_transform(
        self, Z, P, random_state=None, *, kind="bait", dtype=torch.float64, device="cpu"
    ):
        """The pool in approximated coordinates.

        Parameters
        ----------
        Z : ndarray or sparse matrix of shape (n, d)
            Embeddings of the whole pool.
        P : ndarray of shape (n, k) or None
            Class probabilities; ``None`` for regression (``S_x = [[1]]``).
        random_state : int, RandomState instance or None, default=None
            Seeds the randomized SVD of a reduced embedding.
        kind : {"bait", "rank1"}, default="bait"
            The exact pointwise information being approximated: BAIT's full
            Fisher, or the rank-one BADGE gradient ``(p - e_yhat) (x) z`` of
            log-det (for which only ``class_dims`` and ``embedding_dims``
            apply).
        dtype : torch.dtype, default=torch.float64
            The dtype of the result's tensors.
        device : str or torch.device, default="cpu"
            The device of the result's tensors.

        Returns
        -------
        ApproximatedFisher
            The pool in the approximated coordinates: ``Z`` (``n x d'``) and
            the factors ``S`` (``n x k' x r``) as tensors,
            ``I(x) = (S_x S_x^T) (x) (z_x z_x^T)``; ``retained``, the fraction
            of the exact pool Fisher's trace that the approximation keeps;
            ``description``, what was approximated (``"exact"`` for nothing).

        Raises
        ------
        ValueError
            When ``binary`` is combined with ``class_dims`` or
            ``top_classes``, or, with ``kind="rank1"``, when ``binary`` or
            ``top_classes`` is set.
        """
        self._validate_params()
        if self.binary and (self.class_dims is not None or self.top_classes is not None):
            raise ValueError(
                "binary=True is a d x d problem of its own: it cannot be combined with "
                "class_dims or top_classes."
            )
        n, d = Z.shape
        names = []
        if P is None:
            S = np.ones((n, 1, 1))
            class_weight = np.ones(n)
        else:
            P = np.asarray(P, dtype=np.float64)
            k = P.shape[1]
            if kind == "rank1" and (self.binary or self.top_classes is not None):
                raise ValueError(
                    "binary and top_classes approximate the full Fisher; the rank-one "
                    "gradient information takes class_dims and embedding_dims only."
                )
            if kind == "rank1":
                S = _rank1_factors(P)
                if self.class_dims is not None and self.class_dims < k:
                    # Top eigenvectors of sum_x ||z_x||^2 g_x g_x^T.
                    g = S[:, :, 0] * np.sqrt(row_norms_squared(Z))[:, None]
                    W = np.linalg.eigh(g.T @ g)[1][:, ::-1][:, : self.class_dims]
                    S = np.einsum("kq,nkr->nqr", W, S)
                    names.append(f"class subspace of {self.class_dims} of {k} classes")
            elif self.binary:
                p_max = P.max(axis=1)
                S = np.sqrt(p_max * (1.0 - p_max))[:, None, None]
                names.append(f"binary Fisher of the most probable class ({d} x {d})")
            elif self.class_dims is not None and self.class_dims < k:
                S = _class_subspace_factors(Z, P, self.class_dims)
                names.append(f"class subspace of {self.class_dims} of {k} classes")
            elif self.top_classes is not None and self.top_classes < k:
                S = _top_class_factors(P, self.top_classes)
                names.append(f"expectation over the top {self.top_classes} of {k} classes")
            else:
                # BAIT's factors without their null column (k - 1 of them).
                S = reduced_bait_factors(
                    torch.as_tensor(P, dtype=torch.float64, device="cpu")
                ).numpy()
            class_weight = np.einsum("nkr,nkr->n", S, S)  # tr(S S^T) = tr C_x
        if P is None:
            exact_weight = np.ones(n)
        elif kind == "rank1":
            exact_weight = np.einsum("nkr,nkr->n", _rank1_factors(P), _rank1_factors(P))
        else:
            exact_weight = 1.0 - (P * P).sum(axis=1)  # tr(diag(p) - p p^T)
        exact_trace = (row_norms_squared(Z) * exact_weight).sum()
        if self.embedding_dims is not None and self.embedding_dims < d:
            # The pool spans at most n directions: more would only add zeros.
            r = min(self.embedding_dims, n)
            Z = _reduced_embedding(Z, class_weight, r, random_state)
            names.append(f"reduced embedding of {r} of {d} dims")
        else:
            Z = Z.toarray() if sp.issparse(Z) else np.asarray(Z)
        kept_trace = (row_norms_squared(Z) * class_weight).sum()
        retained = kept_trace / exact_trace if exact_trace > 0 else 1.0
        as_tensor = lambda a: torch.as_tensor(np.ascontiguousarray(a), device=device).to(dtype)  # noqa: E731
        return ApproximatedFisher(
            as_tensor(Z), as_tensor(S), ", ".join(names) or "exact", float(retained)
        )


def _rank1_factors(P):
    """``S_x = p - e_yhat`` (``k x 1``), ``yhat`` the most probable class (lowest on ties)."""
    S = P.copy()
    S[np.arange(P.shape[0]), P.argmax(axis=1)] -= 1.0
    return S[:, :, None]


def _top_class_factors(P, c):
    """Columns ``sqrt(p_c) (e_c - p)`` of the ``c`` most probable classes (lowest on ties)."""
    n = P.shape[0]
    # A stable sort of -p keeps the lowest class index first among equal p.
    top = np.argsort(-P, axis=1, kind="stable")[:, :c]
    p_top = np.take_along_axis(P, top, axis=1)
    S = -P[:, :, None] * np.sqrt(p_top)[:, None, :]
    S[np.arange(n)[:, None], top, np.arange(c)[None, :]] += np.sqrt(p_top)
    return S


def _class_subspace_factors(Z, P, q):
    """Factors of ``W^T C_x W`` (``q x q``), ``W`` the top eigenvectors of the weighted mean."""
    weight = row_norms_squared(Z)
    W = class_subspace(P, weight, q)
    q = W.shape[1]
    PW = P @ W  # (n, q): W^T p
    # W^T diag(p) W = sum_c p_c w_c w_c^T: one (n x k) @ (k x q^2) product, with no
    # (n, k, q) temporary (8 GB at n = 100,000, k = 1000, q = 10).
    outer = (W[:, :, None] * W[:, None, :]).reshape(W.shape[0], q * q)
    A = (P @ outer).reshape(-1, q, q) - PW[:, :, None] * PW[:, None, :]
    values, vectors = np.linalg.eigh(A)
    return vectors * np.sqrt(np.clip(values, 0.0, None))[:, None, :]


def class_subspace(P, weight, q):
    """Top ``q`` eigenvectors (``k x q``) of ``sum_x w_x (diag(p_x) - p_x p_x^T)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait._approximations import class_subspace
    >>> P = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
    >>> W = class_subspace(P, np.ones(2), 1)
    >>> np.round(np.abs(W[:, 0]) * np.sqrt(2), 6)
    array([1., 1., 0.])
    """
    C = np.diag(weight @ P) - (P * weight[:, None]).T @ P
    _, vectors = np.linalg.eigh(C)  # ascending eigenvalues
    return vectors[:, ::-1][:, :q]


def _reduced_embedding(Z, weight, r, random_state):
    """``Z U`` with ``U`` the top ``r`` right singular vectors of ``diag(sqrt w) Z``."""
    n = Z.shape[0]
    if r >= n:
        # The pool spans at most n directions: its Gram matrix gives coordinates
        # in that span with every inner product kept (Z Z^T = Y Y^T), a lossless
        # reduction, without the SVD of a wide matrix.
        gram = Z @ Z.T
        gram = gram.toarray() if sp.issparse(gram) else np.asarray(gram)
        values, vectors = np.linalg.eigh(gram)
        return np.ascontiguousarray((vectors * np.sqrt(np.clip(values, 0.0, None)))[:, ::-1])
    rng = check_random_state(random_state)
    scale = np.sqrt(np.clip(weight, 0.0, None))
    weighted = sp.diags(scale) @ Z if sp.issparse(Z) else Z * scale[:, None]
    _, _, Vt = randomized_svd(weighted, r, n_iter=7, random_state=rng)
    return np.asarray(Z @ Vt.T)


def exact_memory_bytes(n, d, k, *, n_dims_state=None):
    """Bytes exact BAIT needs: ``(k d)^2`` matrices and the per-row state, in float64.

    About eight ``(k d) x (k d)`` float64 matrices are alive at the peak (the
    design, its inverse, the pool Fisher, the packed accumulation and its
    index map, and temporaries), plus per row the embedding and ``[P; Q]``
    (``2 k x k``) and the factors (``k x k``).

    Examples
    --------
    >>> from skbait._approximations import exact_memory_bytes
    >>> round(exact_memory_bytes(50_000, 512, 10) / 2**30, 1)
    1.9
    """
    D = k * d
    per_row = d + 3 * k * k + 4 * k
    return 8 * (8 * D * D + n * per_row)


def choose_approximation(n, d, k, memory_limit):
    """An approximation that fits ``memory_limit`` GiB, or ``None`` when exact BAIT fits.

    Classes are reduced first (a class subspace of 10 directions); when that
    is not enough, the embedding too, to ``2048 // q`` dimensions (halved
    until it fits). A budget that even that cannot meet is a ``ValueError``.

    Parameters
    ----------
    n, d, k : int
        Pool rows, embedding dimensions, classes (1 for regression).
    memory_limit : float
        Budget in GiB.

    Returns
    -------
    FisherApproximation or None

    Raises
    ------
    ValueError
        When even the smallest approximation needs more than
        ``memory_limit``.

    Examples
    --------
    >>> from skbait.strategies import choose_approximation
    >>> choose_approximation(50_000, 512, 10, 4.0) is None
    True
    >>> choose_approximation(50_000, 512, 100, 4.0)
    FisherApproximation(class_dims=10)
    >>> choose_approximation(5_000, 20_000, 2, 4.0)
    FisherApproximation(embedding_dims=1024)
    """
    budget = memory_limit * 2**30
    if exact_memory_bytes(n, d, k) <= budget:
        return None
    q = k if k <= _DEFAULT_CLASS_DIMS else _DEFAULT_CLASS_DIMS
    if q < k and exact_memory_bytes(n, d, q) <= budget:
        return FisherApproximation(class_dims=q)
    # A reduced embedding: (q r)^2 matrices of at most _AUTO_MAX_DIMS^2 entries
    # (beyond it the SVD and the greedy take too long to be a sensible default).
    r = min(d, n, max(1, _AUTO_MAX_DIMS // q))
    while r > 1 and exact_memory_bytes(n, r, q) > budget:
        r //= 2
    if exact_memory_bytes(n, r, q) > budget:
        raise ValueError(
            f"BAIT needs more than memory_limit={memory_limit} GiB even approximated "
            f"(n={n} rows, k={k} classes): raise memory_limit or subsample the pool."
        )
    return FisherApproximation(embedding_dims=r, class_dims=q if q < k else None)


# What a Python user can do about an automatic approximation; the campaign commands, which
# take no such setting, say what their user can do instead.
EXACT_ADVICE = (
    "Set approximation='exact' to insist, or pass a FisherApproximation, or raise memory_limit."
)


def resolve_approximation(approximation, n, d, k, memory_limit, strategy_name):
    """The approximation a strategy uses: ``None`` for exact, with a warning when automatic."""
    if isinstance(approximation, str) and approximation == "exact":
        return None
    if isinstance(approximation, FisherApproximation):
        # Checked before is_exact reads the settings, which fit_transform checks too late.
        approximation._validate_params()
        return None if approximation.is_exact(d, k) else approximation
    if not (isinstance(approximation, str) and approximation == "auto"):
        # The functions take no parameter constraints: anything else ran as "auto".
        raise ValueError(
            f"`approximation` must be 'auto', 'exact' or a FisherApproximation, got "
            f"{approximation!r}."
        )
    chosen = choose_approximation(n, d, k, memory_limit)
    # Classes all kept and the embedding reduced to the pool's own span (n rows
    # span at most n directions): every inner product is kept, so BAIT is exact.
    lossless = chosen is not None and chosen.class_dims is None and chosen.embedding_dims >= n
    if chosen is not None and not lossless:
        warnings.warn(
            f"{strategy_name}: exact BAIT needs about "
            f"{exact_memory_bytes(n, d, k) / 2**30:.1f} GiB here (k={k} classes x d={d} "
            f"dims), over memory_limit={memory_limit} GiB; using the approximation "
            f"{chosen!r}, which is not exact BAIT: {what_is_lost(chosen, d, k)} "
            f"{EXACT_ADVICE}",
            UserWarning,
            stacklevel=4,
        )
    return chosen


def what_is_lost(approximation, d, k):
    """One sentence per reduction: what an automatic approximation drops, as measured.

    The figures are those of the user guide ("Scale" and "Which strategy when"):
    ``benchmarks/bench_approximations.py`` and ``benchmarks/bench_realdata.py``.
    """
    lost = []
    if approximation.class_dims is not None and approximation.class_dims < k:
        lost.append(
            f"it keeps {approximation.class_dims} of the {k} class directions of the "
            "Fisher (measured at k=100: 2 to 4 points of accuracy below exact BAIT in "
            "the first rounds, level with BADGE)."
        )
    if approximation.embedding_dims is not None and approximation.embedding_dims < d:
        lost.append(
            f"it keeps the top {approximation.embedding_dims} of the {d} embedding "
            "directions (measured: 95% to 98% of exact BAIT's decrease of its objective "
            "at a quarter of the dimensions)."
        )
    return " ".join(lost)


def pool_shape(embeddings, probas):
    """``(n, d, k)`` of a pool before validation (``k = 1`` for regression)."""
    shape = getattr(embeddings, "shape", None)
    if shape is None:
        shape = np.shape(embeddings)
    n, d = (tuple(shape) + (1, 1))[:2] if len(shape) != 2 else shape
    k = 1 if probas is None else (tuple(np.shape(probas)) + (1, 1))[1]
    return int(n), int(d), max(1, int(k))


def check_memory_limit(memory_limit):
    """A positive number of GiB."""
    if not isinstance(memory_limit, Real) or isinstance(memory_limit, bool):
        raise TypeError(f"memory_limit must be a number of GiB, got {memory_limit!r}.")
    if not math.isfinite(memory_limit) or memory_limit <= 0:
        raise ValueError(f"memory_limit must be a positive number of GiB, got {memory_limit}.")
    return float(memory_limit)


def greedy_select(
    approx,
    labeled,
    batch_size,
    *,
    reg,
    objective="trace",
    oversample=2,
    backward=True,
    fisher="pool",
    chunk_size=None,
):
    """BAIT's (or log-det's) greedy run exactly on an approximated pool.

    The conventions are exact BAIT's (:func:`skbait.strategies.bait_select`):
    ``M_0 = reg I + n_L / (n_L + B)`` times the labeled rows' mean information,
    candidates scaled by ``B / (n_L + B)``, the pool Fisher over the whole
    pool; only the pointwise information is the approximated one.

    Parameters
    ----------
    approx : ApproximatedFisher
    labeled : ndarray of bool, shape (n,)
    batch_size : int
        Already capped below the number of unlabeled rows.
    reg : float
    objective : {"trace", "logdet"}
    oversample, backward, fisher, chunk_size
        As for :func:`skbait.strategies.bait_select` (``objective="trace"`` only).

    Returns
    -------
    positions : ndarray of int64
        Pool indices, in the order they were added.
    gains : ndarray of float64
    """
    from skbait._fisher import (
        Factors,
        KroneckerGreedy,
        LogDetObjective,
        TraceObjective,
        design_start,
        kron_gram,
    )

    pool = Factors.generic(approx.Z, approx.S)
    n, B = len(pool), batch_size
    cand = np.flatnonzero(~labeled)
    lab = pool[np.flatnonzero(labeled)]
    n_L = len(lab)
    M0, scale = design_start(kron_gram(lab.Z.double(), lab.S.double()), n_L, B, reg)
    if objective == "trace":
        F = kron_gram(pool.Z, pool.S) / n if fisher == "pool" else None
        target = TraceObjective(F)
    else:
        target = LogDetObjective()
    n_steps = B
    if objective == "trace" and backward:
        n_steps = min(math.floor(oversample * B + 0.5), cand.size)
    greedy = KroneckerGreedy(pool[cand].scaled(scale), M0, target, chunk_size=chunk_size)
    prune = n_steps > B
    greedy.step_threads = torch.get_num_threads()  # each step timed on these and on one
    greedy.forward(n_steps, final_keep_picked=prune)
    if prune:
        greedy.backward(B)
    return cand[np.asarray(greedy.picked, dtype=np.int64)], np.asarray(greedy.gains)
