"""Write resources/examples/page.jpg: a photo-like page of MNIST test digits.

Usage: python scripts/make_example_page.py

The page holds two lines of digits from the embedded test sample, drawn as dark ink on
off-white paper with a soft shadow, so the app and the README have an example photo
that anyone may redistribute under the MNIST licence.
"""

from pathlib import Path

import cv2
import numpy as np

from engine.datasets import load_dataset

OUT = Path(__file__).resolve().parent.parent / "resources" / "examples" / "page.jpg"
LINES = ("2026 1204", "31415 926")
DIGIT_PX = 90
SEED = 7


def main() -> None:
    rng = np.random.default_rng(SEED)
    test = load_dataset("sample", "test")
    width = 1400
    height = 200 + len(LINES) * 170
    ink = np.zeros((height, width), np.float32)
    for row, text in enumerate(LINES):
        x = 110
        y0 = 120 + row * 170
        for character in text:
            if character == " ":
                x += DIGIT_PX
                continue
            image = test.images[
                rng.choice(np.flatnonzero(test.labels == int(character)))
            ]
            ys, xs = np.nonzero(image > 30)
            digit = (
                image[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(
                    np.float32
                )
                / 255
            )
            scale = DIGIT_PX / digit.shape[0]
            digit = cv2.resize(
                digit,
                (max(1, round(digit.shape[1] * scale)), DIGIT_PX),
                interpolation=cv2.INTER_CUBIC,
            )
            y = y0 + int(rng.integers(-6, 7))
            h, w = digit.shape
            ink[y : y + h, x : x + w] = np.maximum(
                ink[y : y + h, x : x + w], np.clip(digit, 0, 1)
            )
            x += w + int(rng.integers(22, 36))
    columns = np.linspace(0, 1, width, dtype=np.float32)
    rows = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    paper = 236 - 60 * np.clip(columns - 0.55, 0, None) - 15 * rows
    gray = paper * (1 - ink) + 45 * ink + rng.normal(0, 3, ink.shape)
    color = np.stack([gray * 0.97, gray, gray * 1.02], axis=-1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(
        str(OUT),
        np.clip(color, 0, 255).astype(np.uint8),
        [cv2.IMWRITE_JPEG_QUALITY, 88],
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
