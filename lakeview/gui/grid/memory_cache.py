"""A least-recently-used cache of thumbnail pixmaps with a byte budget. GUI thread only (QPixmap).

Not QPixmapCache: that one is global, shared with the style's own pixmaps, and 10 MB by default.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Hashable

from PySide6.QtGui import QPixmap

DEFAULT_BUDGET = 192 * 1024 * 1024


class PixmapCache:
    def __init__(self, max_bytes: int = DEFAULT_BUDGET) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[QPixmap, int]] = OrderedDict()
        self._bytes = 0

    def get(self, key: Hashable) -> QPixmap | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: Hashable, pixmap: QPixmap) -> None:
        size = pixmap.width() * pixmap.height() * max(pixmap.depth(), 8) // 8
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        self._items[key] = (pixmap, size)
        self._bytes += size
        while self._bytes > self.max_bytes and len(self._items) > 1:
            _, (_, dropped) = self._items.popitem(last=False)
            self._bytes -= dropped

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    @property
    def used_bytes(self) -> int:
        return self._bytes
