"""Photo-like pictures made on the fly (their perceptual hashes differ) and bursts of them: each picture with
frames shifted a few pixels, a little brighter or darker and recompressed, as a burst camera gives."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance


def scene(seed: int, size=(160, 120)) -> Image.Image:
    """A photo-like picture: smooth random shapes (its pHash is its own), with some grain."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)).resize(size, Image.BICUBIC)
    grain = rng.integers(-12, 12, (size[1], size[0], 3))
    return Image.fromarray(np.clip(np.asarray(coarse, dtype=int) + grain, 0, 255).astype(np.uint8))


def burst_frame(image: Image.Image, seed: int) -> Image.Image:
    """The next frame of a burst: shifted by a few pixels and a little brighter or darker."""
    rng = random.Random(seed)
    w, h = image.size
    dx, dy = rng.randint(1, 4), rng.randint(1, 4)
    frame = image.crop((dx, dy, w - 4 + dx, h - 4 + dy)).resize((w, h))
    return ImageEnhance.Brightness(frame).enhance(rng.uniform(0.93, 1.07))


def save(image: Image.Image, path: Path, quality: int = 90, exif: Image.Exif | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=quality, **({"exif": exif} if exif is not None else {}))
    return path


def bursts_and_singles(root: Path, classes: dict[str, tuple[int, int]]) -> dict[str, list[list[Path]]]:
    """Per class: (bursts of 4, single photos) written under root/<class>/; the bursts' paths."""
    made: dict[str, list[list[Path]]] = {}
    seed = 0
    for name, (bursts, singles) in classes.items():
        made[name] = []
        for b in range(bursts):
            seed += 1
            base = scene(seed)
            made[name].append([save(base if k == 0 else burst_frame(base, 100 * seed + k),
                                    root / name / f"b{b}_{k}.jpg", quality=90 - 8 * k) for k in range(4)])
        for s in range(singles):
            seed += 1
            save(scene(seed), root / name / f"s{s}.jpg")
    return made
