"""The Theory tab: parameter tables of classic networks and one worked backprop step."""

import logging
from typing import Any

from PySide6 import QtCore, QtWidgets

import engine
from desktop.reading_worker import BackpropWorker
from desktop.workers import start_worker

logger = logging.getLogger(__name__)

# Edits within this interval are combined into one backprop request.
RECOMPUTE_DELAY_MS = 40

# (argument name, label, default) of the backprop inputs, in the engine's defaults.
BACKPROP_INPUTS = (
    ("x1", "x1", 1.0),
    ("x2", "x2", 0.0),
    ("w1", "w1", 0.0),
    ("w2", "w2", 0.0),
    ("target", "target", 5.0),
    ("learning_rate", "learning rate η", 0.5),
)

# (attribute of engine.BackpropStep, symbol, how it is computed)
FORWARD_ROWS = (
    ("a", "a", "x1 · w1"),
    ("h", "h", "σ(a)"),
    ("z", "z", "h · w2 + x2"),
    ("f", "f", "σ(z)"),
    ("loss", "L", "(f − target)²"),
)
GRADIENT_ROWS = (
    ("dloss_df", "∂L/∂f", "2 (f − target)"),
    ("df_dz", "∂f/∂z", "f (1 − f)"),
    ("dz_dh", "∂z/∂h", "w2"),
    ("dh_da", "∂h/∂a", "h (1 − h)"),
    ("da_dw1", "∂a/∂w1", "x1"),
    ("dz_dw2", "∂z/∂w2", "h"),
    ("df_dw1", "∂f/∂w1", "∂f/∂z · ∂z/∂h · ∂h/∂a · ∂a/∂w1"),
    ("df_dw2", "∂f/∂w2", "∂f/∂z · ∂z/∂w2"),
    ("df_dx1", "∂f/∂x1", "∂f/∂z · ∂z/∂h · ∂h/∂a · w1"),
    ("df_dx2", "∂f/∂x2", "∂f/∂z"),
    ("dloss_dw1", "∂L/∂w1", "∂L/∂f · ∂f/∂w1"),
    ("dloss_dw2", "∂L/∂w2", "∂L/∂f · ∂f/∂w2"),
)
UPDATE_ROWS = (
    ("new_w1", "new w1", "w1 − η · ∂L/∂w1"),
    ("new_w2", "new w2", "w2 − η · ∂L/∂w2"),
)

TABLE_HEADERS = ("Layer", "Kind", "Output shape", "Weights", "Biases", "Parameters")


def format_shape(shape: tuple[int, ...]) -> str:
    """Write a shape such as (96, 55, 55) as "96 × 55 × 55"."""
    return " × ".join(str(size) for size in shape)


def format_value(value: float) -> str:
    """Write a backprop value with up to six significant digits."""
    return f"{value:.6g}"


class ArchitecturePanel(QtWidgets.QWidget):
    """One architecture's per-layer parameter table, with its total and convention."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.chooser = QtWidgets.QComboBox()
        for name in engine.ARCHITECTURES:
            self.chooser.addItem(engine.architecture_table(name).title, name)
        self.table = QtWidgets.QTableWidget(0, len(TABLE_HEADERS))
        self.table.setHorizontalHeaderLabels([self.tr(text) for text in TABLE_HEADERS])
        self.table.setEditTriggers(
            QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers
        )
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 8
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.total_label = QtWidgets.QLabel()
        self.total_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.convention_label = QtWidgets.QLabel()
        self.convention_label.setWordWrap(True)

        chooser_row = QtWidgets.QHBoxLayout()
        chooser_row.addWidget(QtWidgets.QLabel(self.tr("Architecture:")))
        chooser_row.addWidget(self.chooser)
        chooser_row.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(chooser_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.total_label)
        layout.addWidget(self.convention_label)

        self.chooser.currentIndexChanged.connect(self._on_chooser_changed)
        self.show_architecture(engine.ARCHITECTURES[0])

    def show_architecture(self, name: str) -> None:
        """Fill the table with an architecture named in ``engine.ARCHITECTURES``."""
        index = self.chooser.findData(name)
        if index != self.chooser.currentIndex():
            self.chooser.setCurrentIndex(index)  # calls back into this method
            return
        table = engine.architecture_table(name)
        self.table.setRowCount(len(table.layers))
        for row, layer in enumerate(table.layers):
            cells = (
                layer.name,
                layer.kind,
                format_shape(layer.output_shape),
                f"{layer.weights:,}",
                f"{layer.biases:,}",
                f"{layer.parameters:,}",
            )
            for column, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if column >= 3:
                    item.setTextAlignment(
                        QtCore.Qt.AlignmentFlag.AlignRight
                        | QtCore.Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        self.total_label.setText(
            self.tr("<b>Total: {total} parameters</b> (input {shape})").format(
                total=f"{table.total:,}", shape=format_shape(table.input_shape)
            )
        )
        self.convention_label.setText(table.convention)

    def _on_chooser_changed(self, index: int) -> None:
        self.show_architecture(self.chooser.itemData(index))


class BackpropPanel(QtWidgets.QWidget):
    """Editable inputs of the two-neuron chain and the step's values, kept current.

    Signals:
        step_shown(object): the ``engine.BackpropStep`` now in the tables.
    """

    step_shown = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.inputs: dict[str, QtWidgets.QDoubleSpinBox] = {}
        self._request_id = 0
        self._worker: BackpropWorker | None = None
        self._pending = False
        self.step: Any = None
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RECOMPUTE_DELAY_MS)
        self._timer.timeout.connect(self._request_step)

        formula = QtWidgets.QLabel(
            self.tr(
                "f(x, w) = σ(σ(x1 · w1) · w2 + x2), loss L = (f − target)², "
                "one SGD step w ← w − η · ∂L/∂w"
            )
        )
        formula.setWordWrap(True)
        form = QtWidgets.QFormLayout()
        for name, label, default in BACKPROP_INPUTS:
            spin = QtWidgets.QDoubleSpinBox()
            spin.setRange(-1000.0, 1000.0)
            spin.setDecimals(4)
            spin.setSingleStep(0.1)
            spin.setValue(default)
            spin.setObjectName(f"backprop_{name}")
            spin.valueChanged.connect(self._on_input_changed)
            self.inputs[name] = spin
            form.addRow(label, spin)
        reset = QtWidgets.QPushButton(self.tr("Reset to defaults"))
        reset.clicked.connect(self.reset_inputs)
        form.addRow(reset)

        self.table = self._make_table()
        self.status_label = QtWidgets.QLabel()
        self.status_label.setWordWrap(True)

        inputs = QtWidgets.QVBoxLayout()
        inputs.addLayout(form)
        inputs.addStretch(1)
        results = QtWidgets.QVBoxLayout()
        results.addWidget(self.table, 1)
        results.addWidget(self.status_label)
        columns = QtWidgets.QHBoxLayout()
        columns.addLayout(inputs)
        columns.addLayout(results, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(formula)
        layout.addLayout(columns, 1)
        self._request_step()

    def _make_table(self) -> QtWidgets.QTableWidget:
        # One table with a title row per group, so the three groups share columns.
        sections = (
            (self.tr("Forward pass"), FORWARD_ROWS),
            (self.tr("Partial derivatives"), GRADIENT_ROWS),
            (self.tr("Update"), UPDATE_ROWS),
        )

        table = QtWidgets.QTableWidget(0, 3)
        table.setHorizontalHeaderLabels(
            [self.tr("Quantity"), self.tr("Rule"), self.tr("Value")]
        )
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(
            0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        )
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(
            2, QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        )
        header.setMinimumSectionSize(90)

        self._value_rows: dict[str, int] = {}
        for title, rows in sections:
            row = table.rowCount()
            table.insertRow(row)
            item = QtWidgets.QTableWidgetItem(title)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
            table.setItem(row, 0, item)
            table.setSpan(row, 0, 1, 3)
            for name, symbol, rule in rows:
                row = table.rowCount()
                table.insertRow(row)
                table.setItem(row, 0, QtWidgets.QTableWidgetItem(symbol))
                table.setItem(row, 1, QtWidgets.QTableWidgetItem(rule))
                table.setItem(row, 2, QtWidgets.QTableWidgetItem(""))
                self._value_rows[name] = row
        return table

    def values(self) -> dict[str, float]:
        """Return the inputs keyed by ``engine.backprop_step``'s argument names."""
        return {name: spin.value() for name, spin in self.inputs.items()}

    def reset_inputs(self) -> None:
        for name, _, default in BACKPROP_INPUTS:
            self.inputs[name].setValue(default)

    def value_text(self, attribute: str) -> str:
        """Return the text shown for a ``BackpropStep`` attribute, such as "new_w2"."""
        return self.table.item(self._value_rows[attribute], 2).text()

    def _on_input_changed(self, _value: float) -> None:
        self._timer.start()

    def _request_step(self) -> None:
        # One request at a time; edits made meanwhile send one more when it ends.
        if self._worker is not None:
            self._pending = True
            return
        self._request_id += 1
        worker = BackpropWorker(self._request_id, self.values())
        worker.finished.connect(self._on_worker_finished)
        worker.failed.connect(self._on_worker_failed)
        worker.ended.connect(self._on_worker_ended)
        self._worker = worker
        start_worker(worker, self)

    def _on_worker_finished(self, result: tuple[int, Any]) -> None:
        request_id, step = result
        if request_id != self._request_id:
            return
        self.step = step
        self.status_label.clear()
        for name, row in self._value_rows.items():
            self.table.item(row, 2).setText(format_value(getattr(step, name)))
        self.step_shown.emit(step)

    def _on_worker_failed(self, message: str) -> None:
        logger.error("Backprop step failed: %s", message)
        self.status_label.setText(
            self.tr("Could not compute the step: {message}").format(message=message)
        )

    def _on_worker_ended(self) -> None:
        self._worker = None
        if self._pending:
            self._pending = False
            self._request_step()


class TheoryTab(QtWidgets.QWidget):
    """Parameter tables of LeNet, AlexNet, VGG-16 and GoogLeNet beside a backprop step.

    The tables are plain arithmetic from ``engine.architecture_table`` and are built on
    the GUI thread. The backprop step uses torch autograd, so it runs on the engine
    thread (see ``desktop.reading_worker.BackpropWorker``).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.architectures = ArchitecturePanel()
        self.backprop = BackpropPanel()
        architecture_box = QtWidgets.QGroupBox(self.tr("Parameters per layer"))
        QtWidgets.QVBoxLayout(architecture_box).addWidget(self.architectures)
        backprop_box = QtWidgets.QGroupBox(self.tr("Backpropagation, one step"))
        QtWidgets.QVBoxLayout(backprop_box).addWidget(self.backprop)
        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        splitter.addWidget(architecture_box)
        splitter.addWidget(backprop_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        # The parameter table needs about 480 px; the backprop rules need the rest.
        splitter.setSizes([520, 740])
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(splitter)
