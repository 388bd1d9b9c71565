"""
====================================================
Comparing strategies: learning curves and penalties
====================================================

What ``skbait run`` does, step by step in Python: run several query
strategies with several seeds on one problem with
:func:`~skbait.evaluation.compare_strategies`, then read the results table
with the paper's tools (Ash et al., NeurIPS 2021, section 6.2):

- the **learning curves**, mean test score against labels used, with a band
  of one standard error over the seeds
  (:func:`~skbait.plotting.plot_learning_curves`);
- the **pairwise penalty matrix**: entry ``(i, j)`` is the fraction of the
  checkpoints at which strategy ``i`` beat strategy ``j`` in a paired t test
  over the seeds; its column means say how often each strategy lost
  (:func:`~skbait.evaluation.penalty_matrix`,
  :func:`~skbait.plotting.plot_penalty_matrix`);
- the **selection time** per batch
  (:func:`~skbait.plotting.plot_selection_time`).

The problem is small, so that the whole comparison runs in under a
minute: the digits, reduced to 16 principal components, and a logistic
regression.
"""

# %%
# The problem
# -----------
# Half of the digits form the pool whose labels the simulated oracle reveals
# on request, the other half the test set. The principal components are
# fitted on the pool's pixels only, which uses no label.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skbait.evaluation import (
    compare_strategies,
    learning_curve_auc,
    penalty_checkpoints,
    penalty_matrix,
    score_table,
)
from skbait.plotting import plot_learning_curves, plot_penalty_matrix, plot_selection_time

X, y = load_digits(return_X_y=True)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
pca = PCA(n_components=16, whiten=True, random_state=0).fit(X_pool)
X_pool, X_test = pca.transform(X_pool), pca.transform(X_test)
print(f"pool: {X_pool.shape}, test: {X_test.shape}")

# %%
# Every strategy, every seed
# --------------------------
# Five strategies, five seeds, 10 labels at random to start and batches of 10
# up to 70 labels. At a given seed every strategy starts from the same
# initial draw, so the scores are paired, which the penalty matrix's t tests
# use. The result is a tidy table with one row per strategy, seed and round.

results = compare_strategies(
    LogisticRegression(max_iter=1000),
    X_pool,
    y_pool,
    X_test,
    y_test,
    strategies=["bait", "badge", "coreset", "confidence", "random"],
    seeds=5,
    n_initial=10,
    batch_size=10,
    budget=70,
    verbose=0,
)
print(results[["strategy", "seed", "round", "n_labeled", "score"]].head(3).to_string())

# %%
# Learning curves
# ---------------
# Test accuracy against labels used; :func:`~skbait.evaluation.score_table`
# gives the same curves as numbers at exponentially spaced budgets, and
# :func:`~skbait.evaluation.learning_curve_auc` one number per strategy: the
# mean accuracy over the rounds (higher is better).

fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
plot_learning_curves(results, ax=ax, ylabel="test accuracy")
plt.show()

print(score_table(results).to_string())
print(learning_curve_auc(results).round(3).to_string())

# %%
# The penalty matrix
# ------------------
# The strategies are compared at the checkpoints ``10 + 2**j * 10`` labels,
# up to the first budget at which random sampling is within 1% of its final
# accuracy (:func:`~skbait.evaluation.penalty_checkpoints`). With one
# experiment, every entry lies between 0 and 1, the heatmap's fixed colour
# scale, and the diagonal is blank.

checkpoints = penalty_checkpoints(results)
print(f"checkpoints: {list(checkpoints)}")
P = penalty_matrix(results)
fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
plot_penalty_matrix(P, ax=ax)
plt.show()

# %%
# The column means, sorted: how often each strategy was beaten, lower is
# better. With five seeds a t test needs a consistent difference to call a
# win; the count of pairs that never won is printed last.

print(P.mean(axis=0).sort_values().round(3).to_string())
off_diagonal = ~np.eye(len(P), dtype=bool)
print(
    f"{int((P.to_numpy()[off_diagonal] == 0).sum())} of {int(off_diagonal.sum())} ordered "
    f"pairs (i, j): i never beat j significantly at any of the {len(checkpoints)} checkpoints"
)

# %%
# Selection time
# --------------
# What a batch costs each strategy, the model's fit excluded.

fig, ax = plt.subplots(figsize=(6, 3.8), layout="constrained")
plot_selection_time(results, ax=ax)
plt.show()
