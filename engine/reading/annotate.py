"""Draw a reading's boxes and digits over its photo."""

import cv2
import numpy as np
import numpy.typing as npt

from engine.reading.result import PhotoReading

SURE_RGB = (0, 170, 0)
UNSURE_RGB = (230, 120, 0)


def annotate(image_rgb: npt.NDArray[np.uint8], reading: PhotoReading) -> np.ndarray:
    """Return a copy of the photo with each detection's box and digit drawn on it.

    Args:
        image_rgb: uint8 (H, W, 3) RGB photo, as ``decode_image`` returns it.
        reading: the reading of that photo; its boxes are in the photo's pixels.

    Returns:
        uint8 (H, W, 3) RGB image. Sure digits are green, unsure ones orange.
    """
    out = np.ascontiguousarray(image_rgb.copy())
    thickness = max(1, round(max(out.shape[:2]) / 500))
    for detection in reading.detections:
        x, y, w, h = detection.box_xywh_px
        colour = UNSURE_RGB if detection.unsure else SURE_RGB
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), colour, thickness)
        font_scale = max(0.4, min(h, 200) / 60)
        label = str(detection.digit) + ("?" if detection.unsure else "")
        origin = (x, max(12, y - 4))
        cv2.putText(
            out, label, origin, cv2.FONT_HERSHEY_SIMPLEX, font_scale, colour,
            thickness, cv2.LINE_AA,
        )
    return out
