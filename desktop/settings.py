"""Reading ``QSettings`` values defensively: a bad value falls back to its default."""

import logging
from typing import Any

from PySide6 import QtCore

logger = logging.getLogger(__name__)


def open_settings() -> QtCore.QSettings:
    """Open the user's settings, warning in the log when the file cannot be read."""
    settings = QtCore.QSettings()
    if settings.status() != QtCore.QSettings.Status.NoError:
        logger.warning(
            "Settings file %s could not be read (%s); using the defaults",
            settings.fileName(),
            settings.status().name,
        )
    return settings


def read_value(settings: QtCore.QSettings, key: str, default: Any) -> Any:
    """Return the setting ``key`` as the type of ``default``, or ``default``.

    A value that is missing returns the default quietly. A value that cannot be
    converted, such as "abc" for a number, returns the default with a warning.
    """
    if not settings.contains(key):
        return default
    raw = settings.value(key)
    try:
        return _convert(raw, type(default))
    except (TypeError, ValueError):
        logger.warning(
            "Setting %s has the invalid value %r; using the default %r",
            key,
            raw,
            default,
        )
        return default


def _convert(raw: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValueError(raw)
    if kind is QtCore.QByteArray:
        if isinstance(raw, QtCore.QByteArray):
            return raw
        raise TypeError(raw)
    if kind in (int, float, str):
        if isinstance(raw, list | tuple | dict):
            raise TypeError(raw)
        return kind(raw)
    return raw
