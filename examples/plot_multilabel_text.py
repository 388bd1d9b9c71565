"""
===================================================
A multi-label text campaign: tagging news snippets
===================================================

A news snippet is about sport *and* politics, or about science, food and
health at once: each document carries a set of tags. This example runs a
labeling campaign in Python, the way a team would with an annotator: the
learner starts from a few tagged documents, asks for the next batch with
:meth:`~skbait.ActiveLearner.query`, and learns the annotator's tag sets with
:meth:`~skbait.ActiveLearner.teach`. The labels are Python sets of tag names;
an untagged document waits as ``None``.

The model is a :class:`~sklearn.feature_extraction.text.TfidfVectorizer` and a
:class:`~sklearn.multiclass.OneVsRestClassifier` of logistic regressions. The
default strategy, ``"bait"``, stands for multi-label BAIT
(:class:`~skbait.strategies.MultiLabelBAIT`) on a multi-label target; the
campaign is run again with random sampling to compare. The corpus is
generated, nothing is downloaded, and the whole example runs in a few seconds.
"""

# %%
# A generated corpus of tagged snippets
# -------------------------------------
# Each document draws one to three tags, a few words of each of its tags, and
# some filler words.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline

from skbait import ActiveLearner
from skbait.strategies import MultiLabelBAIT, predict_label_probabilities, predict_label_sets
from skbait.utils import format_label_sets, multilabel_scores, read_label_sets

TAGS = {
    "sport": "match goal team score player coach league season referee stadium",
    "politics": "vote election party minister law senate policy campaign debate tax",
    "science": "atom cell energy theory experiment lab physics gene orbit molecule",
    "health": "doctor patient hospital vaccine disease nurse clinic diet sleep virus",
    "food": "recipe bake flour sugar taste dinner spice oven salad butter",
}
FILLER = "the a of and to in is on with for it this that new says after report week"


def make_corpus(n_docs, seed):
    """Documents with one to three tags, two to four words per tag, and filler."""
    rng = np.random.RandomState(seed)
    names = sorted(TAGS)
    docs, tags = [], []
    for _ in range(n_docs):
        chosen = rng.choice(names, size=rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]), replace=False)
        words = [w for t in chosen for w in rng.choice(TAGS[t].split(), rng.randint(1, 4))]
        words += list(rng.choice(FILLER.split(), rng.randint(3, 7)))
        rng.shuffle(words)
        docs.append(" ".join(words))
        tags.append(set(chosen))
    return docs, tags


docs, tags = make_corpus(700, seed=0)
pool_docs, pool_tags = docs[:500], tags[:500]
test_docs, test_tags = docs[500:], tags[500:]
for doc, doc_tags in zip(pool_docs[:3], format_label_sets(pool_tags[:3])):
    print(f"{doc_tags:>20}: {doc}")

# %%
# The campaign
# ------------
# Ten documents are tagged to start with; every other one is ``None``. Each
# round queries ten documents, the "annotator" (here, the hidden tags) tags
# them, and the learner refits. The TF-IDF rows are the embedding BAIT reads;
# their entries are small (each row has unit norm), so BAIT's regulariser is
# set to that scale, ``reg=1e-3`` (see "The scale of reg" in the user guide).


def run_campaign(strategy, n_rounds=8, batch_size=10):
    model = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LogisticRegression()))
    known = pool_tags[:10] + [None] * (len(pool_tags) - 10)
    al = ActiveLearner(model, query_strategy=strategy, batch_size=batch_size, random_state=0)
    al.fit(pool_docs, known)
    truth = read_label_sets(test_tags, classes=al.classes_).indicator
    curve = []
    for _ in range(n_rounds + 1):
        predicted = predict_label_sets(al.estimator_, test_docs)
        probabilities = predict_label_probabilities(al.estimator_, test_docs)
        scores = multilabel_scores(truth, predicted, probabilities)
        curve.append((len(al.labeled_indices_), scores))
        idx = al.query()
        al.teach(y=[pool_tags[i] for i in idx], indices=idx)  # the annotator's answers
    return al, curve


bait, bait_curve = run_campaign(MultiLabelBAIT(reg=1e-3))
random, random_curve = run_campaign("random")
print("tags:", bait.classes_.tolist())
first = bait.history_[1]["indices"]
print("BAIT's first batch:")
for i in first[:5]:
    print(f"  {format_label_sets([pool_tags[i]])[0]:>22}: {pool_docs[i]}")

# %%
# Micro-F1 and Hamming loss on the held-out snippets
# --------------------------------------------------

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for name, curve in (("bait", bait_curve), ("random", random_curve)):
    n_labeled = [n for n, _ in curve]
    axes[0].plot(n_labeled, [s["f1_micro"] for _, s in curve], marker="o", label=name)
    axes[1].plot(n_labeled, [s["hamming_loss"] for _, s in curve], marker="o", label=name)
axes[0].set(xlabel="tagged documents", ylabel="micro-F1")
axes[1].set(xlabel="tagged documents", ylabel="Hamming loss (lower is better)")
axes[0].legend()
fig.tight_layout()
plt.show()
for name, curve in (("bait", bait_curve), ("random", random_curve)):
    final = curve[-1][1]
    print(
        f"{name:>6}: micro-F1 {final['f1_micro']:.3f}, macro-F1 {final['f1_macro']:.3f}, "
        f"subset accuracy {final['subset_accuracy']:.3f}, Hamming loss "
        f"{final['hamming_loss']:.3f}, average precision {final['average_precision']:.3f}"
    )

# %%
# F1, subset accuracy and the Hamming loss judge the tag sets, each tag kept
# where its probability passes 0.5; average precision judges how each tag's
# probabilities rank the held-out documents, whatever the threshold. BAIT
# chooses documents for what they teach about the probabilities, so the two
# kinds of figure can disagree: the multi-label benchmark in the user guide
# shows where, and why.
