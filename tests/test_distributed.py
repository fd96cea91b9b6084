"""`lakeview train` and `lakeview classify` as two gloo ranks on the CPU, started by torchrun as a user starts them
(tests/distributed_rank.py adds the "tiny" network), beside the same commands run by one process.

One torchrun launch trains, classifies to a CSV and copies into class folders from a --files-from list; the tests
read what it left. One thread per rank (torchrun's default for several processes)."""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lakeview.cli.main import main
from lakeview.core.distributed import shard_of
from lakeview.core.models import head
from lakeview.core.models.model_file import load_model
from lakeview.core.placement.journal import JOURNAL_PREFIX

from photo_tools import COLOURS, make_class_folders, make_photo

RANK_SCRIPT = Path(__file__).with_name("distributed_rank.py")
TRAIN = ["--arch", "tiny", "--weights", "none", "--size", "32", "--bs", "4", "--quiet", "--epochs", "2",
         "--unfreeze-epochs", "2", "--lr", "1e-2", "--unfreeze-lr", "1e-2", "--no-augment", "--no-early-stop"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun(*argv: str, env: dict[str, str], **options) -> subprocess.Popen:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr",
               "127.0.0.1", "--master-port", str(free_port()), str(RANK_SCRIPT), *argv]
    return subprocess.Popen(command, env={**os.environ, "OMP_NUM_THREADS": "1", **env}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options)


@pytest.fixture(scope="module")
def launch(tmp_path_factory):
    """Single-process results (in this process), then one 2-rank launch of the same commands."""
    base = tmp_path_factory.mktemp("distributed")
    env = {"LAKEVIEW_CACHE_DIR": str(base / "cache"), "LAKEVIEW_DATA_DIR": str(base / "data"),
           "LAKEVIEW_WEIGHTS_MIRROR": "http://127.0.0.1:9/unreachable"}
    data = base / "colours"
    make_class_folders(data / "train", 12)
    make_class_folders(data / "valid", 4, seed=1000)
    holiday = base / "holiday"
    for i in range(4):
        make_photo(holiday / f"red_{i}.jpg", COLOURS["red"], seed=50 + i)
        make_photo(holiday / f"blue_{i}.jpg", COLOURS["blue"], seed=60 + i)
    (holiday / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    listed = sorted(p.name for p in holiday.iterdir())[::-1]  # an order of its own, kept in the CSV
    (base / "list.txt").write_text("\n".join(listed) + "\n")
    alone, out, writes = base / "alone", base / "out", base / "writes"
    for folder in (alone, out, writes):
        folder.mkdir()

    saved = dict(head.DEFAULT_DROPOUT)
    head.DEFAULT_DROPOUT.update({name: 0.0 for name in saved})
    old_env = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        assert main(["train", str(data), *TRAIN, "--out", str(alone / "model.lvmodel")]) == 0
        assert main(["classify", str(holiday), "--model", str(alone / "model.lvmodel"), "--quiet",
                     "--csv", str(alone / "predictions.csv")]) == 1
        assert main(["classify", str(holiday), "--model", str(alone / "model.lvmodel"), "--quiet", "--files-from",
                     str(base / "list.txt"), "--csv", str(alone / "listed.csv")]) == 1
    finally:
        head.DEFAULT_DROPOUT.update(saved)
        for name, value in old_env.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value

    run = torchrun("train", str(data), *TRAIN, "--out", str(out / "model.lvmodel"),
                   "--then", "classify", str(holiday), "--model", str(alone / "model.lvmodel"), "--quiet",
                   "--csv", str(out / "predictions.csv"),
                   "--then", "classify", str(holiday), "--model", str(alone / "model.lvmodel"), "--quiet",
                   "--files-from", str(base / "list.txt"), "--csv", str(out / "listed.csv"),
                   "--copy-into", str(out / "sorted"),
                   env={**env, "LAKEVIEW_TEST_NO_DROPOUT": "1", "LAKEVIEW_TEST_WATCH": str(out),
                        "LAKEVIEW_TEST_WRITES": str(writes)})
    stdout, stderr = run.communicate(timeout=240)
    assert run.returncode == 0, stderr
    return dict(alone=alone, out=out, writes=writes, stdout=stdout, stderr=stderr, holiday=holiday, listed=listed)


def test_every_command_ran_on_both_ranks_and_rank_0_alone_printed(launch):
    assert "exit codes: 0 1 1" in launch["stdout"]
    assert launch["stdout"].count("epoch  phase") == 1  # the table's header, from rank 0 only
    assert launch["stderr"].count("classified 9 photos on 2 processes (5 and 4)") == 2
    assert launch["stderr"].count("broken.jpg:") == 2  # skipped, listed once per command


def test_the_model_of_two_ranks_equals_the_single_process_one(launch):
    alone, together = load_model(launch["alone"] / "model.lvmodel"), load_model(launch["out"] / "model.lvmodel")
    one, two = alone.network.state_dict(), together.network.state_dict()
    assert one.keys() == two.keys()
    for name in one:
        assert torch.allclose(one[name].float(), two[name].float(), rtol=1e-4, atol=1e-5), name
    assert any(not torch.equal(one[k], torch.zeros_like(one[k])) for k in one)
    history = [(h["phase"], h["error_rate"]) for h in together.meta.history]
    assert history == [(h["phase"], h["error_rate"]) for h in alone.meta.history]
    assert [h["train_loss"] for h in together.meta.history] == pytest.approx(
        [h["train_loss"] for h in alone.meta.history], rel=1e-4)


def test_the_merged_csv_equals_the_single_process_csv_row_for_row(launch):
    merged = (launch["out"] / "predictions.csv").read_text()
    assert merged == (launch["alone"] / "predictions.csv").read_text()
    listed = (launch["out"] / "listed.csv").read_text()
    assert listed == (launch["alone"] / "listed.csv").read_text()
    assert [row["file"] for row in csv.DictReader(io.StringIO(listed))] == launch["listed"]


def test_rank_0_alone_writes_files(launch):
    rank0 = (launch["writes"] / "rank0.txt").read_text()
    assert (launch["writes"] / "rank1.txt").read_text() == ""
    for name in ("model.lvmodel", "predictions.csv", "listed.csv", JOURNAL_PREFIX):
        assert name in rank0, name
    journals = list((launch["out"] / "sorted").glob(f"{JOURNAL_PREFIX}*"))
    placed = sorted(p.relative_to(launch["out"] / "sorted") for p in (launch["out"] / "sorted").rglob("*.jpg"))
    assert len(journals) == 1 and len(placed) == 8
    rows = {r["file"]: r["label"] for r in csv.DictReader(io.StringIO((launch["out"] / "listed.csv").read_text()))}
    assert placed == sorted(Path(rows[p.name]) / p.name for p in placed)
    assert not [p for p in launch["out"].rglob("*.tmp")]


def test_shards_are_contiguous_even_and_cover_every_item():
    for count in (0, 1, 7, 8, 9):
        shards = [shard_of(count, rank, 3) for rank in range(3)]
        assert [i for s in shards for i in s] == list(range(count))
        assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_ctrl_c_on_torchrun_stops_both_ranks_and_writes_no_model(colour_folders, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    run = torchrun("train", str(colour_folders), "--arch", "tiny", "--weights", "none", "--size", "32", "--bs", "4",
                   "--quiet", "--epochs", "1", "--unfreeze-epochs", "500", "--no-early-stop",
                   "--out", str(out / "model.lvmodel"), env={}, start_new_session=True)
    try:
        started = time.monotonic()
        while True:  # rank 0 prints each epoch's line as it ends: stop once the unfrozen phase is under way
            line = run.stdout.readline()
            assert line and time.monotonic() - started < 120, "no unfrozen epoch came"
            if "unfrozen" in line:
                break
        run.send_signal(signal.SIGINT)
        stdout, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.communicate()
    assert "stopped; nothing written" in stderr
    assert "exitcode  : 130" in stderr or "exit codes: 130" in stdout
    assert list(out.iterdir()) == []


def act_as_a_team_of_one(monkeypatch) -> None:
    """The environment torchrun gives a launch of one process, for this process: lakeview joins a gloo group of
    one, through the same code as any launch (cheap enough to run in the test process)."""
    for name, value in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1",
                        "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())}.items():
        monkeypatch.setenv(name, value)


def test_a_team_of_one_trains_the_model_one_process_trains(colour_folders, tmp_path, monkeypatch, capsys):
    arguments = ["train", str(colour_folders), *TRAIN]
    assert main([*arguments, "--out", str(tmp_path / "alone.lvmodel")]) == 0
    act_as_a_team_of_one(monkeypatch)
    assert main([*arguments, "--out", str(tmp_path / "team.lvmodel")]) == 0
    one = load_model(tmp_path / "alone.lvmodel").network.state_dict()
    team = load_model(tmp_path / "team.lvmodel").network.state_dict()
    for name in one:
        assert torch.allclose(one[name].float(), team[name].float(), rtol=1e-5, atol=1e-6), name


def test_a_batch_the_ranks_cannot_share_is_refused(colour_folders, tmp_path, monkeypatch, capsys):
    act_as_a_team_of_one(monkeypatch)
    assert main(["train", str(colour_folders), *TRAIN, "--bs", "1", "--out", str(tmp_path / "m.lvmodel")]) == 2
    assert "--bs 1 cannot be shared by 1 processes" in capsys.readouterr().err
    assert not (tmp_path / "m.lvmodel").exists()
