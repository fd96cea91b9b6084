"""One photo of the grid as the model holds it (path, label, prediction, error), and the grid's paths as a
sequence read row by row."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, TypeVar

from lakeview.core.catalog.grid_queries import PhotoRow
from lakeview.core.catalog.labels import NONE_OF_THESE, PALETTE
from lakeview.core.photos.file_names import readable_name, readable_path

if TYPE_CHECKING:
    from lakeview.gui.grid.model import PhotoGridModel

MISSING_REASON = "file not found (the catalog flags this photo as missing)"
GONE_REASON = "no longer in the library"
T = TypeVar("T")
NONE_COLOUR = "#8c8c8c"


class PhotoEntry:
    """`key`: the path as Python names it (exact, also for names that are not UTF-8); `name`: the file name as
    text Qt can show (see lakeview.core.photos.file_names.readable_name)."""

    __slots__ = ("path", "key", "name", "label", "label_source", "predicted", "confidence", "error")

    def __init__(self, path: Path, label: str | None = None, label_source: str | None = None,
                 predicted: str | None = None, confidence: float | None = None, error: str | None = None) -> None:
        self.path = path
        self.key = str(path)
        self.name = readable_name(path.name)
        self.label = label
        self.label_source = label_source
        self.predicted = predicted
        self.confidence = confidence
        self.error = error

    @property
    def corrected(self) -> bool:
        return self.label is not None and self.label_source == "user"

    def __repr__(self) -> str:
        return f"PhotoEntry({self.key!r}, label={self.label!r}/{self.label_source}, " \
               f"predicted={self.predicted!r}@{self.confidence}, error={self.error!r})"


class RowValues(Sequence[T]):
    """A value of each of the grid's rows, as a sequence that reads a row only when asked (a preview steps
    through 100,000 paths; the review queue looks ahead for a photo without a label)."""

    def __init__(self, model: PhotoGridModel, value: Callable[[int], T], rows: Sequence[int] | None = None) -> None:
        """Each row's value; only those of `rows` (grid rows, in order), when given."""
        self._model, self._value, self._rows = model, value, rows

    def __len__(self) -> int:
        return self._model.rowCount() if self._rows is None else len(self._rows)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[r] for r in range(len(self))[row]]
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        return self._value(row if self._rows is None else self._rows[row])


def entry_of(row: PhotoRow) -> PhotoEntry:
    return PhotoEntry(Path(row.path), row.label, row.label_source if row.label is not None else None,
                      row.predicted, row.confidence, MISSING_REASON if row.missing else None)


def tooltip_of(entry: PhotoEntry) -> str:
    """The tile's tooltip: its path, label (and who set it), prediction, and why it cannot be shown."""
    lines = [readable_path(entry.path)]
    if entry.label is not None:
        how = {"user": "set by you", "accepted": "prediction accepted", "imported": "imported"}
        lines.append(f"Label: {entry.label} ({how.get(entry.label_source or '', entry.label_source)})")
    if entry.predicted is not None:
        percent = f" ({entry.confidence:.0%})" if entry.confidence is not None else ""
        lines.append(f"Predicted: {entry.predicted}{percent}")
    if entry.error is not None:
        lines.append(f"Cannot show this photo: {entry.error}")
    return "\n".join(lines)


def fallback_colour(name: str) -> str:
    """A stable palette colour for a class the catalog has not given one."""
    if name == NONE_OF_THESE:
        return NONE_COLOUR
    return PALETTE[zlib.crc32(name.encode("utf-8")) % len(PALETTE)]
