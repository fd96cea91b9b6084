"""Why LakeView's defaults are what they are: head, crop and BatchNorm statistics, measured on real photos.

Needs ../shared (hymenoptera photos and the ImageNet MobileNetV2 weights). Run on purpose:

    .venv/bin/python benchmarks/head_choice.py           # heads x crops on cached features (about 1 minute)
    .venv/bin/python benchmarks/head_choice.py --bn      # also: unfrozen training with BN statistics frozen vs re-estimated (about 6 minutes)

Prints validation error rates (153 photos: one photo is 0.65 points) for three seeds each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.optim.lr_scheduler import OneCycleLR
from torchvision.transforms import v2

from lakeview.core.datasets.dataset import LabelledPhotos
from lakeview.core.datasets.importers import from_folder
from lakeview.core.models.head import make_head, make_pool
from lakeview.core.photos.images import open_image
from lakeview.core.training.learner import Learner
from lakeview.core.models.network import build_network
from lakeview.core.models.transforms import IMAGENET_MEAN, IMAGENET_STD

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "data" / "hymenoptera"
WEIGHTS = SHARED / "weights" / "mobilenet_v2-imagenet.pth"
SEEDS = (0, 1, 2)


def body_features(network, photos, classes, resize: int, size: int = 224):
    transform = v2.Compose([v2.Resize(resize), v2.CenterCrop(size), v2.ToImage(),
                            v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(photos), 32):
            batch = torch.stack([transform(open_image(p.path, resize)) for p in photos[start:start + 32]])
            outputs.append(network.body(batch))
    targets = torch.tensor([classes.index(p.label) for p in photos])
    return torch.cat(outputs), targets


def fit_head(kind: str, channels: int, x: torch.Tensor, y: torch.Tensor, seed: int, epochs: int = 8,
             lr: float = 1e-3) -> torch.nn.Module:
    """A new two-class `kind` head over a body of `channels` channels, fitted on its pooled features `x` with
    targets `y`: AdamW, one-cycle, batches of 16 (benchmarks/location_hint.py fits its pixel model with it too)."""
    torch.manual_seed(seed)
    head = make_head(kind, channels, 2)
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.01)
    steps = max(1, len(y) // 16)
    schedule = OneCycleLR(optimizer, lr, epochs=epochs, steps_per_epoch=steps, pct_start=0.25)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        head.train()
        order = torch.randperm(len(y), generator=generator)
        for i in range(steps):
            index = order[i * 16:(i + 1) * 16]
            loss = F.cross_entropy(head(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    return head.eval()


def head_error(kind: str, train_maps, train_y, valid_maps, valid_y, seed: int, epochs: int = 8, lr: float = 1e-3) -> float:
    pool = make_pool(kind)
    x_train, x_valid = pool(train_maps), pool(valid_maps)
    head = fit_head(kind, train_maps.shape[1], x_train, train_y, seed, epochs, lr)
    with torch.no_grad():
        return (head(x_valid).argmax(1) != valid_y).float().mean().item()


def compare_heads_and_crops(data: LabelledPhotos) -> None:
    network = build_network("mobilenet_v2", 2, WEIGHTS).eval()
    print("head x crop, frozen ImageNet MobileNetV2 body, 8 epochs one-cycle at 1e-3; error % per seed")
    for crop_name, resize in (("crop the whole shortest side (224 -> 224)", 224), ("crop 87.5% (256 -> 224)", 256)):
        train = body_features(network, data.train, data.classes, resize)
        valid = body_features(network, data.valid, data.classes, resize)
        for kind in ("linear", "fastai"):
            errors = [100 * head_error(kind, *train, *valid, seed) for seed in SEEDS]
            print(f"  {crop_name:<42} head={kind:<7} " + " ".join(f"{e:5.2f}" for e in errors)
                  + f"   mean {statistics.mean(errors):5.2f}")


def compare_bn_statistics(data: LabelledPhotos) -> None:
    print("\nfull default recipe (4 frozen + 4 unfrozen epochs), BN statistics frozen vs re-estimated; final error %")
    for train_bn_stats in (False, True):
        learner = Learner(data, arch="mobilenet_v2", weights=WEIGHTS, seed=42, train_bn_stats=train_bn_stats)
        learner.fit_one_cycle(4, 3e-3)
        learner.unfreeze()
        learner.fit_one_cycle(4, slice(1e-5, 1e-4))
        errors = [round(100 * h.error_rate, 2) for h in learner.history]
        print(f"  train_bn_stats={train_bn_stats!s:<5}  per epoch: {errors}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bn", action="store_true", help="also compare BatchNorm statistics (slow)")
    args = parser.parse_args()
    if not (DATA.is_dir() and WEIGHTS.is_file()):
        print(f"needs {DATA} and {WEIGHTS}", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    data = from_folder(DATA)
    compare_heads_and_crops(data)
    if args.bn:
        compare_bn_statistics(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
