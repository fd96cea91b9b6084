"""A library's model versions: a new one saved beside the catalog and recorded, a model file adopted, or one loaded
back.

A loaded version names its classes as the library names them now (after renames)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from lakeview.core.catalog import Catalog

if TYPE_CHECKING:  # torch loads only when a version is saved or loaded
    import torch.nn as nn

    from lakeview.core.catalog.model_versions import ModelVersion
    from lakeview.core.models.model_file import ModelMeta, SavedModel


def save_version(catalog: Catalog, network: nn.Module, meta: ModelMeta, kind: str, active: bool) -> str:
    """Write a new model version file beside the catalog (a fresh id, so two runs never share a file) and record it."""
    from lakeview.core.models.model_file import save_model

    version = uuid.uuid4().hex
    meta.version_id = version
    meta.body_id = meta.body_id or version
    path = catalog.folder / "models" / f"{version}.lvmodel"
    save_model(path, network, meta)
    catalog.add_model(version, path, meta.arch, meta.classes, meta.parent, meta.metrics, meta.created, kind,
                      meta.notes, active=active)
    return version


def adopt_model_file(catalog: Catalog, path: Path) -> str:
    """Make a trained .lvmodel file (left where it is) the library's active version; its classes join the library's.
    A file adopted before becomes active again. Raises ModelFileError for a file that is not a LakeView model."""
    from lakeview.core.models.model_file import read_meta

    meta = read_meta(path)
    with catalog.all_or_nothing():
        catalog.ensure_classes(meta.classes)
        if meta.version_id in {m.id for m in catalog.models()}:
            catalog.set_active(meta.version_id)
        else:
            catalog.add_model(meta.version_id, Path(path).absolute(), meta.arch, meta.classes, meta.parent,
                              meta.metrics, meta.created, "imported", meta.notes, active=True)
    return meta.version_id


def load_version(version: "ModelVersion") -> "SavedModel":
    """A library's model version, its classes named as the library names them now (after renames)."""
    from lakeview.core.models.model_file import load_model

    model = load_model(version.file)
    if len(version.classes) == len(model.meta.classes):
        model.meta.classes = list(version.classes)
    return model
