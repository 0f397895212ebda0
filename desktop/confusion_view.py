"""A 10x10 confusion-matrix heatmap that shows counts, hover values and cell clicks."""

import numpy as np
import numpy.typing as npt
from PySide6 import QtCore, QtGui, QtWidgets

NUM_CLASSES = 10
# Space for the "true" and "predicted" digit labels around the grid, in pixels.
LABEL_MARGIN_PX = 34
MIN_CELL_PX = 22


class ConfusionMatrixView(QtWidgets.QWidget):
    """Draws a confusion matrix: rows are true digits, columns predicted ones.

    Each cell is shaded by its share of the row, so the diagonal of a good model is dark
    whether or not the classes are balanced, and shows the count or the row percentage.

    Signals:
        cell_clicked(int, int): the (true, predicted) cell under a left click.
    """

    cell_clicked = QtCore.Signal(int, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._matrix: npt.NDArray[np.int64] | None = None
        self._normalized = False
        self._hover: tuple[int, int] | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(
            LABEL_MARGIN_PX + NUM_CLASSES * MIN_CELL_PX + 8,
            LABEL_MARGIN_PX + NUM_CLASSES * MIN_CELL_PX + 8,
        )
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding,
            QtWidgets.QSizePolicy.Policy.Expanding,
        )

    @property
    def matrix(self) -> npt.NDArray[np.int64] | None:
        """The (10, 10) counts shown, or None."""
        return self._matrix

    def set_matrix(self, matrix: npt.NDArray[np.int64] | None) -> None:
        """Show new counts; None shows an empty grid."""
        self._matrix = None if matrix is None else np.asarray(matrix, dtype=np.int64)
        self.update()

    def set_normalized(self, normalized: bool) -> None:
        """Show per-row percentages (True) or raw counts (False)."""
        self._normalized = normalized
        self.update()

    def row_shares(self) -> npt.NDArray[np.float64]:
        """Return each cell divided by its row total (zero in rows with no images)."""
        if self._matrix is None:
            return np.zeros((NUM_CLASSES, NUM_CLASSES))
        totals = self._matrix.sum(axis=1, keepdims=True).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(totals > 0, self._matrix / totals, 0.0)
        return shares

    def cell_rect(self, true: int, predicted: int) -> QtCore.QRectF:
        """Return the rectangle of a cell in widget coordinates."""
        origin, size = self._grid_geometry()
        return QtCore.QRectF(
            origin.x() + predicted * size, origin.y() + true * size, size, size
        )

    def cell_at(self, position: QtCore.QPointF) -> tuple[int, int] | None:
        """Return the (true, predicted) cell under a point, or None outside the grid."""
        origin, size = self._grid_geometry()
        column = int((position.x() - origin.x()) // size)
        row = int((position.y() - origin.y()) // size)
        if 0 <= row < NUM_CLASSES and 0 <= column < NUM_CLASSES:
            return row, column
        return None

    def cell_description(self, true: int, predicted: int) -> str:
        """Return a cell's tooltip, such as "True 7, predicted 9: 12 images (...)"."""
        if self._matrix is None:
            return ""
        count = int(self._matrix[true, predicted])
        share = self.row_shares()[true, predicted]
        return self.tr(
            "True {true}, predicted {predicted}: {count} images "
            "({share:.1%} of the {true}s)"
        ).format(true=true, predicted=predicted, count=count, share=share)

    # ----- Qt overrides -----

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        painter.fillRect(
            self.rect(), self.palette().color(QtGui.QPalette.ColorRole.Base)
        )
        self._paint_labels(painter)
        self._paint_cells(painter)
        painter.end()

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        cell = self.cell_at(event.position())
        if cell != self._hover:
            self._hover = cell
            self.update()
        if cell is not None and self._matrix is not None:
            QtWidgets.QToolTip.showText(
                event.globalPosition().toPoint(), self.cell_description(*cell), self
            )
        else:
            QtWidgets.QToolTip.hideText()

    def leaveEvent(self, event: QtCore.QEvent) -> None:
        self._hover = None
        self.update()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton or self._matrix is None:
            return
        cell = self.cell_at(event.position())
        if cell is not None:
            self.cell_clicked.emit(*cell)

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(460, 460)

    # ----- painting -----

    def _grid_geometry(self) -> tuple[QtCore.QPointF, float]:
        side = min(self.width(), self.height()) - LABEL_MARGIN_PX - 8
        size = max(float(MIN_CELL_PX), side / NUM_CLASSES)
        return QtCore.QPointF(LABEL_MARGIN_PX, LABEL_MARGIN_PX), size

    def _paint_labels(self, painter: QtGui.QPainter) -> None:
        origin, size = self._grid_geometry()
        painter.setPen(self.palette().color(QtGui.QPalette.ColorRole.Text))
        center = QtCore.Qt.AlignmentFlag.AlignCenter
        for digit in range(NUM_CLASSES):
            top = QtCore.QRectF(origin.x() + digit * size, origin.y() - 18, size, 16)
            left = QtCore.QRectF(origin.x() - 18, origin.y() + digit * size, 16, size)
            painter.drawText(top, center, str(digit))
            painter.drawText(left, center, str(digit))
        font = painter.font()
        small = QtGui.QFont(font)
        small.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        painter.setFont(small)
        grid_width = NUM_CLASSES * size
        painter.drawText(
            QtCore.QRectF(origin.x(), 0, grid_width, 14), center, self.tr("predicted")
        )
        painter.save()
        painter.translate(8, origin.y() + grid_width / 2)
        painter.rotate(-90)
        painter.drawText(
            QtCore.QRectF(-grid_width / 2, -7, grid_width, 14), center, self.tr("true")
        )
        painter.restore()
        painter.setFont(font)

    def _paint_cells(self, painter: QtGui.QPainter) -> None:
        shares = self.row_shares()
        center = QtCore.Qt.AlignmentFlag.AlignCenter
        grid_pen = QtGui.QPen(QtGui.QColor(210, 210, 210))
        for true in range(NUM_CLASSES):
            for predicted in range(NUM_CLASSES):
                rect = self.cell_rect(true, predicted)
                share = shares[true, predicted]
                painter.fillRect(rect, _cell_color(share, true == predicted))
                painter.setPen(grid_pen)
                painter.drawRect(rect)
                if self._matrix is None:
                    continue
                dark = _cell_color(share, true == predicted).lightnessF() < 0.55
                painter.setPen(QtGui.QColor("white") if dark else QtGui.QColor("black"))
                painter.drawText(rect, center, self._cell_text(true, predicted, share))
        if self._hover is not None:
            painter.setPen(QtGui.QPen(QtGui.QColor(255, 160, 0), 2))
            painter.drawRect(self.cell_rect(*self._hover).adjusted(1, 1, -1, -1))

    def _cell_text(self, true: int, predicted: int, share: float) -> str:
        assert self._matrix is not None
        if self._normalized:
            if share == 0:
                return ""
            return f"{100 * share:.0f}" if share >= 0.1 else f"{100 * share:.1f}"
        count = int(self._matrix[true, predicted])
        return str(count) if count else ""


def _cell_color(share: float, diagonal: bool) -> QtGui.QColor:
    """Blue for correct reads, red for errors, darker for a larger share of the row."""
    if share <= 0:
        return QtGui.QColor(250, 250, 250)
    # Errors are usually a few percent of a row; a floor and the square root lift even
    # a single error into sight.
    strength = share if diagonal else 0.2 + 0.8 * float(np.sqrt(share))
    base = (30, 80, 170) if diagonal else (200, 40, 40)
    return QtGui.QColor(*(int(255 - strength * (255 - channel)) for channel in base))
