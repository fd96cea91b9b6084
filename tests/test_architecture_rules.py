"""Rules of the code base that a test can hold: the layers (import-linter's contracts in pyproject.toml); the
core runs without Qt; help stays light."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = ("import sys; from importlinter.cli import lint_imports; "
                "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))")


def test_the_import_contracts_hold():
    """pyproject.toml's [tool.importlinter]: the core imports neither lakeview.gui, lakeview.cli nor Qt, and
    lakeview.cli reaches lakeview.gui only through lakeview.cli.launch_app, and the core's folders depend one way."""
    if importlib.util.find_spec("importlinter") is None:
        pytest.fail("import-linter is not installed, so the import contracts in pyproject.toml went unchecked: "
                    "install the test extra (pip install -e '.[test]'; `make test` does)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-c", LINT_IMPORTS, str(REPO / "pyproject.toml")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_core_imports_with_qt_blocked():
    script = textwrap.dedent("""
        import importlib, pkgutil, sys
        class BlockQt:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "shiboken6"):
                    raise ImportError(f"Qt is blocked: {name}")
        sys.meta_path.insert(0, BlockQt())
        import lakeview.core
        names = [m.name for m in pkgutil.walk_packages(lakeview.core.__path__, "lakeview.core.")]
        for name in names:
            importlib.import_module(name)
        print(len(names))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 15


def test_threads_that_import_torch_through_the_lock_all_get_whole_modules():
    code = """
import threading
from lakeview.core.torch_import import import_torch
errors = []
def job():
    try:
        import_torch()
        from torchvision.transforms import InterpolationMode
        from torchvision.models import resnet18
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=job) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(errors)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "[]", out.stderr
