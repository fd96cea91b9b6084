"""The one place the command line reaches into the desktop app (the import-linter contract in pyproject.toml
allows this module's import of lakeview.gui.app, and no other from lakeview.cli)."""

from __future__ import annotations

import argparse
import sys

from lakeview.cli.console import EXIT_ERROR


def open_app(parser: argparse.ArgumentParser, self_test: bool = False) -> int:
    try:
        from lakeview.gui.app import run_app
    except ImportError as exc:
        parser.print_help()
        print(f"\nlakeview: the desktop app cannot start: Qt (PySide6) did not load ({exc}).\n"
              "The commands above do the same jobs without it.", file=sys.stderr)
        return EXIT_ERROR
    return run_app(sys.argv, self_test=self_test)
