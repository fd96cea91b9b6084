"""The Library dock: Open folder, the recent folders (kept in the settings) and the folder tree.

The tree starts where photos are: the home folder, with Pictures expanded and selected; the places above it
switch it to a mounted drive (a USB stick, a camera card, a second disk) or back home. System folders ("/" with
bin, boot and proc) are not offered.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QDir, QSettings, QSize, QStandardPaths, QStorageInfo, Signal
from PySide6.QtWidgets import (QComboBox, QFileSystemModel, QLabel, QListWidget, QPushButton, QTreeView, QVBoxLayout,
                               QWidget)

from lakeview.core.photos.file_names import path_from_setting, path_to_setting, shown_path

RECENT_LIMIT = 10
RECENT_KEY = "recent_folders"
DRIVE_PARENTS = ("/media/", "/run/media/", "/mnt/", "/Volumes/")
"""Where Linux and macOS mount drives a user plugs in or adds; on Windows each drive letter is its own root."""
READABLE_WIDTH = 260


def pictures_folder(home: Path) -> Path | None:
    """The user's Pictures folder (XDG's or the platform's), when it exists."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    pictures = Path(location) if location else home / "Pictures"
    return pictures if pictures.is_dir() and pictures != home else None


def mounted_drives() -> list[tuple[str, Path]]:
    """(name, folder) of each mounted drive that may hold photos: not the system's root, nor /boot, /proc...."""
    drives = []
    for volume in QStorageInfo.mountedVolumes():
        root = volume.rootPath()
        if not volume.isValid() or not volume.isReady() or volume.isRoot():
            continue
        windows_drive = os.name == "nt" and len(root) <= 3
        if not (windows_drive or root.startswith(DRIVE_PARENTS)):
            continue
        name = volume.displayName() or Path(root).name or root
        drives.append((name, Path(root)))
    return drives


class LibraryPanel(QWidget):
    open_requested = Signal()
    """The Open folder… button: the window asks which folder."""
    folder_chosen = Signal(object)
    """A recent folder or a folder of the tree, double-clicked (its exact Path)."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        open_button = QPushButton("Open folder…")
        open_button.clicked.connect(self.open_requested)
        self.recent = QListWidget()
        self.recent.setToolTip("Recent folders: double-click to open")
        self.recent_folders: list[Path] = []  # exact paths; the list shows them readable (see file_names)
        self.recent.itemActivated.connect(lambda item: self.folder_chosen.emit(self.recent_folders[self.recent.row(item)]))
        self.places = QComboBox()
        self.places.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.places.setMinimumContentsLength(12)
        self.places.setToolTip("Where the folder tree starts: your home folder or a mounted drive")
        self.places.activated.connect(lambda row: self.show_place(Path(self.places.itemData(row))))
        self.folders = QFileSystemModel(self)
        self.folders.setFilter(QDir.Filter.AllDirs | QDir.Filter.NoDotAndDotDot)
        self.folder_tree = QTreeView()
        self.folder_tree.setModel(self.folders)
        for column in range(1, self.folders.columnCount()):
            self.folder_tree.hideColumn(column)
        self.folder_tree.setHeaderHidden(True)
        self.folder_tree.setToolTip("Double-click a folder to open it")
        self.folder_tree.activated.connect(lambda index: self.folder_chosen.emit(Path(self.folders.filePath(index))))
        layout = QVBoxLayout(self)
        layout.addWidget(open_button)
        layout.addWidget(QLabel("Recent folders"))
        layout.addWidget(self.recent, 1)
        layout.addWidget(QLabel("Folders"))
        layout.addWidget(self.places)
        layout.addWidget(self.folder_tree, 3)
        self.home = Path(QDir.homePath())
        self._fill_places()
        self._fill_recent()
        self.show_place(self.home)
        self.reveal(pictures_folder(self.home) or self.home, expand=True)

    def sizeHint(self) -> QSize:
        """Wide enough to read a folder's name a few levels down (the dock starts at this width)."""
        hint = super().sizeHint()
        return QSize(max(hint.width(), READABLE_WIDTH), hint.height())

    def _fill_places(self) -> None:
        self.places.clear()
        self.places.addItem(f"Home ({shown_path(self.home.name or self.home)})", str(self.home))
        for name, root in mounted_drives():
            self.places.addItem(f"{shown_path(name)} ({shown_path(root)})", str(root))

    @property
    def root(self) -> Path:
        """The folder the tree starts at."""
        return Path(self.folders.rootPath())

    def show_place(self, root: Path) -> None:
        """Start the tree at `root` (the model watches only what is under it)."""
        root = Path(root)
        if Path(self.folders.rootPath()) != root or not self.folder_tree.rootIndex().isValid():
            self.folder_tree.setRootIndex(self.folders.setRootPath(str(root)))
        row = self.places.findData(str(root))
        if row < 0:  # a folder outside home and the drives: it gets a place of its own
            self.places.addItem(shown_path(root), str(root))
            row = self.places.count() - 1
        self.places.setCurrentIndex(row)

    def _place_of(self, folder: Path) -> Path:
        """The deepest place that holds `folder`, else its parent folder."""
        holding = [root for root in (Path(self.places.itemData(i)) for i in range(self.places.count()))
                   if folder == root or root in folder.parents]
        return max(holding, key=lambda root: len(root.parts)) if holding else (folder.parent if folder.parent != folder else folder)

    def reveal(self, folder: Path, expand: bool = False) -> None:
        """Select and scroll to `folder` in the tree (switching places when it is elsewhere); `expand` opens it."""
        folder = Path(os.path.normpath(folder))
        place = self._place_of(folder)
        if place != self.root:
            self.show_place(place)
        index = self.folders.index(str(folder))
        if index.isValid():
            self.folder_tree.setCurrentIndex(index)
            self.folder_tree.scrollTo(index)
            if expand:
                self.folder_tree.expand(index)

    def remember(self, folder: Path) -> None:
        """`folder` goes to the top of the recent folders, and the tree shows it."""
        kept = path_to_setting(Path(folder).absolute())
        folders = [kept] + [f for f in self.settings.value(RECENT_KEY, [], list) if f != kept]
        self.settings.setValue(RECENT_KEY, folders[:RECENT_LIMIT])
        self._fill_recent()
        self.reveal(Path(folder).absolute())

    def _fill_recent(self) -> None:
        self.recent.clear()
        kept = self.settings.value(RECENT_KEY, [], list)
        self.recent_folders = [folder for folder in map(path_from_setting, kept) if folder.is_dir()]
        self.recent.addItems([shown_path(folder) for folder in self.recent_folders])
