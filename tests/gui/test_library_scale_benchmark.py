"""benchmarks/library_scale.py takes every step on a tiny library and reports figures for each (no timing is
asserted: this keeps the benchmark from rotting as the app changes)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "library_scale.py"
COUNT = 60


def load_benchmark():
    spec = importlib.util.spec_from_file_location("library_scale", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_step_runs_and_reports_figures(qtbot, tmp_path):
    bench = load_benchmark()
    folder = bench.make_library(tmp_path / "photos", COUNT)
    assert len(list(folder.rglob("*.jpg"))) == COUNT
    steps = list(bench.STEP_GROUPS)
    work = tmp_path / "work"
    work.mkdir()
    results = (bench.run_phase("first", work, folder, COUNT, steps, timeout_s=60, settle_s=0.05)
               + bench.run_phase("second", work, folder, COUNT, steps, timeout_s=60, settle_s=0.05))

    assert [r.step for r in results] == [*bench.FIRST_STEPS, *bench.SECOND_STEPS]
    for r in results:
        assert r.status == "ok", f"{r.step}: {r.status} ({r.note})"
        assert r.wall_s is not None and r.wall_s >= 0, r.step
        assert r.stall_ms is not None and r.stall_ms >= 0, r.step
        assert r.rss_mb > 0, r.step
    notes = {r.step: r.note for r in results}
    assert notes["select all"] == f"{COUNT} selected"
    assert notes["label"].startswith(f"1 {bench.CLASS_NAME} ({COUNT})")
    assert notes["undo"].startswith(f"1 {bench.CLASS_NAME} (0)")
    assert notes["redo"].startswith(f"1 {bench.CLASS_NAME} ({COUNT})")
    assert "photos/s" in notes["classify run"]
    assert notes["rename"].startswith(f"1 {bench.RENAMED} ")

