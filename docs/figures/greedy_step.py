"""Draw the life of one greedy step of BAIT's core as a static figure for the user guide.

Run from the repository root; writes ``docs/_static/greedy_step.png``::

    python docs/figures/greedy_step.py
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_static")

# name, (x, y) of the lower-left corner, title, what it holds, what one step reads and costs
OBJECTS = {
    "rows": (
        (0.0, 4.6),
        "TrackedRows  (_rows)",
        "holds: [P_x; Qh_x] (2r x r) per row,\n       lower bounds, the rows tracked",
        "step:  Y = Z_chunk @ [L | T], S^T Y,\n"
        "       [P; Qh] += s [U; X] U^T, scored in\n"
        "       the same pass: O(n d k r + n k r^2)",
    ),
    "greedy": (
        (6.9, 4.6),
        "KroneckerGreedy  (_greedy)",
        "holds: picked, gains, the bounds' mode\n       (one-node, tight, off)",
        "step:  choose(): best lower bound,\n"
        "       contenders solved exactly (r x r),\n"
        "       ties within rtol -> lowest id",
    ),
    "design": (
        (13.8, 4.6),
        "Design  (_design)",
        "holds: G = M^-1 (LazySymmetric),\n       M_0 (float64), M u, its rows' z, S",
        "step:  G V (reads G once), r x r Cholesky,\n"
        "       L = G V C^-T, G += s L L^T (pending);\n"
        "check: |G M u - u| -> refresh from M",
    ),
    "objective": (
        (0.0, 0.0),
        "TraceObjective  (_objectives, _bounds)",
        "holds: F (pool Fisher) or None",
        "step:  bounds from tr Q, tr QP, |P|_F;\n"
        "       quadrature (2-3 nodes) from\n"
        "       tr(Q P^j) on >= 4,096 rows",
    ),
    "moving": (
        (6.9, 0.0),
        "MovingGFG  (_moving_gfg)",
        "holds: H = G F G (LazySymmetric),\n       only on a large design (D >= 1,449)",
        "step:  T = G F L + (s/2) L (L^T F L)\n"
        "       from H V, or from G (F L);\n"
        "check: every 8th move both -> drift",
    ),
    "factors": (
        (13.8, 0.0),
        "Factors  (_factors)",
        "holds: Z (n x d), S (n x k x r);\n       V_x = S_x (x) z_x never formed",
        "step:  read by rows.update (Z, S of\n"
        "       the tracked rows) and by the\n"
        "       design (the chosen row's z, S)",
    ),
}
WIDTH, HEIGHT = 5.6, 3.0

# from, to, label, where the label goes (dx, dy from the middle of the arrow)
ARROWS = [
    ("rows", "greedy", "1  scores or bounds", (-0.9, 0.25)),
    ("greedy", "design", "2  add(z, S) / remove(j)", (-1.2, 0.25)),
    ("design", "moving", "3  LowRank: L, s, C\n    (and G F L, 1 in 8)", (0.2, 0.1)),
    ("moving", "rows", "4  [L | T]", (0.25, 0.0)),
    ("objective", "rows", "5  score or bound\n    in the same pass", (0.15, -0.2)),
]


def _center(name):
    (x, y), *_ = OBJECTS[name]
    return x + WIDTH / 2, y + HEIGHT / 2


def main():
    fig, ax = plt.subplots(figsize=(14.5, 7))
    ax.set_xlim(-0.2, 19.6)
    ax.set_ylim(-0.3, 8.0)
    ax.axis("off")
    for (x, y), title, holds, step in OBJECTS.values():
        box = FancyBboxPatch(
            (x, y), WIDTH, HEIGHT, boxstyle="round,pad=0.05", fc="#eef3fb", ec="#2b5797"
        )
        ax.add_patch(box)
        ax.text(x + 0.15, y + HEIGHT - 0.3, title, fontsize=10.5, weight="bold", va="center")
        ax.text(x + 0.15, y + HEIGHT - 0.65, holds, fontsize=8.5, va="top", family="monospace")
        ax.text(x + 0.15, y + 1.25, step, fontsize=8.5, va="top", family="monospace")
    for start, end, label, (dx, dy) in ARROWS:
        (x0, y0), (x1, y1) = _center(start), _center(end)
        arrow = FancyArrowPatch(
            (x0, y0),
            (x1, y1),
            arrowstyle="-|>",
            mutation_scale=16,
            color="#c0504d",
            lw=1.8,
            shrinkA=70,
            shrinkB=70,
        )
        ax.add_patch(arrow)
        ax.text((x0 + x1) / 2 + dx, (y0 + y1) / 2 + dy, label, fontsize=9, color="#8b1a1a")
    ax.set_title(
        "One step of BAIT's greedy: what each object holds, what the step reads, where it checks",
        fontsize=12,
    )
    os.makedirs(OUT, exist_ok=True)
    fig.savefig(os.path.join(OUT, "greedy_step.png"), dpi=100, bbox_inches="tight")


if __name__ == "__main__":
    main()
