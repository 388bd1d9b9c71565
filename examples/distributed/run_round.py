"""
Active learning over a pool split across processes
==================================================

Every process holds one shard of the pool and nothing else. Each round, the
labeled rows travel to rank 0, which fits the model; the fitted model is
broadcast, each process embeds its own shard, and BAIT chooses the batch
across all shards (:func:`skbait.distributed.fit_and_select`). Every process
gets the same pool indices back: each keeps the ones that fall in its shard.

Run on two CPU processes::

    python -m torch.distributed.run --standalone --nproc-per-node 2 \\
        examples/distributed/run_round.py

On GPUs, start one process per GPU and pass ``device="cuda"`` (the group then
uses NCCL). Started with plain ``python``, the script runs as a group of one.

At the end, rank 0 rebuilds the whole pool (it is synthetic, so cheap to
regenerate) and checks that single-process BAIT picks the same rows.
"""

import os
import time

import numpy as np
import torch
import torch.distributed as dist
from sklearn.linear_model import LogisticRegression

from skbait.distributed import fit_and_select, shard_offsets
from skbait.strategies import BAIT

N_PER_RANK, N_FEATURES, N_LABELED_PER_RANK, BATCH, ROUNDS = 3000, 8, 10, 10, 3


def make_shard(rank):
    """This rank's rows of a three-class pool (each rank draws its own)."""
    rng = np.random.RandomState(1000 + rank)
    X = rng.normal(size=(N_PER_RANK, N_FEATURES))
    y = (X[:, 0] > 0.3).astype(int) + (X[:, 1] + X[:, 2] > 0.5)
    return X, y


def main():
    if "RANK" in os.environ:  # started by torchrun
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    else:  # plain python: a group of one process
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    rank, world = dist.get_rank(), dist.get_world_size()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))

    X, y = make_shard(rank)
    offsets = shard_offsets(len(X))  # where each rank's rows sit in the pool
    labeled = np.zeros(len(X), dtype=bool)
    labeled[:N_LABELED_PER_RANK] = True

    for round_ in range(ROUNDS):
        start = time.perf_counter()
        picks, model = fit_and_select(
            LogisticRegression(max_iter=1000),
            X,
            y,
            labeled,
            BATCH,
            strategy="bait",
            # BAIT at its default, reg="scale": lambda follows the whole pool's
            # embedding scale, measured across ranks.
            strategy_params={"device": device},
            # Seeds BAIT's random candidates (rank 0's draw, shared by all).
            random_state=round_,
        )
        seconds = time.perf_counter() - start
        # The picks are pool indices: keep those of this shard (the annotator's
        # labels would arrive here; y is the simulated oracle).
        lo, hi = offsets[rank], offsets[rank + 1]
        mine = picks[(picks >= lo) & (picks < hi)] - lo
        labeled[mine] = True
        if rank == 0:
            print(
                f"round {round_}: model accuracy on rank 0's rows {model.score(X, y):.3f}; "
                f"{world} processes chose {picks.tolist()} in {seconds:.2f} s"
            )

    # The check: the same round on one process over the whole pool.
    everyone = [None] * world
    dist.all_gather_object(everyone, labeled)
    if rank == 0:
        shards = [make_shard(r) for r in range(world)]
        X_pool = np.concatenate([s[0] for s in shards])
        y_pool = np.concatenate([s[1] for s in shards])
        mask = np.concatenate(everyone)
        before = mask.copy()
        before[picks] = False  # the labeled set of the last round
        reference = LogisticRegression(max_iter=1000).fit(X_pool[before], y_pool[before])
        single = BAIT(device=device).select(
            reference, X_pool, before, BATCH, random_state=ROUNDS - 1
        )
        same = np.array_equal(single, picks)
        print(f"identical to single-process BAIT on the whole pool: {same}")
        if not same:
            raise SystemExit(f"distributed picks {picks} differ from single-process {single}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
