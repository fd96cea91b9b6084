"""Screenshots for the README, made offscreen from the real window.

    .venv/bin/python docs/make_screenshots.py            # writes docs/main_window.png

Needs ../shared (hymenoptera photos and the ImageNet MobileNetV2 weights): it trains a head on cached
features (about a minute on a CPU), opens a folder of validation photos, classifies it, labels a few
photos by hand, and grabs the window.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
DATA = SHARED / "data" / "hymenoptera"
WEIGHTS = SHARED / "weights" / "mobilenet_v2-imagenet.pth"


def train_model(folder: Path) -> Path:
    from lakeview.core.dataset import LabelledPhotos
    from lakeview.core.learner import Learner
    from lakeview.core.transforms import NO_AUGMENTATION

    learner = Learner(LabelledPhotos.from_folder(DATA), arch="mobilenet_v2", weights=WEIGHTS,
                      augmentation=NO_AUGMENTATION)
    learner.fit_one_cycle(4, 3e-3)
    learner.export(folder / "hymenoptera.lvmodel")
    return folder / "hymenoptera.lvmodel"


def main() -> int:
    if not (DATA.is_dir() and WEIGHTS.is_file()):
        print(f"needs {DATA} and {WEIGHTS}", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    work = Path(tempfile.mkdtemp(prefix="lakeview-shots-"))
    os.environ["LAKEVIEW_CACHE_DIR"] = str(work / "cache")
    model_file = train_model(work)
    holiday = work / "holiday"
    holiday.mkdir()
    for source in sorted((DATA / "val").rglob("*.jpg"))[::8][:24]:
        shutil.copy(source, holiday / f"{source.parent.name}_{source.name}")

    from lakeview.gui.main_window import MainWindow
    from lakeview.gui.session import LibrarySession

    app = QApplication(sys.argv)
    session = LibrarySession(work / "library" / "catalog.sqlite")
    window = MainWindow(session, QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1280, 800)
    window.show()
    session.use_model_file(model_file)
    steps = iter([
        lambda: window.open_folder(holiday),
        lambda: session.classify(),
        lambda: (session.assign([window.model.path_at(0), window.model.path_at(1)], "ants"),
                 session.assign([window.model.path_at(2)], "bees"),
                 window.grid.selectionModel().select(window.model.index(5),
                                                     window.grid.selectionModel().SelectionFlag.Select)),
        lambda: None,
        lambda: (window.grab().save(str(HERE / "main_window.png")), app.quit()),
    ])

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
    print(f"wrote {HERE / 'main_window.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
