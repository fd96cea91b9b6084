"""The "tiny" architecture: a few conv layers with a torchvision classifier's interface, registered for every
test (tests/conftest.py) so training runs in seconds, in process only."""

from __future__ import annotations

from collections import OrderedDict

import torch.nn as nn

from lakeview.core.models.architectures import Architecture


class _TinyNet(nn.Module):
    """Same interface as a torchvision classifier: `features` (the body) then `classifier`."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(3, 8, 3, stride=2, padding=1), bn1=nn.BatchNorm2d(8), relu1=nn.ReLU(),
            conv2=nn.Conv2d(8, 16, 3, stride=2, padding=1), bn2=nn.BatchNorm2d(16), relu2=nn.ReLU(),
        ))
        self.classifier = nn.Linear(16, 1000)

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


TINY = Architecture("tiny", _TinyNet, lambda m: m.features, 16, 3, None, "a few conv layers, for tests")
