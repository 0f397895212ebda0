"""Start the desktop app: logging, Qt message forwarding, crash hook and window."""

import argparse
import logging
import logging.handlers
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from PySide6 import QtCore, QtGui, QtWidgets

import engine

logger = logging.getLogger(__name__)

APPLICATION_NAME = "Digit Lab"
ORGANIZATION_NAME = "DigitLab"
LOG_FILE_NAME = "digitlab.log"
LOG_FILE_MAX_BYTES = 1_000_000
LOG_FILE_BACKUPS = 3
LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"

# The GIL switch interval while the app runs. At CPython's default of 5 ms, a GUI thread
# that calls into Qt many times per repaint waits up to 5 ms for the GIL after each call
# while the engine thread trains. With 0.5 ms, the longest event-loop stall during a
# training run fell from about 160 ms to about 85 ms (2-core machine, bench_gui.py).
GIL_SWITCH_INTERVAL_S = 0.0005

# How long --screenshot waits for the shipped model to load and be evaluated.
SCREENSHOT_STARTUP_TIMEOUT_S = 60.0
# Extra time after start-up so that layouts and plots settle before the grab.
SCREENSHOT_SETTLE_MS = 300

_QT_LEVELS = {
    QtCore.QtMsgType.QtDebugMsg: logging.DEBUG,
    QtCore.QtMsgType.QtInfoMsg: logging.INFO,
    QtCore.QtMsgType.QtWarningMsg: logging.WARNING,
    QtCore.QtMsgType.QtCriticalMsg: logging.ERROR,
    QtCore.QtMsgType.QtFatalMsg: logging.CRITICAL,
}

_qt_logger = logging.getLogger("qt")
_log_file: Path | None = None
_crash_dialog_open = False


def log_folder() -> Path:
    """Return the user log folder, ``~/.local/state/DigitLab/Digit Lab`` on Linux."""
    location = QtCore.QStandardPaths.StandardLocation.StateLocation
    return Path(QtCore.QStandardPaths.writableLocation(location))


def configure_logging(verbosity: int = 0) -> Path | None:
    """Log to stderr and to a rotating file in ``log_folder()``.

    Args:
        verbosity: 0 logs warnings to stderr, 1 info, 2 debug. The file gets info
            and above.

    Returns:
        The log file, or None when the folder could not be created; the app then logs
        to stderr only.
    """
    global _log_file
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
    # `digitlab gui` arrives with the command line's stderr handler installed; it is
    # replaced so that each message is printed once, at this function's levels.
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
    stderr_handler = logging.StreamHandler(sys.stderr)
    stderr_levels = {0: logging.WARNING, 1: logging.INFO}
    stderr_handler.setLevel(stderr_levels.get(verbosity, logging.DEBUG))
    stderr_handler.setFormatter(
        logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(stderr_handler)

    folder = log_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE_NAME,
            maxBytes=LOG_FILE_MAX_BYTES,
            backupCount=LOG_FILE_BACKUPS,
            encoding="utf-8",
        )
    except OSError as error:
        logger.warning(
            "Cannot write a log file in %s (%s); logging to stderr only", folder, error
        )
        _log_file = None
        return None
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(file_handler)
    _log_file = folder / LOG_FILE_NAME
    return _log_file


def forward_qt_message(
    message_type: QtCore.QtMsgType, context: QtCore.QMessageLogContext, message: str
) -> None:
    """Log a Qt warning or debug message through ``logging``, under the "qt" logger."""
    level = _QT_LEVELS.get(message_type, logging.WARNING)
    if context.category and context.category != "default":
        _qt_logger.log(level, "%s: %s", context.category, message)
    else:
        _qt_logger.log(level, "%s", message)


def handle_uncaught_exception(
    exception_type: type[BaseException],
    exception: BaseException,
    trace: TracebackType | None,
) -> None:
    """Log an unexpected exception as critical and tell the user where the log is.

    The window stays open, so no work is lost. While one such dialog is open, later
    exceptions are only logged, so a failing repaint cannot stack up dialogs.
    """
    global _crash_dialog_open
    if issubclass(exception_type, KeyboardInterrupt):
        sys.__excepthook__(exception_type, exception, trace)
        return
    logger.critical("Unexpected error", exc_info=(exception_type, exception, trace))
    if _crash_dialog_open or QtWidgets.QApplication.instance() is None:
        return
    if QtCore.QThread.currentThread() is not QtWidgets.QApplication.instance().thread():
        return
    _crash_dialog_open = True
    try:
        _show_crash_dialog(exception_type, exception, trace)
    finally:
        _crash_dialog_open = False


def _show_crash_dialog(
    exception_type: type[BaseException],
    exception: BaseException,
    trace: TracebackType | None,
) -> None:
    where = str(_log_file) if _log_file is not None else "the terminal (standard error)"
    box = QtWidgets.QMessageBox(QtWidgets.QApplication.activeWindow())
    box.setIcon(QtWidgets.QMessageBox.Icon.Critical)
    box.setWindowTitle(QtCore.QCoreApplication.translate("app", "Unexpected error"))
    box.setText(
        QtCore.QCoreApplication.translate(
            "app",
            "Digit Lab hit an unexpected error: {error}\n\n"
            "Your work is still open. The full report was written to {where}; "
            "please include it when you report the problem.",
        ).format(error=exception, where=where)
    )
    box.setDetailedText(
        "".join(traceback.format_exception(exception_type, exception, trace))
    )
    box.exec()


APP_ICON = Path(__file__).resolve().parent.parent / "resources" / "icons" / "digitlab.png"


def create_application(argv: Sequence[str]) -> QtWidgets.QApplication:
    """Create the ``QApplication`` with its names and high-DPI policy."""
    existing = QtWidgets.QApplication.instance()
    if isinstance(existing, QtWidgets.QApplication):
        return existing
    # Fractional scale factors (125 %, 150 %) are used as they are, not rounded, so text
    # and plots stay sharp and keep their size on high-DPI screens.
    QtGui.QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        QtCore.Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QtWidgets.QApplication(list(argv))
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app.setApplicationName(APPLICATION_NAME)
    app.setOrganizationName(ORGANIZATION_NAME)
    app.setApplicationVersion(engine.__version__)
    app.setApplicationDisplayName(APPLICATION_NAME)
    # Matches installer/linux/digitlab.desktop, so Linux desktops group the window
    # under the launcher's icon.
    app.setDesktopFileName("digitlab")
    if APP_ICON.is_file():
        app.setWindowIcon(QtGui.QIcon(str(APP_ICON)))
    return app


def build_parser() -> argparse.ArgumentParser:
    """Build the parser of ``digitlab-gui``; ``digitlab gui`` takes the same options."""
    from desktop.main_window import TAB_NAMES

    parser = argparse.ArgumentParser(
        prog="digitlab-gui",
        description="Open the Digit Lab window.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "photos", nargs="*", metavar="PHOTO", help="photos to read on start"
    )
    parser.add_argument(
        "--screenshot",
        metavar="FILE",
        help="save the window as a PNG after start-up and exit",
    )
    parser.add_argument("--tab", choices=TAB_NAMES, help="tab to show first")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log more detail (-vv for debug)",
    )
    return parser


def run_gui(
    photos: Sequence[str] = (),
    *,
    screenshot: str | None = None,
    tab: str | None = None,
    verbosity: int = 0,
) -> int:
    """Open the main window and run the event loop until it closes.

    Args:
        photos: photos to open in the Photo reading tab on start.
        screenshot: when given, save the window to this PNG once start-up is done
            (the shipped model loaded and evaluated), then exit.
        tab: name of the tab to show first, one of ``desktop.main_window.TAB_NAMES``.
        verbosity: 0 warnings, 1 info, 2 debug on stderr.

    Returns:
        The exit status: 0 on success, 1 when the screenshot could not be saved.
    """
    app = create_application(sys.argv[:1])
    log_file = configure_logging(verbosity)
    QtCore.qInstallMessageHandler(forward_qt_message)
    sys.excepthook = handle_uncaught_exception
    logger.info(
        "Digit Lab %s starting (Qt %s, PySide6 %s); log file %s",
        engine.__version__,
        QtCore.qVersion(),
        _pyside_version(),
        log_file,
    )

    from desktop import messages
    from desktop.main_window import SHUTDOWN_TIMEOUT_S, MainWindow
    from desktop.workers import shutdown_engine_thread

    if screenshot:
        # A modal dialog would wait for a click that never comes.
        messages.set_interactive(False)
    try:
        # A screenshot shows the defaults, not this user's remembered settings, so that
        # the README's images can be remade anywhere; nothing is written back either.
        settings = _scratch_settings() if screenshot else None
        window = MainWindow(settings)
        if tab:
            window.show_tab(tab)
        window.show()
        if photos:
            window.open_photos(list(photos))
        if screenshot:
            return _save_screenshot(app, window, Path(screenshot))
        return app.exec()
    finally:
        # The window stops the engine thread when it closes; this also covers an
        # exception during start-up, which would otherwise leave the thread running.
        shutdown_engine_thread(SHUTDOWN_TIMEOUT_S)


def _save_screenshot(
    app: QtWidgets.QApplication, window: QtWidgets.QWidget, path: Path
) -> int:
    window.wait_until_idle(SCREENSHOT_STARTUP_TIMEOUT_S)
    QtCore.QTimer.singleShot(SCREENSHOT_SETTLE_MS, app.quit)
    app.exec()
    saved = window.grab().save(str(path), "PNG")
    window.close()
    if not saved:
        logger.error("Could not write the screenshot to %s", path)
        print(
            f"digitlab gui: error: could not write the screenshot to {path}",
            file=sys.stderr,
        )
        return 1
    logger.info("Saved a screenshot to %s", path)
    return 0


def _scratch_settings() -> QtCore.QSettings:
    folder = Path(tempfile.mkdtemp(prefix="digitlab-screenshot-"))
    return QtCore.QSettings(
        str(folder / "settings.ini"), QtCore.QSettings.Format.IniFormat
    )


def _pyside_version() -> str:
    import PySide6

    return PySide6.__version__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``digitlab-gui`` and ``python -m desktop``."""
    args = build_parser().parse_args(argv)
    return run_gui(
        args.photos, screenshot=args.screenshot, tab=args.tab, verbosity=args.verbose
    )
