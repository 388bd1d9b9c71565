"""BAIT: Batch Active learning via Information maTrices (Ash et al., NeurIPS 2021)."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import is_classifier
from sklearn.utils._param_validation import Interval, StrOptions

from skbait._approximations import (
    FisherApproximation,
    check_memory_limit,
    pool_shape,
    resolve_approximation,
)
from skbait._fisher import Problem, RankOneGreedy, forward_steps, kron_gram
from skbait.base import QueryStrategy
from skbait.embeddings import embeds_input_features
from skbait.strategies._candidates import (
    DEFAULT_RANDOM_CANDIDATES,
    candidate_pool,
    resolve_candidates,
)
from skbait.strategies._fisher_inputs import fisher_inputs, select_informative
from skbait.utils import resolve_device
from skbait.utils._scale import largest_magnitude, times_power_of_two
from skbait.utils._sparse import check_pool_embeddings, drop_empty_columns, row_norms_squared
from skbait.utils._threads import (
    limited_threads,
    recent_step_threads,
    single_thread_when_busy,
    threads_for_flops,
)
from skbait.utils._validation import (
    check_chunk_size,
    check_option,
    check_probas,
    check_real,
)

__all__ = ["BAIT", "bait_objective", "bait_select", "scaled_reg"]

#: The relative regulariser of ``reg="scale"``: ``lambda = DEFAULT_RELATIVE_REG * s``,
#: with ``s`` the scale of the pool's information (see :func:`scaled_reg`); chosen
#: with ``benchmarks/bench_realdata.py`` across datasets, models and protocols.
DEFAULT_RELATIVE_REG = 0.01


def scaled_reg(embeddings, probas=None, relative_reg=DEFAULT_RELATIVE_REG):
    """The absolute regulariser ``lambda`` of ``reg="scale"``: relative to the embedding's scale.

    ``lambda = relative_reg * mean_x ||z_x||^2`` over the whole pool. The
    paper's ``lambda`` is an absolute number added to a Fisher whose entries
    grow with the square of the embedding: multiplying every embedding by
    ``c`` multiplies the Fisher by ``c^2`` and leaves ``lambda`` alone, so
    that one absolute value is negligible on one dataset and dominant after a
    ``StandardScaler`` on another. Scaled with the embedding, ``lambda``
    weighs the same against the data at every scale, and BAIT chooses the
    same rows for ``c Z`` as for ``Z``.

    Parameters
    ----------
    embeddings : array-like or sparse matrix of shape (n_samples, n_dims)
        The pool's embeddings.
    probas : array-like of shape (n_samples, n_classes) or None, default=None
        Unused by the embedding scale; accepted so that the signature is
        that of :func:`bait_select`.
    relative_reg : float, default=0.01
        ``lambda`` as a fraction of the mean squared norm (> 0).

    Returns
    -------
    float
        ``lambda`` (> 0). An all-zero embedding, whose scale is 0, gets
        ``relative_reg`` itself.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import scaled_reg
    >>> Z = np.array([[3.0, 4.0], [0.0, 5.0]])
    >>> scaled_reg(Z, relative_reg=0.1), scaled_reg(10 * Z, relative_reg=0.1)
    (2.5, 250.0)
    """
    squares = row_norms_squared(embeddings)
    scale = float(np.mean(squares, dtype=np.float64)) if squares.size else 0.0
    return reg_at_scale(scale, relative_reg)


def unit_scaled(embeddings, relative_reg=DEFAULT_RELATIVE_REG):
    """``reg="scale"``'s ``lambda`` and the embeddings, both moved to a unit scale.

    The embeddings are multiplied by ``2**-shift``, with ``shift`` chosen so
    that their mean squared norm lies in ``[1/4, 1)``, and ``lambda`` is
    :func:`scaled_reg` of the moved embeddings. BAIT's design and pool Fisher
    both scale by ``2**(-2 shift)``, so the selection is that of the
    embeddings as given; a power of two moves every float exactly, so that
    where the embeddings as given neither overflow nor underflow the
    computation is the same, bit for bit. Where they would (embeddings of
    size ``1e20`` or ``1e-20`` in float32), it is carried out at the unit
    scale instead.

    Parameters
    ----------
    embeddings : ndarray or sparse matrix of shape (n_samples, n_dims)
        Validated embeddings.
    relative_reg : float, default=0.01

    Returns
    -------
    reg : float
        ``lambda`` for the moved embeddings.
    embeddings : ndarray or sparse matrix
        The embeddings times ``2**-shift`` (as given when all zero).
    shift : int

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies._bait import unit_scaled
    >>> reg, Z, shift = unit_scaled(np.array([[3e30, 4e30]]), relative_reg=0.1)
    >>> shift, round(float(np.sum(Z**2)), 3), round(reg, 4)
    (102, 0.972, 0.0972)
    """
    largest = largest_magnitude(embeddings)
    if largest == 0.0:
        return reg_at_scale(0.0, relative_reg), embeddings, 0
    # Largest entry in [1/2, 1) first, so that no square overflows or underflows
    # wholesale; then the mean squared norm into [1/4, 1).
    shift = math.frexp(largest)[1]
    mean_square = float(np.mean(row_norms_squared(times_power_of_two(embeddings, -shift))))
    shift += math.frexp(math.sqrt(mean_square))[1]
    moved = times_power_of_two(embeddings, -shift)
    return scaled_reg(moved, relative_reg=relative_reg), moved, shift


#: The factor between an embedding's widest and narrowest columns (see
#: :func:`~skbait.utils._sparse.column_sizes`) above which ``reg="scale"``
#: warns: its ``lambda`` follows the widest columns and swamps the narrow ones.
#: Raw wine-quality features spread 570 to 2,800-fold, raw breast cancer
#: 240,000-fold; pixels, TF-IDF, standardised features and the hidden layers
#: of the benchmark's networks spread less than 15-fold.
SCALE_SPREAD_WARNING = 100.0


def warn_on_scale_spread(embeddings, spread=None):
    """Warn when the embedding's columns differ in size by more than :data:`SCALE_SPREAD_WARNING`.

    Parameters
    ----------
    embeddings : ndarray or sparse matrix of shape (n_samples, n_dims)
    spread : tuple, default=None
        :func:`column_spread` of ``embeddings`` where the caller measured it
        already; measured here otherwise.

    Returns
    -------
    float
        The factor between the widest and the narrowest column that has a
        non-zero entry (1.0 when fewer than two have).
    """
    spread, widest, narrowest = spread or column_spread(column_moments(embeddings))
    if spread > SCALE_SPREAD_WARNING:
        warnings.warn(
            f"The embedding BAIT reads has columns whose sizes differ {spread:,.0f}-fold "
            f"(columns {widest} and {narrowest}, counted from 0; root mean square of their "
            "non-zero values). reg='scale' sets lambda by the widest columns, so BAIT "
            "barely weighs the narrow ones: pass standardize=True (BAIT then standardises "
            "its design; the default 'auto' does so for a linear model's input features "
            "only, not for a network's hidden layer or a given embedding), put a "
            "StandardScaler before a linear model, or pass a numeric reg. See 'Which "
            "strategy when' in the user guide.",
            UserWarning,
            # One place for every caller (BAIT, multi-label BAIT, the functions), so
            # that the default filter shows it once.
            stacklevel=2,
        )
    return spread


def column_moments(embeddings):
    """The column sums a standardised design is made from: ``(n, sums, squares, entries)``.

    ``sums`` and ``squares`` are each column's sum and sum of squares, in
    float64, ``entries`` its count of non-zero values: sums over rows, so that
    the shards of a pool add up to the whole pool's (the sharded BAIT
    all-reduces them). ``embeddings`` is a validated dense array or sparse matrix.
    """
    n = embeddings.shape[0]
    if sp.issparse(embeddings):
        Z = sp.csc_matrix(embeddings, dtype=np.float64)
        sums = np.asarray(Z.sum(axis=0)).ravel()
        squares = np.asarray(Z.multiply(Z).sum(axis=0)).ravel()
        entries = np.asarray((Z != 0).sum(axis=0), dtype=np.float64).ravel()
    else:
        Z = np.asarray(embeddings, dtype=np.float64)
        sums = Z.sum(axis=0)
        squares = np.einsum("ij,ij->j", Z, Z)
        entries = np.count_nonzero(Z, axis=0).astype(np.float64)
    return n, sums, squares, entries


def column_spread(moments):
    """Widest over narrowest column size (see :func:`warn_on_scale_spread`), and the two columns.

    Returns ``(1.0, None, None)`` when fewer than two columns have a non-zero entry.
    """
    _, _, squares, entries = moments
    sizes = np.sqrt(squares / np.maximum(entries, 1))
    present = np.flatnonzero(sizes > 0)
    if present.size < 2:
        return 1.0, None, None
    widest = present[np.argmax(sizes[present])]
    narrowest = present[np.argmin(sizes[present])]
    return float(sizes[widest] / sizes[narrowest]), widest, narrowest


def standardised_design(embeddings, moments, total=None):
    """The embedding centred and scaled to unit variance per column, with an intercept column.

    BAIT's design for raw features of very different units (see ``standardize``
    in :class:`BAIT`): the model's logits ``W z + b`` are the same linear
    function of ``(z - mean) / std`` and a constant 1, so this is the same
    model reparametrised, with ``reg``'s isotropic prior in standardised
    units, where it weighs every column alike. A constant column becomes 0
    (the intercept column carries it). ``moments`` are the whole pool's
    (:func:`column_moments`), and ``total`` sums a per-column array over the
    pool (the sharded BAIT's all-reduce; this array's own sum by default),
    so that every shard is standardised alike. The variance is summed from
    the centred values, which keeps its digits where the mean dwarfs it.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies._bait import column_moments, standardised_design
    >>> Z = np.array([[1.0, 100.0, 5.0], [3.0, 300.0, 5.0]])
    >>> standardised_design(Z, column_moments(Z))
    array([[-1., -1.,  0.,  1.],
           [ 1.,  1.,  0.,  1.]])
    """
    n, sums, squares, _ = moments
    n = max(n, 1)
    Z = embeddings.toarray() if sp.issparse(embeddings) else embeddings
    Z = np.asarray(Z, dtype=np.float64) - sums / n
    centred_squares = np.einsum("ij,ij->j", Z, Z)
    variance = (centred_squares if total is None else total(centred_squares)) / n
    # A constant column's variance is rounding noise (about 1e-32 of its mean
    # square), not zero: taken as constant below 1e-24 of it, it becomes 0.
    constant = variance <= 1e-24 * squares / n
    Z /= np.where(constant, np.inf, np.sqrt(variance))
    return np.hstack([Z, np.ones((Z.shape[0], 1))])


def reg_at_scale(mean_squared_norm, relative_reg=DEFAULT_RELATIVE_REG):
    """``lambda`` of ``reg="scale"`` from the pool's mean squared embedding norm.

    The one rule behind :func:`scaled_reg`, also applied by the sharded
    :func:`skbait.distributed.bait_select` to the mean it all-reduces.

    Parameters
    ----------
    mean_squared_norm : float
        The pool's mean ``||z_x||^2``.
    relative_reg : float, default=0.01
        ``lambda`` as a fraction of it (> 0).

    Returns
    -------
    float
        ``relative_reg * mean_squared_norm``, or ``relative_reg`` itself for a
        scale of zero (an all-zero embedding) or one that is not finite.

    Examples
    --------
    >>> from skbait.strategies._bait import reg_at_scale
    >>> reg_at_scale(12.5, 0.1), reg_at_scale(0.0, 0.1)
    (1.25, 0.1)
    """
    relative_reg = check_real("relative_reg", relative_reg, 0.0, strict=True)
    if not np.isfinite(mean_squared_norm) or mean_squared_norm <= 0.0:
        return relative_reg
    return relative_reg * mean_squared_norm


def check_standardize(standardize):
    """``standardize`` validated: ``"auto"``, ``True`` or ``False``."""
    if isinstance(standardize, (bool, np.bool_)):
        return bool(standardize)
    if isinstance(standardize, str) and standardize == "auto":
        return standardize
    raise ValueError(f"`standardize` must be 'auto', True or False, got {standardize!r}.")


def standardizes(standardize, reg, spread):
    """Whether BAIT works on the standardised design (see ``standardize`` in :class:`BAIT`).

    ``"auto"`` standardises with ``reg="scale"`` when the columns' sizes differ
    more than :data:`SCALE_SPREAD_WARNING`-fold; a numeric ``reg`` keeps the
    paper's embedding and the authors' selections.
    """
    if standardize == "auto":
        return isinstance(reg, str) and spread > SCALE_SPREAD_WARNING
    return standardize


def resolve_standardize(standardize, estimator, embedding):
    """``standardize`` as a strategy applies it: ``"auto"`` only on input features.

    Raw features come in units that say nothing of their importance; a
    network's hidden layer (or a user's ``embedding``) is learned, its
    columns' sizes are part of the model, and ``"auto"`` leaves it as it is.
    """
    if standardize == "auto" and (embedding is not None or not embeds_input_features(estimator)):
        return False
    return standardize


def pool_design(embeddings, reg, standardize, total=None):
    """The design BAIT works on: the embeddings as given, or the pool's standardised design.

    ``standardize`` is decided on the rows given (see :class:`BAIT`):
    :func:`_bait_select` calls this on the whole pool before it cuts the
    candidates, so that the candidates drawn do not change the design.
    ``total`` sums per-column arrays over every shard of a sharded pool (and
    the row count with them).

    Returns
    -------
    (embeddings, spread)
        ``spread`` is the columns' ``(spread, widest, narrowest)``
        (:func:`column_spread`) where they were measured and left as they
        are, for the warning of ``reg="scale"``; ``None`` otherwise.
    """
    standardize = check_standardize(standardize)
    embeddings, moments, spread = _pool_columns(embeddings, reg, standardize, total)
    if moments is not None and standardizes(standardize, reg, spread[0]):
        return standardised_design(embeddings, moments, total), None
    return embeddings, spread


def _pool_columns(embeddings, reg, standardize, total):
    """``(embeddings, moments, spread)`` that :func:`pool_design` decides on.

    ``standardize`` is checked (:func:`check_standardize`); ``moments`` and
    ``spread`` are ``None`` where nothing is measured (a numeric ``reg``
    without ``standardize=True``).
    """
    if not (isinstance(reg, str) or standardize is True):
        return embeddings, None, None
    if total is None:
        embeddings = check_pool_embeddings(embeddings)
        moments = column_moments(embeddings)
    else:
        n, sums, squares, entries = column_moments(embeddings)
        rows = np.full(sums.shape, float(n))
        sums, squares, entries, rows = total(np.stack([sums, squares, entries, rows]))
        moments = (int(rows[0] + 0.5), sums, squares, entries)
    return embeddings, moments, column_spread(moments)


def zero_rows_source(embeddings, reg, standardize, total=None):
    """The embedding whose all-zero rows BAIT's Fisher leaves without information.

    ``embeddings`` where BAIT works on them as given; ``None`` where it works
    on the standardised design (see :func:`pool_design`), whose intercept
    column gives every row information. ``total`` as in :func:`pool_design`.
    The design's choice is made without building the design.
    """
    standardize = check_standardize(standardize)
    _, moments, spread = _pool_columns(embeddings, reg, standardize, total)
    standardised = moments is not None and standardizes(standardize, reg, spread[0])
    return None if standardised else embeddings


def _absolute_reg(reg, relative_reg, embeddings, probas, standardize=False, design_made=False):
    """``reg`` as the absolute ``lambda`` the core takes, and the embeddings it applies to.

    A number is the paper's ``lambda``, passed on as is (the core validates
    it); ``"scale"`` is measured on the validated embeddings. With
    ``standardize`` (see :class:`BAIT`) the embeddings become the standardised
    design first (:func:`pool_design`); ``"scale"`` on columns too uneven for
    one isotropic ``lambda``, left as they are, warns. ``design_made``: the
    caller made the design of the whole pool and warned already (before
    cutting the candidates), and the embeddings are its rows.
    """
    if isinstance(reg, str):
        check_option("reg", reg, {"scale"})
    if not design_made:
        embeddings = _designed(embeddings, reg, standardize)
    if not isinstance(reg, str):
        return reg, embeddings
    return scaled_reg(embeddings, probas, relative_reg), embeddings


def _designed(embeddings, reg, standardize):
    """:func:`pool_design`'s design, with the warning of columns left too uneven."""
    embeddings, spread = pool_design(embeddings, reg, standardize)
    if spread is not None:
        warn_on_scale_spread(embeddings, spread)
    return embeddings


# A pool of n rows with D = k d has set-up products of about 3 n D^2
# operations. Up to this n D^2 (n = 1,000 at d = 32, k = 16), a second thread
# would save the set-up less than the busy-machine probe's pauses cost (about
# 10 ms): it runs without the probe, on what the last call's steps found
# faster (one thread if none ran within a second), and the steps time their
# own threads (StepThreads).
_ONE_THREAD_SIZE = 2.0**28


def _bait_select(
    embeddings,
    probas,
    labeled,
    batch_size,
    *,
    candidates=None,
    random_candidates=DEFAULT_RANDOM_CANDIDATES,
    **params,
):
    """:func:`bait_select` that also returns each chosen row's gain."""
    # Exact, and what keeps a HashingVectorizer's 2**20 columns from sizing the problem.
    embeddings = drop_empty_columns(embeddings)
    if candidates is not None:
        # The whole pool's design, decided (and warned about) once: the candidates drawn,
        # which change every round, change neither.
        embeddings = _designed(
            embeddings, params.get("reg", 1.0), params.get("standardize", "auto")
        )
        params["design_made"] = True
        restricted = candidate_pool(
            embeddings,
            probas,
            labeled,
            batch_size,
            candidates,
            random_candidates,
            params.get("random_state"),
        )
        if restricted is not None:
            embeddings, probas, labeled, kept = restricted
            chosen, gains = _bait_select(embeddings, probas, labeled, batch_size, **params)
            return kept[chosen], gains
    n, d, k = pool_shape(embeddings, probas)
    if n * (k * d) ** 2 > _ONE_THREAD_SIZE:
        return _bait_select_probed(embeddings, probas, labeled, batch_size, **params)
    max_threads = torch.get_num_threads()
    # What the last call's steps measured, else one thread; the steps time their own.
    with limited_threads(recent_step_threads(max_threads) or 1):
        run = _bait_plan(embeddings, probas, labeled, batch_size, **params)
    return run(max_threads)


@single_thread_when_busy
def _bait_select_probed(embeddings, probas, labeled, batch_size, **params):
    """:func:`_bait_select` of a large pool: one thread throughout while the machine is busy."""
    run = _bait_plan(embeddings, probas, labeled, batch_size, **params)
    return run(torch.get_num_threads())


def _bait_plan(
    embeddings,
    probas,
    labeled,
    batch_size,
    *,
    reg=1.0,
    relative_reg=DEFAULT_RELATIVE_REG,
    oversample=2,
    backward=True,
    fisher="pool",
    device=None,
    dtype=None,
    chunk_size=None,
    approximation="auto",
    memory_limit=4.0,
    random_state=None,
    standardize="auto",
    design_made=False,
):
    """BAIT's set-up (its products choose their own threads), and the steps still to run.

    ``design_made``: the embeddings are already the whole pool's design (see
    :func:`_absolute_reg`).

    Returns
    -------
    run : callable
        ``run(max_threads)`` runs the greedy's steps on at most
        ``max_threads`` threads and returns the chosen rows and their gains.
    """
    by_scale = isinstance(reg, str)
    reg, embeddings = _absolute_reg(
        reg, relative_reg, embeddings, probas, standardize, design_made=design_made
    )
    # reg="scale" chooses alike at every scale of the embedding: work at a unit
    # scale, so that float32 neither overflows nor underflows on huge or tiny ones.
    shift = 0
    if by_scale:
        reg, embeddings, shift = unit_scaled(embeddings, relative_reg)
    approx = resolve_approximation(
        approximation, *pool_shape(embeddings, probas), check_memory_limit(memory_limit), "BAIT"
    )
    problem = Problem(
        embeddings,
        probas,
        labeled,
        batch_size,
        reg=reg,
        device=device,
        dtype=dtype,
        approximation=approx,
        random_state=random_state,
    )
    oversample = check_real("oversample", oversample, 1.0, strict=False)
    if not isinstance(backward, (bool, np.bool_)):
        raise TypeError(f"`backward` must be a bool, got {backward!r}.")
    fisher = check_option("fisher", fisher, {"pool", "identity"})
    chunk_size = check_chunk_size(chunk_size)
    B = problem.batch_size
    cand = problem.candidates
    if cand.size <= B:
        # Nothing to choose: every unlabeled row goes, in pool order.
        return lambda max_threads: (cand.astype(np.int64), np.full(cand.size, np.nan))
    n_forward = forward_steps(oversample, B, cand.size, bool(backward))
    one_output = problem.pool.k == 1 and problem.pool.r == 1
    if problem.approximation is None and one_output and problem.device.type == "cpu":
        # One output (regression): two numbers per row, one pool product per step.
        M0, scale = problem.start(B)
        rows = torch.as_tensor(cand, device=problem.device)
        # v_x = s_x z_x, gathered straight into the (d, m) layout the greedy keeps
        VT = problem.pool.Z.T[:, rows]
        VT.mul_(problem.pool.S[rows, 0, 0] * scale)
        greedy = RankOneGreedy(VT.T, M0, problem.pool_fisher(fisher))
        # One pool product a step: threads by its size.
        rank_one_threads = threads_for_flops(4.0 * cand.size * problem.d)
    else:
        greedy = problem.greedy(B, problem.pool_fisher(fisher), "trace", chunk_size)
        rank_one_threads = None
    prune = n_forward > B

    def run(max_threads):
        if rank_one_threads is None:
            # Many small kernels a step: each phase times its steps on these
            # threads and on one, and keeps the faster (StepThreads).
            greedy.step_threads = max_threads
        with limited_threads(rank_one_threads):
            greedy.forward(n_forward, final_keep_picked=prune)
            if prune:
                greedy.backward(B)
        gains = np.asarray(greedy.gains)
        if fisher == "identity":
            # tr(M^-1) scales with the design: the gains of the embedding as given.
            gains = np.ldexp(gains, -2 * shift)
        return cand[np.asarray(greedy.picked, dtype=np.int64)], gains

    return run


def bait_select(
    embeddings,
    probas,
    labeled,
    batch_size,
    *,
    reg=1.0,
    relative_reg=DEFAULT_RELATIVE_REG,
    oversample=2,
    backward=True,
    fisher="pool",
    device=None,
    dtype=None,
    chunk_size=None,
    approximation="auto",
    memory_limit=4.0,
    random_state=None,
    candidates=None,
    random_candidates=DEFAULT_RANDOM_CANDIDATES,
    standardize="auto",
):
    """Choose a batch by BAIT from embeddings and class probabilities.

    The greedy design of the paper's Algorithm 1 as its reference
    implementation computes it, Kronecker-factored: the selections are those of
    the dense computation, at ``O(n d k^2 + n k^3)`` per greedy step instead of
    ``O(n k (kd)^2)``, with ``O(n (d + k^2) + (kd)^2)`` memory.

    With ``n`` pool rows, ``n_L`` of them labeled, batch size ``B``,
    pointwise Fisher ``I(x) = (diag(p) - p p^T) (x) z z^T`` (classification) or
    ``z z^T`` (regression, ``probas=None``):

    - pool Fisher ``F`` = mean of ``I(x)`` over the whole pool, labeled rows
      included (the identity with ``fisher="identity"``);
    - ``M_0 = reg I + n_L / (n_L + B)`` times the labeled rows' mean ``I(x)``;
    - each candidate's ``I(x)`` is scaled by ``B / (n_L + B)``;
    - forward: ``round(oversample * B)`` greedy steps, each adding the
      unlabeled row that most decreases ``tr(M^-1 F)``;
    - backward: removals among the picked rows, each raising ``tr(M^-1 F)``
      least, until ``B`` remain.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_dims)
        Last-layer embeddings of the WHOLE pool, labeled rows included.
    probas : array-like of shape (n_samples, n_classes) or None
        Predicted class probabilities (rows sum to one), or ``None`` for
        regression (single or multi-output: the rank-one Fisher of the
        embedding, paper eq. 6). A single column, or probabilities all 0 or
        1, give an all-zero Fisher: every score ties and the lowest indices
        are returned, as the reference implementation returns them (the
        :class:`BAIT` strategy draws at random there instead, with a
        warning).
    labeled : array-like of int or bool
        Indices of the labeled rows, or a boolean mask over the pool.
    batch_size : int
        Number of rows to return. When at most ``batch_size`` rows are
        unlabeled, all of them are returned in pool order.
    reg : float or "scale", default=1.0
        The regulariser ``lambda`` (> 0): a number is the paper's absolute
        ``lambda`` (the selections of the authors' code); ``"scale"`` is
        ``relative_reg`` times the pool's mean squared embedding norm (see
        :func:`scaled_reg`), the same choice at every scale of the
        embedding. :class:`BAIT` defaults to ``"scale"``.
    relative_reg : float, default=0.01
        With ``reg="scale"``: ``lambda`` as a fraction of the mean squared
        embedding norm (> 0). Ignored for a numeric ``reg``.
    oversample : float, default=2
        Forward steps per batch row (>= 1); ``round(oversample * B)``, rounded
        half up and capped at the number of unlabeled rows.
    backward : bool, default=True
        Prune the oversampled set back to ``B``. ``False`` is the forward-only
        variant: exactly ``B`` forward steps (``oversample`` is ignored).
    fisher : {"pool", "identity"}, default="pool"
        ``"identity"`` minimises ``tr(M^-1)``: the paper's "BAIT without I(theta)".
    device : {"auto", "cpu", "cuda", "cuda:N"}, torch.device or None, default=None
        ``None`` and ``"auto"`` use CUDA when available.
    dtype : {None, "float32", "float64"} or torch.dtype, default=None
        Computation dtype; ``None`` is float64.
    chunk_size : int, default=None
        Pool rows processed together; ``None`` picks a cache-friendly size.
    approximation : {"auto", "exact"} or FisherApproximation, default="auto"
        ``"auto"`` is exact when the ``(k d)^2`` matrices and the per-row
        state fit ``memory_limit``; otherwise it approximates the Fisher (a
        class subspace of 10 directions, then a reduced embedding; see
        :func:`~skbait.strategies.choose_approximation`) and says so in a
        ``UserWarning``. ``"exact"`` insists on the exact Fisher; a
        :class:`~skbait.strategies.FisherApproximation` sets one (Fast Fishing's binary
        likelihood or top-c expectation, a class subspace, a reduced
        embedding). An approximation is not exact BAIT: see "Scale" in the
        user guide for its measured fidelity.
    memory_limit : float, default=4.0
        GiB that ``"auto"`` lets the exact computation use.
    random_state : int, RandomState instance or None, default=None
        Seeds the random candidates and the randomized SVD of a reduced
        embedding; exact BAIT among every row draws nothing.
    candidates : float or None, default=None
        ``None`` considers every unlabeled row (the paper). A number ``c``
        (>= 0) first keeps the ``ceil(c * batch_size)`` unlabeled rows with
        the smallest margin between their two most probable classes and the
        random candidates below, and BAIT runs as if those rows and the
        labeled ones were the whole pool (its pool Fisher and
        ``reg="scale"``'s scale included): a hybrid of margin sampling and
        BAIT, and a cheaper round. Above 0 it needs class probabilities
        (regression takes 0, the random candidates alone); a single class
        ranks nothing and keeps every row.
    random_candidates : float, default=20
        With ``candidates``: ``ceil(random_candidates * batch_size)`` rows
        drawn uniformly (seeded by ``random_state``) from the other unlabeled
        rows join the candidates (>= 0; 0 for the uncertain rows alone). They
        keep the candidates' pool Fisher close to the whole pool's, and give
        BAIT rows to choose where the margin points at the wrong ones.
        Ignored when ``candidates`` is ``None``. When the candidates would
        number at least the unlabeled rows, every row is a candidate.
    standardize : "auto" or bool, default="auto"
        ``True``: BAIT works on the embedding standardised over the pool (each
        column centred and scaled to unit variance) with an intercept column
        added, the same model reparametrised (see ``standardize`` in
        :class:`BAIT`). ``"auto"`` does so with ``reg="scale"`` when the
        embedding's columns differ more than 100-fold in size (raw features
        of different units); with a numeric ``reg`` it keeps the embedding
        as given (the authors' selections). With candidates, the design is
        the whole pool's, made before they are cut from it.

    Returns
    -------
    indices : ndarray of shape (batch_size,), dtype=int64
        Distinct indices of unlabeled rows, in the order they were added.

    Notes
    -----
    Scores within a relative ``1e-9`` (``1e-5`` in float32) of the best are
    tied and the lowest pool index wins, so duplicate rows and CPU/CUDA runs
    choose alike. With one output (regression) on the CPU, the greedy keeps
    two numbers per row (``skbait._fisher.RankOneGreedy``): the same
    steps and choices at one pass over the pool per step.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import bait_select
    >>> rng = np.random.RandomState(0)
    >>> Z = rng.normal(size=(40, 3))
    >>> P = np.exp(Z @ rng.normal(size=(3, 4)))
    >>> P /= P.sum(axis=1, keepdims=True)
    >>> idx = bait_select(Z, P, labeled=np.arange(5), batch_size=4, device="cpu")
    >>> idx.shape, bool(np.all(idx >= 5)), np.unique(idx).size
    ((4,), True, 4)
    """
    indices, _ = _bait_select(
        embeddings,
        probas,
        labeled,
        batch_size,
        reg=reg,
        relative_reg=relative_reg,
        oversample=oversample,
        backward=backward,
        fisher=fisher,
        device=device,
        dtype=dtype,
        chunk_size=chunk_size,
        approximation=approximation,
        memory_limit=memory_limit,
        random_state=random_state,
        candidates=candidates,
        random_candidates=random_candidates,
        standardize=standardize,
    )
    return indices


def bait_objective(
    embeddings,
    probas,
    labeled,
    selected,
    *,
    reg=1.0,
    relative_reg=DEFAULT_RELATIVE_REG,
    fisher="pool",
    standardize="auto",
):
    """The BAIT objective ``tr(M^-1 F)`` of a chosen batch (lower is better).

    ``M = M_0 + B / (n_L + B) * sum of I(x) over the selected rows`` with
    ``B = len(selected)`` and ``M_0``, ``F`` as in :func:`bait_select`;
    computed densely in float64 on the CPU.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_dims)
    probas : array-like of shape (n_samples, n_classes) or None
    labeled : array-like of int or bool
    selected : array-like of int
        Indices of the chosen (unlabeled) rows.
    reg : float or "scale", default=1.0
    relative_reg : float, default=0.01
    fisher : {"pool", "identity"}, default="pool"
    standardize : "auto" or bool, default="auto"
        As in :func:`bait_select`: the objective of the design BAIT works on.

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
    >>> from skbait.strategies import bait_select
    >>> from skbait.strategies import bait_objective
    >>> rng = np.random.RandomState(0)
    >>> Z = rng.normal(size=(30, 2))
    >>> chosen = bait_select(Z, None, [0, 1], 3, device="cpu")
    >>> first = np.arange(2, 5)
    >>> bool(bait_objective(Z, None, [0, 1], chosen) <= bait_objective(Z, None, [0, 1], first))
    True
    """
    selected = np.asarray(selected)
    if selected.ndim != 1 or selected.size == 0 or not np.issubdtype(selected.dtype, np.integer):
        raise ValueError("`selected` must be a non-empty 1-d array of row indices.")
    reg, embeddings = _absolute_reg(reg, relative_reg, embeddings, probas, standardize)
    problem = Problem(
        embeddings, probas, labeled, int(selected.size), reg=reg, device="cpu", dtype=torch.float64
    )
    if selected.min() < 0 or selected.max() >= problem.n:
        raise ValueError("`selected` holds indices outside the pool.")
    fisher = check_option("fisher", fisher, {"pool", "identity"})
    M, scale = problem.start(int(selected.size))
    sel = torch.as_tensor(selected, device="cpu")
    chosen = problem.pool[sel].scaled(scale)
    M = M + kron_gram(chosen.Z, chosen.S).to(M.dtype)
    F = problem.pool_fisher(fisher)
    F = torch.eye(len(M), dtype=M.dtype, device=M.device) if F is None else F.to(M.dtype)
    # M = reg I plus information matrices: positive definite, so a Cholesky solve. Where
    # a tiny reg leaves it singular in float64 (the Cholesky fails), an LU solve still
    # gives the finite value the selection's own arithmetic reached.
    L, info = torch.linalg.cholesky_ex(M)
    solved = torch.cholesky_solve(F, L) if info == 0 else torch.linalg.solve(M, F)
    return float(torch.trace(solved))


class BAIT(QueryStrategy):
    """BAIT: choose the batch that most reduces ``tr(M^-1 F)``, the Fisher-weighted error.

    Batch Active learning via Information maTrices (Ash et al., NeurIPS 2021):
    a greedy forward-backward minimisation of the trace of the inverse
    last-layer Fisher information of the labeled set, weighted by the Fisher of
    the whole pool. Classifiers use the rank-``k`` Fisher from their predicted
    probabilities; regressors (single or multi-output) the rank-one Fisher of
    the embedding, ``z z^T`` (paper eq. 6). See :func:`bait_select` for the
    exact computation.

    Parameters
    ----------
    reg : "scale" or float, default="scale"
        The regulariser ``lambda`` of ``M = lambda I + ...``. ``"scale"``:
        ``relative_reg`` times the pool's mean squared embedding norm,
        measured every round (:func:`scaled_reg`), so that ``lambda`` weighs
        the same against the Fisher whatever the scale of the features
        (standardised or not) or of a network's hidden layer. A number is
        the paper's absolute ``lambda`` (it uses 1, and 0.01 for CIFAR-10),
        which selects the rows of the authors' code; see "Which strategy
        when" in the user guide for what each choice gives on real data.
    relative_reg : float, default=0.01
        ``lambda`` as a fraction of the mean squared embedding norm when
        ``reg="scale"`` (> 0); ignored for a numeric ``reg``.
    oversample : float, default=2
        Forward steps per batch row (>= 1) before pruning back.
    backward : bool, default=True
        Prune back to the batch size; ``False`` is the forward-only variant.
    fisher : {"pool", "identity"}, default="pool"
        ``"identity"`` drops the pool Fisher (the paper's ablation).
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
        ``"auto"`` follows the estimator's device, else CUDA when available.
    dtype : {None, "float32", "float64"} or torch.dtype, default=None
        ``None`` is float64.
    chunk_size : int, default=None
        Pool rows processed together (memory versus speed).
    approximation : {"auto", "exact"} or FisherApproximation, default="auto"
        ``"auto"`` is exact when the ``(k d)^2`` matrices and the per-row
        state fit ``memory_limit``; otherwise it approximates the Fisher (a
        class subspace of 10 directions, then a reduced embedding; see
        :func:`~skbait.strategies.choose_approximation`) and says so in a
        ``UserWarning``. ``"exact"`` insists on the exact Fisher; a
        :class:`~skbait.strategies.FisherApproximation` sets one (Fast Fishing's binary
        likelihood or top-c expectation, a class subspace, a reduced
        embedding). An approximation is not exact BAIT: see "Scale" in the
        user guide for its measured fidelity.
    memory_limit : float, default=4.0
        GiB that ``"auto"`` lets the exact computation use.
    candidates : "auto", float or None, default="auto"
        A number ``c`` (>= 0) first keeps the ``ceil(c * batch_size)``
        unlabeled rows with the smallest margin between the classifier's two
        most probable classes, adds the random candidates below, and runs
        BAIT on them and the labeled rows as if they were the pool: a hybrid
        of margin sampling and BAIT, and a round that costs a fraction of the
        exact one. ``None`` lets BAIT choose among every unlabeled row (the
        paper). ``"auto"`` is 20 for a classifier and 0 for a regressor
        (which has no margin: its candidates are the random ones; ``None``
        when ``random_candidates=0``) with ``reg="scale"``, and ``None``
        with a numeric ``reg``, so that
        ``BAIT(reg=1.0)`` stays the paper's BAIT. A number above 0 needs a
        classifier. See "Which strategy when" in the user guide for where
        the candidates pay and where they lose.
    random_candidates : float, default=20
        With candidates: ``ceil(random_candidates * batch_size)`` rows drawn
        uniformly (seeded by the ``random_state`` of
        :meth:`~skbait.QueryStrategy.select`) from the other unlabeled rows
        join them (>= 0; 0 for the uncertain rows alone). They keep the
        candidates' pool Fisher close to the whole pool's, give BAIT rows to
        choose where the margin points at the wrong ones, and keep a
        regressor's batch off the pool's rare extreme rows. Ignored without
        candidates.
    standardize : "auto" or bool, default="auto"
        ``True``: BAIT works on the embedding standardised over the pool (each
        column centred and scaled to unit variance) with an intercept column:
        the model's logits ``W z + b`` are the same function of that design,
        reparametrised, and ``reg``'s isotropic prior then weighs every
        column alike, whatever its units, so that BAIT chooses the same rows
        after any column is rescaled or shifted. ``"auto"`` does so with
        ``reg="scale"`` when the embedding is the model's input features (a
        linear model, or a pipeline ending in one) and their columns differ
        more than 100-fold in size (raw features in different units: wine
        quality's run from about 0.01 to about 300), where one isotropic
        ``lambda`` set by the widest columns would swamp the narrow ones. It
        leaves pixels, TF-IDF and standardised features (under 15-fold), a
        network's hidden layer and a custom ``embedding`` (learned, not
        measured in units) as they are, and a numeric ``reg`` keeps the
        paper's embedding.
        ``False`` never standardises (and ``reg="scale"`` warns about uneven
        columns). See "Which strategy when" in the user guide.

    Notes
    -----
    A classifier that knows a single class has one probability column and an
    all-zero Fisher; BAIT then falls back to the rank-one Fisher of the
    embedding (the regression case), which still spreads the batch over the
    embedding space. A row whose probabilities are all 0 or 1 (a
    1-nearest-neighbour model, an unpruned tree), or whose embedding is all
    zero (a document without a word of the vocabulary; unless BAIT works on
    the standardised design, whose intercept gives every row information), has
    zero Fisher information: when no unlabeled row has any, every score ties
    and BAIT would take the rows in a fixed order, so it draws the batch
    uniformly at random instead (seeded by ``random_state``), with a warning;
    when fewer rows than the batch have information, BAIT chooses those and
    draws the rest of the batch uniformly from the other unlabeled rows, with
    a warning. The utilities returned with ``return_utilities=True`` are each
    chosen row's decrease of ``tr(M^-1 F)`` at the forward step that added it
    (larger is better; 0 for a drawn row). Otherwise the selection depends on
    ``random_state`` only through the random candidates (and a reduced
    embedding's randomized SVD): ``BAIT(reg=1.0)``, ``candidates=None`` and
    ``random_candidates=0`` are deterministic.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.strategies import BAIT
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(100, 3))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> model = LogisticRegression().fit(X[:10], y[:10])
    >>> idx = BAIT(device="cpu").select(model, X, labeled=np.arange(10), batch_size=5)
    >>> idx.shape, bool(np.all(idx >= 10))
    ((5,), True)
    """

    _parameter_constraints: dict = {
        "reg": [StrOptions({"scale"}), Interval(Real, 0, None, closed="neither")],
        "relative_reg": [Interval(Real, 0, None, closed="neither")],
        "oversample": [Interval(Real, 1, None, closed="left")],
        "backward": ["boolean"],
        "fisher": [StrOptions({"pool", "identity"})],
        "device": [str, torch.device],
        "dtype": [None, StrOptions({"float32", "float64"}), type, np.dtype, torch.dtype],
        "chunk_size": [None, Interval(Integral, 1, None, closed="left")],
        "approximation": [StrOptions({"auto", "exact"}), FisherApproximation],
        "memory_limit": [Interval(Real, 0, None, closed="neither")],
        "candidates": [None, StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "random_candidates": [Interval(Real, 0, None, closed="left")],
        "standardize": [StrOptions({"auto"}), "boolean"],
    }

    def __init__(
        self,
        *,
        reg="scale",
        relative_reg=DEFAULT_RELATIVE_REG,
        oversample=2,
        backward=True,
        fisher="pool",
        device="auto",
        dtype=None,
        chunk_size=None,
        approximation="auto",
        memory_limit=4.0,
        candidates="auto",
        random_candidates=DEFAULT_RANDOM_CANDIDATES,
        standardize="auto",
    ):
        self.reg = reg
        self.relative_reg = relative_reg
        self.oversample = oversample
        self.backward = backward
        self.fisher = fisher
        self.device = device
        self.dtype = dtype
        self.chunk_size = chunk_size
        self.approximation = approximation
        self.memory_limit = memory_limit
        self.candidates = candidates
        self.random_candidates = random_candidates
        self.standardize = standardize

    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.needs_embedding = True
        tags.sparse_embedding = True
        # Random candidates and a reduced embedding (a seeded randomized SVD) draw
        # random numbers; "auto" reduces the embedding only when exact BAIT cannot
        # fit in memory.
        reduced = (
            isinstance(self.approximation, FisherApproximation)
            and self.approximation.embedding_dims is not None
        )
        candidates = resolve_candidates(
            self.candidates, self.reg, random_candidates=self.random_candidates
        )
        drawn = candidates is not None and self.random_candidates != 0
        tags.deterministic = not (reduced or drawn)
        return tags

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        Z, P = fisher_inputs(estimator, X, embedding, "BAIT")
        standardize = resolve_standardize(self.standardize, estimator, embedding)
        candidates = resolve_candidates(
            self.candidates,
            self.reg,
            random_candidates=self.random_candidates,
            has_classes=P is not None,
            single_class=P is None and is_classifier(estimator),
        )
        return select_informative(
            lambda: _bait_select(
                Z,
                P,
                labeled,
                batch_size,
                reg=self.reg,
                relative_reg=self.relative_reg,
                oversample=self.oversample,
                backward=self.backward,
                fisher=self.fisher,
                device=resolve_device(self.device, estimator=estimator),
                dtype=self.dtype,
                chunk_size=self.chunk_size,
                approximation=self.approximation,
                memory_limit=self.memory_limit,
                random_state=random_state,
                candidates=candidates,
                random_candidates=self.random_candidates,
                standardize=standardize,
            ),
            "BAIT",
            None if P is None else check_probas(P, Z.shape[0]),
            labeled,
            batch_size,
            random_state,
            zero_rows_source(Z, self.reg, standardize),
        )
