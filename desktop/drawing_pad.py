"""A square pad to draw a digit on with the mouse, white ink on black like MNIST."""

import logging
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from PySide6 import QtCore, QtGui, QtWidgets

logger = logging.getLogger(__name__)

# The pad is ten times MNIST's 28 px. MNIST strokes are about 2 to 3 px wide on a digit
# about 20 px tall. A 22 px pen on a digit drawn about 200 px tall keeps that ratio
# when the engine scales the drawing down to 28x28.
PAD_SIZE_PX = 280
STROKE_WIDTH_PX = 22


class DrawingPad(QtWidgets.QWidget):
    """A drawing surface of ``PAD_SIZE_PX`` square pixels, shown scaled to the widget.

    Strokes are kept as point lists in pad pixels, so undo redraws the remaining ones.
    ``image_gray_u8()`` returns the drawing as the engine expects a photo crop: ink is
    255, background 0.

    Signals:
        drawing_changed(): a stroke was started, extended, undone or cleared.
        stroke_finished(): the mouse button was released after a stroke.
    """

    drawing_changed = QtCore.Signal()
    stroke_finished = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._strokes: list[list[QtCore.QPointF]] = []
        self._drawing = False
        self._image = QtGui.QImage(
            PAD_SIZE_PX, PAD_SIZE_PX, QtGui.QImage.Format.Format_Grayscale8
        )
        self._image.fill(0)
        self.setMinimumSize(140, 140)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred,
            QtWidgets.QSizePolicy.Policy.Preferred,
        )
        self.setCursor(QtCore.Qt.CursorShape.CrossCursor)
        self.setToolTip(self.tr("Draw a digit with the left mouse button."))

    # -- stroke API, used by the mouse handlers and by tests --------------------------

    def begin_stroke(self, point: QtCore.QPointF) -> None:
        """Start a new stroke at a point in pad pixels."""
        self._strokes.append([QtCore.QPointF(point)])
        self._paint_segment(point, point)
        self.drawing_changed.emit()

    def extend_stroke(self, point: QtCore.QPointF) -> None:
        """Continue the current stroke to a point in pad pixels."""
        if not self._strokes:
            self.begin_stroke(point)
            return
        stroke = self._strokes[-1]
        self._paint_segment(stroke[-1], point)
        stroke.append(QtCore.QPointF(point))
        self.drawing_changed.emit()

    def add_stroke(self, points: Iterable[tuple[float, float]]) -> None:
        """Draw a whole stroke given as (x, y) pairs in pad pixels."""
        points = [QtCore.QPointF(x, y) for x, y in points]
        if not points:
            return
        with QtCore.QSignalBlocker(self):
            self.begin_stroke(points[0])
            for point in points[1:]:
                self.extend_stroke(point)
        self.drawing_changed.emit()
        self.stroke_finished.emit()

    def undo(self) -> None:
        """Remove the last stroke."""
        if not self._strokes:
            return
        self._strokes.pop()
        self._redraw()
        self.drawing_changed.emit()

    def clear(self) -> None:
        """Remove every stroke."""
        if not self._strokes:
            return
        self._strokes.clear()
        self._redraw()
        self.drawing_changed.emit()

    def stroke_count(self) -> int:
        return len(self._strokes)

    def is_empty(self) -> bool:
        return not self._strokes

    def image_gray_u8(self) -> npt.NDArray[np.uint8]:
        """Return a copy of the drawing, uint8 (PAD_SIZE_PX, PAD_SIZE_PX), ink 255."""
        width = self._image.width()
        rows = np.frombuffer(self._image.constBits(), dtype=np.uint8)
        rows = rows.reshape(self._image.height(), self._image.bytesPerLine())
        return rows[:, :width].copy()

    # -- painting --------------------------------------------------------------------

    def _paint_segment(self, start: QtCore.QPointF, end: QtCore.QPointF) -> None:
        painter = QtGui.QPainter(self._image)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        pen = QtGui.QPen(QtGui.QColor(255, 255, 255), STROKE_WIDTH_PX)
        pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawLine(start, end)
        painter.end()
        self.update()

    def _redraw(self) -> None:
        self._image.fill(0)
        for stroke in self._strokes:
            previous = stroke[0]
            for point in stroke:
                self._paint_segment(previous, point)
                previous = point
        self.update()

    def _target_rect(self) -> QtCore.QRectF:
        side = min(self.width(), self.height())
        left = (self.width() - side) / 2
        top = (self.height() - side) / 2
        return QtCore.QRectF(left, top, side, side)

    def _to_pad(self, position: QtCore.QPointF) -> QtCore.QPointF:
        target = self._target_rect()
        scale = PAD_SIZE_PX / target.width()
        return QtCore.QPointF(
            (position.x() - target.left()) * scale,
            (position.y() - target.top()) * scale,
        )

    def heightForWidth(self, width: int) -> int:
        return width

    def hasHeightForWidth(self) -> bool:
        return True

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(PAD_SIZE_PX, PAD_SIZE_PX)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform)
        target = self._target_rect()
        painter.drawImage(target, self._image)
        painter.setPen(self.palette().color(QtGui.QPalette.ColorRole.Mid))
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        if self.is_empty():
            painter.setPen(QtGui.QColor(150, 150, 150))
            painter.drawText(
                target,
                QtCore.Qt.AlignmentFlag.AlignCenter,
                self.tr("Draw a digit here"),
            )
        painter.end()

    # -- mouse -----------------------------------------------------------------------

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self._drawing = True
        self.begin_stroke(self._to_pad(event.position()))
        event.accept()

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        if not self._drawing:
            super().mouseMoveEvent(event)
            return
        self.extend_stroke(self._to_pad(event.position()))
        event.accept()

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton or not self._drawing:
            super().mouseReleaseEvent(event)
            return
        self._drawing = False
        self.stroke_finished.emit()
        event.accept()
