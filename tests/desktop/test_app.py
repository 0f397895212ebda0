"""App start-up: logging to a file, the crash hook, and `digitlab gui --screenshot`."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import desktop.app

pytestmark = pytest.mark.gui

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def restored_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_logging_writes_log_file(user_folders, restored_root_logger):
    log_file = desktop.app.configure_logging()
    assert log_file == user_folders["logs"] / desktop.app.LOG_FILE_NAME
    logging.getLogger("desktop.test").info("Loaded weights from %s", "x.safetensors")
    for handler in restored_root_logger.handlers:
        handler.flush()
    assert "Loaded weights from x.safetensors" in log_file.read_text(encoding="utf-8")


def test_logging_without_log_folder(
    monkeypatch, tmp_path, restored_root_logger, caplog
):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(desktop.app, "log_folder", lambda: blocker / "logs")
    with caplog.at_level(logging.WARNING):
        assert desktop.app.configure_logging() is None
    assert "logging to stderr only" in caplog.text


def test_excepthook_logs_critical(monkeypatch, caplog):
    shown = []
    monkeypatch.setattr(
        desktop.app, "_show_crash_dialog", lambda *args: shown.append(args)
    )
    error = ValueError("bad value 3")
    with caplog.at_level(logging.CRITICAL):
        desktop.app.handle_uncaught_exception(ValueError, error, None)
    assert [record.levelname for record in caplog.records] == ["CRITICAL"]
    assert caplog.records[0].exc_info[1] is error
    assert len(shown) == 1


def test_gui_screenshot_command(tmp_path):
    shot = tmp_path / "shot.png"
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    command = [sys.executable, "-m", "engine", "gui", "--screenshot", str(shot)]
    completed = subprocess.run(
        [*command, "--tab", "confusion"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "QThread: Destroyed while thread is still running" not in completed.stderr
