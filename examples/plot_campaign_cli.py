"""
=================================================
A labeling campaign from the command line
=================================================

A practitioner has a table of rows and no labels. ``skbait query`` picks the
rows worth labeling, the annotator fills in the labels, ``skbait teach``
merges them back, and the next ``skbait query`` continues from there. This
example runs such a campaign end to end on the digits (shipped with
scikit-learn), with the annotator simulated by a small function that looks the
labels up. In a shell the same campaign reads::

    skbait query pool.csv --target digit -b 20 -o batch.csv   # round 0: no label yet
    # ... the annotator fills the 'digit' column of batch.csv ...
    skbait teach pool.csv batch.csv
    skbait query pool.csv -o batch.csv                        # round 1, and so on

The first batch comes from the label-free cold-start design (BAIT with the
pool's rank-one Fisher, see :mod:`skbait.cold_start`); the later ones from
BAIT on a logistic regression. The campaign file ``pool.csv.campaign.json``
keeps the settings, every label and, per round, the stopping criteria of
:mod:`skbait.stopping`. Here we call the command in-process with
``skbait._cli.main``, which takes the same arguments as the shell.
"""

# %%
# A table with blank labels
# -------------------------
# 1,000 digits to label (64 pixel columns and an empty ``digit`` column) and,
# apart, 797 digits with known labels to measure the model as the campaign
# goes. The true labels of the pool are hidden in the annotator.

import contextlib
import io
import json
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbait._cli import main

X, y = load_digits(return_X_y=True)
columns = [f"pixel{i}" for i in range(64)]
X_pool, y_hidden = X[:1000], y[:1000]
X_test, y_test = X[1000:], y[1000:]

folder = tempfile.mkdtemp()
data = os.path.join(folder, "pool.csv")
batch = os.path.join(folder, "batch.csv")
pool = pd.DataFrame(X_pool.astype(int), columns=columns)
pool["digit"] = ""
pool.to_csv(data, index=False)


def annotate(path):
    """The annotator: fill the blank labels of a batch file, by its 'row' column."""
    answers = pd.read_csv(path, dtype=str, keep_default_na=False)
    answers["digit"] = [str(y_hidden[int(row)]) for row in answers["row"]]
    answers.to_csv(path, index=False)


def skbait(*args):
    """Run ``skbait ARGS`` and return what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main([str(a) for a in args])
    assert status == 0, f"skbait {' '.join(args)} failed"
    return out.getvalue()


# %%
# Round 0: the cold start
# -----------------------
# With no label there is no model to ask; the batch is the label-free design.
# The options given now are kept in the campaign file for every later round.

print(skbait("query", data, "--target", "digit", "-b", "20", "--device", "cpu", "-o", batch))
print(pd.read_csv(batch, dtype=str, keep_default_na=False).iloc[:5, [0, 1, 2, 3, -1]])

# %%
# The first batch already covers most digits: the design spreads it over the
# directions that carry most of the pool, before any label is known.
annotate(batch)
first = pd.read_csv(batch)
print("digits in the first batch:", sorted(first["digit"].unique().tolist()))
print(skbait("teach", data, batch))

# %%
# Rounds 1 to 9: BAIT
# -------------------
# Each round trains the estimator on every labeled row of ``pool.csv``, prints
# the stopping criteria and writes the next batch. We also score the model on
# the held-out digits, which a real campaign would not have.


def held_out_accuracy():
    labeled = pd.read_csv(data, dtype=str, keep_default_na=False)
    rows = np.flatnonzero(labeled["digit"] != "")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(X_pool[rows], labeled["digit"].to_numpy()[rows].astype(int))
    return len(rows), model.score(X_test, y_test)


curve = [held_out_accuracy()]
for _ in range(9):
    report = skbait("query", data, "-o", batch)
    annotate(batch)
    skbait("teach", data, batch)
    curve.append(held_out_accuracy())
print(report)

# %%
# The campaign file
# -----------------
# Everything a later round needs, in one JSON file beside the data: the
# settings, the labels in the order they came, and one record per round.

with open(data + ".campaign.json", encoding="utf-8") as handle:
    campaign = json.load(handle)
print(campaign["settings"])
rounds = pd.DataFrame(
    [
        {"round": r["round"], "labels": r["n_labeled"], "design": r["design"]}
        | {k: v for k, v in (r.get("stopping") or {}).items() if not k.endswith("_stop")}
        for r in campaign["rounds"]
    ]
)
print(rounds.round(3).to_string(index=False))

# %%
# Accuracy and stopping criteria, round by round
# ----------------------------------------------
# The stabilizing-predictions agreement (Cohen's kappa between consecutive
# models) climbs towards 1 while the mean uncertainty over the unlabeled rows
# and BAIT's objective fall; each criterion stops the campaign once its
# threshold is reached (marked by a dot).

labels, accuracy = zip(*curve)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
left.plot(labels, accuracy, marker="o")
left.set(xlabel="labels", ylabel="held-out accuracy", title="The campaign's model")
names = ["stabilizing_predictions", "overall_uncertainty", "max_confidence"]
model_rounds = [r for r in campaign["rounds"] if r.get("stopping")]
for name in names:
    xs = [r["n_labeled"] for r in model_rounds]
    ys = [r["stopping"][name] if r["stopping"][name] is not None else np.nan for r in model_rounds]
    (line,) = right.plot(xs, ys, marker=".", label=name.replace("_", " "))
    stops = [x for x, r in zip(xs, model_rounds) if r["stopping"].get(f"{name}_stop")]
    if stops:
        right.plot(stops[0], ys[xs.index(stops[0])], "o", color=line.get_color(), ms=10)
right.set(xlabel="labels", ylabel="value", title="Stopping criteria")
right.legend()
plt.show()
