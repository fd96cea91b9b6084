"""The command line under hostile use: absurd numbers, signals from a terminal or a service manager, file names
that are not UTF-8 or that a spreadsheet would run as a formula, label CSVs from another country's spreadsheet."""

from __future__ import annotations

import argparse
import csv
import io
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lakeview.cli.console import EXIT_INTERRUPTED, ctrl_c_stops, signals_interrupt
from lakeview.cli.main import build_parser, main
from lakeview.core.atomic import atomic_writer
from lakeview.core.csv_cells import escape_name, existing_name, name_cell, name_candidates, unescape_name
from lakeview.core.datasets.dataset import DatasetError
from lakeview.core.datasets.csv_importer import from_csv
from lakeview.core.models.model_file import ModelMeta, save_model
from lakeview.core.models.network import bare_network

from photo_tools import COLOURS, make_class_folders, make_photo
from hostile_tools import RAW_NAMES, REPO, as_a_terminal_job, raw_name, run_lakeview, tree_hashes

FORMULA_NAMES = ("=HYPERLINK(1).jpg", "+1.jpg", "-2.jpg", "@SUM.jpg", "'=already quoted.jpg")


def leftovers(folder: Path) -> list[str]:
    """Temporary files a writer left behind anywhere under `folder`."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.tmp"))


def all_actions(parser: argparse.ArgumentParser):
    """Every argument of every command and sub-command."""
    for action in parser._actions:
        yield parser.prog, action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from all_actions(sub)


# --- item 14: arguments -------------------------------------------------------------------------------------

def test_no_option_takes_a_bare_int_or_float():
    """A bare int or float lets 0, -1, nan or 1e9 through to a ZeroDivisionError or a silent no-op."""
    loose = [(prog, action.dest) for prog, action in all_actions(build_parser()) if action.type in (int, float)]
    assert loose == []


@pytest.mark.parametrize("argv, option", [
    ("classify F --model M --top-k 0", "--top-k"),
    ("classify F --model M --bs 0", "--bs"),
    ("classify F --model M --bs -1", "--bs"),
    ("classify F --model M --min-confidence 1.5", "--min-confidence"),
    ("classify F --model M --min-confidence -0.1", "--min-confidence"),
    ("classify F --model M --min-confidence nan", "--min-confidence"),
    ("train D --out M --bs 0", "--bs"),
    ("train D --out M --size 0", "--size"),
    ("train D --out M --size 20000", "--size"),
    ("train D --out M --size big", "--size"),
    ("train D --out M --epochs -1", "--epochs"),
    ("train D --out M --unfreeze-epochs 1.5", "--unfreeze-epochs"),
    ("train D --out M --lr 0", "--lr"),
    ("train D --out M --unfreeze-lr inf", "--unfreeze-lr"),
    ("train D --out M --valid-pct 1", "--valid-pct"),
    ("train D --out M --valid-pct -0.2", "--valid-pct"),
    ("train D --out M --workers -1", "--workers"),
    ("train D --out M --workers 100000", "--workers"),
    ("train D --out M --seed x", "--seed"),
    ("lr-find D --iterations 0", "--iterations"),
    ("lr-find D --bs -3", "--bs"),
    ("evaluate D --model M --top -1", "--top"),
    ("evaluate D --model M --bs 0", "--bs"),
    ("catalog import D --valid-pct 2", "--valid-pct"),
    ("classify F --model M --device gpu", "--device"),
    ("train D --out M --layout regex --pattern ([a-z", "--pattern"),
    ("evaluate D --model M --layout regex --pattern [a-z]+", "--pattern"),
    ("train D --out M --device cuda:x", "--device"),
    ("classify F --model M --device cuda:99999999999999999999", "--device"),
    ("classify F --model M --bs 99999999999999999999", "--bs"),
    ("evaluate D --model M --bs 4097", "--bs"),
    ("train D --out M --bs 99999999999999999999", "--bs"),
    ("lr-find D --bs 100000", "--bs"),
    ("catalog retrain --device tpu", "--device"),
    ("catalog retrain --arch vgg99", "--arch"),
    ("catalog label a.jpg --as ' '", "--as"),
])
def test_out_of_range_numbers_are_usage_errors(argv, option, capsys):
    with pytest.raises(SystemExit) as caught:
        main(shlex.split(argv))
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {option}:" in err and "Traceback" not in err


def test_the_largest_seed_trains_instead_of_overflowing(tmp_path, capsys):
    """--seed 18446744073709551615 passed its check and then overflowed torch's 64-bit seed: a traceback."""
    data = make_class_folders(tmp_path / "photos", per_class=3)
    out = tmp_path / "m.lvmodel"
    for seed in ("18446744073709551615", "-9223372036854775808"):
        assert main(["train", str(data), "--out", str(out), "--arch", "tiny", "--weights", "none", "--size", "32",
                     "--epochs", "1", "--unfreeze-epochs", "0", "--device", "cpu", "--quiet", "--seed", seed]) in (0, 1)
        assert out.exists() and "Traceback" not in capsys.readouterr().err
        out.unlink()


def test_evaluate_names_the_classes_when_none_match_and_the_photos_when_none_decode(tmp_path, tiny_model, capsys):
    """A split whose labels the model does not know, or whose every photo fails to decode (a torch.stack
    traceback before), is one sentence, with the failures listed."""
    data = make_class_folders(tmp_path / "photos", per_class=3)
    other = save_model(tmp_path / "other.lvmodel", bare_network("tiny", 2),
                       ModelMeta(arch="tiny", classes=["cat", "dog"], size=32))
    assert main(["evaluate", str(data), "--model", str(other), "--split", "train", "--quiet", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "the model knows 'cat', 'dog'; the photos are labelled 'blue', 'red'" in err and "Traceback" not in err
    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    for photo in data.rglob("*.jpg"):
        Image.fromarray(noise).save(photo.with_suffix(".png"))
        photo.unlink()
        data_bytes = photo.with_suffix(".png").read_bytes()  # the header still reads; the pixels do not
        photo.with_suffix(".png").write_bytes(data_bytes[:len(data_bytes) // 2])
    assert main(["evaluate", str(data), "--model", str(tiny_model), "--split", "train", "--quiet",
                 "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "could be classified" in err and "truncated" in err and "Traceback" not in err


def test_usage_errors_in_a_real_process(tmp_path):
    finished = run_lakeview("classify", tmp_path, "--model", tmp_path / "m.lvmodel", "--top-k", "0").assert_clean()
    assert finished.code == 2 and "argument --top-k: must be at least 1, not 0" in finished.err
    finished = run_lakeview("catalog", "--catalog", tmp_path / "c.lvcatalog", "add", tmp_path / "nowhere").assert_clean()
    assert finished.code == 2 and "folder not found" in finished.err
    assert not (tmp_path / "c.lvcatalog").exists()


def test_a_device_this_machine_lacks_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    data = make_class_folders(tmp_path / "photos", per_class=2)
    assert main(["train", str(data), "--out", str(tmp_path / "m.lvmodel"), "--device", "cuda:1"]) == 2
    assert "no CUDA GPU is available" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["photos"]


def test_an_output_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    cases = [
        (["classify", "F", "--model", "M", "--csv", str(tmp_path)], "is a folder"),
        (["classify", "F", "--model", "M", "--csv", str(not_a_folder / "out.csv")], "is not a folder"),
        (["train", "D", "--out", str(not_a_folder / "deeper" / "m.lvmodel")], "is not a folder"),
        (["evaluate", "D", "--model", "M", "--json", str(tmp_path)], "is a folder"),
        (["lr-find", "D", "--plot", str(tmp_path / "curve.txt")], "must end in .png or .csv"),
        (["catalog", "export", "--csv", str(not_a_folder / "labels.csv")], "is not a folder"),
        (["catalog", "export", "--into", str(not_a_folder)], "is a file, not a folder"),
        (["classify", "F", "--model", "M", "--copy-into", str(not_a_folder)], "is a file, not a folder"),
        (["classify", "F", "--model", "M", "--move-into", str(tmp_path / "new"), "--journal", str(tmp_path)],
         "is a folder"),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
        assert message in capsys.readouterr().err, argv


def test_a_label_function_that_fails_to_load_is_one_sentence(tmp_path, capsys):
    module = tmp_path / "labels.py"
    module.write_text("def colour(path):\n    return (\n")
    data = make_class_folders(tmp_path / "photos", per_class=2)
    argv = ["train", str(data), "--out", str(tmp_path / "m.lvmodel"), "--layout", "func", "--label-func", f"{module}:colour"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "cannot use --label-func" in err and "SyntaxError" in err and "Traceback" not in err


@pytest.mark.slow
def test_a_csv_that_cannot_be_written_in_full_is_one_sentence_and_no_leftovers(r18_model, tmp_path):
    import resource

    folder = tmp_path / "odd"
    odd_photos(folder)
    out = tmp_path / "out" / "predictions.csv"
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))  # noqa: E731 (a disk that fills up)
    finished = run_lakeview("classify", folder, "--model", r18_model, "--csv", out, "--quiet", preexec_fn=limit)
    finished.assert_clean()
    assert finished.code == 2 and f"lakeview: error: cannot write {out}: File too large" in finished.err
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.fixture
def tiny_model(tmp_path) -> Path:
    torch.manual_seed(0)
    return save_model(tmp_path / "tiny.lvmodel", bare_network("tiny", 2), ModelMeta(arch="tiny", classes=["blue", "red"], size=32))


@pytest.fixture
def r18_model(tmp_path) -> Path:
    """A model a child process can load (it does not know the in-process 'tiny' architecture)."""
    torch.manual_seed(0)
    return save_model(tmp_path / "r18.lvmodel", bare_network("resnet18", 2), ModelMeta(arch="resnet18", classes=["a", "b"], size=64))


def test_top_k_above_the_number_of_classes_lists_them_all(tiny_model, tmp_path, capsys):
    folder = tmp_path / "photos"
    for i in range(3):
        make_photo(folder / f"p{i}.jpg", seed=i)
    out = tmp_path / "out.csv"
    assert main(["classify", str(folder), "--model", str(tiny_model), "--top-k", "50", "--csv", str(out), "--quiet"]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 3
    assert all(sorted(part.split(":")[0] for part in row["top_k"].split(";")) == ["blue", "red"] for row in rows)


# --- item 7 (CSV side) and formula injection ----------------------------------------------------------------

@pytest.mark.parametrize("raw", RAW_NAMES + tuple(n.encode() for n in FORMULA_NAMES) + (b"a\\x41.jpg", b" spaced .jpg"))
def test_name_cells_round_trip_every_name(raw, tmp_path):
    name = os.fsdecode(raw)
    cell = name_cell(name)
    cell.encode("utf-8")  # any UTF-8 writer accepts it
    assert not cell.startswith(("=", "+", "-", "@"))
    (tmp_path / name).write_bytes(b"x")
    found = [c for c in name_candidates(cell) if (tmp_path / c).exists()]
    assert found[0] == name


def test_escaping_is_backslashreplace_of_the_bytes():
    assert escape_name(raw_name(b"DSC_\xff\xfe.jpg")) == "DSC_\\xff\\xfe.jpg"
    assert escape_name("Caf\u00e9.jpg") == "Caf\u00e9.jpg"
    assert unescape_name("DSC_\\xff\\xfe.jpg") == raw_name(b"DSC_\xff\xfe.jpg")


def odd_photos(folder: Path) -> list[Path]:
    """Photos under names that are not UTF-8 or that start like a formula."""
    names = [raw_name(raw) for raw in RAW_NAMES] + list(FORMULA_NAMES)
    return [make_photo(folder / name, COLOURS["red"] if i % 2 else COLOURS["blue"], seed=i) for i, name in enumerate(names)]


def test_classify_csv_writes_every_odd_name_and_reads_back_as_labels(tiny_model, tmp_path):
    folder = tmp_path / "odd"
    photos = odd_photos(folder)
    out = tmp_path / "predictions.csv"
    assert main(["classify", str(folder), "--model", str(tiny_model), "--csv", str(out), "--quiet"]) == 0
    text = out.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(photos)
    assert "DSC_\\xff\\xfe.jpg" in text
    assert {row["file"][:2] for row in rows if row["file"].lstrip("'")[0] in "=+-@"} == {"'=", "'+", "'-", "'@"}
    # The predictions CSV (file,label,...) is a labels CSV that LakeView's own import reads back exactly.
    data = from_csv(folder, out, valid_pct=0)
    assert sorted(p.path.name for p in data.train) == sorted(p.name for p in photos)
    assert data.skipped == []


@pytest.mark.slow
def test_classify_to_standard_output_with_odd_names_in_a_real_process(r18_model, tmp_path):
    folder = tmp_path / "odd"
    photos = odd_photos(folder)
    finished = run_lakeview("classify", folder, "--model", r18_model, "--quiet").assert_clean()
    assert finished.code == 0, finished.err
    rows = list(csv.reader(io.StringIO(finished.out)))
    assert len(rows) == 1 + len(photos)
    assert sorted(existing_name(r[0], folder) for r in rows[1:]) == sorted(p.name for p in photos)


@pytest.mark.slow
def test_a_reader_that_closes_the_output_early_is_one_sentence(r18_model, tmp_path):
    folder = tmp_path / "photos"
    for i in range(4):
        make_photo(folder / f"p{i}.jpg", seed=i)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen([sys.executable, "-m", "lakeview", "classify", str(folder), "--model", str(r18_model),
                                "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    process.stdout.close()  # `| head -0`: the reader is gone before the first row
    with process.stderr:
        err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 2
    assert "output was closed before the end" in err and "Traceback" not in err and "Exception ignored" not in err


def test_class_names_that_are_not_utf8_or_look_like_formulas_are_written_safely(tmp_path):
    classes = [raw_name(b"bl\xffue"), "=red"]
    model = save_model(tmp_path / "odd.lvmodel", bare_network("tiny", 2), ModelMeta(arch="tiny", classes=classes, size=32))
    folder = tmp_path / "photos"
    make_photo(folder / "a.jpg")
    out = tmp_path / "out.csv"
    assert main(["classify", str(folder), "--model", str(model), "--csv", str(out), "--quiet"]) == 0
    [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["label"] in ("bl\\xffue", "'=red")
    assert row["top_k"].startswith(("bl\\xffue:", "'=red:"))


def test_catalog_export_csv_escapes_names_and_neutralises_formulas(tmp_path):
    from lakeview.core.catalog import Catalog

    folder = tmp_path / "odd"
    photos = odd_photos(folder)
    labels = ["=cmd('calc')", "+lake", "-1", "@home", "plain"]
    rows = [(path, labels[i % len(labels)]) for i, path in enumerate(photos)]
    with Catalog(tmp_path / "c.lvcatalog") as catalog:
        catalog.add_photos(photos)
        catalog.ensure_classes(labels)
        for path, label in rows:
            catalog.set_labels([path], label)
    out = tmp_path / "labels.csv"
    assert main(["catalog", "--catalog", str(tmp_path / "c.lvcatalog"), "export", "--csv", str(out)]) == 0
    written = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))[1:]
    assert len(written) == len(photos)
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in written for cell in row)
    data = from_csv(folder, out, valid_pct=0, check_images=False)
    assert sorted((p.path.name, p.label) for p in data.train) == sorted((p.name, label) for p, label in rows)
    assert leftovers(tmp_path) == []


def test_a_file_really_named_with_a_quote_is_kept(tmp_path):
    folder = tmp_path / "data"
    make_photo(folder / "'=a.jpg", seed=1)
    make_photo(folder / "=b.jpg", seed=2)
    make_photo(folder / "c.jpg", seed=3)
    (folder / "labels.csv").write_text("name,label\n'=a.jpg,x\n'=b.jpg,y\nc.jpg,'@z\n", encoding="utf-8")
    data = from_csv(folder, valid_pct=0)
    assert sorted((p.path.name, p.label) for p in data.train) == [("'=a.jpg", "x"), ("=b.jpg", "y"), ("c.jpg", "@z")]


# --- item 12: signals ---------------------------------------------------------------------------------------

def skip_if_ignored(signum: int) -> None:
    """Under nohup (or as a background job) the signal is ignored, and LakeView rightly leaves it so."""
    if signal.getsignal(signum) == signal.SIG_IGN:
        pytest.skip(f"{signal.Signals(signum).name} is ignored in this test run")


def test_sigterm_outside_a_job_ends_the_command_like_ctrl_c(tiny_model, tmp_path, monkeypatch, capsys):
    import lakeview.core.models.model_file as model_file

    def load_then_get_killed(path):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this
        raise AssertionError("SIGTERM was not turned into a stop")

    monkeypatch.setattr(model_file, "load_model", load_then_get_killed)
    previous = signal.getsignal(signal.SIGTERM)
    assert main(["classify", str(tmp_path), "--model", str(tiny_model)]) == EXIT_INTERRUPTED
    assert "lakeview: stopped" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is previous


def test_a_stopped_job_that_nobody_caught_still_ends_cleanly(tiny_model, tmp_path, monkeypatch, capsys):
    import lakeview.core.models.model_file as model_file
    from lakeview.core.jobs import Stopped

    def stopped(path):
        raise Stopped()

    monkeypatch.setattr(model_file, "load_model", stopped)
    assert main(["classify", str(tmp_path), "--model", str(tiny_model)]) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "lakeview: stopped" in err and "Traceback" not in err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_an_interrupted_write_leaves_no_temporary_file(signum, tmp_path):
    skip_if_ignored(signum)
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), signals_interrupt():
        with atomic_writer(target, "w") as handle:
            handle.write("half of the new")
            os.kill(os.getpid(), signum)
            time.sleep(5)
    assert target.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["out.csv"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_during_a_job_sets_the_flag_and_a_second_aborts(signum):
    skip_if_ignored(signum)
    with ctrl_c_stops() as stop:
        os.kill(os.getpid(), signum)
        deadline = time.monotonic() + 5
        while not stop() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stop()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signum)
            time.sleep(5)


def start_lakeview(*args) -> subprocess.Popen:
    """`python -m lakeview ARGS` as its own process group (a terminal's job), for signals."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    return subprocess.Popen([sys.executable, "-m", "lakeview", *map(os.fspath, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="backslashreplace", env=env,
                            start_new_session=True, preexec_fn=as_a_terminal_job)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP])
def test_train_with_workers_stops_on_a_signal_to_the_process_group(signum, tmp_path):
    data = make_class_folders(tmp_path / "photos", per_class=12, size=(40, 32))
    out = tmp_path / "models" / "m.lvmodel"
    process = start_lakeview("train", data, "--arch", "resnet18", "--weights", "none", "--size", "32", "--bs", "4",
                             "--workers", "2", "--epochs", "50", "--unfreeze-epochs", "0", "--out", out)
    for line in process.stderr:
        if line.startswith("resnet18 on "):  # training starts: the workers are being started
            break
    time.sleep(1)
    os.killpg(process.pid, signum)  # what a terminal does: every process of the job gets it
    stdout, err = process.communicate(timeout=120)
    assert process.returncode == EXIT_INTERRUPTED, err
    assert "stopped; nothing written" in err
    assert "Traceback" not in err and "exited unexpectedly" not in err and "resource_tracker" not in err
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_classify_stops_on_sigterm_and_sighup_and_writes_no_csv(signum, r18_model, tmp_path):
    folder = tmp_path / "many"
    for i in range(150):
        make_photo(folder / f"p{i:03}.jpg", size=(96, 72), seed=i)
    before = tree_hashes(folder)
    out = tmp_path / "out" / "predictions.csv"
    process = start_lakeview("classify", folder, "--model", r18_model, "--csv", out, "--bs", "2")
    for line in process.stderr:
        if "photo(s); classes" in line:
            break
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == EXIT_INTERRUPTED, err
    assert "no CSV written" in err and "Traceback" not in err
    assert not out.exists() and leftovers(tmp_path) == []
    assert tree_hashes(folder) == before


# --- CSV files someone else made ------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", [" =1+1", "  @SUM(A1)", " -2"])
def test_a_formula_after_leading_spaces_is_neutralised_and_reads_back(cell):
    from lakeview.core.csv_cells import spreadsheet_safe, text_cell, unquote

    assert text_cell(cell) == "'" + cell
    assert unquote(spreadsheet_safe(cell)) == cell
    assert spreadsheet_safe("a =1") == "a =1"


def test_a_label_csv_that_is_a_pipe_or_a_folder_is_refused_without_hanging(tmp_path):
    make_photo(tmp_path / "data" / "a" / "x.jpg")
    os.mkfifo(tmp_path / "data" / "labels.csv")
    (tmp_path / "data" / "folder.csv").mkdir()
    for name, says in (("labels.csv", "is a named pipe (FIFO), not a CSV file"), ("folder.csv", "is a folder, not a CSV file")):
        done = run_lakeview("train", tmp_path / "data", "--layout", "csv", "--csv", name, "--arch", "resnet18",
                            "--out", tmp_path / "m.lvmodel", timeout=60).assert_clean()
        assert done.code == 2 and says in done.err, done.err
    assert not (tmp_path / "m.lvmodel").exists()


def test_odd_label_csv_contents_are_reported_per_row_not_as_a_traceback(tmp_path):
    folder = tmp_path / "data"
    for i, name in enumerate(("a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg")):
        make_photo(folder / name, seed=i)
    rows = (b"name,label\n" + b"x" * 300 + b".jpg,red\n"   # a name longer than any file system allows
            + b"a.jpg,red\nb.jpg,blue\nc.jpg,gr\x00een\n"     # a NUL byte in a label
            + b'd.jpg,"unclosed\ne.jpg,blue\n')                # a quote never closed swallows the lines after it
    (folder / "labels.csv").write_bytes(rows)
    data = from_csv(folder, valid_pct=0)
    assert sorted((p.path.name, p.label) for p in data.train) == [("a.jpg", "red"), ("b.jpg", "blue")]
    reasons = " | ".join(str(s) for s in data.skipped)
    assert "File name too long" in reasons and "NUL byte" in reasons and "runs over several lines" in reasons


def test_a_label_csv_whose_first_cell_is_too_long_for_a_name_is_read(tmp_path):
    folder = tmp_path / "data"
    make_photo(folder / "a.jpg", seed=1)
    make_photo(folder / "b.jpg", seed=2)
    (folder / "labels.csv").write_text("x" * 5000 + ",label\na.jpg,red\nb.jpg,blue\n", encoding="utf-8")
    data = from_csv(folder, valid_pct=0, check_images=False)
    assert sorted(p.label for p in data.train) == ["blue", "red"]
    assert data.skipped == []  # the long first cell was taken for a header, as "label" beside it says


@pytest.mark.parametrize("command", ["classify", "export"])
def test_a_csv_written_to_a_pipe_or_through_a_link_keeps_the_pipe_and_the_link(tiny_model, tmp_path, command):
    """`--csv` naming a pipe (what `/dev/stdout` or a shell's `>(gzip > x.gz)` is) used to be replaced by a file,
    so the reader waited forever; a link to a file was replaced by a file, the file it named left unchanged."""
    import threading

    from lakeview.core.catalog import Catalog

    folder = tmp_path / "photos"
    photos = [make_photo(folder / f"p{i}.jpg", seed=i) for i in range(3)]
    with Catalog(tmp_path / "c.lvcatalog") as catalog:
        catalog.add_photos(photos)
        catalog.ensure_classes(["red"])
        catalog.set_labels(photos, "red")

    def run(out: Path) -> int:
        if command == "classify":
            return main(["classify", str(folder), "--model", str(tiny_model), "--csv", str(out), "--quiet"])
        return main(["catalog", "--catalog", str(tmp_path / "c.lvcatalog"), "export", "--csv", str(out)])

    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    assert run(pipe) == 0
    reader.join(timeout=60)
    assert received and len(received[0].decode().splitlines()) == 4
    assert pipe.is_fifo() and leftovers(tmp_path) == []

    (tmp_path / "real.csv").write_text("old")
    (tmp_path / "link.csv").symlink_to("real.csv")
    assert run(tmp_path / "link.csv") == 0
    assert (tmp_path / "link.csv").is_symlink()
    assert len((tmp_path / "real.csv").read_text().splitlines()) == 4


def test_a_label_csv_written_by_a_shell_loop_with_raw_byte_names_reads_them(tmp_path):
    """`for f in *; do echo "$f,lake"; done > labels.csv` writes names as their bytes, which are not UTF-8."""
    folder = tmp_path / "data"
    for i, raw in enumerate(RAW_NAMES):
        make_photo(folder / raw_name(raw), seed=i)
    make_photo(folder / "sky.jpg", seed=9)
    (folder / "labels.csv").write_bytes(b"".join(raw + b",lake\n" for raw in RAW_NAMES) + b"sky.jpg,sky\n")
    data = from_csv(folder, valid_pct=0)
    assert sorted(os.fsencode(p.path.name) for p in data.train if p.label == "lake") == sorted(RAW_NAMES)
    assert data.skipped == []


def test_a_latin1_label_csv_matches_utf8_names_but_a_latin1_label_is_refused_as_before(tmp_path):
    folder = tmp_path / "data"
    make_photo(folder / "Müller.jpg", seed=1)
    make_photo(folder / "Ærø.jpg", seed=2)
    (folder / "labels.csv").write_bytes("name;label\nMüller.jpg;street\nÆrø.jpg;island\n".encode("cp1252"))
    data = from_csv(folder, valid_pct=0)
    assert sorted((p.path.name, p.label) for p in data.train) == [("Müller.jpg", "street"), ("Ærø.jpg", "island")]
    assert data.skipped == []
    (folder / "labels.csv").write_bytes("name;label\nMüller.jpg;Straße\n".encode("cp1252"))
    with pytest.raises(DatasetError, match=r"not UTF-8 text \(byte \d+\); save it as UTF-8 CSV"):
        from_csv(folder, valid_pct=0)


def test_a_spreadsheets_unicode_text_export_is_read(tmp_path):
    """Excel's "Unicode text": UTF-16 with a byte order mark, columns separated by tabs."""
    folder = tmp_path / "data"
    make_photo(folder / "a.jpg", seed=1)
    make_photo(folder / "b.jpg", seed=2)
    (folder / "labels.csv").write_bytes("name\tlabel\r\na.jpg\tred\r\nb.jpg\tblau\r\n".encode("utf-16"))
    data = from_csv(folder, valid_pct=0)
    assert sorted((p.path.name, p.label) for p in data.train) == [("a.jpg", "red"), ("b.jpg", "blau")]


def test_names_and_labels_quoted_for_a_formula_after_spaces_read_back(tmp_path):
    from lakeview.core.csv_cells import name_cell, text_cell

    folder = tmp_path / "data"
    make_photo(folder / " =a.jpg", seed=1)
    make_photo(folder / "b.jpg", seed=2)
    rows = [(name_cell(" =a.jpg"), text_cell(" =1+1")), (name_cell("b.jpg"), text_cell("sky"))]
    assert rows[0] == ("' =a.jpg", "' =1+1")
    with open(folder / "labels.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    data = from_csv(folder, valid_pct=0)
    assert sorted((p.path.name, p.label) for p in data.train) == [(" =a.jpg", "=1+1"), ("b.jpg", "sky")]


def test_a_csv_link_into_a_folder_that_refuses_writes_is_one_sentence(tmp_path, monkeypatch, capsys):
    """The file is written beside the link's target, whose errors name that folder: still one sentence."""
    import errno as errnos

    from lakeview.core import atomic
    from lakeview.core.catalog import Catalog

    photo = make_photo(tmp_path / "photos" / "a.jpg")
    with Catalog(tmp_path / "c.lvcatalog") as catalog:
        catalog.add_photos([photo])
        catalog.ensure_classes(["red"])
        catalog.set_labels([photo], "red")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "real.csv").write_text("old")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link.csv").symlink_to(tmp_path / "locked" / "real.csv")
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if Path(path).parent == tmp_path / "locked":
            raise PermissionError(errnos.EACCES, os.strerror(errnos.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "open", refusing_open)
    code = main(["catalog", "--catalog", str(tmp_path / "c.lvcatalog"), "export", "--csv",
                 str(tmp_path / "out" / "link.csv")])
    assert code == 2
    assert f"cannot write {tmp_path / 'out' / 'link.csv'}: Permission denied" in capsys.readouterr().err
    assert (tmp_path / "locked" / "real.csv").read_text() == "old"


_INTERRUPTED_IMPORT = """\
import ctypes, sys
from lakeview.cli import main as program

def parser_whose_import_is_interrupted():
    # What torch's import does for seconds at start-up: Python code run by an extension through PyRun_String.
    # A KeyboardInterrupt raised there is caught by main() all the same, but CPython remembers it.
    run = ctypes.pythonapi.PyRun_String
    run.restype, run.argtypes = ctypes.py_object, [ctypes.c_char_p, ctypes.c_int, ctypes.py_object, ctypes.py_object]
    run(b"raise KeyboardInterrupt", 257, {}, {})

program.build_parser = parser_whose_import_is_interrupted
sys.argv = ["lakeview", "classify"]
raise SystemExit(program.main())
"""


def test_ctrl_c_during_an_extensions_import_still_exits_130(tmp_path):
    """Ctrl+C 0.5-3 s after start (while torch imports) ended the process by SIGINT: -2 to a parent, 1 time in 4."""
    (tmp_path / "interrupted_cli.py").write_text(_INTERRUPTED_IMPORT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(tmp_path)]))
    # -m, as `python -m lakeview` runs: a script file would end through another exit path that hides it.
    result = subprocess.run([sys.executable, "-m", "interrupted_cli"], env=env, capture_output=True, timeout=120)
    assert result.returncode == EXIT_INTERRUPTED, result.stderr
    assert result.stderr.decode().strip() == "lakeview: stopped"


def test_class_names_reach_the_terminal_without_control_characters_and_capped(tmp_path, capsys):
    """A model file's class names went to stderr raw: an ESC sequence recoloured or rewrote the terminal, and
    10,000 names made one line of megabytes."""
    folder = tmp_path / "photos"
    make_photo(folder / "p.jpg", seed=1)
    classes = ["a\nb", "\x1b[2J\x1b[31mred"] + [f"c{i}" for i in range(28)]
    model = save_model(tmp_path / "m.lvmodel", bare_network("tiny", len(classes)),
                       ModelMeta(arch="tiny", classes=classes, size=32))
    assert main(["classify", str(folder), "--model", str(model), "--csv", str(tmp_path / "o.csv")]) == 0
    line = next(line for line in capsys.readouterr().err.splitlines() if "classes:" in line)
    assert "\x1b" not in line
    assert line.endswith("classes: a\\nb, \\x1b[2J\\x1b[31mred, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, "
                         "c12, c13, c14, c15, c16, c17 and 10 more")


@pytest.mark.parametrize("argv, option", [
    (["classify", "", "--model", "m.lvmodel"], "folder"),
    (["classify", "photos", "--model", ""], "--model"),
    (["classify", "photos", "--model", "m.lvmodel", "--copy-into", ""], "--copy-into"),
    (["classify", "photos", "--model", "m.lvmodel", "--csv", ""], "--csv"),
    (["evaluate", "data", "--model", ""], "--model"),
    (["train", "", "--out", "m.lvmodel"], "data"),
    (["train", "data", "--out", ""], "--out"),
])
def test_an_empty_name_is_a_usage_error_not_the_current_folder(argv, option, capsys):
    """`--copy-into ""` (a script's unset variable) copied every photo into the current folder, exit 0."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert f"argument {option}: an empty name is not a file or folder" in capsys.readouterr().err
