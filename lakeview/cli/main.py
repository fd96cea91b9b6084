"""`lakeview`: the command-line entry point. With no command it opens the desktop app."""

from __future__ import annotations

import argparse
import sys
import warnings

from lakeview import __version__
from lakeview.cli.console import EXIT_ERROR, EXIT_INTERRUPTED, UserError
from lakeview.core.model_schema import ModelFileError


def build_parser() -> argparse.ArgumentParser:
    from lakeview.cli import catalog, classify, desktop, evaluate, train

    parser = argparse.ArgumentParser(
        prog="lakeview",
        description="Teach a computer to recognise the places in your own photos. "
                    "Run without a command to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"LakeView {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation: open the app, classify three generated photos with a "
                             "random model (nothing is downloaded, your library is untouched), print the "
                             "result and exit (0 when all is well)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    train.register(commands)
    evaluate.register(commands)
    classify.register(commands)
    catalog.register(commands)
    desktop.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return open_app(parser, self_test=args.self_test)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            return int(args.run(args))
    except (UserError, ModelFileError) as exc:  # a model or weights file that cannot be used: one sentence
        print(f"lakeview: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("lakeview: aborted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"lakeview: warning: {message}", file=sys.stderr)


def open_app(parser: argparse.ArgumentParser, self_test: bool = False) -> int:
    try:
        from lakeview.gui.app import run_app
    except ImportError as exc:
        parser.print_help()
        print(f"\nlakeview: the desktop app cannot start: Qt (PySide6) did not load ({exc}).\n"
              "The commands above do the same jobs without it.", file=sys.stderr)
        return EXIT_ERROR
    return run_app(sys.argv, self_test=self_test)


def main_gui() -> int:
    """`lakeview-gui` (no console window on Windows): the app, or its self-test."""
    return main(["--self-test"] if "--self-test" in sys.argv[1:] else [])
