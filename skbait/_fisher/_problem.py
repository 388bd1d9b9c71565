"""From validated arrays to the greedy's inputs: ``M_0``, the pool Fisher and the candidates.

The one module of the core that sees NumPy arrays: the strategies
(:mod:`skbait.strategies._bait`, :mod:`skbait.strategies._logdet`) turn an
estimator into arrays (:func:`skbait.strategies._fisher_inputs.fisher_inputs`),
validate them here and get a ready :class:`~skbait._fisher.KroneckerGreedy`.
BAIT's ``M_0`` and the candidates' scale are set in one place,
:func:`design_start`, for every caller (the approximations' greedy too).
"""

import math

import numpy as np
import scipy.sparse as sp
import torch

from skbait._fisher._factors import Factors
from skbait._fisher._greedy import KroneckerGreedy
from skbait._fisher._kron import kron_gram
from skbait._fisher._objectives import LogDetObjective, TraceObjective
from skbait.utils import resolve_device, resolve_dtype
from skbait.utils._sparse import check_pool_embeddings
from skbait.utils._threads import dense_threads, limited_threads
from skbait.utils._validation import (
    as_labeled_mask,
    check_batch_size,
    check_probas,
    check_real,
)

__all__ = ["Problem", "design_start", "forward_steps"]


def forward_steps(oversample, batch_size, n_candidates, backward):
    """BAIT's forward steps: ``round(oversample * B)``, rounded half up, at most the candidates.

    Without a backward phase, exactly ``B``. Round half up, so that
    ``1.5 * 3 = 4.5`` gives 5 on every platform.
    """
    if not backward:
        return batch_size
    return min(math.floor(oversample * batch_size + 0.5), n_candidates)


def design_start(labeled_information, n_labeled, n_selected, reg):
    """BAIT's ``M_0`` and the candidates' scale for a batch of ``n_selected`` rows.

    ``M_0 = reg I + (n_L / (n_L + B))`` times the labeled rows' mean
    information, and each candidate's information is scaled by
    ``B / (n_L + B)`` (its factor by the square root): the design is the
    average over the ``n_L + B`` rows labeled after this round, plus the
    regulariser (the reference implementation's convention). The one place
    that sets it: :class:`Problem`, the approximations' greedy, the sharded
    greedy, multi-label BAIT (one ``d x d`` block per label) and the
    benchmarks call it.

    Parameters
    ----------
    labeled_information : torch.Tensor of shape (k d, k d) or (K, d, d)
        The labeled rows' summed information (:func:`~skbait._fisher.kron_gram`,
        or multi-label BAIT's blocks), float64; divided in place and returned
        as ``M_0``.
    n_labeled, n_selected : int
    reg : float

    Returns
    -------
    M0 : torch.Tensor of shape (k d, k d) or (K, d, d)
    scale : float
        What each candidate's factor is multiplied by.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import design_start
    >>> M0, scale = design_start(torch.full((2, 2), 3.0, dtype=torch.float64), 3, 1, reg=0.5)
    >>> M0.tolist(), scale
    ([[1.25, 0.75], [0.75, 1.25]], 0.5)
    """
    with limited_threads(dense_threads(labeled_information.shape[-1])):
        labeled_information.div_(n_labeled + n_selected)
        labeled_information.diagonal(dim1=-2, dim2=-1).add_(reg)
    return labeled_information, math.sqrt(n_selected / (n_labeled + n_selected))


class Problem:
    """A validated pool: its factors, the candidates and the ``M_0`` / scaling convention.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_dims)
    probas : array-like of shape (n_samples, n_classes) or None
        ``None`` for regression (the rank-one ``z z^T``).
    labeled : array-like of int or bool
    batch_size : int
    reg : float
    device, dtype
        As :func:`~skbait.strategies.bait_select` takes them.
    factors : {"bait", "rank1"}, default="bait"
        The pointwise information of a classification row.
    approximation : FisherApproximation or None, default=None
        Work on an approximated Fisher (:mod:`skbait._approximations`); the
        embeddings may then be sparse.
    random_state : int, RandomState instance or None, default=None
        Seeds the approximation's randomized SVD.

    Attributes
    ----------
    pool : Factors
        Every row of the pool, unscaled, in the working dtype.
    candidates : ndarray of int
        The unlabeled rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait._fisher import Problem
    >>> Z = np.random.RandomState(0).normal(size=(10, 2))
    >>> problem = Problem(Z, None, [0, 1], 3, reg=1.0, device="cpu", dtype=None)
    >>> greedy = problem.greedy(3, problem.pool_fisher("pool"), "trace", None)
    >>> greedy.forward(3)
    >>> len(greedy.picked), problem.candidates.size
    (3, 8)
    """

    def __init__(
        self,
        embeddings,
        probas,
        labeled,
        batch_size,
        *,
        reg,
        device,
        dtype,
        factors="bait",
        approximation=None,
        random_state=None,
    ):
        Z = check_pool_embeddings(embeddings)
        n = Z.shape[0]
        P = check_probas(probas, n)
        self.batch_size = check_batch_size(batch_size)
        self.reg = check_real("reg", reg, 0.0, strict=True)
        self.labeled = as_labeled_mask(labeled, n)
        self.candidates = np.flatnonzero(~self.labeled)
        if self.candidates.size == 0:
            raise ValueError("Every row of the pool is labeled: there is nothing left to select.")
        self.n, self.d = Z.shape
        self.n_labeled = n - self.candidates.size
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype)
        self.approximation = None
        if approximation is not None:
            # An approximated Fisher (skbait._approximations): generic factors
            # in the approximation's coordinates, the greedy exact on them.
            approx = approximation.fit_transform(
                Z, P, random_state, kind=factors, dtype=self.dtype, device=self.device
            )
            self.pool = Factors.generic(approx.Z, approx.S)
            self.approximation = approx
            self.d, self.k = self.pool.d, self.pool.k
            return
        if sp.issparse(Z):
            # Exact on a sparse embedding: the (k d)^2 matrices dwarf a dense copy.
            Z = Z.toarray()
        Z = torch.as_tensor(Z, device=self.device).to(self.dtype)
        if P is None:
            self.pool = Factors.regression(Z)
        else:
            P = torch.as_tensor(P, device=self.device).to(self.dtype)
            self.pool = Factors.bait(Z, P) if factors == "bait" else Factors.rank1(Z, P)
        self.k = self.pool.k

    def start(self, n_selected):
        """M_0 and the candidates' scale for ``n_selected`` rows (:func:`design_start`)."""
        lab = self.pool[np.flatnonzero(self.labeled)]
        # float64: the regulariser must survive being added to O(1) entries.
        labeled_information = kron_gram(lab.Z.double(), lab.S.double())
        return design_start(labeled_information, self.n_labeled, n_selected, self.reg)

    def pool_fisher(self, fisher):
        """The pool Fisher ``F`` (mean information of every row), or ``None`` for the identity."""
        if fisher == "identity":
            return None
        F = kron_gram(self.pool.Z, self.pool.S)
        with limited_threads(dense_threads(self.k * self.d)):
            return F.div_(self.n)

    def greedy(self, n_selected, F, objective, chunk_size):
        """A :class:`KroneckerGreedy` over the candidates for a batch of ``n_selected``.

        ``objective`` is ``"trace"`` (with the pool Fisher ``F``, ``None`` for
        the identity) or ``"logdet"``.
        """
        M0, scale = self.start(n_selected)
        cand = self.pool[self.candidates].scaled(scale)
        objective = TraceObjective(F) if objective == "trace" else LogDetObjective()
        return KroneckerGreedy(cand, M0, objective, chunk_size=chunk_size)
