"""The import contracts of .importlinter hold: layers, a core free of estimator code, no cycle.

CI runs ``lint-imports`` after ruff; this test runs it too where import-linter is installed
(the ``lint`` extra), so that a local test run catches an import that breaks a layer.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports():
    program = shutil.which("lint-imports")
    if program is None:
        pytest.skip("import-linter is not installed (pip install 'skbait[lint]')")
    return program


def test_import_contracts_hold():
    # Run from the repository root: lint-imports puts the working directory first on
    # the path, so it reads this checkout's package.
    result = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_name_every_top_level_module():
    # A new top-level module or package must take a place in the layers, or the
    # layers contract says nothing about it.
    text = (ROOT / ".importlinter").read_text(encoding="utf-8")
    layers = text.split("layers =", 1)[1].split("ignore_imports", 1)[0]
    named = {
        name.strip().strip("()")
        for line in layers.splitlines()
        for name in line.replace("|", ":").split(":")
        if name.strip()
    }
    package = ROOT / "skbait"
    modules = {
        f"skbait.{path.stem}"
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    covered = {m for m in modules if m in named or any(n.startswith(m + ".") for n in named)}
    assert covered == modules, sorted(modules - covered)
