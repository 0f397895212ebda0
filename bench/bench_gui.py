"""Measure the desktop app's responsiveness and its training speed against the engine.

Two numbers, printed as a Markdown section (and written to --output when given):

* the longest stall of the event loop, measured by a 10 ms QTimer heartbeat, while the
  app trains and while it reads a photo;
* training speed (images per second) in the app divided by the speed of the same run
  in a plain engine loop, started in a fresh process so that neither run inherits the
  other's torch threads.

Run from the repository root:

    python bench/bench_gui.py --max-batches 150 --threads 1 --rounds 3
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
HEARTBEAT_INTERVAL_MS = 10
STALL_LIMIT_MS = 100
SPEED_RATIO_LIMIT = 0.9
RUN_TIMEOUT_S = 600


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--data", default="sample", help="training data source")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per run")
    parser.add_argument("--batch-size", type=int, default=64, help="images per batch")
    parser.add_argument(
        "--max-batches", type=int, default=150, help="batches per epoch"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--rounds", type=int, default=3, help="headless and in-app runs, alternated"
    )
    parser.add_argument(
        "--photo", type=Path, help="photo to read (default: a drawn page)"
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="Markdown file to write as well"
    )
    parser.add_argument("--headless-json", action="store_true", help=argparse.SUPPRESS)
    return parser


def train_config(args: argparse.Namespace):
    import engine

    return engine.TrainConfig(
        data=args.data,
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_batches=args.max_batches,
        num_threads=args.threads,
        augment=True,
        seed=0,
    )


def run_headless(args: argparse.Namespace) -> dict:
    """Train in the plain engine loop on the main thread; return the speed as JSON."""
    import engine

    config = train_config(args)
    train_set = engine.load_dataset(config.data, "train")
    test_set = engine.load_dataset(config.data, "test")
    batches = []
    engine.train(
        config, train_set=train_set, test_set=test_set, on_batch=batches.append
    )
    return {"images_per_second": batches[-1].images_per_second, "batches": len(batches)}


def measure_headless(args: argparse.Namespace) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--headless-json"]
    command += _run_arguments(args)
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=True,
        cwd=REPO_ROOT,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _run_arguments(args: argparse.Namespace) -> list[str]:
    return [
        "--data",
        args.data,
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
        "--max-batches",
        str(args.max_batches),
        "--threads",
        str(args.threads),
    ]


def draw_test_page(folder: Path) -> Path:
    """Draw a page of handwriting-like digits with OpenCV, for a run without photos."""
    import cv2
    import numpy as np

    page = np.full((900, 1200, 3), 235, dtype=np.uint8)
    for line, text in enumerate(("3141592653", "2718281828", "1618033988")):
        cv2.putText(
            page,
            text,
            (60, 220 + 250 * line),
            cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
            5,
            (30, 30, 30),
            12,
            cv2.LINE_AA,
        )
    path = folder / "page.png"
    cv2.imwrite(str(path), page)
    return path


class Heartbeat:
    """A 10 ms QTimer whose longest gap between two ticks shows the worst stall."""

    def __init__(self) -> None:
        from PySide6 import QtCore

        self._timer = QtCore.QTimer()
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(HEARTBEAT_INTERVAL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._last_s = 0.0
        self.max_gap_s = 0.0
        self.ticks = 0

    def start(self) -> None:
        self.max_gap_s = 0.0
        self.ticks = 0
        self._last_s = time.perf_counter()
        self._timer.start()

    def stop(self) -> float:
        """Stop and return the longest stall in ms beyond the timer interval."""
        self._timer.stop()
        return max(0.0, 1000 * self.max_gap_s - HEARTBEAT_INTERVAL_MS)

    def _on_timer_timeout(self) -> None:
        now_s = time.perf_counter()
        self.max_gap_s = max(self.max_gap_s, now_s - self._last_s)
        self._last_s = now_s
        self.ticks += 1


def open_window():
    """Open the real main window offscreen and wait for its start-up jobs."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore

    from desktop import app as desktop_app
    from desktop import messages
    from desktop.main_window import MainWindow

    qt_app = desktop_app.create_application([sys.argv[0]])
    messages.set_interactive(False)
    settings_file = Path(tempfile.mkdtemp()) / "bench.ini"
    window = MainWindow(
        QtCore.QSettings(str(settings_file), QtCore.QSettings.Format.IniFormat)
    )
    window.resize(1280, 820)
    window.show()
    window.wait_until_idle(120)
    return qt_app, window


def train_in_app(
    window, args: argparse.Namespace, heartbeat: Heartbeat
) -> tuple[float, float]:
    """Train once from the Training tab; return (images/s, longest stall in ms)."""
    from PySide6 import QtCore

    tab = window.training_tab
    window.show_tab("training")
    loop = QtCore.QEventLoop()
    tab.training_ended.connect(loop.quit)
    heartbeat.start()
    tab.start(train_config(args))
    loop.exec()
    stall_ms = heartbeat.stop()
    tab.training_ended.disconnect(loop.quit)
    return tab.last_batch.images_per_second, stall_ms


def read_in_app(
    qt_app, window, photo: Path, heartbeat: Heartbeat
) -> tuple[float, float]:
    """Read one photo in the Photo reading tab; return (longest stall ms, seconds)."""
    from PySide6 import QtCore

    heartbeat.start()
    started_s = time.perf_counter()
    window.open_photos([str(photo)])
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while (
        window.photo_tab.is_busy() or heartbeat.ticks < 5
    ) and time.monotonic() < deadline:
        qt_app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
    return heartbeat.stop(), time.perf_counter() - started_s


def measure(args: argparse.Namespace, photo: Path) -> dict:
    """Alternate headless and in-app runs, so both see the same background load."""
    qt_app, window = open_window()
    heartbeat = Heartbeat()
    results: dict[str, list[float]] = {
        "headless": [],
        "app": [],
        "training_stall_ms": [],
    }
    for _ in range(args.rounds):
        results["headless"].append(measure_headless(args)["images_per_second"])
        speed, stall_ms = train_in_app(window, args, heartbeat)
        results["app"].append(speed)
        results["training_stall_ms"].append(stall_ms)
    reading_stall_ms, reading_s = read_in_app(qt_app, window, photo, heartbeat)
    window.close()
    return {
        "headless": results["headless"],
        "app": results["app"],
        "training_stall_ms": max(results["training_stall_ms"]),
        "reading_stall_ms": reading_stall_ms,
        "reading_s": reading_s,
    }


def machine_description() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count()
    )
    return f"{model}, {cores} cores available, {platform.system()} {platform.release()}"


def write_report(args: argparse.Namespace, measured: dict, photo_name: str) -> str:
    import statistics

    import PySide6
    import torch

    headless = statistics.median(measured["headless"])
    in_app = statistics.median(measured["app"])
    ratio = in_app / headless
    command = "python bench/bench_gui.py " + " ".join(_run_arguments(args))
    command += f" --rounds {args.rounds}"
    if args.photo:
        command += f" --photo {args.photo.name}"
    runs = lambda values: ", ".join(f"{value:,.0f}" for value in values)  # noqa: E731
    verdict = lambda ok: "yes" if ok else "NO"  # noqa: E731

    def stall_row(activity: str, stall_ms: float) -> str:
        met = verdict(stall_ms < STALL_LIMIT_MS)
        return (
            f"| longest event-loop stall while {activity} | {stall_ms:.0f} ms "
            f"| under {STALL_LIMIT_MS} ms | {met} |"
        )

    lines = [
        "# Desktop app benchmarks",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine_description()}, "
        f"torch {torch.__version__}, PySide6 {PySide6.__version__}, "
        f"Qt platform {os.environ.get('QT_QPA_PLATFORM', 'default')}.",
        "",
        "Command, from the repository root:",
        "",
        "```",
        command,
        "```",
        "",
        f"Training: {args.data} data, {args.epochs} epoch(s) of {args.max_batches} "
        f"batches of {args.batch_size}, augmentation on, {args.threads} torch "
        f"thread(s). Photo read: {photo_name}, in {measured['reading_s']:.1f} s.",
        "",
        "| measure | value | target | met |",
        "| --- | --- | --- | --- |",
        stall_row("training", measured["training_stall_ms"]),
        stall_row("reading a photo", measured["reading_stall_ms"]),
        f"| training speed, headless engine (median; runs "
        f"{runs(measured['headless'])}) | {headless:,.0f} images/s | | |",
        f"| training speed, in the app (median; runs {runs(measured['app'])}) "
        f"| {in_app:,.0f} images/s | | |",
        f"| app / headless speed | {ratio:.2f} | at least {SPEED_RATIO_LIMIT} "
        f"| {verdict(ratio >= SPEED_RATIO_LIMIT)} |",
        "",
        "The stall is the longest gap between two ticks of a 10 ms `QTimer` on the "
        "GUI thread, minus the 10 ms interval. The headless run is the same "
        "configuration in a fresh process, calling `engine.train` on its main thread. "
        "Headless and in-app runs alternate so that both see the same background "
        "load. Other programs running on the machine at the same time lower both "
        "speeds and raise the stalls.",
        "",
    ]
    text = "\n".join(lines)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return text


def main() -> int:
    args = build_parser().parse_args()
    if args.headless_json:
        print(json.dumps(run_headless(args)))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        photo = args.photo or draw_test_page(Path(folder))
        measured = measure(args, photo)
        photo_name = args.photo.name if args.photo else "a drawn page of 30 digits"
        print(write_report(args, measured, photo_name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
