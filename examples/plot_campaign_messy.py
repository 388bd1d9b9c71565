"""
=====================================================
A messy campaign: a European CSV, typos, corrections
=====================================================

Real campaigns are not run on clean files typed by careful people. The table
comes from a spreadsheet in Europe (semicolons, decimal commas) or from R
(``NA`` in the empty cells); the annotator is in a hurry; someone fixes a
value in the table between two rounds. This example runs such a campaign with
the ``skbait`` command and shows what each of these does:

- the semicolon file with ``NA`` cells is read as its author meant it, and
  written back the same way;
- a typo (``dgo``) is refused, naming the class it looks like;
- a wrong label is corrected with ``skbait correct``, and the next round fits
  on the corrected labels;
- an edit of the table is caught, naming the row, and accepted with
  ``--accept-changes``;
- ``skbait status`` estimates the model's accuracy and draws the campaign's
  progress.

We call the command in-process with ``skbait._cli.main``, which takes the
same arguments as the shell; its error lines go to the same output here.
"""

# %%
# A table as European Excel and R write it
# ----------------------------------------
# 400 animals described by four measurements, one of them missing here and
# there (``NA``), and an empty ``animal`` column, saved with semicolons and
# decimal commas. The true classes are hidden in the annotator.

import contextlib
import os
import sys
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

from skbait._cli import main

X, y = make_classification(
    n_samples=400,
    n_features=4,
    n_informative=3,
    n_redundant=0,
    n_classes=3,
    n_clusters_per_class=1,
    class_sep=1.5,
    random_state=0,
)
names = np.array(["bird", "cat", "dog"])[y]
pool = pd.DataFrame(np.round(X, 2), columns=["weight", "height", "speed", "noise"])
rng = np.random.RandomState(0)
pool.loc[rng.choice(400, 12, replace=False), "speed"] = np.nan
pool["animal"] = np.nan

folder = tempfile.mkdtemp()
data = os.path.join(folder, "animals.csv")
batch = os.path.join(folder, "batch.csv")
pool.to_csv(data, sep=";", decimal=",", na_rep="NA", index=False)
with open(data, encoding="utf-8") as handle:
    print("".join(handle.readlines()[:4]))


def skbait(*args):
    """Run one ``skbait`` command; show what it prints, errors included."""
    with contextlib.redirect_stderr(sys.stdout):
        status = main([str(a) for a in args])
    print(f"(exit status {status})\n")
    return status


def read_batch():
    return pd.read_csv(batch, sep=";", dtype=str, keep_default_na=False)


def write_batch(frame):
    frame.to_csv(batch, sep=";", index=False)


# %%
# The first batch
# ---------------
# No label yet: the label-free design picks ten rows. The blanks in
# ``speed`` are filled with the column's median, and a note says so. The
# batch file is written in the table's own dialect.

options = ("--target", "animal", "-b", "10", "--device", "cpu", "-o", batch)
skbait("query", data, *options)
print(read_batch().head(3))

# %%
# The annotator answers the first batch.

answers = read_batch()
answers["animal"] = names[answers["row"].astype(int)]
write_batch(answers)
skbait("teach", data, batch)

# %%
# A typo is caught
# ----------------
# In the next round the annotator swaps two letters once. Nothing is merged;
# the message names the class it looks like. (A genuinely new class would be
# accepted with a note; ``--classes`` declares the set when it is known.)

skbait("query", data, "-o", batch)
answers = read_batch()
answers["animal"] = names[answers["row"].astype(int)]
truth = answers.loc[0, "animal"]
answers.loc[0, "animal"] = truth[0] + truth[2] + truth[1] + truth[3:]  # dog -> dgo
write_batch(answers)
skbait("teach", data, batch)

answers.loc[0, "animal"] = truth
write_batch(answers)
skbait("teach", data, batch)

# %%
# A few rounds, one wrong label among them
# ----------------------------------------
# Each round: BAIT picks ten rows, the annotator answers. In the second
# round the annotator swaps one label, which goes in unnoticed.

wrong_row = None
for round_ in range(2):
    skbait("query", data, "-o", batch)
    answers = read_batch()
    answers["animal"] = names[answers["row"].astype(int)]
    if round_ == 1:
        wrong_row = int(answers["row"][0])
        answers.loc[0, "animal"] = "cat" if names[wrong_row] != "cat" else "bird"
    write_batch(answers)
    skbait("teach", data, batch)

# %%
# Correcting it
# -------------
# A reviewer spots the wrong label. ``skbait correct`` records the old and
# the new label in the campaign's history; the next query fits on the
# corrected labels.

skbait("correct", data, "--row", wrong_row, "--label", names[wrong_row])

# %%
# An edit of the table
# --------------------
# Someone fixes a measurement in the table itself. The rows have no
# identifier column here, so the campaign cannot tell an edit from a sort:
# it stops and names the row, and ``--accept-changes`` accepts the edit.
# (With ``--id COLUMN`` at the first query, rows keep their identity and
# edits, sorts and appended rows are harmless.)

table = pd.read_csv(data, sep=";", dtype=str, keep_default_na=False)
table.loc[7, "weight"] = "0,5"
table.to_csv(data, sep=";", index=False)
skbait("query", data, "-o", batch)
skbait("query", data, "-o", batch, "--accept-changes")

# %%
# Where the campaign stands
# -------------------------
# ``skbait status`` counts the labels per class, lists the stopping criteria
# round by round, estimates the accuracy by cross-validation on the labeled
# rows (a guide: active learning chose those rows) and draws the progress.

figure = os.path.join(folder, "animals_status.png")
skbait("status", data, "--plot", figure)

fig, ax = plt.subplots(figsize=(10, 4.8))
ax.imshow(plt.imread(figure))
ax.set_axis_off()
plt.show()

# %%
# The table was written back as it came: semicolons, decimal commas, ``NA``
# in the cells still blank.

with open(data, encoding="utf-8") as handle:
    print("".join(handle.readlines()[:4]))
