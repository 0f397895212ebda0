"""The Training tab: choose data and hyperparameters, train live, keep the result."""

import logging
import time
from typing import Any

from PySide6 import QtCore, QtWidgets

import engine
from desktop import messages
from desktop.loss_plot import LossPlot
from desktop.model_state import ModelState
from desktop.settings import read_value
from desktop.workers import (
    TrainOutcome,
    TrainProgress,
    TrainWorker,
    available_cpu_threads,
    cpu_core_count,
    start_worker,
)

logger = logging.getLogger(__name__)

DATA_SAMPLE = "sample"
DATA_MNIST = "mnist"
DATA_FOLDER = "folder"
LOG_MAX_LINES = 2000
SETTINGS_GROUP = "training"


def format_duration(seconds: float) -> str:
    """Format a duration for people: "45 s", "3 min 05 s", "1 h 02 min"."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class TrainingTab(QtWidgets.QWidget):
    """Trains a LeNet with the engine on a worker and plots it live.

    Signals:
        training_started(): a run was started.
        training_ended(str): a run ended; the argument is "finished", "stopped",
            "diverged" or "failed".
        save_weights_requested(object): "Save weights..." was clicked; the argument is
            the run's ``engine.TrainResult``.
        batches_plotted(int): new batch losses were plotted; the argument is the
            number of batches plotted so far.
    """

    training_started = QtCore.Signal()
    training_ended = QtCore.Signal(str)
    save_weights_requested = QtCore.Signal(object)
    batches_plotted = QtCore.Signal(int)

    def __init__(
        self, model_state: ModelState, parent: QtWidgets.QWidget | None = None
    ):
        super().__init__(parent)
        self._model_state = model_state
        self._worker: TrainWorker | None = None
        self._outcome: TrainOutcome | None = None
        self._started_at = ""
        self._end_status = ""
        self._last_batch: Any = None

        self.plot = LossPlot()
        controls = self._build_controls()
        results = self._build_results_panel()

        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        splitter.addWidget(controls)
        splitter.addWidget(results)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(0, False)
        layout = QtWidgets.QHBoxLayout(self)
        layout.addWidget(splitter)
        self._set_running(False)

    # ----- building the widgets -----

    def _build_controls(self) -> QtWidgets.QWidget:
        defaults = engine.TrainConfig()
        panel = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self._build_data_box())
        column.addWidget(self._build_hyperparameter_box(defaults))
        column.addLayout(self._build_buttons())
        column.addStretch(1)
        return panel

    def _build_data_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox(self.tr("Data"))
        form = QtWidgets.QFormLayout(box)
        self.data_combo = QtWidgets.QComboBox()
        self.data_combo.addItem(
            self.tr("Embedded sample (small, no download)"), DATA_SAMPLE
        )
        self.data_combo.addItem(
            self.tr("Full MNIST (downloads about 11 MB once)"), DATA_MNIST
        )
        self.data_combo.addItem(self.tr("Folder with the four IDX files"), DATA_FOLDER)
        self.data_combo.currentIndexChanged.connect(self._on_data_combo_changed)
        form.addRow(self.tr("Source"), self.data_combo)

        self.folder_edit = QtWidgets.QLineEdit()
        self.folder_edit.setPlaceholderText(
            self.tr("Folder holding train-images-idx3-ubyte ...")
        )
        browse = QtWidgets.QPushButton(self.tr("Browse..."))
        browse.clicked.connect(self._on_browse_clicked)
        self._folder_row = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(self._folder_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        form.addRow(self.tr("Folder"), self._folder_row)
        self._folder_row.setEnabled(False)
        return box

    def _build_hyperparameter_box(self, defaults: Any) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox(self.tr("Training"))
        form = QtWidgets.QFormLayout(box)

        self.epochs_spin = QtWidgets.QSpinBox()
        self.epochs_spin.setRange(1, 500)
        self.epochs_spin.setValue(defaults.epochs)
        form.addRow(self.tr("Epochs"), self.epochs_spin)

        self.batch_size_spin = QtWidgets.QSpinBox()
        self.batch_size_spin.setRange(1, 4096)
        self.batch_size_spin.setValue(defaults.batch_size)
        form.addRow(self.tr("Batch size"), self.batch_size_spin)

        self.learning_rate_spin = QtWidgets.QDoubleSpinBox()
        self.learning_rate_spin.setDecimals(5)
        self.learning_rate_spin.setRange(0.00001, 10.0)
        self.learning_rate_spin.setSingleStep(0.005)
        self.learning_rate_spin.setValue(defaults.learning_rate)
        self.learning_rate_spin.setToolTip(
            self.tr("Peak learning rate. Try 0.05 for SGD or 0.001 for Adam.")
        )
        form.addRow(self.tr("Learning rate"), self.learning_rate_spin)

        self.optimizer_combo = _choice_combo(engine.OPTIMIZERS, defaults.optimizer)
        form.addRow(self.tr("Optimizer"), self.optimizer_combo)
        self.schedule_combo = _choice_combo(engine.SCHEDULES, defaults.schedule)
        form.addRow(self.tr("Schedule"), self.schedule_combo)
        self.init_combo = _choice_combo(engine.WEIGHT_INITS, defaults.weight_init)
        form.addRow(self.tr("Initialisation"), self.init_combo)

        self.seed_spin = QtWidgets.QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(defaults.seed)
        form.addRow(self.tr("Seed"), self.seed_spin)

        self.augment_check = QtWidgets.QCheckBox(
            self.tr("Shift, rotate and scale each batch")
        )
        self.augment_check.setChecked(defaults.augment)
        form.addRow(self.tr("Augment"), self.augment_check)

        self.threads_spin = QtWidgets.QSpinBox()
        self.threads_spin.setRange(0, cpu_core_count())
        self.threads_spin.setSpecialValueText(self.tr("Auto"))
        self.threads_spin.setValue(0)
        self.threads_spin.setToolTip(
            self.tr(
                "CPU threads for training. Auto uses the cores not busy with other "
                "programs when training starts; on a busy machine fewer threads train "
                "faster."
            )
        )
        form.addRow(self.tr("CPU threads"), self.threads_spin)
        return box

    def _build_buttons(self) -> QtWidgets.QHBoxLayout:
        self.start_button = QtWidgets.QPushButton(self.tr("Start"))
        self.start_button.clicked.connect(self._on_start_button_clicked)
        self.pause_button = QtWidgets.QPushButton(self.tr("Pause"))
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._on_pause_button_toggled)
        self.stop_button = QtWidgets.QPushButton(self.tr("Stop"))
        self.stop_button.clicked.connect(self.stop)
        row = QtWidgets.QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            row.addWidget(button)
        return row

    def _build_results_panel(self) -> QtWidgets.QWidget:
        self.progress_bar = QtWidgets.QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(self.tr("Not started"))
        self.speed_label = QtWidgets.QLabel()
        self.speed_label.setMinimumWidth(150)
        self.speed_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        progress_row = QtWidgets.QHBoxLayout()
        progress_row.addWidget(self.progress_bar, 1)
        progress_row.addWidget(self.speed_label)

        self.log_view = QtWidgets.QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(LOG_MAX_LINES)
        self.log_view.setPlaceholderText(self.tr("Training messages appear here."))

        self.use_button = QtWidgets.QPushButton(self.tr("Use this model"))
        self.use_button.setToolTip(
            self.tr("Make the trained model the current one in every tab")
        )
        self.use_button.clicked.connect(self.use_trained_model)
        self.save_button = QtWidgets.QPushButton(self.tr("Save weights..."))
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.result_label = QtWidgets.QLabel()
        self.result_label.setWordWrap(True)
        result_row = QtWidgets.QHBoxLayout()
        result_row.addWidget(self.result_label, 1)
        result_row.addWidget(self.use_button)
        result_row.addWidget(self.save_button)

        vertical = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        vertical.addWidget(self.plot)
        vertical.addWidget(self.log_view)
        vertical.setStretchFactor(0, 3)
        vertical.setStretchFactor(1, 1)

        panel = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(vertical, 1)
        column.addLayout(progress_row)
        column.addLayout(result_row)
        return panel

    # ----- public API -----

    @property
    def outcome(self) -> TrainOutcome | None:
        """The last run that produced a model, or None."""
        return self._outcome

    @property
    def last_batch(self) -> Any:
        """The latest ``engine.BatchProgress`` shown, or None before the first batch."""
        return self._last_batch

    def is_training(self) -> bool:
        """Tell whether a run is in progress (including its data loading)."""
        return self._worker is not None

    def build_config(self) -> Any:
        """Return an ``engine.TrainConfig`` from the controls.

        Raises:
            ConfigError: when a value is invalid, such as an empty folder path.
        """
        data = self.data_combo.currentData()
        if data == DATA_FOLDER:
            data = self.folder_edit.text().strip()
            if not data:
                raise engine.ConfigError(
                    "The data folder is missing. Choose the folder that contains the "
                    "four MNIST IDX files, or choose another source."
                )
        threads = self.threads_spin.value() or available_cpu_threads()
        return engine.TrainConfig(
            data=data,
            epochs=self.epochs_spin.value(),
            batch_size=self.batch_size_spin.value(),
            learning_rate=self.learning_rate_spin.value(),
            optimizer=self.optimizer_combo.currentText(),
            schedule=self.schedule_combo.currentText(),
            weight_init=self.init_combo.currentText(),
            augment=self.augment_check.isChecked(),
            seed=self.seed_spin.value(),
            num_threads=threads,
        )

    def start(self, config: Any = None) -> bool:
        """Start a run with ``config``, or with the controls' values when None.

        Returns:
            False when a run is already going, or when the controls contain an invalid
            value (the user then gets a message that explains it).
        """
        if self._worker is not None:
            return False
        if config is None:
            try:
                config = self.build_config()
            except engine.ConfigError as error:
                messages.show_error(
                    self,
                    self.tr("Cannot start training"),
                    str(error),
                )
                return False
        self._begin_run(config)
        return True

    def stop(self) -> None:
        """Ask the running job to stop after its current batch."""
        if self._worker is not None:
            self._append_log(self.tr("Stopping..."))
            self._worker.stop()
            self.stop_button.setEnabled(False)

    def use_trained_model(self) -> None:
        """Make the last trained model the current model of the app."""
        if self._outcome is None:
            return
        result = self._outcome.result
        test_set = self._outcome.test_set
        current = self._model_state.test_set
        if current is None or current.sha256 != test_set.sha256:
            self._model_state.set_test_set(test_set)
        name = self.tr("Trained {time} on {data}").format(
            time=self._started_at, data=result.train_set_name or result.config.data
        )
        self._model_state.set_model(result, name)
        self._append_log(self.tr("Using the trained model in every tab."))

    def save_settings(self, settings: QtCore.QSettings) -> None:
        """Store the data source and hyperparameters."""
        settings.beginGroup(SETTINGS_GROUP)
        settings.setValue("data", self.data_combo.currentData())
        settings.setValue("folder", self.folder_edit.text())
        settings.setValue("epochs", self.epochs_spin.value())
        settings.setValue("batch_size", self.batch_size_spin.value())
        settings.setValue("learning_rate", self.learning_rate_spin.value())
        settings.setValue("optimizer", self.optimizer_combo.currentText())
        settings.setValue("schedule", self.schedule_combo.currentText())
        settings.setValue("weight_init", self.init_combo.currentText())
        settings.setValue("seed", self.seed_spin.value())
        settings.setValue("augment", self.augment_check.isChecked())
        settings.setValue("threads", self.threads_spin.value())
        settings.endGroup()

    def restore_settings(self, settings: QtCore.QSettings) -> None:
        """Restore what ``save_settings`` stored; invalid values keep the defaults."""
        settings.beginGroup(SETTINGS_GROUP)
        try:
            _select_data(self.data_combo, read_value(settings, "data", DATA_SAMPLE))
            self.folder_edit.setText(read_value(settings, "folder", ""))
            self.epochs_spin.setValue(
                read_value(settings, "epochs", self.epochs_spin.value())
            )
            self.batch_size_spin.setValue(
                read_value(settings, "batch_size", self.batch_size_spin.value())
            )
            self.learning_rate_spin.setValue(
                read_value(settings, "learning_rate", self.learning_rate_spin.value())
            )
            _select_text(self.optimizer_combo, read_value(settings, "optimizer", ""))
            _select_text(self.schedule_combo, read_value(settings, "schedule", ""))
            _select_text(self.init_combo, read_value(settings, "weight_init", ""))
            self.seed_spin.setValue(
                read_value(settings, "seed", self.seed_spin.value())
            )
            self.augment_check.setChecked(
                read_value(settings, "augment", self.augment_check.isChecked())
            )
            self.threads_spin.setValue(read_value(settings, "threads", 0))
        finally:
            settings.endGroup()

    # ----- running -----

    def _begin_run(self, config: Any) -> None:
        self.plot.clear()
        self._outcome = None
        self._last_batch = None
        self._started_at = time.strftime("%H:%M")
        self.result_label.clear()
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat(self.tr("Loading data..."))
        self.speed_label.clear()

        self._append_log(
            self.tr(
                "Started: {data}, {epochs} epochs, batch {batch}, {optimizer} at "
                "learning rate {lr:g}, seed {seed}, {threads} CPU thread(s)."
            ).format(
                data=config.data,
                epochs=config.epochs,
                batch=config.batch_size,
                optimizer=config.optimizer,
                lr=config.learning_rate,
                seed=config.seed,
                threads=config.num_threads or "default",
            )
        )

        worker = TrainWorker(config)
        worker.progress.connect(self._on_worker_progress)
        worker.epoch_finished.connect(self._on_worker_epoch_finished)
        worker.data_loaded.connect(self._on_worker_data_loaded)
        worker.finished.connect(self._on_worker_finished)
        worker.stopped.connect(self._on_worker_stopped)
        worker.failed.connect(self._on_worker_failed)
        worker.ended.connect(self._on_worker_ended)

        self._worker = worker
        self._set_running(True)
        start_worker(worker, self)
        self.training_started.emit()

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        if not running:
            self.pause_button.setChecked(False)
        for widget in self._settings_widgets():
            widget.setEnabled(not running)
        self._folder_row.setEnabled(
            not running and self.data_combo.currentData() == DATA_FOLDER
        )
        has_result = not running and self._outcome is not None
        self.use_button.setEnabled(has_result)
        self.save_button.setEnabled(has_result)

    def _settings_widgets(self) -> list[QtWidgets.QWidget]:
        return [
            self.data_combo,
            self.epochs_spin,
            self.batch_size_spin,
            self.learning_rate_spin,
            self.optimizer_combo,
            self.schedule_combo,
            self.init_combo,
            self.seed_spin,
            self.augment_check,
            self.threads_spin,
        ]

    def _append_log(self, text: str) -> None:
        self.log_view.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")

    def _show_batch(self, batch: Any) -> None:
        self._last_batch = batch
        total = batch.epochs * batch.batches_per_epoch
        done = (batch.epoch - 1) * batch.batches_per_epoch + batch.batch
        self.plot.set_expected_batches(total)
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)
        left = (
            self.tr("about {time} left").format(time=format_duration(batch.eta_s))
            if batch.eta_s is not None
            else self.tr("estimating time left")
        )
        self.progress_bar.setFormat(
            self.tr("Epoch {epoch}/{epochs} - batch {batch}/{batches} - {left}").format(
                epoch=batch.epoch,
                epochs=batch.epochs,
                batch=batch.batch,
                batches=batch.batches_per_epoch,
                left=left,
            )
        )
        self.speed_label.setText(
            self.tr("{rate:,.0f} images/s").format(rate=batch.images_per_second)
        )

    def _show_download(self, report: Any) -> None:
        received_mb = report.received_bytes / 1e6
        if report.total_bytes:
            self.progress_bar.setRange(0, report.total_bytes)
            self.progress_bar.setValue(report.received_bytes)
            size = f"{received_mb:.1f} / {report.total_bytes / 1e6:.1f} MB"
        else:
            self.progress_bar.setRange(0, 0)
            size = f"{received_mb:.1f} MB"
        self.progress_bar.setFormat(
            self.tr("Downloading {name} ({index}/{count}): {size}").format(
                name=report.file_name,
                index=report.file_index + 1,
                count=report.file_count,
                size=size,
            )
        )

    def _keep_outcome(self, outcome: TrainOutcome) -> None:
        self._outcome = outcome
        result = outcome.result
        self._append_log(result.message)
        self.result_label.setText(result.message)

    # ----- slots -----

    @QtCore.Slot(int)
    def _on_data_combo_changed(self, index: int) -> None:
        self._folder_row.setEnabled(self.data_combo.itemData(index) == DATA_FOLDER)

    @QtCore.Slot()
    def _on_browse_clicked(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self, self.tr("Folder with the MNIST IDX files"), self.folder_edit.text()
        )
        if folder:
            self.folder_edit.setText(folder)

    @QtCore.Slot()
    def _on_start_button_clicked(self) -> None:
        self.start()

    @QtCore.Slot(bool)
    def _on_pause_button_toggled(self, paused: bool) -> None:
        self.pause_button.setText(self.tr("Resume") if paused else self.tr("Pause"))
        if self._worker is None:
            return
        if paused:
            self._worker.pause_event.set()
            self._append_log(self.tr("Paused."))
        else:
            self._worker.pause_event.clear()
            self._append_log(self.tr("Resumed."))

    @QtCore.Slot()
    def _on_save_button_clicked(self) -> None:
        if self._outcome is not None:
            self.save_weights_requested.emit(self._outcome.result)

    @QtCore.Slot(object)
    def _on_worker_progress(self, report: Any) -> None:
        if isinstance(report, TrainProgress):
            self.plot.append_losses(report.new_losses)
            if report.batch is not None:
                self._show_batch(report.batch)
            self.batches_plotted.emit(self.plot.batch_count)
        elif isinstance(report, engine.DownloadProgress):
            self._show_download(report)

    @QtCore.Slot(object)
    def _on_worker_data_loaded(self, train_set: Any) -> None:
        self._append_log(
            self.tr("Loaded {name}: {count:,} training images.").format(
                name=train_set.name, count=len(train_set)
            )
        )
        self.progress_bar.setFormat(self.tr("Training..."))

    @QtCore.Slot(object)
    def _on_worker_epoch_finished(self, epoch: Any) -> None:
        self.plot.add_epoch(epoch.test_accuracy)
        self._append_log(
            self.tr(
                "Epoch {epoch}/{epochs}: training loss {loss:.4f}, test accuracy "
                "{accuracy:.2%}."
            ).format(
                epoch=epoch.epoch,
                epochs=epoch.epochs,
                loss=epoch.train_loss,
                accuracy=epoch.test_accuracy,
            )
        )

    @QtCore.Slot(object)
    def _on_worker_finished(self, outcome: TrainOutcome) -> None:
        self._keep_outcome(outcome)
        result = outcome.result
        if result.status == "diverged":
            self.progress_bar.setFormat(self.tr("Stopped: the loss diverged"))
            messages.show_error(self, self.tr("Training diverged"), result.message)
        else:
            self.progress_bar.setValue(self.progress_bar.maximum())
            self.progress_bar.setFormat(self.tr("Finished"))
        self._end_status = result.status

    @QtCore.Slot(object)
    def _on_worker_stopped(self, outcome: TrainOutcome | None) -> None:
        self.progress_bar.setFormat(self.tr("Stopped"))
        if outcome is None:
            self.progress_bar.setRange(0, 1)
            self._append_log(self.tr("Stopped before training began."))
        else:
            self._keep_outcome(outcome)
        self._end_status = "stopped"

    @QtCore.Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setFormat(self.tr("Failed"))
        self._append_log(self.tr("Failed: {message}").format(message=message))
        messages.show_error(
            self,
            self.tr("Training failed"),
            self.tr("Training stopped because of an error: {message}").format(
                message=message
            ),
            details=_error_details(self._worker),
        )
        self._end_status = "failed"

    @QtCore.Slot()
    def _on_worker_ended(self) -> None:
        self._worker = None
        self._set_running(False)
        # Emitted last, so that a listener finds the tab ready for a new run.
        self.training_ended.emit(self._end_status)


def _choice_combo(choices: tuple[str, ...], current: str) -> QtWidgets.QComboBox:
    combo = QtWidgets.QComboBox()
    combo.addItems(list(choices))
    combo.setCurrentText(current)
    return combo


def _select_data(combo: QtWidgets.QComboBox, data: str) -> None:
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)
    else:
        logger.warning(
            "Setting training/data has the unknown value %r; keeping the default", data
        )


def _select_text(combo: QtWidgets.QComboBox, text: str) -> None:
    if not text:
        return
    index = combo.findText(text)
    if index >= 0:
        combo.setCurrentIndex(index)
    else:
        logger.warning(
            "Setting %r is not one of the choices; keeping the default", text
        )


def _error_details(worker: TrainWorker | None) -> str:
    if worker is None or worker.error is None:
        return ""
    return f"{type(worker.error).__name__}: {worker.error}"
