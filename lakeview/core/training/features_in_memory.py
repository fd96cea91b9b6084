"""Pooled body features the learner keeps in memory for each split, trusted only while its body is unchanged."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SplitFeatures:
    features: torch.Tensor
    """Pooled body features, one row per photo read."""
    targets: torch.Tensor
    kept: list[int]
    """Positions in the split of the photos the rows belong to (unreadable photos are left out)."""


class FeatureCache:
    """A split's features are fresh until the body changes (a step that trains the body or its BatchNorm)."""

    def __init__(self) -> None:
        self._splits: dict[str, SplitFeatures] = {}
        self._body_versions: dict[str, int] = {}
        self._body_version = 0

    def body_changed(self) -> None:
        self._body_version += 1

    def put(self, split: str, features: SplitFeatures) -> None:
        self._splits[split] = features
        self._body_versions[split] = self._body_version

    def fresh(self, split: str) -> SplitFeatures | None:
        """The split's features if they were computed with the body as it is now."""
        if split in self._splits and self._body_versions.get(split) == self._body_version:
            return self._splits[split]
        return None

    def clear(self) -> None:
        self._splits.clear()
        self._body_versions.clear()
