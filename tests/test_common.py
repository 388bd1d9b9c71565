"""scikit-learn's estimator checks on ActiveLearner, with no expected failure."""

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbait import ActiveLearner


@parametrize_with_checks(
    [
        ActiveLearner(LogisticRegression(), query_strategy="random"),
        ActiveLearner(Ridge(), query_strategy="random"),
        # A simulation shows the model only the rows it labels, plus the whole
        # pool whenever a model-based strategy queries: with BAIT (the default)
        # the checks of bad input (NaN, objects) reach the model in fit, and
        # the sparse checks run BAIT on a sparse embedding.
        ActiveLearner(LogisticRegression(), n_initial=4, batch_size=2, budget=8, random_state=0),
    ],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
