"""`lakeview catalog classify` killed half-way (SIGKILL: no handler runs) resumes where it stopped: the batches it
committed stay, and the next run classifies only the rest; `--all` classifies everything again."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lakeview.cli.main import main
from lakeview.core.catalog import Catalog
from lakeview.core.threads import torch_threads
from model_tools import add_model

PHOTOS = 20_000
TESTS = Path(__file__).parent
# A child process does not know the in-process "tiny" architecture: it registers it, then runs the CLI.
CHILD = ("import sys; sys.path.insert(0, sys.argv.pop(1)); from tiny_network import TINY; "
         "from lakeview.core.models.architectures import register; register(TINY); "
         "from lakeview.cli.main import main; sys.exit(main(sys.argv[1:]))")


def _library(tmp_path: Path, count: int) -> tuple[Path, str]:
    """`count` distinct 16x16 JPEGs catalogued, and a tiny model as the library's active version. The files
    share their pixels and differ in a JPEG comment (a distinct fingerprint each), so that making them is quick."""
    folder = tmp_path / "archive"
    encoded = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(encoded, "JPEG")
    jpeg = encoded.getvalue()
    for i in range(count):
        sub = folder / f"{i // 1000:02}"
        sub.mkdir(parents=True, exist_ok=True)
        comment = f"photo {i}".encode()
        (sub / f"p{i:05}.jpg").write_bytes(jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
                                           + jpeg[2:])
    path = tmp_path / "lib" / "catalog.sqlite"
    with Catalog(path) as catalog:
        assert catalog.add_folder(folder).added == count
        version = add_model(catalog, tmp_path / "tiny.lvmodel", size=16)
    return path, version


def _classify(path: Path, *args: str) -> subprocess.Popen:
    """The CLI in a child process, one torch thread (a tiny network on 16x16 photos gains nothing from more, and
    loses a lot to their waits on a busy machine)."""
    return subprocess.Popen([sys.executable, "-c", CHILD, str(TESTS), "catalog", "--catalog", str(path), "classify",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ | {"OMP_NUM_THREADS": "1"})


def _stored(path: Path, version: str) -> int:
    """Predictions of `version` on the photos as the catalog knows them, as another process sees them."""
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM predictions pr JOIN photos p ON p.id = pr.photo_id "
                          "WHERE pr.model_id = ? AND pr.fingerprint = p.fingerprint", (version,)).fetchone()[0]


@pytest.mark.slow
def test_a_kill_9_during_a_20000_photo_classification_then_classify_again_scores_only_the_rest(tmp_path, capsys):
    path, version = _library(tmp_path, PHOTOS)
    first = _classify(path)
    deadline = time.monotonic() + 120
    while _stored(path, version) < 1000 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    assert first.returncode == -signal.SIGKILL, "killed half-way, not finished"
    before = _stored(path, version)
    assert 0 < before < PHOTOS

    with torch_threads(1):
        assert main(["catalog", "--catalog", str(path), "classify"]) == 0

    err = capsys.readouterr().err
    rest = PHOTOS - before
    assert f"{rest:,} of {PHOTOS:,} photos to classify" in err
    assert f"classified {rest} photo(s)" in err
    assert f"{before:,} photos already classified by this model were left alone" in err
    assert _stored(path, version) == PHOTOS
    assert main(["catalog", "--catalog", str(path), "check"]) == 0


def test_catalog_classify_again_does_nothing_and_all_does_everything(tmp_path, capsys):
    path, version = _library(tmp_path, 40)
    for args, done in (((), 40), ((), 0), (("--all",), 40)):
        assert main(["catalog", "--catalog", str(path), "classify", *args]) == 0
        err = capsys.readouterr().err
        assert f"{done} of 40 photos to classify" in err and f"classified {done} photo(s)" in err
        if args == ():
            assert ("all 40 photos already classified by this model were left alone (--all classifies them "
                    "again)" in err) == (done == 0)
    assert _stored(path, version) == 40
