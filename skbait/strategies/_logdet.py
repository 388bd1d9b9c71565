"""Greedy log-determinant designs: the paper's determinantal rivals of BAIT (appendix B)."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from skbait._approximations import (
    FisherApproximation,
    check_memory_limit,
    pool_shape,
    resolve_approximation,
)
from skbait._fisher import Problem
from skbait.base import QueryStrategy
from skbait.strategies._fisher_inputs import fisher_inputs, select_informative
from skbait.utils import resolve_device
from skbait.utils._sparse import drop_empty_columns
from skbait.utils._threads import single_thread_when_busy
from skbait.utils._validation import check_chunk_size, check_option, check_probas

__all__ = ["LogDet", "logdet_select"]


@single_thread_when_busy
def _logdet_select(
    embeddings,
    probas,
    labeled,
    batch_size,
    *,
    fisher="full",
    reg=1.0,
    device=None,
    dtype=None,
    chunk_size=None,
    approximation="auto",
    memory_limit=4.0,
    random_state=None,
):
    """:func:`logdet_select` that also returns each chosen row's log-det gain."""
    fisher = check_option("fisher", fisher, {"full", "rank1"})
    # Exact: a column no row uses adds no information (see drop_empty_columns).
    embeddings = drop_empty_columns(embeddings)
    approx = resolve_approximation(
        approximation, *pool_shape(embeddings, probas), check_memory_limit(memory_limit), "LogDet"
    )
    problem = Problem(
        embeddings,
        probas,
        labeled,
        batch_size,
        reg=reg,
        device=device,
        dtype=dtype,
        factors="bait" if fisher == "full" else "rank1",
        approximation=approx,
        random_state=random_state,
    )
    chunk_size = check_chunk_size(chunk_size)
    B = problem.batch_size
    cand = problem.candidates
    if cand.size <= B:
        return cand.astype(np.int64), np.full(cand.size, np.nan)
    greedy = problem.greedy(B, None, "logdet", chunk_size)
    greedy.step_threads = torch.get_num_threads()  # each step timed on these and on one
    greedy.forward(B)
    return cand[np.asarray(greedy.picked, dtype=np.int64)], np.asarray(greedy.gains)


def logdet_select(
    embeddings,
    probas,
    labeled,
    batch_size,
    *,
    fisher="full",
    reg=1.0,
    device=None,
    dtype=None,
    chunk_size=None,
    approximation="auto",
    memory_limit=4.0,
    random_state=None,
):
    """Choose a batch by greedy maximisation of ``log det(M + I(x))``.

    The paper's Algorithm 3 (``fisher="full"``: the pointwise Fisher
    ``I(x) = (diag(p) - p p^T) (x) z z^T``) and Algorithm 2 (``fisher="rank1"``:
    the BADGE gradient ``g_x = (p - e_yhat) (x) z``, ``yhat = argmax p``, lowest
    class on ties), with the matrix determinant lemma
    ``det(M + V V^T) = det(M) det(I + V^T M^-1 V)`` and Woodbury updates,
    Kronecker-factored like :func:`~skbait.strategies.bait_select`.

    The starting design follows BAIT's convention, so that the two compare on
    equal terms: ``M_0 = reg I + n_L / (n_L + B)`` times the labeled rows' mean
    information (of the same kind as the candidates'), and each candidate's
    information is scaled by ``B / (n_L + B)``. For regression
    (``probas=None``) both kinds use the rank-one ``z z^T``, as BAIT does.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_dims)
        Last-layer embeddings of the whole pool, labeled rows included.
    probas : array-like of shape (n_samples, n_classes) or None
        Class probabilities, or ``None`` for regression.
    labeled : array-like of int or bool
        Indices of the labeled rows, or a boolean mask.
    batch_size : int
        When at most ``batch_size`` rows are unlabeled, all are returned.
    fisher : {"full", "rank1"}, default="full"
    reg : float, default=1.0
        Regulariser (> 0).
    device : {"auto", "cpu", "cuda", "cuda:N"}, torch.device or None, default=None
    dtype : {None, "float32", "float64"} or torch.dtype, default=None
    chunk_size : int, default=None
        Pool rows processed together (memory versus speed); ``None`` picks a
        cache-friendly size.
    approximation : {"auto", "exact"} or FisherApproximation, default="auto"
        ``"auto"`` is exact when the ``(k d)^2`` matrices and the per-row
        state fit ``memory_limit``; otherwise it approximates the Fisher (a
        class subspace of 10 directions, then a reduced embedding; see
        :func:`~skbait.strategies.choose_approximation`) and says so in a
        ``UserWarning``. ``"exact"`` insists on the exact Fisher; a
        :class:`~skbait.strategies.FisherApproximation` sets one (Fast Fishing's binary
        likelihood or top-c expectation, a class subspace, a reduced
        embedding). An approximation is not exact LogDet: see "Scale" in the
        user guide for its measured fidelity.
    memory_limit : float, default=4.0
        GiB that ``"auto"`` lets the exact computation use.
    random_state : int, RandomState instance or None, default=None
        Seeds the randomized SVD of a reduced embedding (the only random
        step; exact LogDet draws nothing).

    Returns
    -------
    indices : ndarray of shape (batch_size,), dtype=int64
        In the order they were added; near-ties go to the lowest index.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.strategies import logdet_select
    >>> Z = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 0.1]])
    >>> logdet_select(Z, None, labeled=[], batch_size=2, device="cpu")
    array([2, 1])
    """
    indices, _ = _logdet_select(
        embeddings,
        probas,
        labeled,
        batch_size,
        fisher=fisher,
        reg=reg,
        device=device,
        dtype=dtype,
        chunk_size=chunk_size,
        approximation=approximation,
        memory_limit=memory_limit,
        random_state=random_state,
    )
    return indices


class LogDet(QueryStrategy):
    """Greedy log-determinant design: the paper's determinantal rivals of BAIT.

    Adds, one at a time, the row that most increases ``log det`` of the
    information of the labeled set (appendix B): with the full pointwise Fisher
    (``fisher="full"``, Algorithm 3) or with the rank-one BADGE gradient
    (``fisher="rank1"``, Algorithm 2). Unlike BAIT it ignores the pool's
    Fisher; see :func:`logdet_select` for the exact computation and the
    ``M_0`` convention it shares with BAIT.

    Parameters
    ----------
    fisher : {"full", "rank1"}, default="full"
        The pointwise information of a classification row. Regressors always
        use the embedding's rank-one ``z z^T``.
    reg : float, default=1.0
        The regulariser ``lambda`` (> 0).
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
    dtype : {None, "float32", "float64"} or torch.dtype, default=None
    chunk_size : int, default=None
        Pool rows processed together (memory versus speed); ``None`` picks a
        cache-friendly size.
    approximation : {"auto", "exact"} or FisherApproximation, default="auto"
        ``"auto"`` is exact when the ``(k d)^2`` matrices and the per-row
        state fit ``memory_limit``; otherwise it approximates the Fisher (a
        class subspace of 10 directions, then a reduced embedding; see
        :func:`~skbait.strategies.choose_approximation`) and says so in a
        ``UserWarning``. ``"exact"`` insists on the exact Fisher; a
        :class:`~skbait.strategies.FisherApproximation` sets one (Fast Fishing's binary
        likelihood or top-c expectation, a class subspace, a reduced
        embedding). An approximation is not exact LogDet: see "Scale" in the
        user guide for its measured fidelity.
    memory_limit : float, default=4.0
        GiB that ``"auto"`` lets the exact computation use.

    Notes
    -----
    A classifier that knows a single class has no gradient information; the
    strategy then uses the embedding's rank-one ``z z^T``, as for regression.
    Utilities are each chosen row's gain in ``log det`` when it was added. The
    selection is deterministic (``random_state`` is not used), except where
    probabilities of 0 or 1 (a 1-nearest-neighbour model, an unpruned tree) or
    an all-zero embedding leave rows without information, whose gains all tie
    at zero: when no unlabeled row has any, the batch is drawn uniformly at
    random (seeded by ``random_state``) with a warning, where the greedy would
    take the rows in index order; when fewer rows than the batch have
    information, the greedy chooses those and the rest of the batch is drawn
    uniformly from the other unlabeled rows, with a warning. The drawn rows'
    utilities are 0. :func:`logdet_select` keeps the tie rule (lowest index).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.strategies import LogDet
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = LogisticRegression().fit(X[:20], y[:20])
    >>> idx = LogDet(fisher="rank1", device="cpu").select(model, X, np.arange(20), 4)
    >>> idx.shape
    (4,)
    """

    _parameter_constraints: dict = {
        "fisher": [StrOptions({"full", "rank1"})],
        "reg": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device],
        "dtype": [None, StrOptions({"float32", "float64"}), type, np.dtype, torch.dtype],
        "chunk_size": [None, Interval(Integral, 1, None, closed="left")],
        "approximation": [StrOptions({"auto", "exact"}), FisherApproximation],
        "memory_limit": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        fisher="full",
        *,
        reg=1.0,
        device="auto",
        dtype=None,
        chunk_size=None,
        approximation="auto",
        memory_limit=4.0,
    ):
        self.fisher = fisher
        self.reg = reg
        self.device = device
        self.dtype = dtype
        self.chunk_size = chunk_size
        self.approximation = approximation
        self.memory_limit = memory_limit

    def __skbait_tags__(self):
        tags = super().__skbait_tags__()
        tags.needs_embedding = True
        tags.sparse_embedding = True
        # Only a reduced embedding (a seeded randomized SVD) draws random numbers;
        # "auto" reduces the embedding only when exact BAIT cannot fit in memory.
        tags.deterministic = not (
            isinstance(self.approximation, FisherApproximation)
            and self.approximation.embedding_dims is not None
        )
        return tags

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        Z, P = fisher_inputs(estimator, X, embedding, "LogDet")
        return select_informative(
            lambda: _logdet_select(
                Z,
                P,
                labeled,
                batch_size,
                fisher=self.fisher,
                reg=self.reg,
                device=resolve_device(self.device, estimator=estimator),
                dtype=self.dtype,
                chunk_size=self.chunk_size,
                approximation=self.approximation,
                memory_limit=self.memory_limit,
                random_state=random_state,
            ),
            "LogDet",
            None if P is None else check_probas(P, Z.shape[0]),
            labeled,
            batch_size,
            random_state,
            Z,
        )
