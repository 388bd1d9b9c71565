"""One whole round over a sharded pool: fit on rank 0, embed on every rank, select."""

import copy
import inspect
import pickle
import warnings

import numpy as np
import scipy.sparse as sp
import torch
import torch.distributed as dist
from sklearn.base import clone, is_classifier
from sklearn.utils import _safe_indexing, check_random_state

from skbait._skorch import check_train_split, kept_torch_draws
from skbait.base import as_labeled_mask, n_rows
from skbait.distributed._badge import badge_select
from skbait.distributed._bait import _summed_over_ranks, bait_select
from skbait.distributed._comm import Group, error_report, host, raise_everywhere, rebuild_error
from skbait.distributed._coreset import coreset_select
from skbait.distributed._pool import ShardedPool
from skbait.distributed._uncertainty import uncertainty_select
from skbait.embeddings import embed
from skbait.strategies._badge import SINGLE_CLASS_WARNING as BADGE_SINGLE_CLASS_WARNING
from skbait.strategies._badge import no_gradient_message
from skbait.strategies._bait import resolve_standardize, zero_rows_source
from skbait.strategies._candidates import DEFAULT_RANDOM_CANDIDATES, resolve_candidates
from skbait.strategies._fisher_inputs import (
    informative_rows,
    no_information_message,
    nonzero_rows,
    partly_informative_message,
)
from skbait.strategies._uncertainty import (
    SINGLE_CLASS_WARNING as UNCERTAINTY_SINGLE_CLASS_WARNING,
)
from skbait.utils._seeds import draw_seed
from skbait.utils._validation import (
    check_option,
)
from skbait.utils._warnings import caller_stacklevel

_SELECTIONS = {
    "bait": bait_select,
    "badge": badge_select,
    "coreset": coreset_select,
    "uncertainty": uncertainty_select,
}
_STRATEGIES = tuple(_SELECTIONS)
# Arguments fit_and_select passes itself: not strategy_params.
_OWN_ARGUMENTS = ("embeddings", "probas", "labeled", "batch_size", "group", "random_state")


def fit_and_select(
    estimator,
    X,
    y,
    labeled,
    batch_size,
    *,
    strategy="bait",
    strategy_params=None,
    embedding=None,
    random_state=None,
    group=None,
):
    """One active-learning round over a sharded pool: fit on rank 0, select everywhere (SPMD).

    1. The labeled rows of every shard (and their labels) are gathered on
       rank 0, in pool order, and rank 0 fits a clone of ``estimator`` on
       them.
    2. The fitted estimator is broadcast to every rank (pickled by
       ``torch.distributed.broadcast_object_list``; scikit-learn
       estimators and skorch nets both pickle).
    3. Every rank embeds its own shard with :func:`skbait.embeddings.embed`
       (the registered rule for the estimator's family, or ``embedding``).
    4. The sharded selection runs: :func:`bait_select`, :func:`badge_select`,
       :func:`coreset_select` or :func:`uncertainty_select`.

    Only the labeled rows travel to rank 0; the unlabeled rows never leave
    their rank.

    Parameters
    ----------
    estimator : estimator instance
        Unfitted (or fitted: it is cloned) scikit-learn estimator or skorch
        net. Only rank 0's is used.
    X : array-like of shape (n_local, ...)
        This rank's rows, labeled ones included, in any form the estimator
        accepts (arrays, DataFrames, sparse matrices, lists); may have no rows.
    y : array-like of shape (n_local,) or (n_local, n_outputs)
        Labels aligned with ``X``; only the entries of labeled rows are read
        (the others may hold anything, such as -1 or NaN).
    labeled : array-like of int or bool
        This shard's labeled rows: indices into ``X`` or a boolean mask.
    batch_size : int
        Number of rows to select.
    strategy : {"bait", "badge", "coreset", "uncertainty"}, default="bait"
        The selection to run.
    strategy_params : dict, default=None
        Keyword arguments of that selection function (``reg``, ``device``,
        ``measure``...), the same on every rank (compared first: ranks that
        differ, or a keyword the function does not take, raise on every
        rank). BAIT runs at the defaults of :class:`skbait.strategies.BAIT`
        unless they say otherwise:
        ``reg="scale"``, ``candidates="auto"`` (with ``reg="scale"``, 20
        for a classifier and 0 for a regressor; every row with a numeric
        ``reg`` or a single known class) and 20 random candidates per batch
        row.
    embedding : callable, default=None
        ``embedding(estimator, X) -> array``, replacing the registered
        embedding rule (see :func:`skbait.embeddings.embed`).
    random_state : int, RandomState instance or None, default=None
        Seeds BADGE's draws and BAIT's random candidates (rank 0's is used),
        and, for a skorch net, its fit on rank 0 (as in
        :class:`~skbait.ActiveLearner`: on a fork of torch's generator, whose
        state the caller gets back).
    group : ProcessGroup, default=None
        The process group; ``None`` is the default group.

    Returns
    -------
    indices : ndarray of shape (batch_size,), dtype=int64
        Pool indices (into the rank-order concatenation of the shards); the
        same on every rank.
    fitted : estimator
        The estimator rank 0 fitted, on every rank.

    Notes
    -----
    Rows without information are handled as the strategies of
    :mod:`skbait.strategies` handle them, with the same warnings (from rank 0)
    and, with the same ``random_state``, the same rows: a classifier that
    knows a single class gives BAIT the rank-one Fisher of the embedding, and
    uncertainty sampling a batch drawn uniformly at random; probabilities of 0
    or 1 (a 1-nearest-neighbour model) or all-zero embeddings give BAIT a
    batch drawn at random, or its informative picks completed by a draw when
    fewer rows than the batch have information (see
    :class:`~skbait.strategies.BAIT`).
    On GPUs, a skorch net is unpickled on the device it was fitted on; set
    each rank's CUDA device with :func:`torch.cuda.set_device` before the call.

    Examples
    --------
    >>> import numpy as np
    >>> import torch.distributed as dist
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.distributed import fit_and_select
    >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> idx, model = fit_and_select(LogisticRegression(), X, y, np.arange(10), 4,
    ...                             strategy_params={"device": "cpu"})
    >>> idx.shape, bool(np.all(idx >= 10))
    ((4,), True)
    >>> dist.destroy_process_group()
    """
    comm = Group(group)
    error = part = call = None
    try:
        strategy = check_option("strategy", strategy, set(_STRATEGIES))
        params = _checked_params(strategy, strategy_params)
        # Compared across the ranks below: a rank whose parameters differ would run
        # other collectives (or fail alone) and leave the others waiting.
        call = (strategy, repr(sorted(params.items())))
        n_local = n_rows(X)
        if n_rows(y) != n_local:
            raise ValueError(
                f"`y` must have one entry per row of this rank's X ({n_local}), got "
                f"{n_rows(y)}; entries of unlabeled rows are ignored."
            )
        rows = np.flatnonzero(as_labeled_mask(labeled, n_local))
        part = (_safe_indexing(X, rows), _safe_indexing(y, rows)) if rows.size else None
    except Exception as exc:
        error = exc
    _check_same_call(raise_everywhere(comm, error, call if error is None else None))

    # 1-2. Rank 0 fits on the labeled rows in pool order, then shares the model.
    parts = [None] * comm.size if comm.rank == 0 else None
    dist.gather_object(part, parts, dst=comm.global_rank(0), group=comm.group)
    payload = error = None
    if comm.rank == 0:
        try:
            parts = [p for p in parts if p is not None]
            if not parts:
                raise ValueError("No rank holds a labeled row: there is nothing to fit on.")
            X_labeled = _concat_rows([p[0] for p in parts])
            y_labeled = _concat_rows([p[1] for p in parts])
            check_train_split(estimator, X_labeled, y_labeled)
            # A skorch net draws its weights, dropout and shuffling from torch's global
            # generator: it is fitted on a fork seeded from random_state, as in
            # ActiveLearner (a copy of a RandomState, whose later draws pick the rows).
            seed = None if random_state is None else draw_seed(copy.deepcopy(random_state))
            with kept_torch_draws(estimator, seed):
                fitted = clone(estimator).fit(X_labeled, y_labeled)
            # Pickled here, so that a model that does not pickle fails on every rank.
            payload = (pickle.dumps(fitted), None)
        except Exception as exc:
            error = exc
            payload = (None, error_report(exc))
    blob, report = comm.broadcast_object(payload, 0)
    if report is not None:
        raise rebuild_error(report, "rank 0 could not fit or send the estimator") from error
    fitted = pickle.loads(blob)

    # 3. Every rank embeds its own rows.
    error = Z = P = None
    proba = strategy != "coreset" and is_classifier(fitted)
    try:
        if n_local:
            with kept_torch_draws(fitted):  # a net's prediction loader draws a seed
                Z, P = embed(fitted, X, proba=proba, embedding=embedding)
        else:
            Z, P = np.empty((0, 0)), (np.empty((0, 0)) if proba else None)
    except Exception as exc:
        error = exc
    widths = raise_everywhere(comm, error, None if P is None or not n_local else P.shape[1])
    n_classes = next((k for k in widths if k is not None), None)
    if P is not None and not n_local and n_classes is not None:
        P = np.empty((0, n_classes))

    # 4. The sharded selection.
    if strategy == "coreset":
        indices = coreset_select(Z, labeled, batch_size, group=group, **params)
    elif strategy == "uncertainty":
        indices = uncertainty_select(P, labeled, batch_size, group=group, **params)
        if n_classes == 1:
            # As UncertaintySampling: no row is more uncertain than another.
            _warn_on_rank0(comm, UNCERTAINTY_SINGLE_CLASS_WARNING)
            pool = _layout(comm, n_local, None, labeled, batch_size)
            indices = _draw(comm, pool, pool.unlabeled, pool.batch_size, random_state)
    elif strategy == "badge":
        indices = badge_select(
            Z, P, labeled, batch_size, random_state=random_state, group=group, **params
        )
        # BADGE's picks are already uniform draws there; it also says so.
        if n_classes == 1:
            _warn_on_rank0(comm, BADGE_SINGLE_CLASS_WARNING)
        elif n_classes is not None:
            pool = _layout(comm, n_local, P, labeled, batch_size)
            unl = pool.unlabeled
            by_probas, by_embedding = informative_rows(pool.P)[unl], nonzero_rows(Z)[unl]
            if _count(comm, by_probas & by_embedding) == 0:
                causes = (_count(comm, ~by_probas) > 0, _count(comm, ~by_embedding) > 0)
                _warn_on_rank0(comm, no_gradient_message(causes))
    else:
        if n_classes is not None and n_classes < 2:
            if comm.rank == 0:
                warnings.warn(
                    "The classifier knows a single class, so its last-layer information is "
                    "zero; BAIT falls back to the embedding's rank-one information.",
                    UserWarning,
                    stacklevel=2,
                )
            P = None
        # The defaults of skbait.strategies.BAIT, so that a round picks what BAIT() picks.
        params.setdefault("reg", "scale")
        params["standardize"] = resolve_standardize(
            params.get("standardize", "auto"), fitted, embedding
        )
        params["candidates"] = resolve_candidates(
            params.get("candidates", "auto"),
            params["reg"],
            random_candidates=params.get("random_candidates", DEFAULT_RANDOM_CANDIDATES),
            has_classes=P is not None,
            single_class=P is None and n_classes is not None,
        )
        indices = _bait_informative(comm, Z, P, labeled, batch_size, random_state, group, params)
    return indices, fitted


def _bait_informative(comm, Z, P, labeled, batch_size, random_state, group, params):
    """BAIT's batch, with the rows it cannot rank drawn, as ``BAIT.select`` draws them.

    The sharded form of :func:`skbait.strategies._fisher_inputs.select_informative`:
    rows whose probabilities are all 0 or 1, or whose embedding is all zero
    (unless BAIT works on the standardised design), carry no information.
    """
    rng = _random_state(comm, random_state)  # one stream for BAIT's draws and these
    pool = ShardedPool(comm, Z, P, labeled, batch_size, params={}, device="cpu")
    source = zero_rows_source(
        pool.Z, params["reg"], params["standardize"], total=_summed_over_ranks(comm)
    )
    if pool.P is None and source is None:
        return bait_select(Z, P, labeled, batch_size, random_state=rng, group=group, **params)
    B, unl = pool.batch_size, pool.unlabeled
    everywhere = np.ones(pool.Z.shape[0], dtype=bool)
    by_probas = everywhere if pool.P is None else informative_rows(pool.P)
    by_embedding = everywhere if source is None else nonzero_rows(pool.Z)
    informative = by_probas & by_embedding
    causes = (_count(comm, ~by_probas[unl]) > 0, _count(comm, ~by_embedding[unl]) > 0)
    n_informative = _count(comm, informative[unl])
    if pool.n_unlabeled > B and n_informative == 0:
        _warn_on_rank0(comm, no_information_message("BAIT", causes))
        return _draw(comm, pool, unl, B, rng)
    indices = bait_select(Z, P, labeled, batch_size, random_state=rng, group=group, **params)
    if pool.n_unlabeled <= B:
        return indices
    lo, hi = pool.offsets[comm.rank], pool.offsets[comm.rank + 1]
    here = (indices >= lo) & (indices < hi)
    flags = np.zeros(indices.size, dtype=np.int64)
    flags[here] = informative[indices[here] - lo]
    # from_numpy: on the CPU, whatever default device the caller set.
    kept = comm.all_reduce(torch.from_numpy(flags)).numpy().astype(bool)
    if kept.all():
        return indices
    rest = np.setdiff1d(unl, indices[kept & here] - lo)
    drawn = _draw(comm, pool, rest, B - int(kept.sum()), rng)
    _warn_on_rank0(
        comm,
        partly_informative_message(
            "BAIT", n_informative, pool.n_unlabeled, int(kept.sum()), drawn.size, causes
        ),
    )
    return np.concatenate([indices[kept], drawn])


def _layout(comm, n_local, probas, labeled, batch_size):
    """The checked layout of the sharded pool, and this shard's checked probabilities."""
    placeholder = np.zeros((n_local, 1))  # the embeddings are the selection's to check
    return ShardedPool(comm, placeholder, probas, labeled, batch_size, params={}, device="cpu")


def _random_state(comm, random_state):
    """``check_random_state(random_state)``; a seed one rank cannot use fails on every rank."""
    rng = error = None
    try:
        rng = check_random_state(random_state)
    except Exception as exc:
        error = exc
    raise_everywhere(comm, error)
    return rng


def _draw(comm, pool, rows, count, random_state):
    """``random_state.choice(every rank's rows, count, replace=False)`` as pool indices.

    ``rows`` are this shard's rows (ascending) in the draw; their rank-order
    concatenation is the array one process draws from, so that the same
    ``random_state`` draws the same rows, in the same order. Every rank draws,
    so that a ``RandomState`` passed in advances as on one process; rank 0's
    draw is the one used.
    """
    counts = np.asarray(comm.all_gather_object(int(rows.size)), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)])
    rng = _random_state(comm, random_state)
    # choice over an array draws the positions choice over its length draws.
    drawn = comm.broadcast_object(rng.choice(int(starts[-1]), count, replace=False), 0)
    mine = (drawn >= starts[comm.rank]) & (drawn < starts[comm.rank + 1])
    local = np.zeros(count, dtype=np.int64)
    local[mine] = pool.offset + rows[drawn[mine] - starts[comm.rank]]
    return comm.all_reduce(torch.as_tensor(local, device="cpu")).numpy()


def _count(comm, flags):
    """How many of ``flags`` are true on every rank together."""
    return int(comm.all_reduce(host([int(np.sum(flags))], torch.int64))[0])


def _warn_on_rank0(comm, message):
    """One process's warning, given once: by rank 0."""
    if comm.rank == 0:
        warnings.warn(message, UserWarning, stacklevel=caller_stacklevel())


def _checked_params(strategy, strategy_params):
    """``strategy_params`` as a dict of keywords the selection function takes."""
    if strategy_params is not None and not isinstance(strategy_params, dict):
        raise TypeError(f"`strategy_params` must be a dict or None, got {strategy_params!r}.")
    params = dict(strategy_params or {})
    accepted = [
        name
        for name in inspect.signature(_SELECTIONS[strategy]).parameters
        if name not in _OWN_ARGUMENTS
    ]
    unknown = [name for name in params if name not in accepted]
    if unknown:
        raise TypeError(
            f"strategy_params has {', '.join(map(repr, unknown))}, which "
            f"strategy={strategy!r} does not take; it takes {', '.join(accepted)}."
        )
    return params


def _check_same_call(calls):
    """Every rank asked for the same strategy with the same parameters."""
    if len(set(calls)) > 1:
        shown = "; ".join(
            f"rank {rank} has strategy={strategy!r}, strategy_params {params}"
            for rank, (strategy, params) in enumerate(calls)
        )
        raise ValueError(
            f"The ranks disagree on strategy_params: {shown}. Every rank must pass the same "
            "strategy and strategy_params."
        )


def _concat_rows(parts):
    """Concatenate row blocks of one form: arrays, sparse matrices, DataFrames or lists."""
    first = parts[0]
    if len(parts) == 1:
        return first
    if hasattr(first, "iloc"):
        import pandas as pd

        return pd.concat(parts)
    if sp.issparse(first):
        return sp.vstack(parts, format=first.format)
    if isinstance(first, list):
        return [row for part in parts for row in part]
    return np.concatenate([np.asarray(p) for p in parts])
