"""Augmentation and preprocessing with torchvision.transforms.v2, after fast.ai's `get_transforms` defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from PIL import Image
from torchvision.transforms import v2

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Photos are resized so that the crop keeps 87.5% of the shortest side (torchvision's 256 -> 224): on the
# hymenoptera photos this made 1.5 points fewer errors than cropping the whole shortest side (benchmarks/head_choice.py).
CROP_FRACTION = 0.875
MAX_ASPECT = 10
"""Resizing a photo's shortest side to 256 turns a 1 x 100,000 strip (a 475-byte PNG) into 256 x 25,600,000
pixels, gigabytes for one photo: the long side is first cut, about its centre, to 10 times the short side. The
crops and augmentations never reach beyond that, so no real photo changes."""


@dataclass(frozen=True)
class Augmentation:
    """fast.ai's get_transforms defaults. Turn `flip` off for scenes where a mirror image misleads."""

    flip: bool = True
    max_rotate: float = 10.0
    max_zoom: float = 1.1
    max_lighting: float = 0.2
    max_warp: float = 0.2
    p_affine: float = 0.75
    p_lighting: float = 0.75
    enabled: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


NO_AUGMENTATION = Augmentation(enabled=False)


def decode_side(size: int) -> int:
    """The shortest side photos are resized to before cropping `size`; reduced-size JPEG decode aims at it."""
    return round(size / CROP_FRACTION)


def limit_aspect(image: Image.Image, max_aspect: float = MAX_ASPECT) -> Image.Image:
    """`image`, its long side cut about the centre to at most `max_aspect` times its short side."""
    width, height = image.size
    short = max(1, min(width, height))
    longest = max(1, int(short * max_aspect))
    if width > longest:
        left = (width - longest) // 2
        return image.crop((left, 0, left + longest, height))
    if height > longest:
        top = (height - longest) // 2
        return image.crop((0, top, width, top + longest))
    return image


class ShortSideResize:
    """v2.Resize(side) of the shortest side, after limit_aspect, so the result is at most side x 10*side."""

    def __init__(self, side: int) -> None:
        self.side = side
        self._resize = v2.Resize(side, antialias=True)

    def __call__(self, image: Image.Image) -> Image.Image:
        return self._resize(limit_aspect(image) if isinstance(image, Image.Image) else image)

    def __repr__(self) -> str:
        return f"ShortSideResize(side={self.side}, max_aspect={MAX_ASPECT})"


def train_transform(
    size: int, augmentation: Augmentation, mean=IMAGENET_MEAN, std=IMAGENET_STD
) -> v2.Compose:
    if not augmentation.enabled:
        return valid_transform(size, mean, std)
    # Every augmentation runs on the PIL image: PIL's kernels took under 3 ms where the same v2 transforms on a
    # uint8 tensor took 100 ms on this 2-core CPU.
    steps: list = [ShortSideResize(decode_side(size))]
    if augmentation.flip:
        steps.append(v2.RandomHorizontalFlip())
    if augmentation.max_rotate or augmentation.max_zoom > 1:
        affine = v2.RandomAffine(degrees=augmentation.max_rotate, scale=(1.0, augmentation.max_zoom))
        steps.append(v2.RandomApply([affine], p=augmentation.p_affine))
    if augmentation.max_warp:
        warp = v2.RandomPerspective(distortion_scale=augmentation.max_warp, p=1.0)
        steps.append(v2.RandomApply([warp], p=augmentation.p_affine))
    if augmentation.max_lighting:
        light = v2.ColorJitter(brightness=augmentation.max_lighting, contrast=augmentation.max_lighting)
        steps.append(v2.RandomApply([light], p=augmentation.p_lighting))
    steps += [v2.RandomCrop(size), v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
    return v2.Compose(steps)


def valid_transform(size: int, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> v2.Compose:
    """Deterministic: shortest side to `size / CROP_FRACTION`, centre crop, ImageNet normalisation."""
    return v2.Compose(
        [
            ShortSideResize(decode_side(size)),
            v2.CenterCrop(size),
            v2.ToImage(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean, std),
        ]
    )
