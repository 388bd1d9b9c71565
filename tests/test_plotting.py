"""skbait.plotting: figures are drawn, written and not empty; matplotlib stays optional."""

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skbait.evaluation import penalty_matrix  # noqa: E402
from skbait.plotting import (  # noqa: E402
    plot_learning_curves,
    plot_penalty_matrix,
    plot_selection_time,
)


@pytest.fixture
def results():
    rng = np.random.default_rng(0)
    rows = []
    for k, name in enumerate(["bait", "badge", "random"]):
        for seed in range(3):
            for rnd, n in enumerate(range(10, 110, 10)):
                score = 1 - np.exp(-n / (30 - 5 * k)) + 0.01 * rng.standard_normal()
                sel = np.nan if n == 100 else 0.01 * (3 - k) + 0.001 * rng.random()
                rows.append((name, seed, rnd, n, score, sel))
    return pd.DataFrame(
        rows, columns=["strategy", "seed", "round", "n_labeled", "score", "selection_seconds"]
    )


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _save(ax, path):
    ax.figure.savefig(path)
    assert path.exists() and path.stat().st_size > 1000
    return path


def test_learning_curves_count_the_seeds_of_the_strategies_drawn():
    """The title counted seeds over every strategy of the table, not the ones drawn."""
    table = pd.DataFrame(
        {"strategy": ["a", "a", "b"], "seed": [0, 1, 0], "n_labeled": 10, "score": 0.5}
    )
    table = pd.concat([table, table.assign(n_labeled=20)])
    assert "over 2 seeds" in plot_learning_curves(table).get_title()
    assert "seeds" not in plot_learning_curves(table, strategies=["b"]).get_title()


def test_learning_curves(results, tmp_path):
    ax = plot_learning_curves(results)
    assert [line.get_label() for line in ax.get_lines()] == ["bait", "badge", "random"]
    assert len(ax.collections) == 3  # one standard-error band per strategy
    assert ax.get_xlabel() == "labels used"
    assert "3 seeds" in ax.get_title()
    _save(ax, tmp_path / "curves.png")
    # On given axes, a subset, without bands.
    _fig, ax2 = plt.subplots()
    out = plot_learning_curves(results, ax=ax2, strategies=["random"], sem=False)
    assert out is ax2 and len(ax2.get_lines()) == 1 and len(ax2.collections) == 0
    with pytest.raises(ValueError, match="No results"):
        plot_learning_curves(results, strategies=["coreset"])


def test_penalty_matrix_heatmap(results, tmp_path):
    P = penalty_matrix(results)
    ax = plot_penalty_matrix(P)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["bait", "badge", "random", "column mean"]
    # One number per cell off the diagonal plus one column mean per column.
    assert len(ax.texts) == 6 + 3
    means = [t.get_text() for t in ax.texts[-3:]]
    assert means == [f"{v:.2f}" for v in P.mean(axis=0)]
    _save(ax, tmp_path / "penalty.png")
    # A plain array works too; a non-square one does not.
    plot_penalty_matrix(np.zeros((2, 2)), colorbar=False)
    with pytest.raises(ValueError, match="square"):
        plot_penalty_matrix(np.zeros((2, 3)))


def test_penalty_heatmap_refuses_the_results_table_and_a_bad_decimals(results):
    # The results table itself failed inside pandas: "could not convert string to float:
    # 'bait'"; decimals=-1 inside the format: "Format specifier missing precision".
    with pytest.raises(ValueError, match=r"not the results table.*penalty_matrix\(results\)"):
        plot_penalty_matrix(results)
    P = penalty_matrix(results)
    for decimals in (-1, 1.5, True):
        with pytest.raises(ValueError, match="decimals must be a non-negative integer"):
            plot_penalty_matrix(P, decimals=decimals)
    assert plot_penalty_matrix(P, decimals=np.int64(1)).texts[0].get_text().count(".") == 1


def test_one_strategy_name_is_one_strategy_not_its_letters(results):
    # strategies="random" was read letter by letter: "No results for the strategies
    # ['r', 'a', 'n', 'd', 'o', 'm']".
    ax = plot_learning_curves(results, strategies="random")
    assert [line.get_label() for line in ax.get_lines()] == ["random"]
    ax = plot_selection_time(results, strategies="bait")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["bait"]
    # A misspelled name is listed with those the table has.
    with pytest.raises(ValueError, match=r"\['randm'\].*has \['bait', 'badge', 'random'\]"):
        plot_learning_curves(results, strategies=["randm"])
    with pytest.raises(ValueError, match=r"\['baitt'\].*has \['bait', 'badge', 'random'\]"):
        plot_selection_time(results, strategies="baitt")


def _pixel(ax, x, y):
    """RGBA (0..1) of the rendered figure near cell (x, y) of ``ax``, off its text."""
    fig = ax.figure
    fig.canvas.draw()
    buffer = np.asarray(fig.canvas.buffer_rgba())
    px, py = ax.transData.transform((x + 0.35, y + 0.35))
    return buffer[buffer.shape[0] - 1 - round(float(py)), round(float(px))] / 255.0


def test_penalty_heatmap_scale_is_fixed_to_0_1_whatever_the_data():
    names = ["bait", "badge", "random"]
    small = pd.DataFrame(
        [[0.0, 0.25, 0.4], [0.1, 0.0, 0.2], [0.0, 0.05, 0.0]], index=names, columns=names
    )
    axes = [plot_penalty_matrix(small), plot_penalty_matrix(small * 2.5)]
    for ax in axes:
        (image,) = ax.images
        assert (image.norm.vmin, image.norm.vmax) == (0.0, 1.0)
    # Same value (0.25), same colour in both figures, and it is the colormap's own colour at
    # that fraction of [0, 1] (a data-scaled norm would draw 0.4 at the top of the scale).
    first, second = (ax.images[0] for ax in axes)
    cmap = plt.get_cmap("viridis")
    np.testing.assert_allclose(first.to_rgba(np.array([[0.4]]))[0, 0], cmap(0.4))
    np.testing.assert_allclose(
        first.to_rgba(first.get_array())[0, 1], second.to_rgba(second.get_array())[1, 0]
    )
    # The rendered cell (0, 2) holds that colour, not cmap(1.0).
    ax = plot_penalty_matrix(small, colorbar=False)
    np.testing.assert_allclose(_pixel(ax, 2, 0)[:3], cmap(0.4)[:3], atol=2 / 255)


def test_penalty_heatmap_diagonal_is_blank():
    names = ["a", "b", "c", "d"]
    P = pd.DataFrame(0.5 * (1 - np.eye(4)), index=names, columns=names)
    ax = plot_penalty_matrix(P, colorbar=False)
    (image,) = ax.images
    data = image.get_array()
    assert np.array_equal(np.ma.getmaskarray(data), np.eye(4, dtype=bool))
    colours = image.to_rgba(data)
    assert np.all(colours[np.eye(4, dtype=bool), 3] == 0)  # transparent diagonal
    assert np.all(colours[~np.eye(4, dtype=bool), 3] == 1)
    # No number is written on the diagonal: 12 cells plus 4 column means.
    positions = [t.get_position() for t in ax.texts]
    assert len(ax.texts) == 12 + 4
    assert not any(x == y for x, y in positions if y < 4)
    # What shows through the diagonal is the axes' own (white) background.
    for k in range(4):
        np.testing.assert_allclose(_pixel(ax, k, k)[:3], [1.0, 1.0, 1.0], atol=1 / 255)
    assert not np.allclose(_pixel(ax, 1, 0)[:3], [1.0, 1.0, 1.0])
    # The column means still count the zero diagonal, as the paper's do.
    assert [t.get_text() for t in ax.texts[-4:]] == ["0.38"] * 4


def test_penalty_heatmap_of_summed_experiments_needs_its_vmax():
    names = ["bait", "random"]
    summed = pd.DataFrame([[0.0, 1.75], [0.0, 0.0]], index=names, columns=names)
    with pytest.raises(ValueError, match="vmax=E"):
        plot_penalty_matrix(summed)
    ax = plot_penalty_matrix(summed, vmax=2)
    assert ax.images[0].norm.vmax == 2.0
    for bad in (0, -1.0, True, "1"):
        with pytest.raises(ValueError, match="vmax must be a positive number"):
            plot_penalty_matrix(summed, vmax=bad)
    with pytest.raises(ValueError, match="negative"):
        plot_penalty_matrix(-summed)
    with pytest.raises(ValueError, match="NaN"):
        plot_penalty_matrix(summed.T.replace(0.0, np.nan))


def test_selection_time(results, tmp_path):
    ax = plot_selection_time(results)
    assert len(ax.patches) == 3
    heights = [p.get_height() for p in ax.patches]
    assert heights[0] > heights[1] > heights[2]
    _save(ax, tmp_path / "time.png")
    assert plot_selection_time(results, log=True).get_yscale() == "log"
    with pytest.raises(ValueError, match="selection_seconds"):
        plot_selection_time(results.drop(columns="selection_seconds"))
    with pytest.raises(ValueError, match="no selection time"):
        plot_selection_time(results.assign(selection_seconds=np.nan))


def _error_bars(ax):
    """The (low, high) ends of each bar's error bar."""
    (bars,) = [c for c in ax.containers if hasattr(c, "errorbar")]
    segments = bars.errorbar.lines[2][0].get_segments()
    return [(segment[0][1], segment[1][1]) for segment in segments]


def test_selection_time_error_bars_are_the_standard_error_over_seeds():
    # Every seed takes 0.1, 0.2, ..., 0.5 s over its five rounds: the runs agree
    # exactly, so the s.e. over seeds is 0. The spread over rounds is no sampling
    # error; pooled, it drew a bar of +-0.032 s.
    rows = [
        ("bait", seed, rnd, 10 * (rnd + 1), 0.5, 0.1 * (rnd + 1))
        for seed in range(4)
        for rnd in range(5)
    ]
    # "random": each run's mean time is 0.01 * (seed + 1), the reference s.e. by hand.
    rows += [
        ("random", seed, rnd, 10 * (rnd + 1), 0.5, 0.01 * (seed + 1) + 0.001 * (rnd - 2))
        for seed in range(4)
        for rnd in range(5)
    ]
    table = pd.DataFrame(
        rows, columns=["strategy", "seed", "round", "n_labeled", "score", "selection_seconds"]
    )
    ax = plot_selection_time(table)
    run_means = np.array([0.01, 0.02, 0.03, 0.04])
    sem = np.std(run_means, ddof=1) / np.sqrt(4)
    np.testing.assert_allclose([p.get_height() for p in ax.patches], [0.3, 0.025])
    np.testing.assert_allclose(
        _error_bars(ax), [(0.3, 0.3), (0.025 - sem, 0.025 + sem)], atol=1e-12
    )


def test_missing_matplotlib_gives_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "skbait.plotting")
    with pytest.raises(ImportError, match=r"skbait\[plotting\]"):
        importlib.import_module("skbait.plotting")
    monkeypatch.undo()
    importlib.import_module("skbait.plotting")


def test_skbait_imports_without_matplotlib():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import skbait, skbait.evaluation, skbait._cli\n"
        "print('ok')\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
