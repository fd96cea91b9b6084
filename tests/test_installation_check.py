"""`lakeview --self-test` (and `lakeview-gui --self-test`): the real window classifies three generated photos."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAKEVIEW_LOG_DIR=str(tmp_path / "logs"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), TMPDIR=str(tmp_path))
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_the_self_test_passes_and_leaves_the_users_library_alone(tmp_path):
    out = run([sys.executable, "-m", "lakeview", "--self-test"], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    report = out.stdout.strip().splitlines()
    assert len(report) == 1 and report[0].startswith("LakeView ") and " self-test passed: 3 photos classified" in report[0]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("lakeview-self-test-")] == []
    data = os.environ["LAKEVIEW_DATA_DIR"]  # the autouse fixture's folder: the self-test used its own
    assert not os.path.exists(data) or not os.listdir(data)


@pytest.mark.slow
def test_the_gui_script_honours_the_flag(tmp_path):
    code = "import sys; from lakeview.cli.main import main_gui; sys.argv = ['lakeview-gui', '--self-test']; sys.exit(main_gui())"
    out = run([sys.executable, "-c", code], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "self-test passed" in out.stdout


def test_a_failure_is_reported_with_its_reason_and_a_non_zero_code(qtbot, monkeypatch, capsys):
    from PySide6.QtWidgets import QApplication

    from lakeview.gui import installation_check
    from lakeview.gui.worker import RUNNING_THREADS

    def broken(folder):
        raise OSError("disk full")

    monkeypatch.setattr(installation_check, "_make_model_and_photos", broken)
    monkeypatch.setenv("LAKEVIEW_CACHE_DIR", os.environ["LAKEVIEW_CACHE_DIR"])  # restored after the test
    monkeypatch.setenv("LAKEVIEW_DATA_DIR", os.environ["LAKEVIEW_DATA_DIR"])
    code = installation_check.run_installation_check(QApplication.instance(), timeout_s=60)
    qtbot.waitUntil(lambda: not RUNNING_THREADS, timeout=10_000)
    assert code == installation_check.EXIT_FAILED
    report = capsys.readouterr().err
    assert "self-test FAILED while making a model and photos: " in report and "OSError: disk full" in report
