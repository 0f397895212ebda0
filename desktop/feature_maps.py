"""Widgets that draw arrays from the engine: feature-map grids and probability bars.

These only convert numpy arrays into images and paint them. They run no torch
operations, so they are safe on the GUI thread.
"""

import logging
import math

import numpy as np
import numpy.typing as npt
from PySide6 import QtCore, QtGui, QtWidgets

logger = logging.getLogger(__name__)

TILE_GAP_PX = 2
MAX_TILE_PX = 96


def array_to_qimage(
    values: npt.NDArray[np.floating], vmin: float, vmax: float, signed: bool
) -> QtGui.QImage:
    """Map a 2-D array to an image.

    Unsigned values go from black (vmin) to white (vmax). Signed values go from blue
    (negative) through white (zero) to red (positive), saturating at the larger of
    |vmin| and |vmax|.
    """
    values = np.asarray(values, dtype=np.float32)
    if signed:
        limit = max(abs(vmin), abs(vmax)) or 1.0
        scaled = np.clip(values / limit, -1.0, 1.0)
        positive = np.clip(scaled, 0.0, 1.0)
        negative = np.clip(-scaled, 0.0, 1.0)
        red = 255 * (1.0 - negative)
        green = 255 * (1.0 - np.maximum(positive, negative))
        blue = 255 * (1.0 - positive)
        rgb = np.stack([red, green, blue], axis=-1).astype(np.uint8)
        return _rgb_to_qimage(np.ascontiguousarray(rgb))
    span = (vmax - vmin) or 1.0
    gray = (np.clip((values - vmin) / span, 0.0, 1.0) * 255).astype(np.uint8)
    return gray_to_qimage(gray)


def gray_to_qimage(gray: npt.NDArray[np.uint8]) -> QtGui.QImage:
    """Wrap a uint8 (H, W) array as a Grayscale8 image; the image owns a copy."""
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    height, width = gray.shape
    image = QtGui.QImage(
        gray.data, width, height, width, QtGui.QImage.Format.Format_Grayscale8
    )
    return image.copy()


def _rgb_to_qimage(rgb: npt.NDArray[np.uint8]) -> QtGui.QImage:
    height, width, _ = rgb.shape
    image = QtGui.QImage(
        rgb.data, width, height, 3 * width, QtGui.QImage.Format.Format_RGB888
    )
    return image.copy()


def rgb_to_qimage(rgb: npt.NDArray[np.uint8]) -> QtGui.QImage:
    """Wrap a uint8 (H, W, 3) RGB array as an image; the image owns a copy."""
    return _rgb_to_qimage(np.ascontiguousarray(rgb, dtype=np.uint8))


class FeatureMapGrid(QtWidgets.QWidget):
    """A grid of same-sized 2-D maps, such as one stage's channels or a layer's filters.

    All tiles share one colour scale, so a weak map looks dark next to a strong one.
    Hovering a tile shows its index and value range as a tooltip.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._maps: npt.NDArray[np.float32] = np.zeros((0, 1, 1), np.float32)
        self._labels: list[str] = []
        self._mosaic = QtGui.QImage()
        self._columns = 1
        self._tile_px = 1
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Fixed
        )

    def set_maps(
        self,
        maps: npt.NDArray[np.floating],
        *,
        signed: bool,
        columns: int | None = None,
        tile_px: int | None = None,
        labels: list[str] | None = None,
    ) -> None:
        """Show maps of shape (N, H, W).

        Args:
            maps: the maps; a (F,) vector is shown as one tile of about square shape.
            signed: colour negative values blue and positive red, instead of grey.
            columns: tiles per row; by default about the square root of N, rounded up.
            tile_px: drawn size of a tile's longer side; by default H scaled to fit.
            labels: one tooltip prefix per tile, such as "conv1 map 3".
        """
        maps = np.asarray(maps, dtype=np.float32)
        if maps.ndim == 1:
            maps = _vector_as_map(maps)[None]
        count, height, width = maps.shape
        self._maps = maps
        self._labels = labels or [f"map {index}" for index in range(count)]
        self._columns = max(1, min(count, columns or math.ceil(math.sqrt(count))))
        longest = max(height, width)
        self._tile_px = tile_px or max(longest, min(MAX_TILE_PX, 4 * longest))
        self._mosaic = self._build_mosaic(signed)
        self.updateGeometry()
        self.update()

    def _build_mosaic(self, signed: bool) -> QtGui.QImage:
        count = self._maps.shape[0]
        vmin = float(self._maps.min()) if self._maps.size else 0.0
        vmax = float(self._maps.max()) if self._maps.size else 1.0
        if not signed:
            vmin = min(vmin, 0.0)
        rows = math.ceil(count / self._columns)
        _, height, width = self._maps.shape
        # One pixel per value, with one-pixel gaps; paintEvent scales it up unsmoothed.
        mosaic = np.full((rows * (height + 1), self._columns * (width + 1)), np.nan)
        for index in range(count):
            row, column = divmod(index, self._columns)
            top, left = row * (height + 1), column * (width + 1)
            mosaic[top : top + height, left : left + width] = self._maps[index]
        image = array_to_qimage(np.nan_to_num(mosaic, nan=vmin), vmin, vmax, signed)
        return image

    def tile_count(self) -> int:
        return int(self._maps.shape[0])

    def _scale(self) -> float:
        _, height, width = self._maps.shape
        return self._tile_px / max(height, width)

    def _tile_rect(self, index: int) -> QtCore.QRectF:
        _, height, width = self._maps.shape
        scale = self._scale()
        row, column = divmod(index, self._columns)
        step_x = width * scale + TILE_GAP_PX
        step_y = height * scale + TILE_GAP_PX
        return QtCore.QRectF(
            column * step_x, row * step_y, width * scale, height * scale
        )

    def tile_at(self, position: QtCore.QPointF) -> int:
        """Return the index of the tile under a widget position, or -1."""
        for index in range(self.tile_count()):
            if self._tile_rect(index).contains(position):
                return index
        return -1

    def tooltip_at(self, position: QtCore.QPointF) -> str:
        """Return the tooltip text for a widget position: the tile's value range."""
        index = self.tile_at(position)
        if index < 0:
            return ""
        values = self._maps[index]
        return self.tr(
            "{label}: min {low:.3g}, max {high:.3g}, mean {mean:.3g}"
        ).format(
            label=self._labels[index],
            low=float(values.min()),
            high=float(values.max()),
            mean=float(values.mean()),
        )

    def sizeHint(self) -> QtCore.QSize:
        if not self.tile_count():
            return QtCore.QSize(0, 0)
        rows = math.ceil(self.tile_count() / self._columns)
        corner = self._tile_rect((rows - 1) * self._columns + self._columns - 1)
        return QtCore.QSize(math.ceil(corner.right()), math.ceil(corner.bottom()))

    def minimumSizeHint(self) -> QtCore.QSize:
        return self.sizeHint()

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ToolTip:
            text = self.tooltip_at(QtCore.QPointF(event.pos()))
            if text:
                QtWidgets.QToolTip.showText(event.globalPos(), text, self)
            else:
                QtWidgets.QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        if self._mosaic.isNull():
            return
        painter = QtGui.QPainter(self)
        _, height, width = self._maps.shape
        for index in range(self.tile_count()):
            row, column = divmod(index, self._columns)
            source = QtCore.QRectF(
                column * (width + 1), row * (height + 1), width, height
            )
            painter.drawImage(self._tile_rect(index), self._mosaic, source)
        painter.end()


def _vector_as_map(vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    # Lay a long vector out row by row in a near-square block, padding the tail with 0.
    columns = math.ceil(math.sqrt(vector.size))
    rows = math.ceil(vector.size / columns)
    padded = np.zeros(rows * columns, np.float32)
    padded[: vector.size] = vector
    return padded.reshape(rows, columns)


class ProbabilityBars(QtWidgets.QWidget):
    """Ten horizontal bars, one per digit, with the most probable one highlighted."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._probabilities = np.zeros(10, np.float32)
        self._has_values = False
        self.setMinimumSize(160, 10 * 18)

    def set_probabilities(self, probabilities: npt.NDArray[np.floating] | None) -> None:
        """Show probabilities (10,) in 0..1, or empty bars for None."""
        self._has_values = probabilities is not None
        if probabilities is None:
            self._probabilities = np.zeros(10, np.float32)
        else:
            self._probabilities = np.asarray(probabilities, np.float32).reshape(-1)
        self.update()

    def probabilities(self) -> npt.NDArray[np.float32]:
        return self._probabilities.copy()

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(220, 10 * 20)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        metrics = painter.fontMetrics()
        label_px = metrics.horizontalAdvance("9") + 8
        value_px = metrics.horizontalAdvance("100.0%") + 8
        count = self._probabilities.size
        row_px = self.height() / max(count, 1)
        bar_px = max(1.0, self.width() - label_px - value_px)
        best = int(self._probabilities.argmax()) if self._has_values else -1
        palette = self.palette()
        for digit, probability in enumerate(self._probabilities):
            top = digit * row_px
            text_rect = QtCore.QRectF(0, top, label_px - 4, row_px)
            painter.setPen(palette.color(QtGui.QPalette.ColorRole.WindowText))
            painter.drawText(
                text_rect,
                QtCore.Qt.AlignmentFlag.AlignRight
                | QtCore.Qt.AlignmentFlag.AlignVCenter,
                str(digit),
            )
            track = QtCore.QRectF(label_px, top + 2, bar_px, row_px - 4)
            painter.fillRect(
                track, palette.color(QtGui.QPalette.ColorRole.AlternateBase)
            )
            color = palette.color(QtGui.QPalette.ColorRole.Highlight)
            if digit != best:
                color = QtGui.QColor(140, 150, 165)
            filled = QtCore.QRectF(
                track.left(), track.top(), bar_px * float(probability), track.height()
            )
            painter.fillRect(filled, color)
            value_rect = QtCore.QRectF(label_px + bar_px + 4, top, value_px, row_px)
            if self._has_values:
                painter.drawText(
                    value_rect,
                    QtCore.Qt.AlignmentFlag.AlignVCenter,
                    f"{probability:.1%}",
                )
        painter.end()
