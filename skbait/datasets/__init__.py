"""Datasets and synthetic problems of the BAIT paper.

- :func:`load_benchmark`: the real benchmark sets by name (pendigits, wine
  quality, SMS spam, TREC-6/50, digits, breast cancer) as a pool and a test
  set; :func:`load_pendigits`, :func:`load_wine_quality` and
  :func:`load_sms_spam` ship with the package, :func:`fetch_trec` downloads
  once into :func:`get_data_home`.
- :func:`load_austin_weather`: daily rainfall regression from meteorological
  features (the paper's Figure 7, right), or the day's weather events as a
  multi-label target (``task="multilabel"``), shipped with the package.
- :func:`make_gaussian_decay`, :func:`make_orthonormal_decay`,
  :func:`decay_second_moment` and :func:`bayes_risk`: the Bayesian linear
  regression problems of section 4 and Figure 3, with the exact Bayes risk of
  a selection.
- :func:`random_representation` and :func:`learned_representation`: the
  uninformed and learned low-dimensional views of a dataset (Figure 2).
"""

from skbait.datasets._austin import load_austin_weather
from skbait.datasets._benchmarks import (
    BENCHMARK_DATASETS,
    fetch_trec,
    get_data_home,
    load_benchmark,
    load_pendigits,
    load_sms_spam,
    load_wine_quality,
)
from skbait.datasets._representations import learned_representation, random_representation
from skbait.datasets._synthetic import (
    bayes_risk,
    decay_second_moment,
    make_gaussian_decay,
    make_orthonormal_decay,
)

__all__ = [
    "BENCHMARK_DATASETS",
    "bayes_risk",
    "decay_second_moment",
    "fetch_trec",
    "get_data_home",
    "learned_representation",
    "load_austin_weather",
    "load_benchmark",
    "load_pendigits",
    "load_sms_spam",
    "load_wine_quality",
    "make_gaussian_decay",
    "make_orthonormal_decay",
    "random_representation",
]
