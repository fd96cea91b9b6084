"""Large previews decoded off the GUI thread, and the widget that shows one.

`ImageLoader` decodes with `grid.qimages.make_qimage` (Qt's reduced-size JPEG/PNG decode, PIL for the rest,
upright) on its own one-thread pool. Only the newest request matters to a preview: one that has not started
when another arrives is dropped, so arrowing through photos never queues a backlog of decodes.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRectF, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPalette, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from lakeview.core.photos.images import ImageLoadError
from lakeview.gui.grid import qimages

IDLE_THREAD_MS = 3000
DEFAULT_ASPECT = QSize(4, 3)  # the box shown before a photo's size is known
CORNER = 4


class _Relay(QObject):
    """Carries results to the GUI thread (queued). The workers hold it, so it outlives a deleted loader."""

    loaded = Signal(object, QImage, str)  # object: a path str may hold surrogate escapes, which a QString drops


class _Latest:
    """The newest request not yet started, and whether a worker is running, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: tuple[str, int] | None = None
        self.running = False

    def put(self, job: tuple[str, int]) -> bool:
        """Replace the pending request; True when a worker must be started."""
        with self.lock:
            self.pending = job
            start, self.running = not self.running, True
            return start

    def take(self) -> tuple[str, int] | None:
        """The next job, or None, in which case the calling worker has retired."""
        with self.lock:
            job, self.pending = self.pending, None
            self.running = job is not None
            return job


def decode(path: str, px: int) -> tuple[QImage, str]:
    """(image, "") or (null image, the reason it cannot be shown). Any thread."""
    try:
        return qimages.make_qimage(path, px), ""
    except ImageLoadError as exc:
        return QImage(), exc.reason
    except Exception as exc:  # noqa: BLE001 - a worker must not die silently; the preview shows why
        return QImage(), f"cannot show this photo ({type(exc).__name__}: {exc})"


class _Worker(QRunnable):
    def __init__(self, latest: _Latest, relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.latest, self.relay = latest, relay

    def run(self) -> None:
        while (job := self.latest.take()) is not None:
            path, px = job
            image, error = decode(path, px)
            self.relay.loaded.emit(path, image, error)


class ImageLoader(QObject):
    """`request(path, px)` returns at once; `loaded(path, image, error)` follows on the GUI thread with the
    photo fitted into px x px (or a null image and the reason). `path` is `str(Path)`. A request still
    waiting when a newer one comes is dropped without a signal."""

    loaded = Signal(object, QImage, str)  # object: a path str may hold surrogate escapes, which a QString drops

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest = _Latest()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(IDLE_THREAD_MS)
        self._relay = _Relay()
        self._relay.loaded.connect(self.loaded)

    def request(self, path: Path | str, px: int) -> None:
        if self._latest.put((str(path), px)):
            self._pool.start(_Worker(self._latest, self._relay))

    def wait(self, msecs: int = -1) -> bool:
        """Block until the decode in progress is done and the pool's thread has exited (tests, shutdown)."""
        return self._pool.waitForDone(msecs)


class PhotoView(QWidget):
    """A photo fitted into the widget (aspect kept, centred, copied 1:1 on high-DPI screens), or a message
    in its place: the reason a photo cannot be shown.

    With `fill_width` the widget asks its layout for the height that fits the photo to its width (a side
    panel); without it the photo is fitted into whatever space the widget has, never enlarged (a viewer).
    """

    def __init__(self, parent: QWidget | None = None, *, fill_width: bool = True) -> None:
        super().__init__(parent)
        self._fill_width = fill_width
        self._image = QImage()
        self._aspect = DEFAULT_ASPECT
        self._message = ""
        self._scaled: QPixmap | None = None
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(fill_width)
        self.setSizePolicy(policy)

    def set_image(self, image: QImage) -> None:
        self._image, self._message, self._scaled = image, "", None
        self.set_aspect(image.size())

    def set_message(self, text: str, aspect: QSize | None = None) -> None:
        """Show `text` instead of a photo, in a box of the photo's shape when it is known."""
        self._image, self._message, self._scaled = QImage(), text, None
        self.set_aspect(aspect if aspect is not None and aspect.isValid() else DEFAULT_ASPECT)

    def set_aspect(self, size: QSize) -> None:
        if size.isValid() and not size.isEmpty() and size != self._aspect:
            self._aspect = QSize(size)
            self.updateGeometry()
        self.update()

    def image(self) -> QImage:
        return self._image

    def message(self) -> str:
        return self._message

    def shown_pixmap(self) -> QPixmap | None:
        """The pixmap last painted (scaled to the screen's pixels), None before the photo has been painted."""
        return self._scaled

    def image_rect(self) -> QRectF:
        """Where the photo (or the box in its place) goes, on device-pixel boundaries."""
        ratio = self.devicePixelRatioF()
        width, height = self._aspect.width(), self._aspect.height()
        scale = min(self.width() / width, self.height() / height)
        if not self._fill_width and not self._image.isNull():
            width, height = width / ratio, height / ratio  # natural size, in logical pixels
            scale = min(1.0, self.width() / width, self.height() / height)
        width, height = width * scale, height * scale
        x, y = (self.width() - width) / 2, (self.height() - height) / 2
        return QRectF(round(x * ratio) / ratio, round(y * ratio) / ratio,
                      round(width * ratio) / ratio, round(height * ratio) / ratio)

    # --- layout --------------------------------------------------------------------------------------------

    def hasHeightForWidth(self) -> bool:
        return self._fill_width

    def heightForWidth(self, width: int) -> int:
        return max(1, round(width * self._aspect.height() / self._aspect.width()))

    def sizeHint(self) -> QSize:
        width = 320
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(64, 48)

    # --- painting ------------------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        target = self.image_rect()
        if not self._image.isNull():
            painter.drawPixmap(target.topLeft(), self._pixmap_for(target))
            return
        if self._fill_width:  # the photo's place in the panel, while it loads
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.palette().color(QPalette.ColorRole.AlternateBase))
            painter.drawRoundedRect(target, CORNER, CORNER)
        if self._message:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(target.adjusted(12, 12, -12, -12), int(flags), self._message)

    def _pixmap_for(self, target: QRectF) -> QPixmap:
        ratio = self.devicePixelRatioF()
        size = QSize(round(target.width() * ratio), round(target.height() * ratio))
        if self._scaled is None or self._scaled.size() != size:
            image = self._image
            if image.size() != size:
                image = image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation)
            self._scaled = QPixmap.fromImage(image)
            self._scaled.setDevicePixelRatio(ratio)
        return self._scaled

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.DevicePixelRatioChange:  # moved to a screen of another density
            self._scaled = None
            self.update()
