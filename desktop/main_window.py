"""The main window: five tabs, the menus, the status bar and the start-up jobs."""

import logging
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

import engine
from desktop import messages
from desktop.confusion_tab import ConfusionTab
from desktop.model_state import SOURCE_TRAINED, ModelState
from desktop.settings import open_settings, read_value
from desktop.training_tab import TrainingTab
from desktop.workers import (
    DataLoadWorker,
    EvaluateWorker,
    LoadWeightsWorker,
    SaveWeightsWorker,
    WarmUpWorker,
    Worker,
    shutdown_engine_thread,
    start_worker,
)

logger = logging.getLogger(__name__)

# Names accepted by ``--tab`` and ``show_tab``, in tab order.
TAB_NAMES = ("training", "confusion", "layers", "photo", "theory")
# Closing the window waits this long for the engine thread; a stopped training run
# returns within one batch, far less than this.
SHUTDOWN_TIMEOUT_S = 2.5
STARTUP_TEST_SET = "sample"
DEFAULT_SIZE = QtCore.QSize(1280, 820)
MNIST_ATTRIBUTION = (
    "The MNIST database of handwritten digits is by Yann LeCun, Corinna Cortes and "
    "Christopher J. C. Burges, and is made available under the Creative Commons "
    "Attribution-Share Alike 3.0 license (CC BY-SA 3.0)."
)


class PlaceholderTab(QtWidgets.QWidget):
    """Replaces a tab whose module could not be imported, and shows the reason in it."""

    def __init__(
        self, name: str, error: Exception, parent: QtWidgets.QWidget | None = None
    ):
        super().__init__(parent)
        label = QtWidgets.QLabel(
            self.tr("The {name} tab is not available: {error}").format(
                name=name, error=error
            )
        )
        label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        QtWidgets.QVBoxLayout(self).addWidget(label)

    def show_test_image(self, index: int) -> None:
        logger.warning(
            "Cannot show test image %d: the Layers tab is not available", index
        )

    def open_photos(self, paths: list[str]) -> None:
        logger.warning(
            "Cannot open %d photos: the Photo reading tab is not available", len(paths)
        )


def _import_tab(
    module_name: str, class_name: str
) -> tuple[type | None, Exception | None]:
    # NOTE: the Layers, Photo reading and Theory tabs are separate modules. A missing or
    # broken one becomes a placeholder tab, with the reason in the log, so that the rest
    # of the app still starts.
    import importlib

    try:
        module = importlib.import_module(module_name)
        return getattr(module, class_name), None
    except (ImportError, AttributeError) as error:
        logger.warning("Cannot import %s.%s: %s", module_name, class_name, error)
        return None, error


class MainWindow(QtWidgets.QMainWindow):
    """Digit Lab's window. It owns the ``ModelState`` every tab shares.

    On start it loads the shipped weights and the embedded test set on the engine
    thread, then evaluates the model, so the Confusion matrix and Layers tabs are useful
    without training.

    Signals:
        startup_finished(): the start-up jobs ended, whether or not they succeeded.
    """

    startup_finished = QtCore.Signal()

    def __init__(
        self, settings: QtCore.QSettings | None = None, *, load_startup: bool = True
    ):
        super().__init__()
        self.setWindowTitle(self.tr("Digit Lab"))
        self._settings = settings if settings is not None else open_settings()
        self.model_state = ModelState(self)
        self._evaluate_worker: EvaluateWorker | None = None
        # The (model, test set) pair the running evaluation belongs to.
        self._evaluating: tuple[Any, Any] = (None, None)
        self._startup_pending = 0
        self._warming_up = False
        self._closing = False

        self._build_tabs()
        self._build_menus()
        self._build_status_bar()
        self.model_state.model_changed.connect(self._on_model_state_model_changed)
        self.model_state.evaluation_changed.connect(self._update_model_label)
        self.model_state.test_set_changed.connect(self._on_model_state_test_set_changed)
        self._restore_settings()
        if load_startup:
            self._start_startup_jobs()

    # ----- building -----

    def _build_tabs(self) -> None:
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setDocumentMode(True)
        self.training_tab = TrainingTab(self.model_state)
        self.training_tab.save_weights_requested.connect(
            self._on_training_tab_save_weights_requested
        )
        self.confusion_tab = ConfusionTab(self.model_state)
        self.confusion_tab.open_in_layers_requested.connect(
            self._on_confusion_tab_open_in_layers_requested
        )
        self.layers_tab = self._make_tab(
            "desktop.layers_tab", "LayersTab", self.tr("Layers"), True
        )
        self.photo_tab = self._make_tab(
            "desktop.photo_tab", "PhotoTab", self.tr("Photo reading"), True
        )
        self.theory_tab = self._make_tab(
            "desktop.theory_tab", "TheoryTab", self.tr("Theory"), False
        )
        titles = (
            self.tr("Training"),
            self.tr("Confusion matrix"),
            self.tr("Layers"),
            self.tr("Photo reading"),
            self.tr("Theory"),
        )
        tabs = (
            self.training_tab,
            self.confusion_tab,
            self.layers_tab,
            self.photo_tab,
            self.theory_tab,
        )
        for tab, title in zip(tabs, titles, strict=True):
            self.tabs.addTab(tab, title)
        self.setCentralWidget(self.tabs)

    def _make_tab(
        self, module: str, class_name: str, title: str, takes_state: bool
    ) -> QtWidgets.QWidget:
        tab_class, error = _import_tab(module, class_name)
        if tab_class is None:
            return PlaceholderTab(title, error)
        try:
            return tab_class(self.model_state) if takes_state else tab_class()
        except Exception as error:
            logger.error("Cannot build the %s tab", title, exc_info=True)
            return PlaceholderTab(title, error)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.open_photo_action = self._add_action(
            file_menu,
            self.tr("&Open photo..."),
            self._on_open_photo_triggered,
            QtGui.QKeySequence.StandardKey.Open,
        )
        self.open_weights_action = self._add_action(
            file_menu, self.tr("Open &weights..."), self._on_open_weights_triggered
        )
        self.save_weights_action = self._add_action(
            file_menu,
            self.tr("&Save weights..."),
            self._on_save_weights_triggered,
            QtGui.QKeySequence.StandardKey.Save,
        )
        file_menu.addSeparator()
        self.export_action = self._add_action(
            file_menu, self.tr("&Export..."), self._on_export_triggered, "Ctrl+E"
        )
        file_menu.addSeparator()
        self.quit_action = self._add_action(
            file_menu, self.tr("&Quit"), self.close, QtGui.QKeySequence.StandardKey.Quit
        )
        # StandardKey.Quit is empty on some platforms, such as Windows, so Ctrl+Q is
        # set there.
        if not self.quit_action.shortcut().toString():
            self.quit_action.setShortcut(QtGui.QKeySequence("Ctrl+Q"))

        view_menu = self.menuBar().addMenu(self.tr("&View"))
        for number in range(self.tabs.count()):
            action = self._add_action(
                view_menu,
                self.tabs.tabText(number),
                lambda checked=False, index=number: self.tabs.setCurrentIndex(index),
                f"Ctrl+{number + 1}",
            )
            action.setData(number)

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self.about_action = self._add_action(
            help_menu, self.tr("&About Digit Lab"), self.show_about
        )

    def _add_action(
        self, menu: QtWidgets.QMenu, text: str, slot: Any, shortcut: Any = None
    ) -> QtGui.QAction:
        action = QtGui.QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_status_bar(self) -> None:
        self.model_label = QtWidgets.QLabel()
        self.model_label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.model_label.setToolTip(self.tr("The model every tab uses"))
        self.statusBar().addPermanentWidget(self.model_label)
        self._update_model_label()

    # ----- public API -----

    def show_tab(self, name: str) -> None:
        """Switch to the tab with one of the ``TAB_NAMES``."""
        self.tabs.setCurrentIndex(TAB_NAMES.index(name))

    def current_tab_name(self) -> str:
        """Return the ``TAB_NAMES`` entry of the visible tab."""
        return TAB_NAMES[self.tabs.currentIndex()]

    def open_photos(self, paths: list[str]) -> None:
        """Show the Photo reading tab and read the photos there."""
        self.show_tab("photo")
        if paths:
            self._settings.setValue("folders/photos", str(Path(paths[0]).parent))
            self.photo_tab.open_photos(list(paths))

    def open_weights(self, path: Path | None) -> None:
        """Load a weights file (None: the shipped one) and make it the current model."""
        worker = LoadWeightsWorker(path)
        worker.finished.connect(self._on_load_weights_worker_finished)
        worker.failed.connect(self._on_load_weights_worker_failed)
        self._run_job(worker)

    def save_weights(self, path: Path, model: Any, metadata: dict) -> None:
        """Save a model with its metadata on the engine thread."""
        worker = SaveWeightsWorker(path, model, metadata)
        worker.finished.connect(self._on_save_weights_worker_finished)
        worker.failed.connect(self._on_save_weights_worker_failed)
        self._run_job(worker)

    def is_busy(self) -> bool:
        """Tell whether start-up jobs, an evaluation or the current tab still run."""
        if (
            self._startup_pending
            or self._warming_up
            or self._evaluate_worker is not None
        ):
            return True
        tab_busy = getattr(self.tabs.currentWidget(), "is_busy", None)
        return bool(tab_busy()) if callable(tab_busy) else False

    def wait_until_idle(self, timeout_s: float) -> bool:
        """Process events until ``is_busy()`` is False or ``timeout_s`` passes."""
        deadline = time.monotonic() + timeout_s
        while self.is_busy():
            if time.monotonic() > deadline:
                logger.warning("Still busy after %.0f s; continuing", timeout_s)
                return False
            QtCore.QCoreApplication.processEvents(
                QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50
            )
            time.sleep(0.01)
        return True

    def show_about(self) -> None:
        """Show the versions of Digit Lab and its libraries, and the MNIST credit."""
        QtWidgets.QMessageBox.about(self, self.tr("About Digit Lab"), about_text())

    # ----- start-up and evaluation -----

    def _start_startup_jobs(self) -> None:
        self._startup_pending = 2
        weights = LoadWeightsWorker(None)
        weights.finished.connect(self._on_shipped_weights_worker_finished)
        weights.failed.connect(self._on_shipped_weights_worker_failed)
        weights.ended.connect(self._on_startup_job_ended)
        data = DataLoadWorker(STARTUP_TEST_SET, "test")
        data.finished.connect(self._on_test_set_worker_finished)
        data.failed.connect(self._on_test_set_worker_failed)
        data.ended.connect(self._on_startup_job_ended)
        self._run_job(weights)
        self._run_job(data)

    def _run_job(self, worker: Worker) -> None:
        # The engine thread keeps the worker referenced until Qt has deleted it.
        start_worker(worker, self)

    def _evaluate_current_model(self) -> None:
        if self._closing:
            return
        model, test_set = self.model_state.model, self.model_state.test_set
        if model is None or test_set is None or self.model_state.evaluation is not None:
            return
        if self._evaluate_worker is not None:
            # One evaluation at a time. A stale one is stopped, and its end starts the
            # next one (see _on_evaluate_worker_ended).
            if self._evaluating != (model, test_set):
                self._evaluate_worker.stop()
            return
        self._evaluating = (model, test_set)
        worker = EvaluateWorker(model, test_set)
        worker.finished.connect(self._on_evaluate_worker_finished)
        worker.failed.connect(self._on_evaluate_worker_failed)
        worker.ended.connect(self._on_evaluate_worker_ended)
        self._evaluate_worker = worker
        self.statusBar().showMessage(
            self.tr("Evaluating on {name}...").format(name=test_set.name)
        )
        self._run_job(worker)

    def _update_model_label(self) -> None:
        state = self.model_state
        if state.model is None:
            self.model_label.setText(self.tr("No model loaded"))
            return
        accuracy = state.accuracy
        if accuracy is None:
            text = self.tr("Model: {name}").format(name=state.display_name)
        else:
            text = self.tr("Model: {name} - {accuracy:.2%} on {data}").format(
                name=state.display_name,
                accuracy=accuracy,
                data=state.accuracy_source or self.tr("its test set"),
            )
        self.model_label.setText(text)

    # ----- settings -----

    def _restore_settings(self) -> None:
        geometry = read_value(self._settings, "window/geometry", QtCore.QByteArray())
        if geometry.isEmpty() or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE)
        state = read_value(self._settings, "window/state", QtCore.QByteArray())
        if not state.isEmpty():
            self.restoreState(state)
        tab = read_value(self._settings, "window/tab", 0)
        if 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)
        self.training_tab.restore_settings(self._settings)

    def _save_settings(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/state", self.saveState())
        self._settings.setValue("window/tab", self.tabs.currentIndex())
        self.training_tab.save_settings(self._settings)
        self._settings.sync()
        if self._settings.status() != QtCore.QSettings.Status.NoError:
            logger.warning(
                "Could not write the settings to %s", self._settings.fileName()
            )

    def _folder_setting(self, key: str) -> str:
        return read_value(self._settings, f"folders/{key}", "")

    # ----- Qt overrides -----

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self._closing = True
        self._save_settings()
        if self.training_tab.is_training():
            logger.info("Window closed during training; stopping it")
            self.training_tab.stop()
        self.confusion_tab.cell_dialog.close()
        # Every job, training included, ends within one step once stopped; waiting here
        # keeps Qt from destroying a running QThread, which would abort the process.
        shutdown_engine_thread(SHUTDOWN_TIMEOUT_S)
        super().closeEvent(event)

    # ----- menu slots -----

    @QtCore.Slot()
    def _on_open_photo_triggered(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self,
            self.tr("Open photo"),
            self._folder_setting("photos"),
            self.tr(
                "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)"
            ),
        )
        if paths:
            self.open_photos(paths)

    @QtCore.Slot()
    def _on_open_weights_triggered(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self,
            self.tr("Open weights"),
            self._folder_setting("weights"),
            self.tr("Weights (*.safetensors)"),
        )
        if path:
            self._settings.setValue("folders/weights", str(Path(path).parent))
            self.open_weights(Path(path))

    @QtCore.Slot()
    def _on_save_weights_triggered(self) -> None:
        state = self.model_state
        if state.model is None:
            messages.show_status(self, self.tr("No model to save yet."))
            return
        source = state.train_result if state.source == SOURCE_TRAINED else state.loaded
        self._ask_and_save(source)

    @QtCore.Slot()
    def _on_export_triggered(self) -> None:
        tab = self.tabs.currentWidget()
        has_export = getattr(tab, "has_export", None)
        if callable(has_export) and has_export():
            tab.export()
        else:
            messages.show_status(
                self,
                self.tr("Nothing to export on the {tab} tab.").format(
                    tab=self.tabs.tabText(self.tabs.currentIndex())
                ),
            )

    @QtCore.Slot(object)
    def _on_training_tab_save_weights_requested(self, result: Any) -> None:
        self._ask_and_save(result)

    @QtCore.Slot(int)
    def _on_confusion_tab_open_in_layers_requested(self, index: int) -> None:
        self.show_tab("layers")
        self.layers_tab.show_test_image(index)

    def _ask_and_save(self, source: Any) -> None:
        folder = self._folder_setting("weights")
        suggested = (
            str(Path(folder) / "lenet.safetensors") if folder else "lenet.safetensors"
        )
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, self.tr("Save weights"), suggested, self.tr("Weights (*.safetensors)")
        )
        if not path:
            return
        path_obj = Path(path)
        if path_obj.suffix != ".safetensors":
            path_obj = path_obj.with_name(path_obj.name + ".safetensors")
        self._settings.setValue("folders/weights", str(path_obj.parent))
        self.save_weights(path_obj, source.model, weights_metadata(source))

    # ----- worker slots -----

    @QtCore.Slot(object)
    def _on_shipped_weights_worker_finished(self, loaded: Any) -> None:
        self.model_state.set_model(loaded, self.tr("Shipped LeNet"))

    @QtCore.Slot(str)
    def _on_shipped_weights_worker_failed(self, message: str) -> None:
        # Not a dialog: the app is still useful without the shipped model (train one).
        logger.warning("Shipped weights not loaded: %s", message)
        self.statusBar().showMessage(
            self.tr(
                "The shipped model could not be loaded: {message} "
                "Train a model or open a weights file."
            ).format(message=message)
        )

    @QtCore.Slot(object)
    def _on_test_set_worker_finished(self, dataset: Any) -> None:
        if self.model_state.test_set is None:
            self.model_state.set_test_set(dataset)

    @QtCore.Slot(str)
    def _on_test_set_worker_failed(self, message: str) -> None:
        messages.show_error(
            self,
            self.tr("Could not load the test set"),
            self.tr(
                "The embedded test images could not be read, so the Confusion matrix "
                "and Layers tabs stay empty. Reinstall Digit Lab to restore them."
            ),
            details=message,
        )

    @QtCore.Slot()
    def _on_startup_job_ended(self) -> None:
        self._startup_pending -= 1
        if self._startup_pending == 0:
            self._evaluate_current_model()
            # Queued after the evaluation, so the confusion matrix is not delayed.
            warm_up = WarmUpWorker()
            warm_up.ended.connect(self._on_warm_up_worker_ended)
            self._warming_up = True
            self._run_job(warm_up)

    @QtCore.Slot()
    def _on_warm_up_worker_ended(self) -> None:
        self._warming_up = False
        self.startup_finished.emit()

    @QtCore.Slot(object)
    def _on_load_weights_worker_finished(self, loaded: Any) -> None:
        self.model_state.set_model(loaded, Path(loaded.path).name)
        self.statusBar().showMessage(
            self.tr("Loaded {path}").format(path=loaded.path), 5000
        )

    @QtCore.Slot(str)
    def _on_load_weights_worker_failed(self, message: str) -> None:
        messages.show_error(
            self,
            self.tr("Could not load weights"),
            self.tr(
                "The weights file could not be loaded; the current model is unchanged."
            ),
            details=message,
        )

    @QtCore.Slot(object)
    def _on_save_weights_worker_finished(self, path: Any) -> None:
        self.statusBar().showMessage(
            self.tr("Saved weights to {path}").format(path=path), 5000
        )

    @QtCore.Slot(str)
    def _on_save_weights_worker_failed(self, message: str) -> None:
        messages.show_error(
            self,
            self.tr("Could not save weights"),
            self.tr("The weights were not saved; any previous file was kept."),
            details=message,
        )

    @QtCore.Slot(object)
    def _on_evaluate_worker_finished(self, result: Any) -> None:
        if self._evaluating != (self.model_state.model, self.model_state.test_set):
            return
        self.model_state.set_evaluation(result)
        self.statusBar().showMessage(
            self.tr("Evaluated: {accuracy:.2%} on {count:,} test images").format(
                accuracy=result.accuracy, count=result.count
            ),
            5000,
        )

    @QtCore.Slot(str)
    def _on_evaluate_worker_failed(self, message: str) -> None:
        messages.show_error(
            self,
            self.tr("Could not evaluate the model"),
            self.tr("The model could not be run on the test set."),
            details=message,
        )

    @QtCore.Slot()
    def _on_evaluate_worker_ended(self) -> None:
        self._evaluate_worker = None
        self._evaluating = (None, None)
        self._evaluate_current_model()

    @QtCore.Slot()
    def _on_model_state_model_changed(self) -> None:
        self._update_model_label()
        self._evaluate_current_model()

    @QtCore.Slot()
    def _on_model_state_test_set_changed(self) -> None:
        self._evaluate_current_model()


def weights_metadata(source: Any) -> dict:
    """Build the metadata saved beside a model's weights.

    Args:
        source: an ``engine.TrainResult`` (config, data and metrics are recorded) or an
            ``engine.LoadedModel`` (its metadata is kept as it was).
    """
    if hasattr(source, "metadata"):
        return dict(source.metadata)
    metadata: dict[str, Any] = {
        "training_config": source.config.to_json(),
        "data": {"name": source.train_set_name, "sha256": source.train_set_sha256},
        "training": {
            "status": source.status,
            "best_epoch": source.best_epoch,
            "elapsed_s": source.elapsed_s,
            "epoch_accuracies": list(source.epoch_accuracies),
        },
    }
    if source.evaluation is not None:
        metrics = source.evaluation.to_json(include_errors=False)
        metrics["data"] = {"name": source.test_set_name}
        metadata["metrics"] = metrics
    return metadata


def about_text() -> str:
    """Return the About dialog's rich text: versions and the MNIST attribution."""
    import cv2
    import pyqtgraph
    import PySide6
    import torch

    tr = QtCore.QCoreApplication.translate
    versions = [
        ("Digit Lab", engine.__version__),
        ("Python", platform.python_version()),
        ("torch", torch.__version__),
        ("PySide6", PySide6.__version__),
        ("Qt", QtCore.qVersion()),
        ("numpy", np.__version__),
        ("OpenCV", cv2.__version__),
        ("pyqtgraph", pyqtgraph.__version__),
    ]
    rows = "".join(
        f"<tr><td>{name}</td><td>{version}</td></tr>" for name, version in versions
    )
    return (
        "<h3>Digit Lab</h3>"
        + tr(
            "MainWindow",
            "<p>Watch a LeNet learn handwritten digits, look inside it, and read "
            "digits in photos.</p>",
        )
        + f"<table>{rows}</table>"
        + f"<p>{tr('MainWindow', MNIST_ATTRIBUTION)}</p>"
    )
