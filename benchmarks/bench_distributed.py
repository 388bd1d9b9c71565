"""Sharded BAIT on 1, 2 and 4 processes: time, peak memory per rank, share of communication.

Starts ``world`` fresh processes for each rank count (gloo on 127.0.0.1, or NCCL
with ``--device cuda``, one GPU per rank). Every rank builds only its own shard
of a synthetic pool (rows drawn in fixed blocks from fixed seeds, so the pool
does not depend on the rank count), then all ranks call
:func:`skbait.distributed.bait_select` together. Prints, per rank count:

- ``seconds``: the slowest rank's wall time of the call, and its phases:
  ``setup`` (validation, ``F`` and ``M_0``, the first per-row state), ``forward``
  (the ``2B`` greedy additions), ``backward`` (the ``B`` removals);
- ``comm``: the share of the call spent inside collectives (waiting for slower
  ranks included); what each rank passes to the collectives once in the
  setup (``F`` and ``M_0``), and per greedy step (collectives and bytes);
- ``peak MiB``: each rank's peak resident memory, and its rise during the call
  (shard arrays, per-row state, temporaries); ``cuda MiB`` with ``--device cuda``;
- ``us/row/step``: forward time per candidate row per greedy step on one
  rank, the per-row cost the user guide projects from;
- whether the picks equal those of the first rank count.

The issue's figure is ``--n 200000 --d 64 --k 10 --batch 100 --ranks 1 2 4``
(the defaults). Threads per rank default to the machine's cores divided by the
rank count (``--threads`` overrides). Example, small::

    python benchmarks/bench_distributed.py --n 20000 --ranks 1 2
"""

import argparse
import collections
import datetime
import json
import os
import resource
import socket
import sys
import tempfile
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

BLOCK = 10_000  # rows drawn per seed: the pool is the same for every rank count


def _rows(lo, hi, d, k, seed):
    """Rows ``lo:hi`` of the synthetic pool, drawn block by block."""
    Z = np.empty((hi - lo, d))
    logits = np.empty((hi - lo, k))
    w = np.random.RandomState(seed + 10**6).normal(size=(d, k)) / np.sqrt(d)
    for block in range(lo // BLOCK, (hi - 1) // BLOCK + 1 if hi > lo else 0):
        rng = np.random.RandomState(seed + block)
        z = rng.normal(size=(BLOCK, d))
        a, b = max(lo, block * BLOCK), min(hi, (block + 1) * BLOCK)
        Z[a - lo : b - lo] = z[a - block * BLOCK : b - block * BLOCK]
        logits[a - lo : b - lo] = 2.0 * z[a - block * BLOCK : b - block * BLOCK] @ w
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    return Z, P / P.sum(axis=1, keepdims=True)


def _instrument(stats):
    """Time and count every collective of skbait.distributed, and the greedy's phases."""
    from skbait.distributed._bait import ShardedGreedy
    from skbait.distributed._comm import Group

    def timed(name, fn, count_bytes=False):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                stats[name] += time.perf_counter() - start
                if count_bytes:
                    stats["calls"] += 1
                    t = args[1] if len(args) > 1 else None
                    if isinstance(t, torch.Tensor):
                        stats["bytes"] += t.numel() * t.element_size()

        return wrapper

    for name in ("all_reduce", "broadcast", "all_gather", "all_gather_object", "broadcast_object"):
        method = getattr(Group, name)
        setattr(Group, name, timed("comm", method, count_bytes=True))
    greedy = ShardedGreedy
    forward = greedy.forward

    def first_step(*args, **kwargs):
        stats["setup_bytes"], stats["setup_calls"] = stats["bytes"], stats["calls"]
        return forward(*args, **kwargs)

    greedy.forward = timed("forward", first_step)
    greedy.backward = timed("backward", greedy.backward)


def _worker(rank, world, args, address, out_dir):
    torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // world))
    cuda = args.device == "cuda"
    if cuda:
        torch.cuda.set_device(rank)
    dist.init_process_group(
        "nccl" if cuda else "gloo",
        init_method=address,
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=1800),
    )
    from skbait.distributed import bait_select

    stats = collections.defaultdict(float)
    _instrument(stats)
    bounds = np.linspace(0, args.n, world + 1).astype(int)
    lo, hi = int(bounds[rank]), int(bounds[rank + 1])
    Z, P = _rows(lo, hi, args.d, args.k, args.seed)
    # Every (n / n_labeled)-th row of the pool is labeled.
    step = max(1, args.n // args.labeled)
    labeled = np.arange(-lo % step, hi - lo, step)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    dist.barrier()
    start = time.perf_counter()
    picks = bait_select(Z, P, labeled, args.batch, device=args.device, dtype=args.dtype)
    seconds = time.perf_counter() - start
    comm, forward, backward = stats["comm"], stats["forward"], stats["backward"]
    result = {
        "seconds": seconds,
        "forward": forward,
        "backward": backward,
        "setup": seconds - forward - backward,
        "comm": comm,
        "calls": int(stats["calls"]),
        "bytes": int(stats["bytes"]),
        "setup_calls": int(stats["setup_calls"]),
        "setup_bytes": int(stats["setup_bytes"]),
        "rows": hi - lo,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rise_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before,
        "cuda_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
        "threads": torch.get_num_threads(),
        "picks": picks.tolist(),
    }
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(result, f)
    dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(world, args):
    out_dir = tempfile.mkdtemp(prefix="bench_distributed_")
    address = f"tcp://127.0.0.1:{_free_port()}"
    mp.start_processes(
        _worker, args=(world, args, address, out_dir), nprocs=world, start_method="spawn"
    )
    ranks = []
    for r in range(world):
        with open(os.path.join(out_dir, f"rank{r}.json")) as f:
            ranks.append(json.load(f))
    return ranks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="pool rows")
    parser.add_argument("--d", type=int, default=64, help="embedding width")
    parser.add_argument("--k", type=int, default=10, help="classes")
    parser.add_argument("--batch", type=int, default=100, help="batch size B")
    parser.add_argument("--labeled", type=int, default=1000, help="labeled rows")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--threads", type=int, default=None, help="torch threads per rank")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    print(
        f"BAIT, n={args.n}, d={args.d}, k={args.k}, B={args.batch}, "
        f"{args.labeled} labeled, {args.device}, {args.dtype}"
    )
    header = (
        f"{'ranks':>5} {'threads':>7} {'seconds':>8} {'setup':>7} {'forward':>8} "
        f"{'backward':>8} {'comm %':>7} {'setup KiB':>9} {'calls/step':>10} {'B/step':>7} "
        f"{'peak MiB':>9} "
        f"{'rise MiB':>9} {'us/row/step':>11} same"
    )
    print(header)
    first = None
    for world in args.ranks:
        ranks = run(world, args)
        slowest = max(ranks, key=lambda r: r["seconds"])
        comm = max(r["comm"] / r["seconds"] for r in ranks)
        n_forward = 2 * args.batch
        per_row = slowest["forward"] / (n_forward * max(r["rows"] for r in ranks)) * 1e6
        n_steps = n_forward + (n_forward - args.batch)
        calls = (slowest["calls"] - slowest["setup_calls"]) / n_steps
        step_bytes = (slowest["bytes"] - slowest["setup_bytes"]) / n_steps
        picks = ranks[0]["picks"]
        first = first or picks
        peak = "/".join(f"{r['peak_mib']:.0f}" for r in ranks)
        rise = "/".join(f"{r['rise_mib']:.0f}" for r in ranks)
        print(
            f"{world:>5} {slowest['threads']:>7} {slowest['seconds']:>8.2f} "
            f"{slowest['setup']:>7.2f} {slowest['forward']:>8.2f} {slowest['backward']:>8.2f} "
            f"{100 * comm:>6.1f}% {slowest['setup_bytes'] / 1024:>9.0f} {calls:>10.1f} "
            f"{step_bytes:>7.0f} "
            f"{peak:>9} {rise:>9} {per_row:>11.3f} {picks == first}"
        )
        if args.device == "cuda":
            print("      cuda MiB per rank: " + "/".join(f"{r['cuda_mib']:.0f}" for r in ranks))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
