"""Real benchmark datasets: tabular, text and regression sets loaded by name.

Shipped with the package (CC BY 4.0, attribution in each loader and in
``skbait/datasets/data/README.md``): pendigits, wine quality (red and white)
and the SMS spam collection. TREC question classification is "freely
available for research" but not redistributable here: :func:`fetch_trec`
downloads it from its origin into a cache, once, and checks its SHA-256.
:func:`load_benchmark` returns any of them, with scikit-learn's digits and
breast cancer, as a pool and a test set.
"""

import csv
import gzip
import hashlib
import http.client
import io
import os
import shutil
import tempfile
import urllib.request
import zlib
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

__all__ = [
    "BENCHMARK_DATASETS",
    "fetch_trec",
    "get_data_home",
    "load_benchmark",
    "load_pendigits",
    "load_sms_spam",
    "load_wine_quality",
]

_DATA_PACKAGE = "skbait.datasets"
#: Rows of pendigits' UCI training file; the test file follows them.
PENDIGITS_TRAIN_ROWS = 7494
_CC_BY = "Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)."

# TREC: the files of the Cognitive Computation Group's question classification page.
# SHA-256 of each file's bytes (uncompressed), as the copy the tests use holds them.
_TREC_URL = "https://cogcomp.seas.upenn.edu/Data/QA/QC/"
_TREC_FILES = {
    "train": (
        "train_5500.label",
        "trec_train_5500.label.gz",
        "514cade7af76429013796abd78a7bfdc8f4b0500dfeb5cf8da3b74f44c424b0d",
    ),
    "test": (
        "TREC_10.label",
        "trec_test_500.label.gz",
        "edb2e413c306dc9b37defbfeb1706bc332461f2b0d2651ac5c43569c74c89ca9",
    ),
}


def _check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False, got {value!r}.")
    return bool(value)


def _check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"`{name}` must be one of {sorted(choices)}, got {value!r}.")
    return value


def _open_shipped(filename):
    """The decompressed text of a shipped ``.gz`` file."""
    source = resources.files(_DATA_PACKAGE).joinpath("data").joinpath(filename)
    with source.open("rb") as handle:
        return gzip.decompress(handle.read()).decode("utf-8")


def _read_table(filename, delimiter=","):
    """Header and float rows of a shipped numeric CSV."""
    reader = csv.reader(io.StringIO(_open_shipped(filename)), delimiter=delimiter)
    header = next(reader)
    rows = np.asarray([[float(v) for v in row] for row in reader if row], dtype=np.float64)
    return header, rows


def _as_result(data, target, feature_names, target_names, descr, return_X_y, as_frame, **extra):
    frame = None
    if as_frame:
        import pandas as pd

        frame = pd.DataFrame(data, columns=feature_names)
        frame["target"] = target
        data, target = frame[feature_names], frame["target"]
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        feature_names=list(feature_names),
        target_names=list(target_names),
        frame=frame,
        DESCR=descr,
        **extra,
    )


PENDIGITS_DESCR = f"""\
Pen-based recognition of handwritten digits (UCI)
-------------------------------------------------

10,992 digits written by 44 people on a tablet: each is resampled to 8 points
of the pen's trajectory, whose (x, y) coordinates, scaled to 0-100, are the 16
integer features. 10 balanced classes (the digit). The UCI split: the first
7,494 rows (30 writers) for training, the last 3,498 (14 other writers) for
testing.

Source: E. Alpaydin and F. Alimoglu, "Pen-Based Recognition of Handwritten
Digits", UCI Machine Learning Repository (1998),
https://archive.ics.uci.edu/dataset/81. {_CC_BY}
Changes: the two UCI files in one table, a header row, gzip compression.
"""


def load_pendigits(*, subset="all", return_X_y=False, as_frame=False):
    """Load pendigits: 16 pen-trajectory features, 10 digit classes (shipped).

    E. Alpaydin and F. Alimoglu, "Pen-Based Recognition of Handwritten Digits",
    UCI Machine Learning Repository (1998), CC BY 4.0. The file ships with
    skbait (the UCI training and test files in one table, with a header);
    nothing is downloaded.

    Parameters
    ----------
    subset : {"all", "train", "test"}, default="all"
        The UCI split: ``"train"`` is the first 7,494 rows (30 writers),
        ``"test"`` the last 3,498 (14 other writers).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        ``data`` as a pandas DataFrame, ``target`` as a Series, ``frame`` both.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (n, 16) float64 in 0-100, ``target`` (n,) int64 digits,
        ``feature_names``, ``target_names`` (``"0"`` to ``"9"``), ``frame``,
        ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skbait.datasets import load_pendigits
    >>> X, y = load_pendigits(subset="train", return_X_y=True)
    >>> X.shape, sorted(set(y.tolist())) == list(range(10))
    ((7494, 16), True)
    """
    subset = _check_choice("subset", subset, {"all", "train", "test"})
    return_X_y = _check_flag("return_X_y", return_X_y)
    as_frame = _check_flag("as_frame", as_frame)
    header, rows = _read_table("pendigits.csv.gz")
    rows = {
        "all": rows,
        "train": rows[:PENDIGITS_TRAIN_ROWS],
        "test": rows[PENDIGITS_TRAIN_ROWS:],
    }[subset]
    data, target = rows[:, :-1], rows[:, -1].astype(np.int64)
    names = [str(d) for d in range(10)]
    return _as_result(data, target, header[:-1], names, PENDIGITS_DESCR, return_X_y, as_frame)


WINE_DESCR = f"""\
Wine quality (UCI)
------------------

Portuguese "Vinho Verde" wines: 11 physico-chemical measurements (acidity,
sugar, sulphur dioxide, alcohol, ...) and a sensory quality score (0-10, the
median of at least three experts). Red: 1,599 wines, quality 3-8; white: 4,898
wines, quality 3-9. The scores are heavily imbalanced (most wines score 5 or 6).

Source: P. Cortez, A. Cerdeira, F. Almeida, T. Matos and J. Reis, "Modeling
wine preferences by data mining from physicochemical properties", Decision
Support Systems 47(4), 2009; UCI Machine Learning Repository,
https://archive.ics.uci.edu/dataset/186. {_CC_BY}
Changes: comma-separated instead of semicolons, gzip compression.
"""


def load_wine_quality(*, color="red", task="classification", return_X_y=False, as_frame=False):
    """Load wine quality: 11 physico-chemical features and a 3-9 quality score (shipped).

    P. Cortez et al., "Modeling wine preferences by data mining from
    physicochemical properties" (2009), UCI Machine Learning Repository,
    CC BY 4.0. Ships with skbait; nothing is downloaded.

    Parameters
    ----------
    color : {"red", "white"}, default="red"
        1,599 red or 4,898 white wines.
    task : {"classification", "regression"}, default="classification"
        The quality as integer classes (6 red, 7 white; imbalanced) or as a
        float target.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        ``data`` as a pandas DataFrame, ``target`` as a Series, ``frame`` both.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (n, 11) float64 in raw units, ``target`` (n,) int64 or
        float64, ``feature_names``, ``target_names`` (the scores present, or
        ``["quality"]``), ``frame``, ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skbait.datasets import load_wine_quality
    >>> X, y = load_wine_quality(color="white", return_X_y=True)
    >>> X.shape, sorted(set(y.tolist()))
    ((4898, 11), [3, 4, 5, 6, 7, 8, 9])
    """
    color = _check_choice("color", color, {"red", "white"})
    task = _check_choice("task", task, {"classification", "regression"})
    return_X_y = _check_flag("return_X_y", return_X_y)
    as_frame = _check_flag("as_frame", as_frame)
    header, rows = _read_table(f"winequality-{color}.csv.gz")
    data, target = rows[:, :-1], rows[:, -1]
    if task == "classification":
        target = target.astype(np.int64)
        names = [str(q) for q in np.unique(target)]
    else:
        names = ["quality"]
    return _as_result(data, target, header[:-1], names, WINE_DESCR, return_X_y, as_frame)


SMS_DESCR = f"""\
SMS spam collection (UCI)
-------------------------

5,574 English SMS messages labeled ham (4,827) or spam (747, 13%), collected
from a UK forum, a Singapore university corpus, a PhD thesis and a spam
report site.

Source: T. A. Almeida, J. M. G. Hidalgo and A. Yamakami, "Contributions to the
study of SMS spam filtering: new collection and results", DocEng 2011; UCI
Machine Learning Repository, https://archive.ics.uci.edu/dataset/228. {_CC_BY}
Changes: a ``Label``/``SMS`` header row, gzip compression.
"""


def load_sms_spam(*, return_X_y=False):
    """Load the SMS spam collection: 5,574 text messages, ham or spam (shipped).

    T. A. Almeida, J. M. G. Hidalgo and A. Yamakami (2011), UCI Machine
    Learning Repository, CC BY 4.0. Ships with skbait; nothing is
    downloaded. Pair it with a text vectoriser, such as
    ``make_pipeline(TfidfVectorizer(), LogisticRegression())``.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (5574,) object array of str, ``target`` (5574,) int64 (1 is
        spam), ``target_names`` ``["ham", "spam"]``, ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skbait.datasets import load_sms_spam
    >>> texts, y = load_sms_spam(return_X_y=True)
    >>> len(texts), int(y.sum())
    (5574, 747)
    """
    return_X_y = _check_flag("return_X_y", return_X_y)
    # The messages hold quotes of their own: no quoting, tabs only separate.
    reader = csv.reader(
        io.StringIO(_open_shipped("sms_spam.tsv.gz")), delimiter="\t", quoting=csv.QUOTE_NONE
    )
    next(reader)
    rows = [row for row in reader if row]
    names = ["ham", "spam"]
    data = np.asarray([text for _, text in rows], dtype=object)
    target = np.asarray([names.index(label) for label, _ in rows], dtype=np.int64)
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, target_names=names, DESCR=SMS_DESCR)


def get_data_home(data_home=None):
    """The folder where fetched datasets are cached (created if missing).

    ``data_home`` when given, else the ``SKBAIT_DATA`` environment variable
    (when set and not empty), else ``~/skbait_data``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder; ``~`` is expanded, a relative path is relative to the
        working directory.

    Returns
    -------
    str
        The folder's path.

    Raises
    ------
    NotADirectoryError
        When the data home is a file.

    Examples
    --------
    >>> import tempfile
    >>> from skbait.datasets import get_data_home
    >>> folder = tempfile.mkdtemp()
    >>> get_data_home(folder) == folder
    True
    """
    if data_home is None:
        data_home = os.environ.get("SKBAIT_DATA") or os.path.join("~", "skbait_data")
    data_home = os.path.expanduser(os.fspath(data_home))
    if os.path.exists(data_home) and not os.path.isdir(data_home):
        raise NotADirectoryError(
            f"The data home {data_home} is a file, not a folder: pass data_home= (or set "
            "SKBAIT_DATA to) a folder for the cached datasets."
        )
    os.makedirs(data_home, exist_ok=True)
    return data_home


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _trec_bytes(subset, data_home, download_if_missing):
    """The published bytes of one TREC file, from the cache or from its origin."""
    remote, cached, checksum = _TREC_FILES[subset]
    path = Path(get_data_home(data_home)) / cached
    url = _TREC_URL + remote
    if path.exists():
        compressed = path.read_bytes()
        try:
            data = gzip.decompress(compressed)
        except (OSError, EOFError, zlib.error):  # not gzip, or cut short
            data = None
        if data is None or _sha256(data) != checksum:
            raise OSError(
                f"The cached TREC file {path} is damaged or not the expected one (gzip, "
                f"with SHA-256 {checksum} once decompressed): delete it to download it again."
            )
        return data
    if not download_if_missing:
        raise OSError(
            f"TREC's {subset} file is not in the cache {path.parent} and "
            "download_if_missing=False: call fetch_trec() once with a network, or "
            f"download {url}, gzip it as {cached} into that folder, or pass data_home= "
            "(or set SKBAIT_DATA to) a folder that holds it."
        )
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    # URLError, a timeout, a refused connection; IncompleteRead, a connection cut mid-file.
    except (OSError, http.client.HTTPException) as error:
        raise OSError(
            f"could not download TREC's {subset} file from {url} ({error}). Without a "
            f"network, put a copy gzipped as {cached} into the cache {path.parent}, or "
            "pass data_home= (or set SKBAIT_DATA to) a folder that holds it."
        ) from error
    if _sha256(data) != checksum:
        raise OSError(
            f"{url} did not give the expected file (SHA-256 {_sha256(data)}, expected "
            f"{checksum}); nothing was cached. The origin may have changed: get a verified "
            f"copy, gzip it as {cached} into data_home."
        )
    # Written beside, then moved: a crash leaves no half-written cache file.
    partial = None
    try:
        handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".part")
        # mtime=0: the cached file does not depend on the moment of the download.
        with (
            os.fdopen(handle, "wb") as out,
            gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as zipped,
        ):
            zipped.write(data)
        shutil.move(partial, path)
    except BaseException as error:
        if partial is not None and os.path.exists(partial):
            os.remove(partial)
        if isinstance(error, OSError):  # a read-only folder, a full disk
            raise OSError(
                f"could not write TREC's {subset} file into the cache {path.parent} "
                f"({error}): pass data_home= (or set SKBAIT_DATA to) a folder you can "
                "write, or make room there."
            ) from error
        raise
    return data


def _decode_trec_line(raw):
    # The files are mostly ASCII, with a few UTF-8 characters; latin-1, which reads
    # every byte, for a line that is not UTF-8 (a stray byte).
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


TREC_DESCR = """\
TREC question classification (Li and Roth)
------------------------------------------

Questions labeled by the type of their answer: 6 coarse classes (ABBR, DESC,
ENTY, HUM, LOC, NUM) and 50 fine ones (such as ``HUM:ind`` or ``NUM:date``).
The training set (5,4xx questions, from USC, TREC 8 and 9 and other sources)
and the TREC 10 test set (500 questions).

Source: X. Li and D. Roth, "Learning Question Classifiers", COLING 2002; the
Cognitive Computation Group's question classification page,
https://cogcomp.seas.upenn.edu/Data/QA/QC/ ("freely available for
research"). Not shipped with skbait: fetched into a cache.
"""


def fetch_trec(
    *, subset="train", labels="coarse", data_home=None, download_if_missing=True, return_X_y=False
):
    """Load TREC question classification (6 or 50 classes), downloaded once into a cache.

    X. Li and D. Roth, "Learning Question Classifiers", COLING 2002. The
    files come from the Cognitive Computation Group's page
    (https://cogcomp.seas.upenn.edu/Data/QA/QC/), are checked against their
    SHA-256 and cached, gzipped, in :func:`get_data_home`.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        The training questions, the 500 TREC 10 test questions, or both (the
        training set first).
    labels : {"coarse", "fine"}, default="coarse"
        6 coarse classes (TREC-6) or 50 fine ones (TREC-50, named
        ``COARSE:fine``).
    data_home : str or path-like, default=None
        The cache folder (see :func:`get_data_home`). A folder that already
        holds ``trec_train_5500.label.gz`` and ``trec_test_500.label.gz`` is
        read without a network.
    download_if_missing : bool, default=True
        ``False`` raises an ``OSError`` instead of downloading.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` object array of str (the questions), ``target`` object array
        of str (the labels), ``target_names`` (the sorted labels present),
        ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    The first call downloads the two files into the cache (skipped here, which
    runs offline); later calls read the cache:

    >>> from skbait.datasets import fetch_trec
    >>> questions, labels = fetch_trec(labels="coarse", return_X_y=True)  # doctest: +SKIP
    >>> sorted(set(labels))  # doctest: +SKIP
    ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM']
    """
    subset = _check_choice("subset", subset, {"train", "test", "all"})
    labels = _check_choice("labels", labels, {"coarse", "fine"})
    download_if_missing = _check_flag("download_if_missing", download_if_missing)
    return_X_y = _check_flag("return_X_y", return_X_y)
    parts = ["train", "test"] if subset == "all" else [subset]
    texts, targets = [], []
    for part in parts:
        for raw in _trec_bytes(part, data_home, download_if_missing).splitlines():
            line = _decode_trec_line(raw)
            if not line.strip():
                continue
            label, question = line.split(" ", 1)
            texts.append(question.strip())
            targets.append(label.split(":")[0] if labels == "coarse" else label)
    data = np.asarray(texts, dtype=object)
    target = np.asarray(targets, dtype=object)
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, target_names=sorted(set(targets)), DESCR=TREC_DESCR)


def _split(data, target, stratify=True):
    # A fixed 70 / 30 split (stratified for classes) where the source has none.
    X_pool, X_test, y_pool, y_test = train_test_split(
        data, target, test_size=0.3, random_state=0, stratify=target if stratify else None
    )
    return X_pool, y_pool, X_test, y_test


def _pendigits(**_):
    return (
        *load_pendigits(subset="train", return_X_y=True),
        *load_pendigits(subset="test", return_X_y=True),
    )


def _trec(labels, data_home, download_if_missing):
    kwargs = dict(
        labels=labels,
        data_home=data_home,
        download_if_missing=download_if_missing,
        return_X_y=True,
    )
    return (*fetch_trec(subset="train", **kwargs), *fetch_trec(subset="test", **kwargs))


#: The benchmark datasets by name: ``(task, kind)``, task ``"classification"`` or
#: ``"regression"``, kind ``"tabular"`` or ``"text"``.
BENCHMARK_DATASETS = {
    "pendigits": ("classification", "tabular"),
    "digits": ("classification", "tabular"),
    "breast_cancer": ("classification", "tabular"),
    "wine_red": ("classification", "tabular"),
    "wine_white": ("classification", "tabular"),
    "wine_red_regression": ("regression", "tabular"),
    "wine_white_regression": ("regression", "tabular"),
    "sms_spam": ("classification", "text"),
    "trec6": ("classification", "text"),
    "trec50": ("classification", "text"),
}

_LOADERS = {
    "pendigits": _pendigits,
    "digits": lambda **_: _split(*load_digits(return_X_y=True)),
    "breast_cancer": lambda **_: _split(*load_breast_cancer(return_X_y=True)),
    "wine_red": lambda **_: _split(*load_wine_quality(color="red", return_X_y=True)),
    "wine_white": lambda **_: _split(*load_wine_quality(color="white", return_X_y=True)),
    "wine_red_regression": lambda **_: _split(
        *load_wine_quality(color="red", task="regression", return_X_y=True), stratify=False
    ),
    "wine_white_regression": lambda **_: _split(
        *load_wine_quality(color="white", task="regression", return_X_y=True), stratify=False
    ),
    "sms_spam": lambda **_: _split(*load_sms_spam(return_X_y=True)),
    "trec6": lambda **kw: _trec("coarse", **kw),
    "trec50": lambda **kw: _trec("fine", **kw),
}


def load_benchmark(name, *, data_home=None, download_if_missing=True):
    """A benchmark dataset by name, as a pool and a test set.

    Pendigits and TREC keep their published splits; the others are split
    70 / 30 with a fixed seed (stratified for classes), so that every run
    sees the same test set.

    - ``pendigits``: 10 classes, 16 features (:func:`load_pendigits`, UCI split);
    - ``digits``: 10 classes, 64 pixels (scikit-learn's ``load_digits``);
    - ``breast_cancer``: 2 classes, 30 features (scikit-learn's
      ``load_breast_cancer``);
    - ``wine_red``, ``wine_white``: 6 and 7 quality classes, 11 features
      (:func:`load_wine_quality`);
    - ``wine_red_regression``, ``wine_white_regression``: the quality as a
      number;
    - ``sms_spam``: 2 classes, text (:func:`load_sms_spam`);
    - ``trec6``, ``trec50``: 6 or 50 question classes, text
      (:func:`fetch_trec`, downloaded once).

    Parameters
    ----------
    name : str
        One of ``BENCHMARK_DATASETS`` (the keys above).
    data_home : str or path-like, default=None
        For the fetched sets (TREC), as in :func:`fetch_trec`.
    download_if_missing : bool, default=True
        For the fetched sets (TREC), as in :func:`fetch_trec`.

    Returns
    -------
    :class:`~sklearn.utils.Bunch`
        ``X_pool``, ``y_pool``, ``X_test``, ``y_test``, ``task``
        (``"classification"`` or ``"regression"``), ``kind`` (``"tabular"``
        or ``"text"``) and ``name``.

    Raises
    ------
    ValueError
        When ``name`` is not one of ``BENCHMARK_DATASETS``.

    Examples
    --------
    >>> from skbait.datasets import load_benchmark
    >>> data = load_benchmark("wine_red")
    >>> data.X_pool.shape, data.X_test.shape, data.task
    ((1119, 11), (480, 11), 'classification')
    """
    if not isinstance(name, str) or name not in BENCHMARK_DATASETS:
        raise ValueError(
            f"Unknown benchmark dataset {name!r}; choose one of {sorted(BENCHMARK_DATASETS)}."
        )
    download_if_missing = _check_flag("download_if_missing", download_if_missing)
    X_pool, y_pool, X_test, y_test = _LOADERS[name](
        data_home=data_home, download_if_missing=download_if_missing
    )
    task, kind = BENCHMARK_DATASETS[name]
    return Bunch(
        X_pool=X_pool,
        y_pool=y_pool,
        X_test=X_test,
        y_test=y_test,
        task=task,
        kind=kind,
        name=name,
    )
