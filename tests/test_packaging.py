"""The package as it installs: every module directory is listed in pyproject.toml, and the icons ship."""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="Python 3.11+ reads pyproject.toml")

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "lakeview").rglob("__init__.py")}
    assert found | {"lakeview.resources"} == listed


def test_the_icons_are_found_through_the_package():
    from lakeview.resources import ICONS

    assert (ICONS / "lakeview.svg").is_file() and (ICONS / "lakeview-256.png").is_file()
