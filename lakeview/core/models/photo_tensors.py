"""Photos to tensors for training and evaluation: a torch Dataset that reports bad files instead of failing."""

from __future__ import annotations

import gc
import multiprocessing.context
import signal
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from torch.utils.data._utils import signal_handling as _signal_handling
from torch.utils.data.dataloader import _MultiProcessingDataLoaderIter

from lakeview.core.datasets.dataset import Photo
from lakeview.core.jobs import STOP_SIGNALS
from lakeview.core.photos.images import ImageLoadError, open_image


@dataclass
class Batch:
    images: torch.Tensor
    targets: torch.Tensor
    indices: torch.Tensor
    failures: list[tuple[int, str]]
    """(index, reason) of the photos in this batch that could not be loaded."""

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    def pin_memory(self) -> "Batch":
        """Called by DataLoader(pin_memory=True) so that copies to the GPU can be asynchronous."""
        return Batch(self.images.pin_memory(), self.targets.pin_memory(), self.indices, self.failures)


class PhotoTensors(Dataset):
    """Item i -> (tensor, class index, i, error). Unlabelled photos get class index -1."""

    def __init__(self, photos: Sequence[Photo], classes: Sequence[str], transform: Callable, decode_side: int) -> None:
        self.paths = [str(p.path) for p in photos]
        lookup = {name: i for i, name in enumerate(classes)}
        self.targets = [lookup.get(p.label, -1) if p.label is not None else -1 for p in photos]
        self.transform = transform
        self.decode_side = decode_side

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int):
        try:
            image = open_image(self.paths[index], min_side=self.decode_side)
            return self.transform(image), self.targets[index], index, None
        except ImageLoadError as exc:
            return None, self.targets[index], index, exc.reason


def collate(items: list) -> Batch:
    good = [item for item in items if item[0] is not None]
    failures = [(index, reason) for tensor, _, index, reason in items if tensor is None]
    if good:
        images = torch.stack([item[0] for item in good])
    else:
        images = torch.empty(0)
    targets = torch.tensor([item[1] for item in good], dtype=torch.long)
    indices = torch.tensor([item[2] for item in good], dtype=torch.long)
    return Batch(images, targets, indices, failures)


def make_loader(
    data: PhotoTensors,
    batch_size: int,
    shuffle: bool,
    workers: int = 0,
    seed: int | None = None,
    pin_memory: bool = False,
    drop_last: bool = False,
    sampler: Callable[[torch.Generator], Sampler] | None = None,
) -> DataLoader:
    """A DataLoader whose workers (if any) are spawned, so it behaves the same on Linux, macOS and Windows.

    The workers ignore Ctrl+C, SIGTERM and SIGHUP: a terminal sends Ctrl+C to the whole process group, and only
    the main process decides what a stop means (finish the batch, clean up); it then shuts the workers down.

    `sampler`, given the loader's seeded generator, picks the photos instead of the loader's own shuffle (one
    rank's share of it, see core/distributed.py)."""
    generator = torch.Generator()
    if seed is not None:
        generator.manual_seed(seed)
    chosen = None if sampler is None else sampler(generator)
    options = {}
    if workers > 0:
        _start_resource_tracker()
        options = dict(multiprocessing_context=_WorkerContext(), worker_init_fn=ignore_stop_signals,
                       persistent_workers=True, prefetch_factor=2)
    return (_WorkersLoader if workers > 0 else DataLoader)(
        data,
        batch_size=batch_size,
        shuffle=shuffle and chosen is None,
        sampler=chosen,
        num_workers=workers,
        collate_fn=collate,
        generator=generator,
        pin_memory=pin_memory,
        drop_last=drop_last,
        **options,
    )


class _WorkersLoader(DataLoader):
    """A DataLoader whose workers' queues are made while no garbage collection can run.

    A loader's queues hold semaphores that multiprocessing's resource tracker is told about as they are made and
    freed. A loader that died in a reference cycle is freed by a garbage collection, which can start inside the
    tracker's call for the next loader's semaphores; the tracker then refuses the nested call (CPython
    gh-109629), so a freed semaphore stays registered and the process ends with a traceback and a "leaked
    semaphore" warning. Collecting first, then making the queues with collection paused, keeps the two apart."""

    def _get_iterator(self):
        gc.collect()
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self.check_worker_number_rationality()
            return _QuietShutdownIterator(self)
        finally:
            if was_enabled:
                gc.enable()


class _QuietShutdownIterator(_MultiProcessingDataLoaderIter):
    """Workers whose death while being shut down is no error.

    torch's SIGCHLD handler raises when a worker dies by a signal. Once the loader is shutting its workers down
    their batches are no longer wanted, yet under load a worker was seen to die then ('killed by signal:
    Aborted', after a Ctrl+C to the process group): the handler raised inside the iterator's __del__, and the
    process printed a traceback after 'stopped; nothing written'. The workers are forgotten by the handler
    before they are told to stop; torch still joins, and terminates any that linger."""

    def _shutdown_workers(self) -> None:
        if getattr(self, "_worker_pids_set", False):
            _signal_handling._remove_worker_pids(id(self))
            self._worker_pids_set = False
        super()._shutdown_workers()


def ignore_stop_signals(worker_id: int = 0) -> None:
    """A DataLoader worker's first act: ignore stop signals, then accept signals again (see _WorkerProcess)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _start_resource_tracker() -> None:
    """multiprocessing's helper process (it unlinks the workers' semaphores) ignores Ctrl+C and SIGTERM but dies
    of the SIGHUP a closed terminal sends its process group. Started with the stop signals blocked, it keeps
    SIGHUP blocked for good, since it unblocks only the two it ignores. Once started it is reused."""
    if not hasattr(signal, "pthread_sigmask"):
        return
    from multiprocessing import resource_tracker

    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        resource_tracker.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _WorkerProcess(multiprocessing.context.SpawnProcess):
    """Started with the stop signals blocked, a mask the new process inherits: a Ctrl+C that arrives while it is
    still importing torch waits (and is then ignored) instead of killing it before ignore_stop_signals runs. The
    main process gets its own Ctrl+C as soon as the start returns."""

    def start(self) -> None:
        if not hasattr(signal, "pthread_sigmask"):
            super().start()
            return
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            super().start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def terminate(self) -> None:
        """The DataLoader's last resort for a worker that did not exit when told; it ignores SIGTERM, so SIGKILL."""
        self.kill()


class _WorkerContext(multiprocessing.context.SpawnContext):
    Process = _WorkerProcess
