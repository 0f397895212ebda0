"""Score the photo reader on a folder of photos with a ground-truth manifest.

Usage: python bench/score_reading.py PHOTOS_DIR [--weights FILE] [--only NAME]

The manifest (MANIFEST.tsv) lists each file and its digits in reading order. The score
per image is 1 - Levenshtein(read, truth) / len(truth), spaces removed.
"""

import argparse
import csv
import sys
import time
from pathlib import Path

import torch

from engine.reading import read_digits


def levenshtein(first: str, second: str) -> int:
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i]
        for j, b in enumerate(second, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


def score(read: str, truth: str) -> float:
    read, truth = read.replace(" ", ""), truth.replace(" ", "")
    return max(0.0, 1.0 - levenshtein(read, truth) / len(truth))


def load_model(weights: str | None) -> torch.nn.Module:
    if weights and weights.endswith(".pt"):
        from engine.models import LeNet

        model = LeNet()
        model.load_state_dict(torch.load(weights, weights_only=True))
        return model.eval()
    from engine.weights import load_weights

    return load_weights(Path(weights) if weights else None).model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path)
    parser.add_argument("--weights")
    parser.add_argument("--only")
    args = parser.parse_args()
    model = load_model(args.weights)
    with open(args.photos / "MANIFEST.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    scores = []
    for row in rows:
        if args.only and args.only not in row["file"]:
            continue
        truth = row["digits_in_reading_order"]
        start = time.perf_counter()
        reading = read_digits(args.photos / row["file"], model)
        elapsed = time.perf_counter() - start
        value = score(reading.digits, truth)
        scores.append(value)
        shown = reading.digits if len(truth) < 80 else reading.digits[:60] + "..."
        print(f"{value:.3f} {elapsed:6.2f}s rot={reading.rotation_deg:3d} "
              f"{row['file']}: {shown!r} (truth {truth[:60]!r})")
    exact = sum(value == 1.0 for value in scores)
    print(f"mean {sum(scores) / len(scores):.4f}, exact {exact} of {len(scores)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
