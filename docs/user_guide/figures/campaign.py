"""A small real campaign and what ``skbait status`` says of it (run at docs build time).

300 of scikit-learn's digits, their labels blank, labeled 25 at a time by a
simulated annotator through the public functions behind ``skbait query``,
``skbait teach`` and ``skbait status``. Top: the status figure itself
(:func:`skbait.campaign.plot_status`). Bottom: the estimate that status gave
after each round, with its interval, beside the accuracy of the same model on
the 1,497 other digits, which a real campaign does not have.
"""

import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbait.campaign import campaign_status, merge_answers, plot_status, query_batch

N_POOL, BATCH, ROUNDS = 300, 25, 4

X, y = load_digits(return_X_y=True)
X_pool, y_hidden = X[:N_POOL], y[:N_POOL]
X_test, y_test = X[N_POOL:], y[N_POOL:]

folder = tempfile.mkdtemp()
data, batch = os.path.join(folder, "pool.csv"), os.path.join(folder, "batch.csv")
pool = pd.DataFrame(X_pool.astype(int), columns=[f"pixel{i}" for i in range(64)])
pool["digit"] = ""
pool.to_csv(data, index=False)

shown = []  # per round: labels, the status's estimate (or why none), the held-out accuracy
for round_ in range(ROUNDS):
    if round_ == 0:  # the options of the first query are kept for the later ones
        query_batch(data, batch, target="digit", batch_size=BATCH, device="cpu", random_state=0)
    else:
        query_batch(data, batch)
    answers = pd.read_csv(batch, dtype=str, keep_default_na=False)
    answers["digit"] = [str(y_hidden[int(row)]) for row in answers["row"]]  # the annotator
    answers.to_csv(batch, index=False)
    merge_answers(data, batch)
    status = campaign_status(data)
    # The campaign's default model (-e logistic), fitted on the same labels, on held-out digits.
    labeled = np.flatnonzero(pd.read_csv(data, dtype=str, keep_default_na=False)["digit"] != "")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    held_out = model.fit(X_pool[labeled], y_hidden[labeled]).score(X_test, y_test)
    shown.append((status["n_labeled"], status["estimate"], status["estimate_note"], held_out))

fig = plt.figure(figsize=(10, 8.8), layout="constrained")
top, bottom = fig.subfigures(2, 1, height_ratios=[4.8, 4.0])
plot_status(status, figure=top)
top.suptitle("what skbait status draws after the last round", fontsize="large")

ax = bottom.subplots()
labels = [n for n, *_ in shown]
with_estimate = [(n, e) for n, e, _, _ in shown if e is not None]
value = np.array([e["value"] for _, e in with_estimate])
low, high = np.array([e["interval"] for _, e in with_estimate]).T
ax.errorbar(
    [n for n, _ in with_estimate],
    value,
    yerr=[value - low, high - value],
    marker="o",
    capsize=4,
    color="C0",
    label="status's estimate: 5-fold cross-validation on the labeled rows, 95% Wilson interval",
)
ax.plot(
    labels,
    [a for *_, a in shown],
    marker="s",
    ls="--",
    color="0.4",
    label=f"the same model on {len(y_test):,} held-out digits (a real campaign has none)",
)
for n_labeled, estimate, why, _ in shown:
    if estimate is None:
        ax.text(n_labeled, 0.45, f" status: no estimate yet ({why})", color="C0")
ax.set_xticks(labels)
ax.set_xlabel("labeled rows (after each round's answers)")
ax.set_ylabel("accuracy")
ax.set_ylim(0.4, 1.0)
ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2))
bottom.suptitle("the estimate skbait status printed after each round", fontsize="large")
