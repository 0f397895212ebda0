"""Detect a page photographed sideways (turned by 90 or 270 degrees, no EXIF tag)."""

import logging

import numpy as np

from engine.reading.classify import CropClassifier, log_confidence
from engine.reading.components import Piece
from engine.reading.normalisation import normalise_crop

logger = logging.getLogger(__name__)

# Rotations are counter-clockwise quarter turns, as numpy.rot90 counts them.
SIDEWAYS_DEG = (90, 270)
ROTATIONS_DEG = (0, 90, 180, 270)

# Digits of a line sit side by side: when this share of the nearest-neighbour links
# between digits run horizontally the page is upright, when this share run vertically
# it is sideways; in between, the classifier alone decides.
LAYOUT_SHARE = 0.7

# Another rotation must read this much better (mean log confidence) to beat upright.
UPRIGHT_PREFERENCE = 0.15

MAX_PIECES_SCORED = 60


def detect_rotation(
    pieces: list[Piece], height_px: float, classifier: CropClassifier
) -> int:
    """Return 0, 90 or 270: the counter-clockwise turn that makes the page upright.

    The layout gives the first estimate, because digits of a line are neighbours along
    the line.
    The classifier's confidence on turned crops decides between 90 and 270, and
    decides alone when the layout is unclear (one digit, a grid). Upside-down pages
    (180 degrees) are not detected, because 6 and 9 read equally well both ways;
    callers pass ``rotation_deg=180`` instead.
    """
    sized = [piece for piece in pieces if max(piece.h, piece.w) >= 0.5 * height_px]
    if not sized:
        return 0
    horizontal = _horizontal_share(sized)
    if horizontal is not None and horizontal >= LAYOUT_SHARE:
        return 0
    sideways = horizontal is not None and horizontal <= 1 - LAYOUT_SHARE
    candidates = list(SIDEWAYS_DEG) if sideways else [0, *SIDEWAYS_DEG]
    sample = sorted(sized, key=lambda piece: -piece.area)[:MAX_PIECES_SCORED]
    crops = [
        normalise_crop(np.rot90(piece.mask, rotation // 90))
        for rotation in candidates
        for piece in sample
    ]
    confidence = log_confidence(classifier.probabilities(crops)).reshape(
        len(candidates), len(sample)
    )
    scores = {
        rotation: float(row.mean())
        for rotation, row in zip(candidates, confidence, strict=True)
    }
    logger.debug("Rotation scores %s (horizontal share %s)", scores, horizontal)
    best = max(scores, key=lambda rotation: scores[rotation])
    if 0 in scores and scores[best] - scores[0] < UPRIGHT_PREFERENCE:
        return 0
    return best


def _horizontal_share(pieces: list[Piece]) -> float | None:
    """Return the share of nearest-neighbour links that run more across than down."""
    if len(pieces) < 3:
        return None
    centres = np.array([piece.centre for piece in pieces])
    if len(centres) > 400:
        centres = centres[np.random.default_rng(0).choice(len(centres), 400, False)]
    offsets = centres[None, :, :] - centres[:, None, :]
    distances = np.hypot(offsets[..., 0], offsets[..., 1])
    np.fill_diagonal(distances, np.inf)
    nearest = np.argmin(distances, axis=1)
    link = offsets[np.arange(len(centres)), nearest]
    across = np.abs(link[:, 0]) > np.abs(link[:, 1])
    return float(across.mean())
