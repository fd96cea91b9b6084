"""Classifying many photos: decode in threads while the network runs, stream results, memory bounded."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import torch
from torchvision.transforms import v2

from lakeview.core.models.device import autocast_dtype, pick_device
from lakeview.core.photos.images import ImageLoadError, open_image
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.models.inference_network import inference_network
from lakeview.core.models.model_file import SavedModel
from lakeview.core.models.transforms import ShortSideResize, decode_side, valid_transform

TTA_ZOOM = 1.1
TOP_K = 3
"""How many of the most probable classes a prediction keeps."""
NO_ANSWER = "the model gave no usable answer for this photo (its output was NaN or infinite)"
PREFETCH_BYTES = 256 << 20
"""Decoded photos waiting beyond the batch being run: at most this many bytes of tensors (and at least one)."""


@dataclass(frozen=True)
class Prediction:
    path: Path
    label: str
    confidence: float
    top: list[tuple[str, float]]


@dataclass(frozen=True)
class Failure:
    path: Path
    reason: str


class _Preprocess:
    """Photo path -> stacked views (1 without TTA; centre, zoomed centre and their mirror images with it)."""

    def __init__(self, size: int, mean, std, tta: bool, flip: bool) -> None:
        self.side = round(decode_side(size) * TTA_ZOOM) if tta else decode_side(size)
        self.base = valid_transform(size, mean, std)
        self.zoomed = v2.Compose([ShortSideResize(self.side), *self.base.transforms[1:]])
        self.tta, self.flip = tta, flip

    def __call__(self, path: Path) -> torch.Tensor:
        image = open_image(path, min_side=self.side)
        if not self.tta:
            return self.base(image).unsqueeze(0)
        views = [self.base(image), self.zoomed(image)]
        if self.flip:
            views += [torch.flip(v, dims=[2]) for v in views]
        return torch.stack(views)


def classify_files(
    model: SavedModel,
    paths: Iterable[Path],
    batch_size: int = 32,
    top_k: int = TOP_K,
    tta: bool = False,
    device: str | torch.device | None = None,
    decode_threads: int | None = None,
    total: int | None = None,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
) -> Iterator[Prediction | Failure]:
    """Yield one Prediction or Failure per path, in order. At most two batches of photos are in memory, and the
    second only while it stays under PREFETCH_BYTES; each decode also waits for room in images.DECODE_BUDGET."""
    device = device if isinstance(device, torch.device) else pick_device(device)
    network = inference_network(model.network, device)
    meta = model.meta
    preprocess = _Preprocess(meta.size, meta.mean, meta.std, tta, meta.flip)
    amp = autocast_dtype(device)
    threads = decode_threads or max(1, os.cpu_count() or 1)
    views = (4 if meta.flip else 2) if tta else 1
    photo_bytes = views * 3 * meta.size * meta.size * 4
    in_flight = batch_size + max(1, min(batch_size, PREFETCH_BYTES // photo_bytes))
    done = 0
    pending: deque[tuple[Path, Future]] = deque()
    source = iter(paths)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lakeview-decode") as pool:
        try:
            while True:
                while len(pending) < in_flight:
                    path = next(source, None)
                    if path is None:
                        break
                    pending.append((Path(path), pool.submit(preprocess, Path(path))))
                if not pending or should_stop():
                    return
                batch: list[tuple[Path, torch.Tensor | None, str | None]] = []
                while pending and len(batch) < batch_size:
                    path, future = pending.popleft()
                    try:
                        batch.append((path, future.result(), None))
                    except ImageLoadError as exc:
                        batch.append((path, None, exc.reason))
                    except Exception as exc:  # a decoder bug on one odd file must not end the whole job
                        batch.append((path, None, f"could not be read ({type(exc).__name__}: {exc})"))
                yield from _run_batch(network, batch, meta.classes, top_k, device, amp)
                done += len(batch)
                progress(done, total if total is not None else done + len(pending))
        finally:
            for _, future in pending:
                future.cancel()


def _run_batch(network, batch, classes, k, device, amp) -> Iterator[Prediction | Failure]:
    views = [t for _, t, _ in batch if t is not None]
    rows: Iterator[list[tuple[str, float]] | None] = iter(())
    if views:
        counts = views[0].shape[0]
        stacked = torch.cat(views)
        if device.type == "cuda":
            stacked = stacked.pin_memory()
        stacked = stacked.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        autocast = torch.autocast(device_type=device.type, dtype=amp) if amp else nullcontext()
        with torch.inference_mode(), autocast:
            probs = network(stacked).float().softmax(1)
        probs = probs.view(len(views), counts, -1).mean(1).cpu()
        rows = iter(top_classes(probs, classes, k))
    for path, tensor, reason in batch:
        if tensor is None:
            yield Failure(path, reason or "unreadable")
            continue
        top = next(rows)
        if top is None:  # weights that overflow on this photo: NaN is no answer, and never a confident one
            yield Failure(path, NO_ANSWER)
            continue
        yield Prediction(path, top[0][0], top[0][1], top)


def top_classes(probs: torch.Tensor, classes: Sequence[str], k: int = TOP_K) -> list[list[tuple[str, float]] | None]:
    """Each row of class probabilities as its k most probable (class, probability), the most probable first;
    None for a row that is not all finite (no usable answer)."""
    values, indices = probs.topk(min(k, len(classes)), dim=1)
    finite = torch.isfinite(probs).all(1)
    return [[(classes[i], float(v)) for v, i in zip(vals, idxs)] if usable else None
            for vals, idxs, usable in zip(values.tolist(), indices.tolist(), finite.tolist())]
