"""Learning curves, their checkpoints and the penalty matrix of one small experiment.

Run at docs build time: the gallery example plot_compare_strategies.py at a
glance (the digits reduced to 16 principal components, a logistic regression,
five strategies, five seeds, 70 labels), drawn by skbait.plotting.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skbait.evaluation import compare_strategies, penalty_checkpoints, penalty_matrix
from skbait.plotting import plot_learning_curves, plot_penalty_matrix

X, y = load_digits(return_X_y=True)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
pca = PCA(n_components=16, whiten=True, random_state=0).fit(X_pool)
X_pool, X_test = pca.transform(X_pool), pca.transform(X_test)

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
    n_jobs=1,
    verbose=0,
)
checkpoints = penalty_checkpoints(results)

fig, (curves, matrix) = plt.subplots(
    1, 2, figsize=(11, 4.4), layout="constrained", width_ratios=[1.15, 1]
)
plot_learning_curves(results, ax=curves, ylabel="test accuracy")
for budget in checkpoints:
    curves.axvline(budget, color="0.5", ls=":", lw=1, zorder=0)
curves.set_title(
    f"learning curves (5 seeds, mean ± s.e.); checkpoints {', '.join(map(str, checkpoints))}",
    fontsize="medium",
)
plot_penalty_matrix(penalty_matrix(results), ax=matrix)
matrix.set_title("penalty matrix: row beat column, share of the checkpoints", fontsize="medium")
