"""The side panel of the Photo reading tab: the digits by line, and the chosen box."""

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6 import QtCore, QtGui, QtWidgets

from desktop.feature_maps import gray_to_qimage, rgb_to_qimage

logger = logging.getLogger(__name__)

PREVIEW_PX = 112
# A crop preview shows this fraction of the box size as margin on each side.
CROP_MARGIN = 0.15

COLUMN_LINE, COLUMN_DIGIT, COLUMN_CONFIDENCE = range(3)


def corrected_lines(reading: Any, corrections: Mapping[int, int]) -> list[str]:
    """Return the reading's lines with hand-corrected digits put in place.

    The engine writes each line as its digits in reading order with spaces between
    numbers, and lists the detections in the same order, so the k-th non-space
    character of line L belongs to the k-th detection on line L.
    """
    lines = [list(text) for text in reading.lines]
    positions: dict[int, list[int]] = {}
    for line_index, characters in enumerate(lines):
        positions[line_index] = [i for i, char in enumerate(characters) if char != " "]
    seen: dict[int, int] = {}
    for index, detection in enumerate(reading.detections):
        order = seen.get(detection.line, 0)
        seen[detection.line] = order + 1
        if index not in corrections:
            continue
        slots = positions.get(detection.line, [])
        if order < len(slots):
            lines[detection.line][slots[order]] = str(corrections[index])
        else:
            logger.warning(
                "Detection %d has no character in line %d", index, detection.line
            )
    return ["".join(characters) for characters in lines]


def crop_with_margin(
    photo_rgb: npt.NDArray[np.uint8], box_xywh_px: tuple[int, int, int, int]
) -> npt.NDArray[np.uint8]:
    """Cut a box out of the photo with a small margin, clipped to the photo."""
    x, y, width, height = box_xywh_px
    margin = int(round(CROP_MARGIN * max(width, height)))
    top, left = max(0, y - margin), max(0, x - margin)
    bottom = min(photo_rgb.shape[0], y + height + margin)
    right = min(photo_rgb.shape[1], x + width + margin)
    return photo_rgb[top:bottom, left:right]


class DigitDelegate(QtWidgets.QStyledItemDelegate):
    """Edits a digit cell with a line edit that accepts one digit from 0 to 9."""

    def createEditor(self, parent, option, index) -> QtWidgets.QWidget:
        editor = QtWidgets.QLineEdit(parent)
        editor.setValidator(
            QtGui.QRegularExpressionValidator(QtCore.QRegularExpression("[0-9]"))
        )
        editor.setMaxLength(1)
        return editor


class ReadingPanel(QtWidgets.QWidget):
    """The digits of a reading grouped by line, a copy button and the selected box.

    Signals:
        detection_selected(int): the user chose the row of that detection index.
        correction_requested(int, int): the user typed digit (second) for detection
            index (first).
    """

    detection_selected = QtCore.Signal(int)
    correction_requested = QtCore.Signal(int, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._reading: Any = None
        self._photo_rgb: npt.NDArray[np.uint8] | None = None
        self._corrections: dict[int, int] = {}
        self._filling = False

        self.text_view = QtWidgets.QPlainTextEdit()
        self.text_view.setReadOnly(True)
        self.text_view.setMaximumHeight(90)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.text_view.setFont(font)
        self.copy_button = QtWidgets.QPushButton(self.tr("Copy digits"))
        self.copy_button.setToolTip(self.tr("Copy the digits, one line per text line"))
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setHeaderLabels(
            [self.tr("Line / box"), self.tr("Digit"), self.tr("Confidence")]
        )
        self.tree.setItemDelegateForColumn(COLUMN_DIGIT, DigitDelegate(self.tree))
        self.tree.setToolTip(self.tr("Double-click a digit to correct it."))
        self.tree.setRootIsDecorated(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for column in (COLUMN_DIGIT, COLUMN_CONFIDENCE):
            header.setSectionResizeMode(
                column, QtWidgets.QHeaderView.ResizeMode.ResizeToContents
            )
        self.warnings_label = QtWidgets.QLabel()
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setStyleSheet("color: #a15c00;")

        self.crop_label = _preview_label(self.tr("The box cut from the photo"))
        self.input_label = _preview_label(self.tr("The 28 × 28 image the network saw"))
        self.top3_label = QtWidgets.QLabel()
        self.top3_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        details = QtWidgets.QGroupBox(self.tr("Selected box"))
        details_layout = QtWidgets.QGridLayout(details)
        details_layout.addWidget(QtWidgets.QLabel(self.tr("Crop")), 0, 0)
        details_layout.addWidget(QtWidgets.QLabel(self.tr("Network input")), 0, 1)
        details_layout.addWidget(self.crop_label, 1, 0)
        details_layout.addWidget(self.input_label, 1, 1)
        details_layout.addWidget(self.top3_label, 2, 0, 1, 2)

        copy_row = QtWidgets.QHBoxLayout()
        copy_row.addWidget(QtWidgets.QLabel(self.tr("<b>Digits</b>")))
        copy_row.addStretch(1)
        copy_row.addWidget(self.copy_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(copy_row)
        layout.addWidget(self.text_view)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.warnings_label)
        layout.addWidget(details)

        self.copy_button.clicked.connect(self.copy_digits)
        self.tree.currentItemChanged.connect(self._on_tree_current_item_changed)
        self.tree.itemChanged.connect(self._on_tree_item_changed)
        self.show_reading(None, None, {})

    def show_reading(
        self,
        reading: Any,
        photo_rgb: npt.NDArray[np.uint8] | None,
        corrections: Mapping[int, int],
    ) -> None:
        """Fill the panel from an ``engine.PhotoReading`` (None: empty the panel)."""
        self._reading = reading
        self._photo_rgb = photo_rgb
        self._corrections = dict(corrections)
        self._fill_tree()
        self._update_text()
        warnings = list(reading.warnings) if reading is not None else []
        self.warnings_label.setText("\n".join(warnings))
        self.warnings_label.setVisible(bool(warnings))
        self.copy_button.setEnabled(reading is not None and bool(reading.detections))
        self.show_detection(-1)

    def set_corrections(self, corrections: Mapping[int, int]) -> None:
        """Show new hand corrections of the current reading.

        The rows are updated in place, because this runs while the tree may still be
        committing the user's edit, and clearing it then would delete the editor's row.
        """
        self._corrections = dict(corrections)
        if self._reading is None:
            return
        self._filling = True
        texts = corrected_lines(self._reading, self._corrections)
        for line_index in range(self.tree.topLevelItemCount()):
            line_item = self.tree.topLevelItem(line_index)
            line = line_item.data(0, QtCore.Qt.ItemDataRole.UserRole + 1)
            text = texts[line] if line < len(texts) else ""
            line_item.setText(0, self._line_title(line, text))
            for child_index in range(line_item.childCount()):
                self._style_detection_item(line_item.child(child_index))
        self._filling = False
        self._update_text()
        current = self.tree.currentItem()
        if (
            current is not None
            and current.data(0, QtCore.Qt.ItemDataRole.UserRole) is not None
        ):
            self.show_detection(int(current.data(0, QtCore.Qt.ItemDataRole.UserRole)))

    def digits_text(self) -> str:
        """Return the digits as copied: one text line per line, corrections applied."""
        if self._reading is None:
            return ""
        return "\n".join(corrected_lines(self._reading, self._corrections))

    def copy_digits(self) -> None:
        QtWidgets.QApplication.clipboard().setText(self.digits_text())

    def edit_detection(self, index: int) -> None:
        """Open the digit editor on the row of a detection."""
        item = self._item_for(index)
        if item is not None:
            self.tree.setCurrentItem(item)
            self.tree.editItem(item, COLUMN_DIGIT)

    def select_detection(self, index: int) -> None:
        """Highlight a detection's row and show its crop, input and top 3."""
        item = self._item_for(index)
        with QtCore.QSignalBlocker(self.tree):
            if item is None:
                self.tree.clearSelection()
                self.tree.setCurrentItem(None)
            else:
                self.tree.setCurrentItem(item)
                self.tree.scrollToItem(item)
        self.show_detection(index)

    def show_detection(self, index: int) -> None:
        if self._reading is None or not 0 <= index < len(self._reading.detections):
            self.crop_label.clear()
            self.input_label.clear()
            self.top3_label.setText(self.tr("Click a box to see what the network saw."))
            return
        detection = self._reading.detections[index]
        if self._photo_rgb is not None:
            crop = crop_with_margin(self._photo_rgb, detection.box_xywh_px)
            self.crop_label.setPixmap(_scaled(rgb_to_qimage(crop), smooth=True))
        self.input_label.setPixmap(
            _scaled(gray_to_qimage(detection.crop_28), smooth=False)
        )
        self.top3_label.setText(self._top3_html(index, detection))

    def _top3_html(self, index: int, detection: Any) -> str:
        parts = [f"{digit}: {probability:.1%}" for digit, probability in detection.top3]
        text = self.tr("Top 3: {choices}").format(choices=", ".join(parts))
        if detection.unsure:
            text += "<br>" + self.tr("<i>Unsure: the network hesitated.</i>")
        if index in self._corrections:
            text += "<br>" + self.tr("Corrected by hand to <b>{digit}</b>.").format(
                digit=self._corrections[index]
            )
        return text

    def _fill_tree(self) -> None:
        self._filling = True
        self.tree.clear()
        reading = self._reading
        if reading is not None:
            line_items: dict[int, QtWidgets.QTreeWidgetItem] = {}
            texts = corrected_lines(reading, self._corrections)
            for index, detection in enumerate(reading.detections):
                parent = line_items.get(detection.line)
                if parent is None:
                    text = texts[detection.line] if detection.line < len(texts) else ""
                    parent = QtWidgets.QTreeWidgetItem(
                        [self._line_title(detection.line, text)]
                    )
                    parent.setData(
                        0, QtCore.Qt.ItemDataRole.UserRole + 1, detection.line
                    )
                    self.tree.addTopLevelItem(parent)
                    parent.setFirstColumnSpanned(True)
                    line_items[detection.line] = parent
                parent.addChild(self._detection_item(index, detection))
            self.tree.expandAll()
        self._filling = False

    def _line_title(self, line: int, text: str) -> str:
        return self.tr("Line {n}: {digits}").format(n=line + 1, digits=text)

    def _detection_item(self, index: int, detection: Any) -> QtWidgets.QTreeWidgetItem:
        x, y, _, _ = detection.box_xywh_px
        item = QtWidgets.QTreeWidgetItem(
            [
                self.tr("Box {n} ({x}, {y})").format(n=index + 1, x=x, y=y),
                "",
                f"{detection.confidence:.0%}",
            ]
        )
        item.setData(0, QtCore.Qt.ItemDataRole.UserRole, index)
        item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsEditable)
        if detection.unsure:
            item.setForeground(
                COLUMN_CONFIDENCE, QtGui.QBrush(QtGui.QColor(200, 60, 40))
            )
        self._style_detection_item(item)
        return item

    def _style_detection_item(self, item: QtWidgets.QTreeWidgetItem) -> None:
        index = int(item.data(0, QtCore.Qt.ItemDataRole.UserRole))
        detection = self._reading.detections[index]
        corrected = index in self._corrections
        item.setText(COLUMN_DIGIT, str(self._corrections.get(index, detection.digit)))
        font = item.font(COLUMN_DIGIT)
        font.setBold(corrected)
        item.setFont(COLUMN_DIGIT, font)
        tooltip = (
            self.tr("Read as {digit}").format(digit=detection.digit)
            if corrected
            else ""
        )
        item.setToolTip(COLUMN_DIGIT, tooltip or self.tr("Double-click to correct"))

    def _update_text(self) -> None:
        self.text_view.setPlainText(self.digits_text())

    def _item_for(self, index: int) -> QtWidgets.QTreeWidgetItem | None:
        iterator = QtWidgets.QTreeWidgetItemIterator(self.tree)
        while iterator.value() is not None:
            item = iterator.value()
            if item.data(0, QtCore.Qt.ItemDataRole.UserRole) == index:
                return item
            iterator += 1
        return None

    def _on_tree_current_item_changed(self, current, _previous) -> None:
        if current is None:
            return
        index = current.data(0, QtCore.Qt.ItemDataRole.UserRole)
        if index is None:
            return
        self.show_detection(int(index))
        self.detection_selected.emit(int(index))

    def _on_tree_item_changed(
        self, item: QtWidgets.QTreeWidgetItem, column: int
    ) -> None:
        if self._filling or column != COLUMN_DIGIT:
            return
        index = item.data(0, QtCore.Qt.ItemDataRole.UserRole)
        text = item.text(COLUMN_DIGIT).strip()
        if index is None:
            return
        if not (len(text) == 1 and text.isdigit()):
            # Put the digit back after an empty edit; refilling inside this signal
            # would delete the item Qt is still reporting on.
            QtCore.QTimer.singleShot(0, self._fill_tree)
            return
        self.correction_requested.emit(int(index), int(text))


def _preview_label(tooltip: str) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel()
    label.setFixedSize(PREVIEW_PX, PREVIEW_PX)
    label.setFrameShape(QtWidgets.QFrame.Shape.Box)
    label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
    label.setToolTip(tooltip)
    return label


def _scaled(image: QtGui.QImage, smooth: bool) -> QtGui.QPixmap:
    mode = (
        QtCore.Qt.TransformationMode.SmoothTransformation
        if smooth
        else QtCore.Qt.TransformationMode.FastTransformation
    )
    return QtGui.QPixmap.fromImage(image).scaled(
        PREVIEW_PX - 4, PREVIEW_PX - 4, QtCore.Qt.AspectRatioMode.KeepAspectRatio, mode
    )
