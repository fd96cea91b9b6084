"""How many decoded pixels may be in memory at once across a process's decode threads.

A weighted semaphore: each decode holds its pixel count while it runs, and waits while the sum held would pass
the budget. Small photos pass side by side; two near-limit scans decode one after the other instead of
doubling the memory. Waiters are served in arrival order, so a big photo is not starved by a stream of small
ones.
"""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager
from typing import Iterator


class PixelBudget:
    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("a pixel budget needs a positive capacity")
        self.capacity = capacity
        self._held = 0
        self._queue: deque[object] = deque()
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        """Block until `pixels` (at most the whole capacity) fit, and hold them until the block ends."""
        weight = max(0, min(int(pixels), self.capacity))
        if weight == 0:
            yield
            return
        ticket = object()
        with self._changed:
            self._queue.append(ticket)
            self._changed.wait_for(lambda: self._queue[0] is ticket and self._held + weight <= self.capacity)
            self._queue.popleft()
            self._held += weight
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self._held -= weight
                self._changed.notify_all()

    @property
    def held(self) -> int:
        with self._changed:
            return self._held
