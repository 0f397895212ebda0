"""Put detections in reading order: lines top to bottom, left to right in a line."""

from dataclasses import dataclass

import numpy as np

# A box joins a line when its centre lies within this fraction of the digit height of
# the line's expected centre at that x.
LINE_TOLERANCE = 0.6

# Lines may slant, but not by more than this (rise over run).
MAX_LINE_SLOPE = 0.35

# A gap wider than this many digit heights, and well above the line's usual gap,
# separates two numbers.
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
    for index in sorted(range(len(boxes)), key=lambda i: boxes[i].centre_x):
        box = boxes[index]
        distances = [abs(box.centre_y - line.expected_y(box.centre_x)) for line in lines]
        if distances and min(distances) <= tolerance:
            lines[int(np.argmin(distances))].add(index, box)
        else:
            lines.append(_Line(index, box, 1.5 * height))
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
        xs, ys = np.array(self.xs[-5:]), np.array(self.ys[-5:])
        # A slope fitted over less than about two digit widths is mostly noise.
        if np.ptp(xs) >= self.min_run_px:
            slope = float(np.polyfit(xs, ys, 1)[0])
            self.slope = float(np.clip(slope, -MAX_LINE_SLOPE, MAX_LINE_SLOPE))

    def expected_y(self, x: float) -> float:
        return self.ys[-1] + self.slope * (x - self.xs[-1])

    def median_y(self) -> float:
        return float(np.median(self.ys))


def space_after(line: list[int], boxes: list[Box]) -> list[bool]:
    """Return, for each box of a line but the last, whether a space follows it."""
    if len(line) < 2:
        return []
    gaps = np.array(
        [boxes[b].x - (boxes[a].x + boxes[a].w) for a, b in zip(line, line[1:], strict=False)]
    )
    height = float(np.median([boxes[i].h for i in line]))
    usual = max(float(np.median(gaps)), 0.1 * height)
    limit = max(SPACE_GAP_HEIGHTS * height, SPACE_GAP_RATIO * usual)
    return [bool(gap > limit) for gap in gaps]
