"""The live training plot: loss per batch (raw and smoothed), accuracy per epoch."""

import logging

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

logger = logging.getLogger(__name__)

# Weight of each new batch in the smoothed loss: an exponential moving average whose
# span is about 50 batches, short enough to follow the schedule and long enough to hide
# the batch-to-batch noise.
LOSS_EMA_ALPHA = 2 / (50 + 1)
INITIAL_CAPACITY = 4096

# The loss plot's ranges grow in steps to these multiples of a power of ten, so that its
# axes are redrawn only when a step is passed, not on every update. Axis redraws were
# most of the plot's cost per update (about 25 ms of 40 ms in a profile).
RANGE_STEPS = (1, 2, 5, 10)
INITIAL_BATCH_RANGE = 100
INITIAL_LOSS_RANGE = 2.5

RAW_LOSS_COLOR = (120, 160, 210)
SMOOTH_LOSS_COLOR = (20, 70, 160)
ACCURACY_COLOR = (200, 90, 20)


def step_above(value: float) -> float:
    """Return the smallest 1, 2 or 5 times a power of ten that is at least ``value``.

    For example 2.3 gives 5, 120 gives 200 and 0.7 gives 1.
    """
    exponent = float(np.floor(np.log10(value))) if value > 0 else 0.0
    scale = 10.0**exponent
    for step in RANGE_STEPS:
        if step * scale >= value:
            return step * scale
    return 10 * scale


class GrowingSeries:
    """An append-only float64 series in a preallocated array that doubles when full."""

    def __init__(self, capacity: int = INITIAL_CAPACITY) -> None:
        self._values = np.empty(capacity, dtype=np.float64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def values(self) -> npt.NDArray[np.float64]:
        """A view of the values appended so far."""
        return self._values[: self._size]

    def extend(self, new_values: npt.ArrayLike) -> None:
        """Append values at the end, growing the buffer when it is full."""
        new = np.asarray(new_values, dtype=np.float64).ravel()
        needed = self._size + len(new)
        if needed > len(self._values):
            capacity = max(needed, 2 * len(self._values))
            grown = np.empty(capacity, dtype=np.float64)
            grown[: self._size] = self.values
            self._values = grown
        self._values[self._size : needed] = new
        self._size = needed

    def clear(self) -> None:
        """Forget every value; the buffer is kept for the next run."""
        self._size = 0


class LossPlot(QtWidgets.QWidget):
    """Two stacked plots sharing the batch axis: loss on top, test accuracy below.

    Each series is one curve updated with ``setData`` and the whole history, with peak
    downsampling and clip-to-view, so redraws stay fast past 100,000 batches.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._losses = GrowingSeries()
        self._smoothed = GrowingSeries()
        self._batch_numbers = GrowingSeries()
        self._epoch_batches = GrowingSeries(64)
        self._accuracies = GrowingSeries(64)
        self._smoothed_last: float | None = None
        self._batch_range = INITIAL_BATCH_RANGE
        self._loss_range = INITIAL_LOSS_RANGE

        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground("w")
        self._loss_plot = self._graphics.addPlot(row=0, col=0)
        self._accuracy_plot = self._graphics.addPlot(row=1, col=0)
        self._graphics.ci.layout.setRowStretchFactor(0, 3)
        self._graphics.ci.layout.setRowStretchFactor(1, 1)
        self._raw_curve, self._smooth_curve = self._set_up_loss_plot()
        self._accuracy_curve = self._set_up_accuracy_plot()

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._graphics)

    @property
    def batch_count(self) -> int:
        """Number of batch losses plotted."""
        return len(self._losses)

    @property
    def epoch_count(self) -> int:
        """Number of epoch accuracies plotted."""
        return len(self._accuracies)

    @property
    def smoothed_losses(self) -> npt.NDArray[np.float64]:
        """The smoothed loss curve, one value per batch."""
        return self._smoothed.values

    def append_losses(self, losses: npt.ArrayLike) -> None:
        """Add the losses of the batches since the last call and redraw both curves."""
        new = np.asarray(losses, dtype=np.float64).ravel()
        if not len(new):
            return
        start = len(self._losses)
        self._losses.extend(new)
        self._batch_numbers.extend(np.arange(start + 1, start + 1 + len(new)))
        self._smoothed.extend(self._smooth(new))
        self._grow_ranges(float(np.max(new)))
        numbers = self._batch_numbers.values
        self._raw_curve.setData(numbers, self._losses.values)
        self._smooth_curve.setData(numbers, self._smoothed.values)

    def set_expected_batches(self, total: int) -> None:
        """Fit the batch axis to a run of ``total`` batches, so it is not redrawn."""
        if total != self._batch_range and total >= len(self._losses):
            self._batch_range = total
            self._loss_plot.setXRange(0, total, padding=0)

    def add_epoch(self, accuracy: float) -> None:
        """Plot the test accuracy (0..1) reached at the current batch count."""
        self._epoch_batches.extend([max(len(self._losses), 1)])
        self._accuracies.extend([100.0 * accuracy])
        self._accuracy_curve.setData(
            self._epoch_batches.values, self._accuracies.values
        )

    def clear(self) -> None:
        """Remove every point, ready for a new run."""
        for series in (
            self._losses,
            self._smoothed,
            self._batch_numbers,
            self._epoch_batches,
            self._accuracies,
        ):
            series.clear()
        self._smoothed_last = None
        self._batch_range = INITIAL_BATCH_RANGE
        self._loss_range = INITIAL_LOSS_RANGE
        self._loss_plot.setRange(
            xRange=(0, self._batch_range), yRange=(0, self._loss_range), padding=0
        )
        for curve in (self._raw_curve, self._smooth_curve, self._accuracy_curve):
            curve.setData([], [])

    def _grow_ranges(self, new_peak: float) -> None:
        if len(self._losses) > self._batch_range:
            self._batch_range = step_above(len(self._losses))
            self._loss_plot.setXRange(0, self._batch_range, padding=0)
        if np.isfinite(new_peak) and new_peak > self._loss_range:
            self._loss_range = step_above(new_peak)
            self._loss_plot.setYRange(0, self._loss_range, padding=0)

    def _smooth(self, new: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        # A Python loop over the new values only: at ten updates a second they are a
        # few dozen per call, so the whole history is never recomputed.
        smoothed = np.empty_like(new)
        last = self._smoothed_last
        for i, value in enumerate(new):
            last = value if last is None else last + LOSS_EMA_ALPHA * (value - last)
            smoothed[i] = last
        self._smoothed_last = last
        return smoothed

    def _set_up_loss_plot(self) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        plot = self._loss_plot
        plot.setLabel("left", self.tr("Training loss"))
        plot.showGrid(x=False, y=False)
        plot.addLegend(offset=(-10, 10))
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        plot.getAxis("bottom").setStyle(showValues=False)
        raw = plot.plot(
            pen=pg.mkPen(RAW_LOSS_COLOR, width=1), name=self.tr("per batch")
        )
        smooth = plot.plot(
            pen=pg.mkPen(SMOOTH_LOSS_COLOR, width=2), name=self.tr("smoothed")
        )
        plot.setLimits(xMin=0, yMin=0)
        # The ranges start at the usual size of a cross-entropy loss curve and grow in
        # steps (see RANGE_STEPS); setRange also turns pyqtgraph's auto-range off.
        plot.setRange(
            xRange=(0, INITIAL_BATCH_RANGE), yRange=(0, INITIAL_LOSS_RANGE), padding=0
        )
        return raw, smooth

    def _set_up_accuracy_plot(self) -> pg.PlotDataItem:
        plot = self._accuracy_plot
        plot.setLabel("left", self.tr("Test accuracy (%)"))
        plot.setLabel("bottom", self.tr("Batch"))
        plot.showGrid(x=False, y=False)
        plot.setXLink(self._loss_plot)
        plot.setLimits(yMin=0, yMax=100.5)
        plot.setYRange(0, 100, padding=0)
        plot.enableAutoRange(axis="y")
        curve = plot.plot(
            pen=pg.mkPen(ACCURACY_COLOR, width=2),
            symbol="o",
            symbolSize=6,
            symbolBrush=ACCURACY_COLOR,
            symbolPen=None,
        )
        return curve

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(640, 420)
