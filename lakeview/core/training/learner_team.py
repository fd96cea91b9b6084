"""A Learner's part as one of a team of ranks under torchrun (see core/distributed.py): agreeing on stops and
skipped batches, the per-rank batch, and DistributedDataParallel for the photo batches. Alone (no team) each is
the plain single-process behaviour."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from torch.nn.parallel import DistributedDataParallel

from lakeview.core.jobs import ShouldStopFn


class TeamWork:
    @property
    def rank_batch_size(self) -> int:
        """Photos per batch on this rank when the ranks share each batch of photos (the unfrozen phase)."""
        return self.batch_size if self.team is None else self.batch_size // self.team.size

    def _agreed(self, should_stop: ShouldStopFn) -> bool:
        """should_stop(), alone; with a team, whether any rank was asked to stop (collective)."""
        return should_stop() if self.team is None else self.team.any(should_stop())[0]

    def _batch_check(self, should_stop: ShouldStopFn, photos: int) -> tuple[bool, bool]:
        """(stop, skip) before a batch: skip a batch of fewer than 2 photos (some failed to decode). With a team
        both are agreed in one all-reduce, so that every rank steps, or skips, together."""
        if self.team is None:
            return should_stop(), False
        stop, unusable = self.team.any(should_stop(), photos < 2)
        return stop, unusable

    @contextmanager
    def _data_parallel(self, cached: bool) -> Iterator[None]:
        """With a team, photo batches train through DistributedDataParallel (made for this fit: it syncs the
        parameters that train now from rank 0). A head on cached features trains alike on every rank instead,
        on the same gathered features: it is cheap, and needs no gradients exchanged."""
        if self.team is None or cached:
            yield
            return
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        self._ddp = DistributedDataParallel(self.network, device_ids=device_ids)
        try:
            yield
        finally:
            self._ddp = None
