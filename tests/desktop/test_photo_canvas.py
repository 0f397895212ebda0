"""Tests of the photo canvas: boxes drawn at their photo pixels, zoom, selection."""

import pytest
from PySide6 import QtCore, QtGui

from desktop.photo_canvas import (
    BoxAnnotation,
    PhotoCanvas,
    confidence_color,
    render_annotated_image,
)

pytestmark = pytest.mark.gui

PHOTO_SIZE = (800, 600)
BOXES = [
    BoxAnnotation((100, 100, 80, 120), "7", 0.99),
    BoxAnnotation((400, 300, 60, 100), "1", 0.40, unsure=True),
    BoxAnnotation((600, 120, 70, 90), "3", 0.95, corrected=True),
]


def white_photo() -> QtGui.QImage:
    image = QtGui.QImage(*PHOTO_SIZE, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor("white"))
    return image


@pytest.fixture
def canvas(qtbot):
    view = PhotoCanvas()
    qtbot.addWidget(view)
    view.resize(420, 330)
    view.show()
    qtbot.waitExposed(view)
    view.set_image(white_photo())
    view.set_boxes(BOXES)
    return view


def rendered(view: PhotoCanvas) -> QtGui.QImage:
    return view.viewport().grab().toImage()


def pixel_at_scene(view: PhotoCanvas, image: QtGui.QImage, x: float, y: float):
    point = view.mapFromScene(QtCore.QPointF(x, y))
    return image.pixelColor(point)


def is_white(color: QtGui.QColor) -> bool:
    return min(color.red(), color.green(), color.blue()) > 235


def test_canvas_draws_box_edges(canvas):
    image = rendered(canvas)
    x, y, width, height = BOXES[0].box_xywh_px
    for edge_x, edge_y in (
        (x + width / 2, y),
        (x + width / 2, y + height),
        (x, y + height / 2),
        (x + width, y + height / 2),
    ):
        color = pixel_at_scene(canvas, image, edge_x, edge_y)
        assert color.green() > color.red() + 60, (edge_x, edge_y, color.name())


def test_canvas_box_inside_stays_photo(canvas):
    image = rendered(canvas)
    x, y, width, height = BOXES[0].box_xywh_px
    assert is_white(pixel_at_scene(canvas, image, x + width / 2, y + height / 2))
    assert is_white(pixel_at_scene(canvas, image, x - 30, y + height / 2))


def test_canvas_low_confidence_red(canvas):
    image = rendered(canvas)
    x, y, width, height = BOXES[1].box_xywh_px
    # The unsure box is dashed, so look along its left edge for a red dash.
    colors = [
        pixel_at_scene(canvas, image, x, y + offset) for offset in range(2, height, 2)
    ]
    red = [c for c in colors if c.red() > c.green() + 60 and c.red() > c.blue() + 60]
    assert red
    assert any(is_white(c) for c in colors)  # the gaps between dashes


def test_canvas_corrected_box_blue(canvas):
    image = rendered(canvas)
    x, y, width, height = BOXES[2].box_xywh_px
    color = pixel_at_scene(canvas, image, x + width, y + height / 2)
    assert color.blue() > color.red() + 60


def test_canvas_zoom_in_out(canvas):
    fitted = canvas.zoom_factor()
    canvas.zoom_in()
    assert canvas.zoom_factor() == pytest.approx(fitted * 1.25)
    canvas.zoom_out()
    canvas.zoom_out()
    assert canvas.zoom_factor() == pytest.approx(fitted / 1.25)
    canvas.fit_to_window()
    assert canvas.zoom_factor() == pytest.approx(fitted)


def test_canvas_wheel_zooms(canvas, qtbot):
    fitted = canvas.zoom_factor()
    center = QtCore.QPointF(canvas.viewport().rect().center())
    event = QtGui.QWheelEvent(
        center,
        canvas.viewport().mapToGlobal(center),
        QtCore.QPoint(0, 0),
        QtCore.QPoint(0, 120),
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
        QtCore.Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QtCore.QCoreApplication.sendEvent(canvas.viewport(), event)
    assert canvas.zoom_factor() == pytest.approx(fitted * 1.25)


def test_canvas_click_selects_box(canvas, qtbot):
    x, y, width, height = BOXES[0].box_xywh_px
    # A click on the outline selects the box; the hollow inside does not catch clicks.
    point = canvas.mapFromScene(QtCore.QPointF(x, y + height / 2))
    with qtbot.waitSignal(canvas.box_selected, timeout=1000) as blocker:
        qtbot.mouseClick(canvas.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == [0]
    assert canvas.selected_index() == 0


def test_canvas_double_click_requests_edit(canvas, qtbot):
    x, y, width, height = BOXES[2].box_xywh_px
    point = canvas.mapFromScene(QtCore.QPointF(x + width, y + height / 2))
    with qtbot.waitSignal(canvas.label_edit_requested, timeout=1000) as blocker:
        qtbot.mouseDClick(
            canvas.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=point
        )
    assert blocker.args == [2]


def test_canvas_drop_emits_paths(canvas, qtbot, tmp_path):
    path = tmp_path / "page.png"
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    position = QtCore.QPointF(50, 50)
    drop = QtGui.QDropEvent(
        position,
        QtCore.Qt.DropAction.CopyAction,
        mime,
        QtCore.Qt.MouseButton.LeftButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(canvas.files_dropped, timeout=1000) as blocker:
        canvas.dropEvent(drop)
    assert blocker.args == [[str(path)]]


def test_annotated_image_has_boxes():
    image = render_annotated_image(white_photo(), BOXES)
    assert (image.width(), image.height()) == PHOTO_SIZE
    x, y, width, height = BOXES[0].box_xywh_px
    edge = image.pixelColor(x, y + height // 2)
    assert edge.green() > edge.red() + 60
    assert is_white(image.pixelColor(x + width // 2, y + height // 2))


def test_confidence_color_red_to_green():
    low = confidence_color(0.3)
    high = confidence_color(1.0)
    assert low.red() > low.green()
    assert high.green() > high.red()
