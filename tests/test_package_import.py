"""``import skbait`` and the command line's start load neither torch nor scikit-learn.

The public names and subpackages load on first use, so that ``skbait --help``, an
option error or a wrong path answers at once instead of after seconds of imports.
"""

import subprocess
import sys

import pytest

import skbait
from skbait._presets import CLASSIFICATION_STRATEGIES, REGRESSION_STRATEGIES


def _heavy_modules_after(code):
    """The heavy libraries a fresh interpreter holds after running ``code``."""
    probe = code + "\nimport sys; print(sorted({'torch', 'sklearn', 'scipy'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def test_import_skbait_loads_no_heavy_library():
    assert _heavy_modules_after("import skbait") == "[]"


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["run", "--help"], ["query", "--help"], ["label", "--help"], ["--version"]],
)
def test_command_line_help_loads_no_heavy_library(argv):
    code = (
        "import contextlib, io\n"
        "from skbait._cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main({argv!r}) == 0\n"
    )
    assert _heavy_modules_after(code) == "[]"


def test_run_reports_a_missing_file_before_loading_the_strategies(tmp_path):
    code = (
        "import contextlib, io\n"
        "from skbait._cli import main\n"
        "with contextlib.redirect_stderr(io.StringIO()) as err:\n"
        f"    assert main(['run', '-d', {str(tmp_path / 'absent.csv')!r}]) == 2\n"
        "assert 'no such CSV file' in err.getvalue(), err.getvalue()\n"
    )
    assert "torch" not in _heavy_modules_after(code)


def test_the_public_names_are_those_loaded_on_use():
    assert set(skbait.__all__) == {*skbait._PUBLIC, "__version__"}


@pytest.mark.parametrize("name", skbait.__all__)
def test_every_public_name_resolves(name):
    value = getattr(skbait, name)
    assert name in dir(skbait)
    if name != "__version__":
        assert value.__name__ == name


def test_subpackages_are_attributes_after_a_bare_import():
    code = "import skbait\nassert skbait.strategies.BAIT.__name__ == 'BAIT'\n"
    code += "assert callable(skbait.datasets.load_benchmark)\n"
    code += "assert callable(skbait.evaluation.compare_strategies)\n"
    _heavy_modules_after(code)  # raises CalledProcessError on an AttributeError


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'ActiveLerner'"):
        skbait.ActiveLerner  # noqa: B018
    assert not hasattr(skbait, "no_such_module")


def test_regression_strategies_are_those_whose_tags_allow_a_regressor():
    # The command line writes the list out to start without the strategies; the
    # registry's tags are the truth it must match.
    from skbait.strategies._registry import serves_regression

    assert (
        tuple(name for name in CLASSIFICATION_STRATEGIES if serves_regression(name))
        == REGRESSION_STRATEGIES
    )


def test_the_campaign_commands_start_without_torch():
    # teach, correct and status merge and show labels: no torch until a model is needed.
    assert "torch" not in _heavy_modules_after("import skbait.campaign, skbait._campaign_cli")
    assert _heavy_modules_after("import skbait.utils") == "[]"


@pytest.mark.parametrize("name", skbait.utils.__all__)
def test_every_name_of_utils_resolves(name):
    import skbait.utils as utils

    assert getattr(utils, name).__name__ == name
    assert name in dir(utils)
    assert set(utils.__all__) == set(utils._PUBLIC)
