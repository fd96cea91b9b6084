"""The main window: library on the left, the photo grid in the middle, classes on the right, jobs below."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox, QTabWidget, QWidget

from lakeview import __version__
from lakeview.core.catalog import NONE_OF_THESE, CatalogError
from lakeview.core.photos.file_names import resolve_lossy_path, shown_path
from lakeview.core.training.error_figures import error_text, measured_photos
from lakeview.gui.classes_panel import ClassesPanel
from lakeview.gui.device_label import DeviceLabel
from lakeview.gui.elided_label import ElidedLabel
from lakeview.gui.filter_bar import FilterBar
from lakeview.gui.grid.model import PhotoGridModel
from lakeview.gui.grid.view import PhotoGrid
from lakeview.gui.grid_order import GridOrder
from lakeview.gui.history_steps import step_back
from lakeview.gui.inspector import Inspector
from lakeview.gui.interpretation_view import InterpretationView
from lakeview.gui.job_status import JobStatus
from lakeview.gui.library_panel import LibraryPanel
from lakeview.gui.photo_count_label import PhotoCountLabel
from lakeview.gui.photo_preview import open_preview
from lakeview.gui.placement_dialog import PlacementDialog, undo_last_placement
from lakeview.gui.predict_folder_view import PredictFolderView
from lakeview.gui.review_queue import ReviewQueue, why_a_number_cannot_label
from lakeview.gui.session import LibrarySession
from lakeview.gui.stop_question import ask_before_stopping
from lakeview.gui.torch_warmup import QuietStart
from lakeview.gui.training_panel import TrainingPanel
from lakeview.gui.welcome import WelcomeDialog, should_show_welcome
from lakeview.gui.window_menus import build_menus
from lakeview.gui.window_state import restore_window_state, save_window_state
from lakeview.gui.worker import JobEnd, JobKind, wait_for_all

class MainWindow(QMainWindow):
    def __init__(self, session: LibrarySession, settings: QSettings | None = None) -> None:
        super().__init__()
        self.session = session
        self.settings = settings or QSettings()
        self.setWindowTitle(f"LakeView {__version__}")
        self.model = PhotoGridModel(self)
        self.grid = PhotoGrid(self)
        self.grid.setModel(self.model)
        self.training_panel = TrainingPanel(session)
        self.training_panel.remember_settings(self.settings)
        self.training_panel.trained.connect(self._trained)
        self.results = InterpretationView(thumbnails=self.model.loader)
        self.results.photos_chosen.connect(self.show_photos)
        self.results.relabel_requested.connect(lambda path, label: self.session.assign([path], label))
        self.results.evaluate_requested.connect(self.evaluate_active)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.grid, "Photos")
        self.tabs.addTab(self.training_panel, "Train")
        self.tabs.addTab(self.results, "Results")
        self.setCentralWidget(self.tabs)
        self._build_library_dock()
        self._build_classes_dock()
        self._build_inspector_dock()
        self._build_predict_folder_dock()
        self._build_status_bar()
        self._build_toolbar()
        self.menu_actions = build_menus(self)
        self._connect_session()
        self._refresh_classes()
        self._refresh_model_label()
        restore_window_state(self)
        self.torch_warmup = QuietStart(self, lambda: self.session.busy, self.session.job_ended,
                                       self.device_label.detect)
        self.welcome: WelcomeDialog | None = None
        if should_show_welcome(self.settings):
            QTimer.singleShot(0, self.show_welcome)

    # --- layout -------------------------------------------------------------------------------------------
    def _build_library_dock(self) -> None:
        self.library = LibraryPanel(self.settings)
        self.library.open_requested.connect(self.choose_folder)
        self.library.folder_chosen.connect(self.open_folder)
        dock = QDockWidget("Library", self)
        dock.setObjectName("library")
        dock.setWidget(self.library)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

    def _build_classes_dock(self) -> None:
        self.classes_panel = ClassesPanel()
        self.classes_panel.add_requested.connect(lambda name: self._change_classes("Add class", self.session.add_class, name))
        self.classes_panel.rename_requested.connect(
            lambda old, new: self._change_classes("Rename class", self.session.rename_class, old, new))
        self.classes_panel.colour_requested.connect(
            lambda name, colour: self._change_classes("Class colour", self.session.set_class_colour, name, colour))
        self.classes_panel.remove_requested.connect(
            lambda name: self._change_classes("Remove class", self.session.remove_class, name))
        self.classes_panel.assign_requested.connect(self.assign_number)
        dock = QDockWidget("Classes", self)
        dock.setObjectName("classes")
        dock.setWidget(self.classes_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    def _build_inspector_dock(self) -> None:
        self.inspector = Inspector(self.session.catalog, self.session.places)
        dock = QDockWidget("Inspector", self)
        dock.setObjectName("inspector")
        dock.setWidget(self.inspector)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.grid.selectionModel().currentChanged.connect(lambda *_: self._inspect_current())

    def _build_predict_folder_dock(self) -> None:
        self.predict_folder_view = PredictFolderView()
        self.predict_folder_dock = QDockWidget("Test folder", self)
        self.predict_folder_dock.setObjectName("test_folder")
        self.predict_folder_dock.setWidget(self.predict_folder_view)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.predict_folder_dock)
        self.predict_folder_dock.hide()

    def _inspect_current(self) -> None:
        header = self.model.header_at(self.grid.currentIndex().row())
        if header is not None:
            self.inspector.show_note(header.summary)
        else:
            self.inspector.show_photo(self.grid.current_path())

    def _build_status_bar(self) -> None:
        # Elided, their whole text in a tooltip: a long device or model name must not widen the window.
        self.device_label = DeviceLabel()
        self.model_label = ElidedLabel()
        self.count_label = PhotoCountLabel(self.grid)
        self.retrain_label = ElidedLabel()
        self.job_status = JobStatus()
        self.job_status.cancel_button.clicked.connect(self.session.cancel_job)
        bar = self.statusBar()
        bar.addWidget(self.device_label)
        bar.addWidget(self.model_label, 1)
        bar.addPermanentWidget(self.retrain_label)  # permanent: a status-bar message does not hide these
        bar.addPermanentWidget(self.count_label)
        bar.addPermanentWidget(self.job_status)

    def _build_toolbar(self) -> None:
        self.filter_bar = FilterBar(self)
        self.filter_bar.filters_changed.connect(lambda filters: self.session.set_filters(**filters))
        self.filter_bar.show_folder_requested.connect(self.session.show_folder)
        self.addToolBar(self.filter_bar)
        self.review_queue = ReviewQueue(self.grid, self.settings, lambda: bool(self.session.filters.get("unlabelled")),
                                        lambda text: self.statusBar().showMessage(text, 10_000))
        self.filter_bar.move_on.setChecked(self.review_queue.move_on)
        self.filter_bar.move_on.toggled.connect(self.review_queue.set_move_on)
        self.grid.unassigned_digit.connect(self.assign_number)
        self.grid_order = GridOrder(self)

    # --- session ------------------------------------------------------------------------------------------
    def _connect_session(self) -> None:
        s = self.session
        s.rows_changed.connect(self.session.load_rows)
        s.rows_ready.connect(self._show_rows)
        s.photos_changed.connect(self.model.refetch)
        s.labels_changed.connect(self.model.update_labels)
        s.predictions_changed.connect(self.model.update_predictions)
        s.classes_changed.connect(self._refresh_classes)
        self._inspector_refresh = QTimer(self)  # a key press changes labels and classes: one refresh for both
        self._inspector_refresh.setSingleShot(True)
        self._inspector_refresh.timeout.connect(self.inspector.refresh)
        for signal in (s.labels_changed, s.predictions_changed, s.classes_changed, s.places.changed):
            signal.connect(lambda *_: self._inspector_refresh.start(0))
        s.model_changed.connect(self._refresh_model_label)
        for signal, show in ((s.job_started, self.job_status.start), (s.job_step, self.job_status.show_step),
                             (s.job_progress, self.job_status.update_progress), (s.job_units, self.job_status.set_units),
                             (s.job_stopping, self.job_status.stopping)):
            signal.connect(show)
        s.retrain_pending.connect(self.retrain_label.setText)
        s.labels_changed.connect(self.results.labels_changed)
        s.job_ended.connect(self._job_ended)
        s.said.connect(lambda message: self.statusBar().showMessage(message, 10_000))
        s.notice.connect(lambda name, message: self.statusBar().showMessage(f"{name}: {message}", 10_000))

    def _show_rows(self, shown) -> None:
        self.grid_order.show(shown)  # in the filter's order, or grouped, or nearest first
        self.filter_bar.show_chosen(self.session.only)
        self.grid.set_empty_text(self.session.why_no_photos())
        self._inspect_current()
        if self.session.folder is not None:
            self.setWindowTitle(f"{shown_path(self.session.folder.name)} — LakeView {__version__}")

    def _refresh_classes(self) -> None:
        classes = self.session.catalog.classes()
        self.classes_panel.set_classes(classes)
        self.results.set_classes([c.name for c in classes])
        self.model.set_class_colours({c.name: c.colour for c in classes})
        for number, action in enumerate(self.menu_actions.assign, 1):
            action.setText(f"{number}: {classes[number - 1].name}" if number <= len(classes) else f"Class {number}")
            action.setEnabled(number <= len(classes))

    def _refresh_model_label(self) -> None:
        active = self.session.catalog.active_model()
        self.results.follow_active(active.id if active else None)
        if active is None:
            self.model_label.setText("model: none yet")
            return
        error = active.metrics.get("error_rate")
        measured = f", {error_text(error, measured_photos(active.metrics))}" if error is not None else ""
        self.model_label.setText(f"model: {active.id[:8]} ({active.arch}{measured})")

    def _trained(self, result) -> None:
        self._show_results(result.version_id, result.interpretation, f"Model {result.version_id[:8]}:")

    def _show_results(self, version: str, interpretation, heading: str) -> None:
        """The Results tab shows how `version` does; the grid and inspector show its predictions of those photos."""
        self.results.show_interpretation(interpretation, heading, version)
        if interpretation is not None:
            self.session.keep_predictions(version, interpretation.predictions())
        self.tabs.setCurrentWidget(self.results)

    def cancel_job(self) -> None:
        """Esc. Training is worth a question first: a stray key would throw away its epochs."""
        ask_before_stopping(self)

    def evaluate_active(self) -> None:
        catalog_path = self.session.catalog.path

        def job(progress, should_stop, emit_partial):
            from lakeview.core.training.from_library import evaluate_active

            return evaluate_active(catalog_path, progress, should_stop)

        def measured(result) -> str:
            if result is None:
                return "no active model, or no held-out labelled photos to measure it on"
            version, interpretation = result
            self._show_results(version, interpretation, f"Model {version[:8]} on held-out labelled photos:")
            return error_text(interpretation.error_rate, len(interpretation.paths), "held-out")

        self.session.start_job(JobKind.MEASURE, "Measuring the model", job, measured)

    def show_photos(self, description: str, paths: list) -> None:
        """Show chosen photos (a confusion-matrix cell) in the grid, whatever folder they are in."""
        self.filter_bar.clear_quietly()
        self.session.show_only(description, paths)
        self.tabs.setCurrentWidget(self.grid)
        self.grid.setFocus()

    def _job_ended(self, end: JobEnd) -> None:
        self.job_status.finish()
        if end.message:
            self.statusBar().showMessage(f"{end.name}: {end.message}", 10_000)
        else:
            self.statusBar().showMessage(f"{end.name}: done", 5_000)

    # --- actions ------------------------------------------------------------------------------------------
    def selected_paths(self) -> list[Path]:
        return self.grid.selected_paths()

    def selected_ids(self) -> list[int]:
        """The catalog ids of the selected photos, in grid order (no row is read)."""
        return self.model.ids_in(self.grid.selected_runs())

    def assign_number(self, number: int) -> None:
        """A number key: the selection gets that class and the grid moves on; or the status bar says why not."""
        names, ids = self.session.class_names(), self.selected_ids()
        why_not = why_a_number_cannot_label(number, names, bool(ids), self.model.rowCount() > 0)
        if why_not is not None:
            if not names:  # the Classes panel, where classes are made, comes forward with its name field ready
                dock = self.findChild(QDockWidget, "classes")
                dock.show()
                dock.raise_()
                self.classes_panel.name.setFocus()
            self.statusBar().showMessage(why_not, 10_000)
        elif self.session.label_ids_with_number(ids, number):
            self.review_queue.after_labelling()

    def accept(self) -> None:
        ids = self.selected_ids()
        if not ids:
            self.statusBar().showMessage("Select the photos whose predictions to accept first", 10_000)
        elif self.session.accept_ids(ids):
            self.review_queue.after_labelling()

    def none_of_these(self) -> None:
        if self.session.label_ids(self.selected_ids(), NONE_OF_THESE):
            self.review_queue.after_labelling()

    def preview(self) -> None:
        """Space: the current photo large; Left/Right step through the grid's photos, which the grid follows."""
        dialog = open_preview(self.grid, self.model, self.session)
        if dialog is not None:
            self.preview_dialog = dialog

    def place_photos(self) -> None:
        paths = self.selected_paths() or [row.path for row in self.session.rows()]
        if not paths:
            self.statusBar().showMessage("Open a folder first", 3_000)
            return
        dialog = PlacementDialog(self.session, paths, self, self.settings)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def undo_placement(self) -> None:
        undo_last_placement(self.session, self)

    def predict_test_folder(self) -> None:
        folder = PredictFolderView.ask_folder(self)
        if folder is not None:
            self.predict_folder_dock.show()
            self.predict_folder_dock.raise_()
            self.predict_folder_view.run(self.session, folder)

    def undo(self) -> None:
        step_back(self, redo=False)

    def redo(self) -> None:
        step_back(self, redo=True)

    def _change_classes(self, title: str, change, *args) -> None:
        try:
            change(*args)
        except CatalogError as exc:  # a duplicate or empty name, a class still in use
            self.show_warning(title, str(exc))

    def show_warning(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.last_warning = box
        box.open()

    @classmethod
    def ask_folder(cls, parent: QWidget) -> Path | None:
        """The folder dialog (tests replace this)."""
        folder = QFileDialog.getExistingDirectory(parent, "Open a folder of photos")
        return Path(folder) if folder else None

    @classmethod
    def ask_model_file(cls, parent: QWidget) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(parent, "Use a trained model", "", "LakeView models (*.lvmodel)")
        return Path(name) if name else None

    def choose_folder(self) -> None:
        folder = self.ask_folder(self)
        if folder is not None:
            self.open_folder(folder)

    def open_folder(self, folder: Path) -> None:
        folder = resolve_lossy_path(Path(folder).absolute())  # Qt's choosers drop bytes that are not UTF-8
        if not folder.is_dir():
            what = "is not a folder" if os.path.lexists(folder) else "was not found"
            self.show_warning("Open folder", f"{shown_path(folder)} {what}; nothing was opened.")
            return
        self.session.open_folder(folder)
        self.library.remember(folder)

    def choose_model(self) -> None:
        path = self.ask_model_file(self)
        if path is None:
            return
        try:
            self.session.use_model_file(path)
        except Exception as exc:  # ModelFileError and friends: shown, not fatal
            self.show_warning("Use a model file", str(exc))

    def about(self) -> None:
        from lakeview.gui.about_dialog import AboutDialog

        dialog = AboutDialog(self, self.device_label.device, self.session.catalog.path)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def show_welcome(self) -> None:
        """The three steps, and the ImageNet weights offered before the first training needs them."""
        if self.welcome is not None:
            self.welcome.raise_()
            return
        self.welcome = WelcomeDialog(self.settings, self, arch=self.training_panel.arch.currentData())
        self.welcome.open_photos_requested.connect(self.choose_folder)
        self.welcome.import_labelled_requested.connect(lambda: self.on_train_tab(self.training_panel.choose_folder))
        self.welcome.train_requested.connect(lambda: self.tabs.setCurrentWidget(self.training_panel))
        self.welcome.architecture_chosen.connect(self.training_panel.use_architecture)
        self.welcome.finished.connect(lambda _: setattr(self, "welcome", None))
        self.welcome.show()

    def on_train_tab(self, action) -> None:
        """The Train tab, then `action` there (find the learning rate, choose a labelled folder)."""
        self.tabs.setCurrentWidget(self.training_panel)
        action()

    def closeEvent(self, event) -> None:
        save_window_state(self)
        if self.welcome is not None:
            self.welcome.close()  # cancels a download in progress
        self.training_panel.shutdown()
        self.session.blockSignals(True)  # what a cancelled job still sends must not reach a closed catalog
        self.session.close()
        wait_for_all()
        self.inspector.shutdown()
        self.model.shutdown()
        super().closeEvent(event)
