import gzip

import numpy as np
import pytest

from engine.datasets import find_idx_file, load_idx_folder
from engine.errors import DataError
from engine.idx import read_idx_images, read_idx_labels, write_idx
from tests.engine.conftest import make_digits


def write_split(
    folder, images, labels, *, prefix="train", separator="-", compress=True
):
    suffix = ".gz" if compress else ""
    write_idx(
        folder / f"{prefix}-images{separator}idx3-ubyte{suffix}",
        images,
        compress=compress,
    )
    write_idx(
        folder / f"{prefix}-labels{separator}idx1-ubyte{suffix}",
        labels,
        compress=compress,
    )


@pytest.mark.parametrize("compress", [True, False])
def test_idx_round_trip(tmp_path, compress):
    images, labels = make_digits(7)
    write_split(tmp_path, images, labels, compress=compress)
    dataset = load_idx_folder(tmp_path, "train")
    np.testing.assert_array_equal(dataset.images, images)
    np.testing.assert_array_equal(dataset.labels, labels)
    assert dataset.labels.dtype == np.int64


def test_idx_dotted_spelling_accepted(tmp_path):
    images, labels = make_digits(3)
    write_split(tmp_path, images, labels, prefix="t10k", separator=".", compress=False)
    assert len(load_idx_folder(tmp_path, "test")) == 3


def test_idx_wrong_magic_rejected(tmp_path):
    images, _ = make_digits(2)
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, images, compress=False)
    content = bytearray(path.read_bytes())
    content[3] = 0x01
    path.write_bytes(bytes(content))
    with pytest.raises(
        DataError, match=r"magic number 0x00000801, expected 0x00000803"
    ):
        read_idx_images(path)


def test_idx_truncated_rejected(tmp_path):
    images, _ = make_digits(4)
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, images, compress=False)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated"):
        read_idx_images(path)


def test_idx_truncated_gzip_rejected(tmp_path):
    images, _ = make_digits(50)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    write_idx(path, images)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="damaged gzip"):
        read_idx_images(path)


def test_idx_trailing_bytes_rejected(tmp_path):
    _, labels = make_digits(4)
    path = tmp_path / "train-labels-idx1-ubyte"
    write_idx(path, labels, compress=False)
    path.write_bytes(path.read_bytes() + b"\0\0")
    with pytest.raises(DataError, match="2 bytes past the data"):
        read_idx_labels(path)


def test_idx_label_out_of_range_rejected(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.array([1, 12], dtype=np.uint8), compress=False)
    with pytest.raises(DataError, match="label 12"):
        read_idx_labels(path)


def test_idx_wrong_image_size_rejected(tmp_path):
    path = tmp_path / "images"
    write_idx(path, np.zeros((2, 32, 32), dtype=np.uint8), compress=False)
    with pytest.raises(DataError, match="32x32"):
        read_idx_images(path)


def test_folder_count_mismatch_names_files(tmp_path):
    images, labels = make_digits(5)
    write_split(tmp_path, images, labels[:4])
    with pytest.raises(DataError) as raised:
        load_idx_folder(tmp_path, "train")
    assert "5 images" in str(raised.value)
    assert "4 labels" in str(raised.value)
    assert "train-images-idx3-ubyte.gz" in str(raised.value)


def test_folder_missing_rejected(tmp_path):
    with pytest.raises(DataError, match="Data folder not found"):
        load_idx_folder(tmp_path / "nowhere", "train")


def test_folder_missing_file_names_expected(tmp_path):
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        find_idx_file(tmp_path, "t10k-images", "idx3")


def test_gzip_detected_from_bytes(tmp_path):
    _, labels = make_digits(3)
    raw = tmp_path / "raw"
    write_idx(raw, labels, compress=False)
    disguised = tmp_path / "train-labels-idx1-ubyte"
    disguised.write_bytes(gzip.compress(raw.read_bytes()))
    np.testing.assert_array_equal(read_idx_labels(disguised), labels)
