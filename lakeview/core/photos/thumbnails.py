"""Making one thumbnail with PIL: the JPEG's embedded EXIF thumbnail when it is big enough, else a reduced-size
decode; always upright. The grid turns it into a QImage (gui.grid.qimages) for the photos Qt does not decode itself."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import ExifTags, Image, JpegImagePlugin

from lakeview.core.photos.images import (DECODE_BUDGET, EXIF_TRANSPOSE, MAX_PIXELS, ORIENTATION, ImageLoadError,
                                         check_readable, open_image, to_rgb)

JPEG_OFFSET, JPEG_LENGTH = 0x0201, 0x0202  # JPEGInterchangeFormat(Length), in IFD1
# How far the embedded thumbnail's shape may differ from the photo's (cameras that letterbox a 16:9 photo
# into a 160x120 thumbnail would otherwise show black bars).
ASPECT_TOLERANCE = 0.03


def make_thumbnail(path: Path | str, px: int) -> Image.Image:
    """An RGB image whose longer side is `px` (smaller only when the photo is), upright.

    Raises ImageLoadError, with a reason a person can act on, for a file that cannot be shown.
    """
    check_readable(path)  # before anything opens it: a FIFO would block this thread forever
    embedded = embedded_thumbnail(path, px)
    if embedded is not None:
        return embedded
    image = open_image(path, min_side=px)
    if max(image.size) > px:
        # reducing_gap: a cheap box reduction first, then a good filter over the last factor of 2.
        image.thumbnail((px, px), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return image


def embedded_thumbnail(path: Path | str, px: int) -> Image.Image | None:
    """The EXIF thumbnail of a JPEG, upright and scaled to `px`, if its longer side is at least `px` and its
    shape matches the photo's; None otherwise (including any problem reading it: the full decode decides)."""
    try:
        with Image.open(path) as im:
            if not isinstance(im, JpegImagePlugin.JpegImageFile):
                return None
            raw = im.info.get("exif")
            if not raw:
                return None
            exif = im.getexif()
            ifd1 = exif.get_ifd(ExifTags.IFD.IFD1)
            offset, length = ifd1.get(JPEG_OFFSET), ifd1.get(JPEG_LENGTH)
            if not isinstance(offset, int) or not isinstance(length, int) or length <= 0:
                return None
            data = raw[6:] if raw.startswith(b"Exif\x00\x00") else raw  # offsets count from the TIFF header
            blob = data[offset:offset + length]
            if len(blob) != length:
                return None
            width, height = im.size
            orientation = exif.get(ORIENTATION, 1)
        with Image.open(io.BytesIO(blob)) as thumb:
            if max(thumb.size) < px or min(thumb.size) < 1:
                return None
            if thumb.width * thumb.height > min(width * height, MAX_PIXELS):  # bigger than the photo: crafted
                return None
            if abs(thumb.width / thumb.height - width / height) > ASPECT_TOLERANCE * width / height:
                return None
            if isinstance(thumb, JpegImagePlugin.JpegImageFile):
                thumb.draft("RGB", (px, px))
            with DECODE_BUDGET.hold(thumb.width * thumb.height):
                thumb.load()
                image = to_rgb(thumb)
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, ZeroDivisionError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    if orientation in EXIF_TRANSPOSE:
        image = image.transpose(EXIF_TRANSPOSE[orientation])
    if max(image.size) > px:
        image.thumbnail((px, px), Image.Resampling.BICUBIC)
    return image


__all__ = ["ImageLoadError", "embedded_thumbnail", "make_thumbnail"]
