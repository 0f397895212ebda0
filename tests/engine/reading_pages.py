"""Synthetic photo pages composed from real MNIST digits, with known digits and boxes.

Each page is paper with digits drawn in ink; options add the faults real photos have
(shadows, blur, JPEG noise, ruled lines, broken strokes, touching pairs, slanted rows,
perspective, sideways pages, light ink on a dark board).
"""

from dataclasses import dataclass, field

import cv2
import numpy as np
import pytest
import torch

from engine.datasets import load_dataset
from engine.errors import WeightsError
from engine.reading.classify import CropClassifier
from engine.weights import load_weights


@dataclass
class Page:
    """A generated page: RGB image, the digits of each line, and the digit boxes."""

    image: np.ndarray
    lines: list[str]
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def digits(self) -> str:
        return "".join(self.lines)


def load_reading_model() -> torch.nn.Module:
    """Return the shipped model (committed with the code), or skip if it is unreadable."""
    try:
        return load_weights().model
    except WeightsError as error:
        pytest.skip(f"no trained weights to read digits with: {error}")


class DigitBank:
    """Per label, MNIST test-sample digits the model reads confidently on their own."""

    def __init__(self, model: torch.nn.Module, per_label: int = 6) -> None:
        dataset = load_dataset("sample", "test")
        probabilities = CropClassifier(model).probabilities(dataset.images)
        good = (probabilities.argmax(axis=1) == dataset.labels) & (
            probabilities.max(axis=1) > 0.995
        )
        self.digits: dict[int, list[np.ndarray]] = {}
        for label in range(10):
            chosen = np.flatnonzero(good & (dataset.labels == label))[:per_label]
            self.digits[label] = [dataset.images[i] for i in chosen]

    def ink(self, label: int, variant: int, height_px: int) -> np.ndarray:
        """Return the digit as float ink in [0, 1], cropped and scaled to a height."""
        image = self.digits[label][variant % len(self.digits[label])]
        ys, xs = np.nonzero(image > 30)
        image = image[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        scale = height_px / image.shape[0]
        size = (max(1, round(image.shape[1] * scale)), height_px)
        ink = cv2.resize(image.astype(np.float32) / 255, size, interpolation=cv2.INTER_CUBIC)
        return np.clip(ink, 0, 1)


def compose_page(
    bank: DigitBank,
    lines: list[str],
    *,
    digit_px: int = 80,
    gap_px: int | None = None,
    slope: float = 0.0,
    touching: bool = False,
    broken: bool = False,
    margin_px: int = 60,
    seed: int = 0,
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Draw lines of digits as ink strength in [0, 1] on an empty page.

    Returns the ink image (H, W) and the digit boxes (x, y, w, h) in reading order.
    ``touching`` makes each pair of neighbours overlap by a few pixels; ``broken`` cuts
    a thin gap across every digit.
    """
    rng = np.random.default_rng(seed)
    gap_px = gap_px if gap_px is not None else digit_px // 2
    inks = [[bank.ink(int(c), i + 3 * row, digit_px) for i, c in enumerate(line)]
            for row, line in enumerate(lines)]
    width = margin_px * 2 + max(
        sum(ink.shape[1] + gap_px for ink in row) for row in inks
    )
    rise = int(abs(slope) * width)
    height = margin_px * 2 + len(lines) * int(digit_px * 1.8) + rise
    page = np.zeros((height, width), np.float32)
    boxes = []
    for row, row_inks in enumerate(inks):
        x = margin_px
        base_y = margin_px + row * int(digit_px * 1.8) + (rise if slope < 0 else 0)
        for index, ink in enumerate(row_inks):
            if broken:
                ink = _break_strokes(ink, rng)
            y = int(base_y + slope * (x - margin_px))
            h, w = ink.shape
            page[y : y + h, x : x + w] = np.maximum(page[y : y + h, x : x + w], ink)
            boxes.append((x, y, w, h))
            step = w + gap_px
            if touching and index % 2 == 0 and index + 1 < len(row_inks):
                step = w - max(2, digit_px // 16)
            x += step
    return page, boxes


def _break_strokes(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Erase a thin band across the middle, as a pen that skipped.
    ink = ink.copy()
    height, width = ink.shape
    gap = max(3, height // 20)
    if rng.random() < 0.5:
        row = height // 2 + int(rng.integers(-height // 8, height // 8 + 1))
        ink[row : row + gap] = 0
    else:
        column = width // 2
        ink[:, column : column + gap] = 0
    return ink


def render_photo(
    ink: np.ndarray,
    *,
    paper: float = 235.0,
    ink_level: float = 40.0,
    shadow: float | None = None,
    blur_px: float = 0.0,
    jpeg_quality: int | None = None,
    ruled_every_px: int | None = None,
    noise: float = 3.0,
    invert: bool = False,
    perspective: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Turn an ink image into an RGB 'photo' with the requested faults."""
    rng = np.random.default_rng(seed)
    height, width = ink.shape
    if ruled_every_px:
        lines = np.zeros_like(ink)
        lines[ruled_every_px // 2 :: ruled_every_px, :] = 0.8
        ink = np.maximum(ink, lines)
    if blur_px:
        ink = cv2.GaussianBlur(ink, (0, 0), blur_px)
    light = np.ones((height, width), np.float32)
    if shadow is not None:
        # Light falls from full on the left to `shadow` of it on the right.
        light *= np.linspace(1.0, shadow, width, dtype=np.float32)[None, :]
    if invert:
        paper, ink_level = 45.0, 220.0
    values = (paper + (ink_level - paper) * ink) * light
    values += rng.normal(0, noise, values.shape)
    gray = np.clip(values, 0, 255).astype(np.uint8)
    if perspective:
        corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
        shift = perspective * width
        moved = np.float32([[shift, 0], [width - shift, shift / 2], [width, height],
                            [0, height - shift / 2]])
        matrix = cv2.getPerspectiveTransform(corners, moved)
        gray = cv2.warpPerspective(gray, matrix, (width, height),
                                   borderMode=cv2.BORDER_REPLICATE)
    rgb = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    if jpeg_quality is not None:
        ok, data = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        assert ok
        rgb = cv2.imdecode(data, cv2.IMREAD_COLOR_RGB)
    return rgb
