"""The first-run welcome: the three steps, and getting the ImageNet weights training starts from.

The steps' buttons only emit signals (the main window does the work). The weights are downloaded once into
the cache (the same file `lakeview train --weights imagenet` uses), in a worker with progress and Cancel, or
copied there from a file the user already has: the file says which architecture it is for, and the welcome
switches to it. Whether the weights are there is a look at the cache, without torch; torch is imported only
inside the download and file workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QFont, QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QFileDialog, QFrame, QGridLayout, QHBoxLayout,
                               QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from lakeview.core.models.architectures import ARCHITECTURES, DEFAULT_ARCH, get_architecture
from lakeview.core.models.imagenet_files import known_imagenet_file
from lakeview.gui.worker import Worker, start_worker
from lakeview.resources import ICONS

SHOW_KEY = "welcome/show_at_start"
ICON = ICONS / "lakeview-64.png"
STEPS = (
    ("Open your photos", "A folder of holiday photos, or several. LakeView never changes them.", "Open photos…"),
    ("Label a few per class", "Select photos and press 1–9 to give them a class: a handful per class is enough "
                              "to start. Already sorted into class folders? Import them.", "Import a labelled folder…"),
    ("Train", "LakeView adapts a network that already knows ImageNet's photos to your classes, then sorts the "
              "rest. A minute or two on a GPU, a few on a CPU.", "Train…"),
)


def should_show_welcome(settings: QSettings) -> bool:
    """True until the user ticks "Don't show this again"."""
    return bool(settings.value(SHOW_KEY, True, bool))


def network_name(arch: str) -> str:
    """How the welcome names an architecture: "ResNet34", "MobileNetV2" (its description's first words)."""
    description = ARCHITECTURES[arch].description if arch in ARCHITECTURES else arch
    return description.split(",")[0].split(":")[0]


class WeightsState(Enum):
    """Where the dialog is with the starting weights."""
    CHECKING = "checking"
    MISSING = "missing"
    DOWNLOADING = "downloading"
    COPYING = "copying"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class NoWeights:
    """Why the weights could not be had, in core's words (without its advice for the command line), and whether
    the server could not be reached at all."""
    reason: str
    offline: bool = False


def _weights_info(arch_name: str) -> tuple[Path, float | None]:
    """(where the weights are kept in the cache, size in MB). Runs in a worker, for an architecture whose file
    only torchvision knows."""
    from lakeview.core.models.weights import cached_file, imagenet_file_info

    architecture = get_architecture(arch_name)
    return cached_file(architecture), imagenet_file_info(architecture)[2]


def _download(arch_name: str, progress, should_stop) -> Path | NoWeights | None:
    """The weights file in the cache, or why not; None when cancelled. Runs in a worker."""
    from lakeview.core.jobs import Stopped
    from lakeview.core.models.weights import WeightsOffline, WeightsUnavailable, cached_file, imagenet_state_dict

    architecture = get_architecture(arch_name)
    try:
        imagenet_state_dict(architecture, progress, should_stop)  # downloads, verifies, and loads it once
    except Stopped:
        return None
    except WeightsUnavailable as exc:
        return NoWeights(exc.reason, offline=isinstance(exc, WeightsOffline))
    return cached_file(architecture)


@dataclass(frozen=True)
class AdoptedFile:
    """A weights file copied into the cache as the ImageNet weights of `arch` (the one it fits)."""
    path: Path
    arch: str


def _adopt_file(arch_name: str, source: Path) -> AdoptedFile | NoWeights:
    """The user's weights file, checked and copied into the cache for the architecture it fits (`arch_name` when
    it fits that one), or why not. Runs in a worker."""
    from lakeview.core.models.weights import WeightsUnavailable, adopt_file, fitting_architectures, load_state_dict_file

    try:
        fits = fitting_architectures(load_state_dict_file(source))
        arch = arch_name if arch_name in fits or not fits else fits[0]
        return AdoptedFile(adopt_file(get_architecture(arch), source), arch)
    except WeightsUnavailable as exc:
        return NoWeights(exc.reason)


class WelcomeDialog(QDialog):
    open_photos_requested = Signal()
    import_labelled_requested = Signal()
    train_requested = Signal()
    weights_ready = Signal(str)
    """The path of the ImageNet weights in the cache, once downloaded or copied there."""
    architecture_chosen = Signal(str)
    """The user picked another architecture, or a weights file that fits another one: training should use it."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None, arch: str = DEFAULT_ARCH) -> None:
        super().__init__(parent)
        self.settings = settings
        self.arch = arch
        self.cached: Path | None = None
        """Where the weights are kept in the cache, once the check has said."""
        self.size_mb: float | None = None
        self._job: Worker | None = None
        self.setWindowTitle("Welcome to LakeView")
        layout = QVBoxLayout(self)
        layout.setSpacing(14)
        layout.addLayout(self._header())
        layout.addLayout(self._steps())
        layout.addWidget(self._weights_box())
        layout.addStretch(1)
        layout.addLayout(self._footer())
        self.resize(640, self.sizeHint().height())
        self.check_weights()

    # --- layout -------------------------------------------------------------------------------------------
    def _header(self) -> QHBoxLayout:
        icon = QLabel()
        icon.setPixmap(QPixmap(str(ICON)))
        title = QLabel("Welcome to LakeView")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setWeight(QFont.Weight.Bold)
        title.setFont(font)
        subtitle = QLabel("Teach your computer to recognise the places in your own photos, in three steps.")
        subtitle.setWordWrap(True)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(title)
        text.addWidget(subtitle)
        row = QHBoxLayout()
        row.setSpacing(14)
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addLayout(text, 1)
        return row

    def _steps(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(10)
        signals = (self.open_photos_requested, self.import_labelled_requested, self.train_requested)
        self.step_buttons: list[QPushButton] = []
        for row, ((title, text, action), signal) in enumerate(zip(STEPS, signals)):
            number = QLabel(str(row + 1))
            number.setFixedSize(28, 28)
            number.setAlignment(Qt.AlignmentFlag.AlignCenter)
            number.setStyleSheet("background: #2466a8; color: white; border-radius: 14px; font-weight: bold;")
            words = QLabel(f"<b>{title}</b><br>{text}")
            words.setWordWrap(True)
            button = QPushButton(action)
            button.clicked.connect(lambda checked=False, s=signal: self._step_chosen(s))
            self.step_buttons.append(button)
            grid.addWidget(number, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(words, row, 1)
            grid.addWidget(button, row, 2, Qt.AlignmentFlag.AlignVCenter)
        grid.setColumnStretch(1, 1)
        return grid

    def _weights_box(self) -> QFrame:
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(box)
        heading = QLabel("<b>Starting weights</b>")
        self.arch_box = QComboBox()
        for name, arch in sorted(ARCHITECTURES.items()):
            if arch.imagenet_weights is not None or name == self.arch:
                self.arch_box.addItem(arch.description, name)
        self.arch_box.setCurrentIndex(self.arch_box.findData(self.arch))
        self.arch_box.setToolTip("The network training adapts to your classes; each has its own ImageNet weights")
        self.arch_box.activated.connect(lambda row: self.choose_architecture(self.arch_box.itemData(row)))
        arch_row = QHBoxLayout()
        arch_row.addWidget(QLabel("Network:"))
        arch_row.addWidget(self.arch_box, 1)
        self.weights_label = QLabel()
        self.weights_label.setWordWrap(True)
        self.weights_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_job)
        self.file_button = QPushButton("Use a weights file…")
        self.file_button.clicked.connect(self.choose_file)
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.file_button)
        buttons.addStretch(1)
        layout.addWidget(heading)
        layout.addLayout(arch_row)
        layout.addWidget(self.weights_label)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        return box

    def _footer(self) -> QHBoxLayout:
        self.dont_show = QCheckBox("Don't show this again")
        self.dont_show.setChecked(not should_show_welcome(self.settings))
        self.dont_show.toggled.connect(lambda checked: self.settings.setValue(SHOW_KEY, not checked))
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.dont_show)
        row.addStretch(1)
        row.addWidget(close)
        return row

    # --- states -------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._job is not None

    def _set_state(self, state: WeightsState, message: str = "") -> None:
        """`message` says why, in the FAILED state."""
        self.state = state
        size = f" ({self.size_mb:.0f} MB)" if self.size_mb else ""
        network = network_name(self.arch)
        texts = {
            WeightsState.CHECKING: "Looking for the ImageNet starting weights…",
            WeightsState.MISSING: f"Training starts from {network}'s ImageNet weights: a one-time download{size}. "
                       "Get them now, while you label, or use a copy you already have.",
            WeightsState.DOWNLOADING: f"Downloading {network}'s ImageNet weights{size}…",
            WeightsState.COPYING: "Checking the weights file…",
            WeightsState.READY: f"✓ {network}'s ImageNet weights are ready: training can start any time.",
            WeightsState.FAILED: message,
        }
        self.weights_label.setText(texts[state])
        self.weights_label.setStyleSheet("color: #b00020;" if state is WeightsState.FAILED else "")
        self.arch_box.setEnabled(state in (WeightsState.MISSING, WeightsState.READY, WeightsState.FAILED))
        self.progress.setVisible(state is WeightsState.DOWNLOADING)
        self.cancel_button.setVisible(state is WeightsState.DOWNLOADING)
        self.download_button.setVisible(state in (WeightsState.MISSING, WeightsState.FAILED))
        self.download_button.setText(("Try again" if state is WeightsState.FAILED else "Download") + size)
        self.file_button.setVisible(state in (WeightsState.MISSING, WeightsState.FAILED))
        self.download_button.setEnabled(self.cached is not None)
        self.file_button.setEnabled(self.cached is not None)
        self._fit_text()

    def _fit_text(self) -> None:
        """Grow the dialog (up to the screen) so that a long message, such as why a download failed, shows whole."""
        layout = self.layout()
        needed = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else layout.totalSizeHint().height()
        screen = self.screen().availableGeometry().height() if self.screen() is not None else needed
        if needed > self.height():
            self.resize(self.width(), min(needed, screen))

    def check_weights(self) -> None:
        """READY or MISSING from a look at the cache; only an architecture the table does not know waits for torch."""
        self.cached, self.size_mb = None, None
        known = known_imagenet_file(get_architecture(self.arch))
        if known is not None:
            self._info_arrived(known)
            return
        self._set_state(WeightsState.CHECKING)
        start_worker(self, lambda progress, stop, partial, arch=self.arch: (arch, _weights_info(arch)),
                     "weights check", on_finished=lambda answer: self._info_arrived(answer[1]) if answer[0] == self.arch
                     else None, on_failed=self._info_failed)

    def choose_architecture(self, name: str) -> None:
        """Another network: its weights are looked for, and training is told."""
        if self.busy or name == self.arch:
            return
        self.arch = name
        self.arch_box.setCurrentIndex(self.arch_box.findData(name))
        self.check_weights()
        self.architecture_chosen.emit(name)

    def _info_arrived(self, info: tuple[Path, float | None]) -> None:
        self.cached, self.size_mb = info
        self._set_state(WeightsState.READY if self.cached.is_file() else WeightsState.MISSING)

    def _info_failed(self, message: str) -> None:
        self._set_state(WeightsState.FAILED, f"The starting weights cannot be had for {self.arch}: {message}")

    # --- actions ------------------------------------------------------------------------------------------
    def _step_chosen(self, signal) -> None:
        signal.emit()
        if not self.busy:
            self.accept()

    def download(self) -> None:
        if self.busy or self.cached is None:
            return
        self.progress.setRange(0, 0)
        self._set_state(WeightsState.DOWNLOADING)
        _, self._job = start_worker(self, lambda progress, stop, partial: _download(self.arch, progress, stop),
                                    "weights download", on_progress=self._progress, on_finished=self._done,
                                    on_failed=self._failed, on_cancelled=self._cancelled)

    def _progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(f"{done / 1e6:.1f} of {total / 1e6:.1f} MB")
        else:
            self.progress.setFormat(f"{done / 1e6:.1f} MB")

    def cancel_job(self) -> None:
        """Stop the download (within one 64 KB chunk); nothing is kept."""
        if self._job is not None:
            self._job.cancel()

    @classmethod
    def ask_weights_file(cls, parent: QWidget) -> Path | None:
        """The file dialog (tests replace this)."""
        name, _ = QFileDialog.getOpenFileName(parent, "Use a weights file", "", "PyTorch weights (*.pth *.pt)")
        return Path(name) if name else None

    def choose_file(self) -> None:
        if self.busy or self.cached is None:
            return
        source = self.ask_weights_file(self)
        if source is None:
            return
        self._set_state(WeightsState.COPYING)
        _, self._job = start_worker(self, lambda progress, stop, partial: _adopt_file(self.arch, source),
                                    "weights file", on_finished=self._done, on_failed=self._failed)

    def _done(self, outcome: Path | AdoptedFile | NoWeights | None) -> None:
        self._job = None
        if outcome is None:
            self._cancelled()
        elif isinstance(outcome, NoWeights):
            self._set_state(WeightsState.FAILED, self._explain(outcome))
        elif isinstance(outcome, AdoptedFile) and outcome.arch != self.arch:
            self.arch = outcome.arch
            self.arch_box.setCurrentIndex(self.arch_box.findData(outcome.arch))
            self.cached = outcome.path
            self.size_mb = (known_imagenet_file(get_architecture(outcome.arch)) or (None, None))[1]
            self._set_state(WeightsState.READY)
            self.weights_label.setText(f"✓ That file holds {network_name(outcome.arch)}'s weights, so training will "
                                       "use that network. Its ImageNet weights are ready.")
            self.architecture_chosen.emit(outcome.arch)
            self.weights_ready.emit(str(outcome.path))
        else:
            self._set_state(WeightsState.READY)
            self.weights_ready.emit(str(getattr(outcome, "path", outcome)))

    def _failed(self, message: str) -> None:
        self._job = None
        self._set_state(WeightsState.FAILED, message)

    def _cancelled(self) -> None:
        self._job = None
        present = self.cached is not None and self.cached.is_file()
        self._set_state(WeightsState.READY if present else WeightsState.MISSING)

    def _explain(self, problem: NoWeights) -> str:
        if problem.offline:
            return ("You seem to be offline: the weights could not be downloaded. Connect to the internet and "
                    f"try again, or use a copy of {self.cached.name} you already have. You can open and label "
                    f"photos meanwhile.\n\n({problem.reason})")
        return problem.reason

    def done(self, result: int) -> None:
        self.cancel_job()
        super().done(result)
