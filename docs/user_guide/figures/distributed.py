"""One greedy step of BAIT over a sharded pool: what each rank holds, what travels."""

import itertools

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

fig, ax = plt.subplots(figsize=(9, 4.2))
ax.set_xlim(0, 12)
ax.set_ylim(0, 5.6)
ax.axis("off")

shards = [(0.3, "rank 0", 5), (4.3, "rank 1", 7), (8.3, "rank 2", 3)]
offset = 0
for x, name, rows in shards:
    ax.add_patch(
        FancyBboxPatch(
            (x, 0.3),
            3.4,
            4.0,
            boxstyle="round,pad=0.04,rounding_size=0.12",
            facecolor="#f4f4f4",
            edgecolor="0.4",
        )
    )
    ax.text(x + 1.7, 4.0, name, ha="center", fontsize=10, weight="bold")
    # Its shard: pool rows offset .. offset + rows - 1.
    for i in range(rows):
        ax.add_patch(Rectangle((x + 0.25, 0.6 + i * 0.4), 0.9, 0.32, color="#9ecae1"))
    ax.text(
        x + 0.7,
        0.6 + rows * 0.4 + 0.05,
        f"pool rows\n{offset} to {offset + rows - 1}",
        ha="center",
        va="bottom",
        fontsize=7.5,
    )
    offset += rows
    ax.text(
        x + 2.35,
        2.2,
        "its rows' k x k\nstate only\n\na full copy of\nG, F (kd x kd)",
        ha="center",
        va="center",
        fontsize=8,
    )

ax.text(
    6.0,
    5.25,
    "each step: every rank scores its own rows; all-reduce (max) the best score, "
    "all-reduce (min) the lowest tied pool index;",
    ha="center",
    fontsize=8.5,
)
ax.text(
    6.0,
    4.85,
    "the winner's rank broadcasts that row's factors (about d + k^2 numbers); every rank "
    "applies the same update",
    ha="center",
    fontsize=8.5,
)
for (x1, _, _), (x2, _, _) in itertools.pairwise(shards):
    ax.add_patch(
        FancyArrowPatch(
            (x1 + 3.45, 2.4),
            (x2 - 0.05, 2.4),
            arrowstyle="<|-|>",
            mutation_scale=12,
            color="C3",
            linewidth=1.4,
        )
    )
fig.tight_layout()
