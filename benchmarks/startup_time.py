"""From launching `lakeview` to its window on screen, measured on the real entry point in fresh processes.

    .venv/bin/python benchmarks/startup_time.py [--runs 10] [--command dist/lakeview/lakeview]

Each run starts the command (default: the `lakeview` script beside this Python) with
LAKEVIEW_REPORT_STARTUP=1 and LAKEVIEW_LAUNCH_TIME set to the moment just before the launch; the app prints
how long after that its window was exposed and painted, then quits. Qt runs offscreen unless
QT_QPA_PLATFORM says otherwise; the library, caches, logs and settings are temporary folders. The first
(warm-up) run fills the disk cache and is not counted. Target (issue 5): under 2 s.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHOWN = re.compile(r"window shown ([0-9.]+) s after launch; torch imported before the window: (\w+)")


def launch_once(command: list[str], folder: Path) -> tuple[float, float, bool]:
    """(seconds to the window, seconds until the process ended, torch imported before the window)."""
    env = dict(os.environ, LAKEVIEW_REPORT_STARTUP="1", LAKEVIEW_DATA_DIR=str(folder / "data"),
               LAKEVIEW_CACHE_DIR=str(folder / "cache"), LAKEVIEW_LOG_DIR=str(folder / "logs"),
               XDG_CONFIG_HOME=str(folder / "config"))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.pop("LAKEVIEW_CATALOG", None)
    started = time.time()
    env["LAKEVIEW_LAUNCH_TIME"] = repr(started)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    ended = time.time() - started
    found = SHOWN.search(result.stdout)
    if result.returncode != 0 or found is None:
        raise SystemExit(f"{' '.join(command)} exited {result.returncode} without a start-up report:\n"
                         f"{result.stdout}{result.stderr}")
    return float(found.group(1)), ended, found.group(2) == "True"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--command", help="what to launch (default: the lakeview script beside this Python)")
    args = parser.parse_args()
    command = [args.command] if args.command else [str(Path(sys.executable).parent / "lakeview")]
    shown, ended = [], []
    with tempfile.TemporaryDirectory(prefix="lakeview-startup-") as folder:
        launch_once(command, Path(folder))  # warm-up: the disk cache, the catalog's creation
        for _ in range(args.runs):
            to_window, to_exit, torch_first = launch_once(command, Path(folder))
            shown.append(to_window)
            ended.append(to_exit)
            if torch_first:
                print("warning: torch was imported before the window showed", file=sys.stderr)
    print(f"{' '.join(command)}: launch to window shown, {args.runs} runs (QT_QPA_PLATFORM="
          f"{os.environ.get('QT_QPA_PLATFORM', 'offscreen')}, {os.cpu_count()} CPUs)")
    print(f"  median {statistics.median(shown):.3f} s   min {min(shown):.3f} s   max {max(shown):.3f} s")
    print(f"  process lifetime (start, window, quit, waiting for the device check's torch import): "
          f"median {statistics.median(ended):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
