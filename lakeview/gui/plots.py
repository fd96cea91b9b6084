"""pyqtgraph plots: training curves per epoch, and the learning-rate finder's curve with its suggestion."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

if TYPE_CHECKING:  # torch comes with it
    from lakeview.core.training.fit_records import EpochStats

MINIMUM_SIZE = (140, 110)
"""Small enough for the Train tab on a 1024×700 screen, large enough to read a curve."""
TRAIN_COLOUR = "#1f77b4"
VALID_COLOUR = "#ff7f0e"
ERROR_COLOUR = "#d62728"


def _plot(title: str, left: str, bottom: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background=None)
    plot.setTitle(title)
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    plot.setMinimumSize(*MINIMUM_SIZE)
    plot.getAxis("left").enableAutoSIPrefix(False)
    return plot


class TrainingCurves(QWidget):
    """Train and validation loss, and the error rate, one point per finished epoch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = _plot("Loss", "loss", "epoch")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.error_plot = _plot("Error rate", "error %", "epoch")
        self.train_loss = self.loss_plot.plot([], [], name="train", pen=pg.mkPen(TRAIN_COLOUR, width=2),
                                              symbol="o", symbolSize=6, symbolBrush=TRAIN_COLOUR)
        self.valid_loss = self.loss_plot.plot([], [], name="valid", pen=pg.mkPen(VALID_COLOUR, width=2),
                                              symbol="o", symbolSize=6, symbolBrush=VALID_COLOUR)
        self.error = self.error_plot.plot([], [], pen=pg.mkPen(ERROR_COLOUR, width=2), symbol="o", symbolSize=6,
                                          symbolBrush=ERROR_COLOUR)
        self.unfreeze_line: pg.InfiniteLine | None = None
        self.epochs: list[EpochStats] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.error_plot)

    def clear(self) -> None:
        self.epochs = []
        if self.unfreeze_line is not None:
            self.loss_plot.removeItem(self.unfreeze_line)
            self.unfreeze_line = None
        self._redraw()

    def add_epoch(self, stats: EpochStats) -> None:
        if self.epochs and self.epochs[-1].phase.startswith("frozen") and not stats.phase.startswith("frozen"):
            self.unfreeze_line = pg.InfiniteLine(len(self.epochs) + 0.5, angle=90, label="unfrozen",
                                                 pen=pg.mkPen("#888888", style=pg.QtCore.Qt.PenStyle.DashLine),
                                                 labelOpts={"position": 0.5})
            self.loss_plot.addItem(self.unfreeze_line)
        self.epochs.append(stats)
        for plot in (self.loss_plot, self.error_plot):  # one repaint each, not one per curve and range change
            plot.setUpdatesEnabled(False)
        try:
            self._redraw()
        finally:
            for plot in (self.loss_plot, self.error_plot):
                plot.setUpdatesEnabled(True)

    def _redraw(self) -> None:
        x = list(range(1, len(self.epochs) + 1))
        self.train_loss.setData(x, [e.train_loss for e in self.epochs])
        valid = [(i, e.valid_loss) for i, e in zip(x, self.epochs) if e.valid_loss is not None]
        self.valid_loss.setData([i for i, _ in valid], [v for _, v in valid])
        errors = [(i, e.error_rate * 100) for i, e in zip(x, self.epochs) if e.error_rate is not None]
        self.error.setData([i for i, _ in errors], [v for _, v in errors])
        self.error_plot.setYRange(0, max([v for _, v in errors], default=10) * 1.15 + 0.5)


class LRFinderPlot(pg.PlotWidget):
    """Smoothed loss against a log-scale learning rate, with the suggestion marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=None)
        self.setTitle("Learning-rate finder")
        self.setLabel("left", "loss (smoothed)")
        self.setLabel("bottom", "learning rate")
        self.setLogMode(x=True, y=False)
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setMenuEnabled(False)
        self.getAxis("left").enableAutoSIPrefix(False)
        self.setMinimumSize(*MINIMUM_SIZE)
        self.curve = self.plot([], [], pen=pg.mkPen(TRAIN_COLOUR, width=2))
        self.suggestion_line: pg.InfiniteLine | None = None
        self.suggestion: float | None = None
        self.placeholder = pg.TextItem("Find learning rate draws its curve here", color="#8c8c8c", anchor=(0.5, 0.5))
        self.placeholder.setPos(0.5, 0.5)
        self._show_empty(True)

    def _show_empty(self, empty: bool) -> None:
        """Without a curve the axes carry no numbers (a log axis over nothing reads "2 3 ... 9"), only a hint."""
        for name in ("left", "bottom"):
            self.getAxis(name).setStyle(showValues=not empty, tickLength=-5 if not empty else 0)
        self.showGrid(x=not empty, y=not empty, alpha=0.25)
        if empty and self.placeholder.scene() is None:
            self.addItem(self.placeholder, ignoreBounds=True)
            self.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        elif not empty and self.placeholder.scene() is not None:
            self.removeItem(self.placeholder)

    @property
    def empty(self) -> bool:
        return self.placeholder.scene() is not None

    def show_result(self, lrs: list[float], losses: list[float], suggestion: float | None) -> None:
        self._show_empty(not lrs)
        self.curve.setData(lrs, losses)
        if self.suggestion_line is not None:
            self.removeItem(self.suggestion_line)
            self.suggestion_line = None
        self.suggestion = suggestion
        if suggestion is not None:
            self.suggestion_line = pg.InfiniteLine(math.log10(suggestion), angle=90, label=f"suggested {suggestion:.1e}",
                                                   pen=pg.mkPen(ERROR_COLOUR, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
                                                   labelOpts={"position": 0.85, "color": ERROR_COLOUR})
            self.addItem(self.suggestion_line)
        self.enableAutoRange()

    def points(self) -> tuple[list[float], list[float]]:
        """The plotted (learning rate, loss) pairs, as given."""
        x, y = self.curve.xData, self.curve.yData
        return ([] if x is None else [float(v) for v in x]), ([] if y is None else [float(v) for v in y])
