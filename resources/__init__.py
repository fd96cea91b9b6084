"""The app's resources (shipped inside the package as lakeview.resources)."""

from pathlib import Path

ICONS = Path(__file__).resolve().parent / "icons"
