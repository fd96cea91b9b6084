"""One photo decoded into a QImage (a grid thumbnail or the preview), in a pool thread.

JPEG and PNG, nearly every photo, are decoded by Qt: QImageReader decodes a JPEG at a reduced DCT scale and
turns it upright from its EXIF orientation, all in C++ with Python's GIL released, so the GUI thread, which needs
the GIL for every Python call while it paints, is not kept waiting (PIL's Python-level parsing and glue would).
A big JPEG's embedded EXIF thumbnail is used instead when it is big enough. Anything else, and any file that
looks damaged, goes through PIL (`lakeview.core.photos.thumbnails.make_thumbnail`, built on
`lakeview.core.photos.images.open_image`), which also gives the reason a file cannot be shown.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColorSpace, QImage, QImageReader, QPainter

from lakeview.core.photos.files import WholeFormat, whole_jpeg_or_png
from lakeview.core.photos.images import DECODE_BUDGET, MAX_PIXELS, ImageLoadError, check_readable
from lakeview.core.photos.thumbnails import embedded_thumbnail, make_thumbnail

# Below this many pixels a reduced decode is as quick as reading the embedded thumbnail.
EXIF_WORTH_PIXELS = 4_000_000
_SRGB = QColorSpace(QColorSpace.NamedColorSpace.SRgb)


def make_qimage(path: str, px: int) -> QImage:
    """The photo fitted into px x px (never enlarged), upright, opaque, sRGB, as Format_RGB32.
    Raises ImageLoadError with the reason when the photo cannot be shown."""
    check_readable(path)  # before Qt or PIL opens it: a FIFO would block this pool thread forever
    image = _with_qt(path, px)
    if image is None:
        image = to_qimage(make_thumbnail(path, px))
    return image


def _with_qt(path: str, px: int) -> QImage | None:
    kind = whole_jpeg_or_png(path)  # a truncated file Qt would decode half grey, with only a logged warning
    if kind is None:
        return None
    reader = QImageReader(path, kind.value.encode())
    reader.setAutoTransform(True)
    size = reader.size()
    if not size.isValid() or size.width() * size.height() > MAX_PIXELS:
        return None  # PIL says why
    limit = QImageReader.allocationLimit() << 20
    if limit and size.width() * size.height() * 4 > limit:
        return None  # Qt would refuse it with a logged warning; PIL decodes it reduced, within DECODE_BUDGET
    if kind is WholeFormat.JPEG and size.width() * size.height() >= EXIF_WORTH_PIXELS:
        embedded = embedded_thumbnail(path, px)
        if embedded is not None:
            return to_qimage(embedded)
    if max(size.width(), size.height()) > px:
        reader.setScaledSize(size.scaled(QSize(px, px), Qt.AspectRatioMode.KeepAspectRatio))
    # Qt decodes a PNG whole before scaling it (a JPEG at a reduced DCT scale): it waits for room like PIL's.
    with DECODE_BUDGET.hold(size.width() * size.height() if kind is WholeFormat.PNG else 0):
        image = reader.read()
    if image.isNull():
        return None
    return _normalise(image)


def _normalise(image: QImage) -> QImage:
    space = image.colorSpace()
    if space.isValid() and space != _SRGB:
        image.convertToColorSpace(_SRGB)
    if image.hasAlphaChannel():  # on white, as lakeview.core.photos.images.to_rgb does
        opaque = QImage(image.size(), QImage.Format.Format_RGB32)
        opaque.fill(Qt.GlobalColor.white)
        painter = QPainter(opaque)
        painter.drawImage(0, 0, image)
        painter.end()
        return opaque
    if image.format() != QImage.Format.Format_RGB32:
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    return image


def to_qimage(image) -> QImage:
    """A PIL RGB image as a QImage that owns its pixels, in the format QPixmap takes without converting."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    data = image.tobytes()
    wrapped = QImage(data, image.width, image.height, 3 * image.width, QImage.Format.Format_RGB888)
    return wrapped.convertToFormat(QImage.Format.Format_RGB32)


__all__ = ["ImageLoadError", "make_qimage", "to_qimage"]
