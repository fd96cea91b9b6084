"""benchmarks/gpu_check.py stays runnable without a GPU: its smoke mode trains through the watched loop on the CPU."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.mark.slow
def test_the_smoke_run_passes_and_finds_no_tensor_read_in_the_training_loop(tmp_path):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")  # the CPU path, also on a machine with a GPU
    done = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--work", str(tmp_path)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    table = done.stdout.split("\n\n")[-1].splitlines()
    rows = {line.split(" | ")[0].strip(): [cell.strip() for cell in line.split(" | ")[1:]] for line in table[2:]}
    assert rows["device (pick_device auto)"][0].startswith("no GPU: cpu")
    assert rows["LakeView's tensor reads in the loop"] == ["0 in 2 batches", "0", "ok"]
    assert "% error on 8 valid photos" in rows["train resnet18 1+1, float32"][0]
