"""One rank of a test's torchrun launch: `lakeview` with the tests' "tiny" architecture registered.

`python -m torch.distributed.run --nproc-per-node 2 tests/distributed_rank.py train ... [--then classify ...]`
runs each command in turn in one process group (starting torch and the ranks once), then prints the commands' exit
codes on rank 0 ("exit codes: 0 1") and ends with 0. A single command makes its own process group, as
`lakeview` under torchrun does.

With LAKEVIEW_TEST_NO_DROPOUT set, heads have no dropout: its masks are drawn per rank, so a model trained by two
ranks can equal the single process's only without it. With LAKEVIEW_TEST_WATCH (a folder) and
LAKEVIEW_TEST_WRITES (another), each rank lists in WRITES/rank<N>.txt what it opened for writing, made, copied,
renamed or removed under WATCH (Python's audit events)."""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch.distributed as dist  # noqa: E402

from lakeview.cli.main import main  # noqa: E402
from lakeview.core.models import head  # noqa: E402
from lakeview.core.models.architectures import register  # noqa: E402
from tiny_network import TINY  # noqa: E402

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
CHANGES = {"os.mkdir", "os.rename", "os.replace", "os.remove", "os.unlink", "os.link", "os.symlink",
           "shutil.copyfile", "shutil.move", "os.rmdir", "os.truncate"}


def watch_writes(watched: str, log_folder: str) -> None:
    seen: list[str] = []
    watched = os.path.realpath(watched)

    def under(path) -> bool:
        try:
            return os.path.realpath(os.fsdecode(path)).startswith(watched + os.sep)
        except (TypeError, ValueError):
            return False

    def hook(event: str, args: tuple) -> None:
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            mode, flags = args[1], args[2] or 0
            writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & WRITE_FLAGS)
            if writes and under(args[0]):
                seen.append(f"open {os.fsdecode(args[0])}")
        elif event in CHANGES and any(under(a) for a in args if isinstance(a, (str, bytes, os.PathLike))):
            seen.append(f"{event} {args[0]}")

    def write_log() -> None:
        Path(log_folder, f"rank{os.environ['RANK']}.txt").write_text("\n".join(seen))

    sys.addaudithook(hook)
    atexit.register(write_log)


def commands(argv: list[str]) -> list[list[str]]:
    found = [[]]
    for word in argv:
        if word == "--then":
            found.append([])
        else:
            found[-1].append(word)
    return found


if __name__ == "__main__":
    register(TINY)
    if os.environ.get("LAKEVIEW_TEST_NO_DROPOUT"):
        head.DEFAULT_DROPOUT.update({name: 0.0 for name in head.DEFAULT_DROPOUT})
    if os.environ.get("LAKEVIEW_TEST_WATCH"):
        watch_writes(os.environ["LAKEVIEW_TEST_WATCH"], os.environ["LAKEVIEW_TEST_WRITES"])
    steps = commands(sys.argv[1:])
    if len(steps) > 1:
        dist.init_process_group("gloo")  # one group for all the commands; lakeview joins it and leaves it be
    codes = [main(command) for command in steps]
    if int(os.environ["RANK"]) == 0:
        print("exit codes:", *codes, flush=True)
    if dist.is_initialized():
        dist.destroy_process_group()
