"""Selection over a pool sharded across the ranks of a ``torch.distributed`` group.

Each function here is SPMD: call it on every rank of an initialised process
group (``torch.distributed.init_process_group``, as ``torchrun`` sets up), with
that rank's *shard* of the pool, in the same order on every rank and with the
same parameters. The pool is the concatenation of the shards in rank order;
every rank returns the same indices into that concatenation. Shards may be
uneven, and some may be empty.

``labeled`` is given per shard: indices into the rank's own rows (or a boolean
mask over them). Row ``i`` of rank ``r`` is row ``offset_r + i`` of the pool,
where ``offset_r`` is the number of rows on the ranks before ``r``
(:func:`shard_offsets`).

No rank ever holds the whole pool. What travels is small: the ``(k d) x (k d)``
pool Fisher and starting design of BAIT, once; then per greedy step a few
scalars (the best local candidate's score and index) and the winner's factors
(``d + k`` numbers). The picks are those of the single-process functions of
:mod:`skbait.strategies` on the concatenated pool; see each function for the
rounding caveats.

Inputs are checked on every rank, and an error on any rank is raised on all of
them (naming the rank), so that a bad shard never leaves the others waiting in
a collective.
"""

# One concern per module: _comm (the group, errors on every rank, global reductions),
# _pool (a rank's checked shard and the pool's layout), one module per selection
# (_bait, _coreset, _badge, _uncertainty) and _round (fit on rank 0, embed, select).
from skbait.distributed._badge import badge_select
from skbait.distributed._bait import bait_select
from skbait.distributed._comm import shard_offsets
from skbait.distributed._coreset import coreset_select
from skbait.distributed._round import fit_and_select
from skbait.distributed._uncertainty import uncertainty_select

__all__ = [
    "badge_select",
    "bait_select",
    "coreset_select",
    "fit_and_select",
    "shard_offsets",
    "uncertainty_select",
]
