"""Pooled body features of photos: what a head trains on, and what the feature store keeps."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Iterator, Sequence

import torch

from lakeview.core.models.photo_tensors import PhotoTensors, make_loader
from lakeview.core.datasets.dataset import Photo
from lakeview.core.models.device import autocast_dtype, pick_device
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.models.model_file import SavedModel
from lakeview.core.models.transforms import decode_side, valid_transform


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
    loader = make_loader(dataset, batch_size, shuffle=False, pin_memory=device.type == "cuda")
    amp = autocast_dtype(device)
    done = 0
    with torch.inference_mode(), (torch.autocast(device.type, dtype=amp) if amp else nullcontext()):
        for batch in loader:
            if should_stop():
                return
            rows: dict[int, tuple[torch.Tensor | None, str | None]] = {i: (None, r) for i, r in batch.failures}
            if len(batch):
                images = batch.images.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
                pooled = network.pool(network.body(images)).float().cpu()
                rows.update({i: (f, None) for i, f in zip(batch.indices.tolist(), pooled)})
            for index in sorted(rows):
                vector, reason = rows[index]
                yield Path(dataset.paths[index]), vector, reason
            done += len(rows)
            progress(done, len(dataset))
