"""The Layers tab: every stage's output for one test image or drawing."""

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6 import QtCore, QtGui, QtWidgets

from desktop.drawing_pad import DrawingPad
from desktop.feature_maps import FeatureMapGrid, ProbabilityBars, gray_to_qimage
from desktop.model_state import ModelState
from desktop.reading_worker import ActivationOutcome, ActivationWorker
from desktop.workers import start_worker

logger = logging.getLogger(__name__)

# While the user draws, activations are recomputed at most this often.
LIVE_UPDATE_INTERVAL_MS = 60
INPUT_PREVIEW_PX = 140
# The errors list shows at most this many misclassified images, so an untrained model
# with thousands of errors does not fill a combo box with all of them.
MAX_LISTED_ERRORS = 1000
MAP_COLUMNS = 10
# Vectors (flatten and fully connected stages) are drawn as rows of this many values.
VECTOR_COLUMNS = 50
VECTOR_VALUE_PX = 6

SOURCE_TEST_IMAGE = "test image"
SOURCE_DRAWING = "drawing"


def _tile_px(height: int, width: int) -> int:
    # Three screen pixels per value, but at least 28 px so 4x4 maps stay visible.
    return max(28, min(72, 3 * max(height, width)))


class StageView(QtWidgets.QWidget):
    """A title line and the grid of one stage's output or one conv layer's filters."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QtWidgets.QLabel()
        self.grid = FeatureMapGrid()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.grid, 0, QtCore.Qt.AlignmentFlag.AlignLeft)

    def show_activation(self, activation: Any) -> None:
        output = np.asarray(activation.output)
        shape = " × ".join(str(size) for size in output.shape)
        self.title.setText(f"<b>{activation.name}</b> ({activation.kind}, {shape})")
        signed = activation.kind in ("conv", "linear")
        labels = [f"{activation.name} map {index}" for index in range(len(output))]
        if output.ndim == 3:
            self.grid.set_maps(
                output,
                signed=signed,
                columns=MAP_COLUMNS,
                tile_px=_tile_px(*output.shape[1:]),
                labels=labels,
            )
            return
        rows = _vector_rows(output.reshape(-1))
        # Short vectors such as the 10 logits get wider cells, up to a 240 px row.
        value_px = max(VECTOR_VALUE_PX, 240 // rows.shape[1])
        self.grid.set_maps(
            rows[None],
            signed=signed,
            tile_px=value_px * max(rows.shape),
            labels=[f"{activation.name} ({output.size} values)"],
        )

    def show_filters(self, name: str, kernels: npt.NDArray[np.float32]) -> None:
        out_channels, in_channels, height, width = kernels.shape
        self.title.setText(
            self.tr(
                "<b>{name} filters</b> ({out} × {inp} kernels of {h} × {w}; "
                "rows are output channels)"
            ).format(name=name, out=out_channels, inp=in_channels, h=height, w=width)
        )
        labels = [
            f"{name} filter {out_index}, input channel {in_index}"
            for out_index in range(out_channels)
            for in_index in range(in_channels)
        ]
        # One input channel (conv1): lay the filters out in rows of MAP_COLUMNS.
        columns = in_channels if in_channels > 1 else MAP_COLUMNS
        self.grid.set_maps(
            kernels.reshape(-1, height, width),
            signed=True,
            columns=columns,
            tile_px=36 if in_channels == 1 else 10,
            labels=labels,
        )


def _vector_rows(vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    columns = min(vector.size, VECTOR_COLUMNS)
    rows = -(-vector.size // columns)
    padded = np.zeros(rows * columns, np.float32)
    padded[: vector.size] = vector
    return padded.reshape(rows, columns)


class LayersTab(QtWidgets.QWidget):
    """Feature maps, filters and output probabilities for a test image or a drawing.

    Activations are computed on the engine thread. While the user draws, at most one
    request is in flight, and the newest drawing is sent when it returns.

    Signals:
        activations_shown(object): the ``ActivationOutcome`` now on screen.
    """

    activations_shown = QtCore.Signal(object)

    def __init__(
        self, model_state: ModelState, parent: QtWidgets.QWidget | None = None
    ):
        super().__init__(parent)
        self.model_state = model_state
        self._source = SOURCE_TEST_IMAGE
        self._request_id = 0
        self._worker: ActivationWorker | None = None
        self._pending = False
        self._filters_model: Any = None
        self._worker_model: Any = None
        self._stage_views: list[StageView] = []
        self._filter_views: list[StageView] = []
        self._live_timer = QtCore.QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_UPDATE_INTERVAL_MS)
        self._live_timer.timeout.connect(self._request_activations)

        self._build_widgets()
        self._connect_signals()
        self._on_model_state_test_set_changed()
        self._on_model_state_evaluation_changed()

    # -- layout ----------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.index_spin = QtWidgets.QSpinBox()
        self.index_spin.setKeyboardTracking(False)
        self.class_combo = QtWidgets.QComboBox()
        self.class_combo.addItems([str(digit) for digit in range(10)])
        self.next_of_class_button = QtWidgets.QPushButton(self.tr("Next of class"))
        self.errors_combo = QtWidgets.QComboBox()
        self.errors_combo.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.errors_combo.setMinimumContentsLength(18)
        self.pad = DrawingPad()
        self.undo_button = QtWidgets.QPushButton(self.tr("Undo"))
        self.undo_button.setShortcut(QtGui.QKeySequence.StandardKey.Undo)
        self.clear_button = QtWidgets.QPushButton(self.tr("Clear"))
        self.input_label = QtWidgets.QLabel()
        self.input_label.setFixedSize(INPUT_PREVIEW_PX, INPUT_PREVIEW_PX)
        self.input_label.setFrameShape(QtWidgets.QFrame.Shape.Box)
        self.input_label.setToolTip(
            self.tr("The 28 × 28 image the network sees, after MNIST-style cropping.")
        )
        self.source_label = QtWidgets.QLabel()
        self.source_label.setWordWrap(True)
        self.prediction_label = QtWidgets.QLabel()
        self.bars = ProbabilityBars()
        self.status_label = QtWidgets.QLabel()
        self.status_label.setWordWrap(True)

        test_box = QtWidgets.QGroupBox(self.tr("Test image"))
        test_form = QtWidgets.QFormLayout(test_box)
        test_form.addRow(self.tr("Index"), self.index_spin)
        class_row = QtWidgets.QHBoxLayout()
        class_row.addWidget(self.class_combo)
        class_row.addWidget(self.next_of_class_button)
        test_form.addRow(self.tr("Class"), class_row)
        test_form.addRow(self.tr("Errors"), self.errors_combo)

        draw_box = QtWidgets.QGroupBox(self.tr("Or draw a digit"))
        draw_layout = QtWidgets.QVBoxLayout(draw_box)
        draw_layout.addWidget(self.pad)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        draw_layout.addLayout(buttons)

        input_box = QtWidgets.QGroupBox(self.tr("Network input and output"))
        input_layout = QtWidgets.QGridLayout(input_box)
        input_layout.addWidget(self.input_label, 0, 0)
        input_layout.addWidget(self.bars, 0, 1, 2, 1)
        input_layout.addWidget(self.source_label, 1, 0)
        input_layout.addWidget(self.prediction_label, 2, 0)
        input_layout.setColumnStretch(2, 1)
        self.source_label.setFixedWidth(INPUT_PREVIEW_PX + 40)
        self.bars.setMinimumWidth(320)
        self.bars.setMaximumWidth(520)

        left = QtWidgets.QVBoxLayout()
        left.addWidget(test_box)
        left.addWidget(draw_box)
        left.addStretch(1)
        left_widget = QtWidgets.QWidget()
        left_widget.setLayout(left)
        left_widget.setMaximumWidth(360)

        self.stages_widget = QtWidgets.QWidget()
        self.stages_layout = QtWidgets.QVBoxLayout(self.stages_widget)
        self.stages_layout.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.stages_widget)

        right = QtWidgets.QVBoxLayout()
        right.addWidget(input_box)
        right.addWidget(self.status_label)
        right.addWidget(scroll, 1)

        layout = QtWidgets.QHBoxLayout(self)
        layout.addWidget(left_widget)
        layout.addLayout(right, 1)

    def _connect_signals(self) -> None:
        self.index_spin.valueChanged.connect(self._on_index_spin_value_changed)
        self.next_of_class_button.clicked.connect(self._on_next_of_class_clicked)
        self.class_combo.activated.connect(self._on_next_of_class_clicked)
        self.errors_combo.activated.connect(self._on_errors_combo_activated)
        self.pad.drawing_changed.connect(self._on_pad_drawing_changed)
        self.pad.stroke_finished.connect(self._on_pad_stroke_finished)
        self.undo_button.clicked.connect(self.pad.undo)
        self.clear_button.clicked.connect(self.pad.clear)
        self.model_state.model_changed.connect(self._on_model_state_model_changed)
        self.model_state.test_set_changed.connect(self._on_model_state_test_set_changed)
        self.model_state.evaluation_changed.connect(
            self._on_model_state_evaluation_changed
        )

    # -- public API --------------------------------------------------------------------

    def show_test_image(self, index: int) -> None:
        """Show the activations of test image ``index`` of the current test set."""
        self._source = SOURCE_TEST_IMAGE
        if self.index_spin.value() == index:
            self._request_activations()
        else:
            self.index_spin.setValue(index)  # requests through valueChanged

    def source(self) -> str:
        """Return the input shown: ``SOURCE_TEST_IMAGE`` or ``SOURCE_DRAWING``."""
        return self._source

    def stage_views(self) -> list[StageView]:
        return list(self._stage_views)

    def filter_views(self) -> list[StageView]:
        return list(self._filter_views)

    # -- slots -------------------------------------------------------------------------

    def _on_index_spin_value_changed(self, _index: int) -> None:
        self._source = SOURCE_TEST_IMAGE
        self._request_activations()

    def _on_next_of_class_clicked(self, *_args: Any) -> None:
        dataset = self.model_state.test_set
        if dataset is None:
            return
        digit = self.class_combo.currentIndex()
        matches = np.flatnonzero(np.asarray(dataset.labels) == digit)
        if matches.size == 0:
            self.status_label.setText(
                self.tr("The test set has no image of class {digit}.").format(
                    digit=digit
                )
            )
            return
        later = matches[matches > self.index_spin.value()]
        self.show_test_image(int(later[0] if later.size else matches[0]))

    def _on_errors_combo_activated(self, row: int) -> None:
        index = self.errors_combo.itemData(row)
        if index is not None:
            self.show_test_image(int(index))

    def _on_pad_drawing_changed(self) -> None:
        self._source = SOURCE_DRAWING
        if not self._live_timer.isActive():
            self._live_timer.start()

    def _on_pad_stroke_finished(self) -> None:
        # The last moves of a stroke may fall between two timer ticks; send the final
        # drawing too.
        self._live_timer.start()

    def _on_model_state_model_changed(self) -> None:
        self._filters_model = None
        self._request_activations()

    def _on_model_state_test_set_changed(self) -> None:
        dataset = self.model_state.test_set
        count = len(dataset) if dataset is not None else 0
        self.index_spin.setEnabled(count > 0)
        self.next_of_class_button.setEnabled(count > 0)
        self.class_combo.setEnabled(count > 0)
        with QtCore.QSignalBlocker(self.index_spin):
            self.index_spin.setRange(0, max(0, count - 1))
        if self._source == SOURCE_TEST_IMAGE:
            self._request_activations()

    def _on_model_state_evaluation_changed(self) -> None:
        self.errors_combo.clear()
        evaluation = self.model_state.evaluation
        if evaluation is None:
            self.errors_combo.addItem(self.tr("(no evaluation yet)"))
            self.errors_combo.setEnabled(False)
            return
        misclassified = np.asarray(evaluation.misclassified)
        if misclassified.size == 0:
            self.errors_combo.addItem(self.tr("(no errors)"))
            self.errors_combo.setEnabled(False)
            return
        self.errors_combo.setEnabled(True)
        self.errors_combo.addItem(
            self.tr("{count} errors, pick one").format(count=misclassified.size)
        )
        for index in misclassified[:MAX_LISTED_ERRORS]:
            index = int(index)
            predicted = int(evaluation.predictions[index])
            text = self.tr("#{index}: {true} read as {predicted} ({p:.0%})").format(
                index=index,
                true=int(evaluation.labels[index]),
                predicted=predicted,
                p=float(evaluation.probabilities[index][predicted]),
            )
            self.errors_combo.addItem(text, index)

    # -- requests ----------------------------------------------------------------------

    def _current_input(self) -> npt.NDArray[np.uint8] | None:
        if self._source == SOURCE_DRAWING:
            return None if self.pad.is_empty() else self.pad.image_gray_u8()
        dataset = self.model_state.test_set
        if dataset is None or len(dataset) == 0:
            return None
        return np.asarray(dataset.images[self.index_spin.value()])

    def _request_activations(self) -> None:
        if self._worker is not None:
            self._pending = True
            return
        model = self.model_state.model
        image = self._current_input()
        if model is None or image is None:
            self._show_nothing(model is None)
            return
        self._request_id += 1
        worker = ActivationWorker(
            self._request_id,
            model,
            image,
            is_drawing=self._source == SOURCE_DRAWING,
            with_filters=self._filters_model is not model,
        )
        worker.finished.connect(self._on_worker_finished)
        worker.failed.connect(self._on_worker_failed)
        worker.ended.connect(self._on_worker_ended)
        self._worker = worker
        self._worker_model = model
        start_worker(worker, self)

    def _on_worker_finished(self, outcome: ActivationOutcome) -> None:
        if self._pending:
            # A newer input is waiting; showing this one would only flicker.
            if outcome.filters is not None:
                self._show_filters(outcome.filters)
            return
        self.status_label.clear()
        self._show_input(outcome.image_28)
        self._show_probabilities(outcome.probabilities)
        self._show_stages(outcome.activations)
        if outcome.filters is not None:
            self._show_filters(outcome.filters)
        self.activations_shown.emit(outcome)

    def _on_worker_failed(self, message: str) -> None:
        logger.error("Capturing activations failed: %s", message)
        self.status_label.setText(
            self.tr("Could not compute the activations: {message}").format(
                message=message
            )
        )

    def _on_worker_ended(self) -> None:
        self._worker = None
        if self._pending:
            self._pending = False
            self._request_activations()

    # -- display -----------------------------------------------------------------------

    def _show_nothing(self, no_model: bool) -> None:
        self.input_label.clear()
        self.bars.set_probabilities(None)
        self.prediction_label.clear()
        if no_model:
            self.source_label.setText(self.tr("No model is loaded."))
        elif self._source == SOURCE_DRAWING:
            self.source_label.setText(self.tr("Draw a digit on the pad."))
        else:
            self.source_label.setText(self.tr("No test set is loaded."))

    def _show_input(self, image_28: npt.NDArray[np.uint8]) -> None:
        image = gray_to_qimage(image_28)
        pixmap = QtGui.QPixmap.fromImage(image).scaled(
            INPUT_PREVIEW_PX,
            INPUT_PREVIEW_PX,
            QtCore.Qt.AspectRatioMode.KeepAspectRatio,
            QtCore.Qt.TransformationMode.FastTransformation,
        )
        self.input_label.setPixmap(pixmap)
        if self._source == SOURCE_DRAWING:
            self.source_label.setText(self.tr("Your drawing"))
            return
        dataset = self.model_state.test_set
        index = self.index_spin.value()
        self.source_label.setText(
            self.tr("{name} #{index}, label {label}").format(
                name=dataset.name, index=index, label=int(dataset.labels[index])
            )
        )

    def _show_probabilities(self, probabilities: npt.NDArray[np.float32]) -> None:
        self.bars.set_probabilities(probabilities)
        best = int(np.argmax(probabilities))
        self.prediction_label.setText(
            self.tr("<b>Prediction: {digit}</b> ({p:.1%})").format(
                digit=best, p=float(probabilities[best])
            )
        )

    def _show_stages(self, activations: list[Any]) -> None:
        while len(self._stage_views) < len(activations):
            view = StageView()
            # Stages go before the filters and the final stretch.
            self.stages_layout.insertWidget(len(self._stage_views), view)
            self._stage_views.append(view)
        for view, activation in zip(self._stage_views, activations, strict=False):
            view.show_activation(activation)
            view.show()
        for view in self._stage_views[len(activations) :]:
            view.hide()

    def _show_filters(self, filters: dict[str, npt.NDArray[np.float32]]) -> None:
        self._filters_model = self._worker_model
        for view in self._filter_views:
            self.stages_layout.removeWidget(view)
            view.deleteLater()
        self._filter_views = []
        for name, kernels in filters.items():
            view = StageView()
            view.show_filters(name, kernels)
            self.stages_layout.insertWidget(self.stages_layout.count() - 1, view)
            self._filter_views.append(view)
