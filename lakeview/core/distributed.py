"""Being one of several processes that torchrun started: who this process is, the process group (NCCL between
GPUs, gloo otherwise), and the few collective steps that training and classifying need: sharing out a list,
gathering results back in order, agreeing on a stop and on decisions that read the clock.

Only torch.distributed talks between the processes; torchrun (`--nproc-per-node`, `--nnodes`, `--rdzv-endpoint`)
sets the environment read here. A process that torchrun did not start is a team of none: `join_team` gives None
and everything runs as it always has."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence, TypeVar

import torch
import torch.distributed as dist
import torch.utils.data.distributed

from lakeview.core.models.device import pick_device

T = TypeVar("T")

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def started_by_torchrun() -> bool:
    """True when torchrun (or another launcher setting its variables) started this process."""
    return all(name in os.environ for name in TORCHRUN_VARIABLES)


@dataclass(frozen=True)
class Team:
    """This process's place among the processes of one torchrun launch; its methods are collective: every rank
    calls them, in the same order."""

    rank: int
    size: int
    local_rank: int
    local_size: int
    device: torch.device
    backend: str
    owns_group: bool = True
    """Whether joining made the process group (then leaving ends it); False when the caller had made it."""

    @property
    def leader(self) -> bool:
        """Rank 0: the one that prints, and the only one that writes files."""
        return self.rank == 0

    def shard(self, count: int) -> range:
        """This rank's share of `count` items: a contiguous block, the first `count % size` ranks one item more."""
        return shard_of(count, self.rank, self.size)

    def gather(self, items: Sequence[T]) -> list[T]:
        """Every rank's `items`, concatenated in rank order, on every rank: the shards' results in the original
        order."""
        parts: list[Any] = [None] * self.size
        dist.all_gather_object(parts, list(items))
        return [item for part in parts for item in part]

    def gather_to_leader(self, items: Sequence[T]) -> list[T] | None:
        """Every rank's `items`, in rank order, on rank 0 only (None elsewhere)."""
        parts: list[Any] | None = [None] * self.size if self.leader else None
        dist.gather_object(list(items), parts, dst=0)
        return None if parts is None else [item for part in parts for item in part]

    def any(self, *flags: bool) -> tuple[bool, ...]:
        """For each flag, whether it is true on any rank."""
        values = torch.tensor([int(bool(f)) for f in flags], dtype=torch.int32, device=self._collective_device)
        dist.all_reduce(values, op=dist.ReduceOp.MAX)
        return tuple(bool(v) for v in values.tolist())

    def mean(self, value: float) -> float:
        """The mean of `value` over the ranks."""
        total = torch.tensor([value], dtype=torch.float64, device=self._collective_device)
        dist.all_reduce(total)
        return total.item() / self.size

    def leaders(self, value: T) -> T:
        """Rank 0's `value`, on every rank: for decisions that read the clock or the disk, which ranks see
        differently."""
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        dist.barrier()

    @property
    def _collective_device(self) -> torch.device:
        return self.device if self.backend == "nccl" else torch.device("cpu")


def shard_of(count: int, rank: int, size: int) -> range:
    """Rank `rank`'s contiguous block of `count` items shared among `size` ranks, as even as can be."""
    base, extra = divmod(count, size)
    start = rank * base + min(rank, extra)
    return range(start, start + base + (1 if rank < extra else 0))


def team_device(preference: str | None, local_rank: int) -> torch.device:
    """The device of the rank with this `local_rank` on its machine: with CUDA and no GPU named, one GPU per rank
    in turn (`LOCAL_RANK` modulo the GPUs); anything else as `pick_device` gives it."""
    device = pick_device(preference)
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return device


def backend_for(device: torch.device, local_size: int, named_gpu: bool) -> str:
    """NCCL when each rank on a machine has a GPU of its own; gloo on CPUs and when ranks share a GPU (NCCL
    refuses two ranks on one device)."""
    if device.type == "cuda" and not named_gpu and local_size <= torch.cuda.device_count():
        return "nccl"
    return "gloo"


def join_team(device_preference: str | None = None) -> Team | None:
    """Join the process group of the torchrun launch this process belongs to (None when it belongs to none).
    Raises ValueError when the device asked for is not there."""
    if not started_by_torchrun():
        return None
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    local_size = int(os.environ.get("LOCAL_WORLD_SIZE", size))
    device = team_device(device_preference, local_rank)
    named_gpu = device_preference not in (None, "", "auto", "cuda")
    backend = backend_for(device, local_size, named_gpu)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    owns_group = not dist.is_initialized()
    if owns_group:
        dist.init_process_group(backend, rank=rank, world_size=size,
                                device_id=device if backend == "nccl" else None)
    return Team(rank, size, local_rank, local_size, device, dist.get_backend(), owns_group)


def leave_team(team: Team | None) -> None:
    if team is not None and team.owns_group and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def team_of_this_launch(device_preference: str | None = None) -> Iterator[Team | None]:
    """The team while the block runs (None outside torchrun); the process group is left however it ends."""
    team = join_team(device_preference)
    try:
        yield team
    finally:
        leave_team(team)


class ShardedShuffle(torch.utils.data.distributed.DistributedSampler):
    """A DistributedSampler whose shuffle is the one a single process's loader would make with the same seeded
    generator (a DataLoader's RandomSampler: one torch.randperm from it), rank r taking every size-th photo from
    position r. With a rank batch of (global batch / ranks), the ranks' k-th batches together hold exactly the
    photos of the single process's k-th batch, so the same seed and global batch train the same steps."""

    def __init__(self, dataset, team: Team, generator: torch.Generator, drop_last: bool) -> None:
        super().__init__(dataset, num_replicas=team.size, rank=team.rank, shuffle=True, drop_last=drop_last)
        self.generator = generator

    def __iter__(self):
        order = torch.randperm(len(self.dataset), generator=self.generator).tolist()
        if self.drop_last:
            order = order[:self.total_size]
        else:
            while len(order) < self.total_size:  # as DistributedSampler pads: from the start again
                order += order[:self.total_size - len(order)]
        return iter(order[self.rank:self.total_size:self.num_replicas])
