"""The classifier built on a body: a pooling layer (no parameters, so its output can be cached) and a head.

Two heads: 'linear' (average pooling, dropout, linear) and 'fastai' (concat pooling, BN, dropout, linear,
ReLU, BN, dropout, linear). On the hymenoptera photos with an ImageNet MobileNetV2 body, 'linear' made
fewer errors than 'fastai' with either crop (3.5% vs 4.1%, and 5.0% vs 5.7%; mean of three seeds,
benchmarks/head_choice.py), so it is the default: small personal photo sets favour the smaller head.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from lakeview.core.models.architectures import DEFAULT_HEAD, HEADS

DEFAULT_HIDDEN = 512
DEFAULT_DROPOUT = {"linear": 0.2, "fastai": 0.5}


class AvgPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mean(x, dim=(2, 3))


class ConcatPool(nn.Module):
    """Max and average pooling side by side, flattened (fast.ai's AdaptiveConcatPool2d)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.amax(x, dim=(2, 3)), torch.mean(x, dim=(2, 3))], dim=1)


def make_pool(kind: str) -> nn.Module:
    return ConcatPool() if kind == "fastai" else AvgPool()


def pooled_width(kind: str, features: int) -> int:
    return 2 * features if kind == "fastai" else features


def make_head(kind: str, features: int, n_classes: int, hidden: int = DEFAULT_HIDDEN,
              dropout: float | None = None) -> nn.Sequential:
    if kind not in HEADS:
        raise ValueError(f"unknown head {kind!r}; choose one of: {', '.join(HEADS)}")
    p = DEFAULT_DROPOUT[kind] if dropout is None else dropout
    if kind == "linear":
        return nn.Sequential(nn.Dropout(p), nn.Linear(features, n_classes))
    head = nn.Sequential(
        nn.BatchNorm1d(2 * features),
        nn.Dropout(p / 2),
        nn.Linear(2 * features, hidden, bias=False),
        nn.ReLU(inplace=True),
        nn.BatchNorm1d(hidden),
        nn.Dropout(p),
        nn.Linear(hidden, n_classes),
    )
    for layer in head:
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight)
    return head


def make_classifier(body: nn.Module, features: int, n_classes: int, head: str = DEFAULT_HEAD,
                    hidden: int = DEFAULT_HIDDEN, dropout: float | None = None) -> nn.Sequential:
    """body -> pool -> head, named so that each part can be run on its own."""
    return nn.Sequential(OrderedDict(
        body=body, pool=make_pool(head), head=make_head(head, features, n_classes, hidden, dropout)))
