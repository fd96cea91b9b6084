"""The body-feature pass, written once: photos through a network's body to pooled features.

What a head trains on, what the learner caches and the feature store keeps; unreadable photos are reported one
by one, and the pass goes on."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import torch
import torch.nn as nn

from lakeview.core.datasets.dataset import Photo
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress
from lakeview.core.models.device import autocast_dtype, pick_device
from lakeview.core.models.model_file import SavedModel
from lakeview.core.models.network import memory_format_of
from lakeview.core.models.photo_tensors import PhotoTensors, make_loader
from lakeview.core.models.transforms import decode_side, valid_transform
from lakeview.core.training.stop_points import stop_points


@dataclass(frozen=True)
class PooledBatch:
    indices: list[int]
    """Positions in the dataset of the photos that were read, in order."""
    outputs: torch.Tensor
    """Their pooled body features (logits, when the pass ends with the head): float, on the CPU."""
    targets: torch.Tensor
    """Their class indices (-1 for unlabelled photos)."""
    failures: list[tuple[int, str]]
    """(position, reason) of the photos in this batch that could not be read."""


def body_pass(
    network: nn.Module,
    dataset: PhotoTensors,
    device: torch.device,
    batch_size: int,
    workers: int = 0,
    with_head: bool = False,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
    seed: int | None = None,
) -> Iterator[PooledBatch]:
    """Run `network`'s body (and pooling; and its head, `with_head`) over `dataset` in order, in inference mode
    under the device's autocast, images in the layout of the network's weights. `should_stop` is checked before
    every batch and before each stage of the body; progress counts photos read or failed. `seed` seeds the
    workers' random augmentation."""
    loader = make_loader(dataset, batch_size, shuffle=False, workers=workers, seed=seed,
                         pin_memory=device.type == "cuda")
    amp = autocast_dtype(device)
    layout = memory_format_of(network)
    done = 0
    for batch in loader:
        if should_stop():
            return
        outputs = torch.empty(0)
        if len(batch):
            images = batch.images.to(device, non_blocking=True).contiguous(memory_format=layout)
            try:
                with (torch.inference_mode(), (torch.autocast(device.type, dtype=amp) if amp else nullcontext()),
                      stop_points(network, should_stop)):
                    pooled = network.pool(network.body(images))
                    outputs = (network.head(pooled) if with_head else pooled).float().cpu()
            except Stopped:  # within the batch's forward pass
                return
        yield PooledBatch(batch.indices.tolist(), outputs, batch.targets, list(batch.failures))
        done += len(batch) + len(batch.failures)
        progress(done, len(dataset))


def extract_features(
    model: SavedModel,
    paths: Sequence[Path],
    batch_size: int = 32,
    device: str | torch.device | None = None,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
) -> Iterator[tuple[Path, torch.Tensor | None, str | None]]:
    """(path, features, None) or (path, None, reason) for each path, in order; features on the CPU."""
    device = device if isinstance(device, torch.device) else pick_device(device)
    meta = model.meta
    network = model.network.to(device).eval()
    dataset = PhotoTensors([Photo(Path(p), None) for p in paths], meta.classes,
                           valid_transform(meta.size, meta.mean, meta.std), decode_side(meta.size))
    for batch in body_pass(network, dataset, device, batch_size, progress=progress, should_stop=should_stop):
        rows: dict[int, tuple[torch.Tensor | None, str | None]] = {i: (None, r) for i, r in batch.failures}
        rows.update({i: (f, None) for i, f in zip(batch.indices, batch.outputs)})
        for index in sorted(rows):
            vector, reason = rows[index]
            yield Path(dataset.paths[index]), vector, reason
