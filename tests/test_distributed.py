"""skbait.distributed against the single-process selections, on 1 to 4 gloo processes.

One spawn per process count: the parent starts that many copies of this file
as workers (``python -c 'import test_distributed; ...'``), which join a gloo
group on 127.0.0.1, run every case of :func:`_cases` on their shard and send
what every rank returned (or raised) back in a pickle. The parent builds the
same pools from the same seeds and compares with :mod:`skbait.strategies` on
the concatenated pool. A worker that fails to start the group makes the tests
skip; one that hangs is killed after a timeout, so a failure never hangs.
"""

import contextlib
import datetime
import functools
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

WORLD_SIZES = (1, 2, 3, 4)
# Seconds for the whole spawn (four processes on two busy cores) and for one collective.
SPAWN_TIMEOUT = 600
COLLECTIVE_TIMEOUT = 60


# ------------------------------------------------------------------------------ the pools
def _probas(rng, n, k, sharp=1.0):
    logits = sharp * rng.normal(size=(n, k))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    return P / P.sum(axis=1, keepdims=True)


def _pool(case):
    """Embeddings, probabilities (or None) and global labeled indices of a case."""
    rng = np.random.RandomState(case["seed"])
    n, d, k = case["n"], case["d"], case.get("k")
    Z = rng.normal(size=(n, d))
    P = None if k is None else _probas(rng, n, k)
    labeled = np.sort(rng.choice(n, size=case.get("n_labeled", 0), replace=False))
    if case.get("layout") == "labeled-first":
        labeled = np.arange(case["n_labeled"])  # rank 0's shard, whole (see _bounds)
    if case.get("duplicates"):
        # Rows repeated far apart in the pool, so that copies land on different ranks.
        src = rng.choice(n // 2, size=n // 6, replace=False)
        dst = n - 1 - src
        Z[dst] = Z[src]
        if P is not None:
            P[dst] = P[src]
        labeled = np.setdiff1d(labeled, dst)
    if case.get("ties"):
        P = np.round(P, 1)
        P = P / P.sum(axis=1, keepdims=True)
    if case.get("one_hot"):
        P = np.eye(k)[rng.randint(k, size=n)]
    if case.get("units"):
        # Raw features: one column in hundreds around an offset, one in thousandths.
        Z = Z * np.array([300.0, 1.0, 0.003, 1.0])[:d] + np.array([2000.0, 0.0, 0.99, 3.0])[:d]
    if case.get("scale"):
        Z = Z * case["scale"]
    if case.get("dtype") == "float32":
        Z = Z.astype(np.float32)
    if case.get("mixed_dtype"):
        # Values that float32 holds exactly: the ranks pass float32 or float64 shards of them.
        Z = Z.astype(np.float32).astype(np.float64)
    return Z, P, labeled


def _bounds(n, world, seed, layout=None, n_labeled=0):
    """Uneven shard borders: random cuts, one shard empty from three processes on.

    ``layout="one-row"``: rank 0 holds one row, the last rank the rest.
    ``layout="labeled-first"``: rank 0 holds the labeled rows and nothing else.
    """
    if world == 1:
        return [0, n]
    if layout == "one-row":
        return [0] + [1] * (world - 1) + [n]
    if layout == "labeled-first":
        return [0] + np.linspace(n_labeled, n, world).astype(int).tolist()
    rng = np.random.RandomState(seed + 1000 * world)
    cuts = np.sort(rng.randint(1, n, size=world - 1))
    if world >= 3:
        cuts[1] = cuts[0]  # rank 1 holds nothing
    if world == 4 and seed % 2:
        cuts[0] = 0  # rank 0 holds nothing as well
    return [0, *cuts.tolist(), n]


def _shard(case, rank, world):
    Z, P, labeled = _pool(case)
    bounds = _bounds(Z.shape[0], world, case["seed"], case.get("layout"), case.get("n_labeled", 0))
    lo, hi = bounds[rank], bounds[rank + 1]
    local = labeled[(labeled >= lo) & (labeled < hi)] - lo
    if case.get("mixed_dtype") and rank % 2 == 0:
        Z = Z.astype(np.float32)
    if case.get("mask"):
        mask = np.zeros(hi - lo, dtype=bool)
        mask[local] = True
        local = mask
    return Z[lo:hi], None if P is None else P[lo:hi], local, (lo, hi)


def _cases():
    """Every case a worker runs: a name and the parameters of its pool and call."""
    cases = [
        dict(name="coreset", kind="coreset", seed=1, n=90, d=4, n_labeled=9, B=8, chunk_size=4),
        dict(name="coreset-nolabel", kind="coreset", seed=2, n=50, d=3, B=6),
        dict(name="coreset-mask", kind="coreset", seed=3, n=70, d=5, n_labeled=30, B=5, mask=True),
        dict(
            name="coreset-f32",
            kind="coreset",
            seed=4,
            n=60,
            d=3,
            n_labeled=5,
            B=6,
            dtype="float32",
        ),
        dict(
            name="coreset-dups",
            kind="coreset",
            seed=5,
            n=60,
            d=2,
            n_labeled=4,
            B=12,
            duplicates=True,
        ),
        dict(name="badge", kind="badge", seed=6, n=80, d=3, k=4, n_labeled=8, B=10, rs=0),
        dict(name="badge-rs", kind="badge", seed=7, n=64, d=5, k=3, n_labeled=3, B=12, rs=123),
        dict(
            name="badge-f32",
            kind="badge",
            seed=8,
            n=50,
            d=4,
            k=5,
            n_labeled=10,
            B=6,
            rs=5,
            dtype="float32",
        ),
        dict(
            name="badge-uniform",
            kind="badge",
            seed=9,
            n=40,
            d=3,
            k=3,
            n_labeled=4,
            B=7,
            rs=2,
            one_hot=True,
        ),
        dict(
            name="badge-dups",
            kind="badge",
            seed=10,
            n=60,
            d=3,
            k=3,
            n_labeled=6,
            B=15,
            rs=3,
            duplicates=True,
        ),
    ]
    bait = dict(kind="bait", d=3, k=3, n=80, n_labeled=6, B=5)
    cases += [
        dict(bait, name="bait", seed=11),
        dict(bait, name="bait-regression", seed=12, k=None, d=4, B=6),
        dict(bait, name="bait-identity", seed=13, fisher="identity"),
        dict(bait, name="bait-forward", seed=14, backward=False, B=7),
        dict(bait, name="bait-oversample", seed=15, oversample=1.5, k=4),
        dict(bait, name="bait-f32", seed=16, dtype="float32"),
        dict(bait, name="bait-dups", seed=17, duplicates=True, n=60, B=8, chunk_size=7),
        dict(bait, name="bait-nolabel", seed=18, n_labeled=0, mask=True),
        dict(bait, name="bait-one-class", seed=19, k=1, B=6),
        dict(bait, name="bait-all", seed=20, n=30, n_labeled=26, B=4),
        dict(bait, name="bait-scale", seed=21, reg="scale"),
        dict(bait, name="bait-scale-relative", seed=22, reg="scale", relative_reg=0.3, k=4),
        dict(bait, name="bait-scale-regression", seed=23, k=None, d=4, B=6, reg="scale"),
        # Columns in very different units: the whole pool's standardised design on every rank.
        dict(bait, name="bait-standardized", seed=40, d=4, reg="scale", units=True),
        dict(bait, name="bait-standardized-true", seed=41, k=None, reg=1.0, standardize=True),
        dict(
            bait,
            name="bait-standardized-candidates",
            seed=42,
            d=4,
            n=90,
            reg="scale",
            units=True,
            candidates=2,
            random_candidates=3,
            random_state=5,
        ),
        # BAIT among the most uncertain rows and a random few: found and drawn across the ranks.
        dict(
            bait,
            name="bait-candidates",
            seed=24,
            reg="scale",
            candidates=3,
            random_candidates=2,
            random_state=7,
        ),
        dict(
            bait,
            name="bait-candidates-regression",
            seed=26,
            k=None,
            d=4,
            B=6,
            reg="scale",
            candidates=0,
            random_candidates=3,
            random_state=2,
        ),
        dict(
            bait,
            name="bait-candidates-mask",
            seed=25,
            k=4,
            candidates=2.5,
            random_candidates=0,
            mask=True,
        ),
        # Columns in very different units left as they are: reg="scale" warns, as on one process.
        dict(
            bait,
            kind="bait-warns",
            name="bait-spread-warns",
            seed=43,
            d=4,
            reg="scale",
            units=True,
            standardize=False,
        ),
        dict(
            bait,
            kind="bait-warns",
            name="bait-spread-warns-candidates",
            seed=44,
            d=4,
            n=90,
            reg="scale",
            units=True,
            standardize=False,
            candidates=2,
            random_candidates=3,
            random_state=5,
        ),
        # Tight bounds kept on (as on a wide embedding): each rank tightens its own
        # two-node contenders before the floor is all-reduced.
        dict(bait, name="bait-tight", seed=21, k=5, d=4, n=90, B=6, tight=True),
    ]
    # Edge layouts: a shard of one row, a shard of labeled rows only, more ranks than
    # unlabeled rows, a batch of every unlabeled row, float32 and float64 shards together.
    edge = dict(seed=50, n=40, d=3, k=3, n_labeled=6, B=5)
    few = dict(edge, n=8, n_labeled=6, B=1)
    cases += [
        dict(edge, name="coreset-one-row", kind="coreset", layout="one-row"),
        dict(edge, name="badge-one-row", kind="badge", layout="one-row", rs=1),
        dict(bait, name="bait-one-row", seed=51, layout="one-row"),
        dict(edge, name="coreset-labeled-first", kind="coreset", layout="labeled-first"),
        dict(edge, name="badge-labeled-first", kind="badge", layout="labeled-first", rs=2),
        dict(bait, name="bait-labeled-first", seed=52, layout="labeled-first", reg="scale"),
        dict(few, name="coreset-few-unlabeled", kind="coreset", B=2),
        dict(few, name="badge-few-unlabeled", kind="badge", rs=3),
        dict(bait, name="bait-few-unlabeled", seed=53, n=8, B=1),
        dict(edge, name="coreset-all", kind="coreset", n=20, n_labeled=14, B=6),
        dict(edge, name="badge-all", kind="badge", n=20, n_labeled=14, B=6, rs=4),
        dict(edge, name="coreset-mixed-dtype", kind="coreset", mixed_dtype=True),
        dict(edge, name="badge-mixed-dtype", kind="badge", mixed_dtype=True, rs=5),
        dict(
            bait,
            name="bait-mixed-dtype",
            seed=54,
            d=4,
            n=90,
            reg="scale",
            units=True,
            mixed_dtype=True,
            candidates=2,
            random_candidates=3,
            random_state=6,
        ),
    ]
    # Embeddings whose squares overflow or vanish in float64: rescaled as on one process.
    cases += [
        dict(edge, name=f"{kind}-scale-{scale:g}", kind=kind, scale=scale, rs=6)
        for kind in ("coreset", "badge")
        for scale in (1e-200, 1e200)
    ]
    for i, measure in enumerate(("least_confident", "margin", "entropy")):
        cases.append(
            dict(
                name=f"uncertainty-{measure}",
                kind="uncertainty",
                seed=20 + i,
                n=70,
                d=1,
                k=3,
                n_labeled=10,
                B=9,
                measure=measure,
                ties=True,
            )
        )
    small = dict(seed=38, n=40, d=3, k=3, n_labeled=4, B=3)
    cases += [
        # Errors: on the last rank only, so that the others must hear of it.
        dict(name="error-width", kind="error-width", seed=30, n=40, d=3, B=4),
        dict(name="error-classes", kind="error-classes", seed=31, n=40, d=3, k=3, B=4),
        dict(name="error-labeled", kind="error-labeled", seed=32, n=40, d=3, n_labeled=4, B=4),
        dict(name="error-batch", kind="error-batch", seed=33, n=40, d=3, n_labeled=30, B=11),
        dict(name="error-all-labeled", kind="error-batch", seed=39, n=40, d=3, n_labeled=40, B=1),
        dict(name="error-batch-disagree", kind="error-batch-disagree", seed=34, n=40, d=3, B=4),
        dict(name="error-fit", kind="error-fit", seed=35, n=40, d=3, n_labeled=6, B=4),
        dict(name="offsets", kind="offsets", seed=36, n=50, d=2, B=1),
        # BAIT's candidates (fit_and_select's default) check the shards as the rest does.
        *(
            dict(
                name=f"error-{bad}-candidates",
                kind="error-candidates",
                bad=bad,
                seed=37,
                n=40,
                d=3,
                k=3,
                n_labeled=4,
                B=3,
            )
            for bad in ("nan", "width", "labeled", "disagree")
        ),
        # A device or random_state one rank cannot use, in each selection.
        *(
            dict(name=f"error-device-{kind}", kind="error-device", selection=kind, **small)
            for kind in ("coreset", "badge", "bait")
        ),
        dict(name="error-round-embedding", kind="error-round-embedding", **small),
        # strategy_params that differ on the last rank: every rank raises, none hangs.
        *(
            dict(name=f"error-round-params-{bad}", kind="error-round-params", bad=bad, **small)
            for bad in ("unknown", "reg")
        ),
        dict(name="error-random-state-badge", kind="error-random-state", **small),
        dict(
            name="error-random-state-bait",
            kind="error-random-state",
            candidates=2,
            **dict(small, B=1),  # 2 + 20 candidates of 36 rows: a random draw
        ),
        # One whole round.
        dict(name="round-sklearn", kind="round-sklearn", seed=40, n=120, d=4, n_labeled=15, B=5),
        dict(
            name="round-sklearn-bait",
            kind="round-sklearn",
            seed=42,
            n=220,
            d=3,
            n_labeled=12,
            B=4,
            strategy="bait",
        ),
        dict(
            name="round-dataframe", kind="round-dataframe", seed=43, n=90, d=3, n_labeled=12, B=6
        ),
        dict(name="round-skorch", kind="round-skorch", seed=41, n=80, d=5, n_labeled=12, B=4),
    ]
    # Rounds whose model leaves rows without information: the draws and warnings of one
    # process (HardClassifier: probabilities of 0 or 1 but for |x_0| < soft).
    hard = dict(kind="round-fallback", seed=61, n=80, d=3, n_labeled=12, B=5, rs=3)
    cases += [
        dict(hard, name="round-fallback-uncertainty", strategy="uncertainty", one_class=1),
        dict(hard, name="round-fallback-badge-one-class", strategy="badge", one_class=1),
        dict(hard, name="round-fallback-badge-one-hot", strategy="badge"),
        dict(hard, name="round-fallback-bait-one-hot", strategy="bait"),
        # Three unlabeled rows with information for a batch of five.
        dict(hard, name="round-fallback-bait-partly", strategy="bait", soft=0.07),
        dict(hard, name="round-fallback-bait-partly-exact", strategy="bait", soft=0.07, reg=1.0),
        # Embeddings all zero but on three unlabeled rows, or on none.
        dict(hard, name="round-fallback-bait-zero", strategy="bait", soft=10.0, zero=0.07),
        dict(hard, name="round-fallback-bait-zero-all", strategy="bait", soft=10.0, zero=0.0),
        dict(hard, name="round-fallback-bait-zero-ridge", strategy="bait", ridge=1, zero=0.07),
        dict(hard, name="round-fallback-badge-zero", strategy="badge", soft=10.0, zero=0.0),
    ]
    # A default device set by the caller (torch.set_default_device("cuda")) changes no
    # pick: "meta" stands in for it, as a tensor made there without a device holds no
    # numbers (see _worker).
    again = ("coreset", "badge", "bait-candidates", "uncertainty-margin", "round-sklearn-bait")
    cases += [
        dict(case, name=f"{case['name']}-default-device", default_device="meta")
        for case in cases
        if case["name"] in again
    ]
    return cases


# -------------------------------------------------------------------------- the workers
def _run_case(case, rank, world):
    """What this rank's call returns: ("ok", indices, extra) or ("error", type, message)."""
    from skbait import distributed

    Z, P, labeled, (lo, hi) = _shard(case, rank, world)
    kind, B = case["kind"], case["B"]
    last = rank == world - 1
    try:
        if kind == "coreset":
            out = distributed.coreset_select(
                Z,
                labeled,
                B,
                device="cpu",
                dtype=case.get("dtype"),
                chunk_size=case.get("chunk_size"),
                return_utilities=True,
            )
        elif kind == "badge":
            out = distributed.badge_select(
                Z,
                P,
                labeled,
                B,
                random_state=case["rs"],
                device="cpu",
                dtype=case.get("dtype"),
                return_utilities=True,
            )
        elif kind in ("bait", "bait-warns"):
            candidates = len(Z) > len(labeled)
            with (
                _tight_bounds_kept(case.get("tight", False), has_candidates=candidates),
                warnings.catch_warnings(record=True) as caught,
            ):
                warnings.simplefilter("always")
                out = distributed.bait_select(
                    Z, P, labeled, B, device="cpu", return_utilities=True, **_bait_params(case)
                )
            if kind == "bait-warns":
                out = out[0], [str(w.message) for w in caught]
        elif kind == "uncertainty":
            out = distributed.uncertainty_select(
                P, labeled, B, measure=case["measure"], return_utilities=True
            )
        elif kind == "error-width":
            Zw = np.hstack([Z, Z[:, :1]]) if last and world > 1 else Z
            out = distributed.coreset_select(Zw, labeled, B, device="cpu"), None
        elif kind == "error-classes":
            Pw = P
            if last and world > 1:
                Pw = np.hstack([P, P[:, :1]])
                Pw /= Pw.sum(axis=1, keepdims=True)
            out = distributed.badge_select(Z, Pw, labeled, B, device="cpu"), None
        elif kind == "error-labeled":
            bad = np.append(labeled, hi - lo + 3) if last else labeled
            out = distributed.coreset_select(Z, bad, B, device="cpu"), None
        elif kind == "error-batch":
            out = distributed.coreset_select(Z, labeled, B, device="cpu"), None
        elif kind == "error-batch-disagree":
            out = distributed.coreset_select(Z, labeled, B + (last and world > 1), device="cpu")
            out = out, None
        elif kind == "error-candidates":
            bad, z, p, rows = case["bad"], Z, P, labeled
            candidates = 2
            if last and bad == "nan":
                z = Z.copy()
                z[0, 0] = np.nan
            if last and bad == "width" and world > 1:
                z = np.hstack([Z, Z[:, :1]])
            if last and bad == "labeled":
                rows = np.append(labeled, hi - lo + 3)
            if last and bad == "disagree" and world > 1:
                candidates = None
            out = distributed.bait_select(
                z,
                p,
                rows,
                B,
                device="cpu",
                reg="scale",
                candidates=candidates,
                random_candidates=1,
                random_state=0,
            )
            out = out, None
        elif kind == "error-device":
            device = "no-such-device" if last else "cpu"
            if case["selection"] == "coreset":
                out = distributed.coreset_select(Z, labeled, B, device=device)
            elif case["selection"] == "badge":
                out = distributed.badge_select(Z, P, labeled, B, device=device)
            else:
                out = distributed.bait_select(Z, P, labeled, B, device=device)
            out = out, None
        elif kind == "error-random-state":
            seed = "no-seed" if last else 0
            if "candidates" in case:
                out = distributed.bait_select(
                    Z,
                    P,
                    labeled,
                    B,
                    device="cpu",
                    reg="scale",
                    candidates=case["candidates"],
                    random_state=seed,
                )
            else:
                out = distributed.badge_select(Z, P, labeled, B, device="cpu", random_state=seed)
            out = out, None
        elif kind == "error-round-embedding":
            from sklearn.linear_model import LogisticRegression

            # BAIT at its defaults cuts candidates; the last rank's embedding is bad.
            X, y = _classification_rows(case, lo, hi)
            out = distributed.fit_and_select(
                LogisticRegression(),
                X,
                y,
                labeled,
                1,
                embedding=_nan_on_last_rank,
                strategy_params={"device": "cpu"},
            )
        elif kind == "error-round-params":
            from sklearn.linear_model import LogisticRegression

            params = {"device": "cpu"}
            if last and case["bad"] == "unknown":
                params["no_such_param"] = 1
            if last and case["bad"] == "reg":
                params["reg"] = 1.0
            X, y = _classification_rows(case, lo, hi)
            out = distributed.fit_and_select(
                LogisticRegression(), X, y, labeled, 1, strategy_params=params
            )
        elif kind == "offsets":
            out = distributed.shard_offsets(len(Z)), None
        elif kind == "error-fit":
            from sklearn.linear_model import LogisticRegression

            # One class among the labeled rows: rank 0's fit fails.
            out = distributed.fit_and_select(
                LogisticRegression(), Z, np.zeros(len(Z), dtype=int), labeled, B
            )
        elif kind == "round-sklearn":
            from sklearn.linear_model import LogisticRegression

            X, y = _classification_rows(case, lo, hi)
            idx, model = distributed.fit_and_select(
                LogisticRegression(max_iter=500),
                X,
                y,
                labeled,
                B,
                strategy=case.get("strategy", "badge"),
                strategy_params={"device": "cpu"},
                random_state=0,
            )
            out = idx, model
        elif kind == "round-dataframe":
            import pandas as pd
            from sklearn.linear_model import LogisticRegression

            X, y = _classification_rows(case, lo, hi)
            X = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(lo, hi))
            out = distributed.fit_and_select(
                LogisticRegression(),
                X,
                pd.Series(y, index=X.index),
                labeled,
                B,
                strategy="uncertainty",
                strategy_params={"measure": "margin"},
            )
        elif kind == "round-fallback":
            X, y = _classification_rows(case, lo, hi)
            if case.get("one_class"):
                y = np.zeros_like(y)
            params = {} if case["strategy"] == "uncertainty" else {"device": "cpu"}
            if "reg" in case:
                params["reg"] = case["reg"]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                idx, _ = distributed.fit_and_select(
                    _fallback_model(case),
                    X,
                    X[:, 0] if case.get("ridge") else y,
                    labeled,
                    B,
                    strategy=case["strategy"],
                    strategy_params=params,
                    random_state=case["rs"],
                    embedding=_fallback_embedding(case),
                )
            out = idx, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        elif kind == "round-skorch":
            X, y = _classification_rows(case, lo, hi)
            idx, net = distributed.fit_and_select(
                _skorch_net(),
                X.astype(np.float32),
                y.astype(np.int64),
                labeled,
                B,
                strategy="coreset",
                strategy_params={"device": "cpu"},
            )
            out = idx, net
        else:
            raise AssertionError(kind)
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))
    indices, extra = out
    return ("ok", np.asarray(indices), extra)


@contextlib.contextmanager
def _tight_bounds_kept(on, *, has_candidates):
    """Keep the greedy on tight bounds; a rank with candidates must then tighten some rows."""
    if not on:
        yield
        return
    import skbait._fisher._greedy as greedy_module
    from skbait._fisher._greedy import KroneckerGreedy
    from skbait._fisher._rows import TrackedRows

    record, tighten = KroneckerGreedy._record_pruning, TrackedRows.tighten
    tight_min_rows = greedy_module._TIGHT_MIN_ROWS
    greedy_module._TIGHT_MIN_ROWS = 0  # the tests' small pools as large ones
    tightened = []

    def keep_tight(self, n_contenders, n_rows):
        self._bounds_pruned = self.rows.tight

    def counted(self, which, upper):
        tightened.append(len(which))
        return tighten(self, which, upper)

    KroneckerGreedy._record_pruning, TrackedRows.tighten = keep_tight, counted
    try:
        yield
    finally:
        KroneckerGreedy._record_pruning, TrackedRows.tighten = record, tighten
        greedy_module._TIGHT_MIN_ROWS = tight_min_rows
    if has_candidates and not tightened:
        raise AssertionError("the tight bounds never ran on this rank")


def _nan_on_last_rank(model, X):
    import torch.distributed as dist

    Z = np.array(X, dtype=float)
    if dist.get_rank() == dist.get_world_size() - 1:
        Z[0, 0] = np.nan
    return Z


def _bait_params(case):
    keys = (
        "reg",
        "relative_reg",
        "oversample",
        "backward",
        "fisher",
        "dtype",
        "chunk_size",
        "candidates",
        "random_candidates",
        "random_state",
        "standardize",
    )
    return {key: case[key] for key in keys if key in case}


def _classification_rows(case, lo, hi):
    rng = np.random.RandomState(case["seed"])
    X = rng.normal(size=(case["n"], case["d"]))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X[lo:hi], y[lo:hi]


def _skorch_net():
    from skorch import NeuralNetClassifier

    return NeuralNetClassifier(
        MLP,
        max_epochs=3,
        lr=0.1,
        batch_size=16,
        train_split=None,
        verbose=0,
        criterion=torch.nn.CrossEntropyLoss,
        device="cpu",
    )


class MLP(torch.nn.Module):
    """A small net for skorch, defined at module level so that it pickles."""

    def __init__(self, d=5, hidden=6, k=3):
        super().__init__()
        self.hidden = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.Tanh())
        self.out = torch.nn.Linear(hidden, k)

    def forward(self, X):
        return self.out(self.hidden(X))


class HardClassifier(ClassifierMixin, BaseEstimator):
    """Probabilities of 0 or 1, but equal ones for the rows with ``|x_0| < soft``.

    A model that leaves rows without information, as a 1-nearest-neighbour one
    does; defined at module level so that it pickles.
    """

    def __init__(self, soft=0.0):
        self.soft = soft

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict_proba(self, X):
        X = np.asarray(X)
        k = self.classes_.size
        P = np.zeros((X.shape[0], k))
        P[np.arange(X.shape[0]), (X[:, 0] > 0).astype(int) % k] = 1.0
        P[np.abs(X[:, 0]) < self.soft] = 1.0 / k
        return P

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _fallback_model(case):
    from sklearn.linear_model import Ridge

    return Ridge() if case.get("ridge") else HardClassifier(soft=case.get("soft", 0.0))


def _fallback_embedding(case):
    """The input features, all zero but on the rows with ``|x_1| < zero`` (if set)."""
    if "zero" not in case:
        return None

    def embedding(estimator, X):
        Z = np.array(X, dtype=float)
        Z[np.abs(Z[:, 1]) >= case["zero"]] = 0.0
        return Z

    return embedding


def _worker(rank, world, address, out_path):
    import torch.distributed as dist

    try:
        dist.init_process_group(
            "gloo",
            init_method=address,
            rank=rank,
            world_size=world,
            timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT),
        )
    except Exception as exc:  # no sockets here: the parent skips
        with open(out_path, "wb") as f:
            pickle.dump({"init_error": repr(exc)}, f)
        return
    results = {}
    for case in _cases():
        start = time.perf_counter()
        default_device = case.get("default_device")
        with torch.device(default_device) if default_device else contextlib.nullcontext():
            results[case["name"]] = _run_case(case, rank, world)
        results[case["name"] + ":seconds"] = time.perf_counter() - start
    # The results are on disk, whole, before the group is torn down: gloo can
    # abort in its own shutdown ("terminate called without an active
    # exception"), after every collective has finished.
    with open(out_path + ".part", "wb") as f:
        pickle.dump(results, f)
    os.replace(out_path + ".part", out_path)
    dist.destroy_process_group()
    sys.stdout.flush()
    os._exit(0)  # skip the interpreter's teardown of gloo's threads


# --------------------------------------------------------------------------- the parent
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.cache
def _spawn(world):
    """Every rank's results for every case, from ``world`` fresh processes (cached)."""
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("torch.distributed with the gloo backend is not available")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    if sys.platform.startswith("linux") and os.path.exists("/sys/class/net/lo"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    address = f"tcp://127.0.0.1:{_free_port()}"
    here, module = os.path.split(os.path.splitext(os.path.abspath(__file__))[0])
    tmp = tempfile.mkdtemp(prefix="skbait_dist_")
    outs = [os.path.join(tmp, f"rank{r}.pkl") for r in range(world)]
    procs = []
    try:
        for r in range(world):
            # Imported by name, not run as __main__, so that what it pickles (a
            # skorch net of a class defined here) unpickles in the parent.
            code = (
                f"import sys; sys.path.insert(0, {here!r}); import {module} as t; "
                f"t._worker({r}, {world}, {address!r}, {outs[r]!r})"
            )
            cmd = [sys.executable, "-c", code]
            procs.append(
                subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            )
    except OSError as exc:
        pytest.skip(f"cannot spawn processes here: {exc}")
    deadline = time.monotonic() + SPAWN_TIMEOUT
    logs = []
    for p in procs:
        try:
            logs.append(p.communicate(timeout=max(1.0, deadline - time.monotonic()))[0])
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail(f"{world} workers did not finish within {SPAWN_TIMEOUT} s")
    results = []
    for r, (p, out) in enumerate(zip(procs, outs)):
        # A worker that wrote its whole result may still abort in gloo's own
        # shutdown (SIGABRT): the selections are in the file, so that is not a
        # failure of the library. Any other exit, or no result, is.
        finished = os.path.exists(out) and p.returncode in (0, -signal.SIGABRT)
        if not finished:
            tail = logs[r].decode(errors="replace")[-3000:]
            pytest.fail(f"worker {r}/{world} exited with {p.returncode}:\n{tail}")
        with open(out, "rb") as f:
            results.append(pickle.load(f))
    init = [res["init_error"] for res in results if "init_error" in res]
    if init:
        pytest.skip(f"gloo could not start a group on 127.0.0.1: {init[0]}")
    return results


def _same_on_every_rank(results, name):
    first = results[0][name]
    assert first[0] == "ok", f"rank 0 raised {first[1]}: {first[2]}"
    for r, res in enumerate(results[1:], start=1):
        assert res[name][0] == "ok", f"rank {r} raised {res[name][1]}: {res[name][2]}"
        np.testing.assert_array_equal(res[name][1], first[1], err_msg=f"rank {r} differs")
    return first[1], [res[name][2] for res in results]


def _full(case):
    Z, P, labeled = _pool(case)
    if case.get("mask"):
        mask = np.zeros(Z.shape[0], dtype=bool)
        mask[labeled] = True
        labeled = mask
    return Z, P, labeled


CASES = {case["name"]: case for case in _cases()}
params = pytest.mark.parametrize("world", WORLD_SIZES)


def _named(kind):
    return [name for name, case in CASES.items() if case["kind"] == kind]


# ------------------------------------------------------------------------------- tests
@params
@pytest.mark.parametrize("name", _named("coreset"))
def test_coreset_matches_single_process(world, name):
    from skbait.strategies import coreset_select

    case = CASES[name]
    indices, extras = _same_on_every_rank(_spawn(world), name)
    Z, _, labeled = _full(case)
    expected, utilities = coreset_select(
        Z,
        labeled,
        case["B"],
        device="cpu",
        dtype=case.get("dtype"),
        chunk_size=case.get("chunk_size"),
        return_utilities=True,
    )
    np.testing.assert_array_equal(indices, expected)
    for extra in extras:
        np.testing.assert_allclose(extra, utilities, rtol=1e-5 if case.get("dtype") else 1e-9)


@params
@pytest.mark.parametrize("name", _named("badge"))
def test_badge_matches_single_process(world, name):
    from skbait.strategies import badge_select

    case = CASES[name]
    indices, extras = _same_on_every_rank(_spawn(world), name)
    Z, P, labeled = _full(case)
    expected, utilities = badge_select(
        Z,
        P,
        labeled,
        case["B"],
        random_state=case["rs"],
        device="cpu",
        dtype=case.get("dtype"),
        return_utilities=True,
    )
    np.testing.assert_array_equal(indices, expected)
    for extra in extras:
        np.testing.assert_allclose(extra, utilities, rtol=1e-4 if case.get("dtype") else 1e-9)


@params
@pytest.mark.parametrize("name", _named("bait"))
def test_bait_matches_single_process(world, name):
    from skbait.strategies import bait_select
    from skbait.strategies._bait import _bait_select

    case = CASES[name]
    indices, extras = _same_on_every_rank(_spawn(world), name)
    Z, P, labeled = _full(case)
    expected = bait_select(Z, P, labeled, case["B"], device="cpu", **_bait_params(case))
    np.testing.assert_array_equal(indices, expected)
    _, gains = _bait_select(Z, P, labeled, case["B"], device="cpu", **_bait_params(case))
    for extra in extras:
        np.testing.assert_allclose(extra, gains, rtol=1e-4 if case.get("dtype") else 1e-9)


@params
@pytest.mark.parametrize("name", _named("bait-warns"))
def test_bait_warns_of_uneven_columns_once_as_one_process(world, name):
    from skbait.strategies import bait_select

    case = CASES[name]
    indices, messages = _same_on_every_rank(_spawn(world), name)
    Z, P, labeled = _full(case)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = bait_select(Z, P, labeled, case["B"], device="cpu", **_bait_params(case))
    np.testing.assert_array_equal(indices, expected)
    alone = [str(w.message) for w in caught if "standardize=True" in str(w.message)]
    assert len(alone) == 1
    # Rank 0 says what one process says of the whole pool; the other ranks stay quiet.
    assert [m for m in messages[0] if "standardize=True" in m] == alone
    for rank_messages in messages[1:]:
        assert not [m for m in rank_messages if "standardize=True" in m]


@params
@pytest.mark.parametrize("name", _named("uncertainty"))
def test_uncertainty_matches_single_process(world, name):
    from sklearn.base import BaseEstimator, ClassifierMixin

    from skbait.strategies import UncertaintySampling

    case = CASES[name]
    indices, extras = _same_on_every_rank(_spawn(world), name)
    Z, P, labeled = _full(case)

    class Fixed(ClassifierMixin, BaseEstimator):
        """A 'classifier' whose probabilities are the pool's rows (X holds row numbers)."""

        def predict_proba(self, X):
            return P[np.asarray(X, dtype=int)[:, 0]]

    X = np.arange(Z.shape[0])[:, None]
    expected, utilities = UncertaintySampling(measure=case["measure"]).select(
        Fixed(), X, labeled, case["B"], return_utilities=True
    )
    np.testing.assert_array_equal(indices, expected)
    for extra in extras:
        # Exact but for numpy's vectorised log, which rounds an array's last elements
        # its own way (entropy only).
        np.testing.assert_allclose(extra, utilities, rtol=1e-15, atol=0)
    # The case has ties across ranks: they went to the lowest pool index.
    scores = utilities
    assert len(set(scores.tolist())) < scores.size


ERRORS = {
    "error-width": ("ValueError", "embedding width", 2),
    "error-classes": ("ValueError", "number of classes", 2),
    "error-labeled": ("ValueError", "indices outside the pool", 1),
    "error-batch": ("ValueError", "larger than the number of unlabeled rows", 1),
    "error-all-labeled": ("ValueError", "Every row of the pool is labeled", 1),
    "error-batch-disagree": ("ValueError", "disagree on batch_size", 2),
    "error-fit": ("ValueError", "rank 0 could not fit", 1),
    "error-nan-candidates": ("ValueError", "holds NaN or inf", 1),
    "error-width-candidates": ("ValueError", "embedding width", 2),
    "error-labeled-candidates": ("ValueError", "indices outside the pool", 1),
    "error-disagree-candidates": ("ValueError", "disagree on `candidates`", 2),
    "error-device-coreset": ("ValueError", "Unknown device", 1),
    "error-device-badge": ("ValueError", "Unknown device", 1),
    "error-device-bait": ("ValueError", "Unknown device", 1),
    "error-round-embedding": ("ValueError", "holds NaN or inf", 1),
    "error-random-state-badge": ("ValueError", "cannot be used to seed", 1),
    "error-random-state-bait": ("ValueError", "cannot be used to seed", 1),
    "error-round-params-unknown": ("TypeError", "'no_such_param'", 1),
    "error-round-params-reg": ("ValueError", "disagree on strategy_params", 2),
}


@params
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_reach_every_rank(world, name):
    kind, text, min_world = ERRORS[name]
    results = _spawn(world)
    outcomes = [res[name] for res in results]
    if world < min_world:  # one rank cannot disagree with itself
        assert all(o[0] == "ok" for o in outcomes)
        return
    for rank, outcome in enumerate(outcomes):
        assert outcome[0] == "error", f"rank {rank} returned instead of raising"
        assert outcome[1] == kind and text in outcome[2], outcome
    # Every rank names the same culprit.
    assert len({o[2] for o in outcomes}) == 1


@params
def test_shard_offsets(world):
    offsets, _ = _same_on_every_rank(_spawn(world), "offsets")
    case = CASES["offsets"]
    np.testing.assert_array_equal(offsets, _bounds(case["n"], world, case["seed"]))


@pytest.mark.parametrize(
    "call",
    [
        lambda d: d.coreset_select(np.zeros((3, 2)), [0], 1),
        lambda d: d.badge_select(np.zeros((3, 2)), np.full((3, 2), 0.5), [0], 1),
        lambda d: d.bait_select(np.zeros((3, 2)), np.full((3, 2), 0.5), [0], 1),
        lambda d: d.bait_select(np.zeros((3, 2)), np.full((3, 2), 0.5), [0], 1, candidates=1),
        lambda d: d.uncertainty_select(np.full((3, 2), 0.5), [0], 1),
        lambda d: d.fit_and_select(None, np.zeros((3, 2)), [0, 1, 0], [0], 1),
        lambda d: d.shard_offsets(3),
    ],
    ids=["coreset", "badge", "bait", "bait-candidates", "uncertainty", "round", "offsets"],
)
def test_errors_without_a_process_group(call):
    import torch.distributed as dist

    from skbait import distributed

    if dist.is_available() and dist.is_initialized():
        pytest.skip("a process group is already initialised in this process")
    with pytest.raises(RuntimeError, match="init_process_group"):
        call(distributed)


@params
@pytest.mark.parametrize("name", _named("round-sklearn"))
def test_round_with_scikit_learn(world, name):
    from sklearn.linear_model import LogisticRegression

    from skbait.strategies import BADGE, BAIT

    case = CASES[name]
    indices, models = _same_on_every_rank(_spawn(world), name)
    rng = np.random.RandomState(case["seed"])
    X = rng.normal(size=(case["n"], case["d"]))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    _, _, labeled = _pool(case)
    # Rank 0 fitted on the labeled rows in pool order, and every rank got that model.
    reference = LogisticRegression(max_iter=500).fit(X[labeled], y[labeled])
    for model in models:
        np.testing.assert_array_equal(model.coef_, reference.coef_)
    # fit_and_select runs BAIT at BAIT()'s defaults: reg="scale", 20 x B uncertain and
    # 20 x B random candidates (208 unlabeled rows, so 160 candidates leave some out).
    bait = BAIT(device="cpu")
    strategy = bait if case.get("strategy") == "bait" else BADGE(device="cpu")
    expected = strategy.select(reference, X, labeled, case["B"], random_state=0)
    np.testing.assert_array_equal(indices, expected)


@params
def test_round_with_dataframes(world):
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from skbait.strategies import UncertaintySampling

    case = CASES["round-dataframe"]
    indices, models = _same_on_every_rank(_spawn(world), "round-dataframe")
    rng = np.random.RandomState(case["seed"])
    X = pd.DataFrame(rng.normal(size=(case["n"], case["d"])), columns=["a", "b", "c"])
    y = (X["a"] + 0.5 * X["b"] > 0).astype(int) + (X["c"] > 1)
    _, _, labeled = _pool(case)
    reference = LogisticRegression().fit(X.iloc[labeled], y.iloc[labeled])
    for model in models:  # fitted on the rows gathered from every rank, in pool order
        assert list(model.feature_names_in_) == ["a", "b", "c"]
        np.testing.assert_array_equal(model.coef_, reference.coef_)
    expected = UncertaintySampling(measure="margin").select(reference, X, labeled, case["B"])
    np.testing.assert_array_equal(indices, expected)


@params
def test_round_with_skorch(world):
    pytest.importorskip("skorch")
    from skbait.strategies import CoreSet

    case = CASES["round-skorch"]
    indices, nets = _same_on_every_rank(_spawn(world), "round-skorch")
    rng = np.random.RandomState(case["seed"])
    X = rng.normal(size=(case["n"], case["d"])).astype(np.float32)
    _, _, labeled = _pool(case)
    weights = [net.module_.out.weight.detach().numpy() for net in nets]
    for w in weights[1:]:
        np.testing.assert_array_equal(w, weights[0])
    expected = CoreSet(device="cpu").select(nets[0], X, labeled, case["B"])
    np.testing.assert_array_equal(indices, expected)


@params
@pytest.mark.parametrize("name", _named("round-fallback"))
def test_round_without_information_draws_and_warns_as_one_process(world, name):
    from skbait.strategies import BADGE, BAIT, UncertaintySampling

    case = CASES[name]
    indices, messages = _same_on_every_rank(_spawn(world), name)
    X, y = _classification_rows(case, 0, case["n"])
    if case.get("one_class"):
        y = np.zeros_like(y)
    if case.get("ridge"):
        y = X[:, 0]
    _, _, labeled = _pool(case)
    model = _fallback_model(case).fit(X[labeled], y[labeled])
    strategy = {
        "uncertainty": UncertaintySampling(),
        "badge": BADGE(device="cpu"),
        "bait": BAIT(device="cpu", reg=case.get("reg", "scale")),
    }[case["strategy"]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = strategy.select(
            model,
            X,
            labeled,
            case["B"],
            random_state=case["rs"],
            embedding=_fallback_embedding(case),
        )
    np.testing.assert_array_equal(indices, expected)
    alone = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert alone, "the case should leave rows without information"
    # Rank 0 says what one process says; the other ranks stay quiet.
    assert messages[0] == alone
    assert all(not rank_messages for rank_messages in messages[1:])


def test_round_random_state_covers_a_skorch_net():
    pytest.importorskip("skorch")
    import torch.distributed as dist

    from skbait import distributed

    if not dist.is_available() or dist.is_initialized():
        pytest.skip("needs torch.distributed and no process group in this process")
    case = CASES["round-skorch"]
    X, y = _classification_rows(case, 0, case["n"])
    _, _, labeled = _pool(case)
    picks, moved = [], []
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        for torch_seed in (1, 2):  # the caller's torch seed: random_state alone should decide
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(torch_seed)
                before = torch.get_rng_state()
                indices, _ = distributed.fit_and_select(
                    _skorch_net(),
                    X.astype(np.float32),
                    y.astype(np.int64),
                    labeled,
                    case["B"],
                    strategy="coreset",
                    strategy_params={"device": "cpu"},
                    random_state=0,
                )
                moved.append(not torch.equal(before, torch.get_rng_state()))
            picks.append(indices)
    finally:
        dist.destroy_process_group()
    np.testing.assert_array_equal(picks[0], picks[1])
    assert not any(moved)
