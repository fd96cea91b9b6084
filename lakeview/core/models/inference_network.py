"""The network as classifying runs it: each BatchNorm folded into the convolution before it, laid out
channels_last. The folded network only ever classifies; a model file is always written from the network it was
made from, which keeps its BatchNorms."""

from __future__ import annotations

import torch
import torch.nn as nn


def inference_network(network: nn.Module, device: torch.device) -> nn.Module:
    """`network` folded for inference on `device`. Its BatchNorms and convolutions stay as they are; the layers
    the folded network shares with it are moved to `device` and laid out channels_last, as before folding.

    Folding removes one pass over every activation map per convolution. A network torch.fx cannot trace runs
    unfolded: the same answers, a little slower.
    """
    folded = fold_batchnorm(network)
    return folded.to(device, memory_format=torch.channels_last).eval()


def fold_batchnorm(network: nn.Module) -> nn.Module:
    """`network` in eval mode with every Conv2d -> BatchNorm2d pair replaced by one new convolution; the other
    layers are shared with `network`, whose own modules are not changed (it keeps its BatchNorms)."""
    from torch import fx
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    network.eval()
    try:
        traced = fx.symbolic_trace(network)
    except Exception:  # torch.fx cannot trace every network (data-dependent control flow): run it unfolded
        return network
    modules = dict(traced.named_modules())
    for index, node in enumerate(list(traced.graph.nodes)):
        source = node.args[0] if node.op == "call_module" and node.args else None
        if not (isinstance(source, fx.Node) and source.op == "call_module" and len(source.users) == 1):
            continue
        conv, norm = modules[source.target], modules[node.target]
        if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d) and norm.track_running_stats:
            name = f"folded_{index}"  # a new name at the top: the module under the old name stays as it was
            modules[name] = fuse_conv_bn_eval(conv, norm)
            traced.add_submodule(name, modules[name])
            source.target = name
            node.replace_all_uses_with(source)
            traced.graph.erase_node(node)
    traced.graph.lint()
    return fx.GraphModule(traced, traced.graph)
