"""
=================================================
BAIT with a skorch MLP on the digits (deep setup)
=================================================

The deep classification setup of the BAIT paper (Ash et al., NeurIPS 2021,
section 6.2 and appendix C) at small scale: a multilayer perceptron with one
hidden ReLU layer of 128 units, trained with Adam until it fits 99% of its
labeled rows, and retrained from a fresh initialisation after every round of
queries. The network is a :class:`skorch.NeuralNetClassifier`, so
:class:`~skbait.ActiveLearner` treats it like any scikit-learn classifier.

BAIT looks at the network through its last layer: the embedding of a row is
the input of the final ``nn.Linear`` (the 128 hidden activations), captured by
a forward hook, and its class probabilities come from the same forward pass.

The paper runs MNIST, SVHN and CIFAR-10 with larger budgets and five seeds;
this example uses scikit-learn's 8x8 digits, one seed and a budget of 80
labels, so that it runs in under a minute on a CPU (and faster on a GPU, which
the net and BAIT both use when there is one). With one seed, the gap between
the two curves is one draw of a noisy quantity: the table below gives it
round by round.
"""

# %%
# A reproducible network without global seeding
# ---------------------------------------------
# skorch has no ``random_state``: a module draws its initial weights, and a
# shuffling data loader its order, from torch's global generator. The
# learner's ``random_state`` seeds a fork of that generator for every fit, so
# a run repeats; to make the net reproducible outside the learner too without
# seeding the global generator (which would change the state of every other
# user of torch), the module below builds its layers with :func:`torch.nn.utils.skip_init` (no
# random draw at all) and then initialises them, as ``nn.Linear`` does by
# default (uniform in +-1/sqrt(fan_in)), from a :class:`torch.Generator`
# seeded by its own ``seed`` parameter. The training loader shuffles with its
# own seeded generator too (``iterator_train__generator``). Every round starts
# from a clone of the unfitted net, hence from the same initial weights and
# the same shuffling, and the whole run is reproducible.

import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn

from skbait import ActiveLearner


class MLP(nn.Module):
    """One hidden ReLU layer of ``n_hidden`` units, initialised from ``seed``."""

    def __init__(self, n_features=64, n_hidden=128, n_classes=10, seed=0):
        super().__init__()
        self.hidden = nn.utils.skip_init(nn.Linear, n_features, n_hidden)
        self.output = nn.utils.skip_init(nn.Linear, n_hidden, n_classes)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for layer in (self.hidden, self.output):
                bound = 1.0 / math.sqrt(layer.in_features)
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, X):
        return self.output(torch.relu(self.hidden(X)))


class StopAtTrainAccuracy(Callback):
    """Stop training once the net classifies ``threshold`` of its training rows right."""

    def __init__(self, threshold=0.99):
        self.threshold = threshold

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        accuracy = np.mean(net.predict(dataset_train) == np.asarray(dataset_train.y))
        if accuracy >= self.threshold:
            raise KeyboardInterrupt  # skorch ends fit() quietly, as EarlyStopping does


device = "cuda" if torch.cuda.is_available() else "cpu"
net = NeuralNetClassifier(
    MLP,
    criterion=nn.CrossEntropyLoss,  # the module outputs logits; predict_proba adds a softmax
    optimizer=torch.optim.Adam,
    lr=1e-3,
    max_epochs=300,
    batch_size=32,
    # No internal validation split: it would hold back a fifth of the few labels.
    train_split=None,
    callbacks=[StopAtTrainAccuracy(0.99)],
    iterator_train__shuffle=True,
    iterator_train__generator=torch.Generator().manual_seed(0),
    device=device,
    verbose=0,
)

# %%
# The data
# --------
# 1797 images of 8x8 pixels with values 0..16, scaled to [0, 1]. skorch wants
# float32 inputs and int64 class labels, and the learner passes them through
# unchanged. 500 images are held out to score each round's model; the other
# 1297 form the pool whose labels the oracle reveals on request.

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
y = y.astype(np.int64)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=500, stratify=y, random_state=0)
print(f"pool: {len(X_pool)} images, test: {len(X_test)} images, device: {device}")

# %%
# The active learning loop
# ------------------------
# Both learners start from the same 20 random images (same ``random_state``)
# and buy 20 labels per round up to 80. BAIT picks the batch that most
# reduces the trace of the inverse Fisher information of the last layer,
# weighted by the Fisher of the whole pool; RANDOM picks uniformly.

curves, seconds = {}, {}
for name in ["bait", "random"]:
    learner = ActiveLearner(
        net,
        query_strategy=name,
        n_initial=20,
        batch_size=20,
        budget=80,
        random_state=0,
    )
    start = time.perf_counter()
    learner.fit(X_pool, y_pool, eval_set=(X_test, y_test))
    seconds[name] = time.perf_counter() - start
    curves[name] = (
        np.array([record["n_labeled"] for record in learner.history_]),
        np.array([record["eval_score"] for record in learner.history_]),
    )

print(f"\n{'labels':>6}  {'bait':>6}  {'random':>6}   (test accuracy)")
for n, bait, rand in zip(curves["bait"][0], curves["bait"][1], curves["random"][1]):
    print(f"{n:6d}  {bait:6.3f}  {rand:6.3f}")
print(f"mean  {curves['bait'][1].mean():8.3f}  {curves['random'][1].mean():6.3f}")
print("wall time: " + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))

# %%
# The learning curves
# -------------------

fig, ax = plt.subplots(figsize=(6, 4))
for name in ("bait", "random"):
    ax.plot(*curves[name], marker="o", label=name)
ax.set_xlabel("number of labels")
ax.set_ylabel("test accuracy")
ax.set_title("skorch MLP (128 ReLU units, Adam) on the digits")
ax.legend()
fig.tight_layout()
plt.show()
