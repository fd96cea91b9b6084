"""Screenshots for the README, made offscreen from the real window, driven as a user would drive it.

    .venv/bin/python docs/make_screenshots.py          # writes docs/training_panel.png, results.png, main_window.png
    .venv/bin/python docs/make_screenshots.py --dark   # the same in a dark palette, as *-dark.png

Each view is also taken at 1024x700, a small laptop's screen, as *-1024x700.png (and *-1024x700-dark.png).

Needs ../shared (hymenoptera photos and the ImageNet MobileNetV2 weights). In the Train tab it runs the
learning-rate finder, then trains (3 epochs frozen, 1 unfrozen: a few minutes on a CPU); then it opens a
folder of validation photos, classifies it, labels a few photos by hand and selects one for the inspector.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
DATA = SHARED / "data" / "hymenoptera"
WEIGHTS = SHARED / "weights" / "mobilenet_v2-imagenet.pth"
FULL, SMALL = (1440, 900), (1024, 700)


def dark_palette() -> QPalette:
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.AlternateBase: "#323232",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.Highlight: "#3d7bd9",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#353535",
        QPalette.ColorRole.ToolTipText: "#e6e6e6", QPalette.ColorRole.PlaceholderText: "#8c8c8c",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dark", action="store_true", help="a dark palette (files end in -dark.png)")
    args = parser.parse_args()
    if not (DATA.is_dir() and WEIGHTS.is_file()):
        print(f"needs {DATA} and {WEIGHTS}", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    work = Path(tempfile.mkdtemp(prefix="lakeview-shots-"))
    os.environ["LAKEVIEW_CACHE_DIR"] = str(work / "cache")
    holiday = work / "holiday"
    holiday.mkdir()
    for source in sorted((DATA / "val").rglob("*.jpg"))[::8][:24]:
        shutil.copy(source, holiday / f"{source.parent.name}_{source.name}")
    suffix = "-dark" if args.dark else ""

    from lakeview.gui.main_window import MainWindow
    from lakeview.gui.session import LibrarySession
    from lakeview.gui.welcome import SHOW_KEY

    app = QApplication(sys.argv)
    app.setStyle("Fusion")
    if args.dark:
        app.setPalette(dark_palette())
    session = LibrarySession(work / "library" / "catalog.sqlite")
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(SHOW_KEY, False)
    window = MainWindow(session, settings)
    window.resize(*FULL)
    window.show()
    panel = window.training_panel

    def set_up_training() -> None:
        window.tabs.setCurrentWidget(panel)
        panel.set_folder(DATA)
        panel.arch.setCurrentText("mobilenet_v2")
        panel.use_weights_file(WEIGHTS)
        panel.frozen_epochs.setValue(3)
        panel.unfrozen_epochs.setValue(1)
        panel.find_learning_rate()

    def label_and_select() -> None:
        window.tabs.setCurrentWidget(window.grid)
        session.assign([window.model.path_at(0), window.model.path_at(1)], "ants")
        session.assign([window.model.path_at(14)], "bees")
        window.grid.setCurrentIndex(window.model.index(5))
        window.grid.selectionModel().select(window.model.index(6), window.grid.selectionModel().SelectionFlag.Select)

    steps = iter([
        set_up_training,
        panel.start_training,
        lambda: window.tabs.setCurrentWidget(panel),
        lambda: shoot("training_panel"),
        lambda: window.tabs.setCurrentWidget(window.results),
        lambda: shoot("results"),
        lambda: window.open_folder(holiday),
        session.classify,
        label_and_select,
        lambda: None,
        lambda: (shoot("main_window"), app.quit()),
    ])

    def shoot(name: str) -> None:
        """The view at full size, then at 1024x700, then back."""
        window.grab().save(str(HERE / f"{name}{suffix}.png"))
        window.resize(*SMALL)
        app.processEvents()
        window.grab().save(str(HERE / f"{name}-{SMALL[0]}x{SMALL[1]}{suffix}.png"))
        window.resize(*FULL)
        app.processEvents()

    def advance() -> None:
        if session.busy:
            QTimer.singleShot(200, advance)
            return
        next(steps)()
        QTimer.singleShot(1500, advance)

    QTimer.singleShot(100, advance)
    app.exec()
    window.close()
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {', '.join(f'docs/{n}{suffix}.png' for n in ('training_panel', 'results', 'main_window'))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
