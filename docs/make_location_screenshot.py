"""The inspector's Place section for the README, made offscreen: docs/location_hint.png.

    .venv/bin/python docs/make_location_screenshot.py

Needs ../shared (hymenoptera photos). A small holiday: 14 ant photos labelled "ants" near Moraine Lake, and an
unlabelled ant photo 300 m away that a model (its prediction stored by hand, recorded as the active model of a
training run in this library) takes for a bee. The model has scored none of the labelled photos it held out, so
the place counts at the default weight (lakeview/core/location/place_weight.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from gps_tools import MORAINE_LAKE, gps_ifd, moved  # noqa: E402

from lakeview.gui.inspector import Inspector  # noqa: E402
from lakeview.gui.session import LibrarySession  # noqa: E402

DATA = HERE.parents[1] / "shared" / "data" / "hymenoptera"


def with_gps(source: Path, copy: Path, north_m: float, east_m: float) -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8825).update(gps_ifd(*moved(MORAINE_LAKE, north_m, east_m), altitude=1884))
    with Image.open(source) as im:
        im.convert("RGB").save(copy, "JPEG", quality=92, exif=exif)
    return copy


def wait(milliseconds: int, signal=None) -> None:
    loop = QEventLoop()
    if signal is not None:
        signal.connect(loop.quit)
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()


def main() -> int:
    if not DATA.is_dir():
        print(f"needs {DATA}", file=sys.stderr)
        return 2
    app = QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        trip = Path(tmp) / "Banff 2026"
        trip.mkdir()
        ants = sorted((DATA / "train" / "ants").glob("*.jpg"))[:14]
        labelled = [with_gps(p, trip / f"IMG_{4100 + i}.jpg", 20 * (i % 5), 25 * (i // 5)) for i, p in enumerate(ants)]
        photo = with_gps(sorted((DATA / "val" / "ants").glob("*.jpg"))[5], trip / "IMG_4177.jpg", 300, 40)
        session = LibrarySession(Path(tmp) / "catalog.sqlite")
        catalog = session.catalog
        catalog.add_folder(trip)
        catalog.ensure_classes(["ants", "bees"])
        catalog.set_labels(labelled, "ants")
        catalog.add_model("demo-model", Path(tmp) / "demo-model.lvmodel", "resnet18", ["ants", "bees"], None, {},
                          "2026-06-01T10:00:00", "quick", active=True)
        run = catalog.start_training_run("quick", {"holdout_pct": 0.2, "classes": ["ants", "bees"]})
        catalog.finish_training_run(run, "promoted", [], "demo-model")
        catalog.store_predictions("demo-model", [(photo, [("bees", 0.62), ("ants", 0.38)])])
        session.places.schedule()
        wait(30_000, session.places.changed)
        inspector = Inspector(catalog, session.places)
        inspector.resize(340, 700)
        inspector.show()
        inspector.show_photo(photo)
        wait(1_500)  # the preview, decoded off the GUI thread
        inspector.grab().save(str(HERE / "location_hint.png"))
        print(inspector.place.texts())
        inspector.shutdown()
        session.close()
    app.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
