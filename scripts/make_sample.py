"""Write the embedded MNIST sample: a stratified subset of the full set.

Usage: python scripts/make_sample.py MNIST_DIR [--train-per-class 1000] [--test-per-class 200]

The subset takes the same number of images of every digit, chosen with a fixed seed, so
the committed files can be rebuilt byte for byte from the original MNIST files.
"""

import argparse
from pathlib import Path

import numpy as np

from engine.datasets import SAMPLE_DIR, load_idx_folder
from engine.idx import write_idx


def stratified_indices(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(np.flatnonzero(labels == digit), per_class, replace=False)
        for digit in range(10)
    ]
    # Sorted, so the subset keeps MNIST's original writer mix and order.
    return np.sort(np.concatenate(chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "mnist_dir", type=Path, help="folder with the four MNIST IDX files"
    )
    parser.add_argument("--train-per-class", type=int, default=1000)
    parser.add_argument("--test-per-class", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args()

    SAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    for split, prefix, per_class in (
        ("train", "train", args.train_per_class),
        ("test", "t10k", args.test_per_class),
    ):
        dataset = load_idx_folder(args.mnist_dir, split)
        keep = stratified_indices(dataset.labels, per_class, args.seed)
        write_idx(SAMPLE_DIR / f"{prefix}-images-idx3-ubyte.gz", dataset.images[keep])
        write_idx(
            SAMPLE_DIR / f"{prefix}-labels-idx1-ubyte.gz",
            dataset.labels[keep].astype(np.uint8),
        )
        print(f"{split}: {len(keep)} images written to {SAMPLE_DIR}")


if __name__ == "__main__":
    main()
