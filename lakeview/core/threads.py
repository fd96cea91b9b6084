"""How many CPU threads torch uses for a piece of work, and how many processes load photos for training.

Imports no torch until a thread count is set, so that the training plan's defaults stay cheap to read."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator


def usable_cores() -> int:
    """The cores this process may run on (its affinity, which a container or `taskset` can narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def training_workers(cores: int | None = None) -> int:
    """DataLoader processes for training: none on 2 cores, one per 4 cores above that, at most 4.

    On 2 cores a worker only takes CPU from the network's own threads, and it is a second process that imports
    torch, about 1 GB more resident memory (benchmarks/train_speed.py)."""
    cores = usable_cores() if cores is None else cores
    return 0 if cores <= 2 else min(4, max(1, cores // 4))


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with `count` intra-op threads, then restore the previous number.

    For small tensors (a head on cached features) one thread is far faster: with two, each step waits at
    OpenMP barriers, and on a busy 2-core machine a head step took 20 to 50 ms instead of 0.5 ms.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
