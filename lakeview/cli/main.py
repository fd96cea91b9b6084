"""`lakeview`: the command-line entry point. With no command it opens the desktop app."""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from lakeview import __version__
from lakeview.cli.console import EXIT_ERROR, EXIT_INTERRUPTED, UserError, signals_interrupt
from lakeview.cli.launch_app import open_app
from lakeview.core.jobs import Stopped
from lakeview.core.models.model_schema import ModelFileError


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
    """`argv` None: the real program (the `lakeview` script, `python -m lakeview`), which ends with
    exit_interrupted() when stopped; a list: a call from Python (tests), which gets the code back."""
    code = _main(argv)
    if argv is None and code == EXIT_INTERRUPTED:
        exit_interrupted()
    return code


def exit_interrupted() -> None:
    """End the process with 130 now, after the usual exit handlers.

    When Ctrl+C lands inside code that an extension module runs through PyRun_String while it is imported
    (torch does, for seconds at start-up), CPython remembers an 'unhandled' KeyboardInterrupt even though
    main() caught it, and ends the process by SIGINT (-2 to a parent process, not the documented 130)."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(EXIT_INTERRUPTED)


def _main(argv: list[str] | None) -> int:
    try:
        with signals_interrupt():
            parser = build_parser()
            args = parser.parse_args(argv)
            if args.command is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("default")
                    warnings.showwarning = _show_warning
                    code = int(args.run(args))
                    sys.stdout.flush()  # here, where a closed pipe can still be reported, not at exit
                    return code
    except (UserError, ModelFileError) as exc:  # a model or weights file that cannot be used: one sentence
        print(f"lakeview: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (KeyboardInterrupt, Stopped):  # Stopped: a job that answered a stop request and was not caught
        print("\nlakeview: stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # whoever read the output left early: `lakeview classify ... | head`
        _discard_standard_output()
        print("lakeview: error: the output was closed before the end (by the program reading it)", file=sys.stderr)
        return EXIT_ERROR
    return open_app(parser, self_test=args.self_test)


def _discard_standard_output() -> None:
    """Point stdout at the null device, so that flushing it at exit does not fail a second time."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (captured by a test): nothing to flush into a closed pipe
        pass


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"lakeview: warning: {message}", file=sys.stderr)


def main_gui() -> int:
    """`lakeview-gui` (no console window on Windows): the app, or its self-test."""
    return main(["--self-test"] if "--self-test" in sys.argv[1:] else [])
