"""Workers that run engine jobs off the GUI thread, all on one long-lived engine thread.

Every job that runs torch operations (training, evaluation, loading or saving weights,
capturing activations, reading a photo) is a ``Worker`` moved to the single thread that
``EngineThread`` owns, and the jobs run there one at a time. Each thread that runs torch
operations gets its own OpenMP team. With more OpenMP threads than cores, the teams
sleep and wake between the many small parallel regions of a training loop. Training in
a worker ran at 0.75x the plain loop once the GUI thread had run any torch operation,
and at 0.97x with every torch operation on one thread, so the GUI thread never runs
one.

A short job (``Worker.interleavable``) submitted while training runs does not wait for
the run to end: the training worker runs it between two batches, on the same thread.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6 import QtCore

import engine

logger = logging.getLogger(__name__)

# Workers emit progress at most this often, however fast the batches are. Each update
# redraws the loss plot in Python on the GUI thread, which competes with the training
# loop for the GIL. At 10 updates a second the app trained at 0.83 to 0.88 times the
# headless speed, and at 4 a second at 1.02 (bench/bench_gui.py, 400 batches, 2 cores).
PROGRESS_INTERVAL_S = 0.25

# How often a paused training run checks for stop requests and short jobs.
PAUSE_POLL_S = 0.05


def available_cpu_threads() -> int:
    """Return a torch thread count that fits the cores not already busy.

    With one other busy process on a 2-core machine, 2 torch threads trained at about
    720 images/s and 1 thread at about 3,300. The count therefore leaves out as many
    cores as the 1-minute load average reports busy.
    """
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    try:
        busy = round(os.getloadavg()[0])
    except (AttributeError, OSError):
        busy = 0
    return max(1, min(cores, cores - busy))


def cpu_core_count() -> int:
    """Return the number of cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class Worker(QtCore.QObject):
    """Base class of every engine job; subclasses implement ``work()``.

    ``run()`` ends in exactly one of ``finished``, ``stopped`` or ``failed``, then emits
    ``ended``. Stop a job with ``stop()`` from the GUI thread: it sets ``stop_event``,
    which the engine checks between steps, so no queued call on the busy thread is
    needed.

    Signals:
        finished(object): the job completed; the argument is its result.
        stopped(object): the job ended early on request; the argument is the partial
            result (for training, the best weights so far), or None.
        failed(str): the job was abandoned; the argument is the error text, and
            ``error`` contains the exception.
        progress(object): a progress report, at most every ``PROGRESS_INTERVAL_S``.
        ended(): emitted once after any of the three above.
    """

    finished = QtCore.Signal(object)
    stopped = QtCore.Signal(object)
    failed = QtCore.Signal(str)
    progress = QtCore.Signal(object)
    ended = QtCore.Signal()

    # A name for the log, such as "Training".
    job_name = "Job"
    # True for short jobs that may run between two batches of a training run.
    interleavable = False

    def __init__(self) -> None:
        super().__init__()
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self._claim_lock = threading.Lock()
        self._claimed = False
        self._last_progress_s = 0.0
        self._engine_thread: EngineThread | None = None

    def stop(self) -> None:
        """Ask the job to end early; safe from any thread, any number of times."""
        self.stop_event.set()

    def work(self) -> Any:
        """Do the job on the engine thread and return its result."""
        raise NotImplementedError

    def was_stopped(self, result: Any) -> bool:
        """Tell whether ``result`` came from a job that ended early."""
        return self.stop_event.is_set()

    @QtCore.Slot()
    def run(self) -> None:
        """Run ``work()`` once and emit the signals that report how it ended."""
        if not self._claim():
            return
        if self.stop_event.is_set():
            self._emit_end(self.stopped, None)
            return
        started_s = time.monotonic()
        try:
            result = self.work()
        except engine.EngineError as error:
            if self.stop_event.is_set():
                # A download or a load stopped on request raises; that is no failure.
                logger.debug("%s stopped: %s", self.job_name, error)
                self._emit_end(self.stopped, None)
                return
            logger.debug("%s failed", self.job_name, exc_info=True)
            self.error = error
            self._emit_end(self.failed, str(error))
        except Exception as error:
            logger.error("%s failed unexpectedly", self.job_name, exc_info=True)
            self.error = error
            self._emit_end(self.failed, f"{type(error).__name__}: {error}")
        else:
            elapsed_s = time.monotonic() - started_s
            logger.debug("%s took %.2f s", self.job_name, elapsed_s)
            signal = self.stopped if self.was_stopped(result) else self.finished
            self._emit_end(signal, result)

    def emit_progress(self, report: Any, *, force: bool = False) -> bool:
        """Emit ``progress`` unless one went out less than ``PROGRESS_INTERVAL_S`` ago.

        Returns:
            True when the report was emitted.
        """
        now_s = time.monotonic()
        if not force and now_s - self._last_progress_s < PROGRESS_INTERVAL_S:
            return False
        self._last_progress_s = now_s
        self.progress.emit(report)
        return True

    def run_waiting_jobs(self) -> None:
        """Run the short jobs submitted since the last call (only from a long job)."""
        if self._engine_thread is not None:
            self._engine_thread.run_interleavable_jobs()

    def _claim(self) -> bool:
        # A short job can be started twice: by the training worker between batches and
        # by its own queued call. Only the first start runs it.
        with self._claim_lock:
            if self._claimed:
                return False
            self._claimed = True
            return True

    def _emit_end(self, signal: QtCore.SignalInstance, value: Any) -> None:
        signal.emit(value)
        self.ended.emit()


class EngineThread(QtCore.QObject):
    """Owns the one long-lived ``QThread`` on which every torch job runs.

    ``submit()`` moves a worker to that thread and queues its ``run()``. Jobs run in the
    order submitted. References to running workers are kept here until Qt has deleted
    them (``ended`` is connected to ``deleteLater``), so a worker is never garbage
    collected from the GUI thread while its own thread still uses it.
    """

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QtCore.QThread()
        self._thread.setObjectName("digitlab-engine")
        self._workers: dict[int, Worker] = {}
        self._waiting_lock = threading.Lock()
        self._waiting: list[Worker] = []
        self._thread.start()

    @property
    def thread(self) -> QtCore.QThread:
        """The engine ``QThread``."""
        return self._thread

    def is_running(self) -> bool:
        """Tell whether the thread is still alive."""
        return self._thread.isRunning()

    def submit(self, worker: Worker) -> QtCore.QThread:
        """Queue ``worker.run()`` on the engine thread and return that thread."""
        key = id(worker)
        self._workers[key] = worker
        worker._engine_thread = self
        worker.ended.connect(worker.deleteLater)
        # Runs on the engine thread inside ~QObject, after the Python wrapper has been
        # detached, so dropping the last reference here deletes nothing twice.
        worker.destroyed.connect(lambda: self._workers.pop(key, None))
        worker.moveToThread(self._thread)
        if worker.interleavable:
            with self._waiting_lock:
                self._waiting.append(worker)
        QtCore.QMetaObject.invokeMethod(
            worker, "run", QtCore.Qt.ConnectionType.QueuedConnection
        )
        logger.debug("Queued %s on the engine thread", worker.job_name)
        return self._thread

    def run_interleavable_jobs(self) -> None:
        """Run waiting short jobs now; call only from a job on the engine thread."""
        with self._waiting_lock:
            waiting, self._waiting = self._waiting, []
        for worker in waiting:
            worker.run()

    def running_workers(self) -> list[Worker]:
        """Return the workers submitted and not yet deleted."""
        return list(self._workers.values())

    def stop_all(self) -> None:
        """Ask every submitted worker to end early."""
        for worker in self.running_workers():
            worker.stop()

    def shutdown(self, timeout_s: float) -> bool:
        """Stop every job, end the thread and wait at most ``timeout_s`` for it.

        Returns:
            True when the thread ended in time. When it did not, a warning is logged and
            the thread object is kept alive, because destroying a running ``QThread``
            aborts the process.
        """
        self.stop_all()
        self._thread.quit()
        if self._thread.wait(int(timeout_s * 1000)):
            return True
        names = ", ".join(worker.job_name for worker in self.running_workers())
        logger.warning(
            "The engine thread did not end within %.1f s (still running: %s)",
            timeout_s,
            names or "unknown",
        )
        _UNFINISHED_THREADS.append(self._thread)
        return False


# Engine threads that did not end at shutdown; kept referenced so none is destroyed
# while it runs.
_UNFINISHED_THREADS: list[QtCore.QThread] = []

_engine_thread: EngineThread | None = None


def engine_thread() -> EngineThread:
    """Return the application's engine thread, starting it on first use.

    It is parented to the ``QCoreApplication``; ``desktop.main_window`` shuts it down
    when the window closes.
    """
    global _engine_thread
    if _engine_thread is None or not _is_alive(_engine_thread):
        _engine_thread = EngineThread(QtCore.QCoreApplication.instance())
    return _engine_thread


def shutdown_engine_thread(timeout_s: float) -> bool:
    """Stop the engine thread if it was started; see ``EngineThread.shutdown``."""
    global _engine_thread
    if _engine_thread is None or not _is_alive(_engine_thread):
        return True
    ended = _engine_thread.shutdown(timeout_s)
    _engine_thread = None
    return ended


def start_worker(worker: Worker, owner: QtCore.QObject | None = None) -> QtCore.QThread:
    """Run ``worker`` on the engine thread and return that thread.

    Args:
        worker: the job; connect its signals to slots of GUI objects before calling.
        owner: an object whose destruction should stop the job, such as a tab.
    """
    if owner is not None:
        stop_event = worker.stop_event
        owner.destroyed.connect(lambda: stop_event.set())
    return engine_thread().submit(worker)


def _is_alive(thread: EngineThread) -> bool:
    import shiboken6

    return shiboken6.isValid(thread) and thread.is_running()


@dataclass(frozen=True)
class TrainProgress:
    """A training run's progress report, sent about ten times a second.

    Attributes:
        new_losses: the loss of every batch since the previous report, in order.
        batch: the engine's latest ``BatchProgress``.
    """

    new_losses: list[float]
    batch: Any


@dataclass(frozen=True)
class TrainOutcome:
    """A training run's result and the test set it was measured on."""

    result: Any
    test_set: Any


class TrainWorker(Worker):
    """Loads the data, then trains with ``engine.train``.

    Also emits ``progress`` with ``engine.DownloadProgress`` while full MNIST downloads.

    Signals:
        epoch_finished(object): an ``engine.EpochProgress`` after every epoch (not
            throttled).
        data_loaded(object): the training ``engine.DigitDataset``, before batch 1.
    """

    epoch_finished = QtCore.Signal(object)
    data_loaded = QtCore.Signal(object)

    job_name = "Training"

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config
        self.pause_event = threading.Event()
        self._pending_losses: list[float] = []

    def work(self) -> TrainOutcome:
        train_set, test_set = load_train_and_test(
            self.config.data, self.stop_event, self._on_download
        )
        self.data_loaded.emit(train_set)
        logger.info("Training started: %s", self.config)
        result = engine.train(
            self.config,
            train_set=train_set,
            test_set=test_set,
            on_batch=self._on_batch,
            on_epoch=self._on_epoch,
            stop=self.stop_event,
        )
        if self._pending_losses:
            self.emit_progress(TrainProgress(self._take_losses(), None), force=True)
        logger.info(
            "Training %s after %.1f s, best accuracy %s",
            result.status,
            result.elapsed_s,
            result.best_accuracy,
        )
        return TrainOutcome(result=result, test_set=test_set)

    def was_stopped(self, result: Any) -> bool:
        if result is None:
            return True
        return result.result.status == "stopped"

    def _on_download(self, report: Any) -> None:
        self.emit_progress(report)

    def _on_batch(self, batch: Any) -> None:
        self._pending_losses.append(batch.loss)
        if self.emit_progress(TrainProgress(self._pending_losses, batch)):
            self._pending_losses = []
        self.run_waiting_jobs()
        self._wait_while_paused()

    def _on_epoch(self, epoch: Any) -> None:
        self.epoch_finished.emit(epoch)

    def _take_losses(self) -> list[float]:
        losses, self._pending_losses = self._pending_losses, []
        return losses

    def _wait_while_paused(self) -> None:
        # The pause is kept here, not in the engine, so that short jobs such as reading
        # a photo still run while training is paused.
        # NOTE: the engine's elapsed_s and images_per_second include the paused time.
        while self.pause_event.is_set() and not self.stop_event.is_set():
            self.run_waiting_jobs()
            time.sleep(PAUSE_POLL_S)


def load_train_and_test(
    source: str, stop: threading.Event, on_download: Any
) -> tuple[Any, Any]:
    """Load both splits of ``source``; full MNIST is downloaded first if needed."""
    if source == "mnist":
        engine.fetch_mnist(on_progress=on_download, stop=stop)
    train_set = engine.load_dataset(source, "train")
    test_set = engine.load_dataset(source, "test")
    logger.info(
        "Loaded %s (%d images) and %s (%d images)",
        train_set.name,
        len(train_set),
        test_set.name,
        len(test_set),
    )
    return train_set, test_set


class EvaluateWorker(Worker):
    """Evaluates a model on a data set with ``engine.evaluate``.

    ``progress`` carries ``(done, total)`` image counts.
    """

    job_name = "Evaluation"

    def __init__(self, model: Any, dataset: Any) -> None:
        super().__init__()
        self.model = model
        self.dataset = dataset

    def work(self) -> Any:
        return engine.evaluate(
            self.model,
            self.dataset,
            on_progress=self._on_progress,
            stop=self.stop_event,
        )

    def _on_progress(self, done: int, total: int) -> None:
        self.emit_progress((done, total), force=done == total)


class LoadWeightsWorker(Worker):
    """Loads a weights file with ``engine.load_weights`` (None: the shipped weights)."""

    job_name = "Loading weights"
    interleavable = True

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self.path = path

    def work(self) -> Any:
        loaded = engine.load_weights(self.path)
        logger.info("Loaded weights from %s", loaded.path)
        return loaded


class SaveWeightsWorker(Worker):
    """Saves a model with ``engine.save_weights``; the result is the path written."""

    job_name = "Saving weights"
    interleavable = True

    def __init__(self, path: Path, model: Any, metadata: dict) -> None:
        super().__init__()
        self.path = path
        self.model = model
        self.metadata = metadata

    def work(self) -> Path:
        written = engine.save_weights(self.path, self.model, self.metadata)
        logger.info("Saved weights to %s", written)
        return written


class DataLoadWorker(Worker):
    """Loads one split of a data set, downloading full MNIST first when it is asked for.

    ``progress`` carries ``engine.DownloadProgress`` while downloading.
    """

    job_name = "Loading data"

    def __init__(self, source: str, split: str) -> None:
        super().__init__()
        self.source = source
        self.split = split

    def work(self) -> Any:
        if self.source == "mnist":
            engine.fetch_mnist(on_progress=self.emit_progress, stop=self.stop_event)
        dataset = engine.load_dataset(self.source, self.split)
        logger.info("Loaded %s (%d images)", dataset.name, len(dataset))
        return dataset


class WarmUpWorker(Worker):
    """Runs ``engine.warm_up`` on the engine thread once after start-up.

    The first optimizer built in a process makes torch import ``torch._dynamo``, which
    took about 2.4 s on a 2-core machine and stalled the event loop by up to 240 ms.
    Doing it before the user presses Start moves that wait out of the training run.
    """

    job_name = "Warming up torch"

    def work(self) -> None:
        engine.warm_up()
