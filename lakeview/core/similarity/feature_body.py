"""Which body describes a library's photos: the active model version's, else, before any model exists, an
ImageNet backbone from a weights file or the cached ImageNet download (never downloaded here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lakeview.core.catalog import Catalog
from lakeview.core.models.architectures import DEFAULT_ARCH, get_architecture
from lakeview.core.models.model_file import ModelMeta, SavedModel
from lakeview.core.models.weights import WeightsUnavailable, cached_file

IMAGENET = "imagenet"
BACKBONE_SIZE = 224
"""The image size a backbone's features are taken at: training's default, so a first retrain reuses them."""


@dataclass
class FeatureBody:
    model: SavedModel
    """Its body and pooling make the features; its head is unused."""
    body_id: str
    """Names the body in the feature store (shared with retraining and re-scoring)."""
    described: str
    """"the active model (3f2a1c9b0e12)", "ImageNet resnet34"."""


def feature_body(catalog: Catalog, arch: str = DEFAULT_ARCH, weights: str | Path = IMAGENET,
                 use_active: bool = True) -> FeatureBody:
    """The active model's body when the library has one (and `use_active`), else `arch` with `weights`: a .pth
    state_dict, or 'imagenet' for the ImageNet file already downloaded or adopted. Raises WeightsUnavailable,
    saying what to do, when that file is not there."""
    from lakeview.core.models.versions import load_version

    active = catalog.active_model() if use_active else None
    if active is not None:
        model = load_version(active)
        return FeatureBody(model, model.meta.body_id or model.meta.version_id, f"the active model ({active.id[:12]})")
    architecture = get_architecture(arch)
    if str(weights) == IMAGENET:
        if architecture.imagenet_weights is None or not cached_file(architecture).is_file():
            raise WeightsUnavailable(
                f"there is no model yet, and the ImageNet weights for {architecture.name} have not been "
                "downloaded.", "Give a weights file with --weights FILE.pth (and its --arch), or train a model "
                              "first (training downloads the ImageNet weights once).")
        body_id, described = f"{architecture.name}:{IMAGENET}", f"ImageNet {architecture.name}"
    else:
        from lakeview.core.photos.fingerprint import fingerprint

        path = Path(weights)
        if not path.is_file():
            raise WeightsUnavailable(f"the weights file {path} is not there.", "Give an existing --weights FILE.pth.")
        body_id, described = f"{architecture.name}:file-{fingerprint(path)[:12]}", f"{architecture.name} ({path.name})"
    from lakeview.core.models.network import build_network

    network = build_network(architecture, 2, weights)
    return FeatureBody(SavedModel(network.eval(), ModelMeta(arch=architecture.name, classes=["-", "-"],
                                                             size=BACKBONE_SIZE)), body_id, described)
