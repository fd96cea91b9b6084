"""The command line end to end: train, evaluate, classify to CSV, copy into folders, undo, exit codes."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys

import pytest
import torch

from lakeview.cli.main import main
from lakeview.core.models.model_file import ModelMeta, load_model, save_model
from lakeview.core.models.network import bare_network

from photo_tools import COLOURS, make_photo
from hostile_tools import as_a_terminal_job

TRAIN = ["--arch", "tiny", "--weights", "none", "--size", "32", "--bs", "4", "--quiet"]


@pytest.fixture
def trained_model(colour_folders, tmp_path, capsys):
    model = tmp_path / "colours.lvmodel"
    code = main(["train", str(colour_folders), *TRAIN, "--epochs", "2", "--unfreeze-epochs", "2",
                 "--lr", "1e-2", "--unfreeze-lr", "1e-2", "--out", str(model)])
    assert code == 0
    return model


@pytest.fixture
def holiday(tmp_path):
    folder = tmp_path / "holiday"
    for i in range(3):
        make_photo(folder / f"red_{i}.jpg", COLOURS["red"], seed=50 + i)
        make_photo(folder / f"blue_{i}.jpg", COLOURS["blue"], seed=60 + i)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


def test_train_writes_a_model_with_its_history(trained_model, capsys):
    captured = capsys.readouterr()
    assert "lakeview: warning: tiny starts from random weights" in captured.err
    assert "epoch" in captured.out and "unfrozen" in captured.out
    model = load_model(trained_model)
    assert model.classes == ["blue", "red"]
    phases = [h["phase"] for h in model.meta.history]
    assert phases[:2] == ["frozen (1 cached view)"] * 2 and phases[2:] in (["unfrozen"], ["unfrozen"] * 2)
    if len(phases) < 4:  # the unfrozen phase stopped paying: the output says so and which epoch was kept
        assert "Unfrozen phase ended after 1 of 2 epochs: no gain" in captured.out
    assert "error_rate" in model.meta.metrics



def test_evaluate_prints_and_saves_the_figures(trained_model, colour_folders, tmp_path, capsys):
    figures = tmp_path / "figures.json"
    assert main(["evaluate", str(colour_folders), "--model", str(trained_model), "--json", str(figures), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "error rate:" in out and "confusion matrix" in out and "top losses" in out
    import json

    data = json.loads(figures.read_text())
    assert data["photos"] == 8 and sum(map(sum, data["confusion_matrix"])) == 8


def test_classify_to_csv_lists_every_photo_and_the_broken_one(trained_model, holiday, tmp_path, capsys):
    out_csv = tmp_path / "predictions.csv"
    code = main(["classify", str(holiday), "--model", str(trained_model), "--csv", str(out_csv), "--quiet"])
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert [r["file"] for r in rows] == sorted(p.name for p in holiday.iterdir())
    assert list(rows[0]) == ["file", "label", "confidence", "top_k", "error"]
    broken = next(r for r in rows if r["file"] == "broken.jpg")
    assert broken["label"] == "" and broken["error"]
    good = [r for r in rows if r["file"] != "broken.jpg"]
    assert all(r["label"] in ("red", "blue") and 0.5 <= float(r["confidence"]) <= 1 for r in good)
    assert sum(r["label"] == r["file"].split("_")[0] for r in good) >= 5
    assert "broken.jpg" in capsys.readouterr().err


def test_classify_to_standard_output(trained_model, holiday, capsys):
    capsys.readouterr()
    main(["classify", str(holiday), "--model", str(trained_model), "--quiet", "--top-k", "1"])
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][0] == "file" and len(rows) == 8


def test_copy_into_class_folders_and_undo(trained_model, holiday, tmp_path, capsys):
    into = tmp_path / "sorted"
    before = {p.name: p.read_bytes() for p in holiday.iterdir()}

    assert main(["classify", str(holiday), "--model", str(trained_model), "--copy-into", str(into),
                 "--dry-run", "--quiet"]) == 1
    assert not into.exists()
    assert "dry run" in capsys.readouterr().err

    main(["classify", str(holiday), "--model", str(trained_model), "--copy-into", str(into), "--quiet"])
    copied = sorted(p.relative_to(into).as_posix() for p in into.rglob("*.jpg"))
    assert len(copied) == 6 and all(c.split("/")[0] in ("red", "blue") for c in copied)
    journal = next(into.glob(".lakeview-journal-*.jsonl"))
    assert f"lakeview undo {journal}" in capsys.readouterr().err

    assert main(["undo", str(journal)]) == 0
    assert list(into.rglob("*.jpg")) == []
    assert {p.name: p.read_bytes() for p in holiday.iterdir()} == before


def test_move_into_with_a_confidence_floor_and_undo(trained_model, holiday, tmp_path):
    into = tmp_path / "sorted"
    main(["classify", str(holiday), "--model", str(trained_model), "--move-into", str(into),
          "--min-confidence", "1", "--journal", str(tmp_path / "j.jsonl"), "--quiet"])
    assert sorted(p.name for p in holiday.iterdir()) == ["broken.jpg"]
    assert len(list((into / "_unsure").iterdir())) == 6
    assert main(["undo", str(tmp_path / "j.jsonl")]) == 0
    assert len(list(holiday.iterdir())) == 7


def test_lr_find_writes_its_curve(colour_folders, tmp_path, capsys):
    assert main(["lr-find", str(colour_folders), *TRAIN, "--iterations", "20",
                 "--plot", str(tmp_path / "curve.csv")]) == 0
    assert "suggested learning rate:" in capsys.readouterr().out
    assert (tmp_path / "curve.csv").read_text().startswith("lr,loss,raw_loss\n")
    assert main(["lr-find", str(colour_folders), *TRAIN, "--iterations", "20",
                 "--plot", str(tmp_path / "curve.png")]) == 0
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_other_layouts_from_the_command_line(tmp_path, capsys):
    folder = tmp_path / "pets"
    for i in range(6):
        make_photo(folder / f"red_{i}.jpg", COLOURS["red"], seed=i)
        make_photo(folder / f"blue_{i}.jpg", COLOURS["blue"], seed=10 + i)
    (tmp_path / "labels.csv").write_text("name,label\n" + "".join(f"{c}_{i},{c}\n" for c in ("red", "blue") for i in range(6)))
    module = tmp_path / "labels.py"
    module.write_text("def colour(path):\n    return path.name.split('_')[0]\n")
    layouts = [["--layout", "csv", "--csv", str(tmp_path / "labels.csv"), "--suffix", ".jpg"], ["--layout", "regex", "--pattern", r"([a-z]+)_\d+\.jpg$"],
               ["--layout", "func", "--label-func", f"{module}:colour"]]
    for layout in layouts:
        code = main(["train", str(folder), *TRAIN, *layout, "--epochs", "1", "--unfreeze-epochs", "0",
                     "--out", str(tmp_path / "m.lvmodel")])
        assert code == 0, (layout, capsys.readouterr().err)
        assert load_model(tmp_path / "m.lvmodel").classes == ["blue", "red"]


def test_usage_and_fatal_errors_exit_2(tmp_path, colour_folders, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["classify"])
    assert caught.value.code == 2
    assert main(["classify", str(tmp_path), "--model", str(tmp_path / "missing.lvmodel")]) == 2
    assert main(["evaluate", str(tmp_path / "nowhere"), "--model", str(tmp_path / "m.lvmodel")]) == 2
    assert main(["train", str(colour_folders), *TRAIN, "--layout", "regex", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "model file not found" in err and "--layout regex needs --pattern" in err


def _run_cli(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "lakeview", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=as_a_terminal_job, **kwargs)


def test_help_does_not_import_torch():
    code = ("import sys; from lakeview.cli.main import build_parser; build_parser().format_help(); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.slow
def test_ctrl_c_stops_classify_and_leaves_no_csv(tmp_path):
    torch.manual_seed(0)
    model = save_model(tmp_path / "r18.lvmodel", bare_network("resnet18", 2), ModelMeta(arch="resnet18", classes=["a", "b"], size=64))
    folder = tmp_path / "many"
    for i in range(400):
        make_photo(folder / f"p{i:03}.jpg", size=(96, 72), seed=i)
    out_csv = tmp_path / "out.csv"
    process = _run_cli("classify", str(folder), "--model", str(model), "--csv", str(out_csv), "--bs", "2")
    for line in process.stderr:
        if "photo(s); classes" in line:
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "no CSV written" in err
    assert sorted(os.listdir(tmp_path)) == ["many", "r18.lvmodel"]
