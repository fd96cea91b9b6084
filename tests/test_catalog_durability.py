"""Every correction the catalog reports as committed survives `kill -9` at any moment."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from lakeview.core.catalog import Catalog

from photo_tools import make_photo

KILLS = 60
SESSION = textwrap.dedent("""
    import sys
    from pathlib import Path
    from lakeview.core.catalog import Catalog
    catalog = Catalog(sys.argv[1])
    photos = sorted(Path(sys.argv[2]).iterdir())
    classes = catalog.class_names()
    step = catalog._db.execute("SELECT COUNT(*) FROM corrections").fetchone()[0]
    while True:
        step += 1
        label = classes[step % len(classes)]
        group = [photos[(step * 7 + k) % len(photos)] for k in range(1 + step % 3)]
        action = catalog.set_labels(group, label)
        if action is not None:
            print(action, label, *group, sep="\\t", flush=True)
""")


@pytest.mark.slow
def test_kill_9_never_loses_a_committed_correction(tmp_path):
    folder = tmp_path / "photos"
    original = make_photo(folder / "p000.jpg")
    for i in range(1, 120):
        os.link(original, folder / f"p{i:03}.jpg")
    path = tmp_path / "catalog.sqlite"
    with Catalog(path) as catalog:
        catalog.add_folder(folder)
        catalog.ensure_classes(["emerald", "louise", "moraine", "minnewanka"])
    script = tmp_path / "session.py"
    script.write_text(SESSION)
    rng = random.Random(1234)
    reported: dict[int, tuple[str, list[str]]] = {}

    for kill in range(KILLS):
        process = subprocess.Popen([sys.executable, str(script), str(path), str(folder)], stdout=subprocess.PIPE, text=True)
        lines = [process.stdout.readline()]
        reader = threading.Thread(target=lambda: lines.extend(process.stdout))
        reader.start()
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait()
        reader.join()
        process.stdout.close()
        for line in lines:
            if line.endswith("\n"):  # a line cut by the kill was not fully reported
                action, label, *group = line.rstrip("\n").split("\t")
                reported[int(action)] = (label, group)

        with Catalog(path) as catalog:
            assert catalog.integrity_check() == ["ok"], f"after kill {kill}"
            done = {row["action"]: row["name"] for row in catalog._db.execute(
                "SELECT c.action, cl.name FROM corrections c JOIN classes cl ON cl.id = c.new_class_id "
                "WHERE c.state = 'done' GROUP BY c.action")}
            lost = [a for a in reported if a not in done]
            assert not lost, f"after kill {kill}: committed actions {lost[:5]} are gone"
            assert all(done[a] == label for a, (label, _) in reported.items())
            latest = {row[0]: row[1] for row in catalog._db.execute(
                "SELECT p.path, cl.name FROM corrections c JOIN photos p ON p.id = c.photo_id "
                "JOIN classes cl ON cl.id = c.new_class_id WHERE c.id IN "
                "(SELECT MAX(id) FROM corrections WHERE state = 'done' GROUP BY photo_id)")}
            for photo, label in latest.items():
                assert catalog.label_of(photo).label == label, "a label and its history row were split"

    print(f"{KILLS} kills, {len(reported)} committed actions checked")
    assert len(reported) > KILLS, "the sessions made progress between kills"
