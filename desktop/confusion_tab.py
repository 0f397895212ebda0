"""The Confusion matrix tab: heatmap, per-class scores, worst pairs, cell images."""

import csv
import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6 import QtCore, QtGui, QtWidgets

from desktop import messages
from desktop.confusion_view import NUM_CLASSES, ConfusionMatrixView
from desktop.model_state import ModelState

logger = logging.getLogger(__name__)

# The cell dialog adds images in pages so that a cell of 1,000 images opens at once.
CELL_PAGE_SIZE = 48
CELL_COLUMNS = 6
THUMBNAIL_PX = 84
MOST_CONFUSED_ROWS = 15


def digit_pixmap(image_u8: npt.NDArray[np.uint8], size_px: int) -> QtGui.QPixmap:
    """Turn a (28, 28) uint8 digit into a sharp ``size_px`` square pixmap."""
    data = np.ascontiguousarray(image_u8, dtype=np.uint8)
    height, width = data.shape
    image = QtGui.QImage(
        data.data, width, height, width, QtGui.QImage.Format.Format_Grayscale8
    )
    # QImage borrows the numpy buffer; copy() detaches it before ``data`` is freed.
    pixmap = QtGui.QPixmap.fromImage(image.copy())
    return pixmap.scaled(
        size_px,
        size_px,
        QtCore.Qt.AspectRatioMode.KeepAspectRatio,
        QtCore.Qt.TransformationMode.FastTransformation,
    )


class ProbabilityBars(QtWidgets.QWidget):
    """Ten small bars, one per digit, with the predicted and true digits coloured."""

    def __init__(
        self, probabilities: npt.NDArray[np.float32], true: int, predicted: int
    ):
        super().__init__()
        self._probabilities = np.asarray(probabilities, dtype=np.float64)
        self._true = true
        self._predicted = predicted
        self.setFixedHeight(42)
        self.setToolTip(
            "\n".join(
                f"{digit}: {p:.1%}" for digit, p in enumerate(self._probabilities)
            )
        )

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        width = self.width() / NUM_CLASSES
        bar_height = self.height() - 11
        for digit, p in enumerate(self._probabilities):
            color = QtGui.QColor(150, 150, 150)
            if digit == self._predicted:
                color = (
                    QtGui.QColor(200, 40, 40)
                    if digit != self._true
                    else QtGui.QColor(30, 80, 170)
                )
            elif digit == self._true:
                color = QtGui.QColor(30, 80, 170)
            height = max(1.0, bar_height * float(p))
            painter.fillRect(
                QtCore.QRectF(
                    digit * width + 1, bar_height - height, width - 2, height
                ),
                color,
            )
            painter.setPen(QtGui.QColor(90, 90, 90))
            painter.drawText(
                QtCore.QRectF(digit * width, bar_height, width, 11),
                QtCore.Qt.AlignmentFlag.AlignCenter,
                str(digit),
            )
        painter.end()


class CellImageCard(QtWidgets.QFrame):
    """One test image of a cell: digit, probabilities and an "Open in Layers" button.

    Signals:
        open_in_layers_requested(int): the button was clicked; the argument is the index
            of the image in the test set.
    """

    open_in_layers_requested = QtCore.Signal(int)

    def __init__(
        self, index: int, image_u8: Any, probabilities: Any, true: int, predicted: int
    ):
        super().__init__()
        self.index = index
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        picture = QtWidgets.QLabel()
        picture.setPixmap(digit_pixmap(image_u8, THUMBNAIL_PX))
        picture.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        caption = QtWidgets.QLabel(
            self.tr("#{index}: {p:.0%} {predicted}").format(
                index=index, p=float(probabilities[predicted]), predicted=predicted
            )
        )
        caption.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.open_button = QtWidgets.QPushButton(self.tr("Open in Layers"))
        self.open_button.clicked.connect(self._on_open_button_clicked)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(picture)
        layout.addWidget(caption)
        layout.addWidget(ProbabilityBars(probabilities, true, predicted))
        layout.addWidget(self.open_button)

    @QtCore.Slot()
    def _on_open_button_clicked(self) -> None:
        self.open_in_layers_requested.emit(self.index)


class CellImagesDialog(QtWidgets.QDialog):
    """The test images in one confusion-matrix cell, most confident first.

    Signals:
        open_in_layers_requested(int): forwarded from a card; a test-set index.
    """

    open_in_layers_requested = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModal(False)
        self.resize(CELL_COLUMNS * (THUMBNAIL_PX + 40) + 40, 640)
        self._indices: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._evaluation: Any = None
        self._test_set: Any = None
        self._cell = (0, 0)
        self.cards: list[CellImageCard] = []

        self.heading = QtWidgets.QLabel()
        self.heading.setWordWrap(True)
        self._grid_host = QtWidgets.QWidget()
        self._grid = QtWidgets.QGridLayout(self._grid_host)
        self._grid.setAlignment(
            QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft
        )
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._grid_host)
        self.more_button = QtWidgets.QPushButton()
        self.more_button.clicked.connect(self._on_more_button_clicked)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.more_button)

    @property
    def indices(self) -> npt.NDArray[np.int64]:
        """Test-set indices of the cell, in display order."""
        return self._indices

    def show_cell(
        self, evaluation: Any, test_set: Any, true: int, predicted: int
    ) -> None:
        """Fill the dialog with the images of cell (true, predicted) and show it."""
        self._evaluation = evaluation
        self._test_set = test_set
        self._cell = (true, predicted)
        self._indices = evaluation.cell_indices(true, predicted)
        for card in self.cards:
            card.deleteLater()
        self.cards = []
        if true == predicted:
            title = self.tr("{true}s read correctly").format(true=true)
            order = self.tr("least sure first")
            self._indices = self._indices[::-1]
        else:
            title = self.tr("{true}s read as {predicted}").format(
                true=true, predicted=predicted
            )
            order = self.tr("most confident errors first")
        self.setWindowTitle(title)
        self.heading.setText(
            self.tr("{title}: {count} test images, {order}.").format(
                title=title, count=len(self._indices), order=order
            )
        )
        self._add_page()
        self.show()
        self.raise_()

    def _add_page(self) -> None:
        start = len(self.cards)
        true, predicted = self._cell
        for index in self._indices[start : start + CELL_PAGE_SIZE]:
            index = int(index)
            card = CellImageCard(
                index,
                self._test_set.images[index],
                self._evaluation.probabilities[index],
                true,
                predicted,
            )
            card.open_in_layers_requested.connect(self.open_in_layers_requested)
            position = len(self.cards)
            self._grid.addWidget(
                card, position // CELL_COLUMNS, position % CELL_COLUMNS
            )
            self.cards.append(card)
        remaining = len(self._indices) - len(self.cards)
        self.more_button.setVisible(remaining > 0)
        self.more_button.setText(
            self.tr("Show {count} more").format(count=min(remaining, CELL_PAGE_SIZE))
        )

    @QtCore.Slot()
    def _on_more_button_clicked(self) -> None:
        self._add_page()


class ConfusionTab(QtWidgets.QWidget):
    """Shows how the current model does on the test set, class by class.

    Signals:
        open_in_layers_requested(int): the user asked to inspect a test image in the
            Layers tab; the argument is its index in ``ModelState.test_set``.
    """

    open_in_layers_requested = QtCore.Signal(int)

    def __init__(
        self, model_state: ModelState, parent: QtWidgets.QWidget | None = None
    ):
        super().__init__(parent)
        self._model_state = model_state
        self.cell_dialog = CellImagesDialog(self)
        self.cell_dialog.open_in_layers_requested.connect(self.open_in_layers_requested)

        self.view = ConfusionMatrixView()
        self.view.cell_clicked.connect(self._on_view_cell_clicked)
        self.normalize_check = QtWidgets.QCheckBox(
            self.tr("Show percentages of each row")
        )
        self.normalize_check.toggled.connect(self.view.set_normalized)
        self.summary_label = QtWidgets.QLabel()
        self.summary_label.setWordWrap(True)
        hint = QtWidgets.QLabel(self.tr("Click a cell to see its test images."))
        hint.setStyleSheet("color: gray")

        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.summary_label)
        left.addWidget(self.view, 1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.normalize_check)
        row.addStretch(1)
        row.addWidget(hint)
        left.addLayout(row)

        self.class_table = self._build_class_table()
        self.pairs_table = self._build_pairs_table()
        right = QtWidgets.QVBoxLayout()
        right.addWidget(QtWidgets.QLabel(self.tr("Per digit")))
        right.addWidget(self.class_table, 3)
        right.addWidget(QtWidgets.QLabel(self.tr("Most confused pairs")))
        right.addWidget(self.pairs_table, 2)

        layout = QtWidgets.QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

        model_state.evaluation_changed.connect(self._on_model_state_evaluation_changed)
        self._on_model_state_evaluation_changed()

    # ----- public API -----

    def has_export(self) -> bool:
        """Tell whether there is a matrix to export."""
        return self._model_state.evaluation is not None

    def export(self) -> None:
        """Ask for a file name and save the matrix as PNG or CSV, by the suffix."""
        if not self.has_export():
            messages.show_status(self, self.tr("No evaluation to export yet."))
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self,
            self.tr("Export confusion matrix"),
            "confusion_matrix.png",
            self.tr("PNG image (*.png);;CSV table (*.csv)"),
        )
        if not path:
            return
        try:
            if path.lower().endswith(".csv"):
                self.export_csv(Path(path))
            else:
                self.export_png(Path(path))
        except OSError as error:
            messages.show_error(
                self,
                self.tr("Could not export the confusion matrix"),
                self.tr(
                    "Writing {path} failed. Choose a folder you can write to."
                ).format(path=path),
                details=str(error),
            )
            return
        messages.show_status(self, self.tr("Exported {path}").format(path=path))

    def export_png(self, path: Path) -> None:
        """Save the heatmap as drawn, at its current size, to a PNG file."""
        if not self.view.grab().save(str(path), "PNG"):
            raise OSError(f"Qt could not write the PNG file {path}")

    def export_csv(self, path: Path) -> None:
        """Save the counts, rows true digits, columns predicted, with a header row."""
        evaluation = self._model_state.evaluation
        with open(path, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["true \\ predicted", *range(NUM_CLASSES)])
            for true, row in enumerate(evaluation.confusion_matrix):
                writer.writerow([true, *(int(count) for count in row)])

    def open_cell(self, true: int, predicted: int) -> None:
        """Show the test images of one cell in the cell dialog."""
        evaluation = self._model_state.evaluation
        test_set = self._model_state.test_set
        if evaluation is None or test_set is None:
            return
        self.cell_dialog.show_cell(evaluation, test_set, true, predicted)

    # ----- building -----

    def _build_class_table(self) -> QtWidgets.QTableWidget:
        table = QtWidgets.QTableWidget(NUM_CLASSES, 4)
        table.setHorizontalHeaderLabels(
            [
                self.tr("Digit"),
                self.tr("Precision"),
                self.tr("Recall"),
                self.tr("Images"),
            ]
        )
        _make_read_only(table)
        return table

    def _build_pairs_table(self) -> QtWidgets.QTableWidget:
        table = QtWidgets.QTableWidget(0, 3)
        table.setHorizontalHeaderLabels(
            [self.tr("True"), self.tr("Read as"), self.tr("Images")]
        )
        _make_read_only(table)
        table.cellDoubleClicked.connect(self._on_pairs_table_cell_double_clicked)
        table.setToolTip(self.tr("Double-click a pair to see its images."))
        return table

    def _fill_tables(self, evaluation: Any) -> None:
        support = evaluation.confusion_matrix.sum(axis=1)
        for digit in range(NUM_CLASSES):
            values = [
                str(digit),
                _percent(evaluation.precision[digit]),
                _percent(evaluation.recall[digit]),
                str(int(support[digit])),
            ]
            for column, text in enumerate(values):
                self.class_table.setItem(digit, column, _cell_item(text))
        pairs = evaluation.most_confused[:MOST_CONFUSED_ROWS]
        self.pairs_table.setRowCount(len(pairs))
        for row, (true, predicted, count) in enumerate(pairs):
            for column, value in enumerate((true, predicted, count)):
                self.pairs_table.setItem(row, column, _cell_item(str(value)))

    # ----- slots -----

    @QtCore.Slot()
    def _on_model_state_evaluation_changed(self) -> None:
        evaluation = self._model_state.evaluation
        if evaluation is None:
            self.view.set_matrix(None)
            self.class_table.clearContents()
            self.pairs_table.setRowCount(0)
            self.cell_dialog.hide()
            waiting = self._model_state.model is not None
            self.summary_label.setText(
                self.tr("Evaluating the model on the test set...")
                if waiting
                else self.tr("No model yet. Train one or open a weights file.")
            )
            return
        self.view.set_matrix(evaluation.confusion_matrix)
        self._fill_tables(evaluation)
        test_name = (
            self._model_state.test_set.name if self._model_state.test_set else ""
        )
        self.summary_label.setText(
            self.tr(
                "<b>{model}</b> on {data}: accuracy <b>{accuracy:.2%}</b> "
                "({errors} errors in {count:,} images)"
            ).format(
                model=self._model_state.display_name,
                data=test_name,
                accuracy=evaluation.accuracy,
                errors=len(evaluation.misclassified),
                count=evaluation.count,
            )
        )

    @QtCore.Slot(int, int)
    def _on_view_cell_clicked(self, true: int, predicted: int) -> None:
        self.open_cell(true, predicted)

    @QtCore.Slot(int, int)
    def _on_pairs_table_cell_double_clicked(self, row: int, column: int) -> None:
        evaluation = self._model_state.evaluation
        if evaluation is not None and row < len(evaluation.most_confused):
            true, predicted, _ = evaluation.most_confused[row]
            self.open_cell(true, predicted)


def _make_read_only(table: QtWidgets.QTableWidget) -> None:
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(
        QtWidgets.QHeaderView.ResizeMode.Stretch
    )


def _cell_item(text: str) -> QtWidgets.QTableWidgetItem:
    item = QtWidgets.QTableWidgetItem(text)
    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
    return item


def _percent(value: float) -> str:
    return f"{value:.1%}" if np.isfinite(value) else "-"
