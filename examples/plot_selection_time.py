"""
==============================================
How long does a query take? (Fig. 9)
==============================================

Figure 9 of the BAIT paper (Ash et al., NeurIPS 2021): in regression, the
pointwise Fisher of a row is the rank-one ``z z^T`` of its last-layer
embedding ``z`` (paper, eq. 6), so each greedy step of BAIT is a rank-one
Woodbury update, and the paper finds BAIT "only slightly slower than
Coreset" (timed on a GPU).

We time :meth:`~skbait.QueryStrategy.select` of each strategy, by name, on
pools of growing size and for growing batch sizes, with a linear regressor on
64-dimensional features (the embedding BAIT and CORESET see). For contrast we
also time BAIT for a 10-class classifier on the same features, whose pointwise
Fisher has rank 10: the paper notes that classification BAIT is roughly ``k``
times slower than BADGE per selected row.

Timings depend on the machine; we report the fastest of a few repeats, which
is the least disturbed by other processes. The paper times larger pools on a
GPU; this example stays on the CPU, with pools of at most 4000 rows, so that
it runs in well under a minute. Every statement about the figure below is
computed from the times measured when this page was built.
"""

# %%
# A regression pool and a classification pool
# --------------------------------------------

import textwrap
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge

from skbait.strategies import make_strategy

rng = np.random.RandomState(0)
n_max, d, n_labeled, n_classes = 4000, 64, 100, 10
X = rng.normal(size=(n_max, d))
y_reg = X @ rng.normal(size=d) + rng.normal(size=n_max)
y_clf = np.argmax(X[:, :n_classes] + rng.gumbel(size=(n_max, n_classes)), axis=1)
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
    "bait, regression": ("bait", regressor),
    "coreset": ("coreset", regressor),
    "random": ("random", regressor),
}

# %%
# Time against pool size
# ----------------------
# Batches of 20 rows from pools of 500 to 4000 rows. The classification
# BAIT query is timed once per pool (it is the slowest by far).

pool_sizes = [500, 1000, 2000, 4000]
by_pool = {label: [] for label in [*runs, "bait, 10 classes"]}
for n_pool in pool_sizes:
    for label, (name, model) in runs.items():
        by_pool[label].append(seconds(name, model, n_pool, 20))
    by_pool["bait, 10 classes"].append(seconds("bait", classifier, n_pool, 20, repeats=1))
    print(
        f"n = {n_pool:5d}: "
        + ", ".join(f"{label} {times[-1]:.4f} s" for label, times in by_pool.items())
    )

# %%
# Time against batch size
# -----------------------
# A pool of 2000 rows, batches of 10 to 80 rows (regression only).

batch_sizes = [10, 20, 40, 80]
by_batch = {label: [] for label in runs}
for batch_size in batch_sizes:
    for label, (name, model) in runs.items():
        by_batch[label].append(seconds(name, model, 2000, batch_size))
    print(
        f"B = {batch_size:3d}: "
        + ", ".join(f"{label} {times[-1]:.4f} s" for label, times in by_batch.items())
    )

# %%
# The figure
# ----------

styles = {
    "bait, regression": dict(color="C0", marker="o"),
    "coreset": dict(color="C3", marker="s"),
    "random": dict(color="gray", marker=".", linestyle=":"),
    "bait, 10 classes": dict(color="C0", marker="^", linestyle="--"),
}
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for label, style in styles.items():
    axes[0].plot(pool_sizes, by_pool[label], label=label, **style)
    if label in by_batch:
        axes[1].plot(batch_sizes, by_batch[label], label=label, **style)
axes[0].set_xlabel("pool size (batch of 20)")
axes[1].set_xlabel("batch size (pool of 2000)")
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

# %%
# What the figure says
# --------------------
# The paragraph below is written from the measured times: the growth
# exponent of each curve is the slope of a least-squares line through its
# points on the log-log axes (1 is linear growth), and the ratios are taken
# at the largest pool and batch.


def exponent(sizes, times):
    """Slope of log(time) against log(size): time grows as size ** slope."""
    return np.polyfit(np.log(sizes), np.log(times), 1)[0]


def growth(slope):
    """Words for a growth exponent (the fixed costs of a call flatten small pools)."""
    if slope < 0.75:
        return "grows less than linearly with"
    if slope <= 1.25:
        return "grows about linearly with"
    return "grows faster than linearly with"


bait, coreset = by_pool["bait, regression"][-1], by_pool["coreset"][-1]
bait_k = by_pool["bait, 10 classes"][-1]
slopes = {label: exponent(pool_sizes, times) for label, times in by_pool.items()}
batch_slope = exponent(batch_sizes, by_batch["bait, regression"])
verdict = (
    "in the same league as CORESET, as in the paper"
    if bait / coreset <= 10
    else "more than ten times slower than CORESET here, unlike the paper's GPU timings"
)
paragraph = (
    f"At {pool_sizes[-1]} rows and a batch of 20, BAIT for regression took {bait:.3g} s "
    f"and CORESET {coreset:.3g} s: BAIT was {bait / coreset:.1f} times slower, {verdict}. "
    f"Over pools from {pool_sizes[0]} to {pool_sizes[-1]} rows, BAIT's time "
    f"{growth(slopes['bait, regression'])} the pool (exponent "
    f"{slopes['bait, regression']:.2f}) and CORESET's {growth(slopes['coreset'])} it "
    f"(exponent {slopes['coreset']:.2f}). From batches of {batch_sizes[0]} to "
    f"{batch_sizes[-1]} rows, BAIT's time was multiplied by "
    f"{by_batch['bait, regression'][-1] / by_batch['bait, regression'][0]:.1f} (exponent "
    f"{batch_slope:.2f}): it makes 2B forward and B backward steps. The classifier's "
    f"rank-{n_classes} Fisher made BAIT {bait_k / bait:.0f} times slower than for "
    f"regression at {pool_sizes[-1]} rows ({bait_k:.3g} s against {bait:.3g} s)."
)
print(textwrap.fill(paragraph, width=88))
