"""Helpers for the hostile-use tests (tests/test_hostile_*.py): the real command in a child process,
names made of raw bytes, and content hashes to prove that nothing was lost."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]

# Names a camera, an old archive or another OS can leave on a Linux disk: not valid UTF-8.
RAW_NAMES = (b"DSC_\xff\xfe.jpg", b"Urlaub_M\xfcnchen.jpg", b"\xe9t\xe9 \x80.jpg")


def raw_name(raw: bytes) -> str:
    """The str Python uses for a file named by these bytes (undecodable bytes become surrogates)."""
    return os.fsdecode(raw)


@dataclass
class Finished:
    code: int
    out: str
    err: str

    def assert_clean(self) -> "Finished":
        """No traceback, whatever the exit code: a problem is a sentence, not a stack."""
        assert "Traceback" not in self.err and "Traceback" not in self.out, self.err
        return self


def run_lakeview(*args: str | os.PathLike, cwd: Path | None = None, timeout: float = 300,
                 env: dict[str, str] | None = None, **popen) -> Finished:
    """`python -m lakeview ARGS` in a child process, with this checkout first on the path."""
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), child_env.get("PYTHONPATH")]))
    child_env.setdefault("QT_QPA_PLATFORM", "offscreen")
    result = subprocess.run([sys.executable, "-m", "lakeview", *map(os.fspath, args)], cwd=cwd, env=child_env,
                            capture_output=True, timeout=timeout, **popen)
    decode = lambda data: data.decode("utf-8", "backslashreplace")  # noqa: E731
    return Finished(result.returncode, decode(result.stdout), decode(result.stderr))


def as_a_terminal_job() -> None:
    """`preexec_fn` for a child that signals are sent to: the stop signals at their defaults, as a terminal's job
    has them, even when this test run ignores some (under nohup, or started in the background by a script,
    which ignores SIGINT); LakeView rightly leaves an ignored signal ignored."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tree_hashes(folder: Path) -> dict[str, str]:
    """Every regular file under `folder` (hidden ones too) by its path relative to `folder`."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): file_hash(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def content_counts(folder: Path) -> dict[str, int]:
    """How many files under `folder` hold each content: to show that no photo was lost or duplicated."""
    counts: dict[str, int] = {}
    for digest in tree_hashes(folder).values():
        counts[digest] = counts.get(digest, 0) + 1
    return counts


@contextmanager
def small_filesystem(folder: Path, size: str) -> Iterator[Callable[[str], None]]:
    """A tmpfs of `size` ("256k", "1m") mounted on `folder`, for full-disk and read-only cases; yields
    remount(options), e.g. remount("ro"). Skips the test where this process may not mount (not root)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.name != "posix" or not shutil.which("mount") or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace').strip()}")

    def remount(options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True, capture_output=True)

    try:
        yield remount
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
