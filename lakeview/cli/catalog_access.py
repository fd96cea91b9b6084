"""What every `lakeview catalog` command shares: opening the catalog, its errors said as one sentence, the
way a stop is reported."""

from __future__ import annotations

import argparse
import functools
import sqlite3

from lakeview.cli.console import EXIT_INTERRUPTED, UserError, say
from lakeview.cli.shell_quoting import shell_quoted


def open_catalog(args: argparse.Namespace):
    """The catalog, checked page by page first (about 0.1 s per 100,000 photos): nothing writes into a damaged one."""
    from lakeview.core.catalog import Catalog

    return Catalog(args.catalog, verify=True)


def catalog_errors_as_sentences(run):
    """Every catalog command's one place for catalog errors: a sentence that says what to do, exit 2."""

    @functools.wraps(run)
    def guarded(args: argparse.Namespace) -> int:
        from lakeview.core.catalog.connection import busy_timeout
        from lakeview.core.catalog.errors import CatalogError, translate
        from lakeview.core.catalog.store import default_catalog_path

        try:
            return run(args)
        except (CatalogError, sqlite3.Error) as exc:
            path = args.catalog or default_catalog_path()
            error = translate(exc, path, busy_timeout())
            if error is None:  # SQLite refused a statement: a catalog that does not hold what it should
                raise UserError(f"the catalog {path} cannot be used as it is ({exc}); `{catalog_command(args)} check` "
                                "tells what is wrong") from None
            raise UserError(catalog_sentence(error, args)) from None

    return guarded


def catalog_sentence(error: Exception, args: argparse.Namespace) -> str:
    from lakeview.core.catalog import errors
    from lakeview.core.catalog.connection import TIMEOUT_ENV
    from lakeview.core.catalog.recovery import CatalogUnrecoverable

    command = catalog_command(args)
    if isinstance(error, CatalogUnrecoverable):
        return f"{error}; a backup copy of the library folder is the remaining way back"
    if isinstance(error, errors.CatalogDamaged):
        return (f"{error}; run `{command} recover` to copy what can be read into a fresh catalog "
                "(the damaged file is kept)")
    if isinstance(error, errors.NotACatalog):
        return f"{error}; give --catalog a LakeView catalog, or the name of a new file"
    if isinstance(error, errors.CatalogLocked):
        return f"{error} (${TIMEOUT_ENV} sets how many seconds to wait)"
    if isinstance(error, errors.CatalogWriteFailed) and not isinstance(error, errors.CatalogDiskFull):
        return f"{error}; once it is fixed, `{command} check` tells whether the catalog is whole"
    if isinstance(error, errors.CatalogFolderUnwritable):
        return f"{error}: --catalog FILE for one command, $LAKEVIEW_DATA_DIR for all libraries"
    return str(error)


def catalog_command(args: argparse.Namespace) -> str:
    return "lakeview catalog" + (f" --catalog {shell_quoted(args.catalog)}" if args.catalog else "")


def say_stopped(what_happened: str) -> int:
    say(f"stopped: {what_happened}")
    return EXIT_INTERRUPTED


def version_by_prefix(catalog, prefix: str) -> str:
    """The id of the one model version that starts with `prefix`."""
    matches = [v.id for v in catalog.models() if v.id.startswith(prefix)]
    if len(matches) != 1:
        raise UserError(f"{len(matches)} versions match '{prefix}'; give more of the id")
    return matches[0]
