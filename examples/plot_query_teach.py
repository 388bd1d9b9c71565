"""
==================================================
Real labeling: query, ask an annotator, teach
==================================================

In a simulation the labels are all known and hidden from the learner. In a
real campaign they are not known at all: someone has to look at each chosen
row and say what it is. :class:`~skbait.ActiveLearner` then runs without a
``budget``, and the loop is yours:

1. ``fit(X_seed, y_seed)`` trains on the few rows labeled so far;
2. ``query(X_candidates)`` names the candidate rows to send to the annotator;
3. ``teach(X_new, y_new)`` adds the annotator's answers and refits.

Here the annotator is simulated by a small class that knows the digits' true
labels and answers with a delay, as a person would; the learner only ever
sees the rows it asked about and the labels that came back. Between two
batches the learner is pickled and restored, as when a campaign pauses for
the night. A second learner, querying at random in the same loop, shows what
the strategy buys.
"""

# %%
# The pool, the seed and the annotator
# ------------------------------------
# The digits' pixels are reduced to 16 whitened principal components, fitted
# on the unlabeled pool (no label is used). Twenty rows, two per digit, are the
# seed someone labeled before the campaign; the other rows of the pool are the
# candidates.

import pickle
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skbait import ActiveLearner

X, y = load_digits(return_X_y=True)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.4, stratify=y, random_state=0)
pca = PCA(n_components=16, whiten=True, random_state=0).fit(X_pool)
X_pool, X_test = pca.transform(X_pool), pca.transform(X_test)

seed_rows = np.concatenate([np.flatnonzero(y_pool == digit)[:2] for digit in range(10)])
X_seed, y_seed = X_pool[seed_rows], y_pool[seed_rows]
candidates = np.setdiff1d(np.arange(len(X_pool)), seed_rows)


class Annotator:
    """Answers questions about rows of the pool, after a short delay.

    It keeps the true labels to itself, identifies a row by its content (as a
    person would look at the image) and keeps a log of every answer it gave.
    """

    def __init__(self, X, y, seconds_per_label=0.001):
        self._labels = {row.tobytes(): label for row, label in zip(X, y)}
        self.seconds_per_label = seconds_per_label
        self.log = []  # (rows asked, labels given), one entry per request

    def label(self, rows):
        time.sleep(self.seconds_per_label * len(rows))
        labels = np.array([self._labels[row.tobytes()] for row in rows])
        self.log.append((rows.copy(), labels.copy()))
        return labels


print(f"seed: {len(X_seed)} labeled rows; {len(candidates)} candidates; test: {len(X_test)}")

# %%
# The loop
# --------
# Ten rounds of 12 labels. Each round queries the candidates that are still
# unlabeled, asks the annotator about them, teaches the answers and drops the
# taught rows from the candidates. After round 5 the learner goes through a
# pickle and the campaign goes on from the restored copy. BAIT weighs the
# candidates against what the learner already knows: the rows it was taught
# count as labeled in every query.

n_rounds, batch_size = 10, 12


def campaign(strategy):
    annotator = Annotator(X_pool, y_pool)
    learner = ActiveLearner(
        LogisticRegression(max_iter=1000),
        query_strategy=strategy,
        batch_size=batch_size,
        random_state=0,
    )
    learner.fit(X_seed, y_seed)
    left = candidates.copy()
    n_labeled, accuracy = [len(y_seed)], [learner.score(X_test, y_test)]
    for round_ in range(1, n_rounds + 1):
        picked = learner.query(X_pool[left])  # positions in X_pool[left]
        X_new = X_pool[left[picked]]
        learner.teach(X_new, annotator.label(X_new))
        left = np.delete(left, picked)
        if round_ == n_rounds // 2:  # the campaign pauses: save, and load the next day
            learner = pickle.loads(pickle.dumps(learner))
        n_labeled.append(len(learner.labeled_indices_))
        accuracy.append(learner.score(X_test, y_test))
    return learner, annotator, np.array(n_labeled), np.array(accuracy)


runs = {name: campaign(name) for name in ["bait", "random"]}
learner, annotator, n_labeled, accuracy = runs["bait"]

# %%
# What the learner kept
# ---------------------
# Every answer is stored in the learner (``X_`` and ``y_``), the seed first,
# and went through the pickle intact: the learner's labels are exactly the
# annotator's.

asked = np.concatenate([rows for rows, _ in annotator.log])
answered = np.concatenate([labels for _, labels in annotator.log])
n_seed = len(y_seed)
print(
    f"BAIT learner: {len(learner.labeled_indices_)} labeled rows, {n_seed} from the seed "
    f"and {len(answered)} answers from {len(annotator.log)} requests"
)
kept = np.array_equal(learner.X_[n_seed:], asked) and np.array_equal(learner.y_[n_seed:], answered)
print(f"rows and labels kept equal to those asked and answered: {kept}")
print(f"{len(learner.history_)} fits recorded in history_ (the first fit and one per teach)")

# %%
# Test accuracy, round by round
# -----------------------------

fig, ax = plt.subplots(figsize=(6, 4))
for name, (_, _, n, acc) in runs.items():
    ax.plot(n, acc, marker="o", label=name)
ax.axvline(n_labeled[n_rounds // 2], color="gray", linestyle=":", linewidth=1)
ax.annotate(
    "pickled and restored",
    (n_labeled[n_rounds // 2], ax.get_ylim()[0]),
    xytext=(4, 4),
    textcoords="offset points",
    fontsize="small",
    color="gray",
)
ax.set_xlabel("labels (seed + annotator's answers)")
ax.set_ylabel("test accuracy")
ax.set_title("Query / teach with a simulated annotator")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# The numbers behind the figure: one campaign per strategy, so a difference
# of a point or two is within the noise of the seed and of the test split (see
# :ref:`sphx_glr_auto_examples_plot_compare_strategies.py` for curves over
# several seeds).

for name, (_, _, n, acc) in runs.items():
    print(
        f"{name:>6}: accuracy {acc[0]:.3f} on the seed, {acc[-1]:.3f} after {n[-1]} labels, "
        f"{acc.mean():.3f} on average over the rounds"
    )
