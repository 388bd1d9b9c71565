"""ActiveLearner: the meta-estimator that runs the labeling loop."""

import contextlib
import copy
import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier, is_regressor
from sklearn.metrics import accuracy_score, check_scoring, get_scorer_names
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _num_samples,
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)
from tqdm.auto import tqdm

from skbait._labeled_pool import (
    LabeledPool,
    check_label_kind,
    check_labels_of_one_kind,
    check_not_one_row,
    check_rows,
    label_repr,
    missing_label_mask,
    natural_labels,
)
from skbait._single_class import SingleClassModel
from skbait._skorch import (
    _is_skorch_net,
    check_label_set_net,
    check_net_device,
    check_net_labels,
    check_train_split,
    column_classes,
    dtype_errors_explained,
    explain_label_count_error,
    kept_torch_draws,
    net_infers_classes,
    net_output_count,
    net_predicts_label_sets,
    net_takes_column_targets,
    set_net_classes,
    skorch_targets,
)
from skbait.base import QueryStrategy, get_strategy_tags
from skbait.cold_start import ColdStart, NoModelYet, cold_start_features
from skbait.embeddings import embeds_input_features
from skbait.stopping import StoppingCriterion, apply_stopping, check_stopping
from skbait.strategies import (
    RandomSampling,
    available_strategies,
    make_strategy,
    multilabel_strategy_name,
    predict_label_probabilities,
    predict_label_sets,
)
from skbait.utils._categories import unseen_categories_explained
from skbait.utils._documents import missing_documents_explained
from skbait.utils._multilabel import is_multilabel_target, multilabel_scores, read_label_sets
from skbait.utils._seeds import draw_seed, round_random_state
from skbait.utils._threads import threads_per_round
from skbait.utils._validation import check_flag
from skbait.utils._warnings import caller_stacklevel

__all__ = ["ActiveLearner"]

_HISTORY_KEYS = (
    "round",
    "n_labeled",
    "fit_seconds",
    "train_score",
    "eval_score",
    "query_seconds",
    "indices",
)


@contextlib.contextmanager
def _eval_set_refusals_explained():
    """The model's refusal to score eval_set, said to be eval_set's, with the fix.

    It comes after the round's fit, which the error would otherwise seem to blame.
    """
    try:
        yield
    except (ValueError, TypeError) as exc:
        message = (
            f"The model could not score eval_set: {exc}\neval_set=(X_val, y_val) takes "
            "held-out rows with the columns of the pool given to fit, in its form, and "
            "their labels, of the kind of y."
        )
        try:
            clear = type(exc)(message)
        except Exception:  # an exception class built from other arguments
            clear = (TypeError if isinstance(exc, TypeError) else ValueError)(message)
        # Marked, so that run_experiment can name its own arguments (X_test, y_test).
        clear._skbait_eval_set_refusal = exc
        raise clear from exc


def eval_set_refusal(exc):
    """The model's own error, when ``exc`` is its refusal to score eval_set; else None."""
    return getattr(exc, "_skbait_eval_set_refusal", None)


def _estimator_has(attr):
    """Delegate ``attr`` to the fitted model (the wrapped one for a stand-in), or the unfitted."""

    def check(self):
        fitted = getattr(self, "estimator_", None)
        if fitted is not None and not isinstance(fitted, (SingleClassModel, NoModelYet)):
            return hasattr(fitted, attr)
        return hasattr(self.estimator, attr)

    return check


class ActiveLearner(MetaEstimatorMixin, BaseEstimator):
    """Batch active learning around any scikit-learn estimator.

    ``ActiveLearner`` trains ``estimator`` on the labeled rows only and asks a
    query strategy (BAIT by default) which unlabeled rows to label next. It
    behaves as the estimator it wraps: a classifier when it wraps a classifier,
    a regressor when it wraps a regressor.

    It takes the data the wrapped estimator takes. Like
    :class:`~sklearn.pipeline.Pipeline`, it checks only what it needs itself
    (the number of rows, that ``X`` and ``y`` agree, the labels) and leaves
    ``X`` to the estimator: a list of documents for a text pipeline, a
    :class:`pandas.DataFrame` with string columns for a
    :class:`~sklearn.compose.ColumnTransformer`, NaN for a model that handles
    it, a sparse matrix. The pool is kept in the form given and indexed with
    scikit-learn's indexing utilities, so column names survive.

    It runs the loop in one of two ways:

    - **Simulation** (``budget`` set): ``fit(X, y)`` treats ``y`` as the
      labeling oracle, revealed only for the rows that are queried. It draws
      ``n_initial`` rows at random, then repeatedly trains a fresh clone of the
      estimator on the labeled rows (retraining from scratch, as in the paper)
      and queries ``batch_size`` more rows, until ``budget`` labels are used.
      This is what :class:`~sklearn.model_selection.GridSearchCV` runs to
      compare strategies at a fixed budget.
    - **Real labeling** (``budget=None``): ``fit(X, y)`` trains on the rows
      that have a label; rows whose label is ``missing_label`` (NaN or None
      by default) form the unlabeled pool. :meth:`query` names rows to send
      to the annotator and :meth:`teach` adds their labels and refits.
      A taught label may be of a class not seen before: the refit grows
      ``classes_``.

    **Cold start.** In real labeling every label may be missing: ``fit``
    then trains nothing (``estimator_`` refuses to predict until labels are
    taught) and :meth:`query` uses the label-free design of
    :mod:`skbait.cold_start` (BAIT with the pool's rank-one Fisher on the
    standardised rows, on ``embedding(None, X)``, or, for a pipeline whose
    rows are not numbers, on its steps before the model fitted on the pool
    without labels). ``query_strategy="random"`` draws uniformly instead.
    ``n_initial=0`` starts a simulation the same way.

    **Multi-label.** A classifier given a multi-label ``y`` (0/1 columns, a
    sparse indicator, label sets, a DataFrame of 0/1 columns; a row of NaN or
    None is unlabeled) learns it as such: ``classes_`` are the labels,
    :meth:`predict_proba` gives each label's probability, and a strategy name
    stands for its multi-label form (``"bait"``: multi-label BAIT). See
    :ref:`multilabel`.

    **Stopping.** ``stopping`` criteria (:mod:`skbait.stopping`) are updated
    after every fit of the model and recorded in ``history_``; a simulation
    stops at the first round where one of them holds.

    :meth:`query` returns *positions* (0 to n - 1), never index labels: with
    a DataFrame pool, use ``X.iloc[idx]``.

    The learner never loses a label: every revealed or taught label is stored
    before the refit that uses it, so a refit that raises, an interrupt or a
    pickle round-trip leaves it in place, and :meth:`resume` continues an
    interrupted simulation exactly as an uninterrupted run would have.

    **A single labeled class.** No classifier can be trained on labels of one
    class, yet finding the second class is often why the loop runs. While the
    labeled rows hold one class, ``estimator_`` is a stand-in that predicts
    that class (a pipeline's preprocessing steps are fitted, so that strategies
    see the rows as the last step would), a ``UserWarning`` says so, and the
    query strategy applies its own single-class rule: BAIT and log-det fall
    back to the embedding's rank-one information, BADGE's gradients vanish so
    it draws its centres uniformly, uncertainty sampling has no uncertainty to
    rank and draws at random, CoreSet is unaffected. The loop goes on round
    after round; the first refit that sees two classes trains the real model.

    Parameters
    ----------
    estimator : estimator object
        The model to train: a classifier, a regressor or a
        :class:`~sklearn.pipeline.Pipeline` ending in one. It is cloned, never
        modified.
    query_strategy : str or QueryStrategy, default="bait"
        The strategy, as an instance (cloned in fit) or by name; see
        :func:`skbait.strategies.available_strategies`. A named strategy's
        parameters are reachable as ``query_strategy__<param>`` (setting one
        replaces the name by the strategy object), so that
        ``GridSearchCV(ActiveLearner(model), {"query_strategy__reg": [...]})``
        works with the default.
    classes : array-like, default=None
        Classifiers only: every class the labels may take, declared up front.
        ``classes_`` and the columns of :meth:`predict_proba` are then these
        from the first round on, and a label outside them is an error;
        :meth:`predict` gives labels of their dtype (``[0, 1, 2]`` predicts
        int64 labels for float labels beside NaN), as
        ``partial_fit(classes=...)`` does in scikit-learn. By default the
        classes are those seen (in a simulation, the oracle's).
    missing_label : scalar or None, default=np.nan
        Marks an unlabeled row in the ``y`` given to fit. The default, NaN,
        also accepts None and ``pandas.NA``; with any other marker (``-1``,
        ``"unlabeled"``), NaN or None in ``y`` is an error, since it is
        ambiguous. Every other value is a label: ``-1`` is a class unless
        ``missing_label=-1``.
    n_initial : int, default=10
        Rows drawn uniformly at random (seeded) to start a simulation; ``0``
        starts it with a batch of the label-free design instead.
    batch_size : int, default=10
        Rows queried per round. The last round of a simulation queries only
        what is left of the budget.
    budget : int or None, default=None
        Total number of labels a simulation may use, the initial draw
        included; at most the number of rows. ``None`` means real labeling.
    stopping : StoppingCriterion, callable, list of them, or None, default=None
        Stopping criteria (cloned in fit) and callbacks
        ``stopping(learner) -> bool``, evaluated after every fit of a real
        model (not of the single-class stand-in). Each adds ``<name>`` (its
        value) and ``<name>_stop`` to the round's ``history_`` record, and
        ``stop`` says whether any holds. A simulation stops there, before
        its budget; in real labeling, read ``history_[-1]["stop"]``.
    scoring : str, callable or None, default=None
        How ``history_`` scores each round's model (``train_score``,
        ``eval_score``): a scikit-learn scorer name
        (``"neg_root_mean_squared_error"``, ``"neg_mean_absolute_error"``,
        ``"balanced_accuracy"``) or a callable ``scorer(estimator, X, y)``.
        ``None`` uses the model's own ``score``: accuracy for a classifier,
        R^2 for a regressor. :meth:`score` stays the model's own.
    warm_start : bool, default=False
        Keep training the same estimator object from round to round instead of
        a fresh clone; when the estimator (or a pipeline's last step) has a
        ``warm_start`` parameter it is switched on, so that each fit continues
        from the previous solution. Refused for ensembles (forests, boosting),
        whose ``warm_start`` adds members instead and refits nothing.
    embedding : callable, default=None
        ``embedding(estimator, X) -> array (n_samples, n_dims)`` overriding
        the last-layer embedding that strategies read (see
        :mod:`skbait.embeddings`).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial draw and every query, and a skorch network's fits
        (its initial weights, dropout, shuffling) without changing torch's
        global random state. ``None`` leaves a network to torch's global
        generator.
    n_threads : "auto", int or None, default="auto"
        Threads a round (the model's fit and predictions, the embedding, the
        query) may use in every pool: numpy's and scipy's BLAS, OpenMP
        (scikit-learn) and torch. ``"auto"`` measures the machine before the
        round and runs it on one thread while other processes hold the cores
        (on a busy machine many threads wait on each other, and a round
        becomes several times slower), as you set otherwise; an integer
        fixes the count; ``None`` leaves the settings alone. Never above
        your own setting, which comes back when the round ends. See
        :ref:`threads`.
    verbose : int, default=0
        0 is silent; 1 shows a progress bar over the budget; 2 also prints one
        line per round.

    Attributes
    ----------
    estimator_ : estimator object
        The model trained on the labeled rows of the last round; while they
        hold a single class, a stand-in (see above).
    query_strategy_ : QueryStrategy
        The strategy instance used.
    pool_ : object
        The labeled pool: rows, labels and labeling order, which the three
        attributes below expose.
    labeled_indices_ : ndarray of int
        The labeled rows of ``X_``, in the order they were labeled (the initial
        draw or the labels given to fit first).
    X_ : array-like, DataFrame, sparse matrix or list
        The pool in the form given to fit (CSR and CSC matrices as given, other
        sparse formats as CSR), followed by the rows added by :meth:`teach`.
    y_ : ndarray
        Labels of the rows of ``X_`` known to the learner; entries of
        unlabeled rows are meaningless (see ``labeled_indices_``).
    history_ : list of dict
        One record per fit of the model (``pandas.DataFrame(history_)`` makes
        a table): ``round`` (0 for the first fit), ``n_labeled`` (rows the
        model was trained on), ``fit_seconds``, ``train_score`` (score on those
        rows, the model's own or ``scoring``'s), ``eval_score`` (score on
        ``eval_set``, ``nan`` without one),
        ``query_seconds`` and ``indices`` (the rows chosen by the query that
        followed this fit; ``nan`` and empty when there was none); with
        ``stopping``, each criterion's value and verdict and ``stop``. A cold
        start's round 0 has ``n_labeled=0`` and no scores. A refit caused by
        :meth:`correct` or :meth:`retract` also has ``corrected`` or
        ``retracted`` (the rows) and ``previous_labels``. With a multi-label
        target and ``eval_set``, also ``eval_f1_micro``, ``eval_f1_macro``,
        ``eval_subset_accuracy``, ``eval_hamming_loss`` and
        ``eval_average_precision`` (see
        :func:`~skbait.utils.multilabel_scores`; NaN without ``predict_proba``).
    label_changes_ : list of dict
        Every :meth:`correct` and :meth:`retract`, oldest first: ``action``
        (``"correct"`` or ``"retract"``), ``round`` (of the refit it caused),
        ``indices``, ``previous_labels`` and ``labels`` (``None`` for a
        retraction). Labels replaced are kept here, pickles included.
    stopping_ : list
        The fitted stopping criteria (their ``values_`` round by round) and
        callbacks.
    n_features_in_ : int
        Number of features seen by the model, when it records them.
    feature_names_in_ : ndarray of str
        Names of features seen by the model, when ``X`` has string column
        names.
    classes_ : ndarray
        Classifiers only: ``classes`` when declared; otherwise, in a
        simulation, every class of the oracle ``y``, and in real labeling the
        classes labeled so far. :meth:`predict_proba` has a column for each
        (0 for a class the model has not seen labeled yet).

    See Also
    --------
    skbait.strategies.BAIT : The default query strategy.
    sklearn.semi_supervised.SelfTrainingClassifier : Another learner from partly labeled data.

    Examples
    --------
    Simulate a labeling campaign on the digits with a budget of 60 labels:

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbait import ActiveLearner
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> al = ActiveLearner(LogisticRegression(max_iter=500), query_strategy="margin",
    ...                    n_initial=20, batch_size=20, budget=60, random_state=0)
    >>> al.fit(X[:1000], y[:1000], eval_set=(X[1000:], y[1000:]))
    ActiveLearner(...)
    >>> [record["n_labeled"] for record in al.history_]
    [20, 40, 60]
    >>> len(al.labeled_indices_)
    60

    Real labeling: rows labeled NaN wait in the pool until queried.

    >>> import numpy as np
    >>> y_partial = np.full(1000, np.nan)
    >>> y_partial[:30] = y[:30]
    >>> al = ActiveLearner(LogisticRegression(max_iter=500), query_strategy="margin",
    ...                    batch_size=5, random_state=0).fit(X[:1000], y_partial)
    >>> idx = al.query()
    >>> al = al.teach(y=y[idx], indices=idx)
    >>> len(al.labeled_indices_)
    35

    A text pipeline on a list of documents, starting from one labeled class:

    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.pipeline import make_pipeline
    >>> docs = ["cheap pills now", "meeting at noon", "win cash now", "lunch at noon?"]
    >>> al = ActiveLearner(make_pipeline(TfidfVectorizer(), LogisticRegression()),
    ...                    query_strategy="entropy", batch_size=1, random_state=0)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # "a single class" until a second is taught
    ...     idx = al.fit(docs, ["spam", None, None, None]).query()
    >>> al.teach(y=["ham"], indices=idx).classes_.tolist()
    ['ham', 'spam']
    """

    _parameter_constraints: dict = {
        # Not "predict": an unfitted stacking model hides it (see _check_estimator_predicts).
        "estimator": [HasMethods(["fit"])],
        "query_strategy": [str, QueryStrategy],
        "classes": ["array-like", None],
        "missing_label": [Real, str, None],
        "n_initial": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "budget": [Interval(Integral, 1, None, closed="left"), None],
        "stopping": [StoppingCriterion, list, callable, None],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "warm_start": ["boolean"],
        "embedding": [callable, None],
        "random_state": ["random_state"],
        "n_threads": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        query_strategy="bait",
        classes=None,
        missing_label=np.nan,
        n_initial=10,
        batch_size=10,
        budget=None,
        stopping=None,
        scoring=None,
        warm_start=False,
        embedding=None,
        random_state=None,
        n_threads="auto",
        verbose=0,
    ):
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.classes = classes
        self.missing_label = missing_label
        self.n_initial = n_initial
        self.batch_size = batch_size
        self.budget = budget
        self.stopping = stopping
        self.scoring = scoring
        self.warm_start = warm_start
        self.embedding = embedding
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

    # ------------------------------------------------------------- params

    def get_params(self, deep=True):
        """Parameters of this learner; with ``deep``, a named strategy's too.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of the estimator and of the strategy
            (``query_strategy__reg``), a named strategy included (after a
            multi-label fit, those of the name's multi-label form).

        Returns
        -------
        params : dict
        """
        params = super().get_params(deep=deep)
        if deep and isinstance(self.query_strategy, str):
            try:
                # After a multi-label fit, the name stands for its multi-label form.
                strategy = _make_strategy(self.query_strategy, getattr(self, "_multilabel", False))
            except (TypeError, ValueError):
                return params  # fit reports the unknown name
            for key, value in strategy.get_params(deep=True).items():
                params[f"query_strategy__{key}"] = value
        return params

    def set_params(self, **params):
        """Set parameters; ``query_strategy__<param>`` turns a strategy name into its object.

        On a fitted learner a new strategy (or strategy parameter) serves the
        next :meth:`query` at once; the labels and the model are kept.

        Parameters
        ----------
        **params : dict
            Parameters of this learner, of its estimator (``estimator__C``)
            and of its strategy (``query_strategy__reg``).

        Returns
        -------
        self : ActiveLearner
        """
        multilabel = getattr(self, "_multilabel", False)
        if any(key.startswith("query_strategy__") for key in params):
            name = params.get("query_strategy", self.query_strategy)
            if isinstance(name, str):
                params = {**params, "query_strategy": _make_strategy(name, multilabel)}
        refit_strategy = "query_strategy_" in self.__dict__ and any(
            key.split("__")[0] == "query_strategy" for key in params
        )
        if refit_strategy and "query_strategy" in params:
            # A bad strategy raises, nothing changes.
            _make_strategy(params["query_strategy"], multilabel)
        # Tried on a copy first, so that a refused key changes nothing here: scikit-learn
        # sets the keys before it, and a strategy name would be its object already.
        BaseEstimator.set_params(clone(self), **params)
        super().set_params(**params)
        if refit_strategy:
            # After fit, the next query uses the new strategy as a refit would: a
            # name stands for its multi-label form when y is multi-label.
            self.query_strategy_ = _make_strategy(self.query_strategy, multilabel)
        return self

    # ------------------------------------------------------------------ fit

    def get_metadata_routing(self):
        """How metadata reach this learner; see scikit-learn's metadata routing.

        The learner takes ``eval_set`` in fit and ``sample_weight`` in score.
        Fit metadata the estimator requests (``set_fit_request``) are routed to
        the learner's fit, which refuses them clearly: they are not passed on.
        As for any scikit-learn meta-estimator, a ``sample_weight`` given to
        ``cross_val_score(params=...)`` or ``GridSearchCV.fit`` needs the
        estimator's ``set_fit_request(sample_weight=False)`` to weigh the
        score alone (with ``learner.set_score_request(sample_weight=True)``).

        Returns
        -------
        routing : MetadataRouter
        """
        return (
            MetadataRouter(owner=type(self).__name__)
            .add_self_request(self)
            .add(
                estimator=self.estimator,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        )

    def fit(self, X, y, *, eval_set=None, **fit_params):
        """Run the simulated loop (``budget`` set) or train on the labeled rows.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of shape (n_samples, ...)
            The pool, labeled rows included, in any form the estimator takes.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Simulation: the oracle's label of every row. Real labeling: the
            known labels, with ``missing_label`` (NaN or None by default)
            marking the unlabeled rows. Classifiers take one label per row,
            or a multi-label target (0/1 columns, a sparse indicator, a list
            of label sets, a DataFrame of 0/1 columns; a row of NaN or None is
            unlabeled; see :doc:`/user_guide/multilabel`); regressors one or
            several outputs.
        eval_set : tuple (X_val, y_val), default=None
            Held-out rows scored after every round, into ``history_``; kept
            (pickles included) and scored after every :meth:`teach` too, until
            the next ``fit``.
        **fit_params : dict
            Refused: the estimator's fit takes no ``sample_weight`` or other
            metadata through the learner (``TypeError``).

        Returns
        -------
        self : ActiveLearner

        Raises
        ------
        ValueError
            When a parameter is out of range or does not fit the data (an
            unknown ``query_strategy`` name, ``budget`` above the pool's rows
            or below ``n_initial``, ``classes`` with a regressor), a simulation's
            ``y`` misses labels, ``X`` and ``y`` differ in length, or the model
            cannot score ``eval_set``. A learner fitted before keeps its
            labels, model and history.
        TypeError
            When an integer parameter is given ``True`` or ``False``, a
            stopping criterion or strategy is given as a class, or
            ``fit_params`` are passed.
        """
        if fit_params:
            if _routing_enabled():
                # scikit-learn's own error for metadata the estimator did not request.
                process_routing(self, "fit", **fit_params)
            _refuse_fit_params(self.estimator, fit_params)
        # Rejected inputs leave the learner as it was: a fitted learner keeps its
        # labels, model and history.
        state = dict(self.__dict__)
        try:
            pool, eval_set, strategy, classes, multilabel, n_outputs = self._validate_fit(
                X, y, eval_set
            )
            stopping = check_stopping(self.stopping)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise
        for attr in (
            "estimator_",
            "classes_",
            "_fixed_classes",
            "_embedding_width",
            "_warned_growth",
            "_refit_pending",
        ):
            self.__dict__.pop(attr, None)
        self.query_strategy_ = strategy
        self.stopping_ = stopping
        self._multilabel = multilabel
        self._net_outputs = n_outputs
        # A skorch regressor of one output column trains on a column of targets.
        self._net_column_y = net_takes_column_targets(self.estimator, X, pool.y)
        self._seed = draw_seed(self.random_state)
        self._y_name = getattr(y, "name", None)
        self.history_ = []
        if classes is not None:
            self._fixed_classes = classes
        # Scored after every refit, teach's included.
        self._eval_set = eval_set
        self.pool_ = pool
        try:
            if self.budget is None:
                self._fit_round(eval_set, first_fit=True)
                return self
            initial = round_random_state(self._seed, -1).choice(
                pool.n_rows, size=self.n_initial, replace=False
            )
            self.pool_ = pool.reveal(np.sort(initial))
            return self._simulate(eval_set)
        except BaseException as exc:
            if self._rejected(exc):
                self.__dict__.clear()
                self.__dict__.update(state)
            raise

    def _rejected(self, exc):
        """Whether fit failed on its inputs, before anything worth keeping was learned.

        The model judges X in its first fit (and the strategy's first query
        judges the rest of the pool). Real labeling has nothing to resume, so
        any failure of its one fit restores the learner as it was; a
        simulation keeps a run interrupted or crashed for :meth:`resume`,
        unless the model or strategy rejected the inputs (a ``ValueError`` or
        ``TypeError``) before the first query was answered.

        Any other failure of the first fit (an interrupt, a crash, out of
        memory) stays resumable: the run keeps its seed and initial draw, which
        a fresh ``fit`` with ``random_state=None`` would draw anew, so that
        :meth:`resume` makes the selections of an uninterrupted run. A setting
        that cannot work (a net on a CUDA device this machine lacks) is refused
        by ``_validate_fit`` before the run starts, and leaves nothing to resume.
        """
        if self.budget is None:
            return True
        return isinstance(exc, (ValueError, TypeError)) and len(self.pool_.order) <= self.n_initial

    def _validate_fit(self, X, y, eval_set):
        """Every check of fit, before any state changes.

        Returns the pool (labeled rows marked), the eval set, the strategy,
        the classes fixed for the run (declared, or the oracle's), if any,
        whether the target is multi-label, and the number of outputs of a
        skorch classifier (None for other estimators), which later labels index.
        """
        self._validate_params()
        for name in ("n_initial", "batch_size", "budget", "n_threads"):
            # scikit-learn's Interval(Integral) takes a bool as 0 or 1.
            if isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be an integer, got {getattr(self, name)!r}.")
        check_rows(X)
        _check_estimator_predicts(self.estimator)
        check_net_device(self.estimator)
        if self.warm_start:
            _check_warm_start(self.estimator)
        sets = self._read_multilabel(y)
        multilabel = sets is not None
        if self.classes is not None and not multilabel and not is_classifier(self.estimator):
            raise ValueError(
                f"classes={self.classes!r} fixes the classes of a classifier, but "
                f"{type(self.estimator).__name__} is not a classifier: leave classes=None."
            )
        strategy = _make_strategy(self.query_strategy, multilabel)
        if (
            not multilabel
            and get_strategy_tags(strategy).classifier_only
            and not is_classifier(self.estimator)
        ):
            # The strategy's own refusal (uncertainty or BADGE with a regressor), before the
            # first fit rather than at the first query after it.
            strategy._validate_estimator(self.estimator)
        n_outputs = None
        if multilabel:
            check_consistent_length(X, sets.indicator)
            check_label_set_net(self.estimator)
            y, missing, classes = sets.indicator, ~sets.labeled, sets.classes
        else:
            y = self._check_y(X, y)
            missing = missing_label_mask(y, self.missing_label)
            # Counted before the labels are checked: a net's labels index its outputs.
            n_outputs = net_output_count(self.estimator, X)
            classes = self._check_classes(y[~missing], n_outputs)
        eval_set = self._check_eval_set(eval_set, classes if multilabel else None)
        n_samples = _num_samples(X)
        if self.budget is None:
            # Every label missing is a cold start: query() uses the label-free design.
            pool = LabeledPool(X, y, np.flatnonzero(~missing))
            return pool, eval_set, strategy, classes, multilabel, n_outputs
        if self.budget > n_samples:
            raise ValueError(
                f"budget={self.budget} is larger than the pool ({n_samples} samples). Lower "
                "the budget or pass a larger pool."
            )
        if self.n_initial > self.budget:
            raise ValueError(
                f"n_initial={self.n_initial} is larger than budget={self.budget}: the initial "
                "draw is part of the budget."
            )
        if missing.any():
            raise ValueError(
                "In a simulation (budget set) y is the labeling oracle and needs a label for "
                f"every row, but {int(missing.sum())} are missing ({self.missing_label!r}). "
                "For real labeling with missing labels, leave budget=None."
            )
        if classes is None and is_classifier(self.estimator):
            classes = np.unique(y)
        pool = LabeledPool(X, y, np.empty(0, dtype=np.int64))
        return pool, eval_set, strategy, classes, multilabel, n_outputs

    def _read_multilabel(self, y):
        """A multi-label ``y`` read into its indicator, or None for any other target.

        A classifier (or a model with ``predict_proba``, such as a sigmoid
        network) given label sets, 0/1 columns or a sparse indicator learns
        them as a multi-label target (see :mod:`skbait.utils._multilabel`).
        """
        model = self.estimator
        if y is None or not (is_classifier(model) or hasattr(model, "predict_proba")):
            return None
        y = _missing_rows_as_nan(y, self.missing_label)
        if not is_multilabel_target(y):
            return None
        return read_label_sets(y, classes=self.classes)

    def resume(self, X, y, *, eval_set=None):
        """Continue a simulation stopped by an interrupt or a failed fit.

        The labeled rows and the history kept so far are reused; the run goes
        on with exactly the selections an uninterrupted ``fit`` would make.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of shape (n_samples, ...)
            The same pool as given to :meth:`fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The same oracle labels as given to :meth:`fit`.
        eval_set : tuple (X_val, y_val), default=None
            Held-out rows scored after every remaining round.

        Returns
        -------
        self : ActiveLearner

        Raises
        ------
        ValueError
            When there is no simulation to continue (``budget`` is None, or
            :meth:`fit` was not called), or ``X`` has another number of rows
            than the pool given to :meth:`fit`.
        """
        if self.budget is None or not hasattr(self, "pool_"):
            raise ValueError(
                "resume() continues a simulation started by fit() with budget set; there "
                "is none to continue. Call fit() first."
            )
        if getattr(self, "_multilabel", False):
            y = self._taught_label_sets(y, whole=False)
        else:
            y = self._check_y(X, y)
        if _num_samples(X) != self.pool_.n_rows:
            raise ValueError(
                f"resume() needs the pool passed to fit ({self.pool_.n_rows} rows), "
                f"got {_num_samples(X)} rows."
            )
        eval_set = self._check_eval_set(
            eval_set, self.classes_ if getattr(self, "_multilabel", False) else None
        )
        self._eval_set = eval_set
        self.pool_ = LabeledPool(X, y, self.pool_.order)
        return self._simulate(eval_set)

    def _simulate(self, eval_set):
        """Fit and query round after round until the budget is used.

        State lives on ``self`` and is updated right after each step, so an
        exception at any point leaves a consistent learner that :meth:`resume`
        can continue.
        """
        bar = tqdm(
            total=self.budget,
            initial=len(self.pool_.order),
            disable=self.verbose < 1,
            desc="labels",
            leave=False,
        )
        try:
            while True:
                n_labeled = len(self.pool_.order)
                if not self.history_ or self.history_[-1]["n_labeled"] != n_labeled:
                    self._fit_round(eval_set, first_fit=True)
                if n_labeled >= self.budget or self.history_[-1].get("stop", False):
                    break
                batch = min(self.batch_size, self.budget - n_labeled)
                chosen, _ = self._query_pool(batch)
                self.pool_ = self.pool_.reveal(chosen)
                bar.update(len(chosen))
        finally:
            bar.close()
        return self

    def _new_model(self, y_labeled):
        """The model for this round: a clone, the warm one, or the single-class stand-in."""
        multilabel = getattr(self, "_multilabel", False)
        if is_classifier(self.estimator) and not multilabel and np.unique(y_labeled).size < 2:
            warnings.warn(
                f"The {len(y_labeled)} labeled rows hold a single class "
                f"({label_repr(y_labeled[:1])[0]!r}), so no classifier can be trained yet: "
                "a stand-in predicts that class and the query strategy applies its "
                "single-class rule until a second class is labeled.",
                UserWarning,
                stacklevel=caller_stacklevel(),  # fit, teach, or a simulation's round
            )
            return SingleClassModel(self.estimator)
        previous = getattr(self, "estimator_", None)
        if self.warm_start and not isinstance(
            previous, (type(None), SingleClassModel, NoModelYet)
        ):
            known = getattr(previous, "classes_", None)
            # A model cannot continue from a solution shaped for fewer classes:
            # a newly labeled class starts a fresh clone (labels are fixed in multi-label).
            if multilabel or known is None or np.isin(np.unique(y_labeled), known).all():
                return previous
        estimator = set_net_classes(clone(self.estimator), getattr(self, "_fixed_classes", None))
        key = _warm_start_key(estimator) if self.warm_start else None
        if key is not None:
            estimator.set_params(**{key: True})
        return estimator

    @threads_per_round
    def _fit_round(self, eval_set, *, first_fit=False):
        """Train on the labeled rows of the pool and append a history record.

        ``first_fit``: a refusal of the run's first model (by fit or a simulation)
        says which setting gives it more rows; teach and its kin say their own.
        """
        # With a random_state every round's skorch net starts from the same draws of torch,
        # so that the run repeats, and the caller's torch generators are left alone; without
        # one a net draws from them, as it would outside the learner.
        seeded = self.random_state is not None
        with kept_torch_draws(self.estimator, self._seed) if seeded else contextlib.nullcontext():
            self._train_and_record(eval_set, first_fit)
        self.__dict__.pop("_refit_pending", None)

    def _train_and_record(self, eval_set, first_fit=False):
        X_lab, y_lab = self.pool_.labeled()
        if len(y_lab) == 0:
            # Cold start: no label, no model; queries use the label-free design.
            self.estimator_ = NoModelYet()
            # The labels are known without a label: declared, the oracle's, or the columns
            # of a multi-label y (teach reads label sets against them). Otherwise none is
            # known, also once every label is retracted.
            fixed = getattr(self, "_fixed_classes", None)
            if fixed is not None:
                self.classes_ = fixed
            else:
                self.__dict__.pop("classes_", None)
            record = dict.fromkeys(_HISTORY_KEYS, np.nan)
            record.update(round=len(self.history_), n_labeled=0, indices=np.empty(0, np.int64))
            self.history_.append(record)
            return
        estimator = self._new_model(y_lab)
        first_model = all(record["n_labeled"] == 0 for record in self.history_)
        if first_model and not isinstance(estimator, SingleClassModel):
            # A skorch net's own split of the labeled rows: the clear error, or a warning.
            # It is the net's setting, the same in every round, so it is checked once a run.
            check_train_split(estimator, X_lab, y_lab)
        start = time.perf_counter()
        multilabel = getattr(self, "_multilabel", False)
        try:
            if multilabel:
                _fit_multilabel(estimator, X_lab, y_lab, getattr(self, "_fixed_classes", None))
            else:
                with dtype_errors_explained(estimator):
                    column = getattr(self, "_net_column_y", False)
                    estimator.fit(X_lab, skorch_targets(estimator, y_lab, column))
        except ValueError as exc:
            # The model's own refusal only: a bad eval_set or criterion is no matter of rows.
            clear = self._refused_first_fit(exc) if first_fit else None
            if clear is None:
                raise
            raise clear from exc
        fit_seconds = time.perf_counter() - start

        previous = {k: self.__dict__[k] for k in ("estimator_", "classes_") if k in self.__dict__}
        self.estimator_ = estimator
        if is_classifier(self.estimator):
            self.classes_ = getattr(self, "_fixed_classes", estimator.classes_)
        record = dict.fromkeys(_HISTORY_KEYS, np.nan)
        record.update(
            round=len(self.history_),
            n_labeled=len(y_lab),
            fit_seconds=fit_seconds,
            train_score=self._round_score(estimator, X_lab, y_lab, multilabel),
            indices=np.empty(0, dtype=np.int64),
        )
        if eval_set is not None:
            with _eval_set_refusals_explained(), unseen_categories_explained():
                record["eval_score"] = self._round_score(estimator, *eval_set, multilabel)
            if multilabel:
                X_eval, y_eval = eval_set
                # Average precision ranks rows by probability: none for a model without them.
                K = y_eval.shape[1]
                probabilities = (
                    predict_label_probabilities(estimator, X_eval, n_labels=K)
                    if hasattr(estimator, "predict_proba")
                    else None
                )
                scores = multilabel_scores(
                    y_eval, predict_label_sets(estimator, X_eval, n_labels=K), probabilities
                )
                record["eval_average_precision"] = np.nan
                record.update({f"eval_{name}": value for name, value in scores.items()})
        # Recorded first: a stopping callback reads this round as history_[-1].
        self.history_.append(record)
        self._warn_growing_features(estimator)
        if getattr(self, "stopping_", None) and not isinstance(estimator, SingleClassModel):
            try:
                with unseen_categories_explained():
                    record.update(self._apply_stopping(estimator, previous))
            except BaseException:
                self.history_.pop()
                raise
        if self.verbose >= 2:
            print(
                f"[ActiveLearner] round {record['round']}: {record['n_labeled']} labels, "
                f"train score {record['train_score']:.4f}, eval score "
                f"{record['eval_score']:.4f}"
            )

    def _warn_growing_features(self, estimator):
        """Warn (once per fit) when the embedding widens from refit to refit.

        A pipeline whose vectorizer is fitted on the labeled rows only sees a
        vocabulary that grows with the labels; when the embedding is the last
        step's input, every query of an embedding strategy then costs more
        than the last (BAIT's cost grows with the square of the width, or
        faster).
        """
        if (
            isinstance(estimator, SingleClassModel)
            or self.embedding is not None
            or not isinstance(self.estimator, Pipeline)
            or not get_strategy_tags(self.query_strategy_).needs_embedding
            or not embeds_input_features(self.estimator)
        ):
            return
        width = getattr(estimator[-1], "n_features_in_", None)
        before = getattr(self, "_embedding_width", None)
        self._embedding_width = width
        if width is None or before is None or width <= before:
            return
        if getattr(self, "_warned_growth", False):
            return
        self._warned_growth = True
        warnings.warn(
            f"The embedding that {type(self.query_strategy_).__name__} reads (the input of "
            f"the pipeline's last step) grew from {before} to {width} columns in one refit: a "
            "step before it (a TfidfVectorizer, say) is fitted on the labeled rows only, so "
            "its width grows with the labels, and so does the cost of every query. Fit the "
            "representation once on the whole pool (unlabeled rows are free), with a bounded "
            "width, and give its output to the learner as X: for text, X = make_pipeline("
            "TfidfVectorizer(), TruncatedSVD(n_components=100)).fit_transform(documents). A "
            "vectorizer alone fitted on the pool gives the widest embedding of all, and the "
            "slowest queries.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )

    def _round_score(self, estimator, X, y, multilabel):
        """A round's score for ``history_``: ``scoring``'s, or the model's own."""
        if self.scoring is None:
            return _model_score(estimator, X, y, multilabel)
        return float(check_scoring(estimator, scoring=self.scoring)(estimator, X, y))

    def _apply_stopping(self, estimator, previous):
        """Update the stopping criteria after a fit; if one raises, undo the round's fit.

        The criteria and the previous model are restored, so that the error
        propagates from a learner as it was before the refit (the labels stay).
        """
        saved = copy.deepcopy(self.stopping_)
        try:
            entries, _ = apply_stopping(
                self.stopping_,
                self,
                estimator,
                self.pool_.X,
                self.pool_.mask,
                embedding=self.embedding,
                seed=self._seed,
            )
        except BaseException:
            self.stopping_ = saved
            for key in ("estimator_", "classes_"):
                self.__dict__.pop(key, None)
            self.__dict__.update(previous)
            raise
        return entries

    # ---------------------------------------------------------- querying

    @threads_per_round
    def _select(self, X, labeled, batch_size):
        """Ask the strategy for rows of ``X``; time it in history.

        Returns the indices and their utilities.
        """
        strategy, model = self.query_strategy_, self.estimator_
        if isinstance(model, NoModelYet):
            model = None
            if not isinstance(strategy, RandomSampling):
                # Cold start: the label-free design, on the rows, on what a pipeline's
                # steps before the model make of them, or on embedding(None, X). Random
                # sampling needs no model, and stays the uniform baseline.
                strategy = ColdStart(device=strategy.get_params().get("device", "auto"))
                if self.embedding is None:
                    X = cold_start_features(self.estimator, X)
        start = time.perf_counter()
        # A net's predictions draw from torch's generators too (its loader's seed).
        with unseen_categories_explained(), kept_torch_draws(self.estimator_):
            indices, utilities = strategy.select(
                model,
                X,
                labeled,
                batch_size,
                random_state=round_random_state(self._seed, len(self.history_)),
                embedding=self.embedding,
                return_utilities=True,
            )
        self.history_[-1]["query_seconds"] = time.perf_counter() - start
        return indices, utilities

    def _query_pool(self, batch_size):
        """Rows of ``X_`` to label next, recorded in history."""
        with missing_documents_explained(self.pool_.X):
            indices, utilities = self._select(self.pool_.X, self.pool_.mask, batch_size)
        self.history_[-1]["indices"] = indices.copy()
        return indices, utilities

    def query(self, X=None, *, batch_size=None, return_utilities=False):
        """Rows to label next, as positions.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of shape (n_candidates, ...), \
default=None
            Candidate rows, in the form of the pool. ``None`` queries the
            unlabeled rows of the pool kept from fit (``X_``). With ``X``
            given, the labeled rows still count (BAIT weighs candidates
            against what is already known).
        batch_size : int, default=None
            Rows to return; defaults to the ``batch_size`` parameter. Fewer
            are returned when fewer candidates remain.
        return_utilities : bool, default=False
            Also return the strategy's utility of each chosen row.

        Returns
        -------
        indices : ndarray of int64
            Positions (0 to n - 1) in ``X`` (or in ``X_`` when ``X`` is
            None), not index labels: for a DataFrame, select the rows with
            ``X.iloc[indices]``.
        utilities : ndarray of float64
            Only with ``return_utilities=True``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        ValueError
            When ``batch_size`` is not a positive integer, every row of the
            pool is labeled (and ``X`` is None), or ``X`` has no row or is a
            single row given alone (pass ``X[[i]]``).
        """
        return_utilities = check_flag("return_utilities", return_utilities)
        check_is_fitted(self)
        if batch_size is None:
            batch_size = self.batch_size
        if not isinstance(batch_size, Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
        if getattr(self, "_refit_pending", False):
            # The refit of the last teach, correct or retract was interrupted (Ctrl-C) or
            # crashed: the query reads a model of every label, as without the interruption.
            try:
                self._refit_keeping_labels()
            except Exception as exc:
                # It fails again (out of memory, say): the previous model serves, as it did.
                warnings.warn(
                    f"The refit on every label failed again ({type(exc).__name__}: {exc}); "
                    f"this query ranks rows with the model of the first "
                    f"{self.history_[-1]['n_labeled']} labels. The labels are kept.",
                    UserWarning,
                    stacklevel=caller_stacklevel(),
                )
        if X is None:
            if len(self.pool_.order) == self.pool_.n_rows:
                raise ValueError(
                    "Every row of the pool is labeled: nothing is left to query. Pass new "
                    "candidate rows as query(X)."
                )
            indices, utilities = self._query_pool(batch_size)
            return (indices, utilities) if return_utilities else indices

        check_not_one_row(self.pool_.X, X)
        if _num_samples(X) == 0:
            raise ValueError("query(X) got no candidate rows.")
        # Candidates go after the labeled rows, so the strategy sees one pool
        # whose labeled part is what the learner already knows.
        pool, labeled = self.pool_.with_candidates(X)
        with missing_documents_explained(X):  # positions in X, not in the combined pool
            indices, utilities = self._select(pool, labeled, batch_size)
        indices = indices - int(labeled.sum())
        return (indices, utilities) if return_utilities else indices

    def teach(self, X=None, y=None, *, indices=None):
        """Add labels and refit.

        Either give new rows ``X`` with their labels ``y`` (they are appended
        to the pool, in its form), or give ``indices`` (positions) of
        unlabeled rows of the pool kept from fit (what :meth:`query` returned)
        with their labels ``y``. A label of a class not seen yet is welcome
        (unless ``classes`` was declared without it): the refit grows
        ``classes_``.

        The labels are validated first, and nothing changes if they are bad.
        They are stored before the refit: if the refit raises, the exception
        propagates, the labels stay, ``estimator_`` stays the previous model,
        and the next ``teach`` refits on everything. After an interrupt or a
        crash of the refit (not a refusal), the next :meth:`query` refits
        first, so that it picks the rows an uninterrupted loop would (if that
        refit fails too, a warning says so and the previous model serves).
        A refit the model refuses
        (a ``ValueError`` or ``TypeError``: a taught row with NaN, say) raises
        one of the same type, chained to the model's, that says so and names
        the labeled rows holding NaN or infinite values, whose labels
        :meth:`retract` takes back.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of shape (n_new, ...), default=None
            New labeled rows, in the form of the pool. Leave ``None`` when
            giving ``indices``.
        y : array-like of shape (n_new,) or (n_new, n_outputs), default=None
            Their labels, a sequence even for one row (``y=["spam"]``), as
            scikit-learn's ``fit`` takes them; a single label is refused.
            Required: its default is there only so that ``X`` may be left out.
        indices : array-like of int, default=None
            Positions in ``X_`` of the rows that ``y`` labels.

        Returns
        -------
        self : ActiveLearner

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        ValueError
            When both or neither of ``X`` and ``indices`` are given, ``y`` is
            missing, holds a missing label, or has another length or shape
            than the rows, or ``indices`` names rows outside the pool or rows
            labeled already (:meth:`correct` changes those); nothing changes.
            Also when the model refuses the refit, chained to its error.
        TypeError
            When ``y`` is a single label, or ``indices`` is a single position
            or a boolean mask; nothing changes. Also when the model refuses
            the refit with a ``TypeError``, chained to it.
        """
        check_is_fitted(self)
        if (X is None) == (indices is None):
            raise ValueError("Pass either new rows X or pool indices, with their labels y.")
        if y is None:
            raise ValueError("teach() needs the labels y.")
        y = self._check_taught_labels(y)
        first_model = False
        if indices is not None:
            pool = self.pool_.label(indices, y)
        else:
            check_not_one_row(self.pool_.X, X)
            check_consistent_length(X, y)
            X = self._in_pool_column_order(X)
            pool = self.pool_.add(X, y)
            first_model = not self._check_new_rows(X)
        rows = pool.order[len(self.pool_.order) :]
        # Commit every label first: a refit failure must not lose any of them.
        previous_pool = self.pool_
        self.pool_ = pool
        self.history_[-1]["indices"] = rows.copy()
        try:
            self._fit_round(self._stored_eval_set())
        except (ValueError, TypeError) as exc:
            if not first_model:
                raise self._refused_refit(exc) from exc
            # No model judged the new rows before: the first fit did, and refused them.
            self.pool_ = previous_pool
            self.history_[-1]["indices"] = np.empty(0, dtype=np.int64)
            # The model's own words say what it refused: the rows, or their labels
            # (too few of a class for its cross-validation, say).
            raise type(exc)(
                f"The model refused its first fit on the new rows or their labels, so none "
                f"was added: {exc}"
            ) from exc
        except BaseException:
            self._refit_pending = True
            raise
        return self

    def correct(self, indices, y):
        """Replace the labels of labeled rows (an annotator's mistakes) and refit.

        The rows keep their place in ``labeled_indices_``. The change is
        recorded: the refit's ``history_`` record carries ``corrected`` (the
        rows) and ``previous_labels``, and ``label_changes_`` keeps every
        correction with the labels it replaced. As in :meth:`teach`, the new
        labels are validated first (nothing changes if they are bad) and
        stored before the refit: a refit that raises leaves them in place.

        Parameters
        ----------
        indices : array-like of int
            Positions in ``X_`` of labeled rows.
        y : array-like of shape (n_indices,) or (n_indices, n_outputs)
            Their right labels, a sequence even for one row (``[1]``).

        Returns
        -------
        self : ActiveLearner

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skbait import ActiveLearner
        >>> X = np.arange(8.0).reshape(-1, 1)
        >>> y = np.array([0, 0, 1, 1, np.nan, np.nan, np.nan, np.nan])
        >>> al = ActiveLearner(LogisticRegression(), query_strategy="random").fit(X, y)
        >>> al = al.correct([1], [1])  # row 1 was mislabeled
        >>> al.y_[al.labeled_indices_].tolist(), al.history_[-1]["previous_labels"].tolist()
        ([0.0, 1.0, 1.0, 1.0], [0.0])
        """
        self._check_changeable("correct")
        y = self._check_taught_labels(y, caller="correct")
        round_ = len(self.history_)
        self.pool_ = self.pool_.relabel(indices, y, round_)
        change = self.pool_.changes[-1]
        self._refit_keeping_labels()
        self.history_[-1].update(
            corrected=change["indices"].copy(), previous_labels=change["previous_labels"].copy()
        )
        return self

    def retract(self, indices):
        """Take labels back: the rows return to the unlabeled pool, and the model refits.

        Recorded like :meth:`correct`: ``retracted`` and ``previous_labels``
        in the refit's ``history_`` record, and in ``label_changes_``. The
        rows may be queried and taught again. Retracting every label is a
        cold start again.

        Parameters
        ----------
        indices : array-like of int
            Positions in ``X_`` of labeled rows.

        Returns
        -------
        self : ActiveLearner
        """
        self._check_changeable("retract")
        round_ = len(self.history_)
        self.pool_ = self.pool_.unlabel(indices, round_)
        change = self.pool_.changes[-1]
        self._refit_keeping_labels()
        self.history_[-1].update(
            retracted=change["indices"].copy(), previous_labels=change["previous_labels"].copy()
        )
        return self

    def _refit_keeping_labels(self):
        """Refit on every label; a refusal says the labels are kept and the way out."""
        try:
            self._fit_round(self._stored_eval_set())
        except (ValueError, TypeError) as exc:
            # Refused, as a teach's refit may be: queries use the previous model meanwhile.
            self.__dict__.pop("_refit_pending", None)
            raise self._refused_refit(exc) from exc
        except BaseException:
            self._refit_pending = True
            raise

    def _rare_class(self):
        """``(label, count)`` of the rarest labeled class when it has few rows, or None.

        A model that cross-validates inside (CalibratedClassifierCV, GridSearchCV,
        SVC(probability=True)) or counts neighbours refuses a class with fewer rows
        than its folds or neighbours; scikit-learn's defaults are 5 of each.
        """
        if not is_classifier(self.estimator) or getattr(self, "_multilabel", False):
            return None
        _, y_lab = self.pool_.labeled()
        if len(y_lab) == 0:
            return None
        labels, counts = np.unique(y_lab, return_counts=True)
        rarest = int(np.argmin(counts))
        if counts[rarest] >= _FEW_ROWS:
            return None
        return label_repr(labels[rarest : rarest + 1])[0], int(counts[rarest])

    def _refused_first_fit(self, exc):
        """fit's first model refused few rows of a class: the error, with the way out; or None.

        With scikit-learn's defaults, a model that cross-validates inside refuses
        a class of fewer than 5 rows, and the initial draw of a simulation
        (n_initial=10) often holds one: the model's own message names its folds,
        not the learner's setting that gives it more rows.
        """
        if not isinstance(exc, ValueError) or any(r["n_labeled"] for r in self.history_):
            return None
        rare = self._rare_class()
        if rare is None:
            return None
        label, count = rare
        n_labeled = len(self.pool_.order)
        if self.budget is None:
            rows, fix = f"the {n_labeled} labeled rows", "Label more rows before fitting"
        else:
            rows = f"the {n_labeled} rows of the initial draw (n_initial={self.n_initial})"
            fix = "Raise n_initial"
        return ValueError(
            f"The model refused its first fit, on {rows}: {exc}\nIf it needs more rows: "
            f"class {label!r} has {count} labeled row(s) only, and {_FEW_PER_CLASS} {fix}, "
            "or lower the model's cv or n_neighbors."
        )

    def _refused_refit(self, exc):
        """The model's refusal of a refit, saying that the labels are kept and the way out.

        The labels were committed before the refit, and stay: every refit fails
        the same way until the rows the model refuses lose their labels (or the
        estimator takes them), or, for a model that needs several rows of every
        class, until a rare class has enough. Rows holding NaN or infinities are
        named, and the error keeps the model's type and words (chained, by the
        caller).
        """
        suspects = label_repr(self.pool_.nonfinite_rows(self.pool_.order))
        if suspects:
            more = f" and {len(suspects) - 10} more" if len(suspects) > 10 else ""
            where = (
                f" The labeled rows {suspects[:10]}{more} hold NaN or infinite values, "
                "which many models refuse."
            )
            undo = f"learner.retract({suspects})"
        else:
            where, undo = "", "learner.retract([...]) with the rows it refuses"
        message = (
            f"The model refused to refit on the labeled rows: {exc}\nThe labels are kept "
            "(labeled_indices_, y_) and estimator_ is still the previous model, but every "
            f"refit will fail the same way while the rows it refuses are labeled.{where} To "
            f"undo, take their labels back with {undo} (the rows return to the pool); or "
            "give the learner an estimator that takes them, learner.set_params(estimator="
            "...) (for NaN: an imputer in a pipeline), and the next teach(), correct() or "
            "retract() refits on every label."
        )
        rare = None if suspects else self._rare_class()
        if rare is not None:
            # Too few rows of a class for the model's own folds: more labels cure it.
            label, count = rare
            message += (
                f" If the model refused too few rows of a class: class {label!r} has "
                f"{count} labeled row(s) only, and {_FEW_PER_CLASS} Then label more rows "
                "of it instead: the next teach() refits on every label, and succeeds once "
                "the model has enough."
            )
        try:
            return type(exc)(message)
        except Exception:  # an exception class built from other arguments
            return (TypeError if isinstance(exc, TypeError) else ValueError)(message)

    def _check_changeable(self, action):
        check_is_fitted(self)
        if self.budget is not None:
            raise ValueError(
                f"{action}() changes labels given in real labeling (budget=None); a "
                "simulation's labels are its oracle y: change y and fit again."
            )

    @property
    def label_changes_(self):
        """Corrections and retractions so far, oldest first (see :meth:`correct`)."""
        check_is_fitted(self)
        return [dict(change) for change in self.pool_.changes]

    def _stored_eval_set(self):
        # Learners pickled before eval_set was kept have none.
        return getattr(self, "_eval_set", None)

    def labeled_data(self):
        """The labeled rows and their labels, in the form they came in.

        Rows are in labeling order. A DataFrame pool gives a DataFrame (its
        index labels kept) and the labels as a :class:`pandas.Series` on the
        same index, named as the ``y`` given to fit; a list gives a list, a
        sparse matrix a sparse matrix, an array an array. A multi-label
        learner gives its labels as the 0/1 indicator, an int64 ndarray of
        shape ``(n_labeled, n_labels)`` whose columns are ``classes_``,
        whatever form they came in (label sets, a DataFrame, a sparse
        matrix): ``classes_[row == 1]`` is a row's label set.

        Returns
        -------
        X_labeled : array-like, sparse matrix, DataFrame or list
        y_labeled : ndarray or pandas.Series
            The labels; for a multi-label learner, the ``(n_labeled,
            n_labels)`` indicator.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skbait import ActiveLearner
        >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]}, index=["w", "x", "y", "z"])
        >>> y = pd.Series([0, np.nan, 1, np.nan], index=X.index, name="spam")
        >>> al = ActiveLearner(LogisticRegression(), query_strategy="random").fit(X, y)
        >>> X_lab, y_lab = al.labeled_data()
        >>> X_lab.index.tolist(), y_lab.name, y_lab.tolist()
        (['w', 'y'], 'spam', [0.0, 1.0])
        """
        check_is_fitted(self)
        X_lab, y_lab = self.pool_.labeled()
        # A pandas pool (iloc); a list has an index too, its list.index method.
        if hasattr(X_lab, "iloc") and y_lab.ndim == 1:
            import pandas as pd

            y_lab = pd.Series(y_lab, index=X_lab.index, name=self._y_name)
        return X_lab, y_lab

    # ------------------------------------------------------ pool attributes

    @property
    def X_(self):
        """The pool's rows, in the form given (see the class docstring)."""
        check_is_fitted(self)
        return self.pool_.X

    @property
    def y_(self):
        """Labels of the rows of ``X_``; meaningful at ``labeled_indices_`` only."""
        check_is_fitted(self)
        return self.pool_.y

    @property
    def labeled_indices_(self):
        """Labeled rows of ``X_``, in labeling order."""
        check_is_fitted(self)
        return self.pool_.order

    @property
    def n_features_in_(self):
        """Number of features seen by the model (when it records them)."""
        check_is_fitted(self)
        return self.estimator_.n_features_in_

    @property
    def feature_names_in_(self):
        """Feature names seen by the model (when ``X`` had string column names)."""
        check_is_fitted(self)
        return self.estimator_.feature_names_in_

    # --------------------------------------------------------- validation

    def _check_y(self, X, y):
        """y as an array: the shape the task allows, numbers for a regressor; length of X."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None. "
                "Give the labels (simulation: every row's; real labeling: the known ones, "
                "NaN where unknown)."
            )
        if is_classifier(self.estimator):
            y = _nullable_labels(y)
        # A copy: the caller's array may be reused (y_known[rows] = answers) and
        # must not rewrite the labels the learner holds.
        y = check_array(
            y, ensure_2d=False, dtype=None, ensure_all_finite=False, copy=True, input_name="y"
        )
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-d or 2-d, got shape {y.shape}.")
        if is_classifier(self.estimator):
            if y.ndim == 2 and y.shape[1] == 1:
                y = column_or_1d(y, warn=True)
            if y.ndim == 2:
                known = y[~missing_label_mask(y, self.missing_label)]
                values = np.unique(known) if known.dtype != object else None
                if (
                    values is not None
                    and values.size == 2
                    and np.issubdtype(values.dtype, np.number)
                    and values.tolist() != [0, 1]
                ):
                    # Two codes, as a 0/1 indicator would have (-1/1, 0/2): a recoding away.
                    low, high = values.tolist()
                    raise ValueError(
                        f"y has shape {y.shape} with the values [{low}, {high}] in its "
                        "columns: a multi-label target marks each label 1 (the row has it) "
                        f"or 0 (it has not). Recode it: (y == {high}).astype(int)."
                    )
                target = type_of_target(known)
                raise ValueError(
                    f"y has shape {y.shape} ({target}): ActiveLearner supports one label per "
                    "row (binary or multiclass), multi-label targets (0/1 columns, label "
                    "sets, a sparse indicator) and single- or multi-output regression. "
                    "Multi-output multiclass classification is not supported: train one "
                    "learner per output, or encode each combination as one class."
                )
        elif not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.integer):
            # Regression targets are float64, so a taught 1.7 is never truncated.
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"A regressor needs numeric targets; y has dtype {y.dtype}."
                ) from None
        if np.issubdtype(y.dtype, np.floating) and np.isinf(y).any():
            raise ValueError("y holds inf. Missing labels are marked by NaN, not inf.")
        check_consistent_length(X, y)
        return y

    def _declared_classes(self):
        if self.classes is None or not is_classifier(self.estimator):
            return None
        classes = np.unique(np.asarray(self.classes))
        if classes.ndim != 1 or classes.size < 1:
            raise ValueError(f"classes must be a 1-d list of labels, got {self.classes!r}.")
        if missing_label_mask(classes, self.missing_label).any():
            raise ValueError(
                f"classes {label_repr(classes)} include the missing-label marker "
                f"{self.missing_label!r}; a label cannot be both. Change missing_label."
            )
        return classes

    def _check_classes(self, y_known, n_outputs=None):
        """The declared classes, after checking that the known labels lie among them.

        ``n_outputs``: a skorch classifier's number of outputs, which its labels
        index; by default the one counted at fit.
        """
        if n_outputs is None:
            n_outputs = getattr(self, "_net_outputs", None)
        if is_classifier(self.estimator):
            # Before natural_labels, which would read True beside 1 as the number 1.
            check_labels_of_one_kind(y_known)
        y_known = natural_labels(y_known)  # [0, 1] given beside None: numbers, not objects
        if is_classifier(self.estimator) and y_known.size:
            # Before the model sees them: continuous or mixed labels get scikit-learn's
            # own message on every supported version, not a stand-in's.
            check_classification_targets(y_known)
            check_net_labels(self.estimator, y_known, n_outputs)
        classes = self._declared_classes()
        if classes is not None and is_classifier(self.estimator):
            check_net_labels(self.estimator, classes, n_outputs, "the declared classes")
        if classes is not None:
            # np.isin finds 1 among [False, True]: the kind is checked first.
            check_label_kind(y_known, classes, "the declared classes")
            outside = y_known[~np.isin(y_known, classes)]
            if outside.size:
                raise ValueError(
                    f"y holds labels {label_repr(np.unique(outside))[:5]} outside the declared "
                    f"classes {label_repr(classes)}. Add them to classes, or leave "
                    "classes=None."
                )
        return classes

    def _in_pool_column_order(self, X):
        """New DataFrame rows with the pool's columns, in the pool's order.

        The pool's DataFrame matches new rows' columns by name; the model checks
        their order too, and would refuse a frame whose columns were merely
        shuffled (a spreadsheet export, a dict of columns).
        """
        pool_X = self.pool_.X
        if not (hasattr(pool_X, "columns") and hasattr(X, "columns")):
            return X
        if list(X.columns) != list(pool_X.columns) and set(X.columns) == set(pool_X.columns):
            return X[list(pool_X.columns)]
        return X

    def _check_new_rows(self, X):
        """Let the current model judge rows before they join the pool for good.

        The learner does not know what rows the estimator takes; the fitted
        model does. Rows it rejects (wrong width or columns, NaN it cannot
        take, text for a numeric model) would make every later refit fail, so
        they are refused here, with the model's own message, and nothing
        changes. Returns whether a model judged them: before the first label
        there is none, and the first fit judges them instead.
        """
        if _num_samples(X) == 0:
            raise ValueError("teach() got no rows.")
        model = self.estimator_
        if isinstance(model, NoModelYet):
            return False
        try:
            with dtype_errors_explained(model), kept_torch_draws(model):
                if isinstance(model, SingleClassModel):
                    model.transform_rows(X)
                else:
                    model.predict(X)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"The model rejects the new rows, so none was added: {exc}") from exc
        return True

    def _check_eval_set(self, eval_set, labels=None):
        """The pair (X_val, y_val); with ``labels`` (multi-label), y_val as their indicator."""
        if eval_set is None:
            return None
        if not isinstance(eval_set, (tuple, list)) or len(eval_set) != 2:
            raise TypeError("eval_set must be a pair (X_val, y_val).")
        X_val, y_val = eval_set
        if labels is not None:
            try:
                sets = read_label_sets(y_val, classes=labels)
            except ValueError as exc:
                if self.classes is not None or "outside the declared labels" not in str(exc):
                    raise
                # Not declared: the labels are the columns of the pool's y.
                seen = read_label_sets(y_val).classes
                outside = label_repr(seen[~np.isin(seen, labels)])[:5]
                raise ValueError(
                    f"eval_set's y_val holds labels {outside} that the pool's y does not: a "
                    f"multi-label learner's labels (the columns of y, {label_repr(labels)}) "
                    "are fixed at fit. Declare every label with classes=[...]."
                ) from None
            if not sets.labeled.all():
                raise ValueError("eval_set's y_val leaves rows unlabeled; give every label set.")
            y_val = sets.indicator
        else:
            missing = np.flatnonzero(missing_label_mask(np.asarray(y_val), np.nan))
            if missing.size:
                raise ValueError(
                    f"eval_set's y_val has {missing.size} missing label(s) (NaN or None, first "
                    f"at row {missing[0]}); every held-out row needs its label to be scored. "
                    "Drop those rows from eval_set."
                )
        if _num_samples(X_val) != _num_samples(y_val):
            raise ValueError(
                f"eval_set holds {_num_samples(X_val)} rows but {_num_samples(y_val)} labels."
            )
        return X_val, y_val

    def _taught_label_sets(self, y, whole=True, caller="teach"):
        """Multi-label labels in any form, as the indicator over ``classes_``.

        ``caller`` names the method in the errors (teach, correct, score).
        """
        try:
            sets = read_label_sets(y, classes=self.classes_)
        except ValueError as exc:
            if self.classes is not None or "outside the declared labels" not in str(exc):
                raise
            # Not declared, yet fixed: the columns are the labels that fit saw.
            seen = read_label_sets(y).classes
            outside = label_repr(seen[~np.isin(seen, self.classes_)])[:5]
            raise ValueError(
                f"y holds labels {outside} that fit did not see: a multi-label learner's "
                f"labels (the columns of y_, {label_repr(self.classes_)}) are fixed at fit. "
                "Declare every label up front with classes=[...] and fit again."
            ) from None
        if whole and not sets.labeled.all():
            raise ValueError(
                f"{caller}() got rows without a label set (None or NaN); give a set per "
                "row (an empty set for a row with no label)."
            )
        return sets.indicator

    def _check_taught_labels(self, y, caller="teach"):
        """Labels given to teach or correct: the shape, none missing, a declared class."""
        if not isinstance(y, (list, tuple)) and np.ndim(y) == 0:
            # As in scikit-learn, labels are a sequence even for one row.
            if missing_label_mask(np.array([y], dtype=object), self.missing_label).any():
                raise ValueError(
                    f"{caller}() got a missing label ({y!r}); give the real labels, one per row."
                )
            if getattr(self, "_multilabel", False):
                what, one = "label sets, one per row", f"[{{{y!r}}}]"
            else:
                what, one = "labels, one per row", f"[{y!r}]"
            raise TypeError(
                f"{caller}() takes a sequence of {what}; got the single value {y!r}: "
                f"pass {one} for one row."
            )
        if getattr(self, "_multilabel", False):
            return self._taught_label_sets(y, caller=caller)
        if is_classifier(self.estimator) and is_multilabel_target(y):
            raise ValueError(
                f"{caller}() got label sets, but the y given to fit holds one label per row "
                "(a list of None is read so). To start a multi-label learner without labels, "
                "fit it on NaN rows with one column per label: np.full((n_samples, "
                "n_labels), np.nan), with classes=[...] naming the labels."
            )
        if is_classifier(self.estimator):
            y = _nullable_labels(y)
        y = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False, input_name="y")
        if y.ndim != self.pool_.y.ndim or y.shape[1:] != self.pool_.y.shape[1:]:
            column = y.ndim == 2 and y.shape[1] == 1 and self.pool_.y.ndim == 1
            # The reverse: fit took a column (as a skorch regressor wants), teach a 1-d y.
            flat = y.ndim == 1 and self.pool_.y.shape[1:] == (1,)
            hint = (
                ": a column of labels, pass y.ravel()."
                if column
                else ": fit took a column of labels, pass y.reshape(-1, 1)."
                if flat
                else "."
            )
            raise ValueError(
                f"Labels must be shaped like the y given to fit, (n,) + "
                f"{self.pool_.y.shape[1:]}; got {y.shape}{hint}"
            )
        missing = missing_label_mask(y, self.missing_label)
        if missing.any():
            marker = repr(self.missing_label)
            if self.missing_label is None or (
                isinstance(self.missing_label, Real) and np.isnan(self.missing_label)
            ):
                marker = "NaN or None"
            where = np.flatnonzero(missing)
            more = f" and {where.size - 10} more" if where.size > 10 else ""
            if caller == "teach":
                # Partial answers: the rows left unanswered stay in the pool for later.
                fix = (
                    "A row without an answer stays in the pool: teach the answered rows "
                    "only, teach(y=y[answered], indices=indices[answered]) (new rows: "
                    "teach(X[answered], y[answered]))."
                )
            else:
                fix = "Give the right labels; to take labels back, use retract(indices)."
            raise ValueError(
                f"{caller}() got missing labels ({marker}) at positions "
                f"{where[:10].tolist()}{more} of y. {fix}"
            )
        if is_classifier(self.estimator):
            self._check_classes(y)
        elif not np.issubdtype(y.dtype, np.number):
            raise TypeError(f"Regression labels must be numeric, got dtype {y.dtype}.")
        elif not np.isfinite(y).all():
            raise ValueError(f"{caller}() got non-finite regression labels.")
        return y

    # ---------------------------------------------------------- delegation

    def _class_columns(self, proba):
        """The model's probability columns of classes in ``classes_``, and their classes.

        A skorch classifier built without ``classes`` has an output for every
        class index, labeled or not: the columns of classes not labeled yet
        are dropped and the rest renormalised (the probabilities given that
        the row is of a labeled class).
        """
        proba = np.asarray(proba)
        known = column_classes(self.estimator_, proba.shape[1])
        keep = np.isin(known, self.classes_)
        if keep.all():
            return proba, known
        proba = np.asarray(proba[:, keep], dtype=np.float64)
        total = proba.sum(axis=1, keepdims=True)
        # A row with all its mass on unlabeled classes: uniform over the labeled ones.
        proba = np.divide(proba, total, out=np.full_like(proba, 1.0 / keep.sum()), where=total > 0)
        return proba, known[keep]

    def _pad_columns(self, values, fill, known=None):
        """Place the model's class columns among all of ``classes_``.

        A model trained before some class was labeled has fewer columns than
        ``classes_``; absent classes get ``fill``.
        """
        known = self.estimator_.classes_ if known is None else known
        classes = self.classes_
        if len(known) == len(classes):
            return values
        values = np.asarray(values)
        padded = np.full((values.shape[0], len(classes)), fill, dtype=np.float64)
        padded[:, np.searchsorted(classes, known)] = values
        return padded

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predict with the model trained on the labeled rows.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of shape (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Of label sets: the 0/1 matrix of shape (n_samples, n_labels), one
            column per label of ``classes_``.
        """
        check_is_fitted(self)
        if getattr(self, "_multilabel", False):
            # Label sets, (n_samples, n_labels): also of one label, or of a net's argmax.
            return predict_label_sets(self.estimator_, X, n_labels=len(self.classes_))
        if net_infers_classes(self.estimator_):
            # Its predict is the argmax over every output, an unlabeled class's included.
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        y_pred = self._as_declared_classes(self.estimator_.predict(X))
        if getattr(self, "_net_column_y", False) and np.ndim(y_pred) == 2:
            # The net learned 1-d targets as a column: predictions in the shape of y.
            y_pred = np.ravel(y_pred)
        return y_pred

    def _as_declared_classes(self, y_pred):
        """Predicted labels as the values of ``classes_``, of its dtype.

        The model learns the labels' dtype (floats beside NaN), and declared
        ``classes`` may hold the same labels in another (``[0, 1, 2]``); as
        scikit-learn's ``partial_fit(classes=...)``, the labels predicted are
        those of ``classes_``.
        """
        classes = getattr(self, "_fixed_classes", None)
        y_pred = np.asarray(y_pred)
        if classes is None or y_pred.ndim != 1 or y_pred.dtype == classes.dtype:
            return y_pred
        import pandas as pd

        # Each distinct prediction looked up once, not each row (factorize: no sorting,
        # so labels of mixed types too).
        rows, distinct = pd.factorize(y_pred, use_na_sentinel=False)
        position = {label: i for i, label in enumerate(classes.tolist())}
        found = [position.get(label) for label in distinct.tolist()]
        if None in found:  # not a declared label (never expected): leave them be
            return y_pred
        return classes[np.asarray(found, dtype=np.intp)[rows]]

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the model trained on the labeled rows.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of shape (n_samples, ...)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            One column per class of ``classes_``; classes the model has not
            seen labeled yet get probability 0. (A skorch classifier built
            without ``classes`` outputs every class index: its columns of
            classes not labeled yet are dropped, the rest renormalised).
        """
        check_is_fitted(self)
        if getattr(self, "_multilabel", False):
            return predict_label_probabilities(self.estimator_, X, n_labels=len(self.classes_))
        proba, known = self._class_columns(self.estimator_.predict_proba(X))
        return self._pad_columns(proba, 0.0, known)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the model trained on the labeled rows.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of shape (n_samples, ...)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            One column per class of ``classes_``; ``-inf`` for classes the
            model has not seen labeled yet.
        """
        check_is_fitted(self)
        if isinstance(self.estimator_, SingleClassModel):
            log_proba = np.zeros((_num_samples(X), 1))
        else:
            log_proba = self.estimator_.predict_log_proba(X)
        return self._pad_columns(log_proba, -np.inf)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the model trained on the labeled rows.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of shape (n_samples, ...)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The model's scores, placed among ``classes_`` as
            :meth:`predict_proba` is: a class the model has not seen labeled
            yet scores ``-inf``, a two-class model's score ``s`` becomes the
            columns ``(-s, s)``, so that ``classes_[argmax]`` is the
            prediction. With two classes in ``classes_`` the result is one
            score per row (positive for ``classes_[1]``), as in scikit-learn.
        """
        check_is_fitted(self)
        scores = np.asarray(self.estimator_.decision_function(X))
        if len(self.estimator_.classes_) == len(self.classes_):
            return scores
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores])
        padded = self._pad_columns(scores, -np.inf)
        if padded.shape[1] == 2:
            # scikit-learn's binary convention, from the one class the stand-in knows.
            return np.where(padded[:, 1] > padded[:, 0], np.inf, -np.inf)
        return padded

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score of the model trained on the labeled rows (its own ``score``).

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of shape (n_samples, ...)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
            Accuracy for classifiers, R^2 for regressors, unless the wrapped
            estimator defines otherwise.
        """
        check_is_fitted(self)
        if getattr(self, "_multilabel", False):
            y = self._taught_label_sets(y, caller="score")
            if net_predicts_label_sets(self.estimator_):
                # Its own score compares an argmax with the label sets: the subset accuracy.
                return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return self.estimator_.score(X, y, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = copy.deepcopy(inner.classifier_tags)
        tags.regressor_tags = copy.deepcopy(inner.regressor_tags)
        tags.target_tags = copy.deepcopy(inner.target_tags)
        tags.target_tags.required = True
        if tags.classifier_tags is not None and not _serves_label_sets(self.query_strategy):
            # The model may learn label sets, but fit refuses them with this strategy.
            tags.classifier_tags.multi_label = False
            tags.target_tags.multi_output = False
        # X goes to the estimator as given: what it takes, the learner takes.
        tags.input_tags = copy.deepcopy(inner.input_tags)
        tags.non_deterministic = inner.non_deterministic
        return tags


def _make_strategy(query_strategy, multilabel):
    """The strategy; for a multi-label y, its multi-label form (``"bait"``: multi-label BAIT)."""
    if not multilabel:
        return make_strategy(query_strategy)
    if isinstance(query_strategy, str):
        query_strategy = multilabel_strategy_name(query_strategy)
    strategy = make_strategy(query_strategy)
    if not get_strategy_tags(strategy).multilabel:
        names = [n for n in available_strategies() if _serves_multilabel(n)]
        raise ValueError(
            f"y is multi-label, and {type(strategy).__name__} serves one label per row. "
            f"Use a multi-label strategy: {', '.join(names)} (a name such as 'bait' "
            "stands for its multi-label form)."
        )
    return strategy


def _serves_label_sets(query_strategy):
    """Whether the strategy (a name, by its multi-label form) serves a multi-label y.

    An unknown name or a bad strategy counts as serving it: fit reports those.
    """
    if isinstance(query_strategy, str):
        query_strategy = multilabel_strategy_name(query_strategy)
    try:
        strategy = make_strategy(query_strategy)
    except (TypeError, ValueError):
        return True
    return get_strategy_tags(strategy).multilabel


def _nullable_labels(y):
    """A pandas nullable integer or boolean column as numpy labels of its type.

    ``check_array`` reads such a column as float64, so that the labels ``5``
    or ``True`` became ``5.0`` or ``1.0`` in ``classes_`` and predictions.
    Without NA it is the column's numpy dtype; with NA, objects with None
    where NA, whose labels keep their type as in ``[5, 6, None]``.
    """
    dtype = getattr(y, "dtype", None)
    if dtype is None or isinstance(dtype, np.dtype) or getattr(dtype, "kind", "O") not in "biu":
        return y
    if y.isna().any():
        return y.to_numpy(dtype=object, na_value=None)
    return y.to_numpy(dtype=dtype.numpy_dtype)


def _missing_rows_as_nan(y, missing_label):
    """0/1 columns (an array, a DataFrame) with NaN where they hold a numeric ``missing_label``.

    So that ``missing_label=-1`` marks a multi-label row not labeled yet, as NaN does.
    NaN beside the marker is ambiguous, and refused as for one label per row.
    """
    if not isinstance(missing_label, Real) or np.isnan(missing_label):
        return y
    if hasattr(y, "columns"):
        try:
            values = y.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):  # not numbers: no multi-label target
            return y
        missing_label_mask(values, missing_label)  # raises on NaN beside the marker
        return y.astype(np.float64).mask(values == missing_label)
    if isinstance(y, np.ndarray) and y.ndim == 2 and y.dtype.kind in "biuf":
        missing_label_mask(y, missing_label)  # raises on NaN beside the marker
        return np.where(y == missing_label, np.nan, y)
    return y


def _serves_multilabel(name):
    """Whether strategy ``name`` is tagged multilabel (False when its factory fails)."""
    try:
        return get_strategy_tags(make_strategy(name)).multilabel
    except Exception:  # a user's factory that fails is no multi-label strategy to offer
        return False


def _fit_multilabel(estimator, X, Y, labels=None):
    """Fit on an indicator matrix; a model that takes one label per row gets a pointer,
    and one that refuses a label on no row (or on every row) is told which."""
    if _is_skorch_net(estimator):
        Y = Y.astype(np.float32)  # a BCE loss takes float targets
    try:
        estimator.fit(X, Y)
    except ValueError as exc:
        clear = explain_label_count_error(estimator, exc)
        if clear is not None:
            raise clear from exc
        if "1d" not in str(exc) and "multilabel" not in str(exc).lower():
            constant = _constant_labels(Y, labels)
            if constant is None:
                raise
            # MultiOutputClassifier, ClassifierChain: one binary model per label, which
            # refuses a column of one value with the solver's words, naming no label.
            raise ValueError(
                f"{type(estimator).__name__} refused to fit on the labeled rows ({exc}). "
                f"{constant}: a model of one binary classifier per label needs labeled rows "
                "with and without each label. Label rows that show the other value (in a "
                "simulation, raise n_initial), or use OneVsRestClassifier, which predicts "
                "such a label constantly until it has both."
            ) from exc
        raise ValueError(
            f"{type(estimator).__name__} rejects the multi-label target ({exc}). Wrap a "
            "classifier of one label per row in OneVsRestClassifier (or "
            "MultiOutputClassifier, ClassifierChain)."
        ) from exc


def _constant_labels(Y, labels=None):
    """Which labels no labeled row has, and which every row has, in words; None if none."""
    Y = np.asarray(Y)
    names = label_repr(labels) if labels is not None else list(range(Y.shape[1]))
    absent = [name for name, column in zip(names, Y.T) if not column.any()]
    everywhere = [name for name, column in zip(names, Y.T) if column.all()]
    said = []
    if absent:
        said.append(f"the label(s) {absent} are on no labeled row")
    if everywhere:
        said.append(f"the label(s) {everywhere} are on every labeled row")
    return "; ".join(said).replace("the", "The", 1) if said else None


# scikit-learn's default folds (cv=5) and neighbours (n_neighbors=5).
_FEW_ROWS = 5
_FEW_PER_CLASS = (
    "a model that cross-validates inside (CalibratedClassifierCV, GridSearchCV) needs "
    "several rows of every class, one that counts neighbours (KNeighborsClassifier) at "
    "least n_neighbors rows."
)


def _model_score(estimator, X, y, multilabel):
    """The model's own score; for a multi-label target, the subset accuracy of its label sets.

    (A sigmoid network's ``score`` may compare an argmax with the label sets.)
    """
    if multilabel:
        pred = predict_label_sets(estimator, X, n_labels=y.shape[1])
        return multilabel_scores(y, pred)["subset_accuracy"]
    return float(estimator.score(X, y))


def _routing_enabled():
    return get_config().get("enable_metadata_routing", False)


def _refuse_fit_params(estimator, fit_params):
    """Refuse sample weights and other fit metadata, saying what to do instead.

    The learner trains a fresh model on its labeled rows every round, and a
    strategy weighs rows by their information alone: a weight the caller meant
    for the model would be silently dropped. With metadata routing enabled, a
    weight reaches fit this way when the estimator requests it.
    """
    names = ", ".join(sorted(fit_params))
    raise TypeError(
        f"ActiveLearner.fit does not take {names}: each round trains "
        f"{type(estimator).__name__} on the labeled rows without it, and the query "
        "strategies weigh rows by their information alone. With metadata routing, "
        f"remove the estimator's request (estimator.set_fit_request({names.split(', ')[0]}"
        "=False), or build it without set_fit_request). To weigh the score only, use "
        "learner.set_score_request(sample_weight=True)."
    )


def _check_estimator_predicts(estimator):
    """Refuse an estimator that is no model: it must classify, regress or at least predict.

    ``predict`` cannot be required of the unfitted estimator: a stacking model
    with its default ``final_estimator=None`` hides it until fit builds one.
    """
    if is_classifier(estimator) or is_regressor(estimator) or hasattr(estimator, "predict"):
        return
    raise TypeError(
        f"ActiveLearner trains a model, but {type(estimator).__name__} is neither a "
        "classifier nor a regressor and has no predict method. Pass a classifier, a "
        "regressor, or a Pipeline ending in one (make_pipeline(StandardScaler(), "
        "LogisticRegression()))."
    )


def _check_warm_start(estimator):
    """Refuse a warm start of an ensemble, whose own ``warm_start`` adds members.

    Refitted with the same ``n_estimators`` (``max_iter``), a forest or a
    boosting model fits no new member and keeps its first fit: every round
    would keep the first round's model, whatever was labeled since.
    """
    from sklearn.ensemble import (
        BaseEnsemble,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )

    model = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    ensembles = (BaseEnsemble, HistGradientBoostingClassifier, HistGradientBoostingRegressor)
    if _warm_start_key(estimator) is None or not isinstance(model, ensembles):
        return
    raise ValueError(
        f"warm_start=True cannot continue {type(model).__name__}: its own warm_start adds "
        "members (trees, iterations) when n_estimators or max_iter grows, and otherwise "
        "keeps its first fit, so every round would keep the first round's model. Leave "
        "warm_start=False: each round then trains a fresh clone on all the labels."
    )


def _warm_start_key(estimator):
    """The parameter that switches on warm start: the model's, or a pipeline's last step's."""
    params = estimator.get_params()
    if "warm_start" in params:
        return "warm_start"
    if hasattr(estimator, "steps"):
        key = f"{estimator.steps[-1][0]}__warm_start"
        return key if key in params else None
    return None
