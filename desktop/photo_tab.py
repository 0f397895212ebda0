"""The Photo reading tab: open, drop or paste photos and read their digits."""

import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6 import QtCore, QtGui, QtWidgets

from desktop import messages
from desktop.feature_maps import gray_to_qimage, rgb_to_qimage
from desktop.model_state import ModelState
from desktop.photo_canvas import PhotoCanvas
from desktop.reading_export import box_annotations, export_reading
from desktop.reading_panel import ReadingPanel
from desktop.reading_worker import ReadingOutcome, ReadingWorker
from desktop.workers import start_worker

logger = logging.getLogger(__name__)

PHOTO_FILTER = "Photos (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp);;All files (*)"
EXPORT_FILTERS = {
    ".png": "Annotated image (*.png)",
    ".csv": "Readings as CSV (*.csv)",
    ".json": "Readings as JSON (*.json)",
}
SETTINGS_PHOTO_FOLDER = "photo_reading/last_folder"
SETTINGS_EXPORT_FOLDER = "photo_reading/last_export_folder"

VIEW_PHOTO, VIEW_GRAY, VIEW_MASK = "photo", "gray", "mask"


@dataclass(eq=False)
class PhotoEntry:
    """One opened photo, its latest reading and the user's corrections to it.

    Attributes:
        name: what the list shows: the file name, or "Pasted image N".
        source: the file path (str) or, for pasted images, an RGB uint8 array.
        rotation_deg: the orientation the user chose, or None to let the reader
            detect it.
        outcome: the latest reading, or None before it is read or after it failed.
        error: the message of the last failed reading, or "".
        corrections: detection index to the digit the user set by hand.
    """

    name: str
    source: Any
    rotation_deg: int | None = None
    outcome: ReadingOutcome | None = None
    error: str = ""
    corrections: dict[int, int] = field(default_factory=dict)


def qimage_to_rgb(image: QtGui.QImage) -> npt.NDArray[np.uint8]:
    """Copy a QImage into an RGB uint8 array (H, W, 3); alpha is composited on white."""
    if image.hasAlphaChannel():
        flat = QtGui.QImage(image.size(), QtGui.QImage.Format.Format_RGB888)
        flat.fill(QtGui.QColor("white"))
        painter = QtGui.QPainter(flat)
        painter.drawImage(0, 0, image)
        painter.end()
        image = flat
    image = image.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(
        image.height(), image.bytesPerLine()
    )
    return rows[:, : 3 * image.width()].reshape(image.height(), image.width(), 3).copy()


class PhotoTab(QtWidgets.QWidget):
    """Reads the digits in photos on the engine thread and draws the boxes over them.

    Only the newest request is shown: opening or choosing another photo while one is
    being read stops the older reading and discards its result.

    Signals:
        reading_shown(object): the ``ReadingOutcome`` now on the canvas.
        reading_failed(str, str): a photo could not be read (its name, the message).
        busy_changed(bool): a reading started (True) or ended (False).
    """

    reading_shown = QtCore.Signal(object)
    reading_failed = QtCore.Signal(str, str)
    busy_changed = QtCore.Signal(bool)

    def __init__(
        self, model_state: ModelState, parent: QtWidgets.QWidget | None = None
    ):
        super().__init__(parent)
        self.model_state = model_state
        self._entries: list[PhotoEntry] = []
        self._paste_counter = itertools.count(1)
        self._request_id = 0
        # The entry the newest request reads; results for any other request are stale.
        self._pending_entry: PhotoEntry | None = None
        self._worker: ReadingWorker | None = None
        self._shown_entry: PhotoEntry | None = None
        self._photo_image = QtGui.QImage()

        self._build_actions()
        self._build_widgets()
        self._connect_signals()
        self.setAcceptDrops(True)
        self._update_controls()

    # -- layout ----------------------------------------------------------------------

    def _build_actions(self) -> None:
        def action(
            text: str, slot: Any, shortcut: Any = None, tip: str = ""
        ) -> QtGui.QAction:
            new = QtGui.QAction(text, self)
            new.triggered.connect(slot)
            if shortcut is not None:
                new.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
                new.setShortcutContext(
                    QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut
                )
            new.setToolTip(tip or text)
            self.addAction(new)
            return new

        keys = QtGui.QKeySequence
        self.open_action = action(
            self.tr("Open…"), self.choose_photos, tip=self.tr("Open one or more photos")
        )
        self.paste_action = action(
            self.tr("Paste"),
            self.paste,
            keys(keys.StandardKey.Paste),
            self.tr("Paste a photo from the clipboard (Ctrl+V)"),
        )
        self.rotate_left_action = action(
            self.tr("Rotate left"),
            lambda: self.rotate_by(90),
            None,
            self.tr("Read the photo again turned 90° counter-clockwise"),
        )
        self.rotate_right_action = action(
            self.tr("Rotate right"),
            lambda: self.rotate_by(-90),
            None,
            self.tr("Read the photo again turned 90° clockwise"),
        )
        self.auto_rotation_action = action(
            self.tr("Auto orientation"),
            self.detect_rotation,
            None,
            self.tr("Let the reader detect the orientation again"),
        )
        self.zoom_in_action = action(
            self.tr("Zoom in"),
            lambda: self.canvas.zoom_in(),
            [keys("Ctrl+="), keys(keys.StandardKey.ZoomIn)],
        )
        self.zoom_out_action = action(
            self.tr("Zoom out"),
            lambda: self.canvas.zoom_out(),
            [keys("Ctrl+-"), keys(keys.StandardKey.ZoomOut)],
        )
        self.fit_action = action(
            self.tr("Fit"),
            lambda: self.canvas.fit_to_window(),
            keys("Ctrl+0"),
            self.tr("Fit the photo to the window (Ctrl+0)"),
        )
        self.export_action = action(
            self.tr("Export…"),
            self.export,
            tip=self.tr("Save the annotated image or the readings"),
        )
        self.cancel_action = action(
            self.tr("Cancel"),
            self.cancel_reading,
            tip=self.tr("Stop reading this photo"),
        )

    def _build_widgets(self) -> None:
        self.view_combo = QtWidgets.QComboBox()
        self.view_combo.addItem(self.tr("Photo"), VIEW_PHOTO)
        self.view_combo.addItem(self.tr("Step: grey"), VIEW_GRAY)
        self.view_combo.addItem(self.tr("Step: ink mask"), VIEW_MASK)
        self.view_combo.setToolTip(
            self.tr("Show the photo or a step of the reading pipeline")
        )
        self.rotation_label = QtWidgets.QLabel()

        toolbar = QtWidgets.QToolBar()
        toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.paste_action)
        toolbar.addSeparator()
        toolbar.addAction(self.rotate_left_action)
        toolbar.addAction(self.rotate_right_action)
        toolbar.addAction(self.auto_rotation_action)
        toolbar.addWidget(self.rotation_label)
        toolbar.addSeparator()
        toolbar.addWidget(self.view_combo)
        toolbar.addSeparator()
        toolbar.addAction(self.zoom_in_action)
        toolbar.addAction(self.zoom_out_action)
        toolbar.addAction(self.fit_action)
        toolbar.addSeparator()
        toolbar.addAction(self.export_action)

        self.photo_list = QtWidgets.QListWidget()
        self.photo_list.setTextElideMode(QtCore.Qt.TextElideMode.ElideMiddle)
        self.photo_list.setHorizontalScrollBarPolicy(
            QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )
        self.photo_list.setToolTip(
            self.tr("Opened photos; choose one to show its reading")
        )
        self.canvas = PhotoCanvas()
        self.panel = ReadingPanel()

        self.busy_bar = QtWidgets.QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(160)
        self.busy_label = QtWidgets.QLabel()
        self.cancel_button = QtWidgets.QToolButton()
        self.cancel_button.setDefaultAction(self.cancel_action)
        busy_row = QtWidgets.QHBoxLayout()
        busy_row.addWidget(self.busy_bar)
        busy_row.addWidget(self.busy_label, 1)
        busy_row.addWidget(self.cancel_button)
        self.busy_widget = QtWidgets.QWidget()
        self.busy_widget.setLayout(busy_row)
        busy_row.setContentsMargins(0, 0, 0, 0)

        center = QtWidgets.QWidget()
        center_layout = QtWidgets.QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.addWidget(self.canvas, 1)
        center_layout.addWidget(self.busy_widget)

        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        splitter.addWidget(self.photo_list)
        splitter.addWidget(center)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes([160, 600, 340])
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(toolbar)
        layout.addWidget(splitter, 1)

    def _connect_signals(self) -> None:
        self.photo_list.currentRowChanged.connect(
            self._on_photo_list_current_row_changed
        )
        self.canvas.files_dropped.connect(self.open_photos)
        self.canvas.image_dropped.connect(self.open_image)
        self.canvas.box_selected.connect(self._on_canvas_box_selected)
        self.canvas.label_edit_requested.connect(self.panel.edit_detection)
        self.panel.detection_selected.connect(self._on_panel_detection_selected)
        self.panel.correction_requested.connect(self.correct_digit)
        self.view_combo.currentIndexChanged.connect(self._on_view_combo_changed)
        self.model_state.model_changed.connect(self._on_model_state_model_changed)

    # -- public API --------------------------------------------------------------------

    def open_photos(self, paths: list[str]) -> None:
        """Add photos to the list and read the first of them; it replaces any reading
        still in progress."""
        # NOTE: only the first photo is read now. Each other one is read when the user
        # selects it in the list, so opening a folder of photos costs nothing upfront.
        added = []
        for path in paths:
            entry = self._find_entry(path) or self._add_entry(
                Path(path).name, str(path)
            )
            added.append(entry)
        if added:
            self._select_entry(added[0])

    def open_image(self, image: QtGui.QImage) -> None:
        """Add an image that has no file (pasted or dropped as data) and read it."""
        if image.isNull():
            messages.show_status(self, self.tr("The clipboard holds no image."))
            return
        name = self.tr("Pasted image {n}").format(n=next(self._paste_counter))
        self._select_entry(self._add_entry(name, qimage_to_rgb(image)))

    def choose_photos(self) -> None:
        settings = QtCore.QSettings()
        folder = str(settings.value(SETTINGS_PHOTO_FOLDER, ""))
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self, self.tr("Open photos"), folder, self.tr(PHOTO_FILTER)
        )
        if paths:
            settings.setValue(SETTINGS_PHOTO_FOLDER, str(Path(paths[0]).parent))
            self.open_photos(paths)

    def paste(self) -> None:
        """Open the clipboard's image, or the image files it lists."""
        mime = QtWidgets.QApplication.clipboard().mimeData()
        paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if paths:
            self.open_photos(paths)
        elif mime.hasImage():
            self.open_image(QtGui.QImage(mime.imageData()))
        else:
            messages.show_status(self, self.tr("The clipboard holds no image."))

    def rotate_by(self, degrees: int) -> None:
        """Read the current photo again, turned ``degrees`` counter-clockwise further
        than its last reading (the reader's ``rotation_deg`` convention)."""
        entry = self.current_entry()
        if entry is None:
            return
        base = entry.outcome.reading.rotation_deg if entry.outcome is not None else 0
        self._read(entry, (base + degrees) % 360)

    def detect_rotation(self) -> None:
        """Read the current photo again with the orientation detected by the reader."""
        entry = self.current_entry()
        if entry is not None:
            self._read(entry, None)

    def correct_digit(self, index: int, digit: int) -> None:
        """Set the digit of detection ``index`` of the current photo by hand."""
        entry = self._shown_entry
        if entry is None or entry.outcome is None:
            return
        detections = entry.outcome.reading.detections
        if not 0 <= index < len(detections):
            return
        if detections[index].digit == digit:
            entry.corrections.pop(index, None)
        else:
            entry.corrections[index] = digit
        self._show_boxes(entry)
        self.panel.set_corrections(entry.corrections)
        self.canvas.select_box(index)

    def cancel_reading(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        self._request_id += 1  # whatever arrives now is stale
        self._pending_entry = None
        self._set_busy(False)
        messages.show_status(self, self.tr("Reading cancelled."))

    def has_export(self) -> bool:
        """Tell whether the shown photo has a reading to export."""
        return self._shown_entry is not None and self._shown_entry.outcome is not None

    def export(self) -> None:
        """Ask for a file name and write the annotated image, CSV or JSON there."""
        if not self.has_export():
            messages.show_status(self, self.tr("Read a photo before exporting."))
            return
        entry = self._shown_entry
        settings = QtCore.QSettings()
        folder = Path(str(settings.value(SETTINGS_EXPORT_FOLDER, "")) or Path.home())
        suggested = folder / f"{Path(entry.name).stem}-digits.png"
        path, chosen_filter = QtWidgets.QFileDialog.getSaveFileName(
            self,
            self.tr("Export reading"),
            str(suggested),
            ";;".join(self.tr(text) for text in EXPORT_FILTERS.values()),
        )
        if not path:
            return
        path = Path(path)
        if path.suffix.lower() not in EXPORT_FILTERS:
            suffix = next(
                (
                    s
                    for s, text in EXPORT_FILTERS.items()
                    if self.tr(text) == chosen_filter
                ),
                ".png",
            )
            path = path.with_suffix(suffix)
        settings.setValue(SETTINGS_EXPORT_FOLDER, str(path.parent))
        self.export_to(path)

    def export_to(self, path: Path) -> bool:
        """Write the shown reading to ``path`` (.png, .csv or .json).

        Returns:
            True when the file was written; a failure is shown to the user.
        """
        entry = self._shown_entry
        if entry is None or entry.outcome is None:
            return False
        try:
            export_reading(
                Path(path),
                entry.name,
                entry.outcome.reading,
                rgb_to_qimage(entry.outcome.photo_rgb),
                entry.corrections,
            )
        except (OSError, ValueError) as error:
            messages.show_error(
                self,
                self.tr("Could not export the reading"),
                self.tr(
                    "{path} could not be written. Choose another folder or file name."
                ).format(path=path),
                str(error),
            )
            return False
        messages.show_status(self, self.tr("Exported to {path}").format(path=path))
        return True

    def current_entry(self) -> PhotoEntry | None:
        row = self.photo_list.currentRow()
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def entries(self) -> list[PhotoEntry]:
        return list(self._entries)

    def is_busy(self) -> bool:
        return self._pending_entry is not None

    # -- requests ----------------------------------------------------------------------

    def _add_entry(self, name: str, source: Any) -> PhotoEntry:
        entry = PhotoEntry(name=name, source=source)
        self._entries.append(entry)
        item = QtWidgets.QListWidgetItem(name)
        item.setToolTip(source if isinstance(source, str) else name)
        self.photo_list.addItem(item)
        return entry

    def _find_entry(self, path: str) -> PhotoEntry | None:
        for entry in self._entries:
            if isinstance(entry.source, str) and entry.source == str(path):
                return entry
        return None

    def _select_entry(self, entry: PhotoEntry) -> None:
        row = self._entries.index(entry)
        if self.photo_list.currentRow() == row:
            self._on_photo_list_current_row_changed(row)
        else:
            self.photo_list.setCurrentRow(row)

    def _read(self, entry: PhotoEntry, rotation_deg: int | None) -> None:
        model = self.model_state.model
        if model is None:
            messages.show_status(self, self.tr("Load or train a model before reading."))
            return
        if self._worker is not None:
            self._worker.stop()  # the newer request wins
        self._request_id += 1
        entry.rotation_deg = rotation_deg
        worker = ReadingWorker(self._request_id, entry.source, model, rotation_deg)
        worker.finished.connect(self._on_worker_finished)
        worker.request_failed.connect(self._on_worker_request_failed)
        self._worker = worker
        self._pending_entry = entry
        self.busy_label.setText(self.tr("Reading {name}…").format(name=entry.name))
        self._set_busy(True)
        start_worker(worker, self)

    def _on_worker_finished(self, outcome: ReadingOutcome | None) -> None:
        if outcome is None or outcome.request_id != self._request_id:
            return
        entry = self._pending_entry
        self._finish_request()
        entry.outcome = outcome
        entry.error = ""
        entry.corrections.clear()
        self._mark_entry(entry)
        if entry is self.current_entry():
            self._show_entry(entry)
        digits = outcome.reading.digits or self.tr("no digits")
        messages.show_status(
            self,
            self.tr("Read {name}: {digits}").format(name=entry.name, digits=digits),
        )

    def _on_worker_request_failed(self, request_id: int, message: str) -> None:
        if request_id != self._request_id:
            return
        entry = self._pending_entry
        self._finish_request()
        entry.outcome = None
        entry.error = message
        self._mark_entry(entry)
        if entry is self.current_entry():
            self._show_entry(entry)
        self.reading_failed.emit(entry.name, message)
        # The engine's message names the file and what to do next, and the other
        # photos stay open, so the dialog adds only the path as its details.
        source = entry.source if isinstance(entry.source, str) else entry.name
        messages.show_error(self, self.tr("Could not read photo"), message, source)

    def _finish_request(self) -> None:
        self._worker = None
        self._pending_entry = None
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self.busy_widget.setVisible(busy)
        self._update_controls()
        self.busy_changed.emit(busy)

    def _update_controls(self) -> None:
        has_entry = self.current_entry() is not None
        for action in (
            self.rotate_left_action,
            self.rotate_right_action,
            self.auto_rotation_action,
        ):
            action.setEnabled(has_entry)
        self.export_action.setEnabled(self.has_export())
        self.view_combo.setEnabled(self.has_export())
        self.busy_widget.setVisible(self.is_busy())

    # -- display -----------------------------------------------------------------------

    def _show_entry(self, entry: PhotoEntry | None) -> None:
        self._shown_entry = entry
        outcome = entry.outcome if entry is not None else None
        if outcome is None:
            self._photo_image = QtGui.QImage()
            self.canvas.set_image(None)
            self.panel.show_reading(None, None, {})
            self.rotation_label.clear()
        else:
            self._photo_image = rgb_to_qimage(outcome.photo_rgb)
            self.canvas.set_image(self._view_image(outcome))
            self._show_boxes(entry)
            self.panel.show_reading(
                outcome.reading, outcome.photo_rgb, entry.corrections
            )
            rotation_origin = (
                self.tr("set by hand")
                if entry.rotation_deg is not None
                else self.tr("detected")
            )
            self.rotation_label.setText(
                self.tr("  Rotation {deg}° ({origin})  ").format(
                    deg=outcome.reading.rotation_deg, origin=rotation_origin
                )
            )
            self.reading_shown.emit(outcome)
        self._update_controls()

    def _show_boxes(self, entry: PhotoEntry) -> None:
        self.canvas.set_boxes(box_annotations(entry.outcome.reading, entry.corrections))

    def _view_image(self, outcome: ReadingOutcome) -> QtGui.QImage:
        view = self.view_combo.currentData()
        reading = outcome.reading
        if view == VIEW_GRAY and reading.gray is not None:
            return self._in_photo_frame(gray_to_qimage(reading.gray))
        if view == VIEW_MASK and reading.mask is not None:
            mask = np.where(np.asarray(reading.mask) > 0, 0, 255).astype(np.uint8)
            return self._in_photo_frame(gray_to_qimage(mask))
        return self._photo_image

    def _in_photo_frame(self, image: QtGui.QImage) -> QtGui.QImage:
        # The boxes are in photo pixels, so a step image made at a smaller working
        # scale is stretched to the photo's size to keep the boxes on the ink.
        if image.size() == self._photo_image.size():
            return image
        return image.scaled(
            self._photo_image.size(),
            QtCore.Qt.AspectRatioMode.IgnoreAspectRatio,
            QtCore.Qt.TransformationMode.SmoothTransformation,
        )

    def _mark_entry(self, entry: PhotoEntry) -> None:
        item = self.photo_list.item(self._entries.index(entry))
        if entry.error:
            item.setForeground(QtGui.QBrush(QtGui.QColor(200, 40, 40)))
            item.setText(self.tr("{name}  (not read)").format(name=entry.name))
            item.setToolTip(entry.error)
        else:
            item.setForeground(self.palette().brush(QtGui.QPalette.ColorRole.Text))
            count = len(entry.outcome.reading.detections) if entry.outcome else 0
            item.setText(f"{entry.name}  ({count})")

    # -- slots -------------------------------------------------------------------------

    def _on_photo_list_current_row_changed(self, row: int) -> None:
        entry = self._entries[row] if 0 <= row < len(self._entries) else None
        self._show_entry(entry)
        if entry is not None and entry.outcome is None:
            self._read(entry, entry.rotation_deg)

    def _on_canvas_box_selected(self, index: int) -> None:
        self.panel.select_detection(index)

    def _on_panel_detection_selected(self, index: int) -> None:
        self.canvas.select_box(index)

    def _on_view_combo_changed(self, _index: int) -> None:
        entry = self._shown_entry
        if entry is not None and entry.outcome is not None:
            self.canvas.replace_image(self._view_image(entry.outcome))

    def _on_model_state_model_changed(self) -> None:
        # Readings made with the old model no longer apply.
        for entry in self._entries:
            entry.outcome = None
            entry.corrections.clear()
        entry = self.current_entry()
        self._show_entry(entry)
        if entry is not None:
            self._read(entry, entry.rotation_deg)

    # -- drag and drop on the whole tab -----------------------------------------------

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        mime = event.mimeData()
        if any(url.isLocalFile() for url in mime.urls()) or mime.hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        mime = event.mimeData()
        paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_photos(paths)
        elif mime.hasImage():
            event.acceptProposedAction()
            self.open_image(QtGui.QImage(mime.imageData()))
