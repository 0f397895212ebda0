"""Read every handwritten digit in a photo: the steps in order."""

import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from torch import nn

from engine.errors import ConfigError, EngineError
from engine.reading.binarize import Binarized, binarize, ink_from_paper
from engine.reading.classify import CropClassifier
from engine.reading.components import (
    Piece,
    discard_leftovers,
    discard_non_digits,
    find_pieces,
    typical_height,
)
from engine.reading.decoding import decode_source
from engine.reading.merging import group_nearby, join_broken_digits
from engine.reading.ordering import Box, group_lines, space_after
from engine.reading.orientation import ROTATIONS_DEG, detect_rotation
from engine.reading.result import Detection, PhotoReading
from engine.reading.splitting import split_touching_digits

logger = logging.getLogger(__name__)

# Segmentation runs on a copy scaled down to at most this many pixels; boxes and crops
# still come from the full-resolution photo. Digits of a 12-megapixel page remain
# dozens of pixels tall at this size.
MAX_WORK_PIXELS = 2_500_000

# Below this top probability a detection is flagged unsure.
UNSURE_BELOW = 0.6


class ReadingCancelled(EngineError):
    """The caller set the stop event while a photo was being read."""


@dataclass(frozen=True)
class _Page:
    """The photo at working scale, turned upright."""

    gray_full: npt.NDArray[np.uint8]
    scale: float
    binarized: Binarized
    quarter_turns: int
    # Working-scale mask of decoder filler (truncated files), widened by a margin.
    invalid: npt.NDArray[np.bool_] | None

    def upright(self, array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.rot90(array, self.quarter_turns))


def read_digits(
    source: str | Path | bytes | np.ndarray,
    model: nn.Module,
    *,
    rotation_deg: int | None = None,
    stop: threading.Event | None = None,
) -> PhotoReading:
    """Find, box and read every handwritten digit in a photo.

    Args:
        source: a file path, encoded image bytes, or an RGB/grey uint8 array.
        model: a classifier of normalised (N, 1, 28, 28) MNIST inputs, such as the
            shipped LeNet; it runs on whatever device its parameters are on.
        rotation_deg: counter-clockwise turn (0, 90, 180 or 270) that makes the page
            upright, or None to detect pages photographed sideways.
        stop: when set from another thread, reading stops at the next step.

    Returns:
        The digits in reading order with their boxes in the decoded photo's pixels,
        and the intermediate images. A blank page gives a reading with no digits.

    Raises:
        ImageError: the photo cannot be decoded (the message names the file).
        ConfigError: ``rotation_deg`` is not one of 0, 90, 180, 270.
        ReadingCancelled: ``stop`` was set.
    """
    if rotation_deg is not None and rotation_deg not in ROTATIONS_DEG:
        raise ConfigError(
            f"rotation_deg={rotation_deg!r} is not supported; use 0, 90, 180 or 270, "
            "or None to detect it."
        )
    decoded = decode_source(source)
    file = None if isinstance(source, bytes | bytearray | np.ndarray) else str(source)
    _check_stop(stop)

    gray_full = cv2.cvtColor(decoded.rgb, cv2.COLOR_RGB2GRAY)
    scale = min(1.0, math.sqrt(MAX_WORK_PIXELS / gray_full.size))
    gray_work = gray_full
    if scale < 1.0:
        gray_work = cv2.resize(
            gray_full, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA
        )
        scale = gray_work.shape[1] / gray_full.shape[1]
    binarized = binarize(gray_work)
    invalid = _working_invalid(decoded.invalid, gray_work.shape, binarized.stroke_px)
    _check_stop(stop)

    classifier = CropClassifier(model)
    candidates = None
    if rotation_deg is None:
        candidates = _candidate_pieces(binarized.mask, binarized.ink, invalid)
        pieces, height_px = candidates
        marks = group_nearby(pieces, height_px, binarized.stroke_px)
        rotation_deg = detect_rotation(marks, height_px, classifier)
    page = _Page(gray_full, scale, binarized, rotation_deg // 90, invalid)
    _check_stop(stop)

    # The candidates found for the rotation search stand when the page is upright.
    pieces, warnings = _segment(
        page, classifier, candidates if rotation_deg == 0 else None
    )
    _check_stop(stop)
    reading = _classify_and_order(page, pieces, classifier)
    logger.debug(
        "Read %s: %d digits, rotation %d, %d crops classified",
        file or "image",
        len(reading[0]),
        rotation_deg,
        classifier.crops_seen,
    )
    detections, lines = reading
    height, width = gray_full.shape
    return PhotoReading(
        file=file,
        digits=" ".join(line for line in lines if line),
        lines=lines,
        detections=detections,
        gray=binarized.gray,
        mask=binarized.mask,
        rotation_deg=rotation_deg,
        warnings=decoded.warnings + warnings,
        image_size=(width, height),
        work_scale=scale,
    )


def _check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise ReadingCancelled("Reading was cancelled.")


def _working_invalid(
    invalid: npt.NDArray[np.bool_] | None, shape: tuple[int, ...], stroke_px: float
) -> npt.NDArray[np.bool_] | None:
    if invalid is None:
        return None
    small = cv2.resize(
        invalid.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST
    )
    # The last decoded block row blends into the filler; JPEG blocks are 8 to 16 px.
    reach = int(16 * shape[1] / invalid.shape[1] + stroke_px) | 1
    return cv2.dilate(small, np.ones((reach, reach), np.uint8)).astype(bool)


def _candidate_pieces(
    mask: npt.NDArray[np.uint8],
    ink: npt.NDArray[np.float32],
    invalid: npt.NDArray[np.bool_] | None,
) -> tuple[list[Piece], float]:
    pieces = find_pieces(mask)
    if invalid is not None:
        # A digit cut off by the end of the data would be misread; drop it whole.
        pieces = [piece for piece in pieces if not _touches(piece, invalid)]
    height_px = typical_height(pieces)
    pieces = discard_non_digits(pieces, mask.shape, ink, height_px)
    # Judge sizes again now that borders and blobs no longer skew the estimate.
    height_px = typical_height(pieces) or height_px
    return pieces, height_px


def _touches(piece: Piece, region: npt.NDArray[np.bool_]) -> bool:
    window = region[piece.y : piece.bottom, piece.x : piece.right]
    return bool(window[piece.mask].any())


def _segment(
    page: _Page,
    classifier: CropClassifier,
    candidates: tuple[list[Piece], float] | None = None,
) -> tuple[list[Piece], list[str]]:
    if candidates is None:
        mask = page.upright(page.binarized.mask)
        ink = page.upright(page.binarized.ink)
        invalid = None if page.invalid is None else page.upright(page.invalid)
        candidates = _candidate_pieces(mask, ink, invalid)
    pieces, height_px = candidates
    stroke_px = page.binarized.stroke_px
    pieces = join_broken_digits(pieces, height_px, stroke_px, classifier)
    height_px = typical_height(pieces) or height_px
    split = split_touching_digits(pieces, height_px, stroke_px, classifier)
    pieces = discard_leftovers(split.pieces, height_px)
    warnings = [
        f"The mark at {_describe_box(page, piece)} looks like several touching "
        "digits that could not be separated; its reading is unsure."
        for piece in split.unsplit
    ]
    return pieces, warnings


def _classify_and_order(
    page: _Page, pieces: list[Piece], classifier: CropClassifier
) -> tuple[list[Detection], list[str]]:
    crops, probabilities = classifier.classify_masks(
        [_full_resolution_mask(page, piece) for piece in pieces]
    )
    boxes = [Box(piece.x, piece.y, piece.w, piece.h) for piece in pieces]
    too_wide = [piece.w > 1.6 * piece.h for piece in pieces]

    detections: list[Detection] = []
    texts: list[str] = []
    for number, line in enumerate(group_lines(boxes)):
        spaces = space_after(line, boxes) + [False]
        text = ""
        for index, space in zip(line, spaces, strict=True):
            detection = _detection(
                page, pieces[index], probabilities[index], crops[index], number
            )
            if too_wide[index]:
                detection = _flag_unsure(detection)
            detections.append(detection)
            text += str(detection.digit) + (" " if space else "")
        texts.append(text)
    return detections, texts


def _detection(
    page: _Page,
    piece: Piece,
    probabilities: npt.NDArray[np.float32],
    crop: npt.NDArray[np.uint8],
    line: int,
) -> Detection:
    ranked = np.argsort(probabilities)[::-1][:3]
    top3 = tuple((int(digit), float(probabilities[digit])) for digit in ranked)
    confidence = top3[0][1]
    return Detection(
        box_xywh_px=_photo_box(page, piece),
        digit=top3[0][0],
        confidence=confidence,
        top3=top3,
        line=line,
        unsure=confidence < UNSURE_BELOW,
        crop_28=crop,
    )


def _flag_unsure(detection: Detection) -> Detection:
    return Detection(
        detection.box_xywh_px,
        detection.digit,
        detection.confidence,
        detection.top3,
        detection.line,
        True,
        detection.crop_28,
    )


def _full_box(page: _Page, piece: Piece) -> tuple[int, int, int, int]:
    """Return the piece's box (x0, y0, x1, y1) in the upright full-resolution photo."""
    full_h, full_w = page.gray_full.shape
    if page.quarter_turns % 2:
        full_h, full_w = full_w, full_h
    x0 = max(0, math.floor(piece.x / page.scale))
    y0 = max(0, math.floor(piece.y / page.scale))
    x1 = min(full_w, math.ceil(piece.right / page.scale))
    y1 = min(full_h, math.ceil(piece.bottom / page.scale))
    return x0, y0, x1, y1


def _photo_box(page: _Page, piece: Piece) -> tuple[int, int, int, int]:
    """Map a piece's box to (x, y, w, h) in the decoded photo, before any turn."""
    x0, y0, x1, y1 = _full_box(page, piece)
    x, y, w, h = x0, y0, x1 - x0, y1 - y0
    height, width = page.gray_full.shape
    turns = page.quarter_turns % 4
    if turns == 1:
        return width - y - h, x, h, w
    if turns == 2:
        return width - x - w, height - y - h, w, h
    if turns == 3:
        return y, height - x - w, h, w
    return x, y, w, h


def _describe_box(page: _Page, piece: Piece) -> str:
    x, y, w, h = _photo_box(page, piece)
    return f"x={x}, y={y} ({w}x{h} px)"


def _full_resolution_mask(page: _Page, piece: Piece) -> npt.NDArray[np.bool_]:
    """Redo the piece's ink mask from the full-resolution photo.

    The working-scale mask decides which pixels belong to the piece; the finer
    threshold of the full-resolution grey gives the stroke shape.
    """
    if page.scale >= 1.0:
        return piece.mask
    x0, y0, x1, y1 = _full_box(page, piece)
    gray = np.rot90(page.gray_full, page.quarter_turns)[y0:y1, x0:x1]
    paper_work = np.rot90(page.binarized.paper, page.quarter_turns)
    paper_region = np.ascontiguousarray(
        paper_work[piece.y : piece.bottom, piece.x : piece.right]
    )
    size = (x1 - x0, y1 - y0)
    paper = cv2.resize(paper_region, size, interpolation=cv2.INTER_LINEAR)
    ink = ink_from_paper(np.ascontiguousarray(gray), paper, page.binarized.dark_ink)
    own = cv2.resize(piece.mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    reach = max(1, math.ceil(1.0 / page.scale))
    own = cv2.dilate(own, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    mask = (ink > page.binarized.low) & own.astype(bool)
    return mask if mask.any() else piece.mask
