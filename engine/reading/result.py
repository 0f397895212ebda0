"""The result of reading a photo: detections in reading order plus every step's image."""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Detection:
    """One digit found in a photo.

    Attributes:
        box_xywh_px: bounding box (x, y, width, height) in pixels of the decoded photo
            (EXIF orientation applied, before any sideways turn), origin top-left.
        digit: the predicted digit, 0-9.
        confidence: the model's probability for ``digit``, in [0, 1].
        top3: the three most likely digits with their probabilities, best first.
        line: index of the line the digit belongs to, 0 for the top line.
        unsure: True when the model was not confident, or the box looked like several
            touching digits that could not be split.
        crop_28: uint8 array (28, 28), the normalised input the model saw (white digit
            on black, upright).
    """

    box_xywh_px: tuple[int, int, int, int]
    digit: int
    confidence: float
    top3: tuple[tuple[int, float], ...]
    line: int
    unsure: bool
    crop_28: npt.NDArray[np.uint8] = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        """Return the detection as JSON-ready values (the crop is left out)."""
        return {
            "box": list(self.box_xywh_px),
            "digit": self.digit,
            "confidence": round(self.confidence, 4),
            "top3": [[digit, round(p, 4)] for digit, p in self.top3],
            "line": self.line,
            "unsure": self.unsure,
        }


@dataclass(frozen=True)
class PhotoReading:
    """Everything the reader found in one photo.

    Attributes:
        file: the path read, or None when the photo came as bytes or an array.
        digits: all digits in reading order; a space separates numbers within a line
            and consecutive lines. Empty for a blank page.
        lines: the text of each line top to bottom, with spaces between numbers.
        detections: the digits in reading order.
        gray: uint8 (h, w) grey image with the background removed (paper white, ink
            dark), in the decoded photo's orientation, scaled by ``work_scale``.
        mask: uint8 (h, w) binary ink mask (0 or 255), same frame as ``gray``.
        rotation_deg: counter-clockwise turn applied to read the page: 0, 90, 180 or
            270.
        warnings: problems that did not stop the reading, such as a truncated file.
        image_size: (width, height) of the decoded photo in pixels.
        work_scale: size of ``gray`` and ``mask`` relative to the photo (1.0 unless the
            photo was downscaled for segmentation).
    """

    file: str | None
    digits: str
    lines: list[str]
    detections: list[Detection]
    gray: npt.NDArray[np.uint8] = field(repr=False)
    mask: npt.NDArray[np.uint8] = field(repr=False)
    rotation_deg: int
    warnings: list[str]
    image_size: tuple[int, int]
    work_scale: float = 1.0

    def to_json(self) -> dict[str, Any]:
        """Return the reading as JSON-ready values, in the ``digitlab read --json``
        shape (images left out)."""
        return {
            "file": self.file,
            "digits": self.digits,
            "lines": list(self.lines),
            "detections": [detection.to_json() for detection in self.detections],
            "rotation_deg": self.rotation_deg,
            "image_size": list(self.image_size),
            "warnings": list(self.warnings),
            "error": None,
        }
