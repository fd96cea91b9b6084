"""The Train and Results tabs driven as a user would: train with live curves, stop, find a learning rate, the
offline-weights choice, and a confusion-matrix cell that filters the grid."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from lakeview.core.catalog import NONE_OF_THESE
from lakeview.core.models.weights import WeightsUnavailable
from lakeview.gui.training_settings import IMAGENET_WEIGHTS, NO_WEIGHTS
from lakeview.gui.worker import Ending, JobEnd, JobKind

pytestmark = pytest.mark.filterwarnings("ignore:.*random weights")


def tiny_settings(panel, folder, frozen=2, unfrozen=1):
    panel.set_folder(folder)
    panel.arch.setCurrentText("tiny")
    panel.weights.setCurrentText(NO_WEIGHTS)
    panel.size.setValue(32)
    panel.batch_size.setValue(4)
    panel.frozen_epochs.setValue(frozen)
    panel.unfrozen_epochs.setValue(unfrozen)
    panel.lr.setValue(0.01)
    panel.unfrozen_lr.setValue(0.01)


def start_a_long_training(qtbot, window, colour_folders):
    """100 epochs, under way (its first progress has arrived): a run to stop or to get in the way of."""
    panel = window.training_panel
    tiny_settings(panel, colour_folders, frozen=50, unfrozen=50)
    qtbot.waitUntil(lambda: panel.counts.rowCount() == 2, timeout=10_000)
    with qtbot.waitSignal(window.session.job_progress, timeout=30_000):
        panel.start_training()
    return panel


def run_job(qtbot, window, start, timeout=60_000) -> JobEnd:
    with qtbot.waitSignal(window.session.job_ended, timeout=timeout) as ended:
        start()
    return ended.args[0]


def test_training_draws_curves_activates_the_model_and_shows_results(qtbot, window, colour_folders):
    panel = window.training_panel
    tiny_settings(panel, colour_folders)
    qtbot.waitUntil(lambda: panel.counts.rowCount() == 2, timeout=10_000)
    assert panel.counts.item(0, 0).text() == "12" and panel.counts.item(0, 1).text() == "4"
    progress = []
    window.session.job_progress.connect(
        lambda done, total: progress.append((done, total, window.job_status.bar.text())))

    end = run_job(qtbot, window, lambda: qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton))

    assert end.name == "Training" and end.ending is Ending.DONE and end.message.startswith("new model"), end
    assert len(panel.curves.epochs) == 3
    x, y = panel.curves.train_loss.getData()
    assert list(x) == [1, 2, 3] and len(y) == 3
    assert panel.curves.unfreeze_line is not None
    done, total, shown = progress[-1]
    assert done == total and shown == f"batch {total} of {total}", "counts the training batches of every epoch"
    assert window.session.catalog.active_model() is not None
    assert "model:" in window.model_label.text() and "none" not in window.model_label.text()
    assert window.tabs.currentWidget() is window.results
    matrix = window.results.matrix
    total = sum(int(matrix.item(r, c).text()) for r in range(2) for c in range(2))
    assert total == 8
    assert window.results.gallery.count() == 8
    assert "Trained in" in panel.status.text() and " error on 8 validation photos" in panel.status.text()
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()


def test_clicking_a_confusion_cell_filters_the_grid(qtbot, window, colour_folders):
    tiny_settings(window.training_panel, colour_folders)
    run_job(qtbot, window, window.training_panel.start_training)
    matrix = window.results.matrix
    row = 0 if int(matrix.item(0, 0).text()) else 1
    expected = int(matrix.item(row, row).text())
    actual = matrix.verticalHeaderItem(row).text()

    rect = matrix.visualItemRect(matrix.item(row, row))
    qtbot.mouseClick(matrix.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    assert window.tabs.currentWidget() is window.grid
    model = window.model
    assert model.rowCount() == expected > 0
    assert all(model.path_at(r).parent.name == actual for r in range(model.rowCount()))
    assert window.filter_bar.showing_action.isVisible() and f"actual {actual}" in window.filter_bar.showing.text()
    qtbot.mouseClick(window.filter_bar.show_folder_button, Qt.MouseButton.LeftButton)
    assert window.session.only is None and not window.filter_bar.showing_action.isVisible()


def test_a_top_loss_tile_fixes_its_label(qtbot, window, colour_folders):
    tiny_settings(window.training_panel, colour_folders)
    run_job(qtbot, window, window.training_panel.start_training)
    item = window.results.gallery.item(0)
    path = item.data(Qt.ItemDataRole.UserRole)
    qtbot.waitUntil(lambda: window.model.loader.pixmap(path, 150) is not None, timeout=10_000)

    menu = window.results.tile_menu(item)
    none = [a for a in menu.actions() if a.text() == "None of these"][0]
    none.trigger()

    assert window.session.catalog.label_of(path).label == NONE_OF_THESE
    assert window.session.catalog.label_of(path).source == "user"


def test_stop_ends_training_within_a_batch_and_saves_nothing(qtbot, window, colour_folders):
    panel = start_a_long_training(qtbot, window, colour_folders)
    assert panel.stop_button.isEnabled()

    end = run_job(qtbot, window, lambda: qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton),
                  timeout=5_000)

    assert end == JobEnd(JobKind.TRAINING, "Training", Ending.CANCELLED, "cancelled")
    assert window.session.catalog.active_model() is None
    assert "Stopped" in panel.status.text() and panel.train_button.isEnabled()


def test_the_lr_finder_plots_its_curve_and_sets_the_suggestion(qtbot, window, colour_folders):
    panel = window.training_panel
    tiny_settings(panel, colour_folders)

    end = run_job(qtbot, window, lambda: qtbot.mouseClick(panel.find_lr_button, Qt.MouseButton.LeftButton))

    lrs, losses = panel.lr_plot.points()
    assert len(lrs) == len(losses) > 5 and lrs == sorted(lrs)
    if panel.lr_plot.suggestion is not None:
        assert panel.lr_plot.suggestion_line is not None
        assert panel.lr.value() == pytest.approx(float(f"{panel.lr_plot.suggestion:.1g}"))
        assert end.message.startswith("suggested learning rate")


def test_offline_weights_offer_a_file_or_scratch(qtbot, window, colour_folders, monkeypatch):
    def offline(arch, progress, should_stop):
        raise WeightsUnavailable("cannot download the ImageNet weights for tiny: no network",
                                 "Instead, use a copy with --weights FILE.")

    monkeypatch.setattr("lakeview.core.models.network.imagenet_state_dict", offline)
    panel = window.training_panel
    tiny_settings(panel, colour_folders)
    panel.weights.setCurrentText(IMAGENET_WEIGHTS)

    end = run_job(qtbot, window, panel.start_training)

    assert end.message == "the pretrained weights are not available"
    box = panel.offline_box
    qtbot.waitUntil(box.isVisible)
    assert "no network" in box.informativeText() and "--weights" not in box.informativeText()
    with qtbot.waitSignal(window.session.job_ended, timeout=60_000) as ended:
        qtbot.mouseClick(panel.scratch_button, Qt.MouseButton.LeftButton)
    assert ended.args[0].message.startswith("new model")
    assert panel.weights.currentText() == NO_WEIGHTS


def test_the_active_model_can_be_measured_again_later(qtbot, window, colour_folders):
    tiny_settings(window.training_panel, colour_folders)
    run_job(qtbot, window, window.training_panel.start_training)
    window.results.show_interpretation(None)
    window.tabs.setCurrentWidget(window.grid)

    end = run_job(qtbot, window, lambda: qtbot.mouseClick(window.results.evaluate_button,
                                                          Qt.MouseButton.LeftButton))

    assert end.name == "Measuring the model" and "held-out photos" in end.message
    assert window.tabs.currentWidget() is window.results
    assert window.results.matrix.rowCount() == 2


def test_the_imagenet_download_shows_its_progress(qtbot, window, colour_folders, monkeypatch):
    from tiny_network import TINY

    seen = []

    def download(arch, progress, should_stop):
        for done in (0, 40_000_000, 83_000_000):
            progress(done, 83_000_000)
        return TINY.build().state_dict()

    monkeypatch.setattr("lakeview.core.models.network.imagenet_state_dict", download)
    panel = window.training_panel
    tiny_settings(panel, colour_folders)
    panel.weights.setCurrentText(IMAGENET_WEIGHTS)
    original = panel._show_download

    def spy(done, total):
        original(done, total)
        if panel.download_dialog is not None:
            seen.append((panel.download_dialog.value(), panel.download_dialog.maximum(), panel.download_dialog.labelText()))

    monkeypatch.setattr(panel, "_show_download", spy)
    end = run_job(qtbot, window, panel.start_training)

    assert end.message.startswith("new model")
    assert seen[0][:2] == (0, 83_000_000) and "40.0 of 83.0 MB" in seen[1][2]
    assert panel.download_dialog is None


def test_a_refused_job_leaves_the_running_training_alone(qtbot, window, colour_folders):
    panel = start_a_long_training(qtbot, window, colour_folders)

    with qtbot.waitSignal(window.session.notice, timeout=1_000) as refused:
        panel.find_learning_rate()

    assert refused.args == ["Finding learning rate", "wait for 'Training' to finish, or cancel it"]
    assert panel.stop_button.isEnabled() and not panel.train_button.isEnabled()
    assert window.job_status.cancel_button.isVisible()
    run_job(qtbot, window, window.session.cancel_job, timeout=5_000)


def test_esc_asks_before_it_stops_a_training(qtbot, window, colour_folders):
    from PySide6.QtWidgets import QMessageBox

    start_a_long_training(qtbot, window, colour_folders)

    window.cancel_job()
    question = window.stop_question
    qtbot.waitUntil(question.isVisible)
    question.button(QMessageBox.StandardButton.No).click()
    assert window.session.busy
    window.cancel_job()
    with qtbot.waitSignal(window.session.job_ended, timeout=5_000) as ended:
        window.stop_question.button(QMessageBox.StandardButton.Yes).click()
        # Answered at once, before the batch has ended
        assert window.job_status.label.text() == "Training: stopping…"
        assert not window.job_status.cancel_button.isEnabled()
    assert ended.args == [JobEnd(JobKind.TRAINING, "Training", Ending.CANCELLED, "cancelled")]


def test_a_confusion_cell_shows_its_photos_whatever_the_filter(qtbot, window, colour_folders):
    tiny_settings(window.training_panel, colour_folders)
    run_job(qtbot, window, window.training_panel.start_training)
    window.filter_bar.filter_box.setCurrentText("Unlabelled")

    window.results.choose_cell(0, 0)

    expected = int(window.results.matrix.item(0, 0).text())
    assert window.model.rowCount() == expected and window.filter_bar.filter_box.currentIndex() == 0


def test_a_labelled_folders_classes_appear_as_soon_as_training_has_read_it(qtbot, window, colour_folders):
    start_a_long_training(qtbot, window, colour_folders)

    qtbot.waitUntil(lambda: window.classes_panel.list.count() == 2, timeout=10_000)
    assert sorted(window.session.class_names()) == ["blue", "red"] and window.session.busy
    run_job(qtbot, window, window.session.cancel_job, timeout=5_000)


def test_a_failed_training_shows_why_and_frees_the_buttons(qtbot, window, colour_folders, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr("lakeview.core.training.from_library.train_in_library", broken)
    panel = window.training_panel
    tiny_settings(panel, colour_folders)

    end = run_job(qtbot, window, panel.start_training)

    assert end == JobEnd(JobKind.TRAINING, "Training", Ending.FAILED, "Training failed: OSError: no space left on device")
    assert panel.status.text() == end.message
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()


def test_a_folder_that_makes_no_dataset_says_why(qtbot, window, tmp_path):
    (tmp_path / "empty").mkdir()
    panel = window.training_panel
    panel.set_folder(tmp_path / "empty")
    qtbot.waitUntil(lambda: panel._reader is None, timeout=10_000)
    assert panel.summary.text().startswith("no labelled training photos were found")
    assert panel.counts.rowCount() == 0


def test_quick_or_thorough_sets_the_time_budget_and_is_remembered(qtbot, window, app_settings, colour_folders):
    from lakeview.core.training.phases import PhaseSummary
    from lakeview.core.training.fit_records import EpochStats, PhaseEnd
    from lakeview.core.training.plan import QUICK_SECONDS

    panel = window.training_panel
    assert panel.pace.currentData() == "quick" and panel.pace.currentText() == "Quick (about 1 minute)"
    assert (panel.plan().time_budget, panel.plan().patience) == (QUICK_SECONDS, 1)
    panel.pace.setCurrentIndex(panel.pace.findData("thorough"))
    assert (panel.plan().time_budget, panel.plan().patience) == (None, 2)
    assert app_settings.value("training/pace") == "thorough"

    tiny_settings(panel, colour_folders)
    qtbot.waitUntil(lambda: panel.counts.rowCount() == 2, timeout=10_000)
    panel.start_training()
    kept = EpochStats(2, "frozen (2 cached views)", 0.5, 0.4, 0.25, 0.1, 0.01)
    panel._event(PhaseSummary(True, 1, 1, PhaseEnd.NO_GAIN, kept, 4))
    assert panel.status.text().startswith("Unfrozen phase ended after 1 of 1 epochs: no gain")
    with qtbot.waitSignal(window.session.job_ended, timeout=60_000):
        pass
    assert "kept the weights of epoch 2 (25.0% error on 4 photos), the best." in panel.status.text()


def test_the_split_keeps_bursts_together_reports_it_and_the_checkbox_turns_it_off(qtbot, window, tmp_path,
                                                                                   monkeypatch):
    import threading

    from lakeview.core.photos import perceptual_hash
    from burst_tools import bursts_and_singles

    folder = tmp_path / "bursts"
    bursts_and_singles(folder, {"red": (3, 9), "blue": (2, 10)})
    hashed_on = set()
    real_hash = perceptual_hash.photo_hash
    monkeypatch.setattr(perceptual_hash, "photo_hash",
                        lambda path: hashed_on.add(threading.current_thread()) or real_hash(path))
    panel = window.training_panel
    assert panel.split_by_similarity.isChecked(), "on by default"
    tiny_settings(panel, folder, frozen=1, unfrozen=0)

    end = run_job(qtbot, window, panel.start_training)

    assert end.ending is Ending.DONE, end
    assert "5 near-duplicate groups (20 photos) kept on one side of the split." in panel.summary.text()
    assert panel.groups_kept == "5 near-duplicate groups (20 photos) kept on one side of the split"
    assert hashed_on and threading.main_thread() not in hashed_on, "hashed in the training job's worker"
    panel.split_by_similarity.setChecked(False)
    assert run_job(qtbot, window, panel.start_training).ending is Ending.DONE
    assert "near-duplicate" not in panel.summary.text() and not panel.groups_kept
