"""Download of the four MNIST archives into the user cache folder.

Each archive is streamed into ``<name>.part`` next to its final place, its SHA-256 is
checked against the canonical hash, and only then is it renamed into place with
``os.replace``. A file under its final name is therefore always complete, and an
interrupted download leaves at most a ``.part`` file, which the next run overwrites.
Only the standard library speaks HTTP here, so the engine needs no extra package.
"""

import hashlib
import http.client
import logging
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from engine.errors import ConfigError, DownloadError

logger = logging.getLogger(__name__)

# SHA-256 of the gzip archives that the usual MNIST mirrors serve, in download order.
# The archives are 9,912,422, 28,881, 1,648,877 and 4,542 bytes long.
MNIST_SHA256: Mapping[str, str] = MappingProxyType(
    {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
    }
)

# The S3 bucket that torchvision tries first, then Google's cvdf-datasets bucket.
DEFAULT_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

CACHE_DIR_ENV = "DIGITLAB_CACHE_DIR"
CHUNK_SIZE_BYTES = 64 * 1024
TIMEOUT_S = 30.0
BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
USER_AGENT = "digitlab"


@dataclass(frozen=True)
class DownloadProgress:
    """Progress of one file, reported after every chunk received.

    Attributes:
        file_name: name of the archive being downloaded, such as
            "train-images-idx3-ubyte.gz".
        received_bytes: bytes of this file received so far in the current attempt.
            It starts again at 0 when an attempt is retried.
        total_bytes: size the server announced, or None when it sent no length.
        file_index: position of this file in the download, starting at 0.
        file_count: number of files in the download.
    """

    file_name: str
    received_bytes: int
    total_bytes: int | None
    file_index: int = 0
    file_count: int = 1


class DownloadStopped(DownloadError):
    """The download was stopped because the caller set the stop event."""


class _AttemptFailed(Exception):
    """A failed attempt on one mirror, and whether a retry may succeed."""

    def __init__(self, reason: str, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


def mnist_cache_dir() -> Path:
    """Return the folder where ``fetch_mnist`` stores MNIST by default.

    The folder is ``mnist`` inside the Digit Lab cache folder, which is, in order of
    precedence: the ``DIGITLAB_CACHE_DIR`` environment variable; on Windows
    ``%LOCALAPPDATA%\\digitlab\\Cache``; on macOS ``~/Library/Caches/digitlab``;
    elsewhere ``$XDG_CACHE_HOME/digitlab``, or ``~/.cache/digitlab`` when
    ``XDG_CACHE_HOME`` is unset or not an absolute path. The folder is not created.
    """
    return _cache_root() / "mnist"


def _cache_root() -> Path:
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
        return base / "digitlab" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "digitlab"
    # The XDG base directory specification treats a relative path as invalid.
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "digitlab"


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file as lowercase hex, reading it in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_mnist(
    dest_dir: Path | str | None = None,
    *,
    mirrors: Sequence[str] = DEFAULT_MIRRORS,
    files: Mapping[str, str] = MNIST_SHA256,
    on_progress: Callable[[DownloadProgress], None] | None = None,
    stop: threading.Event | None = None,
    retries: int = 3,
    timeout_s: float = TIMEOUT_S,
    backoff_s: float = BACKOFF_S,
) -> Path:
    """Download the MNIST archives that are missing, checking each one's SHA-256.

    Files already in ``dest_dir`` with the expected hash are not downloaded again.
    A file with another hash is downloaded again and replaced. Each file is tried on
    every mirror in order. On one mirror, a failed connection, a timeout, a
    connection closed before the announced length or an HTTP 5xx, 408 or 429 status
    is retried after a delay of ``backoff_s``, doubled on each retry up to 30 s.
    Other HTTP errors and a hash mismatch move on to the next mirror at once.

    Args:
        dest_dir: folder for the archives; None means ``mnist_cache_dir()``. It is
            created when missing.
        mirrors: base URLs that serve the archives under their file names.
        files: file name to expected lowercase hex SHA-256, in download order.
        on_progress: called with a ``DownloadProgress`` after every chunk, from the
            calling thread.
        stop: when set, the download ends before the next chunk and raises
            ``DownloadStopped``.
        retries: extra attempts per file on each mirror after the first one fails.
        timeout_s: seconds to wait for a connection or for the next chunk.
        backoff_s: delay before the first retry, in seconds.

    Returns:
        The folder that contains all the files of ``files``.

    Raises:
        ConfigError: when ``mirrors`` or ``files`` is empty, or ``retries``,
            ``timeout_s`` or ``backoff_s`` is out of range.
        DownloadStopped: when ``stop`` was set. The partial file is removed.
        DownloadError: when a file failed on every mirror or cannot be written.
            The message names the file and each mirror's last error.
    """
    _check_arguments(mirrors, files, retries, timeout_s, backoff_s)
    dest = Path(dest_dir).expanduser() if dest_dir is not None else mnist_cache_dir()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(
            f"Cannot create the download folder {dest}: {error.strerror}. "
            "Choose a writable folder (digitlab data fetch --dest DIR)."
        ) from error

    for index, (name, expected_sha256) in enumerate(files.items()):
        _raise_if_stopped(stop, name)
        report = _progress_reporter(on_progress, name, index, len(files))
        target = dest / name
        if _is_complete(target, expected_sha256):
            logger.debug("Keeping %s, its SHA-256 matches", target)
            size = target.stat().st_size
            report(size, size)
            continue
        _download_file(
            name,
            expected_sha256,
            target,
            mirrors,
            report=report,
            stop=stop,
            retries=retries,
            timeout_s=timeout_s,
            backoff_s=backoff_s,
        )
    return dest


def _check_arguments(
    mirrors: Sequence[str],
    files: Mapping[str, str],
    retries: int,
    timeout_s: float,
    backoff_s: float,
) -> None:
    if isinstance(mirrors, str) or not mirrors:
        raise ConfigError(
            f"Invalid mirrors {mirrors!r}; pass a list of at least one base URL."
        )
    if not files:
        raise ConfigError("No files to download; pass at least one file name and hash.")
    if retries < 0:
        raise ConfigError(f"Invalid retries {retries}; pass 0 or more.")
    if timeout_s <= 0:
        raise ConfigError(f"Invalid timeout_s {timeout_s}; pass a positive number.")
    if backoff_s < 0:
        raise ConfigError(f"Invalid backoff_s {backoff_s}; pass 0 or more.")


def _progress_reporter(
    on_progress: Callable[[DownloadProgress], None] | None,
    name: str,
    index: int,
    count: int,
) -> Callable[[int, int | None], None]:
    def report(received: int, total: int | None) -> None:
        if on_progress is not None:
            on_progress(DownloadProgress(name, received, total, index, count))

    return report


def _is_complete(target: Path, expected_sha256: str) -> bool:
    if not target.is_file():
        return False
    if file_sha256(target) == expected_sha256:
        return True
    logger.warning(
        "%s does not have the expected SHA-256; downloading it again", target
    )
    return False


def _raise_if_stopped(stop: threading.Event | None, name: str) -> None:
    if stop is not None and stop.is_set():
        raise DownloadStopped(f"Download of {name} stopped on request.")


def _download_file(
    name: str,
    expected_sha256: str,
    target: Path,
    mirrors: Sequence[str],
    *,
    report: Callable[[int, int | None], None],
    stop: threading.Event | None,
    retries: int,
    timeout_s: float,
    backoff_s: float,
) -> None:
    part = target.with_name(target.name + ".part")
    failures: list[str] = []
    try:
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            reason = _try_mirror(
                url, part, expected_sha256, report, stop, retries, timeout_s, backoff_s
            )
            if reason is None:
                _move_into_place(part, target)
                logger.info("Downloaded %s from %s", target, url)
                return
            failures.append(f"{mirror}: {reason}")
    finally:
        # After os.replace the .part file is gone, so this only removes leftovers of
        # a failed or stopped download.
        part.unlink(missing_ok=True)

    logger.error("Download of %s failed on every mirror", name)
    raise DownloadError(
        f"Could not download {name} from any mirror ({'; '.join(failures)}). "
        "Check the network connection and the mirror addresses, then try again, "
        "pass another mirror "
        "(digitlab data fetch mnist --mirror URL), "
        f"or copy the file into {target.parent}."
    )


def _move_into_place(part: Path, target: Path) -> None:
    # os.replace is atomic on one file system, so readers see either the old file
    # or the complete new one.
    try:
        os.replace(part, target)
    except OSError as error:
        raise DownloadError(
            f"Cannot move the downloaded {part} to {target}: {error.strerror}. "
            f"Remove whatever is at {target} or choose another folder "
            "(digitlab data fetch --dest DIR)."
        ) from error


def _try_mirror(
    url: str,
    part: Path,
    expected_sha256: str,
    report: Callable[[int, int | None], None],
    stop: threading.Event | None,
    retries: int,
    timeout_s: float,
    backoff_s: float,
) -> str | None:
    """Return None when the file landed in ``part``, else the last failure's reason."""
    reason = "not tried"
    for attempt in range(retries + 1):
        if attempt > 0:
            delay_s = min(backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S)
            logger.info("Retrying %s in %.1f s", url, delay_s)
            # Event.wait returns early when the event is set, so a stop request
            # does not wait out the delay.
            if stop is not None:
                stop.wait(delay_s)
            else:
                time.sleep(delay_s)
            _raise_if_stopped(stop, part.name.removesuffix(".part"))
        try:
            _download_once(url, part, expected_sha256, report, stop, timeout_s)
        except _AttemptFailed as failure:
            reason = failure.reason
            logger.warning(
                "Attempt %d of %d for %s failed: %s",
                attempt + 1,
                retries + 1,
                url,
                reason,
            )
            if not failure.retryable:
                break
        else:
            return None
    return reason


def _download_once(
    url: str,
    part: Path,
    expected_sha256: str,
    report: Callable[[int, int | None], None],
    stop: threading.Event | None,
    timeout_s: float,
) -> None:
    name = part.name.removesuffix(".part")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as error:
        # A server error or a rate limit may pass, but a 404 will not.
        retryable = error.code >= 500 or error.code in (408, 429)
        raise _AttemptFailed(f"HTTP {error.code} {error.reason}", retryable) from None
    except (OSError, http.client.HTTPException) as error:
        # urllib.error.URLError, timeouts and refused connections are all OSError.
        raise _AttemptFailed(_describe(error), retryable=True) from None

    digest = hashlib.sha256()
    received = 0
    with response, _open_part(part) as stream:
        total = _content_length(response)
        report(received, total)
        while True:
            _raise_if_stopped(stop, name)
            try:
                chunk = response.read(CHUNK_SIZE_BYTES)
            except (OSError, http.client.HTTPException) as error:
                raise _AttemptFailed(_describe(error), retryable=True) from None
            if not chunk:
                break
            _write_chunk(stream, chunk, part)
            digest.update(chunk)
            received += len(chunk)
            report(received, total)

    # http.client returns a short body without an error when the server closes the
    # connection early, so the length has to be compared here.
    if total is not None and received != total:
        raise _AttemptFailed(
            f"connection closed after {received} of {total} bytes", retryable=True
        )
    actual_sha256 = digest.hexdigest()
    if actual_sha256 != expected_sha256:
        raise _AttemptFailed(
            f"SHA-256 {actual_sha256} of the {received} bytes received does not match "
            f"the expected {expected_sha256}",
            retryable=False,
        )


def _open_part(part: Path) -> BinaryIO:
    try:
        return open(part, "wb")
    except OSError as error:
        raise DownloadError(
            f"Cannot write {part}: {error.strerror}. "
            "Choose a writable folder (digitlab data fetch --dest DIR)."
        ) from error


def _write_chunk(stream: BinaryIO, chunk: bytes, part: Path) -> None:
    try:
        stream.write(chunk)
    except OSError as error:
        raise DownloadError(
            f"Cannot write {part}: {error.strerror}. Free some disk space or choose "
            "another folder (digitlab data fetch --dest DIR)."
        ) from error


def _content_length(response: http.client.HTTPResponse) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None or not value.isdigit():
        return None
    return int(value)


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and not isinstance(
        error, urllib.error.HTTPError
    ):
        return f"connection failed ({error.reason})"
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"
