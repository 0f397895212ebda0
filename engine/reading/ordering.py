"""Put detections in reading order: lines top to bottom, left to right in a line."""

from dataclasses import dataclass

import numpy as np

# A box joins a line when its centre lies within this fraction of the digit height of
# the line's expected centre at that x.
LINE_TOLERANCE = 0.6

# Lines may slant, but not by more than this (rise over run).
MAX_LINE_SLOPE = 0.35

# A gap wider than this many digit heights (of the line's taller digits), and this many
# times the line's usual gap, separates two numbers.
SPACE_GAP_HEIGHTS = 0.8
SPACE_GAP_RATIO = 2.2


@dataclass(frozen=True)
class Box:
    """A box (x, y, w, h) in the upright page's pixels."""

    x: float
    y: float
    w: float
    h: float

    @property
    def centre_x(self) -> float:
        return self.x + self.w / 2

    @property
    def centre_y(self) -> float:
        return self.y + self.h / 2


def group_lines(boxes: list[Box]) -> list[list[int]]:
    """Group box indices into lines, each sorted left to right, lines top to bottom.

    Boxes are visited left to right; each joins the line whose centre line, fitted
    through its last members, passes nearest, so slanted lines stay together.
    """
    if not boxes:
        return []
    height = float(np.median([box.h for box in boxes]))
    tolerance = LINE_TOLERANCE * max(height, 1.0)
    lines: list[_Line] = []
    # The last centre and slope of every line, so each box is compared with all
    # lines at once: a 5,000-cell grid has 50 lines.
    last_x = np.zeros(len(boxes))
    last_y = np.zeros(len(boxes))
    slopes = np.zeros(len(boxes))
    centres_x = [box.centre_x for box in boxes]
    for index in sorted(range(len(boxes)), key=centres_x.__getitem__):
        box = boxes[index]
        x, y = centres_x[index], box.centre_y
        count = len(lines)
        if count:
            expected = last_y[:count] + slopes[:count] * (x - last_x[:count])
            distances = np.abs(y - expected)
            nearest = int(np.argmin(distances))
            if distances[nearest] <= tolerance:
                line = lines[nearest]
                line.add(index, box)
                last_x[nearest], last_y[nearest] = x, y
                slopes[nearest] = line.slope
                continue
        lines.append(_Line(index, box, 1.5 * height))
        last_x[count], last_y[count] = x, y
    lines.sort(key=lambda line: line.median_y())
    return [line.members for line in lines]


class _Line:
    """Members of one line and the centre line fitted through the last of them."""

    def __init__(self, index: int, box: Box, min_run_px: float) -> None:
        self.min_run_px = min_run_px
        self.members = [index]
        self.xs = [box.centre_x]
        self.ys = [box.centre_y]
        self.slope = 0.0

    def add(self, index: int, box: Box) -> None:
        self.members.append(index)
        self.xs.append(box.centre_x)
        self.ys.append(box.centre_y)
        xs, ys = self.xs[-5:], self.ys[-5:]
        # A slope fitted over less than about two digit widths is mostly noise.
        if max(xs) - min(xs) >= self.min_run_px:
            # Least-squares slope of y on x, as a degree-1 polyfit gives it, in plain
            # Python because numpy's overhead dominates on five points.
            mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
            dx = [x - mean_x for x in xs]
            slope = sum(d * (y - mean_y) for d, y in zip(dx, ys, strict=True)) / sum(
                d * d for d in dx
            )
            self.slope = min(max(slope, -MAX_LINE_SLOPE), MAX_LINE_SLOPE)

    def expected_y(self, x: float) -> float:
        return self.ys[-1] + self.slope * (x - self.xs[-1])

    def median_y(self) -> float:
        return float(np.median(self.ys))


def space_after(line: list[int], boxes: list[Box]) -> list[bool]:
    """Return, for each box of a line but the last, whether a space follows it.

    A gap is a space when it is wide against both the writing's size and the line's
    usual gap. The size is the height of the taller digits (upper quartile), since
    small 0s and 2s beside long-tailed 7s and 9s would make ordinary gaps look wide
    next to the median height. The usual gap is the lower quartile of the positive
    gaps, so that the wide gaps being judged do not raise it. Touching or overlapping
    digits give gaps of zero or less, which tell nothing about how far apart this
    writer puts the digits of one number, so they are left out. A line of two digits
    has no usual gap to compare with and is read as one number.
    """
    if len(line) < 2:
        return []
    gaps = np.array(
        [boxes[b].x - (boxes[a].x + boxes[a].w) for a, b in zip(line, line[1:], strict=False)]
    )
    height = float(np.percentile([boxes[i].h for i in line], 75))
    positive = gaps[gaps > 0]
    if len(positive) == 0:
        return [False] * len(gaps)
    usual = max(float(np.percentile(positive, 25)), 0.1 * height)
    limit = max(SPACE_GAP_HEIGHTS * height, SPACE_GAP_RATIO * usual)
    return [bool(gap > limit) for gap in gaps]
