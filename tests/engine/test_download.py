"""Tests of the MNIST download against HTTP servers started on 127.0.0.1."""

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from mirror_server import CONTENT, HASHES, NAMES, FakeMirror

from engine.download import (
    DEFAULT_MIRRORS,
    MNIST_SHA256,
    DownloadError,
    DownloadProgress,
    DownloadStopped,
    fetch_mnist,
    mnist_cache_dir,
)
from engine.errors import ConfigError


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy from the environment would receive the requests meant for 127.0.0.1.
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture
def mirrors() -> Iterator[tuple[FakeMirror, FakeMirror]]:
    first, second = FakeMirror(), FakeMirror()
    yield first, second
    first.close()
    second.close()


def _fetch(dest: Path, mirror_urls: list[str], **kwargs: object) -> Path:
    kwargs.setdefault("backoff_s", 0.0)
    kwargs.setdefault("timeout_s", 5.0)
    return fetch_mnist(dest, mirrors=mirror_urls, files=HASHES, **kwargs)


def test_fetch_downloads_all_files(tmp_path: Path, mirrors) -> None:
    first, _ = mirrors
    events: list[DownloadProgress] = []

    folder = _fetch(tmp_path, [first.url], on_progress=events.append)

    assert folder == tmp_path
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == CONTENT[name]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(NAMES)
    first_file = [event for event in events if event.file_name == NAMES[0]]
    assert first_file[0].received_bytes == 0
    assert first_file[-1].received_bytes == len(CONTENT[NAMES[0]])
    assert first_file[-1].total_bytes == len(CONTENT[NAMES[0]])
    assert len(first_file) > 3
    assert {event.file_index for event in events} == {0, 1, 2, 3}
    assert {event.file_count for event in events} == {4}


@pytest.mark.parametrize("status", [404, 500])
def test_fetch_falls_back_to_second_mirror(tmp_path: Path, mirrors, status) -> None:
    first, second = mirrors
    first.failures[NAMES[1]] = [status] * 10

    _fetch(tmp_path, [first.url, second.url], retries=2)

    assert (tmp_path / NAMES[1]).read_bytes() == CONTENT[NAMES[1]]
    # A 404 is not retried on the same mirror, a 500 is retried twice.
    expected_tries = 1 if status == 404 else 3
    assert first.requests.count(NAMES[1]) == expected_tries
    assert second.requests == [NAMES[1]]


def test_fetch_retries_dropped_connection(tmp_path: Path, mirrors) -> None:
    first, _ = mirrors
    first.failures[NAMES[0]] = ["drop"]

    _fetch(tmp_path, [first.url], retries=1)

    assert (tmp_path / NAMES[0]).read_bytes() == CONTENT[NAMES[0]]
    assert first.requests.count(NAMES[0]) == 2
    assert not list(tmp_path.glob("*.part"))


def test_fetch_fails_after_retries(tmp_path: Path, mirrors) -> None:
    first, second = mirrors
    first.failures[NAMES[0]] = ["drop"] * 10
    second.failures[NAMES[0]] = [503] * 10

    with pytest.raises(DownloadError) as raised:
        _fetch(tmp_path, [first.url, second.url], retries=1)

    message = str(raised.value)
    assert NAMES[0] in message
    assert f"{first.url}: connection closed after" in message
    assert f"{second.url}: HTTP 503" in message
    assert "--mirror" in message
    assert not (tmp_path / NAMES[0]).exists()
    assert not list(tmp_path.glob("*.part"))


def test_fetch_rejects_hash_mismatch(tmp_path: Path, mirrors) -> None:
    first, _ = mirrors
    first.content[NAMES[2]] = b"not the archive"

    with pytest.raises(DownloadError, match="does not match the expected"):
        _fetch(tmp_path, [first.url])

    assert not (tmp_path / NAMES[2]).exists()
    assert not (tmp_path / (NAMES[2] + ".part")).exists()
    # A wrong hash is not retried on the same mirror: its content will not change.
    assert first.requests.count(NAMES[2]) == 1


def test_fetch_stops_on_request(tmp_path: Path, mirrors) -> None:
    first, _ = mirrors
    stop = threading.Event()

    def stop_midway(event: DownloadProgress) -> None:
        if event.received_bytes > 0:
            stop.set()

    with pytest.raises(DownloadStopped):
        _fetch(tmp_path, [first.url], on_progress=stop_midway, stop=stop)

    assert list(tmp_path.iterdir()) == []
    assert first.requests == [NAMES[0]]


def test_fetch_skips_cached_files(tmp_path: Path, mirrors) -> None:
    first, _ = mirrors
    _fetch(tmp_path, [first.url])
    first.requests.clear()
    (tmp_path / NAMES[3]).write_bytes(b"damaged")
    events: list[DownloadProgress] = []

    _fetch(tmp_path, [first.url], on_progress=events.append)

    assert first.requests == [NAMES[3]]
    assert (tmp_path / NAMES[3]).read_bytes() == CONTENT[NAMES[3]]
    cached = [event for event in events if event.file_name == NAMES[0]]
    size = len(CONTENT[NAMES[0]])
    assert cached == [DownloadProgress(NAMES[0], size, size, 0, 4)]


def test_fetch_ignores_stale_part_file(tmp_path: Path, mirrors) -> None:
    first, _ = mirrors
    (tmp_path / (NAMES[0] + ".part")).write_bytes(CONTENT[NAMES[0]][:1000])

    _fetch(tmp_path, [first.url])

    assert (tmp_path / NAMES[0]).read_bytes() == CONTENT[NAMES[0]]
    assert not list(tmp_path.glob("*.part"))


def test_fetch_reports_unreachable_mirror(tmp_path: Path) -> None:
    # A port that was just free, with nothing listening, refuses the connection.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(DownloadError, match="connection failed"):
        _fetch(tmp_path, [f"http://127.0.0.1:{port}/"], retries=0)


def test_fetch_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mirrors"):
        fetch_mnist(tmp_path, mirrors=[])
    with pytest.raises(ConfigError, match="retries"):
        fetch_mnist(tmp_path, retries=-1)


def test_canonical_table_lists_four_files() -> None:
    assert set(MNIST_SHA256) == {
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    }
    assert all(len(value) == 64 for value in MNIST_SHA256.values())
    assert all(url.startswith("https://") for url in DEFAULT_MIRRORS)


def test_cache_dir_honours_override(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DIGITLAB_CACHE_DIR", str(tmp_path / "cache"))

    assert mnist_cache_dir() == tmp_path / "cache" / "mnist"


def test_cache_dir_follows_xdg(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DIGITLAB_CACHE_DIR", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert mnist_cache_dir() == tmp_path / "digitlab" / "mnist"

    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")
    assert mnist_cache_dir() == Path.home() / ".cache" / "digitlab" / "mnist"


def test_cache_dir_on_windows_and_macos(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DIGITLAB_CACHE_DIR", raising=False)
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path))
    monkeypatch.setattr("sys.platform", "win32")
    assert mnist_cache_dir() == tmp_path / "digitlab" / "Cache" / "mnist"

    monkeypatch.setattr("sys.platform", "darwin")
    expected = Path.home() / "Library" / "Caches" / "digitlab" / "mnist"
    assert mnist_cache_dir() == expected


def test_fetch_stops_during_backoff(tmp_path: Path, mirrors) -> None:
    first, _ = mirrors
    first.failures[NAMES[0]] = [500] * 10
    stop = threading.Event()
    timer = threading.Timer(0.2, stop.set)
    timer.start()

    with pytest.raises(DownloadStopped):
        _fetch(tmp_path, [first.url], stop=stop, backoff_s=60.0)

    timer.join()
    assert first.requests == [NAMES[0]]


def test_fetch_reports_blocked_target(tmp_path: Path, mirrors) -> None:
    first, _ = mirrors
    (tmp_path / NAMES[0]).mkdir()

    with pytest.raises(DownloadError, match=f"Remove whatever is at .*{NAMES[0]}"):
        _fetch(tmp_path, [first.url])

    assert not list(tmp_path.glob("*.part"))
