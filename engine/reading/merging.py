"""Join the pieces of a digit whose stroke broke into separate components."""

import logging

import cv2
import numpy as np

from engine.reading.classify import CropClassifier, log_confidence
from engine.reading.components import Piece, merge_pieces

logger = logging.getLogger(__name__)

# A join is kept when the joined crop is read at least this confidently, in log units,
# compared with the more confident of its two parts read alone (exp(-0.15) = 0.86).
JOIN_TOLERANCE = 0.15


def join_broken_digits(
    pieces: list[Piece],
    height_px: float,
    stroke_px: float,
    classifier: CropClassifier,
) -> list[Piece]:
    """Join pieces whose ink nearly touches when the classifier reads the union better.

    Geometry proposes the candidates (ink within a gap of about a stroke width, a union
    no bigger than a digit), and the classifier decides, so that a 5 tucked under the
    descender of a 7 stays two digits while the halves of a broken 4 become one.
    """
    gap_px = max(1.5 * stroke_px, 0.1 * height_px)
    pairs = _candidate_pairs(pieces, height_px, gap_px)
    if not pairs:
        return pieces

    unions = [merge_pieces(pieces[i], pieces[j]) for i, j in pairs]
    alone = sorted({index for pair in pairs for index in pair})
    scores = log_confidence(classifier.piece_probabilities(
        [pieces[i] for i in alone] + unions
    ))
    single = dict(zip(alone, scores[: len(alone)], strict=True))
    joined = scores[len(alone) :]

    gains = []
    for (i, j), union_score in zip(pairs, joined, strict=True):
        margin = union_score - max(single[i], single[j])
        if margin >= -JOIN_TOLERANCE:
            gains.append((margin, i, j))
    used: set[int] = set()
    result_by_index: dict[int, Piece] = {}
    for _, i, j in sorted(gains, reverse=True):
        if i in used or j in used:
            continue
        used |= {i, j}
        result_by_index[i] = merge_pieces(pieces[i], pieces[j])
        logger.debug("Joined broken pieces at %d,%d and %d,%d", pieces[i].x,
                     pieces[i].y, pieces[j].x, pieces[j].y)
    merged = [piece for index, piece in enumerate(pieces) if index not in used]
    return merged + list(result_by_index.values())


def _candidate_pairs(
    pieces: list[Piece], height_px: float, gap_px: float
) -> list[tuple[int, int]]:
    pairs = []
    order = sorted(range(len(pieces)), key=lambda index: pieces[index].x)
    for position, i in enumerate(order):
        first = pieces[i]
        for j in order[position + 1 :]:
            second = pieces[j]
            if second.x > first.right + gap_px:
                break
            if not _boxes_close(first, second, gap_px):
                continue
            union = merge_pieces(first, second)
            # The height estimate itself is low while every digit is still in pieces,
            # so the size limit is loose and the classifier does the judging.
            if union.h > 2.2 * height_px:
                continue
            if union.w > 1.25 * union.h:
                continue
            if _ink_distance(first, second, union) <= gap_px:
                pairs.append((i, j))
    return pairs


def _boxes_close(first: Piece, second: Piece, gap_px: float) -> bool:
    gap_x = max(first.x, second.x) - min(first.right, second.right)
    gap_y = max(first.y, second.y) - min(first.bottom, second.bottom)
    return gap_x <= gap_px and gap_y <= gap_px


def _ink_distance(first: Piece, second: Piece, union: Piece) -> float:
    canvas = np.ones((union.h, union.w), np.uint8)
    top, left = first.y - union.y, first.x - union.x
    canvas[top : top + first.h, left : left + first.w][first.mask] = 0
    distance = cv2.distanceTransform(canvas, cv2.DIST_L2, 3)
    top, left = second.y - union.y, second.x - union.x
    region = distance[top : top + second.h, left : left + second.w]
    return float(region[second.mask].min())
