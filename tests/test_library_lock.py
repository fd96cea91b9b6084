"""One app per library: the lock is refused while held (in this process or another), and freed by exit or kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from lakeview.core.catalog.library_lock import LibraryLock, LibraryLocked, holder_of

HOLDER = textwrap.dedent("""
    import sys
    from lakeview.core.catalog.library_lock import LibraryLock
    lock = LibraryLock(sys.argv[1]).acquire()
    print("locked", flush=True)
    sys.stdin.readline()
""")


@pytest.fixture
def holder(tmp_path):
    """Another process holding the library's lock until it is told to stop (or killed)."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "library")], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()
    process.stdin.close()
    process.stdout.close()


def test_a_second_lock_in_the_same_process_is_refused_until_the_first_is_released(tmp_path):
    first = LibraryLock(tmp_path / "library").acquire()
    assert first.held and (tmp_path / "library" / "lock").is_file()
    assert holder_of(tmp_path / "library") == os.getpid()

    with pytest.raises(LibraryLocked) as refused:
        LibraryLock(tmp_path / "library").acquire()
    assert refused.value.pid == os.getpid()
    assert f"process {os.getpid()}" in str(refused.value)

    first.release()
    assert holder_of(tmp_path / "library") is None
    with LibraryLock(tmp_path / "library") as second:
        assert second.held
    assert not second.held


def test_another_process_holding_the_library_is_named(tmp_path, holder):
    with pytest.raises(LibraryLocked) as refused:
        LibraryLock(tmp_path / "library").acquire()
    assert refused.value.pid == holder.pid


def test_the_lock_is_free_once_the_other_process_exits(tmp_path, holder):
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.wait(timeout=30) == 0
    with LibraryLock(tmp_path / "library"):
        assert holder_of(tmp_path / "library") == os.getpid()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_process_leaves_a_stale_file_that_does_not_block(tmp_path, holder):
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert holder_of(tmp_path / "library") == holder.pid  # the file remembers it, but nothing holds it
    with LibraryLock(tmp_path / "library"):
        assert holder_of(tmp_path / "library") == os.getpid()


APP_ALREADY_OPEN = textwrap.dedent("""
    import sys
    import lakeview.gui.app as app
    app.tell_already_open = lambda message: print("told:", message)
    sys.exit(app.run_app(["lakeview"]))
""")


def test_the_app_refuses_a_library_another_process_has_open(tmp_path, holder):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAKEVIEW_CATALOG=str(tmp_path / "library" / "catalog.sqlite"),
               LAKEVIEW_LOG_DIR=str(tmp_path / "logs"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    out = subprocess.run([sys.executable, "-c", APP_ALREADY_OPEN], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 1, out.stderr
    assert (f"told: LakeView is already open with this library (process {holder.pid}). "
            "Switch to that window, or close it first.") in out.stdout
    assert not (tmp_path / "library" / "catalog.sqlite").exists()
