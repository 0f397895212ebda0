"""Fixtures shared by the engine tests: small data sets and the shared data folder."""

from pathlib import Path

import numpy as np
import pytest

from engine.datasets import DigitDataset, load_dataset

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
SHARED_MNIST = SHARED / "data" / "mnist"


@pytest.fixture(scope="session")
def sample_train() -> DigitDataset:
    return load_dataset("sample", "train")


@pytest.fixture(scope="session")
def sample_test() -> DigitDataset:
    return load_dataset("sample", "test")


@pytest.fixture(scope="session")
def tiny_train(sample_train: DigitDataset) -> DigitDataset:
    """512 training images, about 51 of each digit."""
    return DigitDataset(
        sample_train.images[::20][:512], sample_train.labels[::20][:512], "tiny/train"
    )


@pytest.fixture(scope="session")
def tiny_test(sample_test: DigitDataset) -> DigitDataset:
    return DigitDataset(sample_test.images[::10], sample_test.labels[::10], "tiny/test")


@pytest.fixture(scope="session")
def shared_mnist() -> Path:
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(
            "the full MNIST set is not available beside this checkout (../shared/data/mnist)"
        )
    return SHARED_MNIST


def make_digits(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count).astype(np.uint8)
    return images, labels
