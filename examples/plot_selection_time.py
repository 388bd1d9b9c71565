"""
==============================================
How long does a query take? (Fig. 9)
==============================================

Figure 9 of the BAIT paper (Ash et al., NeurIPS 2021): in regression, the
pointwise Fisher of a row is the rank-one ``z z^T`` of its last-layer
embedding ``z`` (paper, eq. 6), so each greedy step of BAIT is a rank-one
Woodbury update and BAIT runs about as fast as CORESET.

We time :meth:`~skbait.QueryStrategy.select` of each strategy, by name, on
pools of growing size and for growing batch sizes, with a linear regressor on
128-dimensional features (the embedding BAIT and CORESET see). For contrast we
also time BAIT for a 10-class classifier on the same features, whose pointwise
Fisher has rank 10: the paper notes it is roughly ``k`` times slower per row.

Timings depend on the machine; we report the fastest of a few repeats, which
is the least disturbed by other processes. The paper times larger pools on a
GPU; this example stays on the CPU and under a minute or two.
"""

# %%
# A regression pool and a classification pool
# --------------------------------------------

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge

from skbait.strategies import make_strategy

rng = np.random.RandomState(0)
n_max, d, n_labeled = 8000, 128, 100
X = rng.normal(size=(n_max, d))
y_reg = X @ rng.normal(size=d) + rng.normal(size=n_max)
y_clf = np.argmax(X[:, :10] + rng.gumbel(size=(n_max, 10)), axis=1)
labeled = np.arange(n_labeled)
regressor = Ridge().fit(X[labeled], y_reg[labeled])
classifier = LogisticRegression(max_iter=500).fit(X[labeled], y_clf[labeled])


def seconds(name, model, n_pool, batch_size, repeats=3):
    """Fastest of ``repeats`` timed queries on the first ``n_pool`` rows."""
    strategy = make_strategy(name)
    best = np.inf
    for repeat in range(repeats):
        start = time.perf_counter()
        strategy.select(model, X[:n_pool], labeled, batch_size, random_state=repeat)
        best = min(best, time.perf_counter() - start)
    return best


runs = {
    "BAIT, regression": ("bait", regressor),
    "CORESET": ("coreset", regressor),
    "RANDOM": ("random", regressor),
}

# %%
# Time against pool size
# ----------------------
# Batches of 20 rows from pools of 1000 to 8000 rows. The classification
# BAIT query is timed once per pool (it takes seconds, not milliseconds).

pool_sizes = [1000, 2000, 4000, 8000]
by_pool = {label: [] for label in [*runs, "BAIT, 10 classes"]}
for n_pool in pool_sizes:
    for label, (name, model) in runs.items():
        by_pool[label].append(seconds(name, model, n_pool, 20))
    by_pool["BAIT, 10 classes"].append(seconds("bait", classifier, n_pool, 20, repeats=1))
    print(
        f"n = {n_pool:5d}: "
        + ", ".join(f"{label} {times[-1]:.3f} s" for label, times in by_pool.items())
    )

# %%
# Time against batch size
# -----------------------
# A pool of 4000 rows, batches of 10 to 80 rows (regression only).

batch_sizes = [10, 20, 40, 80]
by_batch = {label: [] for label in runs}
for batch_size in batch_sizes:
    for label, (name, model) in runs.items():
        by_batch[label].append(seconds(name, model, 4000, batch_size))
    print(
        f"B = {batch_size:3d}: "
        + ", ".join(f"{label} {times[-1]:.3f} s" for label, times in by_batch.items())
    )

# %%
# The figure
# ----------
# Both regression BAIT and CORESET grow about linearly with the pool and
# take a fraction of a second here; BAIT costs several times CORESET and grows
# with the batch too (2B forward steps, then B backward steps), but it stays
# in the same league, which is the paper's point. The classification version
# pays for its rank-k Fisher: its ``(kd) x (kd)`` information matrix makes it
# one to two orders of magnitude slower on this CPU.

styles = {
    "BAIT, regression": dict(color="C0", marker="o"),
    "CORESET": dict(color="C3", marker="s"),
    "RANDOM": dict(color="gray", marker=".", linestyle=":"),
    "BAIT, 10 classes": dict(color="C0", marker="^", linestyle="--"),
}
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for label, style in styles.items():
    axes[0].plot(pool_sizes, by_pool[label], label=label, **style)
    if label in by_batch:
        axes[1].plot(batch_sizes, by_batch[label], label=label, **style)
axes[0].set_xlabel("pool size (batch of 20)")
axes[1].set_xlabel("batch size (pool of 4000)")
for ax, ticks in zip(axes, (pool_sizes, batch_sizes)):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(ticks, labels=[str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_ylabel("seconds per query")
axes[1].legend(*axes[0].get_legend_handles_labels(), loc="lower right", bbox_to_anchor=(1, 0.15))
fig.suptitle(f"Selection time, {d}-dimensional embeddings, CPU")
fig.tight_layout()
plt.show()
