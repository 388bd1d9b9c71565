"""When would each stopping criterion end a simulated campaign, and at what cost?"""

import numpy as np
import pandas as pd
from sklearn.base import clone

from skbait.evaluation._experiments import fit_scoring_test_set
from skbait.stopping import StoppingCriterion, apply_stopping, check_stopping

__all__ = ["evaluate_stopping"]


def evaluate_stopping(
    estimator,
    X,
    y,
    X_test,
    y_test,
    *,
    criteria,
    strategy="bait",
    n_initial=10,
    batch_size=10,
    budget=200,
    random_state=None,
):
    """When would each criterion stop a simulated campaign, and at what cost?

    Runs one simulated campaign to the full ``budget`` (``y`` is the oracle)
    with an :class:`~skbait.ActiveLearner`, updating every criterion after
    each round's fit and scoring the model on the test rows; no criterion
    ends the run. A criterion *stops* at the first round where its rule holds.
    The rows drawn are those of ``ActiveLearner(estimator,
    query_strategy=strategy, n_initial=n_initial, batch_size=batch_size,
    budget=budget, random_state=random_state)``.

    Parameters
    ----------
    estimator : estimator object
        Cloned and trained on the labeled rows every round.
    X, y : array-like
        The pool and its oracle labels.
    X_test, y_test : array-like
        Held-out rows for the score.
    criteria : list of StoppingCriterion
        Cloned; the caller's objects are not fitted.
    strategy : str or QueryStrategy, default="bait"
    n_initial, batch_size, budget : int, default=10, 10, 200
        As in :class:`~skbait.ActiveLearner`.
    random_state : int or None, default=None
        Seeds the initial draw, each query and the stop set.

    Returns
    -------
    summary : pandas.DataFrame
        One row per criterion: ``stop_labels`` (labels when it stopped; the
        budget when it never did), ``stopped`` (bool), ``score_at_stop``,
        ``score_full`` (at the budget), ``score_lost`` (``score_full -
        score_at_stop``) and ``labels_saved``.
    rounds : pandas.DataFrame
        One row per round: ``n_labeled``, ``score`` (the model's score on the
        test rows; the micro-F1 for a multi-label target, as in
        :func:`compare_strategies`) and each criterion's value
        and ``<name>_stop`` (``nan`` and ``False`` in a round whose labels
        hold a single class: no model was trained to measure).

    Raises
    ------
    TypeError
        When a criterion is a callback rather than a
        :class:`~skbait.stopping.StoppingCriterion`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait.evaluation import evaluate_stopping
    >>> from skbait.stopping import OverallUncertainty
    >>> X, y = load_digits(return_X_y=True)
    >>> summary, rounds = evaluate_stopping(
    ...     LogisticRegression(max_iter=300), X[:600] / 16, y[:600], X[600:] / 16, y[600:],
    ...     criteria=[OverallUncertainty(threshold=0.3)], strategy="margin",
    ...     n_initial=20, batch_size=20, budget=100, random_state=0)
    >>> list(rounds["n_labeled"])
    [20, 40, 60, 80, 100]
    >>> list(summary.columns)[:3]
    ['criterion', 'stop_labels', 'stopped']
    """
    from skbait._active_learner import ActiveLearner

    criteria = check_stopping(criteria)
    for item in criteria:
        if not isinstance(item, StoppingCriterion):
            raise TypeError(
                "evaluate_stopping measures StoppingCriterion objects (see skbait.stopping); "
                f"got the callback {getattr(item, '__name__', item)!r}."
            )
    measured = {}

    def measure_every_round(learner):
        # Called by the learner after each fit, once the round's record is
        # appended (history_[-1]); it measures every criterion and never ends the run.
        entries, _ = apply_stopping(
            criteria,
            learner,
            learner.estimator_,
            learner.pool_.X,
            learner.pool_.mask,
            embedding=learner.embedding,
            seed=learner._seed,  # the run's seed seeds the stop set, as in the learner
        )
        measured[len(learner.history_) - 1] = entries
        return False

    learner = ActiveLearner(
        clone(estimator),
        query_strategy=strategy if isinstance(strategy, str) else clone(strategy),
        n_initial=n_initial,
        batch_size=batch_size,
        budget=budget,
        random_state=random_state,
        stopping=measure_every_round,
    )
    fit_scoring_test_set(learner, X, y, X_test, y_test)
    # Label sets are scored by micro-F1, as in compare_strategies (a model's own
    # score is then the harsh subset accuracy).
    score_key = "eval_f1_micro" if "eval_f1_micro" in learner.history_[0] else "eval_score"
    records = []
    for round_, entry in enumerate(learner.history_):
        record = {"n_labeled": int(entry["n_labeled"]), "score": float(entry[score_key])}
        values = measured.get(round_, {})
        for criterion in criteria:
            record[criterion.name] = values.get(criterion.name, float("nan"))
            record[f"{criterion.name}_stop"] = bool(values.get(f"{criterion.name}_stop", False))
        records.append(record)
    rounds = pd.DataFrame(records)
    full = float(rounds["score"].iloc[-1])
    summary = []
    for criterion in criteria:
        fired = np.flatnonzero(rounds[f"{criterion.name}_stop"].to_numpy())
        at = int(fired[0]) if fired.size else len(rounds) - 1
        summary.append(
            {
                "criterion": criterion.name,
                "stop_labels": int(rounds["n_labeled"].iloc[at]),
                "stopped": bool(fired.size),
                "score_at_stop": float(rounds["score"].iloc[at]),
                "score_full": full,
                "score_lost": full - float(rounds["score"].iloc[at]),
                "labels_saved": int(budget - rounds["n_labeled"].iloc[at]),
            }
        )
    return pd.DataFrame(summary), rounds
