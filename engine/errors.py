"""Exceptions the engine raises.

Every message names the value that was wrong and says what to do, so the command line and
the desktop app can show it to a user as it is.
"""


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class ConfigError(EngineError, ValueError):
    """A setting such as a learning rate or a batch size is invalid."""


class DataError(EngineError):
    """A data set file or folder is missing, truncated or inconsistent."""


class DownloadError(DataError):
    """A download failed on every mirror, or its content did not match the expected hash."""


class WeightsError(EngineError):
    """A weights file is missing, corrupt, or made for another architecture."""


class ImageError(EngineError):
    """A photo could not be decoded or is too large to decode safely."""


class TrainingError(EngineError):
    """Training was abandoned, for example because the loss became NaN or infinite."""
