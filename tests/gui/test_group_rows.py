"""The grid's group mechanics on the real window, from a plain grouping (catalog ids): each group under a header
tile that counts it, the photos in no group last; a click on a header selects its group and a number key labels
it as one undoable action; Esc or unchecking Show ▸ Groups gives back the filter's order, keeping the current
photo."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from lakeview.gui.grid.group_rows import GroupHeader, grouped_rows
from lakeview.gui.grid.roles import Role

from photo_tools import red_and_blue_photos


@pytest.fixture
def lake(tmp_path) -> Path:
    return red_and_blue_photos(tmp_path / "lake", 4)


def open_lake(qtbot, window, lake) -> None:
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(lake)
    qtbot.waitUntil(lambda: window.model.rowCount() == 8)
    for name in ("blue", "red"):
        window.session.add_class(name)
    window.grid.setFocus()


def ids_named(window, *names: str) -> list[int]:
    return [window.session.photo_id(window.session.folder / name) for name in names]


def click(qtbot, window, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    grid, index = window.grid, window.model.index(row, 0)
    grid.scrollTo(index)
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, modifier, grid.visualRect(index).center())


def labels(window) -> dict[str, str | None]:
    return {row.path.name: row.label for row in window.session.rows()}


def group_the_lake(window) -> tuple[list[int], list[int], list[int]]:
    """Two groups, mixed on purpose (a grouping is not always right), and the others in no group."""
    first = ids_named(window, "red_0.jpg", "red_1.jpg", "red_2.jpg", "blue_3.jpg")
    second = ids_named(window, "blue_0.jpg", "blue_1.jpg")
    window.grid_order.show_groups([first, second], "2 groups of similar photos (6 photos), 2 in no group")
    return first, second, ids_named(window, "blue_2.jpg", "red_3.jpg")


def test_rows_are_each_group_under_its_header_then_the_photos_in_no_group():
    ids, headers = grouped_rows([[5, 3, 9], [4, 7]], [1, 3, 4, 5, 6, 7, 8])

    assert ids == [-1, 5, 3, -2, 4, 7, -3, 1, 6, 8], "9 is not shown; the shown photos no group has come last"
    assert [(h.name, h.count) for h in headers.values()] == [("Group 1", 2), ("Group 2", 2), ("In no group", 3)]
    only_grouped, headers = grouped_rows([[1, 2]], [1, 2])
    assert only_grouped == [-1, 1, 2] and len(headers) == 1, "no empty 'In no group' header"


def test_headers_show_their_counts_and_the_photos_sit_together_under_them(qtbot, qtmodeltester, window, lake):
    open_lake(qtbot, window, lake)
    first, second, ungrouped = group_the_lake(window)
    model = window.model

    assert model.rowCount() == 8 + 3
    assert model.header_rows() == [0, 5, 8]
    assert model.ids()[1:5] == first and model.ids()[6:8] == second and sorted(model.ids()[9:]) == sorted(ungrouped)
    texts = [model.index(row, 0).data(Qt.ItemDataRole.DisplayRole) for row in model.header_rows()]
    assert texts == ["Group 1: 4 photos", "Group 2: 2 photos", "In no group: 2 photos"]
    assert isinstance(model.index(0, 0).data(Role.EntryRole), GroupHeader)
    assert model.index(0, 0).data(Role.PathRole) is None, "a header is no photo: the inspector shows none"
    assert "Grouped: 2 groups" in window.filter_bar.order.text() and window.filter_bar.back_action.isVisible()
    assert window.grid_order.groups_action.isChecked()
    assert not window.grid.grab().isNull()  # the header tiles paint
    qtmodeltester.check(model)


def test_a_click_on_a_header_selects_its_group_and_a_key_labels_it_as_one_undo_step(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    first, second, _ = group_the_lake(window)

    click(qtbot, window, 5)
    assert window.selected_ids() == second
    click(qtbot, window, 0)
    assert window.selected_ids() == first, "a click on another header selects that group alone"
    assert window.count_label.text() == "8 photos, 4 selected", "headers are no photos"
    assert window.selected_paths() == [window.model.path_at(row) for row in range(1, 5)]

    qtbot.keyClick(window.grid, Qt.Key.Key_2)  # red
    named = labels(window)
    assert [named[n] for n in ("red_0.jpg", "red_1.jpg", "red_2.jpg", "blue_3.jpg")] == ["red"] * 4
    assert named["blue_0.jpg"] is None
    assert window.session.next_undo().count == 4, "the whole group is one action"
    assert window.grid.currentIndex().row() == 5, "the grid moves on to the next group's header"
    assert window.selected_ids() == second

    window.undo()
    assert all(label is None for label in labels(window).values()), "one Ctrl+Z takes the whole group back"


def test_the_arrow_keys_onto_a_header_select_its_group_and_a_ctrl_click_takes_it_out(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    first, second, ungrouped = group_the_lake(window)
    grid = window.grid
    grid.selectionModel().setCurrentIndex(window.model.index(4, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)

    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert window.selected_ids() == second
    click(qtbot, window, 8, Qt.KeyboardModifier.ControlModifier)
    assert sorted(window.selected_ids()) == sorted(second + ungrouped)
    click(qtbot, window, 5, Qt.KeyboardModifier.ControlModifier)
    assert sorted(window.selected_ids()) == sorted(ungrouped)
    click(qtbot, window, 6)
    assert window.selected_ids() == second[:1], "a click on a photo of a selected group selects that photo alone"


def test_fixing_one_photo_after_its_group_moves_on_to_the_next_group(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    first, second, _ = group_the_lake(window)
    click(qtbot, window, 0)
    qtbot.keyClick(window.grid, Qt.Key.Key_2)

    click(qtbot, window, 4)  # blue_3, wrongly grouped with the reds
    qtbot.keyClick(window.grid, Qt.Key.Key_1)

    assert labels(window)["blue_3.jpg"] == "blue"
    assert window.grid.currentIndex().row() == 5 and window.selected_ids() == second


def test_esc_and_unchecking_groups_go_back_to_the_filters_order_keeping_the_current_photo(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    normal = list(window.model.ids())
    group_the_lake(window)
    click(qtbot, window, 6)
    current = window.model.ids()[6]

    qtbot.keyClick(window.grid, Qt.Key.Key_Escape)
    assert window.model.ids() == normal and not window.model.header_rows()
    assert window.model.ids()[window.grid.currentIndex().row()] == current
    assert not window.grid_order.groups_action.isChecked() and not window.filter_bar.order_action.isVisible()

    group_the_lake(window)
    window.grid_order.groups_action.setChecked(False)
    assert window.model.ids() == normal
    assert window.model.ids()[window.grid.currentIndex().row()] == current


def test_a_filter_keeps_the_groups_over_the_photos_it_shows(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    first, second, _ = group_the_lake(window)
    window.session.label_ids(second[:1], "blue")

    with qtbot.waitSignal(window.session.rows_ready):
        window.filter_bar.filter_box.setCurrentText("Unlabelled")

    assert window.grid_order.groups is not None
    assert window.model.ids()[:5] == [-1, *first] and window.model.ids()[5:7] == [-2, second[1]]


def test_similar_photos_show_nearest_first_and_back_returns_to_the_groups_then_the_filters_order(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    normal = list(window.model.ids())
    group_the_lake(window)
    grouped = list(window.model.ids())
    nearest = ids_named(window, "blue_1.jpg", "blue_0.jpg", "blue_2.jpg")

    window.grid_order.show_similar("blue_1.jpg", nearest)
    assert window.model.ids() == nearest and not window.model.header_rows()
    assert window.grid.currentIndex().row() == 0
    assert "Similar to blue_1.jpg" in window.filter_bar.order.text()

    qtbot.keyClick(window.grid, Qt.Key.Key_Escape)
    assert window.model.ids() == grouped, "back from similar photos to the groups they were found from"
    window.filter_bar.back_button.click()
    assert window.model.ids() == normal


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)")  # offscreen popups
def test_the_grids_context_menu_finds_photos_similar_to_a_photo_not_a_header(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    group_the_lake(window)
    grid = window.grid

    grid.customContextMenuRequested.emit(grid.visualRect(window.model.index(0, 0)).center())
    items = {action.text().replace("&", ""): action for action in window.grid_order.context_menu.actions()}
    assert not items["Find similar photos"].isEnabled(), "a header has no photo to compare"
    window.grid_order.context_menu.close()
    grid.customContextMenuRequested.emit(grid.visualRect(window.model.index(1, 0)).center())
    items = {action.text().replace("&", ""): action for action in window.grid_order.context_menu.actions()}
    assert items["Find similar photos"].isEnabled() and items["Back to the filter's order"].isEnabled()
    window.grid_order.context_menu.close()


def test_in_the_unlabelled_view_a_labelled_group_leaves_with_its_header(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    with qtbot.waitSignal(window.session.rows_ready):
        window.filter_bar.filter_box.setCurrentText("Unlabelled")
    first, second, ungrouped = group_the_lake(window)

    click(qtbot, window, 0)
    qtbot.keyClick(window.grid, Qt.Key.Key_2)

    model = window.model
    assert model.ids()[:3] == [-2, *second], "group 1 and its header left the view"
    assert window.grid.currentIndex().row() == 0 and window.selected_ids() == second
    assert window.count_label.text() == "4 photos, 2 selected"
