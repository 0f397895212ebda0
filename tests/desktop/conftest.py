"""Desktop test set-up: settings and logs inside tmp_path, windows built and closed.

It lives here, not in tests/conftest.py, so that tests/engine never imports Qt.
"""

from collections.abc import Callable, Iterator

import pytest
from PySide6 import QtCore

import desktop.app
from desktop import messages, workers

# Long enough for the shipped model and the embedded test set on a busy 2-core machine.
STARTUP_TIMEOUT_MS = 30_000


@pytest.fixture(autouse=True)
def user_folders(qapp, tmp_path, monkeypatch) -> Iterator[dict]:
    """Point QSettings and the log folder at tmp_path; stop the engine thread after."""
    # QSettings reports AccessError for the default "Unknown Organization".
    qapp.setOrganizationName(desktop.app.ORGANIZATION_NAME)
    qapp.setApplicationName(desktop.app.APPLICATION_NAME)
    QtCore.QSettings.setDefaultFormat(QtCore.QSettings.Format.IniFormat)
    QtCore.QSettings.setPath(
        QtCore.QSettings.Format.IniFormat,
        QtCore.QSettings.Scope.UserScope,
        str(tmp_path / "settings"),
    )
    monkeypatch.setattr(desktop.app, "log_folder", lambda: tmp_path / "logs")
    yield {"settings": tmp_path / "settings", "logs": tmp_path / "logs"}
    assert workers.shutdown_engine_thread(5.0), "the engine thread did not end"


@pytest.fixture
def shown_errors(monkeypatch) -> list[tuple[str, str, str]]:
    """Record (title, text, details) of every error dialog instead of showing it."""
    shown: list[tuple[str, str, str]] = []

    def record(parent, title: str, text: str, details: str = "") -> None:
        shown.append((title, text, details))

    monkeypatch.setattr(messages, "show_error", record)
    return shown


@pytest.fixture
def settings(user_folders) -> QtCore.QSettings:
    """Settings in the test's own folder, with the app's names."""
    return QtCore.QSettings()


@pytest.fixture
def make_main_window(qtbot, shown_errors) -> Callable:
    """Build main windows; each is registered with qtbot and closed after the test."""
    from desktop.main_window import MainWindow

    def make(*, wait_startup: bool = True, **kwargs) -> MainWindow:
        window = MainWindow(**kwargs)
        qtbot.addWidget(window)
        if wait_startup and kwargs.get("load_startup", True):
            qtbot.waitUntil(lambda: not window.is_busy(), timeout=STARTUP_TIMEOUT_MS)
        return window

    return make
