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
MAX_JOIN_ROUNDS = 3

# Two pieces each at least this share of their union's height, next to each other,
# are judged as a pair of digits against one joined digit.
SIDE_BY_SIDE_HEIGHT = 0.6


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
    # A stroke may break in more than one place; each round joins pairs, so a digit
    # in three or four pieces comes together over a few rounds.
    for _ in range(MAX_JOIN_ROUNDS):
        joined = _join_round(pieces, height_px, gap_px, classifier)
        if joined is None:
            break
        pieces = joined
    return pieces


def _join_round(
    pieces: list[Piece], height_px: float, gap_px: float, classifier: CropClassifier
) -> list[Piece] | None:
    """Do one round of joins; None when no pair was worth joining."""
    pairs = _candidate_pairs(pieces, height_px, gap_px)
    if not pairs:
        return None

    unions = [merge_pieces(pieces[i], pieces[j]) for i, j in pairs]
    alone = sorted({index for pair in pairs for index in pair})
    scores = log_confidence(classifier.piece_probabilities(
        [pieces[i] for i in alone] + unions
    ))
    single = dict(zip(alone, scores[: len(alone)], strict=True))
    joined = scores[len(alone) :]

    gains = []
    for (i, j), union_score in zip(pairs, joined, strict=True):
        if _side_by_side(pieces[i], pieces[j]):
            # Two tall marks side by side are two digits unless, together, they read
            # better than they do as a pair. The halves of a 4 broken down its middle
            # read poorly on their own, while a 6 next to a 0 reads well.
            margin = union_score - (single[i] + single[j]) / 2
            if margin > 0:
                gains.append((margin, i, j))
            continue
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
    if not used:
        return None
    merged = [piece for index, piece in enumerate(pieces) if index not in used]
    return merged + list(result_by_index.values())


def _candidate_pairs(
    pieces: list[Piece], height_px: float, gap_px: float
) -> list[tuple[int, int]]:
    pairs = []
    for i, j in close_pairs(pieces, gap_px):
        first, second = pieces[i], pieces[j]
        union = merge_pieces(first, second)
        # The height estimate itself is low while every digit is still in pieces,
        # so the size limit is loose and the classifier does the judging.
        if union.h > 2.2 * height_px or union.w > 1.25 * union.h:
            continue
        if _ink_distance(first, second, union) <= gap_px:
            pairs.append((i, j))
    return pairs


def close_pairs(pieces: list[Piece], gap_px: float) -> list[tuple[int, int]]:
    """Return the index pairs (i < j) of pieces whose boxes lie within ``gap_px``."""
    if len(pieces) < 2:
        return []
    boxes = np.array([(p.x, p.y, p.right, p.bottom) for p in pieces], float)
    pairs = []
    # One vectorised comparison per piece keeps pages of thousands of marks quick.
    for i in range(len(pieces) - 1):
        rest = boxes[i + 1 :]
        gap_x = np.maximum(rest[:, 0], boxes[i, 0]) - np.minimum(rest[:, 2], boxes[i, 2])
        gap_y = np.maximum(rest[:, 1], boxes[i, 1]) - np.minimum(rest[:, 3], boxes[i, 3])
        near = np.flatnonzero((gap_x <= gap_px) & (gap_y <= gap_px))
        pairs.extend((i, i + 1 + int(k)) for k in near)
    return pairs


def _side_by_side(first: Piece, second: Piece) -> bool:
    top = min(first.y, second.y)
    bottom = max(first.bottom, second.bottom)
    overlap = min(first.right, second.right) - max(first.x, second.x)
    tall = min(first.h, second.h) >= SIDE_BY_SIDE_HEIGHT * (bottom - top)
    return tall and overlap <= 0.5 * min(first.w, second.w)


def _ink_distance(first: Piece, second: Piece, union: Piece) -> float:
    canvas = np.ones((union.h, union.w), np.uint8)
    top, left = first.y - union.y, first.x - union.x
    canvas[top : top + first.h, left : left + first.w][first.mask] = 0
    distance = cv2.distanceTransform(canvas, cv2.DIST_L2, 3)
    top, left = second.y - union.y, second.x - union.x
    region = distance[top : top + second.h, left : left + second.w]
    return float(region[second.mask].min())


def group_nearby(pieces: list[Piece], height_px: float, stroke_px: float) -> list[Piece]:
    """Join pieces whose boxes nearly touch, by geometry alone, up to a digit's size.

    A rough stand-in for ``join_broken_digits`` where the classifier cannot judge
    yet (the page's orientation is still unknown): the halves of a broken digit
    count as one mark when the layout of the page is measured.
    """
    gap_px = max(1.5 * stroke_px, 0.1 * height_px)
    # The height estimate is low while digits are still in pieces, as in the merge.
    limit_px = 2.2 * height_px
    parent = list(range(len(pieces)))
    bounds = [(p.x, p.y, p.right, p.bottom) for p in pieces]

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for i, j in close_pairs(pieces, gap_px):
        a, b = root(i), root(j)
        if a != b:
            box = (
                min(bounds[a][0], bounds[b][0]),
                min(bounds[a][1], bounds[b][1]),
                max(bounds[a][2], bounds[b][2]),
                max(bounds[a][3], bounds[b][3]),
            )
            if max(box[2] - box[0], box[3] - box[1]) <= limit_px:
                parent[b] = a
                bounds[a] = box
    groups: dict[int, Piece] = {}
    for index, piece in enumerate(pieces):
        key = root(index)
        groups[key] = merge_pieces(groups[key], piece) if key in groups else piece
    return list(groups.values())
