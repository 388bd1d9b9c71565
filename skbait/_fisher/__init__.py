"""Kronecker-factored last-layer Fisher information and the greedy designs built on it.

Torch and NumPy arrays only, below the strategies: :mod:`skbait.strategies`
turns estimators into arrays (``skbait.strategies._fisher_inputs``) and calls
into here; the core imports nothing from skbait but :mod:`skbait.utils`.

Notation. A pool of ``n`` rows has last-layer embeddings ``z`` (``d``) and, for
``k`` outputs, a *factor* ``S_x`` (``k x r``). The pointwise information of a
row is ``I(x) = V_x V_x^T`` with ``V_x = S_x (x) z_x``, a ``(k d) x r`` matrix
that is never formed: coordinates are class-major (``a * d + i``).

- BAIT, classification: ``S = (I - p 1^T) diag(sqrt p)``, ``r = k``, so that
  ``S S^T = diag(p) - p p^T`` (column ``c`` of ``V`` is
  ``sqrt(p_c) (e_c - p) (x) z``, the reference's ``V_x``); the greedy keeps
  it without its null column, ``r = k - 1`` (:func:`reduced_bait_factors`).
- Regression (any number of outputs, paper eq. 6): ``k = r = 1``, ``S = [[1]]``.
- Rank-one BADGE gradient: ``S = p - e_yhat``, ``r = 1``.

The greedy keeps ``G = M^-1`` and, for every row, ``P_x = V_x^T G V_x`` and
(for the trace objective) ``Q_x = V_x^T G F G V_x``, both ``r x r``. After a
row is added to or removed from the design, ``G`` moves by a rank-``r`` term
``s L L^T`` and every ``P_x``, ``Q_x`` moves by products of ``V_x^T L`` -- one
matmul ``Z @ L`` for the whole pool, in chunks -- so a step costs
``O(n d k r + n k r^2)`` instead of the ``O(n k (kd)^2)`` of re-multiplying
``V_x^T G F G V_x``. Memory stays ``O(n (d + k r) + (kd)^2)``.

One module per concern:

- ``_linalg``: small helpers every module may use (chunks of rows,
  symmetrising, the inverse from a Cholesky factor, threads for a chunk's
  product, class pairs);
- ``_kron``: the two Kronecker operations (:func:`kron_gram`,
  :func:`block_quadratic`) and the choice among their code paths, each in
  its own module: ``_kron_dense`` (one output; few classes in float64, one
  GEMM per class pair), ``_kron_packed`` (class pairs by coordinate pairs
  ``i <= j``) and ``_kron_tiled`` (wide embeddings, by tile or tile pair);
- ``_factors``: the factors (:func:`bait_factors`, :func:`reduced_bait_factors`,
  :func:`rank1_factors`, :func:`regression_factors`) and :class:`Factors`,
  which keeps ``Z``, ``S``, ``structure``, ``probas`` and ``scale``
  consistent;
- ``_lazy``: ``LazySymmetric``, a symmetric matrix whose low-rank moves
  wait and are applied in bulk (``G``, and the trace objective's ``G F G``);
- ``_design``: :class:`Design`, ``M`` and ``G = M^-1`` with their rank-``r``
  updates from a row's own factors, and the numerical guards;
- ``_rows``: :class:`TrackedRows`, the per-row ``[P_x; Qh_x]`` and their
  chunked update, scored in the same pass;
- ``_objectives``: :class:`TraceObjective` (BAIT) and
  :class:`LogDetObjective`, what a row is worth from its ``r x r`` state;
- ``_bounds``: the trace objective's bounds, one node and two or three by
  Gauss quadrature;
- ``_moving_gfg``: what moves with ``G`` for an objective (the ``G F G``
  the trace objective keeps on a large design, with its check);
- ``_greedy``: :class:`KroneckerGreedy`, forward and backward phases, and the
  one hook that chooses a row (:meth:`KroneckerGreedy.choose`);
- ``_rank_one``: :class:`RankOneGreedy`, BAIT's greedy for one output
  (``k = r = 1``), two scalars per row and one pool product per step;
- ``_multilabel``: ``MultiLabelGreedy``, BAIT's greedy for ``K``
  independent sigmoid outputs, two scalars per row and label;
- ``_scalar_phases``: the forward and backward phases those two share (the
  tie rule, rebuilds for undefined rows, the rows tracked for removal);
- ``_problem``: :class:`Problem`, from validated arrays to the pool Fisher
  and a greedy, and :func:`design_start`, the one place that sets BAIT's
  ``M_0`` and the candidates' scale.

The life of one greedy step (what each object holds, what an add and a
remove read and cost, where the checks sit) is told with a figure in the
user guide, "BAIT in depth".
"""

from skbait._fisher._design import Design, IllConditionedError, LowRank
from skbait._fisher._factors import (
    Factors,
    bait_factors,
    rank1_factors,
    reduced_bait_factors,
    regression_factors,
)
from skbait._fisher._greedy import Choice, KroneckerGreedy, rel_tolerance
from skbait._fisher._kron import block_quadratic, kron_gram
from skbait._fisher._objectives import LogDetObjective, TraceObjective
from skbait._fisher._problem import Problem, design_start, forward_steps
from skbait._fisher._rank_one import RankOneGreedy
from skbait._fisher._rows import TrackedRows

__all__ = [
    "Choice",
    "Design",
    "Factors",
    "IllConditionedError",
    "KroneckerGreedy",
    "LogDetObjective",
    "LowRank",
    "Problem",
    "RankOneGreedy",
    "TraceObjective",
    "TrackedRows",
    "bait_factors",
    "block_quadratic",
    "design_start",
    "forward_steps",
    "kron_gram",
    "rank1_factors",
    "reduced_bait_factors",
    "regression_factors",
    "rel_tolerance",
]
