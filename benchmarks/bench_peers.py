"""skbait's strategies against their fastest peers, same pool, same thread count.

Peers (benchmark-only, not skbait dependencies; install them without their own
dependencies so that no other torch is pulled in)::

    pip install --no-deps bmdal-reg modAL-python dill

- CoreSet against bmdal_reg's ``maxdist`` (float32, the same greedy k-center);
- regression BAIT (one output: the rank-one Fisher ``z z^T``) against
  bmdal_reg's ``bait`` in feature space;
- margin sampling against modAL's ``margin_sampling``.

A peer that is not installed is skipped with a note. Each time is the median
of ``--repeats`` runs with ``--threads`` torch and BLAS threads (default 1);
``ratio`` is skbait's time over the peer's (below 1: skbait is faster). The
selections are compared too (``same``: identical sets; CoreSet and maxdist
start alike only when the labeled set is not empty, which is the case here).

Usage::

    python benchmarks/bench_peers.py                 # n = 5,000 and 50,000
    python benchmarks/bench_peers.py --sizes 2000 --repeats 1   # a quick check
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# bmdal_reg 3.0.2 still uses np.Inf, removed in numpy 2.0.
setattr(np, "Inf", np.inf)  # noqa: B010 (np.Inf would be rewritten by the NPY201 fix)


def _median_time(func, repeats):
    func()  # warm-up: one-off start-up costs are not what a user pays per round
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def _pool(n, d, k, seed=0):
    """Gaussian classes, a LogisticRegression fitted on the first n // 10 rows."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.RandomState(seed)
    means = rng.normal(scale=1.5, size=(k, d))
    y = rng.randint(k, size=n)
    X = means[y] + rng.normal(size=(n, d))
    labeled = np.arange(n // 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(max_iter=100).fit(X[labeled], y[labeled])
    return X, labeled, model


def _bmdal():
    try:
        from bmdal_reg.bmdal.feature_data import TensorFeatureData
        from bmdal_reg.bmdal.feature_maps import IdentityFeatureMap
        from bmdal_reg.bmdal.features import Features
        from bmdal_reg.bmdal.selection import (
            BaitFeatureSpaceSelectionMethod,
            MaxDistSelectionMethod,
        )
    except ImportError as exc:
        return None, f"bmdal_reg not available ({exc}); pip install --no-deps bmdal-reg dill"

    def features(A):
        return Features(IdentityFeatureMap(A.shape[1]), TensorFeatureData(A))

    return (features, MaxDistSelectionMethod, BaitFeatureSpaceSelectionMethod), None


def compare(n, d, k, B, repeats):
    """Rows (strategy, peer, skbait s, peer s, ratio, same) for one pool."""
    import torch

    from skbait.strategies import BAIT, CoreSet, UncertaintySampling

    X, labeled, model = _pool(n, d, k)
    unlabeled = np.setdiff1d(np.arange(n), labeled)
    rows = []
    bmdal, why = _bmdal()

    coreset = CoreSet(device="cpu")
    ours_s, ours = _median_time(lambda: coreset.select(model, X, labeled, B), repeats)
    if bmdal is not None:
        features, MaxDist, Bait = bmdal
        X32 = torch.as_tensor(X, dtype=torch.float32)
        pool, train = features(X32[unlabeled]), features(X32[labeled])

        def maxdist():
            return MaxDist(pool, train, verbosity=0).select(B)

        peer_s, peer = _median_time(maxdist, repeats)
        same = set(unlabeled[peer.numpy()].tolist()) == set(ours.tolist())
        rows.append(("coreset", "bmdal_reg maxdist f32", ours_s, peer_s, same))
    else:
        rows.append(("coreset", why, ours_s, None, None))

    # Regression BAIT: the rank-one Fisher z z^T (one output).
    from sklearn.linear_model import Ridge

    ridge = Ridge().fit(X[labeled], X[labeled, 0])
    bait = BAIT(device="cpu")
    ours_s, ours = _median_time(lambda: bait.select(ridge, X, labeled, B), repeats)
    if bmdal is not None:
        X64 = torch.as_tensor(X, dtype=torch.float64)
        pool, train = features(X64[unlabeled]), features(X64[labeled])

        def bait_peer():
            return Bait(pool, train, verbosity=0).select(B)

        peer_s, peer = _median_time(bait_peer, repeats)
        overlap = len(set(unlabeled[peer.numpy()].tolist()) & set(ours.tolist())) / B
        rows.append(("bait (regression)", "bmdal_reg bait", ours_s, peer_s, f"{overlap:.0%}"))
    else:
        rows.append(("bait (regression)", why, ours_s, None, None))

    margin = UncertaintySampling("margin")
    ours_s, ours = _median_time(lambda: margin.select(model, X, labeled, B), repeats)
    try:
        from modAL.uncertainty import margin_sampling
    except ImportError as exc:
        rows.append(("margin", f"modAL not available ({exc})", ours_s, None, None))
    else:
        X_unlabeled = X[unlabeled]

        def modal():
            # modAL queries the unlabeled rows it is given.
            return margin_sampling(model, X_unlabeled, n_instances=B)

        peer_s, peer = _median_time(modal, repeats)
        picked = peer[0] if isinstance(peer, tuple) else peer
        same = set(unlabeled[np.asarray(picked)].tolist()) == set(ours.tolist())
        rows.append(("margin", "modAL margin_sampling", ours_s, peer_s, same))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000])
    parser.add_argument("--dims", type=int, default=64)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    print(
        f"{args.threads} thread(s), d={args.dims}, k={args.classes}, B={args.batch_size}, "
        f"median of {args.repeats}; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs"
    )
    header = (
        f"{'n':>7} {'strategy':<18} {'peer':<24} {'skbait s':>9} {'peer s':>9} {'ratio':>6} same"
    )
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        for name, peer, ours, theirs, same in compare(
            n, args.dims, args.classes, args.batch_size, args.repeats
        ):
            if theirs is None:
                print(f"{n:>7} {name:<18} {'-':<24} {ours:>9.3f} {'-':>9} {'-':>6} ({peer})")
                continue
            print(
                f"{n:>7} {name:<18} {peer:<24} {ours:>9.3f} {theirs:>9.3f} "
                f"{ours / theirs:>6.2f} {same}",
                flush=True,
            )


if __name__ == "__main__":
    main()
