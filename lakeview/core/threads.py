"""How many CPU threads torch uses for a piece of work."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with `count` intra-op threads, then restore the previous number.

    For small tensors (a head on cached features) one thread is far faster: with two, each step waits at
    OpenMP barriers, and on a busy 2-core machine a head step took 20 to 50 ms instead of 0.5 ms.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
