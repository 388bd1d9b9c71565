"""Datasets and synthetic problems of the BAIT paper.

- :func:`load_austin_weather`: daily rainfall regression from meteorological
  features (the paper's Figure 7, right), shipped with the package.
- :func:`make_gaussian_decay`, :func:`make_orthonormal_decay`,
  :func:`decay_second_moment` and :func:`bayes_risk`: the Bayesian linear
  regression problems of section 4 and Figure 3, with the exact Bayes risk of
  a selection.
- :func:`random_representation` and :func:`learned_representation`: the
  uninformed and learned low-dimensional views of a dataset (Figure 2).
"""

from skbait.datasets._austin import load_austin_weather
from skbait.datasets._representations import learned_representation, random_representation
from skbait.datasets._synthetic import (
    bayes_risk,
    decay_second_moment,
    make_gaussian_decay,
    make_orthonormal_decay,
)

__all__ = [
    "bayes_risk",
    "decay_second_moment",
    "learned_representation",
    "load_austin_weather",
    "make_gaussian_decay",
    "make_orthonormal_decay",
    "random_representation",
]
