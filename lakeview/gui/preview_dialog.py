"""The full preview on Space, like Quick Look: one photo as large as the screen allows, its name and label
underneath; Left/Right (PageUp/PageDown) step through the photos, Space or Esc closes."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QImage, QKeyEvent, QPalette
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from lakeview.gui.preview_loader import ImageLoader, PhotoView

SCREEN_FRACTION = 0.85
PREVIOUS_KEYS = (Qt.Key.Key_Left, Qt.Key.Key_PageUp)
NEXT_KEYS = (Qt.Key.Key_Right, Qt.Key.Key_PageDown)
CLOSE_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Escape)


class PreviewDialog(QDialog):
    current_changed = Signal(int)
    """The index of the photo now shown, after Left/Right moved to it."""

    def __init__(self, paths: Sequence[Path], index: int, parent: QWidget | None = None,
                 label_text: Callable[[Path], str] | None = None) -> None:
        super().__init__(parent)
        self._paths = [Path(p) for p in paths] if isinstance(paths, (list, tuple)) else paths  # else read lazily
        self._index = max(0, min(index, len(self._paths) - 1))
        self._label_text = label_text
        self.loader = ImageLoader(self)
        self.loader.loaded.connect(self._on_loaded)
        self.view = PhotoView(fill_width=False)
        self.name = QLabel()
        font = QFont(self.name.font())
        font.setBold(True)
        self.name.setFont(font)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label = QLabel()
        self.label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.counter = QLabel()
        self.counter.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        caption = QHBoxLayout()
        caption.addStretch(1)
        caption.addWidget(self.name)
        caption.addSpacing(12)
        caption.addWidget(self.label)
        caption.addStretch(1)
        caption.addWidget(self.counter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(caption)
        screen = self.screen().availableGeometry()
        self.resize(round(screen.width() * SCREEN_FRACTION), round(screen.height() * SCREEN_FRACTION))
        self._show_current()

    def index(self) -> int:
        return self._index

    def path(self) -> Path | None:
        return self._paths[self._index] if self._paths else None

    def set_index(self, index: int) -> None:
        """Show the photo at `index` (clamped to the list) and emit current_changed if it moved."""
        index = max(0, min(index, len(self._paths) - 1))
        if index != self._index:
            self._index = index
            self._show_current()
            self.current_changed.emit(index)

    def refresh(self) -> None:
        """Re-read the caption (the photo's label changed)."""
        path = self.path()
        self.label.setText(self._label_text(path) if path is not None and self._label_text else "")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in PREVIOUS_KEYS:
            self.set_index(self._index - 1)
        elif key in NEXT_KEYS:
            self.set_index(self._index + 1)
        elif key in CLOSE_KEYS:
            self.reject()
        else:
            super().keyPressEvent(event)

    def shutdown(self) -> None:
        """Wait for a decode in progress (tests, closing the app)."""
        self.loader.wait()

    def _show_current(self) -> None:
        path = self.path()
        if path is None:
            self.view.set_message("No photo")
            return
        self.setWindowTitle(path.name)
        self.name.setText(path.name)
        self.counter.setText(f"{self._index + 1} of {len(self._paths)}")
        self.refresh()
        self.view.set_message("")
        screen = self.screen()
        side = max(screen.size().width(), screen.size().height())
        self.loader.request(path, round(side * screen.devicePixelRatio()))

    def _on_loaded(self, path: str, image: QImage, error: str) -> None:
        if path != str(self.path()):
            return  # a photo stepped past
        if error:
            self.view.set_message(f"Cannot show this photo:\n{error}")
        else:
            self.view.set_image(image)
