"""The package as it installs: every module directory is listed in pyproject.toml, and the icons ship; the
bundle's spec carries the data a package would otherwise fetch."""

from __future__ import annotations

import ast
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


def spec_source() -> tuple[str, ast.Module]:
    text = (ROOT / "packaging" / "pyinstaller" / "lakeview.spec").read_text()
    return text, ast.parse(text)


def test_the_bundle_carries_reverse_geocode_s_table_so_it_never_downloads_it():
    """reverse_geocode downloads its GeoNames table from the internet when geocode.gz is missing beside it: the
    spec collects the package's data files, they exist where it collects them from, and its filter keeps them."""
    import reverse_geocode

    text, tree = spec_source()
    analysis = next(node for node in ast.walk(tree) if isinstance(node, ast.Call)
                    and getattr(node.func, "id", "") == "Analysis")
    datas = next(k.value for k in analysis.keywords if k.arg == "datas")
    collected = [node for node in ast.walk(datas) if isinstance(node, ast.Call)
                 and getattr(node.func, "id", "") == "collect_data_files"]
    assert [ast.literal_eval(call.args[0]) for call in collected] == ["reverse_geocode"]
    package = Path(reverse_geocode.__file__).parent
    assert (package / "geocode.gz").is_file() and (package / "countries.csv").is_file()
    unwanted = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "_unwanted")
    scope: dict = {"Path": Path}
    exec(compile(ast.Module([unwanted], []), "lakeview.spec", "exec"), scope)
    assert not scope["_unwanted"]("reverse_geocode/geocode.gz")
    assert not scope["_unwanted"]("reverse_geocode/countries.csv")
    assert scope["_unwanted"]("torch/include/ATen.h")  # the filter does filter
