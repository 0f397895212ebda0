"""MNIST data sources: the embedded sample, the downloaded full set, or a folder of IDX files."""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch

from engine.errors import ConfigError, DataError
from engine.idx import read_idx_images, read_idx_labels

logger = logging.getLogger(__name__)

# Mean and standard deviation of the MNIST training pixels on a 0..1 scale.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "resources" / "sample"
SPLITS = ("train", "test")
Split = Literal["train", "test"]

# The file stems for each split, and the two spellings they are published under:
# "train-images-idx3-ubyte" on the original site, "train-images.idx3-ubyte" in some archives.
_STEMS = {
    "train": ("train-images", "idx3", "train-labels", "idx1"),
    "test": ("t10k-images", "idx3", "t10k-labels", "idx1"),
}


@dataclass(frozen=True, eq=False)
class DigitDataset:
    """A split of MNIST-style digits held in memory.

    Attributes:
        images: uint8 array of shape (N, 28, 28), ink bright on a black background.
        labels: int64 array of shape (N,), values 0 to 9.
        name: where the data came from, such as ``"sample/test"`` or a folder path.
        sha256: hash of the image and label bytes, recorded with trained weights.
    """

    images: npt.NDArray[np.uint8]
    labels: npt.NDArray[np.int64]
    name: str
    sha256: str = field(default="")

    def __post_init__(self) -> None:
        if len(self.images) != len(self.labels):
            raise DataError(
                f"Data set {self.name} has {len(self.images)} images but "
                f"{len(self.labels)} labels; the image and label files must match."
            )
        if not self.sha256:
            object.__setattr__(self, "sha256", _hash_arrays(self.images, self.labels))

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> list[int]:
        """Return how many images of each digit 0 to 9 the split contains."""
        return np.bincount(self.labels, minlength=10).tolist()


def _hash_arrays(images: np.ndarray, labels: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images).data)
    digest.update(np.ascontiguousarray(labels).data)
    return digest.hexdigest()


def find_idx_file(folder: Path, stem: str, kind: str) -> Path:
    """Find one MNIST file in ``folder`` under any of its usual names.

    Accepts ``train-images-idx3-ubyte`` and ``train-images.idx3-ubyte``, each raw or
    with ``.gz``.

    Raises:
        DataError: when none of the spellings exists.
    """
    candidates = [f"{stem}-{kind}-ubyte", f"{stem}.{kind}-ubyte"]
    for name in candidates:
        for suffix in (".gz", ""):
            path = folder / (name + suffix)
            if path.is_file():
                return path
    raise DataError(
        f"No {stem} file in {folder}: expected {candidates[0]}.gz "
        f"(or {candidates[0]}, {candidates[1]}). Point --data at the folder that "
        "contains the four MNIST IDX files."
    )


def load_idx_folder(folder: Path, split: Split) -> DigitDataset:
    """Load one split from a folder holding the MNIST IDX files.

    Raises:
        DataError: when the folder or a file is missing, damaged or inconsistent.
    """
    if split not in SPLITS:
        raise ConfigError(f"Unknown split {split!r}; choose 'train' or 'test'.")
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(
            f"Data folder not found: {folder}. Use --data sample, --data mnist, or a "
            "folder that contains the four MNIST IDX files."
        )
    image_stem, image_kind, label_stem, label_kind = _STEMS[split]
    images_path = find_idx_file(folder, image_stem, image_kind)
    labels_path = find_idx_file(folder, label_stem, label_kind)
    images = read_idx_images(images_path)
    labels = read_idx_labels(labels_path)
    if len(images) != len(labels):
        raise DataError(
            f"{images_path.name} contains {len(images)} images but {labels_path.name} "
            f"contains {len(labels)} labels; both files must come from the same split."
        )
    # The folder's own name, not its full path, so that saved metadata names no machine path.
    dataset = DigitDataset(images, labels, name=f"{folder.resolve().name}/{split}")
    logger.info("Loaded %d %s images from %s", len(dataset), split, folder)
    return dataset


def load_dataset(
    source: str | Path = "sample",
    split: Split = "train",
    *,
    on_progress: Callable[[Any], None] | None = None,
) -> DigitDataset:
    """Load a split of MNIST digits.

    Args:
        source: ``"sample"`` for the embedded stratified subset, ``"mnist"`` for the full
            set in the user cache folder (downloaded first if it is missing), or the path
            of a folder that contains the four IDX files.
        split: ``"train"`` or ``"test"``.
        on_progress: called with ``engine.download.DownloadProgress`` while downloading.

    Returns:
        The split, with images as uint8 (N, 28, 28).

    Raises:
        DataError: when the data cannot be found or read.
        DownloadError: when the full set is missing and the download fails.
    """
    if source == "sample":
        dataset = load_idx_folder(SAMPLE_DIR, split)
        return DigitDataset(
            dataset.images, dataset.labels, f"sample/{split}", dataset.sha256
        )
    if source == "mnist":
        from engine import download

        folder = download.fetch_mnist(on_progress=on_progress)
        dataset = load_idx_folder(folder, split)
        return DigitDataset(
            dataset.images, dataset.labels, f"mnist/{split}", dataset.sha256
        )
    return load_idx_folder(Path(source), split)


def normalize(images: npt.NDArray[np.uint8]) -> torch.Tensor:
    """Convert uint8 digits of shape (N, 28, 28) or (28, 28) into network input.

    Returns:
        float32 CPU tensor of shape (N, 1, 28, 28), scaled to 0..1 then standardised with
        the MNIST training mean and standard deviation.
    """
    array = np.asarray(images)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ConfigError(f"Expected images of shape (N, 28, 28), got {array.shape}.")
    if not array.flags.writeable:
        # torch warns about tensors over read-only memory, such as IDX data read with
        # np.frombuffer; a copy costs little next to the float conversion.
        array = array.copy()
    tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.uint8)).unsqueeze(1)
    return (tensor.float() / 255.0 - MNIST_MEAN) / MNIST_STD
