"""Opening photos safely: any mode to RGB, EXIF orientation, reduced-size JPEG decode, clear errors."""

from __future__ import annotations

import io
import os
import struct
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin, UnidentifiedImageError

from lakeview.core.photos.pixel_budget import PixelBudget

# LakeView checks the pixel count itself (see `MAX_PIXELS`) so that an oversized file becomes a per-file
# error instead of PIL's global warning/exception pair.
Image.MAX_IMAGE_PIXELS = None

MAX_PIXELS = 100_000_000
"""The most pixels decoded for one photo: 100 MP, about 400 MB as RGB in PIL. Larger PNG, TIFF, WebP or HEIC
files are refused with a per-file reason. JPEGs are decoded at a reduced scale (down to 1/8 a side) when only a
smaller image is needed, so the limit applies to the reduced size and far larger JPEGs still open."""
JPEG_SCALES = (8, 4, 2, 1)
DECODE_BUDGET = PixelBudget(MAX_PIXELS)
"""Pixels being decoded at once in this process, all threads together (inference prefetch, thumbnails...)."""
HEIF_SUFFIXES = frozenset({".heic", ".heif"})
# ISO base media "ftyp" brands of HEIC/HEIF stills and sequences, as phones write them.
HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"})
HEIF_MISSING = "HEIC/HEIF photos need the pillow-heif package (pip install pillow-heif)"
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
# Modes PIL's Image.reduce works on; others are converted to RGB first.
_REDUCIBLE_MODES = frozenset({"L", "LA", "La", "I", "F", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr"})
# What each EXIF orientation asks for (as ImageOps.exif_transpose does it), for a photo already reduced.
EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
ORIENTATION = 0x0112
# What PIL raises for damaged files, besides UnidentifiedImageError.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)

_heif_lock = threading.Lock()
_heif_state: bool | None = None


class ImageLoadError(Exception):
    """A photo that cannot be used, with a reason a person can act on."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def heif_supported() -> bool:
    """Register pillow-heif's opener once, if the package is installed."""
    global _heif_state
    with _heif_lock:
        if _heif_state is None:
            try:
                import pillow_heif
            except ImportError:
                _heif_state = False
            else:
                pillow_heif.register_heif_opener()
                _heif_state = True
        return _heif_state


def open_image(path: Path | str, min_side: int | None = None, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Load a photo as an RGB image, upright.

    With `min_side`, the photo is returned reduced so that both sides stay at least that long: JPEGs are decoded
    at the smallest DCT scale that allows it (several times cheaper than a full decode of a 12-48 MP photo),
    other formats are box-reduced by a whole factor right after decoding.
    The header is read first: a photo that would decode to more than `max_pixels` is refused unread, and the
    decode itself waits for room in DECODE_BUDGET. Raises ImageLoadError for anything that is not a usable image.
    """
    path = Path(path)
    _check_readable(path)
    with _load_errors(path, "corrupt or truncated image"), Image.open(path) as im:
        # MPO, the multi-picture JPEG many phones write, is a JpegImageFile too.
        if min_side and isinstance(im, JpegImagePlugin.JpegImageFile):
            im.draft("RGB", (min_side, min_side))
        check_pixel_count(path, im.size, max_pixels)
        with DECODE_BUDGET.hold(im.width * im.height):
            im.load()
            reduced = _reduced(im, min_side) if min_side else im
            if reduced is im:
                upright = ImageOps.exif_transpose(im)
                return to_rgb(upright if upright is not None else im)
            # The reduced copy has lost the file's EXIF (a TIFF keeps it in its tags): ask the original.
            transpose = EXIF_TRANSPOSE.get(im.getexif().get(ORIENTATION))
            return to_rgb(reduced.transpose(transpose) if transpose is not None else reduced)


@contextmanager
def _load_errors(path: Path, damaged: str) -> Iterator[None]:
    """PIL's and the decoder's exceptions as ImageLoadError with a reason; `damaged` names a decode failure."""
    try:
        yield
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(path, _unidentified_reason(path)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(path, f"image too large: {exc}") from None
    except _DECODE_ERRORS as exc:
        raise ImageLoadError(path, f"{damaged} ({_describe(exc)})") from None
    except MemoryError:
        raise ImageLoadError(path, "not enough memory to decode this image") from None


def check_decodable(path: Path | str, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """The header's pixel size, if `open_image` can decode the photo at some size (a JPEG at its smallest
    scale); raises ImageLoadError otherwise. Nothing is decoded."""
    path = Path(path)
    _check_readable(path)
    with _load_errors(path, "corrupt image header"), Image.open(path) as im:
        size = im.size
        scale = JPEG_SCALES[0] if isinstance(im, JpegImagePlugin.JpegImageFile) else 1
    check_pixel_count(path, size, max_pixels * scale * scale)
    return size


def _reduced(im: Image.Image, min_side: int) -> Image.Image:
    """A whole-factor box reduction keeping both sides at least `min_side` (a JPEG's draft already did this)."""
    factor = min(im.size) // min_side
    if factor < 2 or isinstance(im, JpegImagePlugin.JpegImageFile):
        return im
    if im.mode in SIXTEEN_BIT_MODES:  # reduced as 32-bit integers, then mapped onto 8 bits as to_rgb does
        return to_rgb(im.convert("I").reduce(factor).convert("I;16"))
    if im.mode == "1":
        im = im.convert("L")  # a byte a pixel either way; RGB would be four
    elif im.mode not in _REDUCIBLE_MODES:
        im = to_rgb(im)
    return im.reduce(factor)


def read_size(path: Path | str) -> tuple[int, int]:
    """The pixel size from the header alone; raises ImageLoadError when the file is not a readable image."""
    path = Path(path)
    _check_readable(path)
    with _load_errors(path, "corrupt image header"), Image.open(path) as im:
        return im.size


def check_pixel_count(path: Path | str, size: tuple[int, int], max_pixels: int = MAX_PIXELS) -> None:
    """Refuse a decompression bomb (or just an enormous scan) before any pixels are decoded."""
    width, height = size
    if width * height > max_pixels:
        raise ImageLoadError(
            path,
            f"image too large: {width}x{height} px ({width * height / 1e6:.0f} MP); "
            f"the limit is {max_pixels / 1e6:.0f} MP",
        )


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB the way a person would expect to see it."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode == "La":  # PIL converts premultiplied La only to LA
        im, mode = im.convert("LA"), "LA"
    if mode in ("RGBA", "LA", "PA", "RGBa"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in SIXTEEN_BIT_MODES:
        # The whole 16-bit range maps onto 8 bits, so a dark photo stays dark. (float32 rounds every one of the
        # 65,536 values as float64 does, in half the memory.)
        return _grey_to_rgb(np.asarray(im, dtype=np.float32) / np.float32(257.0))
    if mode in ("I", "F"):
        return _grey_to_rgb(_stretch(np.asarray(im, dtype=np.float64)))
    if mode == "CMYK" and im.info.get("icc_profile"):
        converted = _icc_to_srgb(im)
        if converted is not None:
            return converted
    return im.convert("RGB")


def _grey_to_rgb(values: np.ndarray) -> Image.Image:
    grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def _stretch(values: np.ndarray) -> np.ndarray:
    """32-bit integer or float pixels have no fixed range: keep 8- or 16-bit-looking data, else stretch.
    NaN and infinite pixels (a float TIFF may hold them) are shown black instead of warning and wrapping."""
    finite = np.isfinite(values)
    if not finite.all():
        values = np.where(finite, values, 0.0)
    high = float(values.max()) if values.size else 0.0
    low = float(values.min()) if values.size else 0.0
    if low >= 0 and high <= 255:
        return values
    if low >= 0 and high <= 65535:
        return values / 257.0
    return (values - low) / max(high - low, 1e-12) * 255.0


def _icc_to_srgb(im: Image.Image) -> Image.Image | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        return ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


def check_readable(path: Path | str) -> None:
    """Raise ImageLoadError for what no decoder should open: missing, a folder, a FIFO (opening one waits
    forever for a writer), a device, an empty or unreadable file."""
    _check_readable(Path(path))


def _check_readable(path: Path) -> None:
    _check_file(path)
    # Registers pillow-heif's opener, so a HEIC photo opens whatever its name says.
    if not heif_supported() and path.suffix.lower() in HEIF_SUFFIXES:
        raise ImageLoadError(path, HEIF_MISSING)


def _check_file(path: Path) -> None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ImageLoadError(path, "file not found") from None
    except PermissionError:
        raise ImageLoadError(path, "permission denied") from None
    except OSError as exc:
        raise ImageLoadError(path, f"cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL byte in the name
        raise ImageLoadError(path, f"not a usable file name ({exc})") from None
    if not os.path.isfile(path):
        raise ImageLoadError(path, "not a regular file")
    if stat.st_size == 0:
        raise ImageLoadError(path, "empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise ImageLoadError(path, "permission denied")


def _unidentified_reason(path: Path) -> str:
    if not heif_supported() and _looks_like_heif(path):
        return HEIF_MISSING
    return f"not an image, or a format LakeView cannot read (named '{path.suffix or 'no extension'}')"


def _looks_like_heif(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__
