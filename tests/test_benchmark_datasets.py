"""The real benchmark loaders: shapes, classes, checksums, the TREC cache.

The shipped files are checked against the benchmark folder's ``SHA256SUMS``: the one
``SKBAIT_BENCHMARK_DATA`` names, else the project's shared data folder beside the
checkout (``../shared/data/benchmarks``), skipped without either; TREC is read from
it offline, and its download is exercised from a ``file://`` origin. Nothing here
touches the network.
"""

import gzip
import hashlib
import http.client
import io
import os
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skbait.datasets import (
    BENCHMARK_DATASETS,
    _benchmarks,
    fetch_trec,
    get_data_home,
    load_benchmark,
    load_pendigits,
    load_sms_spam,
    load_wine_quality,
)

SHIPPED = [
    "pendigits.csv.gz",
    "sms_spam.tsv.gz",
    "winequality-red.csv.gz",
    "winequality-white.csv.gz",
]
TREC = ["trec_train_5500.label.gz", "trec_test_500.label.gz"]


@pytest.fixture
def benchmark_data():
    """The folder holding the published benchmark copies, or a skip."""
    beside_checkout = Path(__file__).resolve().parents[2] / "shared" / "data" / "benchmarks"
    folder = os.environ.get("SKBAIT_BENCHMARK_DATA") or beside_checkout
    if not Path(folder, "SHA256SUMS").is_file():
        pytest.skip("set SKBAIT_BENCHMARK_DATA to the benchmark data folder")
    return Path(folder)


def _sums(folder):
    lines = Path(folder, "SHA256SUMS").read_text().split("\n")
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


@pytest.fixture
def trec_home(benchmark_data, tmp_path):
    for name in TREC:
        shutil.copy(benchmark_data / name, tmp_path / name)
    return tmp_path


def _shipped(name):
    return (resources.files("skbait.datasets") / "data" / name).read_bytes()


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_files_match_the_published_checksums(benchmark_data, name):
    assert hashlib.sha256(_shipped(name)).hexdigest() == _sums(benchmark_data)[name]


def test_shipped_files_have_their_licence_note():
    note = (resources.files("skbait.datasets") / "data" / "README.md").read_text()
    for name in SHIPPED:
        assert name in note
    assert "CC BY 4.0" in note


def test_pendigits_split_classes_and_range():
    X, y = load_pendigits(return_X_y=True)
    assert X.shape == (10992, 16) and y.shape == (10992,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 100 and np.all(np.round(X) == X)
    assert_array_equal(np.unique(y), np.arange(10))
    X_train, y_train = load_pendigits(subset="train", return_X_y=True)
    X_test, y_test = load_pendigits(subset="test", return_X_y=True)
    assert X_train.shape == (7494, 16) and X_test.shape == (3498, 16)
    assert_array_equal(np.vstack([X_train, X_test]), X)
    assert_array_equal(np.concatenate([y_train, y_test]), y)
    # The first row of the UCI training file, read from the raw text.
    first = gzip.decompress(_shipped("pendigits.csv.gz")).decode().split("\n")[1]
    assert_array_equal(X[0], [float(v) for v in first.split(",")[:-1]])
    assert y[0] == int(first.split(",")[-1])


def test_pendigits_bunch_and_frame():
    bunch = load_pendigits(as_frame=True)
    assert bunch.frame.shape == (10992, 17)
    assert list(bunch.data.columns) == bunch.feature_names == [f"x{i}" for i in range(1, 17)]
    assert bunch.target_names == [str(d) for d in range(10)]
    assert "CC BY 4.0" in bunch.DESCR and "Alpaydin" in bunch.DESCR


@pytest.mark.parametrize(
    "color, n, classes",
    [("red", 1599, [3, 4, 5, 6, 7, 8]), ("white", 4898, [3, 4, 5, 6, 7, 8, 9])],
)
def test_wine_quality_classification_and_regression(color, n, classes):
    X, y = load_wine_quality(color=color, return_X_y=True)
    assert X.shape == (n, 11) and y.dtype == np.int64
    assert_array_equal(np.unique(y), classes)
    X_reg, y_reg = load_wine_quality(color=color, task="regression", return_X_y=True)
    assert y_reg.dtype == np.float64
    assert_array_equal(X_reg, X)
    assert_array_equal(y_reg, y)
    bunch = load_wine_quality(color=color)
    assert bunch.target_names == [str(c) for c in classes]
    assert bunch.feature_names[0] == "fixed acidity" and bunch.feature_names[-1] == "alcohol"


def test_sms_spam_rows_and_labels():
    texts, y = load_sms_spam(return_X_y=True)
    raw = gzip.decompress(_shipped("sms_spam.tsv.gz")).decode("utf-8").rstrip("\n").split("\n")
    # One message per line after the header: quotes inside messages do not merge rows.
    assert len(texts) == len(raw) - 1 == 5574
    assert int(y.sum()) == 747 and set(np.unique(y)) == {0, 1}
    assert all(isinstance(t, str) and t for t in texts)
    label, text = raw[1].split("\t")
    assert texts[0] == text and y[0] == ["ham", "spam"].index(label)
    assert any('"' in t for t in texts)


def test_trec_from_a_cache_folder(trec_home):
    X, y = fetch_trec(data_home=trec_home, download_if_missing=False, return_X_y=True)
    assert X.shape == y.shape == (5444,)
    assert sorted(set(y)) == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    fine = fetch_trec(labels="fine", subset="all", data_home=trec_home, download_if_missing=False)
    assert fine.data.shape == (5444 + 499,)
    assert all(":" in label for label in fine.target)
    assert_array_equal([label.split(":")[0] for label in fine.target[:5444]], y)
    assert len(fine.target_names) > 40
    test = fetch_trec(subset="test", data_home=trec_home, download_if_missing=False)
    assert_array_equal(test.data, fine.data[5444:])


def _published(trec_home, tmp_path):
    """A file:// origin serving the published (uncompressed) TREC files."""
    origin = tmp_path / "origin"
    origin.mkdir()
    for remote, cached, _ in _benchmarks._TREC_FILES.values():
        (origin / remote).write_bytes(gzip.decompress((trec_home / cached).read_bytes()))
    return origin


def test_trec_download_checks_and_caches(trec_home, tmp_path, monkeypatch):
    origin = _published(trec_home, tmp_path)
    monkeypatch.setattr(_benchmarks, "_TREC_URL", origin.as_uri() + "/")
    cache = tmp_path / "cache"
    expected = fetch_trec(data_home=trec_home, download_if_missing=False, return_X_y=True)
    got = fetch_trec(data_home=cache, return_X_y=True)
    assert_array_equal(got[0], expected[0])
    assert_array_equal(got[1], expected[1])
    assert sorted(p.name for p in cache.iterdir()) == ["trec_train_5500.label.gz"]
    # Cached: read again with the origin gone.
    shutil.rmtree(origin)
    again = fetch_trec(data_home=cache, download_if_missing=False, return_X_y=True)
    assert_array_equal(again[0], expected[0])
    # The same bytes every time (gzip without a timestamp).
    first = (cache / "trec_train_5500.label.gz").read_bytes()
    origin = _published(trec_home, tmp_path)
    os.remove(cache / "trec_train_5500.label.gz")
    fetch_trec(data_home=cache)
    assert (cache / "trec_train_5500.label.gz").read_bytes() == first


@pytest.mark.parametrize("where", ["mkstemp", "write"], ids=["read-only", "disk-full"])
def test_trec_cache_that_cannot_be_written_leaves_nothing(trec_home, tmp_path, monkeypatch, where):
    """A cache folder that takes no file (read-only, full) is named, and no .part is left."""
    origin = _published(trec_home, tmp_path)
    monkeypatch.setattr(_benchmarks, "_TREC_URL", origin.as_uri() + "/")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if where == "mkstemp":
        monkeypatch.setattr(_benchmarks.tempfile, "mkstemp", fail)
    else:
        monkeypatch.setattr(gzip.GzipFile, "write", fail)
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="could not write") as error:
        fetch_trec(data_home=cache)
    assert str(cache) in str(error.value) and "SKBAIT_DATA" in str(error.value)
    assert list(cache.iterdir()) == []


def test_trec_download_with_a_wrong_checksum_caches_nothing(trec_home, tmp_path, monkeypatch):
    origin = _published(trec_home, tmp_path)
    with open(origin / "train_5500.label", "ab") as handle:
        handle.write(b"NUM:count How many ?\n")
    monkeypatch.setattr(_benchmarks, "_TREC_URL", origin.as_uri() + "/")
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="expected file"):
        fetch_trec(data_home=cache)
    assert list(cache.iterdir()) == []


def test_trec_download_failure_names_the_cache_to_fill(tmp_path, monkeypatch):
    """Offline, the error says where to put the files, not only what urllib says."""
    missing = tmp_path / "no-origin"  # a file:// origin that does not exist: urlopen fails
    monkeypatch.setattr(_benchmarks, "_TREC_URL", missing.as_uri() + "/")
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="could not download") as error:
        fetch_trec(data_home=cache)
    message = str(error.value)
    assert "trec_train_5500.label.gz" in message
    assert str(cache) in message
    assert "SKBAIT_DATA" in message
    assert list(cache.iterdir()) == []


def test_trec_download_cut_short_names_the_cache_to_fill(tmp_path, monkeypatch):
    """A connection dropped mid-file (http.client's IncompleteRead) is a failed download."""

    class CutShort(io.BytesIO):
        def read(self, *args):
            raise http.client.IncompleteRead(b"NUM:count How", 4000)

    monkeypatch.setattr(_benchmarks.urllib.request, "urlopen", lambda *a, **k: CutShort())
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="could not download") as error:
        fetch_trec(data_home=cache)
    assert "trec_train_5500.label.gz" in str(error.value)
    assert list(cache.iterdir()) == []


def test_trec_corrupt_cache_and_missing_files(trec_home, tmp_path):
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_trec(data_home=tmp_path / "empty", download_if_missing=False)
    bad = tmp_path / "bad"
    bad.mkdir()
    with gzip.open(bad / "trec_train_5500.label.gz", "wb") as handle:
        handle.write(b"NUM:count How many ?\n")
    with pytest.raises(OSError, match="SHA-256"):
        fetch_trec(data_home=bad)


def test_trec_missing_offline_says_where_to_get_the_file_and_how_to_place_it(tmp_path):
    """With download_if_missing=False, the error names the origin to fetch by hand."""
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="download_if_missing=False") as error:
        fetch_trec(subset="test", data_home=cache, download_if_missing=False)
    message = str(error.value)
    assert "https://cogcomp.seas.upenn.edu/Data/QA/QC/TREC_10.label" in message
    assert "gzip" in message and "trec_test_500.label.gz" in message
    assert str(cache) in message and "SKBAIT_DATA" in message


@pytest.mark.parametrize(
    "content",
    [
        b"not a gzip file",
        gzip.compress(b"NUM:count How many ?\n" * 200)[:40],
        b"NUM:count How many ?\n",
    ],
    ids=["not-gzip", "cut-short", "not-compressed"],
)
def test_trec_damaged_cache_file_is_refused(tmp_path, content):
    (tmp_path / "trec_train_5500.label.gz").write_bytes(content)
    with pytest.raises(OSError, match="delete it to download it again"):
        fetch_trec(data_home=tmp_path, download_if_missing=False)


def test_trec_reads_utf8_characters_and_stray_bytes(tmp_path, monkeypatch):
    content = "NUM:count Why are there १२ people on a jury ?\n".encode() + b"LOC:city A\xf0B ?\n"
    remote, cached, _ = _benchmarks._TREC_FILES["train"]
    monkeypatch.setitem(
        _benchmarks._TREC_FILES, "train", (remote, cached, hashlib.sha256(content).hexdigest())
    )
    (tmp_path / cached).write_bytes(gzip.compress(content))
    X, y = fetch_trec(data_home=tmp_path, download_if_missing=False, return_X_y=True)
    assert X.tolist() == ["Why are there १२ people on a jury ?", "A\xf0B ?"]
    assert y.tolist() == ["NUM", "LOC"]


def test_data_home_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SKBAIT_DATA", str(tmp_path / "here"))
    assert get_data_home() == str(tmp_path / "here")
    assert (tmp_path / "here").is_dir()


def test_data_home_empty_environment_variable_is_unset(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SKBAIT_DATA", "")
    assert get_data_home() == str(tmp_path / "skbait_data")


def test_data_home_that_is_a_file_says_so(tmp_path):
    (tmp_path / "cache").write_text("")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        get_data_home(tmp_path / "cache")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        fetch_trec(data_home=tmp_path / "cache", download_if_missing=False)


@pytest.mark.parametrize("name", sorted(BENCHMARK_DATASETS))
def test_load_benchmark_by_name(name, request):
    data_home = None
    if name.startswith("trec"):
        data_home = request.getfixturevalue("trec_home")
    data = load_benchmark(name, data_home=data_home, download_if_missing=False)
    task, kind = BENCHMARK_DATASETS[name]
    assert (data.task, data.kind, data.name) == (task, kind, name)
    assert len(data.X_pool) == len(data.y_pool) > len(data.X_test) == len(data.y_test) > 0
    if kind == "text":
        assert isinstance(data.X_pool[0], str)
    else:
        assert data.X_pool.shape[1] == data.X_test.shape[1]
    if task == "classification":
        assert len(np.unique(data.y_pool)) >= 2
        # Every test class is one the pool has too (stratified or published splits).
        assert set(np.unique(data.y_test)) <= set(np.unique(data.y_pool))
    else:
        assert data.y_pool.dtype == np.float64


def test_load_benchmark_is_fixed_across_calls():
    a, b = load_benchmark("wine_red"), load_benchmark("wine_red")
    assert_array_equal(a.X_pool, b.X_pool)
    assert_array_equal(a.y_test, b.y_test)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: load_benchmark("mnist"), "Unknown benchmark dataset 'mnist'"),
        (lambda: load_pendigits(subset="val"), "subset"),
        (lambda: load_wine_quality(color="rose"), "color"),
        (lambda: load_wine_quality(task="ranking"), "task"),
        (lambda: fetch_trec(labels="medium"), "labels"),
    ],
)
def test_bad_arguments_say_what_to_pass(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_flags_must_be_booleans():
    with pytest.raises(TypeError, match="return_X_y"):
        load_sms_spam(return_X_y="yes")
    with pytest.raises(TypeError, match="as_frame"):
        load_pendigits(as_frame=1)
    # Checked for every name, not only for the fetched sets that use it.
    with pytest.raises(TypeError, match="download_if_missing"):
        load_benchmark("digits", download_if_missing="no")
