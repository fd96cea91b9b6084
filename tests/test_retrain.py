"""The correct-then-retrain loop without a GUI: corrections, new versions, promotion, rollback, re-scoring."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from lakeview.core.catalog import Catalog
from lakeview.core.training.features_on_disk import FeatureStore
from lakeview.core.training.library_dataset import in_holdout, library_dataset
from lakeview.core.training.retrain import (RetrainResult, RetrainSettings, RetrainStep, full_retrain_plan, rescore,
                                            retrain)
from lakeview.core.training.retrain_schedule import RetrainScheduler, SchedulerPolicy, thread_launcher

from photo_tools import COLOURS, make_photo
from tiny_network import TINY


@pytest.fixture
def tiny_weights(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "tiny.pth"
    torch.save(TINY.build().state_dict(), path)
    return path


@pytest.fixture
def settings(tiny_weights) -> RetrainSettings:
    plan = full_retrain_plan(arch="tiny", weights=str(tiny_weights), size=32, lr=3e-2, frozen_epochs=1,
                             unfrozen_epochs=1, batch_size=4)
    return RetrainSettings(plan, quick_epochs=6, holdout_pct=0.25)


@pytest.fixture
def library(tmp_path):
    """A catalog of 12 red, 12 blue and 6 unlabelled photos; the coloured ones are labelled."""
    folder = tmp_path / "photos"
    paths = {}
    for name in ("red", "blue"):
        paths[name] = [make_photo(folder / f"{name}_{i:02}.jpg", COLOURS[name], seed=i + (0 if name == "red" else 50))
                       for i in range(12)]
    paths["unlabelled"] = [make_photo(folder / f"new_{i}.jpg", COLOURS["red" if i % 2 else "blue"], seed=90 + i)
                           for i in range(6)]
    with Catalog(tmp_path / "lib" / "catalog.sqlite") as catalog:
        catalog.add_folder(folder)
        catalog.ensure_classes(["red", "blue"])
        catalog.set_labels(paths["red"], "red", source="imported")
        catalog.set_labels(paths["blue"], "blue", source="imported")
    return tmp_path / "lib" / "catalog.sqlite", paths


def test_the_holdout_is_stable():
    prints = [f"{i * 2654435761 % 2**32:08x}" + "0" * 24 for i in range(1000)]
    chosen = [in_holdout(p, 0.2) for p in prints]
    assert chosen == [in_holdout(p, 0.2) for p in prints]
    assert 150 < sum(chosen) < 250


def test_a_quick_run_makes_a_version_and_rescores_every_photo(library, settings):
    path, paths = library
    outcome = retrain(path, "quick", settings)

    assert outcome.version_id and outcome.result is RetrainResult.PROMOTED and outcome.previous_error is None
    assert outcome.rescored == 30 and outcome.holdout_photos > 0
    assert outcome.message == (f"new model: {outcome.error_rate:.1%} error on {outcome.holdout_photos} held-out "
                               "photos; now active")
    with Catalog(path) as catalog:
        assert catalog.active_model().id == outcome.version_id
        model_id, top = catalog.prediction_of(paths["unlabelled"][1])
        assert model_id == outcome.version_id and top[0][0] == "red"
        assert catalog.prediction_of(paths["unlabelled"][0])[1][0][0] == "blue"
        assert [r["outcome"] for r in catalog.training_runs()] == ["promoted"]
    with FeatureStore(path.parent / "features.sqlite") as store:
        assert store.count() == 30, "every photo's body features are kept for the next run"


def test_a_correction_leads_to_a_new_version_from_cached_features(library, settings, monkeypatch):
    path, paths = library
    first = retrain(path, "quick", settings)
    with Catalog(path) as catalog:
        catalog.set_labels(paths["unlabelled"][0::2], "blue")

    import lakeview.core.training.features_on_disk as module

    calls = []
    real = module.extract_features
    monkeypatch.setattr(module, "extract_features", lambda model, paths, **kw: calls.append(len(paths)) or real(model, paths, **kw))
    second = retrain(path, "quick", settings)

    assert calls == [], "no photo went through the body again"
    assert second.version_id != first.version_id
    with Catalog(path) as catalog:
        versions = catalog.models()
        assert [v.parent for v in versions] == [None, first.version_id]
        assert (path.parent / "models" / f"{second.version_id}.lvmodel").is_file()
        assert second.promoted and second.error_rate <= second.previous_error
        assert catalog.prediction_of(paths["red"][0])[0] == second.version_id


def test_a_worse_version_is_kept_but_not_promoted(library, settings):
    path, paths = library
    good = retrain(path, "quick", settings)
    assert good.error_rate == 0.0
    settings.plan.lr, settings.quick_epochs, settings.plan.seed = 1e-9, 1, 3  # an untrained head: about a coin toss
    worse = retrain(path, "quick", settings)

    assert worse.version_id is not None and worse.result is RetrainResult.KEPT and not worse.promoted
    assert worse.error_rate > worse.previous_error == 0.0
    with Catalog(path) as catalog:
        assert catalog.active_model().id == good.version_id
        assert [m.id for m in catalog.models()] == [good.version_id, worse.version_id]
        assert catalog.prediction_of(paths["red"][0])[0] == good.version_id
        assert catalog.training_runs()[-1]["outcome"] == "kept"
    assert worse.message == (f"new model: {worse.error_rate:.1%} error on {worse.holdout_photos} held-out photos; "
                             "kept the active one at 0.0%")


@pytest.mark.parametrize("kind", ["quick", "full"])
def test_a_new_class_counts_against_the_version_that_does_not_know_it(library, settings, kind):
    path, paths = library
    first = retrain(path, "quick", settings)
    assert first.error_rate == 0.0
    with Catalog(path) as catalog:
        catalog.ensure_classes(["green"])
        catalog.set_labels(paths["unlabelled"][1::2], "green")
        data, _ = library_dataset(catalog, settings.holdout_pct)
    new_class_share = sum(p.label == "green" for p in data.valid) / len(data.valid)
    assert new_class_share > 0, "the library puts a green photo among the held-out ones"

    second = retrain(path, kind, settings)

    assert second.previous_error == pytest.approx(new_class_share), "the active version got only the green ones wrong"
    assert second.promoted == (second.error_rate <= second.previous_error), "no worse (a tie included) is promoted"


def test_rollback_rescores_with_the_older_version(library, settings):
    path, paths = library
    first = retrain(path, "quick", settings)
    with Catalog(path) as catalog:
        catalog.set_labels(paths["unlabelled"], "red")
    second = retrain(path, "quick", settings)
    with Catalog(path) as catalog:
        catalog.set_active(first.version_id)
        assert rescore(catalog) == 30
        assert {catalog.prediction_of(p)[0] for p in paths["red"]} == {first.version_id}
        assert second.version_id in [m.id for m in catalog.models()]


def test_a_promoted_version_rescores_only_what_it_has_not_scored(library, settings):
    path, paths = library
    first = retrain(path, "quick", settings)
    changed = make_photo(paths["unlabelled"][0], COLOURS["red"], seed=123)
    with Catalog(path) as catalog:
        assert rescore(catalog) == 0, "the promotion scored every photo already"
        catalog.add_photos([changed])
        catalog.store_predictions("someone-else", [(paths["red"][0], [("red", 0.9)])])

        assert rescore(catalog) == 2, "the changed photo, and the one another version scored since"
        assert {catalog.prediction_of(p)[0] for p in (changed, paths["red"][0])} == {first.version_id}
        assert rescore(catalog, everything=True) == 30


def test_cancelling_leaves_the_active_model_untouched(library, settings):
    path, _ = library
    first = retrain(path, "quick", settings)
    outcome = retrain(path, "quick", settings, should_stop=lambda: True)
    assert outcome.result is RetrainResult.STOPPED and outcome.stopped and outcome.version_id is None
    assert outcome.message == "cancelled; the active model is unchanged"
    with Catalog(path) as catalog:
        assert catalog.active_model().id == first.version_id
        assert len(catalog.models()) == 1
        assert catalog.training_runs()[-1]["outcome"] == "cancelled"
    assert len(list((path.parent / "models").iterdir())) == 1


def test_a_full_run_fine_tunes_the_body(library, settings):
    path, _ = library
    outcome = retrain(path, "full", settings)
    assert outcome.version_id and [e["phase"] for e in outcome.epochs] == ["frozen (1 cached view)", "unfrozen"]
    with Catalog(path) as catalog:
        assert catalog.active_model().kind == "full"


def test_too_few_classes_is_explained(tmp_path, settings):
    make_photo(tmp_path / "a.jpg")
    with Catalog(tmp_path / "c.sqlite") as catalog:
        catalog.add_photos([tmp_path / "a.jpg"])
        catalog.ensure_classes(["x"])
        catalog.set_labels([tmp_path / "a.jpg"], "x")
    outcome = retrain(tmp_path / "c.sqlite", "quick", settings)
    assert outcome.result is RetrainResult.TOO_FEW_CLASSES and outcome.version_id is None
    assert outcome.message == "needs labelled photos of at least two classes"


def _steps_and_counts(path, kind, settings):
    """[(step, [(done, total), ...]), ...] of one run, in order."""
    seen: list[tuple[RetrainStep, list[tuple[int, int]]]] = []
    outcome = retrain(path, kind, settings, progress=lambda done, total: seen[-1][1].append((done, total)),
                      on_step=lambda step: seen.append((step, [])))
    return outcome, seen


def test_a_quick_run_names_each_step_and_counts_through_it(library, settings):
    path, _ = library
    outcome, seen = _steps_and_counts(path, "quick", settings)

    assert outcome.result is RetrainResult.PROMOTED
    assert [step for step, _ in seen] == [RetrainStep.NEAR_DUPLICATES, RetrainStep.BODY_FEATURES, RetrainStep.HEAD,
                                          RetrainStep.CHECKING, RetrainStep.RESCORING]
    counts = dict(seen)
    features = counts[RetrainStep.BODY_FEATURES]
    assert features[0] == (0, 24) and features[-1] == (24, 24), "the 24 labelled photos, none stored yet"
    assert len(features) > 2 and [d for d, _ in features] == sorted(d for d, _ in features)
    head = counts[RetrainStep.HEAD]
    assert head[-1][0] == head[-1][1] == len(head) and len(head) >= settings.quick_epochs, "one count per batch"
    assert counts[RetrainStep.RESCORING][-1] == (30, 30), "18 photos' features stored, 6 computed now"


def test_a_full_run_names_the_head_and_the_fine_tune(library, settings):
    path, _ = library
    outcome, seen = _steps_and_counts(path, "full", settings)

    assert outcome.result is RetrainResult.PROMOTED
    assert [step for step, _ in seen] == [RetrainStep.NEAR_DUPLICATES, RetrainStep.HEAD, RetrainStep.FINE_TUNE,
                                          RetrainStep.CHECKING, RetrainStep.RESCORING]
    for step, counts in seen:
        assert counts and counts[-1][0] == counts[-1][1] > 0, step
        assert [d for d, _ in counts] == sorted(d for d, _ in counts), step


def test_scheduler_runs_after_enough_corrections_and_again_for_late_ones():
    started, release = [], threading.Event()

    def job(kind, should_stop):
        started.append(kind)
        release.wait(5)
        return kind

    scheduler = RetrainScheduler(thread_launcher(job), SchedulerPolicy(after_corrections=3, idle_seconds=3600))
    scheduler.note_corrections(2)
    assert not scheduler.running
    scheduler.note_corrections(1)
    assert scheduler.running and started == ["quick"]
    scheduler.note_corrections(1)
    assert scheduler.pending_corrections == 1, "kept while the run goes on"
    release.set()
    assert scheduler.wait(10)
    assert started == ["quick", "quick"], "the late correction triggered a second run"
    assert scheduler.pending_corrections == 0


def test_scheduler_idle_delay_on_demand_and_cancel():
    now = [0.0]
    seen = []

    def job(kind, should_stop):
        seen.append((kind, should_stop()))
        return kind

    scheduler = RetrainScheduler(thread_launcher(job), SchedulerPolicy(after_corrections=100, idle_seconds=30),
                                 clock=lambda: now[0])
    assert scheduler.seconds_to_next_run() is None
    scheduler.note_corrections(1)
    assert not scheduler.poll()
    now[0] = 5.0
    assert scheduler.seconds_to_next_run() == 25.0 and scheduler.pending_text() == "retrain in 25 s: 1 correction"
    now[0] = 31.0
    assert scheduler.seconds_to_next_run() == 0.0
    assert scheduler.poll()
    scheduler.wait(10)
    scheduler.request("full")
    scheduler.wait(10)
    assert seen == [("quick", False), ("full", False)]
    assert scheduler.outcomes == ["quick", "full"]


def test_scheduler_cancel_stops_the_run_without_a_follow_up():
    started = threading.Event()

    def job(kind, should_stop):
        started.set()
        while not should_stop():
            time.sleep(0.01)
        return "cancelled"

    scheduler = RetrainScheduler(thread_launcher(job), SchedulerPolicy(after_corrections=1, idle_seconds=3600))
    scheduler.note_corrections(1)
    assert started.wait(5)
    scheduler.note_corrections(1)
    scheduler.cancel()
    assert scheduler.wait(5)
    assert scheduler.outcomes == ["cancelled"] and not scheduler.running and scheduler.pending_corrections == 0


def test_scheduler_waits_when_the_launcher_is_busy():
    launches = []
    scheduler = RetrainScheduler(lambda kind, done: launches.append(kind) or None, SchedulerPolicy(after_corrections=1))
    scheduler.note_corrections(1)
    assert launches == ["quick"] and not scheduler.running and scheduler.pending_corrections == 1


def test_the_scheduler_says_what_waits_for_a_running_retrain():
    ends = []
    scheduler = RetrainScheduler(lambda kind, done: ends.append(done) or (lambda: None),
                                 SchedulerPolicy(after_corrections=2))
    scheduler.note_corrections(2)
    assert scheduler.running and scheduler.pending_text() == ""
    scheduler.note_corrections(1)
    assert scheduler.pending_text() == "retrain after this one: 1 correction"
    ends[0]("first")
    assert len(ends) == 2 and scheduler.pending_text() == ""
