"""One writer at a time in the app: a label write waits its turn behind one chunk of a job's writes, first come
first served, and never for SQLite's busy timeout."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lakeview.core.catalog import Catalog
from lakeview.core.catalog import model_versions as model_records
from lakeview.core.catalog.write_turns import WriteTurns, write_turns
from lakeview.core.photos.fingerprint import PhotoFile

PHOTOS = 2_000
CHUNK = 400


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.001)


@pytest.fixture
def library(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("LAKEVIEW_CATALOG_TIMEOUT", "0.01")
    monkeypatch.setattr(model_records, "PREDICTIONS_PER_TRANSACTION", CHUNK)
    path = tmp_path / "lib" / "catalog.sqlite"
    with Catalog(path) as catalog:
        catalog.record_photos([PhotoFile(tmp_path / f"p{i:05}.jpg", 1, 1, f"fp{i}") for i in range(PHOTOS)])
        catalog.ensure_classes(["a", "b"])
        catalog.add_model("v1", tmp_path / "v1.lvmodel", "tiny", ["a", "b"], None, {}, "2026-01-01", "imported",
                          active=True)
    return path


def test_a_label_write_waits_for_one_chunk_of_a_job_not_the_busy_timeout(library, tmp_path):
    photo = tmp_path / "p00007.jpg"
    results = [(tmp_path / f"p{i:05}.jpg", [("b", 0.9), ("a", 0.1)]) for i in range(PHOTOS)]
    label_seen_at_chunk: list[bool] = []
    inside_first_chunk = threading.Event()
    failures: list[BaseException] = []

    def job() -> None:
        try:
            with Catalog(library) as catalog:
                store_chunk = catalog._store_prediction_chunk

                def observed_chunk(model_id, rows):
                    with catalog.all_or_nothing():  # holds this chunk's turn while the test looks in
                        label_seen_at_chunk.append(catalog.label_of(photo) is not None)
                        if len(label_seen_at_chunk) == 1:
                            inside_first_chunk.set()
                            wait_until(lambda: write_turns(library).waiting == 1, "the label write queues")
                            time.sleep(0.1)  # longer than the busy timeout: SQLite alone would refuse the label
                        return store_chunk(model_id, rows)

                catalog._store_prediction_chunk = observed_chunk
                catalog.store_predictions("v1", results)
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=job)
    with Catalog(library) as app:  # the window's connection, open before the job starts
        worker.start()
        try:
            assert inside_first_chunk.wait(30)
            assert app.set_labels([photo], "a") is not None
            assert app.label_of(photo).label == "a"
        finally:
            worker.join(60)
    assert not failures
    assert label_seen_at_chunk == [False] + [True] * (PHOTOS // CHUNK - 1)
    with Catalog(library) as catalog:
        assert catalog.prediction_of(tmp_path / f"p{PHOTOS - 1:05}.jpg")[0] == "v1"


def test_turns_are_served_in_the_order_they_were_asked():
    turns = WriteTurns()
    served: list[int] = []
    holder_may_leave, holding = threading.Event(), threading.Event()

    def writer(number: int) -> None:
        with turns.turn():
            served.append(number)

    def holder() -> None:
        with turns.turn():
            with turns.turn():  # the holder's own nested transaction does not queue behind the others
                holding.set()
                holder_may_leave.wait(30)

    first = threading.Thread(target=holder)
    first.start()
    assert holding.wait(30)
    writers = []
    for number in range(5):
        writers.append(threading.Thread(target=writer, args=(number,)))
        writers[-1].start()
        wait_until(lambda: turns.waiting == number + 1, f"writer {number} queues")
    holder_may_leave.set()
    for thread in [first, *writers]:
        thread.join(30)
    assert served == [0, 1, 2, 3, 4]
    assert turns.waiting == 0
