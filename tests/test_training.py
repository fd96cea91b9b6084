"""A whole training run (the plan the app and CLI share), and the library as training data."""

from __future__ import annotations

import pytest
import torch

from lakeview.core.catalog import NONE_OF_THESE, Catalog
from lakeview.core.datasets.importers import from_folder
from lakeview.core.training.library_dataset import import_labelled, library_dataset
from lakeview.core.models.versions import save_version
from lakeview.core.models.model_file import load_model
from lakeview.core.training.evaluation import Interpretation, interpretation_of, paths_of
from lakeview.core.training.phases import make_learner, train
from lakeview.core.training.plan import TrainingPlan

TINY_PLAN = dict(arch="tiny", weights="none", size=32, batch_size=4, frozen_epochs=2, unfrozen_epochs=2, lr=1e-2,
                 unfrozen_lr=1e-2)


def _learner(data, **changes):
    plan = TrainingPlan(**(TINY_PLAN | changes))
    with pytest.warns(UserWarning, match="random weights"):
        return make_learner(data, plan), plan


def test_both_phases_run_with_progress_across_them_and_an_eta(colour_folders):
    learner, plan = _learner(from_folder(colour_folders))
    progress, reports = [], []

    stopped = train(learner, plan, progress=lambda done, total: progress.append((done, total)), on_epoch=reports.append)

    assert not stopped
    assert [r.done for r in reports] == [1, 2, 3, 4] and {r.total for r in reports} == {4}
    assert [r.stats.phase.startswith("frozen") for r in reports] == [True, True, False, False]
    assert reports[-1].eta_seconds == 0 and all(r.eta_seconds >= 0 for r in reports)
    batches = plan.total_epochs * len(learner.data.train) // plan.batch_size
    assert progress[-1][0] == progress[-1][1] >= batches, "counts every training batch of both phases"
    assert len({total for _, total in progress}) == 1
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert not learner.frozen


def test_named_phases_each_count_their_own_batches(colour_folders):
    learner, plan = _learner(from_folder(colour_folders))
    seen: list[tuple[bool, list[tuple[int, int]]]] = []

    stopped = train(learner, plan, progress=lambda done, total: seen[-1][1].append((done, total)),
                    on_phase=lambda unfrozen: seen.append((unfrozen, [])))

    assert not stopped and [unfrozen for unfrozen, _ in seen] == [False, True]
    (_, frozen), (_, unfrozen) = seen
    passes = plan.views * len(learner.data.train) + len(learner.data.valid)
    steps = plan.frozen_epochs * (len(learner.data.train) // plan.batch_size)
    assert frozen[-1] == (passes + steps, passes + steps), "the feature pass's photos, every view, then the batches"
    assert [d for d, _ in frozen] == sorted(d for d, _ in frozen)
    assert unfrozen[-1][0] == unfrozen[-1][1] == len(unfrozen), "one count per training batch of the phase"


def test_a_stop_ends_the_run_early(colour_folders):
    learner, plan = _learner(from_folder(colour_folders))
    reports = []

    stopped = train(learner, plan, should_stop=lambda: len(reports) >= 1, on_epoch=reports.append)

    assert stopped and len(reports) == 1 and learner.frozen


@pytest.mark.parametrize("changes, message", [(dict(frozen_epochs=0, unfrozen_epochs=0), "nothing to train"),
                                              (dict(lr=0), "learning rates")])
def test_an_impossible_plan_is_refused_with_a_reason(colour_folders, changes, message):
    learner, plan = _learner(from_folder(colour_folders), **changes)
    with pytest.raises(ValueError, match=message):
        train(learner, plan)


def test_the_interpretation_covers_the_validation_photos_and_a_cell_gives_its_photos(colour_folders):
    data = from_folder(colour_folders)
    learner, plan = _learner(data)
    train(learner, plan)

    result = interpretation_of(learner)

    assert sorted(result.paths) == sorted(p.path for p in data.valid)
    matrix = result.confusion_matrix()
    assert sum(map(sum, matrix)) == len(data.valid)
    for a, actual in enumerate(result.classes):
        for p, predicted in enumerate(result.classes):
            cell = paths_of(result, actual, predicted)
            assert len(cell) == matrix[a][p]
            assert all(path.parent.name == actual for path in cell)


def test_importing_a_labelled_folder_keeps_the_users_own_labels(colour_folders, tmp_path):
    data = from_folder(colour_folders)
    corrected = data.train[0].path
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        catalog.add_photos([corrected])
        catalog.ensure_classes(["red", "blue"])
        catalog.set_labels([corrected], NONE_OF_THESE, source="user")

        report, written = import_labelled(catalog, data)

        assert written == len(data.train) + len(data.valid) - 1
        assert catalog.label_of(corrected).label == NONE_OF_THESE
        assert catalog.label_of(data.valid[0].path).source == "imported"
        assert catalog.photo_count() == len(data.train) + len(data.valid)


def test_the_library_as_training_data_and_a_saved_version(colour_folders, tmp_path):
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        import_labelled(catalog, from_folder(colour_folders))
        catalog.set_labels([colour_folders / "train" / "red" / "red_0.jpg"], NONE_OF_THESE)

        data, fingerprints = library_dataset(catalog, holdout_pct=0.25)

        assert sorted(data.classes) == ["blue", "red"]
        assert len(data.train) + len(data.valid) == 31 and len(fingerprints) == 31
        assert 0 < len(data.valid) < 31
        learner, plan = _learner(data, unfrozen_epochs=0)
        train(learner, plan)
        version = save_version(catalog, learner.network, learner.meta(notes="test"), "trained", active=True)
        assert catalog.active_model().id == version
        assert load_model(catalog.active_model().file).meta.version_id == version


def test_an_import_is_not_on_the_users_undo_stack(colour_folders, tmp_path):
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        photo = colour_folders / "train" / "red" / "red_0.jpg"
        catalog.add_photos([photo])
        catalog.ensure_classes(["red", "blue"])
        catalog.set_labels([photo], "blue")
        catalog.undo()

        import_labelled(catalog, from_folder(colour_folders))

        assert not catalog.can_undo() and catalog.can_redo(), "the user's redo survives; the import is not undone"
        assert catalog.label_of(photo).label == "red" and catalog.label_of(photo).source == "imported"


def test_a_class_the_model_does_not_know_counts_as_wrong():
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    seen = Interpretation.of_labels(["a", "b"], ["1.jpg", "2.jpg", "3.jpg", "4.jpg"], probs, ["a", "b", "c", "a"])

    assert seen.classes == ["a", "b", "c"]
    assert seen.targets.tolist() == [0, 1, 2, 0] and seen.probs[:, 2].tolist() == [0, 0, 0, 0]
    assert seen.error_rate == pytest.approx(0.5) and seen.error_rate_or_none == seen.error_rate
    assert Interpretation.of_labels(["a", "b"], [], torch.empty(0, 2), []).error_rate_or_none is None
