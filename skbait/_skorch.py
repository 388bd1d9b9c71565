"""skorch networks: last-layer embeddings and probabilities from one forward pass.

This is the only module of skbait that imports :mod:`skorch`, and it does so
lazily, inside the functions that need it: importing it (or :mod:`skbait`)
works without skorch installed, and using a skorch network without it raises
an :class:`ImportError` that says how to install it.

:mod:`skbait.embeddings` registers :func:`skorch_rule` for every
:class:`skorch.NeuralNet` (classifiers, regressors, and pipelines ending in
one), so that :func:`skbait.embeddings.embed` and every strategy built on it
see a skorch network through its last layer:

- the **embedding** is the input of the network's final :class:`torch.nn.Linear`,
  that is the *last* ``nn.Linear`` called in the module's forward pass (not the
  last one the module registers), captured by a forward hook. An output
  nonlinearity after that layer (a softmax, say) is fine. When that guess is
  wrong for a network, name the layer with :class:`SkorchEmbedding`;
- the **probabilities** of a classifier are computed from the very same forward
  pass, with the transform :meth:`skorch.NeuralNet.predict_proba` applies to the
  module's output (the net's ``predict_nonlinearity``: by default a softmax
  after :class:`~torch.nn.CrossEntropyLoss`, nothing after
  :class:`~torch.nn.NLLLoss`, whose module already outputs probabilities).

The forward pass is skorch's own inference loop
(:meth:`skorch.NeuralNet.forward_iter`): the net's ``device``, its validation
iterator's batch size, evaluation mode and ``torch.no_grad`` all apply.
"""

import contextlib
import sys
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import StrOptions

from skbait.utils._pipeline import final_step, split_pipeline, tuned_model

__all__ = [
    "SkorchEmbedding",
    "check_label_set_net",
    "check_net_device",
    "check_net_labels",
    "check_train_split",
    "column_classes",
    "dtype_errors_explained",
    "explain_dtype_error",
    "explain_label_count_error",
    "kept_torch_draws",
    "net_infers_classes",
    "net_output_count",
    "net_predicts_label_sets",
    "net_takes_column_targets",
    "set_net_classes",
    "skorch_rule",
    "skorch_targets",
]

_INSTALL_HINT = "pip install skbait[skorch]"


def _require_skorch():
    """Import skorch, or explain how to install it."""
    try:
        import skorch
    except ImportError as exc:
        raise ImportError(
            "Using a skorch network with skbait needs the optional dependency skorch, which "
            f"is not installed. Install it with `{_INSTALL_HINT}` (or `pip install skorch`)."
        ) from exc
    return skorch


def _is_skorch_net(estimator):
    """True for a skorch NeuralNet, without importing skorch (no net exists unless it was)."""
    skorch = sys.modules.get("skorch")
    return skorch is not None and isinstance(estimator, skorch.NeuralNet)


def _check_net(net):
    skorch = _require_skorch()
    if not isinstance(net, skorch.NeuralNet):
        raise TypeError(
            f"Expected a skorch NeuralNet (or a Pipeline ending in one), got {type(net).__name__}."
        )
    # Raises skorch's NotInitializedError, a subclass of scikit-learn's NotFittedError.
    net.check_is_fitted()
    return net


def _module_names(root, limit=12):
    names = [name for name, _ in root.named_modules() if name]
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _find_layers(net, module):
    """The named layers that may give the embedding: the one named, or every nn.Linear.

    Of several, the last called in the forward pass counts (see skorch_rule):
    the order in which a module registers its layers need not be the order
    its forward applies them.
    """
    root = net.module_
    root = getattr(root, "_orig_mod", root)  # unwrap a torch.compile'd module
    if module is None:
        linears = [(name, m) for name, m in root.named_modules() if isinstance(m, torch.nn.Linear)]
        if not linears:
            raise ValueError(
                f"The module of this {type(net).__name__} ({type(root).__name__}) has no "
                "torch.nn.Linear layer, so its last-layer embedding cannot be guessed. Name the "
                "layer whose input is the embedding with "
                "ActiveLearner(..., embedding=SkorchEmbedding(module='name')); the module's "
                f"layers are: {_module_names(root) or 'none'}."
            )
        return linears
    if not isinstance(module, str):
        raise TypeError(f"`module` must be a layer name (str) or None, got {module!r}.")
    layers = dict(root.named_modules())
    if module not in layers:
        raise ValueError(
            f"The module of this {type(net).__name__} has no layer named {module!r}; "
            f"its layers are: {_module_names(root) or 'none'}."
        )
    return [(module, layers[module])]


def skorch_rule(net, X, proba, *, module=None, capture="input"):
    """Embedding and probabilities of the rows of ``X`` from one forward pass of a net.

    This is the rule :mod:`skbait.embeddings` registers for skorch networks;
    most users reach it through :func:`skbait.embeddings.embed` or
    :class:`SkorchEmbedding` instead of calling it.

    Parameters
    ----------
    net : fitted skorch.NeuralNet
        A :class:`~skorch.NeuralNetClassifier`, :class:`~skorch.NeuralNetRegressor`
        or any other initialized :class:`~skorch.NeuralNet`.
    X : input data accepted by the net
        Passed unchanged to :meth:`skorch.NeuralNet.forward_iter` (a float32
        array, a tensor, a dict, a :class:`torch.utils.data.Dataset` ...).
    proba : bool
        Also return the probabilities (ignored unless the net is a classifier).
    module : str, default=None
        Name of the layer in ``net.module_.named_modules()`` to hook. ``None``
        picks the last :class:`torch.nn.Linear` called in the forward pass.
    capture : {"input", "output"}, default="input"
        Take that layer's input (the default: the input of the output layer is
        the last-layer embedding) or its output (to name a hidden layer
        instead). Captured tensors of more than two dimensions are flattened to
        ``(n_samples, -1)``. If the layer runs several times in one forward
        call, its last call counts.

    Returns
    -------
    Z : ndarray of shape (n_samples, n_dims)
        In the dtype the network computes in (float32 for most networks).
    P : ndarray of shape (n_samples, n_classes) or None
        Exactly what ``net.predict_proba(X)`` returns; ``None`` for regressors
        or when ``proba`` is false.
    """
    _check_net(net)
    if capture not in ("input", "output"):
        raise ValueError(f"`capture` must be 'input' or 'output', got {capture!r}.")
    layers = _find_layers(net, module)
    want_proba = bool(proba) and is_classifier(net)
    nonlin = net._get_predict_nonlinearity() if want_proba else None

    captured = []  # (name, value) of every call in a batch's forward pass, in call order

    def hook_of(name):
        def hook(_layer, inputs, output):
            value = inputs[0] if capture == "input" else output
            if isinstance(value, (tuple, list)):
                value = value[0]
            captured.append((name, value.detach()))

        return hook

    Zs, Ps = [], []
    handles = [layer.register_forward_hook(hook_of(name)) for name, layer in layers]
    try:
        # The same loop as NeuralNet.predict_proba: eval mode, no grad, outputs on the CPU.
        for yp in _forward_batches(net, X):
            if not captured:
                name, layer = layers[-1]
                raise RuntimeError(
                    f"The layer {name!r} ({type(layer).__name__}) was not called in the "
                    "network's forward pass, so it gives no embedding. Name the layer whose "
                    "input is the last-layer embedding with SkorchEmbedding(module=...)."
                )
            # The last call counts: the output layer is the last nn.Linear applied.
            name, z = captured[-1]
            captured.clear()
            yp = yp[0] if isinstance(yp, tuple) else yp
            if z.ndim == 0 or z.shape[0] != yp.shape[0]:
                raise RuntimeError(
                    f"The {capture} of layer {name!r} has shape {tuple(z.shape)} for a batch of "
                    f"{yp.shape[0]} rows: it is not a per-row embedding. Name another layer "
                    "with SkorchEmbedding(module=...)."
                )
            Zs.append(z.reshape(z.shape[0], -1).cpu())
            if want_proba:
                Ps.append(nonlin(yp).numpy(force=True))
    finally:
        for handle in handles:
            handle.remove()
    if not Zs:
        raise ValueError("Cannot embed an empty set of rows: X has no samples.")
    Z = torch.cat(Zs).numpy(force=True)
    P = np.concatenate(Ps, axis=0) if want_proba else None
    return Z, P


def _forward_batches(net, X):
    """skorch's inference loop, its dtype mismatch explained."""
    with dtype_errors_explained(net):
        yield from net.forward_iter(X, training=False)


class SkorchEmbedding(BaseEstimator):
    """Choose which layer of a skorch network gives the last-layer embedding.

    By default skbait embeds the rows seen by a skorch network as the input of
    the last :class:`torch.nn.Linear` layer its forward pass calls. When that guess is wrong (a
    network whose final layer is a convolution, or one with a linear
    projection head after the classifier), pass an instance of this class as
    the ``embedding`` of :class:`~skbait.ActiveLearner` or of a strategy's
    ``select``. It works on a skorch net or a pipeline ending in one, and the
    probabilities still come from the same forward pass.

    Parameters
    ----------
    module : str, default=None
        Name of a layer of the network, as listed by
        ``net.module_.named_modules()`` (``"fc2"``, ``"head.0"``). ``None``
        picks the last ``nn.Linear`` called in the forward pass.
    capture : {"input", "output"}, default="input"
        Use the layer's input (name the output layer: its input is the
        last-layer embedding) or its output (name the last hidden layer or its
        activation). Tensors of more than two dimensions are flattened per row.

    See Also
    --------
    skbait.embeddings.embed : Embedding and probabilities of any fitted model.

    Notes
    -----
    An instance is a callable ``embedding(estimator, X) -> Z``, as
    ``ActiveLearner(embedding=...)`` expects, and also has a method
    ``rule(estimator, X, proba) -> (Z, P)``, which :func:`skbait.embeddings.embed`
    prefers so that one pass over the pool gives both arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from torch import nn
    >>> from skorch import NeuralNetClassifier
    >>> from skbait import SkorchEmbedding
    >>> from skbait.embeddings import embed
    >>> X = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
    >>> y = np.arange(12) % 3
    >>> module = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> net = NeuralNetClassifier(module, criterion=nn.CrossEntropyLoss, max_epochs=2,
    ...                           train_split=None, verbose=0).fit(X, y)
    >>> Z, P = embed(net, X)  # the input of the last nn.Linear: 8 ReLU units
    >>> Z.shape, P.shape
    ((12, 8), (12, 3))
    >>> Z, P = embed(net, X, embedding=SkorchEmbedding(module="0", capture="output"))
    >>> Z.shape  # the hidden layer before its ReLU
    (12, 8)
    """

    _parameter_constraints: dict = {
        "module": [str, None],
        "capture": [StrOptions({"input", "output"})],
    }

    def __init__(self, module=None, capture="input"):
        self.module = module
        self.capture = capture

    def rule(self, estimator, X, proba):
        """Embedding and probabilities from one forward pass.

        Parameters
        ----------
        estimator : fitted skorch.NeuralNet or Pipeline ending in one
        X : input data accepted by the estimator
        proba : bool
            Also return the class probabilities (classifiers only).

        Returns
        -------
        Z : ndarray of shape (n_samples, n_dims)
        P : ndarray of shape (n_samples, n_classes) or None
        """
        self._validate_params()
        net, Xt = split_pipeline(estimator, X)
        return skorch_rule(net, Xt, proba, module=self.module, capture=self.capture)

    def __call__(self, estimator, X):
        """The embedding alone: ``rule(estimator, X, proba=False)[0]``.

        Parameters
        ----------
        estimator : fitted skorch.NeuralNet or Pipeline ending in one
        X : input data accepted by the estimator

        Returns
        -------
        Z : ndarray of shape (n_samples, n_dims)
        """
        return self.rule(estimator, X, False)[0]


def check_train_split(estimator, X, y):
    """Check a skorch net's internal validation split before fitting it on few labels.

    skorch nets hold back part of the rows they are fit on for validation
    (``train_split=ValidSplit(5)`` by default: a fifth of them). In active
    learning every label is precious, and the first rounds have a handful: a
    net should be built with ``train_split=None`` to train on every labeled
    row. This check warns when a net would hold rows back and raises a clear
    error when its split fails outright (fewer rows than folds, say). It does
    nothing for estimators that are not skorch nets (or pipelines ending in
    one) and for nets with ``train_split=None``.

    Parameters
    ----------
    estimator : estimator instance
    X, y : the labeled rows and their targets

    Warns
    -----
    UserWarning
        When the split works: the net trains on part of the labeled rows only.

    Raises
    ------
    ValueError
        When the split fails, with skorch's message and the fix.

    Examples
    --------
    >>> import numpy as np
    >>> from torch import nn
    >>> from skorch import NeuralNetClassifier
    >>> from skbait._skorch import check_train_split
    >>> X, y = np.zeros((4, 2), dtype=np.float32), np.array([0, 1, 0, 1])
    >>> net = NeuralNetClassifier(nn.Linear(2, 2), criterion=nn.CrossEntropyLoss)
    >>> check_train_split(net, X, y)
    Traceback (most recent call last):
    ...
    ValueError: The internal validation split of NeuralNetClassifier ...
    >>> check_train_split(net.set_params(train_split=None), X, y)  # passes
    """
    final = final_step(estimator)
    if not _is_skorch_net(final) or not final.train_split:
        return
    n_rows = len(y)
    if isinstance(estimator, Pipeline) and len(estimator) > 1:
        # The transformers are not fitted yet: splitting only needs the row count and y.
        X = np.zeros((n_rows, 1), dtype=np.float32)
    try:
        _train, valid = final.get_split_datasets(X, y)
    except ValueError as exc:
        raise ValueError(
            f"The internal validation split of {type(final).__name__} "
            f"(train_split={final.train_split!r}) fails on {n_rows} labeled rows: {exc} "
            "Active learning starts from a few labels: build the net with "
            "train_split=None so that it trains on every labeled row."
        ) from exc
    n_valid = len(valid) if valid is not None else 0
    if n_valid:
        warnings.warn(
            f"{type(final).__name__} holds back {n_valid} of the {n_rows} labeled rows for "
            f"validation (train_split={final.train_split!r}) and trains on the rest only. In "
            "active learning build the net with train_split=None.",
            UserWarning,
            stacklevel=2,
        )


def check_net_device(estimator):
    """Refuse a skorch net set to a CUDA device this machine does not have.

    torch would fail in the net's first fit ("Torch not compiled with CUDA
    enabled", an ``AssertionError``); a configuration error is a
    ``ValueError`` before anything is trained. Other estimators, and nets on
    the CPU or another device, pass.
    """
    net = final_step(estimator)
    if not _is_skorch_net(net) or net.device is None:
        return
    try:
        device = torch.device(net.device)
    except (RuntimeError, TypeError):
        return  # skorch's own error, at fit
    if device.type != "cuda":
        return
    n_devices = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if (device.index or 0) < n_devices:
        return
    found = f"{n_devices} CUDA device(s)" if n_devices else "no CUDA device (or no CUDA build)"
    raise ValueError(
        f"{type(net).__name__} is set to device={net.device!r}, but torch finds {found} "
        "on this machine. Build the net with device='cpu' (net.set_params(device='cpu')), "
        "or run where that GPU is."
    )


def net_output_count(estimator, X):
    """How many outputs the module of ``estimator``'s skorch classifier gives, or None.

    A :class:`~skorch.NeuralNetClassifier` reads its labels as indices of its
    module's outputs, so :func:`check_net_labels` needs their number before
    any label reaches torch. It is read from a forward pass of one row of
    ``X`` through a fresh copy of the net (:func:`_one_row_output`). None for
    other estimators, for skorch's binary classifier and for nets of label
    sets (their labels are checked otherwise), and whenever the probe fails:
    the real fit then fails with its own, explained, error.
    """
    net = _skorch_classifier(estimator)
    if net is None or isinstance(net, _require_skorch().NeuralNetBinaryClassifier):
        return None
    output = _one_row_output(estimator, X)
    if output is None or output.ndim != 2:
        return None
    return int(output.shape[1])


def net_takes_column_targets(estimator, X, y):
    """Whether ``estimator`` ends in a skorch regressor whose module gives one column of
    outputs, ``(n_samples, 1)``, while ``y`` is 1-d.

    torch's square loss then broadcasts the ``(n,)`` targets against the
    ``(n, 1)`` outputs to an ``(n, n)`` matrix (with a warning per batch), and
    the net learns the mean target: :func:`skorch_targets` makes them a
    column instead. A module that squeezes its output to ``(n,)`` takes 1-d
    targets as they are.
    """
    net = final_step(tuned_model(final_step(estimator)))
    if not _is_skorch_net(net) or is_classifier(net) or np.ndim(y) != 1:
        return False
    output = _one_row_output(estimator, X)
    return output is not None and output.ndim == 2 and output.shape[1] == 1


def _one_row_output(estimator, X):
    """The module's output for the first row of ``X`` from a fresh copy of the net (after
    a pipeline's other steps, fitted on ``X``), or None when the probe fails: the real fit
    then fails with its own, explained, error. torch's global random state is left as it
    was. None for nets of label sets too (their columns are the labels).
    """
    from sklearn.base import clone

    try:
        net, X = _unfitted_net(clone(estimator), X)
        row = (
            torch.utils.data.Subset(X, [0])
            if isinstance(X, torch.utils.data.Dataset)
            else _require_skorch().utils.multi_indexing(X, slice(0, 1))
        )
        # Initialising a module may draw from torch's global generator: the probe must not
        # change the weights the real fit draws.
        with torch.random.fork_rng(devices=[]):
            net.initialize()
            if isinstance(net.criterion_, (torch.nn.BCEWithLogitsLoss, torch.nn.BCELoss)):
                return None  # label sets: their columns are the outputs
            output = net.forward(row, training=False)
    except Exception:  # a probe: the real fit raises (and explains) the same error
        return None
    output = output[0] if isinstance(output, (tuple, list)) else output
    return output if isinstance(output, torch.Tensor) else None


def _unfitted_net(probe, X):
    """The net of an unfitted ``probe``, and ``X`` through the pipeline steps before it
    (fitted on ``X``), into a search to the model it tunes, and its pipeline's net."""
    while True:
        if isinstance(probe, Pipeline) and len(probe) > 1:
            X = probe[:-1].fit_transform(X)
        inner = tuned_model(final_step(probe))
        if inner is probe:
            return probe, X
        probe = inner


def check_net_labels(estimator, labels, n_outputs=None, what="the labels"):
    """Refuse labels a skorch classifier cannot train on: it takes class indices.

    skorch hands the labels to torch, which takes whole numbers (class
    indices) only: text labels fail deep in torch ("new(): invalid data type
    'numpy.str_'"), and indices outside the module's ``n_outputs`` outputs
    (see :func:`net_output_count`) fail in the loss ("Target 5 is out of
    bounds", a device-side assert on a GPU). skorch's binary classifier takes
    0 and 1 only, and trains on anything else without a word. The learner
    does not re-encode labels, as the net's ``predict`` and ``classes_``
    would then speak of indices; the error names the fix. Other estimators
    pass.
    """
    net = _skorch_classifier(estimator)
    if net is None or net_predicts_label_sets(estimator):
        return
    labels = np.asarray(labels)
    if labels.dtype.kind in "biu" or (
        labels.dtype.kind == "f" and np.all(np.mod(labels[np.isfinite(labels)], 1) == 0)
    ):
        _check_label_range(net, labels, n_outputs, what)
        return
    # str(): numpy 2 writes repr(np.str_("cat")) as "np.str_('cat')".
    shown = ", ".join(repr(str(v)) for v in np.unique(labels.astype(str))[:3])
    raise ValueError(
        f"{type(net).__name__} learns class indices (0, 1, 2, ...), and {what} hold "
        f"{shown}, which torch cannot train on. Encode them: {_ENCODE_HINT}"
    )


_ENCODE_HINT = (
    "encoder = sklearn.preprocessing.LabelEncoder().fit(all_labels), give the learner "
    "encoder.transform(labels) (fit, teach, correct) and read its predictions back with "
    "encoder.inverse_transform(learner.predict(X))."
)


def _check_label_range(net, labels, n_outputs, what):
    """Refuse whole-number labels that are no index of the net's outputs."""
    binary = isinstance(net, _require_skorch().NeuralNetBinaryClassifier)
    if binary:
        n_outputs = 2  # one logit, for the classes 0 and 1
    if n_outputs is None:
        return
    labels = labels[np.isfinite(labels)] if labels.dtype.kind == "f" else labels
    outside = np.unique(labels[(labels < 0) | (labels >= n_outputs)])
    if not outside.size:
        return
    shown = ", ".join(str(v) for v in _as_class_indices(outside)[:5])
    more = f" (and {outside.size - 5} more)" if outside.size > 5 else ""
    if binary:
        raise ValueError(
            f"{type(net).__name__} learns the classes 0 and 1 only (its one output is their "
            f"logit), and {what} hold {shown}{more}. Relabel them as 0 and 1: "
            f"{_ENCODE_HINT}"
        )
    widen = (
        f" Or widen the module's output layer to {int(outside.max()) + 1} outputs or more."
        if outside.max() >= n_outputs
        else ""
    )
    # A negative label is often the unlabeled marker of another library.
    marker = (
        f" If {shown.split(', ')[0]} marks unlabeled rows, pass it as the learner's missing_label."
        if outside.min() < 0
        else ""
    )
    raise ValueError(
        f"The module of this {type(net).__name__} has {n_outputs} outputs, read as the class "
        f"indices 0 to {n_outputs - 1}, and {what} hold {shown}{more}, outside that "
        f"range. Relabel the classes as 0 to k-1: {_ENCODE_HINT}{widen}{marker}"
    )


_DTYPE_MISMATCH = ("dtype", "scalar type", "Input type")


@contextlib.contextmanager
def dtype_errors_explained(estimator):
    """Raise torch's dtype mismatch in ``estimator``'s skorch net as
    :func:`explain_dtype_error`'s ``TypeError``; any other error as it is."""
    try:
        yield
    except RuntimeError as exc:
        clear = explain_dtype_error(estimator, exc)
        if clear is None:
            raise
        raise clear from exc


def explain_dtype_error(estimator, exc):
    """A clear ``TypeError`` for torch's dtype mismatch in a skorch net, or None.

    skorch hands the rows to the module unconverted, and a float32 module
    given float64 rows (numpy's default) fails deep in torch with "mat1 and
    mat2 must have the same dtype". Returns None for any other error, or for
    an estimator that is not a skorch net (or a pipeline ending in one).
    """
    net = final_step(estimator)
    if not (_is_skorch_net(net) and isinstance(exc, RuntimeError)):
        return None
    if not any(text in str(exc) for text in _DTYPE_MISMATCH):
        return None
    module = getattr(net, "module_", None)
    params = list(module.parameters()) if module is not None else []
    dtype = str(params[0].dtype).removeprefix("torch.") if params else "float32"
    return TypeError(
        f"{type(net).__name__} computes in {dtype} and got rows of another dtype "
        f"(torch: {exc}). skorch passes the rows to the network unconverted, and numpy "
        f"makes float64 arrays: give X as {dtype} (X.astype(np.{dtype})), new rows "
        "and query candidates too."
    )


@contextlib.contextmanager
def kept_torch_draws(estimator, seed=None):
    """Run a skorch net's work on forked torch generators, seeded from ``seed`` if given.

    skorch has no ``random_state``: the module's initial weights, dropout, the
    training loader's shuffling, even each prediction's loader draw from
    torch's global generators. So a learner's ``random_state`` alone did not
    repeat a run, and every round advanced the generators the caller seeded.
    Within this block the CPU generator (and the one of the net's CUDA
    device) are forked, and start from ``seed`` when it is given; the caller's
    states come back when the block exits. Other estimators run as they are.
    """
    net = final_step(tuned_model(final_step(estimator)))
    if not _is_skorch_net(net):
        yield
        return
    devices = []
    with contextlib.suppress(RuntimeError, TypeError):  # a bad device is skorch's error, at fit
        device = torch.device(net.device) if net.device is not None else None
        if device is not None and device.type == "cuda" and torch.cuda.is_available():
            devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        if seed is not None:
            # Not torch.manual_seed: it would also seed the CUDA devices outside the fork.
            torch.random.default_generator.manual_seed(seed)
            for index in devices:
                torch.cuda.default_generators[index].manual_seed(seed)
        yield


def _skorch_classifier(estimator):
    """The skorch classifier that makes ``estimator``'s predictions (a search's too), or
    None."""
    final = final_step(tuned_model(final_step(estimator)))
    return final if _is_skorch_net(final) and is_classifier(final) else None


def net_infers_classes(estimator):
    """Whether ``estimator`` ends in a skorch classifier built without ``classes``.

    skorch's binary classifier has no ``classes`` parameter: its classes are
    always 0 and 1, its one output their logit.
    """
    net = _skorch_classifier(estimator)
    return net is not None and getattr(net, "classes", False) is None


def net_predicts_label_sets(estimator):
    """Whether ``estimator`` ends in a skorch classifier of label sets (sigmoid outputs).

    A :class:`~skorch.classifier.NeuralNetClassifier` trained with a binary
    cross-entropy (:class:`~torch.nn.BCEWithLogitsLoss`,
    :class:`~torch.nn.BCELoss`) has one sigmoid output per label; its
    ``predict`` takes an argmax, so its label sets come from the
    probabilities. skorch's own binary classifier has one output and is not
    one.
    """
    net = _skorch_classifier(estimator)
    if net is None or isinstance(net, _require_skorch().NeuralNetBinaryClassifier):
        return False
    criterion = getattr(net, "criterion_", None)
    return isinstance(criterion, (torch.nn.BCEWithLogitsLoss, torch.nn.BCELoss))


_LABEL_SET_NET = (
    "a net of label sets needs one sigmoid output per label: "
    "criterion=torch.nn.BCEWithLogitsLoss, predict_nonlinearity=torch.sigmoid, and a "
    "module ending in nn.Linear(hidden, n_labels)"
)


def check_label_set_net(estimator):
    """Refuse a skorch classifier that cannot learn label sets, before any fit.

    Its criterion must be a binary cross-entropy, one sigmoid per label: a
    :class:`~torch.nn.CrossEntropyLoss` takes the 0/1 rows as class
    probabilities and trains a softmax over the labels, whose outputs the
    strategies would read as each label's probability. After
    :class:`~torch.nn.BCEWithLogitsLoss`, skorch's ``predict_nonlinearity="auto"``
    gives each label two columns. Other estimators pass.
    """
    net = _skorch_classifier(estimator)
    if net is None or isinstance(net, _require_skorch().NeuralNetBinaryClassifier):
        return
    criterion = net.criterion if isinstance(net.criterion, type) else type(net.criterion)
    if not issubclass(criterion, (torch.nn.BCEWithLogitsLoss, torch.nn.BCELoss)):
        raise ValueError(
            f"{type(net).__name__} is trained with {criterion.__name__}, which learns one "
            f"label per row, and y is multi-label: {_LABEL_SET_NET}."
        )
    nonlinearity = net.predict_nonlinearity
    if issubclass(criterion, torch.nn.BCEWithLogitsLoss) and (
        nonlinearity is None or isinstance(nonlinearity, str)
    ):
        gives = (
            "the logits, not probabilities"
            if nonlinearity is None
            else "each label two columns (skorch's binary form)"
        )
        raise ValueError(
            f"{type(net).__name__} has predict_nonlinearity={nonlinearity!r}, which after "
            f"BCEWithLogitsLoss gives {gives}: {_LABEL_SET_NET}."
        )


def explain_label_count_error(estimator, exc):
    """A clear ``ValueError`` for a net of label sets whose outputs are not one per
    label (torch's "Target size ... must be the same as input size"), or None."""
    if _skorch_classifier(estimator) is None or "must be the same as input size" not in str(exc):
        return None
    return ValueError(
        f"The net's module gives another number of outputs than y has labels (torch: "
        f"{exc}): {_LABEL_SET_NET}."
    )


def _as_class_indices(labels):
    """Whole-number float labels (NaN marked the missing ones) as int64; others unchanged."""
    labels = np.asarray(labels)
    if np.issubdtype(labels.dtype, np.floating) and np.all(np.mod(labels, 1) == 0):
        return labels.astype(np.int64)
    return labels


def skorch_targets(estimator, y, column=False):
    """The labels to fit ``estimator`` on: class indices for a skorch classifier.

    A skorch classifier's criterion takes the labels as class indices (int64
    only: torch refuses int32 targets), and the README's recipe marks unknown
    labels by NaN, which makes ``y`` float: whole-number labels of any integer
    or float dtype are handed to the net as int64. Other estimators get ``y``
    unchanged, but with ``column`` (:func:`net_takes_column_targets`) the 1-d
    targets of a skorch regressor become a column, the shape of its module's
    outputs. skorch's binary classifier takes its 0/1 labels as float32
    instead, the targets of its binary cross-entropy.
    """
    net = _skorch_classifier(estimator)
    if net is None:
        return np.reshape(y, (-1, 1)) if column and np.ndim(y) == 1 else y
    y = np.asarray(y)
    if isinstance(net, _require_skorch().NeuralNetBinaryClassifier):
        # BCEWithLogitsLoss refuses int64 targets, and float64 ones against float32 logits.
        return y.astype(np.float32) if y.dtype.kind in "biuf" else y
    y = _as_class_indices(y)
    # numpy makes int32 arrays on Windows, and pandas readers narrow ones: torch's losses
    # take int64 class indices only.
    return y.astype(np.int64) if y.dtype.kind in "iu" else y


def set_net_classes(estimator, classes):
    """Tell a skorch classifier built without ``classes`` the classes the learner knows.

    skorch infers ``classes_`` from the labels it is fit on, yet its module has
    an output for every class: while a class is unlabeled the two disagree.
    ``estimator`` (a fresh clone) is changed in place; nets that declare their
    classes and other estimators are left alone.
    """
    if net_infers_classes(estimator) and classes is not None:
        _skorch_classifier(estimator).set_params(classes=_as_class_indices(classes))
    return estimator


def column_classes(estimator, n_columns):
    """The class of each of the ``n_columns`` columns of ``estimator.predict_proba``.

    ``estimator.classes_``, except for a skorch classifier built without
    ``classes`` whose module has more outputs than the classes it was fit on:
    skorch reads its outputs as class indices (its ``predict`` is the argmax),
    so column ``j`` is class ``j``.
    """
    net = _skorch_classifier(estimator)
    if net_infers_classes(estimator) and n_columns != len(net.classes_):
        return np.arange(n_columns)
    return np.asarray(estimator.classes_)
