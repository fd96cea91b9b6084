"""The real command in a child process, with that child's own peak memory, for the tests that a hostile file
costs little memory. A child that imports torch starts at about 1.1 GB of resident memory on Linux.

The peak is the child's VmHWM, read from /proc/self/status as it exits. Not ru_maxrss: Linux folds the memory
of the process that spawned the child (here pytest, with torch loaded) into the child's ru_maxrss at exec.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hostile_tools import REPO, Finished

PEAK_LIMIT_MB = 2048
HAS_PROC = Path("/proc/self/status").exists()

_REPORT_PEAK = """\
import atexit, os, sys
def _report_peak():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["LAKEVIEW_TEST_PEAK_FILE"], "w") as out:
        out.write(peak)
atexit.register(_report_peak)
"""
_RUN_LAKEVIEW = """\
import runpy
sys.argv[0] = "lakeview"
runpy.run_module("lakeview", run_name="__main__", alter_sys=True)
"""


def run_measured(*args: str | os.PathLike, timeout: float = 120) -> tuple[Finished, float]:
    """`python -m lakeview ARGS`: its result and its peak memory in MB."""
    return run_script(_RUN_LAKEVIEW, *args, timeout=timeout)


def run_script(script: str, *args: str | os.PathLike, timeout: float = 120,
               **env_vars: str) -> tuple[Finished, float]:
    """`python -c SCRIPT ARGS` with this checkout first on the path: its result and its peak memory in MB
    (0.0 where there is no /proc to read it from)."""
    env = dict(os.environ, **env_vars)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as folder:
        peak_file = Path(folder) / "peak"
        env["LAKEVIEW_TEST_PEAK_FILE"] = str(peak_file)
        code = (_REPORT_PEAK if HAS_PROC else "import sys\n") + script
        result = subprocess.run([sys.executable, "-c", code, *map(os.fspath, args)], env=env, capture_output=True,
                                stdin=subprocess.DEVNULL, timeout=timeout)
        peak_mb = int(peak_file.read_text()) / 1024 if HAS_PROC else 0.0
    decode = lambda data: data.decode("utf-8", "backslashreplace")  # noqa: E731
    return Finished(result.returncode, decode(result.stdout), decode(result.stderr)), peak_mb
