"""The active learning loop of ActiveLearner, as a diagram (drawn at docs build time)."""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

fig, ax = plt.subplots(figsize=(8.6, 4.6))
ax.set_xlim(0, 10)
ax.set_ylim(0, 5.4)
ax.axis("off")

boxes = {
    "pool": (
        0.2,
        2.0,
        2.6,
        1.5,
        "the pool\nlabeled rows + unlabeled rows\n(X, with y for the labeled)",
    ),
    "fit": (3.7, 3.6, 2.6, 1.3, "fit a clone of the estimator\non the labeled rows only"),
    "query": (7.2, 2.0, 2.6, 1.5, "the query strategy\nchooses batch_size\nunlabeled rows"),
    "label": (
        3.7,
        0.3,
        2.6,
        1.3,
        "their labels: revealed from y\n(simulation) or given by\nan annotator (teach)",
    ),
}
colors = {"pool": "#dbe9f6", "fit": "#fde9d0", "query": "#e3f1dc", "label": "#f3e1ef"}
for name, (x, y, w, h, text) in boxes.items():
    ax.add_patch(
        FancyBboxPatch(
            (x, y),
            w,
            h,
            boxstyle="round,pad=0.05,rounding_size=0.15",
            facecolor=colors[name],
            edgecolor="0.3",
        )
    )
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=9)


def arrow(start, end, text=None, where=(0, 0), rad=0.0):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=14,
            color="0.25",
            linewidth=1.3,
            connectionstyle=f"arc3,rad={rad}",
        )
    )
    if text:
        ax.text(*where, text, ha="center", va="center", fontsize=8, color="0.2", style="italic")


arrow((1.5, 3.55), (3.65, 4.25), "1. train", (2.2, 4.3), rad=-0.2)
arrow((6.35, 4.25), (8.5, 3.55), "2. model: p(x), embedding z(x)", (8.3, 4.55), rad=-0.2)
arrow((8.5, 1.95), (6.35, 0.95), "3. rows to label", (8.3, 0.85), rad=-0.2)
arrow((3.65, 0.95), (1.5, 1.95), "4. add to the labeled rows", (1.6, 0.8), rad=-0.2)
ax.text(
    5.0,
    2.75,
    "one round = one record in history_\n"
    "until budget labels are used\n"
    "or a stopping criterion holds",
    ha="center",
    va="center",
    fontsize=9,
    color="0.15",
)
ax.set_title(
    "One round of ActiveLearner: simulated (budget set) or real labeling (query, teach)",
    fontsize=10,
)
fig.tight_layout()
