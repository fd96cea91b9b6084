"""The library's last placement, remembered in `<library folder>/placements/last.json` so that it can be undone
after a restart (place_and_undo keeps it right: remembered once a placement placed something, forgotten once
nothing of it is left)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lakeview.core.atomic import write_atomically
from lakeview.core.placement.copy_or_move import Mode

PLACEMENTS = "placements"
LAST = "last.json"
_MAX_LAST = 1 << 20


@dataclass(frozen=True)
class LastPlacement:
    journal: Path
    mode: Mode
    into: Path
    count: int
    time: str


def last_placement(library: Path) -> LastPlacement | None:
    """The library's last placement not yet undone (`library` is the catalog's folder)."""
    path = Path(library) / PLACEMENTS / LAST
    try:
        if not path.is_file() or path.stat().st_size > _MAX_LAST:  # never a pipe that would hang the window
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        last = LastPlacement(Path(data["journal"]), data["mode"], Path(data["into"]), int(data["count"]), data["time"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return last if last.journal.is_file() else None


def remember(library: Path, last: LastPlacement | None) -> None:
    """Make `last` the library's last placement; None forgets it."""
    path = Path(library) / PLACEMENTS / LAST
    if last is None:
        path.unlink(missing_ok=True)
        return
    data = {"journal": str(last.journal), "mode": last.mode, "into": str(last.into), "count": last.count,
            "time": last.time}
    write_atomically(path, json.dumps(data, indent=1).encode())
