"""Compare query strategies over seeds: learning curves, summaries, penalty matrix.

The unit of work is one *run*: an :class:`~skbait.ActiveLearner` with one
strategy and one seed, simulated on a pool and scored on a test set after every
round. :func:`compare_strategies` runs every (strategy, seed) pair, in parallel
with joblib, and returns a tidy table with one row per run and round:

============================  ==============================================
column                        meaning
============================  ==============================================
``strategy``                  the strategy's label
``seed``                      the run's ``random_state``
``round``                     0 for the model trained on the initial draw
``n_labeled``                 labeled rows the round's model was trained on
``score``                     the model's score on the test set
``selection_seconds``         time the strategy took to choose the next
                              batch (NaN in the last round)
``fit_seconds``               time spent fitting the round's model
``train_score``               the model's score on its labeled rows
============================  ==============================================

A multi-label target (see :doc:`/user_guide/multilabel`) puts the micro-F1 in
``score`` and adds the columns ``f1_micro``, ``f1_macro``,
``subset_accuracy``, ``hamming_loss`` and ``average_precision``
(:data:`MULTILABEL_COLUMNS`).

At a given seed every strategy starts from the same initial draw (it depends
only on the seed), so scores are paired across strategies, as the paper's t
tests need. :func:`learning_curves`, :func:`learning_curve_auc`,
:func:`summarize` and :func:`penalty_matrix` read this table;
:func:`save_results` and :func:`load_results` keep it in a CSV file;
:func:`write_report` writes the figures (public in :mod:`skbait.plotting`) and a
markdown summary, as ``skbait run`` and ``skbait report`` do.
:func:`evaluate_stopping` runs one simulation to its budget and says when each
stopping criterion (:mod:`skbait.stopping`) would have ended it, at what cost.
"""

from skbait.evaluation._experiments import DEFAULT_STRATEGIES, compare_strategies, run_experiment
from skbait.evaluation._penalty import penalty_checkpoints, penalty_matrix, t_threshold
from skbait.evaluation._report import write_report
from skbait.evaluation._stopping import evaluate_stopping
from skbait.evaluation._tables import (
    COLUMNS,
    MULTILABEL_COLUMNS,
    exponential_budgets,
    learning_curve_auc,
    learning_curves,
    load_results,
    save_results,
    score_table,
    summarize,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_STRATEGIES",
    "MULTILABEL_COLUMNS",
    "compare_strategies",
    "evaluate_stopping",
    "exponential_budgets",
    "learning_curve_auc",
    "learning_curves",
    "load_results",
    "penalty_checkpoints",
    "penalty_matrix",
    "run_experiment",
    "save_results",
    "score_table",
    "summarize",
    "t_threshold",
    "write_report",
]
