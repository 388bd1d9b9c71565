"""Seeing and keeping a campaign: its status, the fitted model, predictions for every row."""

import os

import numpy as np

from skbait.campaign._errors import CampaignError
from skbait.campaign._features import make_encoder
from skbait.campaign._files import _atomic_write, write_frame
from skbait.campaign._journal import _session, _sync_from_data
from skbait.campaign._labelsets import write_set
from skbait.campaign._model import fit, fit_model, label_names, labeled_set, make_model, varies
from skbait.campaign._stopping import CRITERIA, describe, make_criteria, shown_value


# skbait.strategies imports torch: teach, correct and status start without it, and
# reach it only when a multi-label model predicts.
def _label_probabilities(model, X, n_labels):
    from skbait.strategies import predict_label_probabilities

    return predict_label_probabilities(model, X, n_labels=n_labels)


def _label_sets(model, X, n_labels):
    from skbait.strategies import predict_label_sets

    return predict_label_sets(model, X, n_labels=n_labels)


_Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval
_BOOTSTRAP = 1000


def _wilson(successes, n, z=_Z95):
    """The Wilson score interval of a proportion (good at small n and near 0 or 1)."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def _estimate(state, X, rows, y, task, random_state=0):
    """Cross-validated accuracy (classification) or R^2 (regression) on the labeled rows.

    Out-of-fold predictions of 5-fold cross-validation (fewer folds when a
    class has fewer rows); accuracy with its Wilson interval, R^2 with a
    bootstrap percentile interval over the rows. None, with the reason, when
    there are too few labels.
    """
    from sklearn.metrics import r2_score
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    if task is None:
        return None, "no label yet"
    if task == "multi-label":
        return _estimate_label_sets(state, X, rows, y, random_state)
    _, estimator = make_model(state, task)
    if task == "classification":
        classes, counts = np.unique(y, return_counts=True)
        folds = int(min(5, counts.min()))
        if counts.size < 2:
            return None, "needs labels of two classes"
        if folds < 2:
            # Stratified folds need every class twice: name the classes that hold it back.
            lone = classes[counts < 2].tolist()
            shown = ", ".join(map(str, lone[:5])) + (", ..." if len(lone) > 5 else "")
            named = (
                f"class {shown} has one" if len(lone) == 1 else f"classes {shown} have one each"
            )
            return None, f"needs two labels of every class, and {named}"
        splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    else:
        folds = int(min(5, rows.size))
        if folds < 3:
            return None, "needs at least three labels"
        splitter = KFold(folds, shuffle=True, random_state=random_state)
    predicted = cross_val_predict(estimator, X[rows], y, cv=splitter)
    if task == "classification":
        correct = int(np.sum(predicted == y))
        low, high = _wilson(correct, rows.size)
        return {
            "metric": "accuracy",
            "value": correct / rows.size,
            "interval": [low, high],
            "folds": folds,
        }, None
    # Resamples whose labels are all equal have no R^2.
    interval = _bootstrap_interval(
        r2_score, y, predicted, rows.size, random_state, usable=lambda truth: np.ptp(truth) > 0
    )
    return {
        "metric": "R^2",
        "value": float(r2_score(y, predicted)),
        "interval": interval,
        "folds": folds,
    }, None


def _bootstrap_interval(score, y, predicted, n_rows, random_state, usable=None):
    """The 95% percentile-bootstrap interval of ``score`` over rows of out-of-fold predictions."""
    rng = np.random.RandomState(random_state)
    draws = []
    for _ in range(_BOOTSTRAP):
        pick = rng.randint(n_rows, size=n_rows)
        if usable is None or usable(y[pick]):
            draws.append(score(y[pick], predicted[pick]))
    low, high = np.percentile(draws, [2.5, 97.5])
    return [float(low), float(high)]


def _estimate_label_sets(state, X, rows, y, random_state=0):
    """Cross-validated micro-F1 of a multi-label campaign, with a bootstrap interval.

    Micro-F1 pools every (row, label) decision: the F1 of the positives found.
    It is no proportion of rows, so its interval is the percentile bootstrap
    over the rows of the same out-of-fold predictions (as R^2's).
    """
    from sklearn.base import clone
    from sklearn.metrics import f1_score
    from sklearn.model_selection import KFold

    folds = int(min(5, rows.size))
    if folds < 3 or not varies(y):
        return None, (
            "needs at least three labeled rows and a label present in some of them and "
            "absent from others"
        )
    _, estimator = make_model(state, "multi-label")
    splitter = KFold(folds, shuffle=True, random_state=random_state)
    predicted = np.zeros_like(y)
    for train, test in splitter.split(X[rows]):
        model = fit(clone(estimator), X[rows][train], y[train])
        # One label is learned as a binary target: (n,) predictions, read as its column.
        predicted[test] = _label_sets(model, X[rows][test], n_labels=y.shape[1])

    def micro_f1(truth, guess):
        return f1_score(truth, guess, average="micro", zero_division=0.0)

    return {
        "metric": "micro-F1",
        "value": float(micro_f1(y, predicted)),
        "interval": _bootstrap_interval(micro_f1, y, predicted, rows.size, random_state),
        "folds": folds,
    }, None


def campaign_status(
    data_path,
    *,
    campaign=None,
    random_state=0,
    multi_label=None,
    label_sep=None,
    no_labels=None,
    progress=None,
):
    """Where a campaign stands: labels, rounds, stopping criteria, an estimate of quality.

    The estimate is cross-validated on the labeled rows. Active learning
    chose those rows, so they are not a random sample of the pool: read the
    estimate as a guide (it tends to be pessimistic, the rows being the hard
    ones), not as a test score.

    Parameters
    ----------
    data_path : str or path-like
    campaign : str or path-like, default=None
    random_state : int, default=0
        Seeds the cross-validation folds and the bootstrap.
    multi_label : bool, default=None
    label_sep, no_labels : str, default=None
        Checked against the campaign's, as in :func:`merge_answers`.
    progress : callable, default=None
        Called with a short line before each step that takes long on a large
        DATA (reading it, checking its rows, the features, the estimate), as
        :func:`~skbait.campaign.query_batch` does.

    Returns
    -------
    dict
        ``n_rows``, ``n_labeled``, ``task``, ``counts`` (labels per class,
        or None for regression; for a multi-label campaign the rows that
        carry each label, and under the no-labels token the rows where no
        label applies), ``rounds`` (per round: ``round``,
        ``n_labeled``, ``design`` and the criteria's values as shown),
        ``criteria`` (name, what, rule, meaning), ``estimate`` (``metric``,
        ``value``, ``interval``, ``folds``; None with ``estimate_note``
        when too few labels; micro-F1 with a bootstrap interval for a
        multi-label campaign) and ``notes``.

    Raises
    ------
    CampaignError
        When the table at ``data_path``, its campaign file or an argument
        cannot be used; the message says which, and how to fix it. Nothing
        is changed on disk.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd
    >>> from skbait.campaign import campaign_status, query_batch
    >>> folder = tempfile.mkdtemp()
    >>> data = os.path.join(folder, "pool.csv")
    >>> x = [0.0, 1.0, 0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6] + list(np.linspace(0, 1, 30))
    >>> labels = ["low", "high"] * 5 + [""] * 30
    >>> pd.DataFrame({"x": x, "y": labels}).to_csv(data, index=False)
    >>> _ = query_batch(data, os.path.join(folder, "b.csv"), target="y", batch_size=2,
    ...                 device="cpu")
    >>> status = campaign_status(data)
    >>> status["n_labeled"], status["counts"]
    (10, {'high': 5, 'low': 5})
    >>> status["estimate"]["metric"]
    'accuracy'
    """
    progress = progress if progress is not None else (lambda line: None)
    label_sets = (multi_label, label_sep, no_labels)
    with _session(data_path, campaign, label_sets=label_sets, progress=progress) as (
        table,
        state,
        _path,
        notes,
    ):
        _sync_from_data(state, table, notes)
        progress("building the feature matrix")
        X, rows, y, task = labeled_set(state, table, notes)
    counts = None
    if task == "classification":
        values, n = np.unique(y, return_counts=True)
        counts = {_plain(v): int(c) for v, c in zip(values, n)}
    elif task == "multi-label":
        # Rows per label, and the rows where no label applies under the token's name.
        counts = {name: int(c) for name, c in zip(label_names(state), y.sum(axis=0))}
        counts[state["settings"]["multi_label"]["no_labels"]] = int((y.sum(axis=1) == 0).sum())
    if task is not None:
        progress(f"estimating the quality by cross-validation on {rows.size} labeled row(s)")
    estimate, why = _estimate(state, X, rows, y, task, random_state)
    criteria = make_criteria(task, state["settings"].get("stop")) if task else []
    rounds = []
    for record in state["rounds"]:
        stopping = record.get("stopping") or {}
        rounds.append(
            {
                "round": record["round"],
                "n_labeled": record["n_labeled"],
                "design": record.get("design"),
                **{c.name: shown_value(c.name, stopping.get(c.name)) for c in criteria},
            }
        )
    return {
        "n_rows": int(X.shape[0]),
        "n_labeled": int(rows.size),
        "task": task,
        "counts": counts,
        "rounds": rounds,
        "criteria": [describe(c) for c in criteria],
        "estimate": estimate,
        "estimate_note": why,
        "notes": notes,
    }


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def plot_status(status, path=None, *, figure=None):
    """Draw a campaign's progress (labels per round, the criteria over rounds).

    Parameters
    ----------
    status : dict
        What :func:`campaign_status` returns.
    path : str or path-like, default=None
        The PNG file to write. None writes nothing and returns the figure.
    figure : matplotlib.figure.Figure or matplotlib.figure.SubFigure, default=None
        Where to draw (two axes side by side); a new figure by default. A
        figure given here is left open; with ``path``, its whole figure is
        written.

    Returns
    -------
    str or path-like or matplotlib.figure.Figure
        ``path``, or with ``path=None`` the figure drawn on (left open).

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skbait.campaign import campaign_status, plot_status, query_batch
    >>> folder = tempfile.mkdtemp()
    >>> data = os.path.join(folder, "pool.csv")
    >>> pd.DataFrame({"x": range(6), "y": [""] * 6}).to_csv(data, index=False)
    >>> _ = query_batch(data, os.path.join(folder, "b.csv"), target="y", batch_size=2,
    ...                 device="cpu")
    >>> figure = plot_status(campaign_status(data), os.path.join(folder, "status.png"))
    >>> os.path.getsize(figure) > 0
    True
    >>> import matplotlib.pyplot as plt
    >>> drawn = plot_status(campaign_status(data))   # the figure, not written
    >>> len(drawn.axes)
    2
    >>> plt.close(drawn)
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise CampaignError(
            "the status figure needs matplotlib: pip install 'skbait[plotting]' (or --no-plot)."
        ) from None
    rounds = status["rounds"]
    own = figure is None
    if own:
        figure = plt.figure(figsize=(10, 4.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    x = [r["round"] for r in rounds]
    left.plot(x, [r["n_labeled"] for r in rounds], marker="o", color="C0")
    left.set_xlabel("round")
    left.set_ylabel("labeled rows")
    title = f"{status['n_labeled']} of {status['n_rows']} rows labeled"
    estimate = status["estimate"]
    if estimate is not None:
        low, high = estimate["interval"]
        title += f"; {estimate['metric']} {estimate['value']:.2f} [{low:.2f}, {high:.2f}]"
    left.set_title(title, fontsize="medium")
    # A criterion ruled by its relative change (BAIT's objective) has a scale of its
    # own: it gets the right-hand axis, so that the others (within [0, 1]) stay legible.
    relative = [name for name, *_ in status["criteria"] if CRITERIA[name][1] == "tol"]
    other = right.twinx() if relative else None
    lines = []
    for i, (name, _, rule, _) in enumerate(status["criteria"]):
        values = [r.get(name) for r in rounds]
        points = [(a, v) for a, v in zip(x, values) if v is not None]
        axis = other if name in relative else right
        if points:
            label = f"{name}: {rule}" + (" (right axis)" if name in relative else "")
            lines += axis.plot(*zip(*points), marker="o", color=f"C{i + 1}", label=label)
    right.set_xlabel("round")
    right.set_ylabel("criterion value")
    if other is not None:
        other.set_ylabel("objective of the labeled set (objective_plateau)")
    right.set_title("stopping criteria (only rounds with new labels)", fontsize="medium")
    if status["criteria"] and lines:
        right.legend(
            handles=lines, fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.18)
        )
    for axis in (left, right):
        axis.xaxis.get_major_locator().set_params(integer=True)
    if path is None:
        return figure
    root = figure.figure  # the figure itself, or a subfigure's whole figure
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        if own:
            plt.close(root)
        raise CampaignError(f"cannot write {os.fspath(path)!r}: the folder does not exist.")
    # The format by the name's ending (PNG without one): the temporary file written first
    # has none, and matplotlib would add ".png" to its name.
    extension = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    try:
        # Whole or not at all: a full disk leaves the earlier figure, a read-only one is kept.
        _atomic_write(path, lambda tmp: root.savefig(tmp, dpi=100, format=extension))
    except CampaignError:
        raise  # already says which file and why
    except ValueError as exc:  # an extension matplotlib cannot draw (.xyz, .csv)
        raise CampaignError(f"cannot write {os.fspath(path)!r}: {exc}.") from None
    finally:
        if own:
            plt.close(root)
    return path


def _fitted_pipeline(data_path, campaign, label_sets=None, output=None, what=None):
    from sklearn.pipeline import make_pipeline

    from skbait.campaign._rounds import _check_output_free

    with _session(data_path, campaign, label_sets=label_sets) as (table, state, path, notes):
        _sync_from_data(state, table, notes)
        if output is not None:
            # Before the fit: DATA, the campaign and unmerged answers are never overwritten.
            _check_output_free(state, output, (data_path, path), what)
        model, X, rows, _y, task, _name = fit_model(state, table, notes)
        if model is None:
            raise CampaignError(
                "no model yet: it needs a label present in some labeled rows and absent from "
                "others."
                if state["settings"].get("multi_label")
                else "no model yet: it needs labels of two classes (or a numeric target)."
            )
        encoder = make_encoder(table, state["data"]["features"]).fit(table.frame)
    pipeline = make_pipeline(encoder, model)
    if task == "multi-label":
        pipeline = LabelSetClassifier(
            pipeline, label_names(state), state["settings"]["multi_label"]
        )
    return pipeline, table, state, X, rows, task, notes


class LabelSetClassifier:
    """A fitted multi-label pipeline that speaks in label sets, as the campaign's cells do.

    ``predict`` gives each row's label set as its cell text (the labels whose
    probability exceeds 0.5, sorted and joined by the separator; the
    no-labels token when none does); ``predict_proba`` one column per label,
    in ``classes_`` order; ``pipeline`` is the fitted pipeline itself, whose
    ``predict`` gives the 0/1 indicator matrix.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted on the indicator matrix of ``classes``.
    classes : list of str
    spec : dict
        The campaign's ``multi_label`` setting (``sep``, ``no_labels``).

    Examples
    --------
    :func:`export_model` writes one for a multi-label campaign; built by hand:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from skbait.campaign import LabelSetClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    >>> Y = np.array([[1, 0], [1, 0], [1, 1], [1, 1], [0, 1], [0, 1]])
    >>> pipeline = make_pipeline(OneVsRestClassifier(LogisticRegression())).fit(X, Y)
    >>> spec = {"sep": "|", "no_labels": "(none)"}
    >>> model = LabelSetClassifier(pipeline, ["arts", "sports"], spec)
    >>> model.predict([[0.0], [5.0]]).tolist()
    ['arts', 'sports']
    >>> model.predict_proba([[0.0]]).shape
    (1, 2)
    """

    def __init__(self, pipeline, classes, spec):
        self.pipeline = pipeline
        self.classes_ = np.asarray(classes, dtype=object)
        self.spec = dict(spec)

    def __getitem__(self, index):
        return self.pipeline[index]

    def predict_proba(self, X):
        """Each label's probability, ``(n_rows, n_labels)``.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            What ``pipeline`` takes: for an exported model, a table with
            DATA's feature columns.

        Returns
        -------
        ndarray of shape (n_rows, n_labels)
            The probability of each label of ``classes_``, column by column.
        """
        # One label is learned as a binary target: two columns, the second the label's.
        return _label_probabilities(self.pipeline, X, n_labels=len(self.classes_))

    def texts(self, proba):
        """The cell texts of the label sets that probabilities ``proba`` decide.

        Parameters
        ----------
        proba : array-like of shape (n_rows, n_labels)
            Each label's probability, as :meth:`predict_proba` gives it.

        Returns
        -------
        ndarray of shape (n_rows,), dtype=object
            The labels of probability above 0.5 joined by the separator, or
            the no-labels token where none is.
        """
        chosen = np.asarray(proba) > 0.5
        return np.asarray(
            [write_set(tuple(self.classes_[row].tolist()), self.spec) for row in chosen],
            dtype=object,
        )

    def predict(self, X):
        """Each row's label set as a cell holds it (``"a|b"``, or the no-labels token).

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            As :meth:`predict_proba` takes it.

        Returns
        -------
        ndarray of shape (n_rows,), dtype=object
        """
        return self.texts(self.predict_proba(X))

    def __repr__(self):
        return f"LabelSetClassifier({self.pipeline!r}, sep={self.spec['sep']!r})"


def export_model(
    data_path, output, *, campaign=None, multi_label=None, label_sep=None, no_labels=None
):
    """Write the campaign's model, fitted on every label, with joblib.

    The pipeline reads a table: a :class:`TableEncoder` fitted on all of
    DATA (as the campaign reads it) followed by the estimator; its
    ``predict`` takes a DataFrame with DATA's feature columns. A multi-label
    campaign's pipeline is wrapped in a :class:`LabelSetClassifier`, whose
    ``predict`` gives label sets as cells hold them (``"a|b"``).

    Parameters
    ----------
    data_path : str or path-like
    output : str or path-like
        The file to write (``.joblib``); never DATA, the campaign file or a
        batch file holding answers not merged yet.
    campaign : str or path-like, default=None
    multi_label : bool, default=None
    label_sep, no_labels : str, default=None
        Checked against the campaign's, as in :func:`merge_answers`.

    Returns
    -------
    sklearn.pipeline.Pipeline
        The pipeline written.

    Raises
    ------
    CampaignError
        When the table at ``data_path``, its campaign file or an argument
        cannot be used; the message says which, and how to fix it. Nothing
        is changed on disk.

    Examples
    --------
    >>> import os, tempfile
    >>> import joblib, pandas as pd
    >>> from skbait.campaign import export_model
    >>> folder = tempfile.mkdtemp()
    >>> data = os.path.join(folder, "pool.csv")
    >>> labels = ["a", "b"] * 4 + [""] * 4
    >>> pd.DataFrame({"x": [0, 9, 1, 8, 2, 7, 3, 6, 4, 5, 1, 9], "y": labels}).to_csv(
    ...     data, index=False)
    >>> from skbait.campaign import query_batch
    >>> _ = query_batch(data, os.path.join(folder, "b.csv"), target="y", device="cpu")
    >>> _ = export_model(data, os.path.join(folder, "model.joblib"))
    >>> model = joblib.load(os.path.join(folder, "model.joblib"))
    >>> model.predict(pd.DataFrame({"x": [0.5, 8.5]})).tolist()
    ['a', 'b']
    """
    import joblib

    pipeline, *_ = _fitted_pipeline(
        data_path, campaign, (multi_label, label_sep, no_labels), output, "the model file"
    )
    _atomic_write(output, lambda tmp: joblib.dump(pipeline, tmp))
    return pipeline


def predict_table(
    data_path, output, *, campaign=None, multi_label=None, label_sep=None, no_labels=None
):
    """Write predictions for every row of DATA, with a score, a rank and probabilities.

    Columns: ``row`` (and the ``--id`` column when the campaign has one),
    ``prediction``, ``labeled`` (whether the row has a label), ``score``
    (how unsure the model is, ``1 - max p`` for a classifier; blank for a
    regressor), ``rank`` (1 for the unlabeled row the model is least sure
    of; blank for labeled rows and regressors) and one ``proba_CLASS``
    column per class. Sort by ``rank`` to label the least sure rows first,
    in Label Studio, Argilla or a spreadsheet.

    In a multi-label campaign ``prediction`` is the label set as a cell
    holds it (the labels of probability above 0.5, joined by the separator;
    the no-labels token when none is), ``score`` the mean uncertainty
    ``1 - |2 p - 1|`` over the labels, and ``proba_LABEL`` each label's
    probability.

    Parameters
    ----------
    data_path : str or path-like
    output : str or path-like
        A ``.csv`` or ``.parquet`` file; never DATA, the campaign file or a
        batch file holding answers not merged yet.
    campaign : str or path-like, default=None
    multi_label : bool, default=None
    label_sep, no_labels : str, default=None
        Checked against the campaign's, as in :func:`merge_answers`.

    Returns
    -------
    pandas.DataFrame
        The table written.

    Raises
    ------
    CampaignError
        When the table at ``data_path``, its campaign file or an argument
        cannot be used; the message says which, and how to fix it. Nothing
        is changed on disk.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skbait.campaign import predict_table, query_batch
    >>> folder = tempfile.mkdtemp()
    >>> data = os.path.join(folder, "pool.csv")
    >>> labels = ["a", "b"] * 4 + [""] * 4
    >>> pd.DataFrame({"x": [0, 9, 1, 8, 2, 7, 3, 6, 4, 5, 1, 9], "y": labels}).to_csv(
    ...     data, index=False)
    >>> _ = query_batch(data, os.path.join(folder, "b.csv"), target="y", device="cpu")
    >>> table = predict_table(data, os.path.join(folder, "predictions.csv"))
    >>> list(table.columns)
    ['row', 'prediction', 'labeled', 'score', 'rank', 'proba_a', 'proba_b']
    >>> table["rank"].tolist()[8:]
    [1, 2, 3, 4]
    """
    import pandas as pd

    pipeline, table, state, X, rows, task, _notes = _fitted_pipeline(
        data_path, campaign, (multi_label, label_sep, no_labels), output, "the predictions file"
    )
    model = pipeline[-1]
    labeled = np.zeros(X.shape[0], dtype=bool)
    labeled[rows] = True
    frame = pd.DataFrame({"row": np.arange(X.shape[0])})
    id_column = state["data"].get("id")
    if id_column is not None:
        frame[id_column] = table.text(id_column)
    if task == "multi-label":
        proba = _label_probabilities(model, X, n_labels=len(pipeline.classes_))
        frame["prediction"] = pipeline.texts(proba)
    else:
        frame["prediction"] = model.predict(X)
    frame["labeled"] = labeled
    if task == "multi-label":
        _rank(frame, np.mean(1.0 - np.abs(2.0 * proba - 1.0), axis=1), labeled)
        for j, name in enumerate(pipeline.classes_):
            frame[f"proba_{name}"] = proba[:, j]
    elif task == "classification" and hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        _rank(frame, 1.0 - proba.max(axis=1), labeled)
        for j, cls in enumerate(model.classes_):
            frame[f"proba_{cls}"] = proba[:, j]
    else:
        frame["score"] = np.nan
        frame["rank"] = pd.array([None] * X.shape[0], dtype="Int64")
    write_frame(frame, output, dialect=table.dialect)
    return frame


def _rank(frame, score, labeled):
    """``score`` and ``rank`` columns: rank 1 for the unlabeled row of the highest score."""
    import pandas as pd

    order = np.argsort(-np.where(labeled, -np.inf, score), kind="stable")
    rank = np.full(len(score), np.nan)
    unlabeled = int((~labeled).sum())
    rank[order[:unlabeled]] = np.arange(1, unlabeled + 1)
    frame["score"] = score
    frame["rank"] = pd.array(np.where(np.isnan(rank), None, rank), dtype="Int64")
