"""The one place that reports a failure to the user: it logs, then shows a dialog."""

import logging

from PySide6 import QtWidgets

logger = logging.getLogger(__name__)

# False while the app runs unattended (``--screenshot``): messages are then only logged.
_interactive = True


def set_interactive(interactive: bool) -> None:
    """Choose whether ``show_error`` opens dialogs (True) or only logs (False)."""
    global _interactive
    _interactive = interactive


def show_error(
    parent: QtWidgets.QWidget | None, title: str, text: str, details: str = ""
) -> None:
    """Log an abandoned operation at ``error`` and show it in a modal message box.

    Call it as ``messages.show_error(...)`` so that tests can replace it with a fake
    that records the text.

    Args:
        parent: the window the dialog belongs to.
        title: what failed, such as "Could not load weights".
        text: what happened in plain words, naming the file, and what to do next.
        details: the exception text, shown behind the dialog's "Show Details" button.
    """
    if details:
        logger.error("%s: %s (%s)", title, text, details)
    else:
        logger.error("%s: %s", title, text)
    if not _interactive:
        return
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(text)
    if details:
        box.setDetailedText(details)
    box.exec()


def show_status(
    parent: QtWidgets.QWidget | None, text: str, timeout_ms: int = 5000
) -> None:
    """Show a harmless outcome, such as "No digits found", in the status bar."""
    window = parent.window() if parent is not None else None
    if isinstance(window, QtWidgets.QMainWindow):
        window.statusBar().showMessage(text, timeout_ms)
    logger.info("%s", text)
