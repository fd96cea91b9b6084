"""What Show ▸ Groups costs the grid at scale: 100,000 photos in similar-photo groups, header tiles among them.

In one run, side by side, with the grid in a 1280x800 window (offscreen unless QT_QPA_PLATFORM says otherwise) and
rows served from memory (each photo's tile an error tile, so no thumbnail work competes):

  (a) rows:       grouped_rows for the photos shown (headers as negative ids);
  (b) show:       PhotoGridModel.set_ids of the grouped rows, until the view has laid out its first batch of tiles,
                  against the same for the filter's order (no headers) and for going back to it, the current
                  photo kept;
  (c) header:     a header selected (a click) selecting its group (selectionChanged expanding it), and select all;
  (d) key:        the ids a number key would label (MainWindow.selected_ids: the model's ids_in), for one group;
  (e) similar:    Find similar on the GUI thread: core's SimilarIndex asked for a photo's 199 nearest among all
                  the photos (random 512-dimensional features, as ResNet34's), and the grid showing them.

    python benchmarks/grouped_grid.py                  # 100,000 photos, groups of 2 to 30
    python benchmarks/grouped_grid.py --photos 10000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QItemSelection, QItemSelectionModel  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from lakeview.core.catalog.grid_queries import PhotoRow  # noqa: E402
from lakeview.gui.grid.group_rows import grouped_rows  # noqa: E402
from lakeview.gui.grid.model import PhotoGridModel  # noqa: E402
from lakeview.gui.grid.view import PhotoGrid  # noqa: E402

WINDOW = (1280, 800)


def fetch(photo_ids) -> dict[int, PhotoRow]:
    return {i: PhotoRow(i, Path(f"/photos/{i:06}.jpg"), True, None, None, None, None) for i in photo_ids}


def grouping(photos: int, seed: int = 0) -> tuple[list[list[int]], list[int]]:
    """Groups of 2 to 30 photos covering about 85% of `photos`, in random order; the ids shown, in order."""
    rng = random.Random(seed)
    shown = list(range(1, photos + 1))
    pool = shown[:]
    rng.shuffle(pool)
    groups, taken = [], 0
    while taken < photos * 0.85:
        size = rng.randint(2, 30)
        groups.append(pool[taken:taken + size])
        taken += size
    groups.sort(key=len, reverse=True)
    return groups, shown


def timed(action, settle=None) -> float:
    start = time.perf_counter()
    action()
    if settle is not None:
        settle()
    return time.perf_counter() - start


def similar(model: PhotoGridModel, grid: PhotoGrid, shown: list[int], repeat: int, first_screen) -> None:
    import numpy as np

    from lakeview.core.similarity.similar_index import SimilarIndex

    vectors = np.abs(np.random.default_rng(0).normal(size=(len(shown), 512))).astype(np.float32)
    start = time.perf_counter()
    index = SimilarIndex(shown, vectors)
    built = time.perf_counter() - start
    asked, showing = [], []
    for run in range(repeat):
        photo = shown[(run + 1) * len(shown) // (repeat + 1)]
        found: list = []
        asked.append(timed(lambda: found.append([photo] + [p for p, _ in index.nearest(photo, 199)])))
        showing.append(timed(lambda: model.set_ids(found[0], fetch), first_screen))
    print(f"(e) Find similar among {len(shown):,} photos: index built in {built:.1f} s (in a worker), then "
          f"{statistics.median(asked) * 1000:.1f} ms to ask it and {statistics.median(showing) * 1000:.1f} ms to "
          "show the 200 photos (model, layout and one paint of the screen's tiles)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    model = PhotoGridModel()
    grid = PhotoGrid()
    grid.setModel(model)
    grid.resize(*WINDOW)
    grid.show()
    groups, shown = grouping(args.photos)
    plain_index = {photo_id: row for row, photo_id in enumerate(shown)}

    def first_screen() -> None:
        grid.executeDelayedItemsLayout()
        grid.viewport().repaint()

    words = {"rows": "(a) grouped_rows", "grouped": "(b) show grouped", "plain": "    show in the filter's order",
             "back": "    back to the filter's order", "header": "(c) click a header: its group selected",
             "all": "    select all (grouped)", "all plain": "    select all (filter's order)",
             "ids": "(d) the ids a key labels (one group)"}
    figures: dict[str, list[float]] = {key: [] for key in words}
    for _ in range(args.repeat):
        model.set_ids(shown, fetch, plain_index)
        first_screen()
        grid.setCurrentIndex(model.index(args.photos // 2, 0))
        app.processEvents()
        made: list = []
        figures["rows"].append(timed(lambda: made.append(grouped_rows(groups, shown))))
        ids, headers = made[0]
        figures["grouped"].append(timed(lambda: model.set_ids(ids, fetch, None, None, headers), first_screen))
        header = model.header_rows()[len(groups) // 2]
        selection = grid.selectionModel()
        figures["header"].append(timed(lambda: selection.select(
            model.index(header, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)))
        first, last = model.group_span(header)
        assert grid.selected_runs() == [(first, last)], grid.selected_runs()
        figures["ids"].append(timed(lambda: model.ids_in(grid.selected_runs())))
        grid.setCurrentIndex(model.index(first + 1, 0))  # one photo of the group, as after a click
        current = model.ids()[grid.currentIndex().row()]
        figures["back"].append(timed(lambda: model.set_ids(shown, fetch, plain_index), first_screen))
        assert model.ids()[grid.currentIndex().row()] == current, "the current photo is kept"
        figures["plain"].append(timed(lambda: model.set_ids(list(shown), fetch, dict(plain_index)), first_screen))
        figures["all plain"].append(timed(lambda: selection.select(
            QItemSelection(model.index(0, 0), model.index(model.rowCount() - 1, 0)),
            QItemSelectionModel.SelectionFlag.Select)))
        selection.clear()
        model.set_ids(ids, fetch, None, None, headers)
        first_screen()
        figures["all"].append(timed(lambda: selection.select(
            QItemSelection(model.index(0, 0), model.index(model.rowCount() - 1, 0)),
            QItemSelectionModel.SelectionFlag.Select)))
        selection.clear()
        app.processEvents()

    print(f"{args.photos:,} photos, {len(groups):,} groups ({sum(map(len, groups)):,} photos in them), "
          f"median of {args.repeat} runs (load average {os.getloadavg()[0]:.1f}):")
    for key, text in words.items():
        print(f"  {text:<42} {statistics.median(figures[key]) * 1000:8.1f} ms")
    ratio = statistics.median(figures["grouped"]) / statistics.median(figures["plain"])
    print(f"  grouped / filter's order: {ratio:.2f}x")
    similar(model, grid, shown, args.repeat, first_screen)
    model.shutdown()


if __name__ == "__main__":
    main()
