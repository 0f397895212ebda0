import numpy as np
import pytest
import torch

from engine.datasets import MNIST_MEAN, MNIST_STD, load_dataset, normalize
from engine.errors import ConfigError, DataError


def test_sample_is_stratified(sample_train, sample_test):
    assert len(sample_train) == 10_000
    assert sample_train.class_counts() == [1000] * 10
    assert len(sample_test) == 2_000
    assert sample_test.class_counts() == [200] * 10


def test_sample_images_are_mnist_like(sample_train):
    assert sample_train.images.dtype == np.uint8
    assert sample_train.images.shape[1:] == (28, 28)
    mean = sample_train.images.mean() / 255
    assert abs(mean - MNIST_MEAN) < 0.01


def test_sample_hash_is_stable(sample_test):
    again = load_dataset("sample", "test")
    assert again.sha256 == sample_test.sha256
    assert len(sample_test.sha256) == 64


def test_full_mnist_folder_loads(shared_mnist):
    test_set = load_dataset(shared_mnist, "test")
    assert len(test_set) == 10_000
    assert test_set.class_counts() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]


def test_missing_data_folder_rejected(tmp_path):
    with pytest.raises(DataError, match="Data folder not found"):
        load_dataset(tmp_path / "missing", "train")


def test_unknown_split_rejected():
    with pytest.raises(ConfigError, match="Unknown split"):
        load_dataset("sample", "validation")  # type: ignore[arg-type]


def test_normalize_shape_and_scale():
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = 255
    tensor = normalize(images)
    assert tensor.shape == (3, 1, 28, 28)
    assert tensor.dtype == torch.float32
    assert tensor[0, 0, 1, 1].item() == pytest.approx(-MNIST_MEAN / MNIST_STD)
    assert tensor[0, 0, 0, 0].item() == pytest.approx((1 - MNIST_MEAN) / MNIST_STD)


def test_normalize_rejects_wrong_shape():
    with pytest.raises(ConfigError, match=r"\(N, 28, 28\)"):
        normalize(np.zeros((2, 32, 32), dtype=np.uint8))
