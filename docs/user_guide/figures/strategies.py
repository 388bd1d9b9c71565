"""What each strategy picks on one small 2-D pool (computed at docs build time)."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression

from skbait.strategies import make_strategy

X, y = make_blobs(
    n_samples=400, centers=[(-2, 0), (2, 0), (0, 2.5)], cluster_std=1.1, random_state=0
)
rng = np.random.RandomState(0)
labeled = rng.choice(len(X), size=12, replace=False)
model = LogisticRegression().fit(X[labeled], y[labeled])
names = ["bait", "badge", "coreset", "margin", "random"]

xx, yy = np.meshgrid(np.linspace(-5.5, 5.5, 200), np.linspace(-3.5, 6, 200))
regions = model.predict(np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)

fig, axes = plt.subplots(1, len(names), figsize=(13, 3.1), sharex=True, sharey=True)
for ax, name in zip(axes, names):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        chosen = make_strategy(name).select(model, X, labeled, 15, random_state=0)
    ax.contourf(
        xx, yy, regions, levels=[-0.5, 0.5, 1.5, 2.5], colors=["#dbe9f6", "#fde9d0", "#e3f1dc"]
    )
    ax.scatter(X[:, 0], X[:, 1], s=5, c="0.6", linewidths=0)
    ax.scatter(X[labeled, 0], X[labeled, 1], s=28, c="black", marker="s", label="labeled")
    ax.scatter(
        X[chosen, 0],
        X[chosen, 1],
        s=40,
        facecolors="none",
        edgecolors="C3",
        linewidths=1.6,
        label="chosen",
    )
    ax.set_title(name, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
axes[0].legend(loc="lower left", fontsize=8, framealpha=0.9)
fig.suptitle(
    "15 rows chosen from one pool by each strategy, after a logistic regression on 12 labels "
    "(shading: its predicted class)",
    fontsize=10,
)
fig.tight_layout()
