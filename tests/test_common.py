"""scikit-learn's estimator checks on ActiveLearner."""

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbait import ActiveLearner

# BAIT on a sparse pool reads a sparse embedding and, until the strategies'
# sparse support lands, refuses it with a clear error (which the sparse array
# checks accept, but the sparse tag check does not). Remove once merged.
SPARSE_PENDING = {
    "check_estimator_sparse_tag": "BAIT on sparse embeddings arrives with the scale work",
}


# Real labeling takes a y with every label missing (NaN) as a cold start: fit keeps
# the pool and query() uses the label-free design (issue 17), so it does not raise.
COLD_START = {
    "check_supervised_y_no_nan": "every label missing is a cold start, not an error",
}


def _expected_failed_checks(estimator):
    return SPARSE_PENDING if estimator.budget is not None else COLD_START


@parametrize_with_checks(
    [
        ActiveLearner(LogisticRegression(), query_strategy="random"),
        ActiveLearner(Ridge(), query_strategy="random"),
        # A simulation shows the model only the rows it labels, plus the whole
        # pool whenever a model-based strategy queries: with BAIT the checks of
        # bad input (NaN, objects) reach the model in fit.
        ActiveLearner(
            LogisticRegression(),
            query_strategy="bait",
            n_initial=4,
            batch_size=2,
            budget=8,
            random_state=0,
        ),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
