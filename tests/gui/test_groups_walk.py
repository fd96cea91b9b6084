"""The scripted walk of issue 14: a new user opens a folder of the hymenoptera photos (train/ and val/, 398 photos,
unlabelled, in one folder under neutral names), presses Show ▸ Groups, and labels every photo group by group: per
group, the header's key for the class most of its photos are (a person sees that), then the odd ones out fixed one
by one. Every key press, click and scroll is counted, and the total is set against one key per photo.

The person's eye is the folder each photo came from: the script never tells the app."""

from __future__ import annotations

import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractItemView

from lakeview.core.models.architectures import get_architecture
from lakeview.core.models.weights import adopt_file
from lakeview.gui.grid_order import GROUPS_KEY
from lakeview.gui.worker import Ending

from photo_tools import HYMENOPTERA, MOBILENET_WEIGHTS, requires_shared

pytestmark = [requires_shared, pytest.mark.realdata, pytest.mark.slow]
CLASSES = ("ants", "bees")
WINDOW = (1440, 900)
"""A laptop's screen: how many tiles are in view decides how often the walk scrolls."""


@dataclass
class Keystrokes:
    """What the user did, counted: keys pressed, clicks, scrolls to bring a photo into view."""
    keys: int = 0
    clicks: int = 0
    scrolls: int = 0
    header_clicks: int = 0
    """Of the clicks, those on a header (the grid moves on to the next group by itself after a key)."""
    odd: int = 0
    """Photos not of their group's commonest class: each fixed by a click (Ctrl+click after the first)."""
    fix_keys: int = 0
    """Keys pressed for them: one per class per group (the photos clicked first are labelled together)."""

    @property
    def total(self) -> int:
        return self.keys + self.clicks + self.scrolls


def holiday_folder(target: Path) -> dict[str, str]:
    """Every hymenoptera photo in one folder, shuffled under neutral names; {name: true class}."""
    photos = sorted(p for p in HYMENOPTERA.glob("*/*/*") if p.is_file())
    random.Random(14).shuffle(photos)
    target.mkdir(parents=True)
    truth = {}
    for number, photo in enumerate(photos):
        name = f"photo_{number:03}{photo.suffix.lower()}"
        shutil.copyfile(photo, target / name)
        truth[name] = photo.parent.name
    return truth


def visible(grid, row: int) -> bool:
    return grid.viewport().rect().contains(grid.visualRect(grid.model().index(row, 0)))


def click(qtbot, window, row: int, done: Keystrokes, add: bool = False) -> None:
    """A click on the tile at `row` (Ctrl+click to add it to the selection), scrolling first if it is not in view."""
    grid = window.grid
    index = window.model.index(row, 0)
    if not visible(grid, row):
        grid.scrollTo(index)
        done.scrolls += 1
    modifier = Qt.KeyboardModifier.ControlModifier if add else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, modifier, grid.visualRect(index).center())
    done.clicks += 1


def press(qtbot, window, key, done: Keystrokes) -> None:
    qtbot.keyClick(window.grid, key)
    done.keys += 1


def label_group(qtbot, window, header_row: int, truth: dict[str, str], done: Keystrokes) -> None:
    """The header's key for the group's commonest class, then each photo of another class fixed: a click on the
    first, Ctrl+click on the rest, and that class's key."""
    model, grid = window.model, window.grid
    first, last = model.group_span(header_row)
    rows = range(first + 1, last + 1)
    classes = {row: truth[model.path_at(row).name] for row in rows}
    common = Counter(classes.values()).most_common(1)[0][0]
    if grid.currentIndex().row() != header_row or window.selected_ids() != model.ids()[first + 1:last + 1]:
        click(qtbot, window, header_row, done)
        done.header_clicks += 1
    press(qtbot, window, getattr(Qt.Key, f"Key_{CLASSES.index(common) + 1}"), done)
    for name in CLASSES:
        odd = [row for row in rows if classes[row] == name and name != common]
        for n, row in enumerate(odd):
            click(qtbot, window, row, done, add=n > 0)
        if odd:
            press(qtbot, window, getattr(Qt.Key, f"Key_{CLASSES.index(name) + 1}"), done)
            done.odd += len(odd)
            done.fix_keys += 1


def test_labelling_the_hymenoptera_folder_group_by_group(qtbot, window, tmp_path, record_property):
    truth = holiday_folder(tmp_path / "holiday")
    arch = get_architecture("mobilenet_v2")
    adopt_file(arch, MOBILENET_WEIGHTS)  # what Help ▸ Welcome does with a weights file the user chooses
    window.training_panel.use_architecture(arch.name)
    with qtbot.waitSignal(window.session.job_ended, timeout=60_000):
        window.open_folder(tmp_path / "holiday")
    qtbot.waitUntil(lambda: window.model.rowCount() == len(truth), timeout=20_000)
    for name in CLASSES:
        window.session.add_class(name)
    window.resize(*WINDOW)
    window.grid.setFocus()
    done = Keystrokes()

    started = time.monotonic()
    with qtbot.waitSignal(window.session.job_ended, timeout=300_000) as ended:
        qtbot.keySequence(window, QKeySequence(GROUPS_KEY))  # Show ▸ Groups
    grouping_s = time.monotonic() - started
    done.keys += 1
    assert ended.args[0].ending is Ending.DONE, ended.args[0].message
    model = window.model
    headers = list(model.header_rows())
    groups = [(model.header_at(row).name, model.header_at(row).count) for row in headers]
    assert sum(count for _, count in groups) == len(truth)

    for header in headers:
        label_group(qtbot, window, header, truth, done)

    labelled = {row.path.name: row.label for row in window.session.rows()}
    wrong = {name: (labelled[name], truth[name]) for name in truth if labelled[name] != truth[name]}
    assert not wrong
    in_groups = sum(count for name, count in groups if name != "In no group")
    report = (f"{len(truth)} photos, {len(groups) - (in_groups < len(truth))} groups holding {in_groups} photos: "
              f"{done.total} actions ({done.keys} keys, {done.clicks} clicks of which {done.header_clicks} on headers, "
              f"{done.scrolls} scrolls) against {len(truth)} keys for one per photo ({done.total / len(truth):.0%}); "
              f"{done.total - done.fix_keys + done.odd} with a key after each click on the {done.odd} odd ones out; "
              f"grouping (features of every photo, then groups) took {grouping_s:.0f} s")
    print(report, "; screenshot:", tmp_path / "groups.png")
    record_property("walk", report)
    assert done.total < len(truth)
    screenshot(qtbot, window, headers[2], tmp_path / "groups.png")


def screenshot(qtbot, window, header: int, path: Path) -> None:
    """The README's docs/groups.png, once the walk is done: a group's header selected among labelled groups, at a
    small screen's size, in 256 colours (under 150 KB)."""
    from PIL import Image

    window.resize(1024, 700)
    window.grid.set_thumbnail_size(112)
    qtbot.wait(50)
    window.grid.scrollTo(window.model.index(header - 1, 0), QAbstractItemView.ScrollHint.PositionAtTop)
    click(qtbot, window, header, Keystrokes())
    qtbot.wait(2_000)  # the thumbnails on screen arrive
    window.grab().save(str(path))
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
