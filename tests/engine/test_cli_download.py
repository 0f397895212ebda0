"""Tests of `digitlab data` against an HTTP server on 127.0.0.1."""

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mirror_server import CONTENT, HASHES, NAMES, FakeMirror

from engine import download
from engine.cli import main
from engine.commands.data import DownloadBar
from engine.download import DownloadProgress
from engine.progress import ProgressBar


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy from the environment would receive the requests meant for 127.0.0.1.
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture
def mirror() -> Iterator[FakeMirror]:
    server = FakeMirror()
    yield server
    server.close()


def test_data_fetch_downloads(tmp_path: Path, mirror, monkeypatch, capsys) -> None:
    monkeypatch.setattr(download, "MNIST_SHA256", HASHES)

    status = main(
        ["data", "fetch", "mnist", "--dest", str(tmp_path), "--mirror", mirror.url]
    )

    captured = capsys.readouterr()
    assert status == 0
    assert captured.out == f"{tmp_path}\n"
    # stderr is not a terminal under capsys, so no progress bar is drawn.
    assert captured.err == ""
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == CONTENT[name]


def test_data_fetch_uses_cache_dir(tmp_path: Path, mirror, monkeypatch, capsys) -> None:
    monkeypatch.setattr(download, "MNIST_SHA256", HASHES)
    monkeypatch.setenv("DIGITLAB_CACHE_DIR", str(tmp_path))

    status = main(["data", "fetch", "mnist", "--mirror", mirror.url])

    assert status == 0
    assert capsys.readouterr().out == f"{tmp_path / 'mnist'}\n"
    assert sorted(path.name for path in (tmp_path / "mnist").iterdir()) == sorted(NAMES)


def test_data_fetch_hash_mismatch_fails(tmp_path: Path, mirror, capsys) -> None:
    # The canonical hashes cannot match the fake archives.
    argv = ["data", "fetch", "mnist", "--dest", str(tmp_path), "--mirror", mirror.url]
    status = main([*argv, "--retries", "0"])

    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith(f"digitlab data: error: Could not download {NAMES[0]} ")
    assert f"{mirror.url}: SHA-256 " in err
    assert list(tmp_path.iterdir()) == []


def test_data_fetch_unknown_dataset(capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["data", "fetch", "cifar10"])

    assert raised.value.code == 2
    assert "invalid choice: 'cifar10'" in capsys.readouterr().err


def test_data_requires_action(capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["data"])

    assert raised.value.code == 2


def test_data_info_sample(capsys) -> None:
    status = main(["data", "info", "sample", "--json"])

    info = json.loads(capsys.readouterr().out)
    assert status == 0
    assert info["train"]["name"] == "sample/train"
    assert info["train"]["count"] == sum(info["train"]["class_counts"])
    assert info["test"]["name"] == "sample/test"
    assert len(info["test"]["class_counts"]) == 10


def test_data_info_missing_folder_fails(tmp_path: Path, capsys) -> None:
    status = main(["data", "info", str(tmp_path / "absent")])

    assert status == 1
    assert str(tmp_path / "absent") in capsys.readouterr().err


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_download_bar_draws_progress() -> None:
    stream = TerminalStream()
    bar = DownloadBar(ProgressBar(stream))

    bar(DownloadProgress("t10k-images-idx3-ubyte.gz", 824_438, 1_648_877, 2, 4))

    line = stream.getvalue()
    assert line.startswith("\r[")
    assert " 62.5% 3/4 t10k-images-idx3-ubyte.gz 0.8 MB of 1.6 MB" in line
