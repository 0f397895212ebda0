"""Turn one digit's ink mask into a 28x28 input the way MNIST digits were made.

MNIST digits were fitted into a 20x20 box keeping their aspect ratio, anti-aliased, and
placed in a 28x28 field so that their centre of mass falls on the centre. Pen strokes in
photos range from hairlines to markers, so the stroke is first brought to the width MNIST
strokes have, otherwise a thin pen fades to a faint grey after downscaling.
"""

import cv2
import numpy as np
import numpy.typing as npt

from engine.models import INPUT_SHAPE

MNIST_SIDE_PX = INPUT_SHAPE[-1]
MNIST_BOX_PX = 20

# The median MNIST stroke is 2.2 px wide in the 28x28 field (twice area over perimeter,
# measured on the test set); strokes between these bounds are left as they are.
TARGET_STROKE_PX = 2.2
STROKE_RANGE_PX = (1.7, 3.3)

# Masks are redrawn at this many times the 20x20 box before the stroke is adjusted, so
# that dilating or eroding by a fraction of an MNIST pixel is possible.
WORK_FACTOR = 4


def normalise_crop(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint8]:
    """Turn a digit mask into an MNIST-style input.

    Args:
        mask: bool array (H, W) that is True on the digit's ink, in any resolution.

    Returns:
        uint8 array (28, 28), white digit on black, centred by its centre of mass.
    """
    left, top, width, height = _ink_bounds(mask.astype(np.uint8, copy=False))
    if width == 0:
        return np.zeros((MNIST_SIDE_PX, MNIST_SIDE_PX), np.uint8)
    mask = mask[top : top + height, left : left + width]
    work = _redraw(mask, MNIST_BOX_PX * WORK_FACTOR)
    work = _adjust_stroke(work)
    digit = _fit_box(work)
    return _place_by_centre_of_mass(digit)


def _ink_bounds(image: np.ndarray) -> tuple[int, int, int, int]:
    """Return (x, y, w, h) of the nonzero pixels, (0, 0, 0, 0) when there are none."""
    return tuple(int(value) for value in cv2.boundingRect(image))  # type: ignore[return-value]


def _redraw(mask: npt.NDArray[np.bool_], side_px: int) -> npt.NDArray[np.uint8]:
    height, width = mask.shape
    scale = side_px / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(mask.astype(np.float32), size, interpolation=interpolation)
    return (resized >= 0.5).astype(np.uint8)


def _adjust_stroke(work: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    stroke_px = _stroke_width(work) / WORK_FACTOR
    low, high = STROKE_RANGE_PX
    if low <= stroke_px <= high:
        return work
    change = round((TARGET_STROKE_PX - stroke_px) * WORK_FACTOR)
    if change == 0:
        return work
    size = abs(change) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    padded = cv2.copyMakeBorder(work, size, size, size, size, cv2.BORDER_CONSTANT, 0)
    if change > 0:
        return cv2.dilate(padded, kernel)
    eroded = cv2.erode(padded, kernel)
    # Eroding a thick marker digit must not erase it; keep the original if it would.
    kept = cv2.countNonZero(eroded) > 0.3 * cv2.countNonZero(work)
    return eroded if kept else padded


def _stroke_width(work: npt.NDArray[np.uint8]) -> float:
    contours, _ = cv2.findContours(work, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(contour, True) for contour in contours)
    if perimeter < 1:
        return 0.0
    return 2.0 * float(cv2.countNonZero(work)) / perimeter


def _fit_box(work: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    left, top, width, height = _ink_bounds(work)
    work = work[top : top + height, left : left + width]
    scale = MNIST_BOX_PX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    digit = cv2.resize(work.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    # Restore full stroke contrast: a thin stroke averages to grey when downscaled.
    peak = float(digit.max())
    return np.clip(digit / max(peak, 1e-6), 0.0, 1.0)


def _place_by_centre_of_mass(digit: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    height, width = digit.shape
    # Plain sums rather than cv2.moments, which reads a one-pixel-wide image (a
    # straight stroke such as a 1) as a list of points and returns zero mass.
    mass = float(digit.sum())
    if mass <= 0:
        return np.zeros((MNIST_SIDE_PX, MNIST_SIDE_PX), np.uint8)
    centre_y = float(digit.sum(axis=1) @ np.arange(height)) / mass
    centre_x = float(digit.sum(axis=0) @ np.arange(width)) / mass
    top = int(round(MNIST_SIDE_PX / 2 - centre_y - 0.5))
    left = int(round(MNIST_SIDE_PX / 2 - centre_x - 0.5))
    # Keep the whole digit in the field even when its mass sits far off centre.
    top = min(max(top, 0), MNIST_SIDE_PX - height)
    left = min(max(left, 0), MNIST_SIDE_PX - width)
    field = np.zeros((MNIST_SIDE_PX, MNIST_SIDE_PX), np.float32)
    field[top : top + height, left : left + width] = digit
    return (field * 255.0 + 0.5).astype(np.uint8)
