"""The Linux desktop entry: valid for desktop-file-validate, installed per user under XDG_DATA_HOME, removable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from lakeview.cli import desktop
from lakeview.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "packaging" / "linux" / "lakeview.desktop"
VALIDATOR = shutil.which("desktop-file-validate")
requires_validator = pytest.mark.skipif(
    VALIDATOR is None, reason="desktop-file-validate is not installed (Debian: apt-get install desktop-file-utils)")
linux_only = pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="desktop entries are for Linux desktops")


def validate(path: Path) -> None:
    result = subprocess.run([VALIDATOR, str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def entry_keys(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


@requires_validator
def test_the_packaged_template_is_valid():
    validate(TEMPLATE)


def test_the_template_is_the_entry_install_writes_with_the_program_on_path():
    assert TEMPLATE.read_text(encoding="utf-8") == desktop.desktop_entry("lakeview-gui"), (
        "packaging/linux/lakeview.desktop drifted from lakeview/cli/desktop.py; regenerate it with "
        "python -c \"from lakeview.cli.desktop import desktop_entry; print(desktop_entry('lakeview-gui'), end='')\"")


def test_the_icons_are_there_at_every_size():
    for size in desktop.ICON_SIZES:
        with Image.open(desktop.ICONS / f"lakeview-{size}.png") as icon:
            assert icon.size == (size, size) and icon.mode == "RGBA"
    assert "<svg" in (desktop.ICONS / "lakeview.svg").read_text(encoding="utf-8")


@linux_only
@requires_validator
def test_install_desktop_puts_a_valid_entry_and_icons_under_xdg_data_home(data_home, capsys):
    assert main(["install-desktop"]) == 0

    entry = data_home / "applications" / "lakeview.desktop"
    validate(entry)
    keys = entry_keys(entry.read_text(encoding="utf-8"))
    program = Path(keys["TryExec"])
    assert program.is_absolute() and program.name == "lakeview-gui" and os.access(program, os.X_OK)
    assert keys["Exec"] == desktop.exec_argument(str(program))
    assert keys["Icon"] == "lakeview"
    for size in desktop.ICON_SIZES:
        assert (data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "lakeview.png").is_file()
    assert (data_home / "icons" / "hicolor" / "scalable" / "apps" / "lakeview.svg").is_file()
    assert "application menu" in capsys.readouterr().err


@linux_only
def test_exec_is_this_installations_gui_script():
    program = desktop.gui_command()
    assert program == Path(sys.executable).absolute().parent / "lakeview-gui" or program == Path(
        shutil.which("lakeview-gui")).absolute()


@linux_only
@requires_validator
def test_a_path_with_spaces_and_specials_is_quoted_as_the_spec_says(data_home, tmp_path):
    odd = tmp_path / "my apps" / "100% $real" / "lakeview-gui"
    desktop.install(data_home, odd)
    entry = data_home / "applications" / "lakeview.desktop"
    validate(entry)
    keys = entry_keys(entry.read_text(encoding="utf-8"))
    assert keys["Exec"] == f'"{tmp_path}/my apps/100%% \\\\$real/lakeview-gui"'
    assert keys["TryExec"] == str(odd)


@linux_only
def test_uninstall_removes_exactly_what_was_installed(data_home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DESKTOP_DIR", str(tmp_path / "Desktop"))
    (data_home / "applications").mkdir(parents=True)
    (data_home / "applications" / "other.desktop").write_text("[Desktop Entry]\n")

    assert main(["install-desktop", "--shortcut"]) == 0
    shortcut = tmp_path / "Desktop" / "lakeview.desktop"
    assert shortcut.is_file() and os.access(shortcut, os.X_OK)

    assert main(["install-desktop", "--uninstall"]) == 0
    assert not shortcut.exists()
    left = sorted(str(p.relative_to(data_home)) for p in data_home.rglob("*") if p.is_file())
    assert left == ["applications/other.desktop"]
