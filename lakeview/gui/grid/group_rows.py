"""The grid's rows while it shows similar-photo groups: each group's photos follow a header row that names the
group and counts its photos, and the photos in no group come last under a header of their own.

A header is a row of the grid model like a photo's, with a negative id that no catalog photo has, so the wrapped
list view lays it out as one more tile (uniform sizes and batched layout keep 100,000 rows cheap). A header stands
for its group: selecting it selects the group's photos (the view), and a number key then labels them all.
"""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import Sequence

from PySide6.QtGui import QColor, QPixmap

from lakeview.gui.grid.photo_entry import PhotoEntry
from lakeview.gui.grid.roles import _DISPLAY, _TOOLTIP, Role


class GroupHeader(PhotoEntry):
    """A header row: its title ("Group 3", "In no group") and the count of its photos."""

    __slots__ = ("count", "number", "place")

    def __init__(self, number: int | None, count: int, place: str = "") -> None:
        title = f"Group {number}" if number is not None else "In no group"
        super().__init__(Path(title))
        self.name = title
        self.number = number
        """1, 2, ... in display order; None for the photos in no group."""
        self.count = count
        self.place = place
        """Where its photos were taken ("near Banff, Alberta, CA"), "" when unknown."""

    @property
    def _where(self) -> str:
        return f", {self.place}" if self.place else ""

    @property
    def summary(self) -> str:
        """What the header stands for and what to do with it, for its tooltip and the inspector."""
        return (f"{self.name}: {self.count_text}{self._where}. Click to select them all, then press 1-9 to label them "
                "at once.")

    @property
    def town(self) -> str:
        """The place's first part, for a small tile: "near Banff"."""
        return self.place.split(",")[0]

    @property
    def count_text(self) -> str:
        return f"{self.count:,} photo{'s' if self.count != 1 else ''}"

    def value(self, role: int):
        """What the model answers for this row: the entry itself, its title, an empty picture."""
        if role == Role.EntryRole:
            return self
        if role == _DISPLAY:
            return f"{self.name}: {self.count_text}{self._where}"
        if role == _TOOLTIP:
            return self.summary
        if role == Role.ThumbnailRole:
            return QPixmap()
        if role == Role.ColourRole:
            return QColor()
        return None

    def __repr__(self) -> str:
        return f"GroupHeader({self.name!r}, {self.count})"


def grouped_rows(groups: Sequence[Sequence[int]], shown: Sequence[int], places: Sequence[str] = ()
                 ) -> tuple[list[int], dict[int, GroupHeader]]:
    """The rows (catalog ids, headers as negative ids) that show the photos `shown` in these groups (catalog ids
    in display order), and the headers by id. Only the photos shown appear; the others shown are in no group
    (the grouping's own, and any added since it was made), in the order shown. A group none of whose photos is
    shown has no header. `places` names where each group was taken ("" where unknown)."""
    shown_set = set(shown)
    groups = [[photo_id for photo_id in group if photo_id in shown_set] for group in groups]
    grouped = {photo_id for group in groups for photo_id in group}
    ungrouped = [photo_id for photo_id in shown if photo_id not in grouped]
    named = [(group, places[i] if i < len(places) else "") for i, group in enumerate(groups) if group]
    ids: list[int] = []
    headers: dict[int, GroupHeader] = {}
    for photos, place in named + [(ungrouped, "")]:
        if not photos:
            continue
        header_id = -1 - len(headers)
        number = len(headers) + 1 if photos is not ungrouped else None
        headers[header_id] = GroupHeader(number, len(photos), place)
        ids.append(header_id)
        ids.extend(photos)
    return ids, headers


class GroupHeaderRows:
    """The grid model's header rows (mixed into PhotoGridModel, whose `_ids` and `_headers` they read)."""

    _ids: list[int]
    _headers: dict[int, GroupHeader]
    _header_rows: list[int] | None = None

    def header_at(self, row: int) -> GroupHeader | None:
        """The header shown at `row`; None for a photo's row."""
        return self._headers.get(self._ids[row]) if 0 <= row < len(self._ids) and self._ids[row] < 0 else None

    def header_rows(self) -> list[int]:
        """The rows of the headers, in order (none while the grid is not grouped)."""
        if self._header_rows is None:
            self._header_rows = [row for row, photo_id in enumerate(self._ids) if photo_id < 0] if self._headers else []
        return self._header_rows

    def photo_rows(self) -> Sequence[int]:
        """The rows that hold photos, in order: every row while the grid is not grouped."""
        if not self.header_rows():
            return range(len(self._ids))
        return [row for row, photo_id in enumerate(self._ids) if photo_id >= 0]

    def headers_within(self, first: int, last: int) -> list[int]:
        """The header rows from `first` to `last` inclusive."""
        rows = self.header_rows()
        return rows[bisect.bisect_left(rows, first):bisect.bisect_right(rows, last)]

    def group_span(self, header_row: int) -> tuple[int, int]:
        """The rows of a header and its group's photos, inclusive: up to the next header, or the last row."""
        rows = self.header_rows()
        following = bisect.bisect_right(rows, header_row)
        return header_row, (rows[following] - 1 if following < len(rows) else len(self._ids) - 1)

    def has_label(self, row: int) -> bool:
        """Whether the photo at `row` has a label; for a header, whether every photo of its group has one."""
        if self.header_at(row) is None:
            return self.entry_at(row).label is not None
        first, last = self.group_span(row)
        return all(self.entry_at(r).label is not None for r in range(first + 1, last + 1))
