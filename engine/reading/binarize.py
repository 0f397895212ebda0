"""Turn a grey photo into an ink-strength map and a binary ink mask.

Steps: detect the ink polarity, estimate the paper (background) with a morphological
closing wider than a pen stroke, divide it out so shadows and vignetting vanish, and
threshold with hysteresis so faint parts of a stroke stay joined to its dark core.
"""

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

# Ink must be at least this much darker (or lighter) than the local paper, as a fraction
# of the paper's brightness; JPEG noise and paper grain stay below it.
MIN_INK_CONTRAST = 0.10

# Lines longer than this many stroke widths are ruled or printed lines, not digit strokes.
LINE_LENGTH_STROKES = 30


@dataclass(frozen=True)
class Binarized:
    """The ink found in a grey image, all arrays of the same (H, W) shape.

    Attributes:
        ink: float32 ink strength in [0, 1], 0 on paper.
        mask: uint8 binary ink mask, 0 or 255, with ruled lines removed.
        gray: uint8 grey image with the background removed: paper 255, ink dark,
            whatever the polarity of the photo.
        dark_ink: True for dark ink on light paper, False for light on dark.
        low, high: the hysteresis thresholds applied to ``ink``.
        stroke_px: the estimated pen stroke width in pixels.
        paper: float32 estimate of the paper brightness, 0-255.
    """

    ink: npt.NDArray[np.float32]
    mask: npt.NDArray[np.uint8]
    gray: npt.NDArray[np.uint8]
    dark_ink: bool
    low: float
    high: float
    stroke_px: float
    paper: npt.NDArray[np.float32]


def binarize(gray: npt.NDArray[np.uint8]) -> Binarized:
    """Find the ink in a grey image of shape (H, W), uint8."""
    dark_ink = detect_dark_ink(gray)
    paper = estimate_paper(gray, dark_ink, kernel_px=_coarse_kernel(gray.shape))
    first = ink_from_paper(gray, paper, dark_ink)
    low, high = choose_thresholds(first)
    first_mask = hysteresis(first, low, high)
    # Hairline ruled lines would drag the estimate down to their own width.
    stroke_px = estimate_stroke_width(remove_lines(first_mask, 3.0))

    # Redo the background with a kernel sized to the pen, so that it follows shadow
    # edges closely while still spanning every stroke.
    kernel_px = int(round(3.0 * stroke_px + 5))
    paper = estimate_paper(gray, dark_ink, kernel_px=kernel_px)
    ink = ink_from_paper(gray, paper, dark_ink)
    low, high = choose_thresholds(ink)
    mask = hysteresis(ink, low, high)
    mask = remove_lines(mask, stroke_px)
    logger.debug(
        "Binarized %s: dark ink %s, stroke %.1f px, thresholds %.3f/%.3f",
        gray.shape,
        dark_ink,
        stroke_px,
        low,
        high,
    )
    gray_clean = (255.0 * (1.0 - ink) + 0.5).astype(np.uint8)
    return Binarized(ink, mask, gray_clean, dark_ink, low, high, stroke_px, paper)


def detect_dark_ink(gray: npt.NDArray[np.uint8]) -> bool:
    """Return True when the marks are darker than their surroundings.

    Compares how much of the image lies far below and far above a local median: ink is
    the minority that departs from the paper.
    """
    small, _ = _shrink(gray, 400)
    size = max(3, (min(small.shape) // 6) | 1)
    local = cv2.medianBlur(small, min(size, 255))
    diff = small.astype(np.int16) - local.astype(np.int16)
    spread = max(4.0, 3.0 * float(np.median(np.abs(diff))) * 1.4826)
    darker = np.clip(-diff - spread, 0, None).sum()
    lighter = np.clip(diff - spread, 0, None).sum()
    return bool(darker >= lighter)


def estimate_paper(
    gray: npt.NDArray[np.uint8], dark_ink: bool, *, kernel_px: int
) -> npt.NDArray[np.float32]:
    """Estimate the paper brightness by closing (or opening) away every stroke."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (kernel_px, kernel_px))
    operation = cv2.MORPH_CLOSE if dark_ink else cv2.MORPH_OPEN
    unblurred = cv2.morphologyEx(gray, operation, kernel)
    paper = cv2.blur(unblurred, (kernel_px, kernel_px))
    # The blur smooths the blocky closing but lets the estimate dip into thick
    # strokes; taking the brighter (for dark ink) of the two keeps strokes whole.
    if dark_ink:
        paper = np.maximum(paper, unblurred)
    else:
        paper = np.minimum(paper, unblurred)
    return paper.astype(np.float32)


def ink_from_paper(
    gray: npt.NDArray[np.uint8], paper: npt.NDArray[np.float32], dark_ink: bool
) -> npt.NDArray[np.float32]:
    """Return the ink strength in [0, 1]: contrast against the paper, as a fraction.

    Dividing by the paper brightness makes a stroke in a shadow as strong as the same
    stroke in full light.
    """
    values = gray.astype(np.float32)
    if dark_ink:
        ink = (paper - values) / np.maximum(paper, 16.0)
    else:
        ink = (values - paper) / np.maximum(255.0 - paper, 16.0)
    return np.clip(ink, 0.0, 1.0)


def choose_thresholds(ink: npt.NDArray[np.float32]) -> tuple[float, float]:
    """Pick hysteresis thresholds: Otsu between paper and ink, floored above noise."""
    values = ink[ink > 0.02]
    # Each median of a 2.5-megapixel map costs tens of milliseconds; take it once.
    median = np.median(ink)
    noise = float(median) + 3.0 * 1.4826 * float(np.median(np.abs(ink - median)))
    floor = max(MIN_INK_CONTRAST, noise)
    if values.size < 20:
        return floor, 2 * floor
    histogram, edges = np.histogram(values, bins=128, range=(0.0, 1.0))
    high = max(_otsu(histogram, edges), 1.5 * floor)
    low = max(floor, 0.5 * high)
    return low, high


def _otsu(histogram: np.ndarray, edges: np.ndarray) -> float:
    centres = (edges[:-1] + edges[1:]) / 2
    weights = histogram.astype(np.float64)
    total = weights.sum()
    below = np.cumsum(weights)
    mean_below = np.cumsum(weights * centres)
    above = total - below
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_below[-1] * below / total - mean_below) ** 2 / (below * above)
    between = np.nan_to_num(between)
    return float(edges[int(np.argmax(between)) + 1])


def hysteresis(
    ink: npt.NDArray[np.float32], low: float, high: float
) -> npt.NDArray[np.uint8]:
    """Keep the pixels above ``low`` that are connected to a pixel above ``high``."""
    weak = (ink > low).astype(np.uint8)
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    strong = np.zeros(count, bool)
    strong[np.unique(labels[ink > high])] = True
    strong[0] = False
    return (strong[labels] * 255).astype(np.uint8)


def estimate_stroke_width(mask: npt.NDArray[np.uint8]) -> float:
    """Estimate the pen stroke width in pixels as twice area over perimeter."""
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    perimeter = sum(cv2.arcLength(contour, True) for contour in contours)
    area = float(np.count_nonzero(mask))
    if perimeter < 1 or area < 10:
        return 3.0
    return float(np.clip(2.0 * area / perimeter, 1.0, 60.0))


def remove_lines(mask: npt.NDArray[np.uint8], stroke_px: float) -> npt.NDArray[np.uint8]:
    """Remove long thin horizontal and vertical lines (ruled paper, tables, borders).

    A digit stroke crossing a line would be cut in two where the line was, so the
    line's pixels are put back where ink continues on both sides of it.
    """
    height, width = mask.shape
    length = int(max(LINE_LENGTH_STROKES * stroke_px, 0.15 * max(height, width), 40))
    cleaned = mask
    for horizontal in (True, False):
        shape = (length, 1) if horizontal else (1, length)
        if shape[0] > width or shape[1] > height:
            continue
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, shape)
        # Thicken across the line first, so a line photographed a little askew,
        # stepping by a pixel every so often, still passes the opening.
        across = cv2.getStructuringElement(
            cv2.MORPH_RECT, (1, 3) if horizontal else (3, 1)
        )
        thick = cv2.dilate(mask, across)
        lines = cv2.bitwise_and(cv2.morphologyEx(thick, cv2.MORPH_OPEN, kernel), mask)
        if not lines.any():
            continue
        # Widen the lines by a pixel so their anti-aliased edges go too.
        wide = cv2.dilate(lines, np.ones((3, 3), np.uint8))
        without = cv2.bitwise_and(cleaned, cv2.bitwise_not(wide))
        bridged = _bridge(without, lines, horizontal, stroke_px)
        crossings = cv2.bitwise_and(cv2.bitwise_and(bridged, wide), cleaned)
        cleaned = cv2.bitwise_or(without, crossings)
    return cleaned


def _bridge(
    without: npt.NDArray[np.uint8],
    lines: npt.NDArray[np.uint8],
    horizontal: bool,
    stroke_px: float,
) -> npt.NDArray[np.uint8]:
    """Close the gaps across the removed lines: where ink lies directly above and
    below a line (left and right of a vertical one), a stroke crossed it."""
    # The bridge spans a typical line. It is capped because a solid region (a dark
    # desk at the page edge) survives the opening too and is no line to bridge.
    thickness = _typical_run(lines > 0, axis=0 if horizontal else 1)
    if thickness == 0:
        return np.zeros_like(without)
    # The removed band is the line widened by a pixel on each side, and by the
    # stroke pixels next to the line where a stroke crosses it.
    reach = int(min(thickness, 2 * stroke_px + 3)) + 6
    shape = (1, reach) if horizontal else (reach, 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, shape)
    return cv2.morphologyEx(without, cv2.MORPH_CLOSE, kernel)


def _typical_run(flags: npt.NDArray[np.bool_], axis: int) -> int:
    """Return the median length of the runs of True along ``axis``."""
    if axis == 1:
        flags = flags.T
    padded = np.zeros((flags.shape[0] + 2, flags.shape[1]), np.int8)
    padded[1:-1] = flags
    changes = np.diff(padded, axis=0)
    starts = np.nonzero(changes.T == 1)
    ends = np.nonzero(changes.T == -1)
    if starts[0].size == 0:
        return 0
    return int(np.median(ends[1] - starts[1]))


def _coarse_kernel(shape: tuple[int, ...]) -> int:
    return int(max(15, min(shape[:2]) // 8))


def _shrink(gray: npt.NDArray[np.uint8], max_side: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, max_side / max(gray.shape))
    if scale == 1.0:
        return gray, 1.0
    # An explicit size, at least one pixel a side: with fx and fy alone, OpenCV rounds
    # the short side of a very long, thin image down to zero and raises.
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return small, scale
