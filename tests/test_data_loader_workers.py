"""The DataLoader with worker processes: a dead loader's queues are freed before the next loader makes its own."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch
from torch.utils.data import Dataset

from lakeview.core.models.photo_tensors import make_loader


class Numbered(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int):
        return torch.full((3,), float(index)), 0, index, None


@pytest.mark.slow
def test_a_loader_that_died_in_a_reference_cycle_is_freed_before_the_next_loader_starts():
    first = make_loader(Numbered(), 2, shuffle=False, workers=1)
    assert [b.indices.tolist() for b in first] == [[0, 1], [2, 3]]
    queue = weakref.ref(first._iterator._worker_result_queue)
    first.itself = first  # only a garbage collection can free it now
    del first
    was_enabled = gc.isenabled()
    gc.disable()  # so that nothing but the next loader collects it
    try:
        assert queue() is not None
        second = make_loader(Numbered(), 2, shuffle=False, workers=1)
        assert [b.indices.tolist() for b in second] == [[0, 1], [2, 3]]
        assert queue() is None, "the dead loader's queue (and its semaphores) outlived the next loader's start"
        assert not gc.isenabled()  # the pause is the loader's own: the caller's setting is left as it was
    finally:
        if was_enabled:
            gc.enable()
