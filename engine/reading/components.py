"""Connected components of the ink mask, and the rules that keep only digit candidates.

A ``Piece`` is a candidate digit: a bounding box in working-image pixels and the mask of
its own ink inside that box (a neighbour's stroke reaching into the box is not part of
it). Sizes are judged against the typical digit height of the page, so the same rules
hold for a 20-pixel grid cell and a 500-pixel digit.
"""

import logging
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Piece:
    """Ink of one candidate digit: box (x, y, w, h) and its bool mask of shape (h, w)."""

    x: int
    y: int
    w: int
    h: int
    mask: npt.NDArray[np.bool_]

    @cached_property
    def area(self) -> int:
        # The mask is never written after the piece is made, so the count stays valid.
        return int(np.count_nonzero(self.mask))

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


def find_pieces(mask: npt.NDArray[np.uint8]) -> list[Piece]:
    """Return the 8-connected components of a binary mask as pieces."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    pieces = []
    for label in range(1, count):
        x, y, w, h, _ = (int(value) for value in stats[label])
        pieces.append(Piece(x, y, w, h, labels[y : y + h, x : x + w] == label))
    return pieces


def merge_pieces(first: Piece, second: Piece) -> Piece:
    """Join two pieces into one whose box covers both."""
    x, y = min(first.x, second.x), min(first.y, second.y)
    right, bottom = max(first.right, second.right), max(first.bottom, second.bottom)
    mask = np.zeros((bottom - y, right - x), bool)
    for piece in (first, second):
        top, left = piece.y - y, piece.x - x
        mask[top : top + piece.h, left : left + piece.w] |= piece.mask
    return Piece(x, y, right - x, bottom - y, mask)


def crop_piece(piece: Piece, keep: npt.NDArray[np.bool_]) -> Piece | None:
    """Return the part of a piece where ``keep`` (same shape as its mask) is True."""
    mask = piece.mask & keep
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return None
    top, left = int(ys.min()), int(xs.min())
    bottom, right = int(ys.max()) + 1, int(xs.max()) + 1
    return Piece(
        piece.x + left,
        piece.y + top,
        right - left,
        bottom - top,
        mask[top:bottom, left:right],
    )


def typical_height(pieces: list[Piece]) -> float:
    """Estimate the page's digit height: the area-weighted median piece height.

    Weighting by area lets a few large digits outvote many specks of noise.
    """
    sized = [piece for piece in pieces if piece.h >= 5 and piece.area >= 12]
    if not sized:
        return 0.0
    heights = np.array([piece.h for piece in sized], float)
    areas = np.array([piece.area for piece in sized], float)
    order = np.argsort(heights)
    cumulative = np.cumsum(areas[order])
    middle = int(np.searchsorted(cumulative, cumulative[-1] / 2))
    return float(heights[order][middle])


def ink_level(piece: Piece, ink: npt.NDArray[np.float32]) -> float:
    """Return the 75th percentile of ink strength over a piece's pixels."""
    region = ink[piece.y : piece.bottom, piece.x : piece.right]
    values = region[piece.mask]
    # np.percentile's linear interpolation, without its overhead on small arrays: a
    # 5,000-digit grid has that many pieces.
    position = 0.75 * (values.size - 1)
    below = int(position)
    above = min(below + 1, values.size - 1)
    ranked = np.partition(values, [below, above])
    fraction = np.float32(position - below)
    return float(ranked[below] + fraction * (ranked[above] - ranked[below]))


def discard_non_digits(
    pieces: list[Piece],
    shape: tuple[int, int],
    ink: npt.NDArray[np.float32],
    height_px: float,
) -> list[Piece]:
    """Drop specks, page borders, long lines, huge blobs and faint printed marks.

    Small marks that may be part of a broken digit are kept for the merge step;
    ``discard_leftovers`` removes the ones still alone after it.
    """
    kept = []
    levels = {id(piece): ink_level(piece, ink) for piece in pieces}
    big = [levels[id(p)] for p in pieces if p.h >= 0.6 * height_px]
    strong = float(np.median(big)) if big else 0.0
    for piece in pieces:
        reason = _rejection(piece, shape, height_px)
        if reason is None and levels[id(piece)] < 0.45 * strong:
            reason = "faint"
        if reason is None:
            kept.append(piece)
        else:
            logger.debug("Dropped piece at %d,%d %dx%d: %s", piece.x, piece.y,
                         piece.w, piece.h, reason)
    return kept


def _rejection(piece: Piece, shape: tuple[int, int], height_px: float) -> str | None:
    size = max(piece.w, piece.h)
    if size < 0.2 * height_px or piece.area < 6:
        return "speck"
    if piece.h > 3.2 * height_px or piece.w > 12 * height_px:
        return "larger than any digit"
    if piece.w > 3 * height_px and piece.h < 0.4 * height_px:
        return "line"
    touches = (
        piece.x == 0
        or piece.y == 0
        or piece.right >= shape[1]
        or piece.bottom >= shape[0]
    )
    digit_sized = 0.4 * height_px <= piece.h <= 1.6 * height_px
    if touches and not (digit_sized and piece.w <= 1.6 * height_px):
        return "touches the image border"
    # A solid patch (a shadow, a thumb) fills its box; a straight 1 does too, but it is
    # narrow, so only wide patches count.
    fill = piece.area / (piece.w * piece.h)
    if fill > 0.85 and min(piece.w, piece.h) > 0.35 * height_px:
        return "solid blob"
    return None


def discard_leftovers(pieces: list[Piece], height_px: float) -> list[Piece]:
    """Drop dots and dashes that stayed alone after broken digits were joined."""
    kept = []
    for piece in pieces:
        small = max(piece.w, piece.h) < 0.35 * height_px
        dash = piece.h < 0.3 * height_px and piece.w > 2.0 * piece.h
        if small or dash:
            logger.debug("Dropped mark at %d,%d %dx%d", piece.x, piece.y, piece.w,
                         piece.h)
            continue
        kept.append(piece)
    return kept
