"""Predict a test folder: one row per image, the class its path names, the prediction, the accuracy."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from lakeview.core.photos.files import iter_image_files
from lakeview.core.models.inference import Prediction, classify_files
from lakeview.core.models.model_file import load_model
from lakeview.gui import predict_folder_view
from lakeview.gui.session import LibrarySession
from lakeview.gui.predict_folder_view import PredictFolderView
from lakeview.gui.worker import Ending, JobEnd, JobKind

from photo_tools import COLOURS, make_photo


@pytest.fixture
def session(tmp_path):
    session = LibrarySession(tmp_path / "library" / "catalog.sqlite")
    yield session
    session.close()


@pytest.fixture
def test_folder(tmp_path):
    folder = tmp_path / "test"
    for i in range(3):
        make_photo(folder / "red" / f"IMG_{i}.jpg", COLOURS["red"], seed=i)
        make_photo(folder / "Blue" / f"IMG_{i}.jpg", COLOURS["blue"], seed=10 + i)
    make_photo(folder / "mixed" / "red_7.jpg", COLOURS["red"], seed=20)
    make_photo(folder / "mixed" / "BLUE-3.png", COLOURS["blue"], seed=21)
    make_photo(folder / "mixed" / "IMG_9.jpg", COLOURS["green"], seed=22)
    (folder / "mixed" / "red_broken.jpg").write_bytes(b"\xff\xd8 not a photo")
    (folder / "notes.txt").write_text("not an image")
    return folder


def table(view):
    model = view.table.model()
    return [[model.data(model.index(r, c)) for c in range(model.columnCount())] for r in range(model.rowCount())]


def expected_predictions(tiny_model, folder):
    paths = list(iter_image_files(folder, recursive=True))
    return {r.path: r for r in classify_files(load_model(tiny_model), paths) if isinstance(r, Prediction)}


def test_every_image_is_a_row_with_its_actual_class_prediction_and_mark(qtbot, monkeypatch, session, tiny_model,
                                                                       test_folder, tmp_path):
    monkeypatch.setattr(predict_folder_view, "BATCH", 4)
    session.use_model_file(tiny_model)
    view = PredictFolderView()
    qtbot.addWidget(view)
    view.resize(720, 460)
    view.show()
    batches = []
    view.model.rowsInserted.connect(lambda parent, first, last: batches.append(last - first + 1))
    with qtbot.waitSignal(session.job_ended, timeout=30_000) as ended:
        assert view.run(session, test_folder)
    assert batches == [4, 4, 2]

    rows = {r[0]: r[1:] for r in table(view)}
    assert sorted(rows) == ["Blue/IMG_0.jpg", "Blue/IMG_1.jpg", "Blue/IMG_2.jpg", "mixed/BLUE-3.png",
                            "mixed/IMG_9.jpg", "mixed/red_7.jpg", "mixed/red_broken.jpg",
                            "red/IMG_0.jpg", "red/IMG_1.jpg", "red/IMG_2.jpg"]
    assert {name: row[0] for name, row in rows.items()} == {
        "Blue/IMG_0.jpg": "blue", "Blue/IMG_1.jpg": "blue", "Blue/IMG_2.jpg": "blue", "mixed/BLUE-3.png": "blue",
        "mixed/IMG_9.jpg": "?", "mixed/red_7.jpg": "red", "mixed/red_broken.jpg": "red",
        "red/IMG_0.jpg": "red", "red/IMG_1.jpg": "red", "red/IMG_2.jpg": "red"}

    expected = expected_predictions(tiny_model, test_folder)
    right = 0
    for result in view.results:
        name = result.path.relative_to(test_folder).as_posix()
        predicted, confidence, mark = rows[name][1:]
        if result.path.name == "red_broken.jpg":
            assert result.reason and predicted == result.reason and "read" in predicted
            assert confidence == "" and mark == ""
            continue
        truth = expected[result.path]
        assert predicted == truth.label and confidence == f"{truth.confidence:.1%}"
        if rows[name][0] == "?":
            assert mark == ""
        else:
            assert mark == ("✓" if truth.label == rows[name][0] else "✗")
            right += truth.label == rows[name][0]
    text = f"10 photos, 8 with a known class, accuracy {right / 8:.1%} ({right} of 8); 1 unreadable"
    assert view.summary.text() == text
    assert ended.args == [JobEnd(JobKind.PREDICT_FOLDER, "Predict a test folder", Ending.DONE, text)]
    view.grab().save(str(tmp_path / "test-folder.png"))


def test_columns_sort(qtbot, session, tiny_model, test_folder):
    session.use_model_file(tiny_model)
    view = PredictFolderView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(session.job_ended, timeout=30_000):
        view.run(session, test_folder)
    view.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    confidences = [float(row[3].rstrip("%")) for row in table(view) if row[3]]
    assert confidences == sorted(confidences, reverse=True) and len(confidences) == 9
    assert table(view)[-1][3] == ""  # the unreadable file has none
    view.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    names = [row[0] for row in table(view)]
    assert names == sorted(names, key=str.casefold)
    view.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    marks = [row[4] for row in table(view)]
    assert marks == sorted(marks, key=["", "✗", "✓"].index, reverse=True)


def test_without_a_model_nothing_runs(qtbot, session, test_folder):
    view = PredictFolderView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(session.notice, timeout=1_000) as ended:
        assert not view.run(session, test_folder)
    assert "no model yet" in ended.args[1]
    assert "No model yet" in view.summary.text() and view.model.rowCount() == 0


def test_an_empty_folder_says_so(qtbot, session, tiny_model, tmp_path):
    session.use_model_file(tiny_model)
    (tmp_path / "empty").mkdir()
    view = PredictFolderView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(session.job_ended, timeout=30_000):
        assert view.run(session, tmp_path / "empty")
    assert view.summary.text() == f"No photos in {tmp_path / 'empty'}"
