"""Split a component that contains several touching digits, scoring cuts with the model."""

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from engine.reading.classify import CropClassifier, log_confidence
from engine.reading.components import Piece, crop_piece

logger = logging.getLogger(__name__)

# Candidate cuts per direction: the columns with the least ink, each tried straight and
# slanted both ways, since touching handwritten digits often lean.
CUTS_PER_PIECE = 3
CUT_SLANTS = (0.0, -0.25, 0.25)
EVEN_CUTS = (0.35, 0.5, 0.65)

# A piece read this confidently whole (log of 0.99) stays whole unless it is far wider
# than any single digit: wide 2s, 4s and 7s are common in handwriting.
CONFIDENT_WHOLE = float(np.log(0.99))
MAX_SPLIT_DEPTH = 4

# Thinning every stroke by this share of its width parts two digits that touch at a
# point into two digit-tall halves. Such a piece is split even when the classifier
# reads the whole confidently (a 3 touching an 8 reads as a sure 8), so its parts may
# read a little worse than the whole.
NECK_STROKES = 0.6
NECK_MIN_ASPECT = 0.8
NECK_MARGIN = -0.2

# After a cut, fragments of a part smaller than this share of its largest fragment are
# slivers of the neighbouring digit and are dropped.
SLIVER_SHARE = 0.15


@dataclass(frozen=True)
class SplitResult:
    """The pieces after splitting, and the pieces that looked too wide to be a digit
    but had no cut the classifier preferred (flagged unsure by the reader)."""

    pieces: list[Piece]
    unsplit: list[Piece]


def split_touching_digits(
    pieces: list[Piece], height_px: float, stroke_px: float, classifier: CropClassifier
) -> SplitResult:
    """Cut pieces much wider (or taller) than a digit into the parts read best.

    Works in rounds so that every round's candidate cuts, across all pieces, are
    classified in one batch; a part that is still too wide is cut again next round.
    """
    done: list[Piece] = []
    unsplit: list[Piece] = []
    pending = pieces
    for _ in range(MAX_SPLIT_DEPTH):
        searches = []
        for piece in pending:
            direction = _split_direction(piece, height_px)
            necked = _necked(piece, height_px, stroke_px)
            if necked:
                direction = "columns"
            if direction is None:
                done.append(piece)
            else:
                options = _cut_options(piece, direction)
                searches.append(_CutSearch(piece, direction, options, necked))
        if not searches:
            return SplitResult(done, unsplit)
        crops = [crop for search in searches for crop in search.crops()]
        scores = log_confidence(classifier.piece_probabilities(crops))
        pending = []
        offset = 0
        for search in searches:
            count = len(search.crops())
            parts = search.best(scores[offset : offset + count], height_px)
            offset += count
            if parts is None:
                done.append(search.piece)
                if _too_big(search.piece, height_px):
                    unsplit.append(search.piece)
            else:
                logger.debug("Split piece at %d,%d %dx%d", search.piece.x,
                             search.piece.y, search.piece.w, search.piece.h)
                pending.extend(parts)
    done.extend(pending)
    return SplitResult(done, unsplit)


@dataclass(frozen=True)
class _CutSearch:
    piece: Piece
    direction: str
    options: list[tuple[Piece, Piece]]
    necked: bool = False

    def crops(self) -> list[Piece]:
        return [self.piece] + [part for pair in self.options for part in pair]

    def best(self, scores: np.ndarray, height_px: float) -> list[Piece] | None:
        if not self.options:
            return None
        whole = scores[0]
        several = self.necked or _clearly_several(self.piece, self.direction)
        if whole >= CONFIDENT_WHOLE and not several:
            return None
        pair_scores = scores[1:].reshape(-1, 2).mean(axis=1)
        best = int(np.argmax(pair_scores))
        margin = _split_margin(self.piece, self.direction, height_px)
        if self.necked:
            margin = min(margin, NECK_MARGIN)
        if pair_scores[best] - whole <= margin:
            return None
        return list(self.options[best])


def _split_direction(piece: Piece, height_px: float) -> str | None:
    if piece.w >= 1.1 * piece.h and piece.w >= 0.7 * height_px:
        return "columns"
    if piece.h >= 2.0 * height_px and piece.h >= 1.1 * piece.w:
        return "rows"
    return None


def _necked(piece: Piece, height_px: float, stroke_px: float) -> bool:
    """Return True when thinning the strokes a little parts the piece into two
    digit-tall halves side by side: two digits touching at a point."""
    if piece.w < NECK_MIN_ASPECT * piece.h or piece.w < 0.7 * height_px:
        return False
    radius = int(round(NECK_STROKES * stroke_px / 2))
    # Thin pens wobble by a pixel, which would part the strokes of a single digit.
    if radius < 2:
        return False
    ink = piece.mask.astype(np.uint8)
    # Pieces joined from a broken digit are apart already; only one stroke can neck.
    if cv2.connectedComponents(ink, connectivity=8)[0] != 2:
        return False
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    thinned = cv2.erode(ink, kernel)
    count, _, stats, _ = cv2.connectedComponentsWithStats(thinned, connectivity=8)
    tall = stats[1:, cv2.CC_STAT_HEIGHT] + 2 * radius >= 0.6 * piece.h
    if tall.sum() < 2:
        return False
    # The tall halves must sit side by side, not one inside the other.
    lefts = stats[1:, cv2.CC_STAT_LEFT][tall]
    rights = lefts + stats[1:, cv2.CC_STAT_WIDTH][tall]
    order = np.argsort(lefts)
    return bool((lefts[order][1:] >= rights[order][:-1] - 2 * radius).any())


def _too_big(piece: Piece, height_px: float) -> bool:
    return piece.w > 1.6 * piece.h or piece.h > 2.2 * height_px


def _split_margin(piece: Piece, direction: str, height_px: float) -> float:
    # How much better, in log confidence, the parts must read than the whole. A piece
    # only a little wider than tall may be one wide digit (a 0, a 2, a 7), so it needs a
    # clear win. Past 1.25 times wider than tall it is more likely two digits, so the
    # margin turns negative and a confident misreading of the whole does not win.
    if direction == "columns":
        return 6.0 * (1.25 - piece.w / piece.h)
    return 4.0 * max(0.0, 2.4 - piece.h / height_px)


def _cut_options(piece: Piece, direction: str) -> list[tuple[Piece, Piece]]:
    mask = piece.mask if direction == "columns" else piece.mask.T
    options = []
    for first_mask in _cut_masks(mask):
        if direction == "rows":
            first_mask = first_mask.T
        first = _without_slivers(crop_piece(piece, first_mask))
        second = _without_slivers(crop_piece(piece, ~first_mask))
        if first is not None and second is not None:
            if _plausible_parts(piece, direction, first, second):
                options.append((first, second))
    return options


def _clearly_several(piece: Piece, direction: str) -> bool:
    if direction == "columns":
        return piece.w >= 1.8 * piece.h
    return False


def _plausible_parts(piece: Piece, direction: str, first: Piece, second: Piece) -> bool:
    # Touching digits of one line are about equally tall (and stacked ones about
    # equally wide), so a cut leaving a short part is cutting one wide digit apart.
    # Past 1.6 times wider than tall, a piece contains several digits whatever the cut.
    if direction == "columns":
        return piece.w >= 1.6 * piece.h or min(first.h, second.h) >= 0.7 * piece.h
    return min(first.w, second.w) >= 0.5 * piece.w


def _without_slivers(piece: Piece | None) -> Piece | None:
    if piece is None:
        return None
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        piece.mask.astype(np.uint8), connectivity=8
    )
    if count <= 2:
        return piece
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(count, bool)
    keep[1:] = areas >= SLIVER_SHARE * areas.max()
    return crop_piece(piece, keep[labels])


def _cut_masks(mask: np.ndarray) -> list[np.ndarray]:
    """Return bool masks of the left part for the candidate cuts of a (h, w) mask."""
    height, width = mask.shape
    profile = mask.sum(axis=0).astype(float)
    low, high = int(0.25 * width), int(0.75 * width)
    if high - low < 1:
        return []
    columns = np.arange(low, high + 1)
    # Prefer thin columns, breaking ties towards the middle, but also try evenly
    # spaced cuts: where two digits overlap (two touching 0s) the right cut crosses
    # more ink than a cut through the middle of either digit.
    cost = profile[columns] + 0.01 * np.abs(columns - width / 2)
    even: list[int] = [int(round(f * width)) for f in EVEN_CUTS]
    thin: list[int] = []
    for column in columns[np.argsort(cost)]:
        if all(abs(column - other) > max(1, width // 20) for other in even + thin):
            thin.append(int(column))
        if len(thin) == CUTS_PER_PIECE:
            break
    # Only the thin columns, where digits touch, are tried slanted as well, so the
    # batch stays small on pages with many touching pairs.
    rows, cols = np.mgrid[0:height, 0:width]
    masks = [cols < column for column in even]
    for column in thin:
        for slant in CUT_SLANTS:
            boundary = column + slant * (rows - height / 2)
            masks.append(cols < boundary)
    return masks
