"""A model version for catalog tests: a .lvmodel of random weights (fixed seed) recorded as the library's."""

from __future__ import annotations

from pathlib import Path

import torch

from lakeview.core.catalog import Catalog
from lakeview.core.models.model_file import ModelMeta, read_meta, save_model
from lakeview.core.models.network import bare_network


def add_model(catalog: Catalog, path: Path, seed: int = 0, active: bool = True, arch: str = "tiny",
              size: int = 32) -> str:
    """Save a model of `arch` for the classes blue and red at `path`, record it in `catalog` (active unless told
    otherwise) and return its version id."""
    torch.manual_seed(seed)
    save_model(path, bare_network(arch, 2), ModelMeta(arch=arch, classes=["blue", "red"], size=size))
    meta = read_meta(path)
    catalog.ensure_classes(meta.classes)
    catalog.add_model(meta.version_id, path, meta.arch, meta.classes, None, {}, meta.created, "imported",
                      active=active)
    return meta.version_id
