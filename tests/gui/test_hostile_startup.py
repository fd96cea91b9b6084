"""The app at start with a catalog it cannot open (damaged, truncated, newer, not a catalog, an unwritable
folder): a dialog says what is wrong and offers what can be done; never a silent exit with a traceback."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from lakeview.core.catalog import Catalog, errors
from lakeview.core.catalog.recovery import CatalogUnrecoverable
from lakeview.gui import app, crash_reports
from lakeview.gui.startup_problem import Choice, StartupProblemDialog

from hostile_tools import REPO, file_hash, tree_hashes
from test_hostile_catalog import damage_pages, labelled_catalog, mounted_tmpfs  # noqa: F401 (a fixture)

SCREENSHOT = Path("/tmp/startup_problem.png")


PROBLEMS = {
    "damaged": (errors.CatalogDamaged("/lib/catalog.sqlite", "database disk image is malformed"),
                [Choice.RECOVER, Choice.START_FRESH, Choice.OPEN_OTHER, Choice.QUIT], "is damaged"),
    "unrecoverable": (CatalogUnrecoverable("/lib/catalog.sqlite", "file is not a database"),
                      [Choice.START_FRESH, Choice.OPEN_OTHER, Choice.QUIT], "damaged beyond recovery"),
    "newer": (errors.CatalogTooNew("/lib/catalog.sqlite", 7, 2), [Choice.OPEN_OTHER, Choice.QUIT],
              "reads catalog schema 7"),
    "not a catalog": (errors.NotACatalog("/lib/catalog.sqlite", "it is not an SQLite database"),
                      [Choice.START_FRESH, Choice.OPEN_OTHER, Choice.QUIT], "not a LakeView catalog"),
    "busy": (errors.CatalogLocked("/lib/catalog.sqlite", 30.0), [Choice.RETRY, Choice.OPEN_OTHER, Choice.QUIT],
             "busy"),
    "disk full": (errors.CatalogDiskFull("/lib/catalog.sqlite"), [Choice.RETRY, Choice.OPEN_OTHER, Choice.QUIT],
                  "is full"),
    "unwritable": (errors.CatalogFolderUnwritable("/lib/catalog.sqlite", "/lib", "it is on a read-only file system"),
                   [Choice.RETRY, Choice.OPEN_OTHER, Choice.QUIT], "cannot write"),
}


@pytest.mark.parametrize("kind", PROBLEMS)
def test_each_problem_has_its_words_and_its_choices(qtbot, kind):
    problem, choices, words = PROBLEMS[kind]
    dialog = StartupProblemDialog(problem)
    qtbot.addWidget(dialog)
    dialog.show()
    assert list(dialog.buttons) == choices
    shown = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert words in shown and str(problem)[1:] in shown
    dialog.buttons[choices[0]].click()
    assert dialog.choice is choices[0] and not dialog.isVisible()


def test_the_dialog_looks_right(qtbot, tmp_path):
    catalog = Path.home() / ".local/share/lakeview/libraries/default/catalog.sqlite"
    problem = errors.CatalogDamaged(catalog, "SQLite's check found: Page 11: btreeInitPage() returns error code 11")
    dialog = StartupProblemDialog(problem)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    image = dialog.grab()
    assert image.width() >= 560 and image.height() > 120
    for where in (SCREENSHOT, tmp_path / "startup_problem.png"):
        assert image.save(str(where))


@pytest.fixture
def startup(monkeypatch, tmp_path):
    """open_library with the dialog's answers scripted: yields (asked problems, answers to give, told texts)."""
    asked, answers, told = [], [], []
    monkeypatch.setenv("LAKEVIEW_LOG_DIR", str(tmp_path / "logs"))

    def ask(cls, problem):
        asked.append(problem)
        return answers.pop(0)

    monkeypatch.setattr(StartupProblemDialog, "ask", classmethod(ask))
    monkeypatch.setattr(app, "tell", told.append)
    monkeypatch.setattr(app, "_main_window", lambda path: ("window on", path))
    return asked, answers, told


def _open(path: Path):
    opened = app.open_library(path)
    if opened is not None:
        opened[1].release()
        return opened[0]
    return None


def test_a_damaged_catalog_is_recovered_from_the_dialog(startup, tmp_path):
    asked, answers, told = startup
    catalog, _, labels = labelled_catalog(tmp_path)
    damage_pages(catalog)
    damaged_bytes = file_hash(catalog)
    answers.append(Choice.RECOVER)

    assert _open(catalog) == ("window on", catalog)
    assert [type(p) for p in asked] == [errors.CatalogDamaged]
    assert len(told) == 1 and told[0].startswith("Recovered ") and "damaged-" in told[0]
    kept = [p for p in catalog.parent.iterdir() if p.name.startswith("catalog.sqlite.damaged-")]
    assert len(kept) == 1 and file_hash(kept[0]) == damaged_bytes
    with Catalog(catalog) as recovered:
        back = {str(p): label for p, label, _, _ in recovered.labelled_photos()}
    assert 0 < len(back) < len(labels) and all(labels[p] == label for p, label in back.items())


def test_a_damaged_catalog_can_be_moved_aside_for_a_fresh_start(startup, tmp_path):
    asked, answers, told = startup
    catalog, _, _ = labelled_catalog(tmp_path, photos=60)
    os.truncate(catalog, catalog.stat().st_size // 2)
    damaged_bytes = file_hash(catalog)
    answers.append(Choice.START_FRESH)

    assert _open(catalog) == ("window on", catalog)
    assert isinstance(asked[0], errors.CatalogDamaged) and "truncated" in str(asked[0])
    kept = [p for p in catalog.parent.iterdir() if p.name.startswith("catalog.sqlite.damaged-")]
    assert len(kept) == 1 and file_hash(kept[0]) == damaged_bytes and str(kept[0]) in told[0]


def test_a_newer_catalog_says_what_it_needs_and_is_left_alone(startup, tmp_path):
    asked, answers, _ = startup
    catalog, _, _ = labelled_catalog(tmp_path, photos=5)
    with sqlite3.connect(catalog) as db:
        db.execute("PRAGMA user_version = 9")
    db.close()
    before = tree_hashes(catalog.parent)
    answers.append(Choice.QUIT)

    assert _open(catalog) is None
    assert isinstance(asked[0], errors.CatalogTooNew) and asked[0].version == 9
    after = tree_hashes(catalog.parent)
    assert after.pop("lock") and after == before  # the app's own lock file, and nothing else, was added


def test_another_library_can_be_chosen_instead_of_a_file_that_is_not_a_catalog(startup, tmp_path, monkeypatch):
    asked, answers, _ = startup
    catalog = tmp_path / "library" / "catalog.sqlite"
    catalog.parent.mkdir()
    catalog.write_bytes(b"PK\x03\x04 somebody's zip file")
    other = tmp_path / "elsewhere" / "mine.sqlite"
    other.parent.mkdir()
    monkeypatch.setattr("lakeview.gui.startup_problem.choose_library", lambda parent=None: other)
    answers.extend([Choice.OPEN_OTHER])

    assert _open(catalog) == ("window on", other)
    assert isinstance(asked[0], errors.NotACatalog)
    assert catalog.read_bytes() == b"PK\x03\x04 somebody's zip file"


def test_a_data_folder_that_cannot_be_made_asks_for_another_place(startup, tmp_path, monkeypatch):
    asked, answers, _ = startup
    blocker = tmp_path / "home-file"
    blocker.write_text("in the way")
    monkeypatch.setattr("lakeview.gui.startup_problem.choose_library", lambda parent=None: None)
    answers.extend([Choice.OPEN_OTHER, Choice.RETRY, Choice.QUIT])  # a cancelled file dialog asks again

    assert _open(blocker / "data" / "libraries" / "default" / "catalog.sqlite") is None
    assert [type(p) for p in asked] == [errors.CatalogFolderUnwritable] * 3
    assert str(blocker) in str(asked[0]) and blocker.read_text() == "in the way"


def test_the_log_falls_back_to_a_temporary_folder(monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("LAKEVIEW_LOG_DIR", str(blocker / "logs"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    folder = crash_reports.log_dir()
    assert folder.parent == tmp_path / "tmp" and folder.name.startswith("lakeview-logs-")
    written = crash_reports.write_entry("a test entry", "body")
    assert written == folder / "lakeview.log" and "a test entry" in written.read_text()
    if os.name == "posix":
        assert folder.stat().st_mode & 0o077 == 0  # private: other users cannot read the log


STARTUP = textwrap.dedent("""
    import sys
    import lakeview.gui.app as app
    from lakeview.gui.startup_problem import Choice, StartupProblemDialog
    def ask(cls, problem):
        print("asked:", type(problem).__name__, "|", problem, flush=True)
        return Choice.QUIT
    StartupProblemDialog.ask = classmethod(ask)
    sys.exit(app.run_app(["lakeview"]))
""")


def test_the_app_asks_instead_of_exiting_with_a_traceback(tmp_path):
    catalog, _, _ = labelled_catalog(tmp_path, photos=60)
    damage_pages(catalog)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAKEVIEW_CATALOG=str(catalog),
               LAKEVIEW_LOG_DIR=str(blocker / "logs"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    before = file_hash(catalog)
    out = subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert f"asked: CatalogDamaged | the catalog {catalog} is damaged" in out.stdout
    assert file_hash(catalog) == before


def test_a_catalog_problem_while_running_is_its_sentence_not_an_unexpected_error(qtbot, monkeypatch, tmp_path):
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication

    monkeypatch.setenv("LAKEVIEW_LOG_DIR", str(tmp_path / "logs"))
    shown = []
    monkeypatch.setattr(crash_reports, "show_crash_dialog", lambda parent, summary, path: shown.append(summary))

    class Button(QObject):
        clicked = Signal()

    def label_on_a_full_disk():
        raise errors.CatalogDiskFull(tmp_path / "catalog.sqlite")

    reporter = crash_reports.install(QApplication.instance())
    try:
        button = Button()
        button.clicked.connect(label_on_a_full_disk)
        button.clicked.emit()
        qtbot.waitUntil(lambda: len(shown) == 1)
    finally:
        reporter.uninstall()
        reporter.deleteLater()
    assert shown[0] == (f"The disk holding the catalog {tmp_path / 'catalog.sqlite'} is full (database or disk is "
                        "full); the last change was not saved; free some space and retry.")
    assert "CatalogDiskFull" in (tmp_path / "logs" / "lakeview.log").read_text()  # the log keeps the details


def test_a_read_only_home_gets_the_dialog_and_a_log_elsewhere(tmp_path, mounted_tmpfs):
    home, remount = mounted_tmpfs
    remount("ro")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "LAKEVIEW_"))}
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen", TMPDIR=str(tmp_path),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert f"asked: CatalogFolderUnwritable | LakeView cannot write in the folder {home}" in out.stdout
    assert "read-only file system" in out.stdout


def test_a_library_on_a_read_only_file_system_names_its_folder_not_the_lock_file(startup, tmp_path, mounted_tmpfs):
    asked, answers, _ = startup
    folder, remount = mounted_tmpfs
    catalog, _, _ = labelled_catalog(tmp_path, photos=5)
    shutil.copy(catalog, folder / "catalog.sqlite")
    remount("ro")
    before = file_hash(folder / "catalog.sqlite")
    answers.extend([Choice.QUIT, Choice.QUIT])

    assert _open(folder / "catalog.sqlite") is None
    assert _open(folder / "new library" / "catalog.sqlite") is None
    assert [type(p) for p in asked] == [errors.CatalogFolderUnwritable] * 2
    for problem in asked:
        assert problem.folder == folder and "lock" not in str(problem), str(problem)
        assert f"cannot write in the library folder {folder} (it is on a read-only file system)" in str(problem) \
            or f"cannot write in the folder {folder} (it is on a read-only file system)" in str(problem)
    assert file_hash(folder / "catalog.sqlite") == before and sorted(os.listdir(folder)) == ["catalog.sqlite"]


def test_choosing_a_library_that_is_open_elsewhere_asks_again_about_the_first(startup, tmp_path, monkeypatch):
    from lakeview.core.catalog.library_lock import LibraryLock

    asked, answers, told = startup
    damaged, _, _ = labelled_catalog(tmp_path / "first")
    damage_pages(damaged)
    busy = tmp_path / "busy" / "catalog.sqlite"
    Catalog(busy).close()
    held = LibraryLock(busy.parent).acquire()
    refusals = []
    monkeypatch.setattr(app, "tell_already_open", refusals.append)
    monkeypatch.setattr("lakeview.gui.startup_problem.choose_library", lambda parent=None: busy)
    answers.extend([Choice.OPEN_OTHER, Choice.START_FRESH])
    try:
        window = _open(damaged)
    finally:
        held.release()
    assert len(refusals) == 1 and "already open with this library" in refusals[0]
    assert [type(p) for p in asked] == [errors.CatalogDamaged, errors.CatalogDamaged]
    assert window == ("window on", damaged)  # the fresh start is the first library's, not the busy one's
    assert sorted(p.name for p in busy.parent.iterdir() if p.name.startswith("catalog")) == ["catalog.sqlite"]
    assert any(p.name.startswith("catalog.sqlite.damaged-") for p in damaged.parent.iterdir())
