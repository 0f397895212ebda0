"""Read handwritten digits in photos: decode, binarize, segment, classify, order."""

from engine.reading.annotate import annotate
from engine.reading.decoding import MAX_IMAGE_PIXELS, decode_image
from engine.reading.reader import ReadingCancelled, read_digits
from engine.reading.result import Detection, PhotoReading

__all__ = [
    "MAX_IMAGE_PIXELS",
    "Detection",
    "PhotoReading",
    "ReadingCancelled",
    "annotate",
    "decode_image",
    "read_digits",
]
