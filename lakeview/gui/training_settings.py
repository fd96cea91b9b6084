"""The Train tab's form: what to learn from (and how many photos that is, per class and split), the model,
and its schedule. TrainingPanel is built on it and runs the jobs; the form reads the library's labels through
the panel's session, and a labelled folder in a reader job of its own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QWidget)

from lakeview.core.models.architectures import ARCHITECTURES
from lakeview.core.photos.file_names import path_from_setting, path_to_setting
from lakeview.core.training.plan import QUICK_SECONDS, LabelledFolder, TrainingPlan, quick, thorough
from lakeview.gui.worker import start_worker

LIBRARY_SOURCE = "Labels in this library"
FOLDER_SOURCE = "A labelled folder (class folders, train/valid/test)"
IMAGENET_WEIGHTS = "ImageNet (downloaded once)"
FILE_WEIGHTS = "A weights file (.pth)…"
NO_WEIGHTS = "None: start from scratch"
SPLITS = ("train", "valid", "test")
PACES = {"quick": (f"Quick (about {QUICK_SECONDS / 60:.0f} minute)", quick),
         "thorough": ("Thorough (every epoch that helps)", thorough)}
"""How long a training may take: the plan's time budget and patience."""
DEFAULTS = TrainingPlan()
KEPT = "training/"
"""The settings group where the form keeps the architecture, the weights and the epochs across restarts."""


def _narrow_form(group: QGroupBox) -> QFormLayout:
    """A form whose captions go above their fields when the tab is narrow (a 1024×700 screen)."""
    form = QFormLayout(group)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form


def _narrow_combo() -> QComboBox:
    """A combo box as narrow as 14 characters; its list still shows the whole entries."""
    box = QComboBox()
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(14)
    return box


class TrainingSettingsForm:
    """The form's widgets and their logic, for a QWidget that sets `session`, `folder`, `weights_file`,
    `_reader` and `_summary_timer` (the coalescing timer whose timeout is `refresh_summary`)."""

    # --- layout -------------------------------------------------------------------------------------------
    def _build_data_group(self) -> QGroupBox:
        group = QGroupBox("Photos to learn from")
        form = _narrow_form(group)
        self.source = _narrow_combo()
        self.source.addItems([LIBRARY_SOURCE, FOLDER_SOURCE])
        self.source.currentTextChanged.connect(self._source_changed)
        self.folder_edit = QLineEdit()
        self.folder_edit.setReadOnly(True)
        self.folder_edit.setPlaceholderText("no folder chosen")
        self.choose_folder_button = QPushButton("Choose…")
        self.choose_folder_button.clicked.connect(self.choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit)
        folder_row.addWidget(self.choose_folder_button)
        self.folder_row = QWidget()
        self.folder_row.setLayout(folder_row)
        folder_row.setContentsMargins(0, 0, 0, 0)
        self.valid_pct = QSpinBox(minimum=5, maximum=50, value=round(LabelledFolder.valid_pct * 100), suffix=" %")
        self.valid_pct.setToolTip("Photos held out to measure the error rate, when the folder has no valid/ folder")
        self.valid_pct.valueChanged.connect(lambda _: self._summary_timer.start())
        self.split_by_similarity = QCheckBox("Keep near-duplicates on one side")
        self.split_by_similarity.setToolTip("Bursts and edited copies of a photo (alike by perceptual hash) all go to "
                                            "training or all to validation,\nso the error rate is not flattered by "
                                            "photos the model has all but seen")
        self.split_by_similarity.setChecked(DEFAULTS.split_by_similarity)
        self.counts = QTableWidget(0, len(SPLITS))
        self.counts.setHorizontalHeaderLabels(list(SPLITS))
        self.counts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.counts.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.counts.setMaximumHeight(170)
        self.counts.setTabKeyNavigation(False)  # Tab leaves the table for the next field; arrows move in it
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        form.addRow("Source", self.source)
        form.addRow("Folder", self.folder_row)
        form.addRow("Validation share", self.valid_pct)
        form.addRow(self.split_by_similarity)
        form.addRow(self.counts)
        form.addRow(self.summary)
        return group

    def _build_model_group(self) -> QGroupBox:
        group = QGroupBox("Model")
        form = _narrow_form(group)
        self.arch = _narrow_combo()
        for name in sorted(ARCHITECTURES):
            self.arch.addItem(name, name)
            self.arch.setItemData(self.arch.count() - 1, ARCHITECTURES[name].description, Qt.ItemDataRole.ToolTipRole)
        self.arch.setCurrentText(DEFAULTS.arch)
        self.weights = _narrow_combo()
        self.weights.addItems([IMAGENET_WEIGHTS, FILE_WEIGHTS, NO_WEIGHTS])
        self.weights.activated.connect(self._weights_chosen)
        self.size = QSpinBox(minimum=32, maximum=640, value=DEFAULTS.size, singleStep=32, suffix=" px")
        self.batch_size = QSpinBox(minimum=1, maximum=512, value=DEFAULTS.batch_size)
        self.flip = QCheckBox("Mirror images while training")
        self.flip.setToolTip("Off for text, signs and asymmetric scenes")
        self.flip.setChecked(DEFAULTS.flip)
        form.addRow("Architecture", self.arch)
        form.addRow("Pretrained weights", self.weights)
        form.addRow("Image size", self.size)
        form.addRow("Batch size", self.batch_size)
        form.addRow(self.flip)
        return group

    def _build_schedule_group(self) -> QGroupBox:
        group = QGroupBox("Schedule (one cycle per phase)")
        form = _narrow_form(group)
        self.pace = _narrow_combo()
        for key, (text, _) in PACES.items():
            self.pace.addItem(text, key)
        self.pace.setToolTip("Quick: the head on cached features, then only the fine-tuning epochs that fit in "
                             f"about {QUICK_SECONDS:.0f} s and still help.\nThorough: no time limit; fine-tuning "
                             "stops after two epochs without a gain. Either way the best epoch is kept.")
        self.frozen_epochs = QSpinBox(minimum=0, maximum=200, value=DEFAULTS.frozen_epochs)
        self.frozen_epochs.setToolTip("Epochs training only the new head, the pretrained body frozen")
        self.unfrozen_epochs = QSpinBox(minimum=0, maximum=200, value=DEFAULTS.unfrozen_epochs)
        self.unfrozen_epochs.setToolTip("Then epochs fine-tuning the whole network")
        self.lr = self._rate_box(DEFAULTS.lr, "Peak learning rate while the body is frozen")
        self.unfrozen_lr = self._rate_box(DEFAULTS.unfrozen_lr,
                                          "Peak rate of the head once unfrozen; the first layers get a tenth")
        form.addRow("Time", self.pace)
        form.addRow("Epochs, body frozen", self.frozen_epochs)
        form.addRow("Epochs, unfrozen", self.unfrozen_epochs)
        form.addRow("Learning rate", self.lr)
        form.addRow("Learning rate, unfrozen", self.unfrozen_lr)
        return group

    def form_fields(self) -> list[QWidget]:
        """The form's fields in the order Tab walks them (top to bottom, as they are shown)."""
        return [self.source, self.folder_edit, self.choose_folder_button, self.valid_pct, self.split_by_similarity,
                self.counts, self.arch,
                self.weights, self.size, self.batch_size, self.flip, self.pace, self.frozen_epochs, self.unfrozen_epochs,
                self.lr, self.unfrozen_lr]

    @staticmethod
    def _rate_box(value: float, tip: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(decimals=6, minimum=1e-6, maximum=1.0, singleStep=1e-4, value=value)
        box.setToolTip(tip)
        return box
    # --- kept across restarts -----------------------------------------------------------------------------
    def remember_settings(self, settings: QSettings) -> None:
        """Show the architecture, weights and epochs last used, and keep them in `settings` as they change."""
        self.use_architecture(settings.value(KEPT + "arch", DEFAULTS.arch, str))
        weights = settings.value(KEPT + "weights", "imagenet", str)
        if weights == "none":
            self.weights.setCurrentText(NO_WEIGHTS)
        elif weights != "imagenet" and path_from_setting(weights).is_file():
            self.use_weights_file(path_from_setting(weights))
        for name, box in (("frozen_epochs", self.frozen_epochs), ("unfrozen_epochs", self.unfrozen_epochs)):
            box.setValue(settings.value(KEPT + name, box.value(), int))
        pace = self.pace.findData(settings.value(KEPT + "pace", "quick", str))
        self.pace.setCurrentIndex(max(pace, 0))

        def keep(*_) -> None:
            weights = {IMAGENET_WEIGHTS: "imagenet", NO_WEIGHTS: "none"}.get(self.weights.currentText())
            if weights is None and self.weights_file is not None:
                weights = path_to_setting(self.weights_file)
            settings.setValue(KEPT + "arch", self.arch.currentData())
            if weights is not None:  # None: a file is being chosen
                settings.setValue(KEPT + "weights", weights)
            settings.setValue(KEPT + "frozen_epochs", self.frozen_epochs.value())
            settings.setValue(KEPT + "unfrozen_epochs", self.unfrozen_epochs.value())
            settings.setValue(KEPT + "pace", self.pace.currentData())

        for signal in (self.arch.currentIndexChanged, self.weights.currentIndexChanged, self.pace.currentIndexChanged,
                       self.frozen_epochs.valueChanged, self.unfrozen_epochs.valueChanged):
            signal.connect(keep)

    def use_architecture(self, name: str) -> None:
        """Train `name` (the welcome's choice, or the one last used); an unknown name leaves the choice as it is."""
        row = self.arch.findData(name)
        if row >= 0:
            self.arch.setCurrentIndex(row)

    # --- settings -----------------------------------------------------------------------------------------
    def plan(self) -> TrainingPlan:
        weights = {IMAGENET_WEIGHTS: "imagenet", NO_WEIGHTS: "none"}.get(self.weights.currentText())
        if weights is None:
            weights = str(self.weights_file)
        plan = TrainingPlan(arch=self.arch.currentData(), weights=weights, size=self.size.value(),
                            batch_size=self.batch_size.value(), flip=self.flip.isChecked(),
                            frozen_epochs=self.frozen_epochs.value(), unfrozen_epochs=self.unfrozen_epochs.value(),
                            lr=self.lr.value(), unfrozen_lr=self.unfrozen_lr.value(),
                            split_by_similarity=self.split_by_similarity.isChecked())
        _, pace = PACES[self.pace.currentData() or "quick"]
        return pace(plan)

    def data_source(self) -> LabelledFolder | None:
        if self.source.currentText() == LIBRARY_SOURCE:
            return None
        return LabelledFolder(self.folder, self.valid_pct.value() / 100) if self.folder else None

    @classmethod
    def ask_folder(cls, parent: QWidget) -> Path | None:
        folder = QFileDialog.getExistingDirectory(parent, "A folder of labelled photos (one folder per class)")
        return Path(folder) if folder else None

    @classmethod
    def ask_weights_file(cls, parent: QWidget) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(parent, "Pretrained weights (a torchvision state_dict)", "",
                                              "PyTorch weights (*.pth *.pt);;All files (*)")
        return Path(name) if name else None

    def choose_folder(self) -> None:
        folder = self.ask_folder(self)
        if folder is not None:
            self.set_folder(folder)

    def set_folder(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder_edit.setText(str(self.folder))
        if self.source.currentText() == FOLDER_SOURCE:
            self.refresh_summary()
        else:
            self.source.setCurrentText(FOLDER_SOURCE)  # which refreshes the summary

    def _source_changed(self, text: str) -> None:
        self.folder_row.setEnabled(text == FOLDER_SOURCE)
        self.valid_pct.setEnabled(text == FOLDER_SOURCE)
        self.refresh_summary()

    def _weights_chosen(self, index: int) -> None:
        if self.weights.itemText(index) == FILE_WEIGHTS:
            path = self.ask_weights_file(self)
            if path is None:
                self.weights.setCurrentText(IMAGENET_WEIGHTS if self.weights_file is None else FILE_WEIGHTS)
                return
            self.use_weights_file(path)

    def use_weights_file(self, path: Path) -> None:
        self.weights_file = Path(path)
        self.weights.setItemText(1, f"File: {self.weights_file.name}")
        self.weights.setItemData(1, str(self.weights_file), Qt.ItemDataRole.ToolTipRole)
        self.weights.setCurrentIndex(1)

    # --- dataset summary ----------------------------------------------------------------------------------
    def _labels_changed(self, _changes) -> None:
        if self.source.currentText() == LIBRARY_SOURCE:
            self._summary_timer.start()

    def shutdown(self) -> None:
        """The window is closing: no more summaries (the catalog is about to close)."""
        self._summary_timer.stop()
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None

    def refresh_summary(self) -> None:
        """The library's labels are counted here (one SQL count); a folder is read in a job, as it may be large."""
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None
        if self.source.currentText() == LIBRARY_SOURCE:
            from lakeview.core.training.library_dataset import library_counts

            self.show_counts(*library_counts(self.session.catalog), [])  # one SQL count, whatever the library
            return
        if self.folder is None:
            self.show_counts([], {}, [])
            self.summary.setText("Choose a folder with one subfolder per class (fast.ai's layout: train/, valid/ "
                                 "and test/ are used when present).")
            return
        folder, pct = self.folder, self.valid_pct.value() / 100

        def job(progress, should_stop, emit_partial):
            from lakeview.core.datasets.dataset import DatasetError
            from lakeview.core.datasets.importers import from_folder

            try:
                return from_folder(folder, valid_pct=pct, progress=progress, should_stop=should_stop)
            except DatasetError as exc:  # the folder cannot make a dataset: the summary says why
                return exc

        def read(data) -> None:
            if self._reader is reader:
                self._reader = None
                if isinstance(data, Exception):
                    self.show_counts([], {}, [])
                    self.summary.setText(str(data))
                else:
                    self.show_counts(data.classes, data.counts(), [(s.where, s.reason) for s in data.skipped])

        def failed(message: str) -> None:
            if self._reader is reader:
                self._reader = None
                self.show_counts([], {}, [])
                self.summary.setText(message)

        self.summary.setText(f"Reading {folder}…")
        _, reader = start_worker(self, job, "reading labelled folder", on_finished=read, on_failed=failed,
                                 needs_torch=False)
        self._reader = reader

    def show_counts(self, classes: list[str], counts: dict[str, dict[str, int]], skipped: list[tuple[str, str]]) -> None:
        self.counts.setRowCount(len(classes))
        self.counts.setVerticalHeaderLabels(classes)
        for row, name in enumerate(classes):
            for column, split in enumerate(SPLITS):
                item = QTableWidgetItem(str(counts.get(split, {}).get(name, 0)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.counts.setItem(row, column, item)
        totals = {split: sum(counts.get(split, {}).values()) for split in SPLITS}
        text = (f"{len(classes)} classes · {totals['train']} to train on · {totals['valid']} to validate"
                + (f" · {totals['test']} test" if totals["test"] else ""))
        if len(classes) < 2:
            text = "Label photos of at least two classes (keys 1-9 in the grid), or choose a labelled folder."
        if skipped:
            text += f"\n{len(skipped)} file(s) skipped, e.g. {Path(skipped[0][0]).name}: {skipped[0][1]}"
            self.summary.setToolTip("\n".join(f"{Path(w).name}: {r}" for w, r in skipped[:50]))
        self.summary.setText(text)
