"""Product modules are not named like tests: tools and readers would take them for tests."""

from __future__ import annotations

from pathlib import Path

import lakeview


def test_no_product_file_is_named_like_a_test():
    root = Path(lakeview.__file__).parent
    named_like_tests = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
                        if p.name.startswith("test_") or p.name.endswith("_test.py")]
    assert named_like_tests == []
    assert len(list(root.rglob("*.py"))) > 50  # the package was found and walked
