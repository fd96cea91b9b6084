"""The Library dock: Open folder, the recent folders (kept in the settings) and the folder tree."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDir, QSettings, Signal
from PySide6.QtWidgets import QFileSystemModel, QLabel, QListWidget, QPushButton, QTreeView, QVBoxLayout, QWidget

from lakeview.core.photos.file_names import path_from_setting, path_to_setting, shown_path

RECENT_LIMIT = 10
RECENT_KEY = "recent_folders"


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
        self.folders = QFileSystemModel(self)
        self.folders.setFilter(QDir.Filter.AllDirs | QDir.Filter.NoDotAndDotDot)
        self.folders.setRootPath(QDir.rootPath())
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
        layout.addWidget(self.folder_tree, 3)
        self.reveal(Path.home())
        self._fill_recent()

    def reveal(self, folder: Path) -> None:
        """Select and scroll to `folder` in the tree."""
        index = self.folders.index(str(folder))
        if index.isValid():
            self.folder_tree.setCurrentIndex(index)
            self.folder_tree.scrollTo(index)

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
