"""Real photos and a real ImageNet backbone (../shared): the default recipe must reach <= 6% error."""

from __future__ import annotations

import json

import pytest

from lakeview.cli.main import main
from lakeview.core.datasets.importers import from_folder
from lakeview.core.models.model_file import load_model

from photo_tools import HYMENOPTERA, MOBILENET_WEIGHTS, requires_shared

pytestmark = [requires_shared, pytest.mark.realdata]


def test_hymenoptera_imports_with_its_val_folder():
    data = from_folder(HYMENOPTERA)
    assert data.classes == ["ants", "bees"]
    assert (len(data.train), len(data.valid)) == (245, 153)
    assert data.counts()["valid"] == {"ants": 70, "bees": 83}


@pytest.mark.slow
def test_default_recipe_on_hymenoptera_reaches_five_percent_error(tmp_path, capsys):
    model_path = tmp_path / "hymenoptera.lvmodel"
    code = main(["train", str(HYMENOPTERA), "--arch", "mobilenet_v2", "--weights", str(MOBILENET_WEIGHTS),
                 "--out", str(model_path), "--quiet"])
    assert code == 0, capsys.readouterr().err
    model = load_model(model_path)
    history = model.meta.history
    phases = [h["phase"] for h in history]
    assert phases[:8] == ["frozen (1 cached view)"] * 8 and 1 <= len(phases[8:]) <= 4
    assert set(phases[8:]) == {"unfrozen"}
    print("per-epoch error:", [round(h["error_rate"], 4) for h in history])
    kept = model.meta.metrics.get("kept_epoch", len(history))
    assert model.meta.metrics["error_rate"] == history[kept - 1]["error_rate"] == min(h["error_rate"] for h in history[7:])
    assert model.meta.metrics["error_rate"] <= 0.05  # 3.9% here (6 of 153 photos); fast.ai's recipe: 18.3%

    figures = tmp_path / "figures.json"
    assert main(["evaluate", str(HYMENOPTERA), "--model", str(model_path), "--json", str(figures), "--quiet"]) == 0
    evaluated = json.loads(figures.read_text())
    assert evaluated["photos"] == 153
    assert evaluated["error_rate"] == pytest.approx(model.meta.metrics["error_rate"], abs=1 / 153 + 1e-9)
