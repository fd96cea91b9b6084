"""The thumbnail grid: a lazy item model, a thumbnail loader (thread pool, memory and disk caches), the tile
delegate and the QListView that shows them. The main window embeds `PhotoGrid` with a `PhotoGridModel`."""

from lakeview.gui.grid.delegate import PhotoDelegate
from lakeview.gui.grid.disk_cache import DiskCache
from lakeview.gui.grid.memory_cache import PixmapCache
from lakeview.gui.grid.model import PhotoGridModel, Role
from lakeview.gui.grid.photo_entry import PhotoEntry
from lakeview.gui.grid.thumbnail_loader import ThumbnailLoader
from lakeview.gui.grid.view import PhotoGrid

__all__ = ["DiskCache", "PhotoDelegate", "PhotoEntry", "PhotoGrid", "PhotoGridModel", "PixmapCache", "Role",
           "ThumbnailLoader"]
