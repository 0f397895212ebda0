"""Workers: the three ways a job ends, and short jobs run between training batches."""

import threading

import pytest
from PySide6 import QtCore

import engine
from desktop import workers

pytestmark = pytest.mark.gui

TIMEOUT_MS = 10_000


class EchoWorker(workers.Worker):
    job_name = "Echo"

    def __init__(self, work) -> None:
        super().__init__()
        self._work = work

    def work(self):
        return self._work(self)


class Recorder(QtCore.QObject):
    """Lives on the GUI thread and records, in order, how a worker ended.

    Tests wait for its ``done`` signal, not for the worker's own signals: pytest-qt
    connects a plain function, which Qt calls on the emitting (engine) thread, before
    the queued slots here have run.
    """

    done = QtCore.Signal()

    def __init__(self, worker: workers.Worker) -> None:
        super().__init__()
        self.events: list[tuple] = []
        worker.finished.connect(self._on_worker_finished)
        worker.stopped.connect(self._on_worker_stopped)
        worker.failed.connect(self._on_worker_failed)
        worker.ended.connect(self._on_worker_ended)

    @QtCore.Slot(object)
    def _on_worker_finished(self, result) -> None:
        self.events.append(("finished", result))

    @QtCore.Slot(object)
    def _on_worker_stopped(self, result) -> None:
        self.events.append(("stopped", result))

    @QtCore.Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        self.events.append(("failed", message))

    @QtCore.Slot()
    def _on_worker_ended(self) -> None:
        self.events.append(("ended",))
        self.done.emit()


def run_and_record(qtbot, worker: workers.Worker, during=None) -> list[tuple]:
    recorder = Recorder(worker)
    with qtbot.waitSignal(recorder.done, timeout=TIMEOUT_MS):
        workers.start_worker(worker)
        if during is not None:
            during()
    return recorder.events


def test_worker_finished(qtbot):
    worker = EchoWorker(lambda job: threading.current_thread().name)
    events = run_and_record(qtbot, worker)
    assert [event[0] for event in events] == ["finished", "ended"]
    assert events[0][1] != threading.current_thread().name


def test_worker_stopped_on_request(qtbot):
    started = threading.Event()

    def wait_for_stop(job):
        started.set()
        job.stop_event.wait(5)
        return "partial"

    def stop_when_started():
        assert started.wait(5)
        worker.stop()

    worker = EchoWorker(wait_for_stop)
    events = run_and_record(qtbot, worker, stop_when_started)
    assert events == [("stopped", "partial"), ("ended",)]


def test_worker_failed_message(qtbot):
    def fail(job):
        raise engine.WeightsError("Weights file not found: x.safetensors.")

    worker = EchoWorker(fail)
    events = run_and_record(qtbot, worker)
    assert events == [("failed", "Weights file not found: x.safetensors."), ("ended",)]
    assert isinstance(worker.error, engine.WeightsError)


def test_worker_unexpected_error_message(qtbot):
    worker = EchoWorker(lambda job: 1 / 0)
    events = run_and_record(qtbot, worker)
    assert events == [("failed", "ZeroDivisionError: division by zero"), ("ended",)]


def test_short_job_runs_between_batches(qtbot):
    # A long job that yields to waiting short jobs, like training between two batches.
    release = threading.Event()
    ran_during: list[bool] = []

    def long_job(job):
        while not release.is_set():
            job.run_waiting_jobs()
            release.wait(0.01)
        return "long"

    def short_job(job):
        ran_during.append(not release.is_set())
        release.set()
        return "short"

    long_worker = EchoWorker(long_job)
    short_worker = EchoWorker(short_job)
    short_worker.interleavable = True
    long_recorder = Recorder(long_worker)
    with qtbot.waitSignal(long_recorder.done, timeout=TIMEOUT_MS):
        workers.start_worker(long_worker)
        workers.start_worker(short_worker)
    assert ran_during == [True]
    assert long_recorder.events == [("finished", "long"), ("ended",)]


def test_available_threads_in_range():
    threads = workers.available_cpu_threads()
    assert 1 <= threads <= workers.cpu_core_count()
