"""Opening photos safely: any mode to RGB, EXIF orientation, reduced-size JPEG decode, clear errors."""

from __future__ import annotations

import io
import os
import struct
import threading
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

# LakeView checks the pixel count itself (see `MAX_PIXELS`) so that an oversized file becomes a per-file
# error instead of PIL's global warning/exception pair.
Image.MAX_IMAGE_PIXELS = None

MAX_PIXELS = 250_000_000
HEIF_SUFFIXES = frozenset({".heic", ".heif"})

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

    With `min_side`, JPEGs are decoded at the smallest DCT scale whose sides are both at least that long,
    which is several times cheaper than a full decode of a 12-48 MP photo.
    Raises ImageLoadError for anything that is not a usable image.
    """
    path = Path(path)
    _check_file(path)
    if path.suffix.lower() in HEIF_SUFFIXES and not heif_supported():
        raise ImageLoadError(path, "HEIC/HEIF photos need the pillow-heif package (pip install pillow-heif)")
    try:
        with Image.open(path) as im:
            width, height = im.size
            if width * height > max_pixels:
                raise ImageLoadError(
                    path,
                    f"image too large: {width}x{height} px ({width * height / 1e6:.0f} MP); "
                    f"the limit is {max_pixels / 1e6:.0f} MP",
                )
            if min_side and im.format == "JPEG":
                im.draft("RGB", (min_side, min_side))
            im.load()
            upright = ImageOps.exif_transpose(im)
            return to_rgb(upright if upright is not None else im)
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(path, _unidentified_reason(path)) from None
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(path, f"image too large: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise ImageLoadError(path, f"corrupt or truncated image ({_describe(exc)})") from None
    except MemoryError:
        raise ImageLoadError(path, "not enough memory to decode this image") from None


def read_size(path: Path | str) -> tuple[int, int]:
    """The pixel size from the header alone; raises ImageLoadError when the file is not a readable image."""
    path = Path(path)
    _check_file(path)
    if path.suffix.lower() in HEIF_SUFFIXES and not heif_supported():
        raise ImageLoadError(path, "HEIC/HEIF photos need the pillow-heif package (pip install pillow-heif)")
    try:
        with Image.open(path) as im:
            return im.size
    except UnidentifiedImageError:
        raise ImageLoadError(path, _unidentified_reason(path)) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise ImageLoadError(path, f"corrupt image header ({_describe(exc)})") from None


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB the way a person would expect to see it."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_to_uint8(np.asarray(im))).convert("RGB")
    if mode == "CMYK" and im.info.get("icc_profile"):
        converted = _icc_to_srgb(im)
        if converted is not None:
            return converted
    return im.convert("RGB")


def _to_uint8(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64)
    high = float(values.max()) if values.size else 0.0
    low = float(values.min()) if values.size else 0.0
    if low >= 0 and high <= 255:
        scaled = values
    elif low >= 0 and high <= 65535:
        scaled = values / 257.0
    else:
        scaled = (values - low) / max(high - low, 1e-12) * 255.0
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _icc_to_srgb(im: Image.Image) -> Image.Image | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        return ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


def _check_file(path: Path) -> None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ImageLoadError(path, "file not found") from None
    except PermissionError:
        raise ImageLoadError(path, "permission denied") from None
    except OSError as exc:
        raise ImageLoadError(path, f"cannot read: {exc.strerror or exc}") from None
    if not os.path.isfile(path):
        raise ImageLoadError(path, "not a regular file")
    if stat.st_size == 0:
        raise ImageLoadError(path, "empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise ImageLoadError(path, "permission denied")


def _unidentified_reason(path: Path) -> str:
    return f"not an image, or a format LakeView cannot read (named '{path.suffix or 'no extension'}')"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__
