"""Tests of skbait.datasets: the Austin loader, the Figure 3 problems, the Figure 2 views."""

import csv
from importlib import resources

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.linear_model import Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skbait.datasets import (
    bayes_risk,
    decay_second_moment,
    learned_representation,
    load_austin_weather,
    make_gaussian_decay,
    make_orthonormal_decay,
    random_representation,
)
from skbait.embeddings import embed

# --------------------------------------------------------------------------- Austin weather


def _raw_austin_rows():
    """The shipped CSV, read independently of the loader."""
    path = resources.files("skbait.datasets") / "data" / "austin_weather.csv"
    with path.open("r", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_austin_shipped_file_is_package_data():
    path = resources.files("skbait.datasets") / "data" / "austin_weather.csv"
    assert path.is_file()
    assert len(_raw_austin_rows()) == 1319


def test_austin_shapes_and_names():
    bunch = load_austin_weather()
    assert bunch.data.shape == (1305, 18)
    assert bunch.target.shape == (1305,)
    assert bunch.data.dtype == np.float64 and bunch.target.dtype == np.float64
    assert len(bunch.feature_names) == 18
    assert bunch.target_names == ["PrecipitationSumInches"]
    assert "Date" not in bunch.feature_names and "Events" not in bunch.feature_names
    assert bunch.frame is None
    assert "Austin" in bunch.DESCR and "trace" in bunch.DESCR
    assert np.isfinite(bunch.data).all() and np.isfinite(bunch.target).all()


def test_austin_cleaning_counts_are_pinned():
    """1319 raw days; 14 have a '-' feature and are dropped; 'T' -> 0.001 inch."""
    raw = _raw_austin_rows()
    features = load_austin_weather().feature_names
    has_missing = [any(row[name].strip() == "-" for name in features) for row in raw]
    assert sum(has_missing) == 14
    raw_trace = [row["PrecipitationSumInches"].strip() == "T" for row in raw]
    assert sum(raw_trace) == 124
    assert sum(t and not m for t, m in zip(raw_trace, has_missing)) == 122

    y = load_austin_weather().target
    assert np.sum(y == 0.001) == 122
    assert np.sum(y == 0.0) == 859
    assert np.sum(y > 0) == 446
    assert y.min() == 0.0 and y.max() == pytest.approx(5.2)
    # No measured (non-trace) rainfall is below the gauge's 0.01 inch.
    assert np.all((y == 0) | (y == 0.001) | (y >= 0.01))


def test_austin_rows_match_the_raw_file_in_order():
    raw = _raw_austin_rows()
    bunch = load_austin_weather()
    kept = [row for row in raw if not any(row[n].strip() == "-" for n in bunch.feature_names)]
    assert len(kept) == bunch.data.shape[0]
    for i in (0, 1, 500, len(kept) - 1):
        expected = [float(kept[i][name]) for name in bunch.feature_names]
        assert_array_equal(bunch.data[i], expected)
        raw_target = kept[i]["PrecipitationSumInches"].strip()
        assert bunch.target[i] == (0.001 if raw_target == "T" else float(raw_target))
    # The first day of the file, 2013-12-21: 74F high, 0.46 inch of rain.
    assert bunch.data[0, 0] == 74.0 and bunch.target[0] == 0.46


def test_austin_return_X_y_and_frame():
    X, y = load_austin_weather(return_X_y=True)
    bunch = load_austin_weather()
    assert_array_equal(X, bunch.data)
    assert_array_equal(y, bunch.target)

    pd = pytest.importorskip("pandas")
    framed = load_austin_weather(as_frame=True)
    assert isinstance(framed.frame, pd.DataFrame)
    assert list(framed.frame.columns) == bunch.feature_names + bunch.target_names
    assert isinstance(framed.data, pd.DataFrame) and isinstance(framed.target, pd.Series)
    assert_array_equal(framed.data.to_numpy(), X)
    assert_array_equal(framed.target.to_numpy(), y)
    X_df, y_s = load_austin_weather(return_X_y=True, as_frame=True)
    assert X_df.shape == (1305, 18) and y_s.name == "PrecipitationSumInches"


def test_austin_events_as_labels_match_the_raw_file():
    """task="multilabel": each kept day's Events cell, split at commas, read by hand."""
    raw = _raw_austin_rows()
    bunch = load_austin_weather(task="multilabel")
    names = bunch.target_names
    assert names == ["Fog", "Rain", "Thunderstorm"]
    kept = [row for row in raw if not any(row[n].strip() == "-" for n in bunch.feature_names)]
    expected = np.array(
        [
            [int(name in [e.strip() for e in row["Events"].split(",")]) for name in names]
            for row in kept
        ]
    )
    assert bunch.target.dtype == np.int64 and bunch.target.shape == (1305, 3)
    assert_array_equal(bunch.target, expected)
    assert_array_equal(bunch.data, load_austin_weather().data)
    # The pinned counts of DESCR; the first day had rain and a thunderstorm.
    assert bunch.target.sum(axis=0).tolist() == [68, 375, 188]
    assert np.bincount(bunch.target.sum(axis=1)).tolist() == [892, 228, 152, 33]
    assert bunch.target[0].tolist() == [0, 1, 1]
    # The one snowy day is kept, with its rain, and snow is not a label.
    snowy = [i for i, row in enumerate(kept) if "Snow" in row["Events"]]
    assert len(snowy) == 1 and bunch.target[snowy[0]].tolist() == [0, 1, 0]


def test_austin_events_frame_and_bad_task():
    pd = pytest.importorskip("pandas")
    X, Y = load_austin_weather(task="multilabel", return_X_y=True, as_frame=True)
    assert isinstance(X, pd.DataFrame) and X.shape == (1305, 18)
    assert isinstance(Y, pd.DataFrame) and list(Y.columns) == ["Fog", "Rain", "Thunderstorm"]
    framed = load_austin_weather(task="multilabel", as_frame=True)
    assert framed.frame.shape == (1305, 21)
    assert_array_equal(framed.target.to_numpy(), load_austin_weather(task="multilabel").target)
    with pytest.raises(ValueError, match="`task` must be 'regression' or 'multilabel'"):
        load_austin_weather(task="events")


def test_austin_events_are_learnable_beyond_the_base_rate():
    """Each event is predicted from the weather better than by its prevalence (AP > rate)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import cross_val_predict
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, Y = load_austin_weather(task="multilabel", return_X_y=True)
    model = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression()))
    scores = cross_val_predict(model, X, Y, cv=3, method="predict_proba")
    for j in range(Y.shape[1]):
        assert average_precision_score(Y[:, j], scores[:, j]) > 2 * Y[:, j].mean()


def test_austin_linear_model_learns_something():
    """The features carry signal about rainfall: ridge beats the mean on held-out days."""
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_austin_weather(return_X_y=True)
    scores = cross_val_score(make_pipeline(StandardScaler(), Ridge()), X, y, cv=5, scoring="r2")
    assert scores.mean() > 0.1


# --------------------------------------------------------------------------- Figure 3 problems


def test_decay_second_moment():
    Sigma = decay_second_moment(100)
    assert Sigma.shape == (100, 100)
    assert_array_equal(Sigma, np.diag(np.diag(Sigma)))
    p = np.diag(Sigma)
    assert p.sum() == pytest.approx(1.0)
    i = np.arange(1, 101)
    assert_allclose(p / p[0], 1.0 / i**2)


def test_gaussian_second_moment_matches_sigma():
    n, d = 20_000, 100
    X, _ = make_gaussian_decay(n, d, random_state=0)
    Sigma = decay_second_moment(d)
    p = np.diag(Sigma)
    emp = X.T @ X / n
    # Diagonal: emp_ii / p_i is a chi2_n / n variable, standard error sqrt(2 / n)
    # (1%); 5 standard errors over 100 entries fails with probability ~1e-4.
    assert np.max(np.abs(np.diag(emp) / p - 1)) < 5 * np.sqrt(2 / n)
    # Off-diagonal: mean zero, standard deviation sqrt(p_i p_j / n); 6 SE over 4950 pairs.
    off = (emp - np.diag(np.diag(emp))) / np.sqrt(np.outer(p, p) / n)
    assert np.max(np.abs(off)) < 6
    # The decay is quadratic: the log-log slope of the empirical diagonal is -2.
    slope = np.polyfit(np.log(np.arange(1, d + 1)), np.log(np.diag(emp)), 1)[0]
    assert slope == pytest.approx(-2.0, abs=0.02)


def test_orthonormal_rows_and_frequencies():
    n, d = 50_000, 100
    X, _ = make_orthonormal_decay(n, d, random_state=0)
    assert set(np.unique(X)) == {0.0, 1.0}
    assert_array_equal(X.sum(axis=1), np.ones(n))
    p = np.diag(decay_second_moment(d))
    counts = X.sum(axis=0)
    # Each count is Binomial(n, p_i): within 5 standard deviations.
    sd = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(counts - n * p) < 5 * sd)
    # Its second moment is diag of the frequencies, and matches Sigma's diagonal.
    emp = X.T @ X / n
    assert_allclose(emp, np.diag(counts / n))


@pytest.mark.parametrize("maker", [make_gaussian_decay, make_orthonormal_decay])
def test_makers_reproducible_and_labels_follow_the_model(maker):
    X1, y1, theta1 = maker(3000, 10, reg=4.0, noise=0.5, coef=True, random_state=7)
    X2, y2, theta2 = maker(3000, 10, reg=4.0, noise=0.5, coef=True, random_state=7)
    assert_array_equal(X1, X2)
    assert_array_equal(y1, y2)
    assert_array_equal(theta1, theta2)
    X3, _ = maker(3000, 10, random_state=8)
    assert not np.array_equal(X1, X3)
    residual = y1 - X1 @ theta1
    assert residual.std() == pytest.approx(0.5, rel=0.05)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "`n_samples` must be a positive integer"),
        ({"n_features": 0}, "`n_features` must be a positive integer"),
        ({"reg": 0.0}, "`reg` must be a positive number"),
        ({"noise": -1.0}, "`noise` must be a positive number"),
        ({"noise": float("inf")}, "`noise` must be finite"),
        ({"n_samples": 2.5}, "`n_samples` must be a positive integer"),
        ({"n_samples": True}, "`n_samples` must be a positive integer"),
    ],
)
def test_makers_reject_bad_parameters(kwargs, match):
    params = {"n_samples": 10, "n_features": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_gaussian_decay(**params)
    with pytest.raises(ValueError, match=match):
        make_orthonormal_decay(**params)


def test_bayes_risk_matches_monte_carlo():
    """The slow, obviously correct reference: simulate the Bayesian model.

    Draw theta* from the prior, noisy labels for the selected rows, fit the MAP
    estimate (scikit-learn's Ridge with penalty reg * noise**2, no intercept)
    and average (theta_hat - theta*)^T Sigma (theta_hat - theta*).

    Tolerance: the error theta_hat - theta* is Gaussian with covariance
    C = noise**2 Lambda^-1, so each loss has variance 2 tr((Sigma C)^2) and the
    mean of N draws has standard error sqrt(2 tr((Sigma C)^2) / N), about 2% of
    the risk here. We allow 4 standard errors (a fixed seed makes the test
    deterministic; a fresh seed would fail with probability ~6e-5).
    """
    rng = np.random.RandomState(0)
    d, reg, noise, n_draws = 3, 2.0, 0.7, 5000
    X_pool = rng.normal(size=(40, d)) @ np.array([[2.0, 0.0, 0.0], [0.5, 1.0, 0.0], [0, 0, 0.3]])
    Sigma = X_pool.T @ X_pool / X_pool.shape[0]
    S = X_pool[[3, 11]]  # fewer rows than dimensions: the prior matters
    exact = bayes_risk(S, Sigma, reg=reg, noise=noise)
    assert exact == pytest.approx(bayes_risk(S, X_pool=X_pool, reg=reg, noise=noise))

    thetas = rng.normal(scale=1 / np.sqrt(reg), size=(n_draws, d))
    Y = S @ thetas.T + noise * rng.normal(size=(S.shape[0], n_draws))
    map_fit = Ridge(alpha=reg * noise**2, fit_intercept=False).fit(S, Y)
    errors = map_fit.coef_ - thetas
    losses = np.einsum("ni,ij,nj->n", errors, Sigma, errors)

    C = noise**2 * np.linalg.inv(S.T @ S + reg * noise**2 * np.eye(d))
    se = np.sqrt(2 * np.trace(Sigma @ C @ Sigma @ C) / n_draws)
    assert losses.std() / np.sqrt(n_draws) == pytest.approx(se, rel=0.15)
    assert abs(losses.mean() - exact) < 4 * se
    # The check has teeth: the usual slips land more than 10 standard errors away.
    A, eye = S.T @ S, np.eye(d)
    for wrong in (
        noise**2 * np.trace(np.linalg.solve(A + reg * eye, Sigma)),  # penalty reg, not reg sigma^2
        np.trace(np.linalg.solve(A + reg * noise**2 * eye, Sigma)),  # no sigma^2 in front
        noise**2 * np.trace(np.linalg.solve(A + noise**2 / reg * eye, Sigma)),  # reg as variance
    ):
        assert abs(losses.mean() - wrong) > 10 * se


def test_bayes_risk_closed_forms():
    d = 5
    Sigma = decay_second_moment(d)
    p = np.diag(Sigma)
    # No labels: the prior's risk tr(Sigma) / reg, whatever the noise.
    assert bayes_risk(np.empty((0, d)), Sigma, reg=2.0, noise=3.0) == pytest.approx(0.5)
    # Basis rows: Lambda is diagonal, risk = noise^2 sum_i p_i / (n_i + reg noise^2).
    counts = np.array([3, 1, 0, 2, 0])
    S = np.repeat(np.eye(d), counts, axis=0)
    reg, noise = 0.5, 2.0
    expected = noise**2 * np.sum(p / (counts + reg * noise**2))
    assert bayes_risk(S, Sigma, reg=reg, noise=noise) == pytest.approx(expected)


def test_bayes_risk_decreases_with_more_rows():
    X, _ = make_gaussian_decay(60, 8, random_state=1)
    Sigma = decay_second_moment(8)
    risks = [bayes_risk(X[:m], Sigma) for m in range(0, 61, 5)]
    assert np.all(np.diff(risks) < 0)


def test_bayes_risk_validation():
    Sigma = decay_second_moment(3)
    S = np.eye(3)
    with pytest.raises(ValueError, match="exactly one"):
        bayes_risk(S)
    with pytest.raises(ValueError, match="exactly one"):
        bayes_risk(S, Sigma, X_pool=S)
    with pytest.raises(ValueError, match="shape"):
        bayes_risk(S, decay_second_moment(4))
    with pytest.raises(ValueError, match="features"):
        bayes_risk(S, X_pool=np.ones((5, 4)))
    with pytest.raises(ValueError, match="reg"):
        bayes_risk(S, Sigma, reg=0)


# --------------------------------------------------------------------------- Figure 2 views


def test_random_representation_is_a_unit_gaussian_projection():
    d, k = 200, 128
    R = random_representation(np.eye(d), k, random_state=0)  # the matrix itself
    assert R.shape == (d, k)
    assert abs(R.mean()) < 5 / np.sqrt(R.size)
    assert R.var() == pytest.approx(1.0, abs=5 * np.sqrt(2 / R.size))
    X = np.random.RandomState(1).normal(size=(7, d))
    assert_allclose(random_representation(X, k, random_state=0), X @ R)
    assert not np.allclose(random_representation(X, k, random_state=1), X @ R)
    with pytest.raises(ValueError, match="n_components"):
        random_representation(X, 0)


@pytest.fixture(scope="module")
def digits_subset():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


@pytest.fixture(scope="module")
def digits_rep(digits_subset):
    X, y = digits_subset
    return learned_representation(X, y, n_components=32, max_iter=300, random_state=0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_learned_representation_split_and_embedding(digits_subset, digits_rep):
    X, y = digits_subset
    rep = digits_rep
    assert rep.data.shape == (200, 32)
    assert isinstance(rep.estimator, MLPClassifier)
    assert rep.estimator.hidden_layer_sizes == (32,)
    assert rep.estimator.activation == "relu"
    # The two halves partition the rows; the network never saw the held-out ones.
    assert len(rep.fit_indices) == 200
    assert np.intersect1d(rep.indices, rep.fit_indices).size == 0
    assert_array_equal(np.union1d(rep.indices, rep.fit_indices), np.arange(400))
    assert_array_equal(rep.target, y[rep.indices])
    # Stratified: every class is on both sides in about equal numbers.
    assert np.all(np.abs(np.bincount(y[rep.indices]) - np.bincount(y[rep.fit_indices])) <= 1)
    # The embedding is the fitted network's hidden layer, as skbait.embeddings sees it.
    Z, _ = embed(rep.estimator, X[rep.indices], proba=False)
    assert_allclose(rep.data, Z)
    assert np.all(rep.data >= 0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_learned_representation_reproducible_and_fraction(digits_subset, digits_rep):
    X, y = digits_subset
    again = learned_representation(X, y, n_components=32, max_iter=300, random_state=0)
    assert_array_equal(again.indices, digits_rep.indices)
    assert_array_equal(again.data, digits_rep.data)
    small = learned_representation(
        X, y, n_components=8, fit_fraction=0.25, max_iter=50, random_state=0
    )
    assert len(small.fit_indices) == 100 and small.data.shape == (300, 8)
    with pytest.raises(ValueError, match="fit_fraction"):
        learned_representation(X, y, fit_fraction=1.0)
    for max_iter in (0, 2.5, True):
        with pytest.raises(ValueError, match="`max_iter` must be a positive integer"):
            learned_representation(X, y, max_iter=max_iter)


def test_learned_representation_names_a_class_too_small_to_split():
    X = np.random.RandomState(0).normal(size=(100, 5))
    y = np.r_[[2], np.zeros(99)]
    with pytest.raises(ValueError, match=r"class 2\.0 has 1 row.*two rows of each class"):
        learned_representation(X, y, 4)
    labels = np.array(["a"] * 98 + ["b", "c"])
    with pytest.raises(ValueError, match=r"classes 'b', 'c' have 1 row each.*drop"):
        learned_representation(X, labels, 4)
    # Too few rows for the network's share to hold every class: fit_fraction is named.
    y = np.r_[np.zeros(90), np.ones(10)]
    with pytest.raises(ValueError, match="fit_fraction=0.01.*larger `fit_fraction`"):
        learned_representation(X, y, 4, fit_fraction=0.01)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_learned_representation_regression_target():
    X, _ = make_gaussian_decay(200, 5, random_state=0)
    y = np.sin(X[:, 0] * 3)
    rep = learned_representation(X, y, n_components=10, max_iter=100, random_state=0)
    assert isinstance(rep.estimator, MLPRegressor)
    assert rep.data.shape == (100, 10)
    assert_array_equal(rep.target, y[rep.indices])


@pytest.mark.parametrize("kwargs", [{"return_X_y": "yes"}, {"as_frame": 1}])
def test_load_austin_weather_checks_its_flags(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(TypeError, match=f"`{name}` must be True or False"):
        load_austin_weather(**kwargs)
