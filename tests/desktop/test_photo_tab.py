"""Tests of the Photo reading tab on generated pages of MNIST digits."""

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PySide6 import QtCore, QtGui, QtWidgets

import engine
from desktop.model_state import ModelState
from desktop.photo_tab import VIEW_MASK, PhotoTab

pytestmark = [
    pytest.mark.gui,
    # Qt's offscreen platform plugin logs this whenever a shown top-level widget has a
    # minimum size (QPlatformWindow::propagateSizeHints has no offscreen version).
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints"),
]

READ_TIMEOUT_MS = 20_000
PAGE_SIZE = (640, 240)  # width, height
DIGIT_SCALE = 2
PAGE_CLASSES = (2, 0, 3, 5, 8, 6)
DIGIT_STEP_PX = 95
PAGE_MARGIN_PX = 40


@pytest.fixture(scope="module")
def lenet():
    """The shipped model when its weights exist, else a seeded untrained LeNet."""
    if Path(engine.SHIPPED_WEIGHTS).exists():
        return engine.load_weights()
    torch.manual_seed(0)
    return engine.LoadedModel(engine.build_model().eval(), {}, Path("untrained"))


@pytest.fixture(scope="module")
def sample_digits():
    dataset = engine.load_dataset("sample", "test")
    labels = np.asarray(dataset.labels)
    return [
        dataset.images[int(np.flatnonzero(labels == digit)[0])]
        for digit in PAGE_CLASSES
    ]


def write_page(
    path: Path, digits, offset_y: int = 0
) -> list[tuple[int, int, int, int]]:
    """Write dark digits on white paper; return each digit's ink box (x, y, w, h)."""
    width, height = PAGE_SIZE
    page = np.full((height, width), 255, np.uint8)
    boxes = []
    for position, digit in enumerate(digits):
        big = cv2.resize(
            digit, None, fx=DIGIT_SCALE, fy=DIGIT_SCALE, interpolation=cv2.INTER_LINEAR
        )
        left = PAGE_MARGIN_PX + position * DIGIT_STEP_PX
        top = PAGE_MARGIN_PX + offset_y
        side = big.shape[0]
        page[top : top + side, left : left + side] = 255 - big
        ys, xs = np.nonzero(big > 100)
        boxes.append(
            (
                left + xs.min(),
                top + ys.min(),
                xs.max() - xs.min() + 1,
                ys.max() - ys.min() + 1,
            )
        )
    cv2.imwrite(str(path), page)
    return boxes


@pytest.fixture
def model_state(lenet, qapp):
    state = ModelState()
    state.set_model(lenet, "LeNet under test")
    return state


@pytest.fixture
def photo_tab(qtbot, model_state):
    tab = PhotoTab(model_state)
    qtbot.addWidget(tab)
    tab.resize(1200, 600)
    tab.show()
    qtbot.waitExposed(tab)
    return tab


@pytest.fixture
def page(tmp_path, sample_digits):
    path = tmp_path / "page.png"
    return path, write_page(path, sample_digits)


def read(tab: PhotoTab, qtbot, paths: list[str]):
    with qtbot.waitSignal(tab.reading_shown, timeout=READ_TIMEOUT_MS) as blocker:
        tab.open_photos(paths)
    return blocker.args[0]


def drop_files(widget: QtWidgets.QWidget, paths: list[Path]) -> None:
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path)) for path in paths])
    event = QtGui.QDropEvent(
        QtCore.QPointF(20, 20),
        QtCore.Qt.DropAction.CopyAction,
        mime,
        QtCore.Qt.MouseButton.LeftButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)


def overlap(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    height = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = width * height
    return inter / (aw * ah + bw * bh - inter)


def is_colored(color: QtGui.QColor) -> bool:
    return color.saturation() > 100 and color.value() > 80


def colored_near(image: QtGui.QImage, point: QtCore.QPoint, radius: int = 2) -> bool:
    # The view scales the photo by a fraction, so an edge at a whole photo pixel can
    # land on either neighbouring screen pixel.
    return any(
        is_colored(image.pixelColor(point.x() + dx, point.y() + dy))
        for dx in range(-radius, radius + 1)
        for dy in range(-radius, radius + 1)
    )


def test_photo_drop_boxes_on_digits(photo_tab, qtbot, page):
    path, expected = page
    with qtbot.waitSignal(photo_tab.reading_shown, timeout=READ_TIMEOUT_MS) as blocker:
        drop_files(photo_tab.canvas, [path])
    reading = blocker.args[0].reading
    boxes = [d.box_xywh_px for d in reading.detections]
    assert len(boxes) == len(expected)
    for want, got in zip(expected, boxes, strict=True):
        assert overlap(want, got) > 0.6, (want, got)
    assert photo_tab.canvas.box_count() == len(expected)


def test_photo_canvas_pixels_on_box_edges(photo_tab, qtbot, page):
    path, expected = page
    outcome = read(photo_tab, qtbot, [str(path)])
    canvas = photo_tab.canvas
    canvas.resize(*PAGE_SIZE)
    canvas.fit_to_window()
    image = canvas.viewport().grab().toImage()
    for detection in outcome.reading.detections:
        x, y, width, height = detection.box_xywh_px
        for edge in (
            (x, y + height / 2),
            (x + width, y + height / 2),
            (x + width / 2, y + height),
        ):
            point = canvas.mapFromScene(QtCore.QPointF(*edge))
            assert colored_near(image, point), (detection.box_xywh_px, edge)
        # The box is hollow: a point just inside its corner is the grey or white page.
        inside = canvas.mapFromScene(QtCore.QPointF(x + 6, y + 6))
        assert not colored_near(image, inside)
    # Far from every digit the page is white paper.
    blank = canvas.mapFromScene(QtCore.QPointF(PAGE_SIZE[0] - 10, PAGE_SIZE[1] - 10))
    assert image.pixelColor(blank).lightness() > 230


def test_photo_side_panel_lines(photo_tab, qtbot, page):
    path, _ = page
    outcome = read(photo_tab, qtbot, [str(path)])
    panel = photo_tab.panel
    assert panel.digits_text() == "\n".join(outcome.reading.lines)
    assert panel.text_view.toPlainText() == panel.digits_text()
    assert panel.tree.topLevelItemCount() == len(outcome.reading.lines)
    panel.copy_button.click()
    assert QtWidgets.QApplication.clipboard().text() == panel.digits_text()


def test_photo_box_click_shows_details(photo_tab, qtbot, page):
    path, _ = page
    outcome = read(photo_tab, qtbot, [str(path)])
    detection = outcome.reading.detections[2]
    canvas = photo_tab.canvas
    x, y, width, height = detection.box_xywh_px
    point = canvas.mapFromScene(QtCore.QPointF(x, y + height / 2))
    qtbot.mouseClick(canvas.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=point)
    panel = photo_tab.panel
    assert canvas.selected_index() == 2
    assert not panel.crop_label.pixmap().isNull()
    assert not panel.input_label.pixmap().isNull()
    parts = [f"{digit}: {p:.1%}" for digit, p in detection.top3]
    assert panel.top3_label.text().startswith("Top 3: " + ", ".join(parts))


def test_photo_broken_file_message(photo_tab, qtbot, tmp_path, shown_errors, page):
    broken = tmp_path / "broken.png"
    broken.write_text("this is a text file, not a picture\n")
    with qtbot.waitSignal(photo_tab.reading_failed, timeout=READ_TIMEOUT_MS):
        photo_tab.open_photos([str(broken)])
    assert shown_errors == [
        (
            "Could not read photo",
            f"{broken} is not an image this program can read; expected JPEG, PNG, "
            "BMP, TIFF or WebP.",
            str(broken),
        )
    ]
    assert not photo_tab.is_busy()
    assert not photo_tab.has_export()
    assert photo_tab.photo_list.item(0).text() == "broken.png  (not read)"
    # The tab keeps working: the next photo is read as usual.
    path, expected = page
    outcome = read(photo_tab, qtbot, [str(path)])
    assert len(outcome.reading.detections) == len(expected)
    assert [entry.name for entry in photo_tab.entries()] == ["broken.png", "page.png"]


def test_photo_second_photo_wins(photo_tab, qtbot, tmp_path, sample_digits):
    first = tmp_path / "first.png"
    second = tmp_path / "second.png"
    write_page(first, sample_digits)
    write_page(second, sample_digits[:3], offset_y=60)
    shown = []
    photo_tab.reading_shown.connect(shown.append)
    photo_tab.open_photos([str(first)])
    first_worker = photo_tab._worker
    photo_tab.open_photos([str(second)])
    qtbot.waitUntil(lambda: not photo_tab.is_busy(), timeout=READ_TIMEOUT_MS)
    qtbot.wait(200)  # anything late from the first reading would arrive by now
    assert first_worker.stop_event.is_set()
    assert [outcome.reading.file for outcome in shown] == [str(second)]
    assert len(shown[0].reading.detections) == 3
    assert photo_tab.canvas.box_count() == 3
    assert photo_tab.current_entry().name == "second.png"


def test_photo_correct_label(photo_tab, qtbot, page, tmp_path):
    path, _ = page
    outcome = read(photo_tab, qtbot, [str(path)])
    first = outcome.reading.detections[0]
    corrected = (first.digit + 1) % 10
    photo_tab.canvas.label_edit_requested.emit(0)
    item = photo_tab.panel.tree.currentItem()
    assert item.data(0, QtCore.Qt.ItemDataRole.UserRole) == 0
    item.setText(1, str(corrected))
    assert photo_tab.current_entry().corrections == {0: corrected}
    lines = photo_tab.panel.digits_text().split("\n")
    assert lines[0].replace(" ", "")[0] == str(corrected)

    csv_path = tmp_path / "readings.csv"
    assert photo_tab.export_to(csv_path)
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert len(rows) == len(outcome.reading.detections)
    assert rows[0]["digit"] == str(corrected)
    assert rows[0]["read_digit"] == str(first.digit)
    assert rows[0]["corrected"] == "True"

    json_path = tmp_path / "readings.json"
    assert photo_tab.export_to(json_path)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["corrections"] == [
        {"box": 0, "read_digit": first.digit, "digit": corrected}
    ]
    assert document["digits"] == outcome.reading.digits
    assert document["corrected_lines"] == lines


def test_photo_export_png(photo_tab, qtbot, page, tmp_path):
    path, _ = page
    outcome = read(photo_tab, qtbot, [str(path)])
    target = tmp_path / "annotated.png"
    assert photo_tab.has_export()
    assert photo_tab.export_to(target)
    image = QtGui.QImage(str(target))
    assert (image.width(), image.height()) == PAGE_SIZE
    x, y, width, height = outcome.reading.detections[0].box_xywh_px
    assert is_colored(image.pixelColor(x, y + height // 2))


def test_photo_export_bad_suffix(photo_tab, qtbot, page, tmp_path, shown_errors):
    path, _ = page
    read(photo_tab, qtbot, [str(path)])
    target = tmp_path / "readings.txt"
    assert not photo_tab.export_to(target)
    assert shown_errors[0][:2] == (
        "Could not export the reading",
        f"{target} could not be written. Choose another folder or file name.",
    )
    assert not target.exists()


def test_photo_rotate_rereads(photo_tab, qtbot, page):
    path, expected = page
    read(photo_tab, qtbot, [str(path)])
    with qtbot.waitSignal(photo_tab.reading_shown, timeout=READ_TIMEOUT_MS) as blocker:
        photo_tab.rotate_left_action.trigger()
    reading = blocker.args[0].reading
    assert reading.rotation_deg == 90
    assert photo_tab.current_entry().rotation_deg == 90
    assert "Rotation 90° (set by hand)" in photo_tab.rotation_label.text()
    with qtbot.waitSignal(photo_tab.reading_shown, timeout=READ_TIMEOUT_MS) as blocker:
        photo_tab.rotate_right_action.trigger()
    assert blocker.args[0].reading.rotation_deg == 0


def test_photo_pipeline_mask_view(photo_tab, qtbot, page):
    path, _ = page
    read(photo_tab, qtbot, [str(path)])
    photo_tab.view_combo.setCurrentIndex(photo_tab.view_combo.findData(VIEW_MASK))
    shown = photo_tab.canvas.image()
    assert (shown.width(), shown.height()) == PAGE_SIZE
    gray = shown.convertToFormat(QtGui.QImage.Format.Format_Grayscale8)
    values = {
        gray.pixelColor(x, y).value()
        for x in range(0, 640, 7)
        for y in range(0, 240, 7)
    }
    assert values <= {0, 255}
    assert photo_tab.canvas.box_count() > 0


def test_photo_paste_image(photo_tab, qtbot, page):
    path, expected = page
    QtWidgets.QApplication.clipboard().setImage(QtGui.QImage(str(path)))
    with qtbot.waitSignal(photo_tab.reading_shown, timeout=READ_TIMEOUT_MS) as blocker:
        photo_tab.paste()
    assert len(blocker.args[0].reading.detections) == len(expected)
    assert photo_tab.current_entry().name == "Pasted image 1"


def test_photo_open_several(photo_tab, qtbot, tmp_path, sample_digits):
    paths = []
    for name in ("a.png", "b.png"):
        paths.append(tmp_path / name)
        write_page(paths[-1], sample_digits)
    read(photo_tab, qtbot, [str(path) for path in paths])
    assert photo_tab.photo_list.count() == 2
    assert photo_tab.current_entry().name == "a.png"
    with qtbot.waitSignal(photo_tab.reading_shown, timeout=READ_TIMEOUT_MS) as blocker:
        photo_tab.photo_list.setCurrentRow(1)
    assert blocker.args[0].reading.file == str(paths[1])


def test_photo_cancel_discards_reading(photo_tab, qtbot, page):
    path, _ = page
    shown = []
    photo_tab.reading_shown.connect(shown.append)
    photo_tab.open_photos([str(path)])
    worker = photo_tab._worker
    assert photo_tab.is_busy()
    photo_tab.cancel_action.trigger()
    assert not photo_tab.is_busy()
    assert worker.stop_event.is_set()
    qtbot.wait(500)
    assert shown == []
    assert not photo_tab.has_export()
