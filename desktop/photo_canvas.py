"""A zoomable photo view with the reader's bounding boxes and digits drawn over it."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets

logger = logging.getLogger(__name__)

ZOOM_STEP = 1.25
MIN_ZOOM = 0.02
MAX_ZOOM = 40.0
BOX_PEN_WIDTH_PX = 2
SELECTED_PEN_WIDTH_PX = 4
CORRECTED_COLOR = QtGui.QColor(40, 110, 230)
# Confidence at or below this is drawn pure red; 1.0 is pure green.
RED_CONFIDENCE = 0.5


@dataclass(frozen=True)
class BoxAnnotation:
    """One box as the canvas draws it.

    Attributes:
        box_xywh_px: x, y, width, height in pixels of the decoded photo, origin
            top-left.
        label: the text drawn at the box, normally one digit.
        confidence: the network's probability for the label, 0 to 1.
        unsure: drawn with a dashed outline when true.
        corrected: the label was set by hand, drawn in its own colour.
    """

    box_xywh_px: tuple[int, int, int, int]
    label: str
    confidence: float
    unsure: bool = False
    corrected: bool = False


def confidence_color(confidence: float) -> QtGui.QColor:
    """Return a colour from red (confidence 0.5 or less) through amber to green."""
    span = (confidence - RED_CONFIDENCE) / (1.0 - RED_CONFIDENCE)
    hue = max(0.0, min(1.0, span)) * 120.0 / 360.0
    return QtGui.QColor.fromHsvF(hue, 0.9, 0.8)


def annotation_color(box: BoxAnnotation) -> QtGui.QColor:
    """Return the outline colour of a box: blue when corrected, else by confidence."""
    if box.corrected:
        return QtGui.QColor(CORRECTED_COLOR)
    return confidence_color(box.confidence)


def _box_pen(box: BoxAnnotation, width: float, cosmetic: bool) -> QtGui.QPen:
    pen = QtGui.QPen(annotation_color(box), width)
    pen.setCosmetic(cosmetic)
    pen.setJoinStyle(QtCore.Qt.PenJoinStyle.MiterJoin)
    if box.unsure:
        pen.setStyle(QtCore.Qt.PenStyle.DashLine)
    return pen


class _BoxLabelItem(QtWidgets.QGraphicsItem):
    """The digit on a filled tag above a box, the same screen size at any zoom."""

    def __init__(self, text: str, color: QtGui.QColor, parent: QtWidgets.QGraphicsItem):
        super().__init__(parent)
        self._text = text
        self._color = color
        self._font = QtGui.QFont()
        self._font.setBold(True)
        self._font.setPixelSize(14)
        metrics = QtGui.QFontMetrics(self._font)
        width = metrics.horizontalAdvance(text) + 8
        height = metrics.height() + 2
        # The tag hangs above the item's position, which is the box's top-left corner.
        self._rect = QtCore.QRectF(0, -height, width, height)
        self.setFlag(
            QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations
        )
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)

    def boundingRect(self) -> QtCore.QRectF:
        return self._rect

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:
        painter.fillRect(self._rect, self._color)
        painter.setFont(self._font)
        painter.setPen(QtGui.QColor("white"))
        painter.drawText(self._rect, QtCore.Qt.AlignmentFlag.AlignCenter, self._text)


class _BoxItem(QtWidgets.QGraphicsRectItem):
    """A selectable bounding box, indexed by the detection's position in the reading."""

    def __init__(self, index: int, box: BoxAnnotation):
        x, y, width, height = box.box_xywh_px
        super().__init__(QtCore.QRectF(x, y, width, height))
        self.index = index
        self.annotation = box
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setPen(_box_pen(box, BOX_PEN_WIDTH_PX, cosmetic=True))
        label = _BoxLabelItem(box.label, annotation_color(box), self)
        label.setPos(x, y)
        self.setToolTip(
            f"{box.label}  ({box.confidence:.0%}{', unsure' if box.unsure else ''}"
            f"{', corrected' if box.corrected else ''})"
        )

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:
        # Draw the selection as a thicker outline instead of Qt's dotted focus frame.
        width = SELECTED_PEN_WIDTH_PX if self.isSelected() else BOX_PEN_WIDTH_PX
        painter.setPen(_box_pen(self.annotation, width, cosmetic=True))
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.drawRect(self.rect())


class PhotoCanvas(QtWidgets.QGraphicsView):
    """A photo with its bounding boxes, zoomed with the wheel and panned by dragging.

    The view fits the photo to the window until the user zooms, then keeps the zoom.

    Signals:
        box_selected(int): the user clicked the box of that detection index, or -1 when
            the selection was cleared.
        label_edit_requested(int): the user double-clicked the box of that index.
        files_dropped(list): local file paths dropped onto the canvas.
        image_dropped(QImage): image data (not a file) dropped onto the canvas.
    """

    box_selected = QtCore.Signal(int)
    label_edit_requested = QtCore.Signal(int)
    files_dropped = QtCore.Signal(list)
    image_dropped = QtCore.Signal(QtGui.QImage)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QtWidgets.QGraphicsScene(self)
        self.setScene(self._scene)
        self._pixmap_item: QtWidgets.QGraphicsPixmapItem | None = None
        self._box_items: list[_BoxItem] = []
        self._fit_mode = True
        self._placeholder = self.tr(
            "Drop photos here, open them with Ctrl+O, or paste one with Ctrl+V."
        )

        self.setDragMode(QtWidgets.QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(
            QtWidgets.QGraphicsView.ViewportAnchor.AnchorUnderMouse
        )
        self.setResizeAnchor(QtWidgets.QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform)
        self.setBackgroundBrush(QtGui.QColor(64, 64, 64))
        self.setAcceptDrops(True)
        self._scene.selectionChanged.connect(self._on_scene_selection_changed)

    # -- content -------------------------------------------------------------------

    def set_image(self, image: QtGui.QImage | None) -> None:
        """Show a new photo (or none), drop the boxes and fit it to the window."""
        self._scene.clear()
        self._box_items = []
        self._pixmap_item = None
        if image is not None and not image.isNull():
            pixmap = QtGui.QPixmap.fromImage(image)
            self._pixmap_item = self._scene.addPixmap(pixmap)
            self._pixmap_item.setTransformationMode(
                QtCore.Qt.TransformationMode.SmoothTransformation
            )
            self._pixmap_item.setZValue(-1)
            self._scene.setSceneRect(QtCore.QRectF(pixmap.rect()))
        else:
            self._scene.setSceneRect(QtCore.QRectF())
        self.fit_to_window()

    def replace_image(self, image: QtGui.QImage) -> None:
        """Swap the picture under the boxes (photo, grey or mask) and keep the zoom."""
        if self._pixmap_item is None:
            self.set_image(image)
            return
        self._pixmap_item.setPixmap(QtGui.QPixmap.fromImage(image))

    def has_image(self) -> bool:
        return self._pixmap_item is not None

    def image(self) -> QtGui.QImage:
        """Return the picture under the boxes (a null image when there is none)."""
        if self._pixmap_item is None:
            return QtGui.QImage()
        return self._pixmap_item.pixmap().toImage()

    def set_boxes(self, boxes: Sequence[BoxAnnotation]) -> None:
        """Replace the drawn boxes; box i reports index i when clicked."""
        selected = self.selected_index()
        for item in self._box_items:
            self._scene.removeItem(item)
        self._box_items = [_BoxItem(index, box) for index, box in enumerate(boxes)]
        for item in self._box_items:
            self._scene.addItem(item)
        if 0 <= selected < len(self._box_items):
            self.select_box(selected)

    def box_count(self) -> int:
        return len(self._box_items)

    def select_box(self, index: int) -> None:
        """Select the box of that index (and no other) and scroll it into view."""
        with QtCore.QSignalBlocker(self._scene):
            self._scene.clearSelection()
            if 0 <= index < len(self._box_items):
                self._box_items[index].setSelected(True)
                self.ensureVisible(self._box_items[index], 20, 20)
        self.viewport().update()

    def selected_index(self) -> int:
        for item in self._box_items:
            if item.isSelected():
                return item.index
        return -1

    # -- zoom ----------------------------------------------------------------------

    def zoom_factor(self) -> float:
        return self.transform().m11()

    def zoom_in(self) -> None:
        self._zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self._zoom_by(1.0 / ZOOM_STEP)

    def fit_to_window(self) -> None:
        """Scale the photo to fit the view; the view keeps fitting it on resize."""
        self._fit_mode = True
        self._fit()

    def _fit(self) -> None:
        if self._pixmap_item is None:
            self.resetTransform()
            return
        self.fitInView(self._pixmap_item, QtCore.Qt.AspectRatioMode.KeepAspectRatio)

    def _zoom_by(self, factor: float) -> None:
        current = self.zoom_factor()
        target = max(MIN_ZOOM, min(MAX_ZOOM, current * factor))
        if current > 0 and target != current:
            self._fit_mode = False
            self.scale(target / current, target / current)

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps and self._pixmap_item is not None:
            self._zoom_by(ZOOM_STEP**steps)
            event.accept()
        else:
            super().wheelEvent(event)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self._fit()

    # -- mouse and drops -----------------------------------------------------------

    def mouseDoubleClickEvent(self, event: QtGui.QMouseEvent) -> None:
        item = self.itemAt(event.position().toPoint())
        while item is not None and not isinstance(item, _BoxItem):
            item = item.parentItem()
        if isinstance(item, _BoxItem):
            self.select_box(item.index)
            self.box_selected.emit(item.index)
            self.label_edit_requested.emit(item.index)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def _on_scene_selection_changed(self) -> None:
        self.box_selected.emit(self.selected_index())

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if _dropped_paths(event.mimeData()) or event.mimeData().hasImage():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QtGui.QDragMoveEvent) -> None:
        # QGraphicsView passes moves to the scene, which has no drop targets and would
        # reject the drag, so accept here.
        if _dropped_paths(event.mimeData()) or event.mimeData().hasImage():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        paths = _dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
        elif event.mimeData().hasImage():
            event.acceptProposedAction()
            self.image_dropped.emit(QtGui.QImage(event.mimeData().imageData()))
        else:
            event.ignore()

    def drawForeground(self, painter: QtGui.QPainter, rect: QtCore.QRectF) -> None:
        if self._pixmap_item is not None:
            return
        # Draw the hint in view coordinates so it stays centred and unscaled.
        painter.save()
        painter.resetTransform()
        painter.setPen(QtGui.QColor(220, 220, 220))
        painter.drawText(
            self.viewport().rect(),
            QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap,
            self._placeholder,
        )
        painter.restore()


def _dropped_paths(mime: QtCore.QMimeData) -> list[str]:
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]


def render_annotated_image(
    image: QtGui.QImage, boxes: Sequence[BoxAnnotation]
) -> QtGui.QImage:
    """Draw the boxes and labels onto a copy of the photo, at the photo's resolution.

    Line width and text size follow the photo's size, so a 4000 px photo and a 400 px
    scan both come out readable.
    """
    result = image.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    painter = QtGui.QPainter(result)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    line_px = max(2.0, max(result.width(), result.height()) / 400.0)
    heights = sorted(box.box_xywh_px[3] for box in boxes)
    text_px = max(12, int(0.45 * heights[len(heights) // 2])) if heights else 12
    font = QtGui.QFont()
    font.setBold(True)
    font.setPixelSize(text_px)
    painter.setFont(font)
    metrics = QtGui.QFontMetrics(font)
    for box in boxes:
        x, y, width, height = box.box_xywh_px
        painter.setPen(_box_pen(box, line_px, cosmetic=False))
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.drawRect(QtCore.QRectF(x, y, width, height))
        tag_width = metrics.horizontalAdvance(box.label) + 6
        tag = QtCore.QRectF(x, y - metrics.height(), tag_width, metrics.height())
        painter.fillRect(tag, annotation_color(box))
        painter.setPen(QtGui.QColor("white"))
        painter.drawText(tag, QtCore.Qt.AlignmentFlag.AlignCenter, box.label)
    painter.end()
    return result
