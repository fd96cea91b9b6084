"""How long LakeView's photo decoding takes: refusing a decompression bomb, and a camera-sized photo decoded in
full against the reduced decode the thumbnails and the network use.

    .venv/bin/python benchmarks/decode_speed.py [--rounds 5]

(a) bomb:     a 1x1 PNG whose header claims 60000x60000 (3600 MP), refused by open_image from its header alone;
              it must take milliseconds, not the seconds a decode would (tests/test_images.py proves that it
              is not decoded at all);
(b) full:     open_image on a 4000x3000 JPEG and PNG;
(c) reduced:  open_image(..., min_side=224) on the same files (JPEG: draft mode; others: reduce by a factor).
Each figure is the best of --rounds: other programs only ever slow a run down.
"""

from __future__ import annotations

import argparse
import io
import struct
import tempfile
import time
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from lakeview.core.photos.images import ImageLoadError, open_image


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose IHDR (and its CRC) claims another size."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def camera_photo(path: Path) -> Path:
    """4000x3000 of smooth gradients with noise: compresses like a photo, not like a flat colour."""
    y, x = np.mgrid[0:3000, 0:4000]
    rng = np.random.default_rng(0)
    pixels = np.stack([x * 255 // 4000, y * 255 // 3000, (x + y) * 255 // 7000], axis=-1)
    pixels = np.clip(pixels + rng.integers(-12, 12, pixels.shape), 0, 255).astype("uint8")
    Image.fromarray(pixels).save(path)
    return path


def best_seconds(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def refuse(path: Path) -> None:
    try:
        open_image(path)
    except ImageLoadError:
        return
    raise SystemExit(f"{path} was not refused")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lakeview-decode-") as folder:
        bomb = Path(folder) / "bomb.png"
        bomb.write_bytes(bomb_png(60000, 60000))
        print(f"(a) refusing a 3600 MP PNG bomb:        {best_seconds(lambda: refuse(bomb), args.rounds) * 1000:8.1f} ms")
        for suffix in (".jpg", ".png"):
            photo = camera_photo(Path(folder) / f"camera{suffix}")
            full = best_seconds(lambda: open_image(photo).load(), args.rounds)
            reduced = best_seconds(lambda: open_image(photo, min_side=224).load(), args.rounds)
            print(f"(b) 4000x3000 {suffix[1:].upper():4} full decode:           {full * 1000:8.1f} ms")
            print(f"(c) 4000x3000 {suffix[1:].upper():4} reduced (min side 224): {reduced * 1000:8.1f} ms"
                  f"  ({full / reduced:.1f}x faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
