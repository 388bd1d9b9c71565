"""What skbait.embeddings.embed reads of a skorch network, as a diagram (drawn at build time)."""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

fig, ax = plt.subplots(figsize=(9.6, 3.9))
ax.set_xlim(0, 12)
ax.set_ylim(0, 4.6)
ax.axis("off")

# The forward pass of the user guide's MLP, left to right.
boxes = [  # left edge, width, text, colour
    (0.1, 1.3, "X\nthe pool's\nrows", "#eeeeee"),
    (2.0, 2.1, "self.hidden\nnn.Linear + ReLU\n(and any layers\nbefore it)", "#dbe9f6"),
    (5.6, 2.0, "self.output\nthe last nn.Linear", "#fde9d0"),
    (8.3, 2.0, "predict_proba's\ntransform\n(softmax after\nCrossEntropyLoss)", "#e3f1dc"),
]
height, bottom = 1.5, 2.4
for x, width, text, color in boxes:
    ax.add_patch(
        FancyBboxPatch(
            (x, bottom),
            width,
            height,
            boxstyle="round,pad=0.05,rounding_size=0.15",
            facecolor=color,
            edgecolor="0.3",
        )
    )
    ax.text(x + width / 2, bottom + height / 2, text, ha="center", va="center", fontsize=9)


def arrow(start, end, color="0.25", style="-|>"):
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle=style, mutation_scale=14, color=color, linewidth=1.3
        )
    )


middle = bottom + height / 2
starts = [box[0] for box in boxes[1:]] + [11.95]  # where each arrow ends
for (x, width, *_), end in zip(boxes, starts):
    arrow((x + width + 0.05, middle), (end - 0.05, middle))
ax.text(4.85, middle + 0.25, "z", ha="center", fontsize=11, style="italic", color="C0")
ax.text(11.0, middle + 0.25, "p", ha="center", fontsize=11, style="italic", color="C2")

# What embed() returns from the same single pass.
arrow((4.85, middle - 0.1), (4.85, 1.3), color="C0")
ax.text(
    4.85,
    0.75,
    "the embedding z: the input of the last nn.Linear,\ncaptured by a forward hook",
    ha="center",
    va="center",
    fontsize=9,
    color="C0",
)
arrow((11.0, middle - 0.1), (11.0, 1.3), color="C2")
ax.text(
    10.4,
    0.75,
    "the probabilities p\n(classifiers)",
    ha="center",
    va="center",
    fontsize=9,
    color="C2",
)
ax.text(
    6.0,
    4.35,
    "one pass of skorch's forward_iter over the pool (the net's device, evaluation mode, "
    "no gradients)",
    ha="center",
    va="center",
    fontsize=9,
    color="0.2",
)
ax.text(
    7.9,
    0.05,
    "bait's last-layer Fisher of a row: (diag(p) - p pᵀ) ⊗ z zᵀ",
    ha="center",
    va="bottom",
    fontsize=9,
    color="0.15",
)
ax.text(
    1.5,
    0.75,
    "another layer:\nSkorchEmbedding(module=...,\ncapture='input' or 'output')",
    ha="center",
    va="center",
    fontsize=8,
    color="0.35",
)
fig.tight_layout()
