"""The measuring and data parts of benchmarks/vs_fastai.py (the benchmark itself, with fastai, is run on purpose)."""

from __future__ import annotations

import gzip
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "vs_fastai.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("vs_fastai", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["vs_fastai"] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


bench = load_benchmark()


def test_measured_sees_the_peak_memory_of_a_child_and_of_its_children(tmp_path):
    hold = ("import subprocess, sys, time; block = bytearray(200 * 2**20); "
            "child = subprocess.Popen([sys.executable, '-c', "
            "'import time; other = bytearray(150 * 2**20); time.sleep(1.5)']); time.sleep(1.5); child.wait(); "
            "sys.exit(3)")
    run = bench.measured([sys.executable, "-c", hold], dict(os.environ), tmp_path / "child.log")
    assert run.returncode == 3
    assert run.peak_rss >= 200 * 2**20
    assert run.peak_tree_pss >= 300 * 2**20
    assert run.log.exists()


def test_read_idx_reads_the_fashion_mnist_file_format(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 0x08, 3]) + b"".join(size.to_bytes(4, "big") for size in images.shape)
    path = tmp_path / "images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header + images.tobytes()))
    assert np.array_equal(bench.read_idx(path), images)
