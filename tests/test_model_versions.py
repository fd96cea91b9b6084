"""A library's model versions: a model file adopted as the active version, once, and its classes joining."""

from __future__ import annotations

import pytest
import torch

from lakeview.core.catalog import Catalog
from lakeview.core.models.model_file import ModelFileError, ModelMeta, save_model
from lakeview.core.models.network import bare_network
from lakeview.core.models.versions import adopt_model_file, load_version


@pytest.fixture
def model_file(tmp_path):
    torch.manual_seed(0)
    return save_model(tmp_path / "lakes.lvmodel", bare_network("tiny", 2),
                      ModelMeta(arch="tiny", classes=["moraine", "louise"], size=32))


def test_an_adopted_file_becomes_the_active_version_and_its_classes_join(tmp_path, model_file):
    with Catalog(tmp_path / "library" / "catalog.sqlite") as catalog:
        catalog.add_class("emerald")
        version = adopt_model_file(catalog, model_file)
        active = catalog.active_model()
        assert active.id == version and active.file == model_file.absolute()
        assert catalog.class_names() == ["emerald", "moraine", "louise"]
        assert load_version(active).classes == ["moraine", "louise"]


def test_adopting_the_same_file_again_makes_it_active_without_a_second_record(tmp_path, model_file):
    with Catalog(tmp_path / "library" / "catalog.sqlite") as catalog:
        first = adopt_model_file(catalog, model_file)
        torch.manual_seed(1)
        other = save_model(tmp_path / "other.lvmodel", bare_network("tiny", 2),
                           ModelMeta(arch="tiny", classes=["moraine", "louise"], size=32))
        adopt_model_file(catalog, other)
        assert adopt_model_file(catalog, model_file) == first
        assert catalog.active_model().id == first and len(catalog.models()) == 2


def test_a_file_that_is_not_a_model_changes_nothing(tmp_path):
    not_a_model = tmp_path / "holiday.lvmodel"
    not_a_model.write_bytes(b"\xff\xd8 a photo, renamed")
    with Catalog(tmp_path / "library" / "catalog.sqlite") as catalog:
        with pytest.raises(ModelFileError):
            adopt_model_file(catalog, not_a_model)
        assert catalog.models() == [] and catalog.class_names() == []
