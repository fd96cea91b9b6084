"""Stopping inside a batch: `should_stop` is checked before each stage of the network's body, forward and backward,
so a Stop ends a training step within one stage instead of at the end of its batch (one ResNet34 training step on a
2-core CPU takes seconds, most of them in the backward pass)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn as nn

from lakeview.core.jobs import ShouldStopFn, Stopped, never_stop


@contextmanager
def stop_points(network: nn.Module, should_stop: ShouldStopFn) -> Iterator[None]:
    """While the block runs, each child of `network.body` raises Stopped before it runs, and before its backward
    pass, once `should_stop()` is true. The caller catches Stopped where a batch may end half done."""
    if should_stop is never_stop:
        yield
        return

    def check(*_) -> None:
        if should_stop():
            raise Stopped()

    def check_on_the_way_back(module: nn.Module, inputs, output) -> None:
        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(check)  # runs before this stage's backward; autograd re-raises Stopped

    handles = [hook(child) for child in network.body.children()
               for hook in (lambda c: c.register_forward_pre_hook(check),
                            lambda c: c.register_forward_hook(check_on_the_way_back))]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
