"""Decode a photo from bytes into an upright RGB array.

The format is sniffed from the first bytes, never taken from the file name. The image
size is read from the header before any pixel is decoded, so a decompression bomb is
rejected while memory is still low. EXIF orientation is applied here because OpenCV
ignores it when asked for the alpha channel (``IMREAD_UNCHANGED``).
"""

import logging
import struct
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from engine.errors import ImageError

logger = logging.getLogger(__name__)

# A 48-megapixel phone photo is the largest input we expect, and twice that leaves
# headroom. A decoded 100-megapixel RGB image still fits in about 300 MB.
MAX_IMAGE_PIXELS = 100_000_000

SUPPORTED_FORMATS = "JPEG, PNG, BMP, TIFF or WebP"

# libjpeg fills the missing part of a truncated JPEG with this mid grey.
JPEG_FILLER_VALUE = 128


@dataclass
class DecodedImage:
    """An upright RGB image with the problems found while decoding it."""

    rgb: npt.NDArray[np.uint8]
    format: str
    warnings: list[str] = field(default_factory=list)
    # True where the pixels are decoder filler rather than photo (a truncated JPEG).
    invalid: npt.NDArray[np.bool_] | None = None


@dataclass(frozen=True)
class _Header:
    format: str
    width: int
    height: int
    orientation: int


def decode_image(source: str | Path | bytes | np.ndarray) -> npt.NDArray[np.uint8]:
    """Decode a photo into an upright RGB image.

    Args:
        source: a file path, the encoded bytes of a JPEG, PNG, BMP, TIFF or WebP file,
            or an image array (grey (H, W), RGB (H, W, 3) or RGBA (H, W, 4); uint8,
            uint16 or float in [0, 1]).

    Returns:
        uint8 array of shape (H, W, 3) in RGB order, EXIF orientation applied and any
        alpha channel composited onto white.

    Raises:
        ImageError: when the file is missing, empty, truncated beyond repair, not an
            image, or larger than ``MAX_IMAGE_PIXELS``. The message names the file.
    """
    return decode_source(source).rgb


def decode_source(source: str | Path | bytes | np.ndarray) -> DecodedImage:
    """Decode like ``decode_image`` but also return the warnings found on the way."""
    if isinstance(source, np.ndarray):
        return DecodedImage(to_rgb_u8(source, "the image array"), "array")
    if isinstance(source, bytes | bytearray | memoryview):
        return decode_bytes(bytes(source), "the image data")
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"Photo {path} not found; check the path.") from None
    except OSError as error:
        raise ImageError(f"Photo {path} could not be read: {error}.") from error
    return decode_bytes(data, str(path))


def decode_bytes(data: bytes, name: str) -> DecodedImage:
    """Decode encoded image bytes; ``name`` is used in messages."""
    if not data:
        raise ImageError(f"{name} is an empty file (0 bytes); choose a photo.")
    header = read_header(data, name)
    pixels = header.width * header.height
    if pixels > MAX_IMAGE_PIXELS:
        raise ImageError(
            f"{name} is {header.width}x{header.height} pixels "
            f"({pixels / 1e9:.2f} gigapixels), more than the limit of "
            f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels; scale it down before reading it."
        )

    warnings: list[str] = []
    buffer = np.frombuffer(data, np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    incomplete = header.format == "JPEG" and not _jpeg_has_end(data)
    if image is None and header.format == "JPEG":
        # A JPEG cut short still decodes once its end marker is restored; libjpeg
        # fills the missing blocks with grey, which _blank_jpeg_filler removes.
        patched = np.frombuffer(data + b"\xff\xd9", np.uint8)
        image = cv2.imdecode(patched, cv2.IMREAD_UNCHANGED)
        incomplete = image is not None
    if image is None:
        raise ImageError(
            f"{name} could not be decoded as {header.format}; the file is corrupt "
            "or truncated."
        )

    rgb = to_rgb_u8(image, name, bgr=True)
    invalid = None
    if incomplete:
        warnings.append(
            f"{name} is incomplete (the {header.format} data ends early); only the "
            "decoded part was read."
        )
        # Info, not warning: the reading carries this warning to the user already.
        logger.info("%s is an incomplete %s file", name, header.format)
        rgb, invalid = _blank_jpeg_filler(rgb)
        invalid = apply_orientation(invalid, header.orientation)
    rgb = apply_orientation(rgb, header.orientation)
    return DecodedImage(rgb, header.format, warnings, invalid)


def _jpeg_has_end(data: bytes) -> bool:
    return data.rstrip(b"\x00")[-2:] == b"\xff\xd9"


def _blank_jpeg_filler(
    rgb: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_] | None]:
    # The filler is the flat grey region that ends at the bottom-right corner: paint it
    # with the median colour of the decoded part so no edge or digit is found there.
    flat = np.all(rgb == JPEG_FILLER_VALUE, axis=2).astype(np.uint8)
    if not flat[-1, -1]:
        return rgb, None
    _, labels = cv2.connectedComponents(flat, connectivity=4)
    filler = labels == labels[-1, -1]
    if filler.all():
        return rgb, filler
    paper = np.median(rgb[~filler], axis=0).astype(np.uint8)
    out = rgb.copy()
    out[filler] = paper
    return out, filler


def to_rgb_u8(
    image: np.ndarray, name: str, *, bgr: bool = False
) -> npt.NDArray[np.uint8]:
    """Convert a decoded array of any depth and channel count to RGB uint8.

    Alpha is composited onto white, because a transparent background hides whatever
    colour its pixels store (often black).
    """
    image = _to_u8(image, name)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise ImageError(
            f"{name} has shape {image.shape}; expected (H, W) grey, (H, W, 3) colour "
            "or (H, W, 4) colour with alpha."
        )
    channels = image.shape[2]
    if channels == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2RGB)
    if channels == 2:
        colour = cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2RGB)
        return _composite_on_white(colour, image[:, :, 1])
    colour = image[:, :, :3]
    if bgr:
        colour = colour[:, :, ::-1]
    colour = np.ascontiguousarray(colour)
    if channels == 4:
        return _composite_on_white(colour, image[:, :, 3])
    return colour


def _to_u8(image: np.ndarray, name: str) -> np.ndarray:
    if image.size == 0:
        raise ImageError(f"{name} has no pixels (shape {image.shape}).")
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        finite = np.nan_to_num(image.astype(np.float32))
        scale = 255.0 if finite.max() <= 1.0 else 1.0
        return np.clip(finite * scale + 0.5, 0, 255).astype(np.uint8)
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    raise ImageError(
        f"{name} has pixel type {image.dtype}; expected uint8, uint16 or float."
    )


def _composite_on_white(
    colour: npt.NDArray[np.uint8], alpha: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8]:
    if alpha.min() == 255:
        return colour
    weight = alpha.astype(np.float32)[:, :, None] / 255.0
    mixed = colour.astype(np.float32) * weight + 255.0 * (1.0 - weight)
    return (mixed + 0.5).astype(np.uint8)


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an image stored with EXIF orientation 1-8 upright."""
    if orientation == 2:
        image = image[:, ::-1]
    elif orientation == 3:
        image = image[::-1, ::-1]
    elif orientation == 4:
        image = image[::-1]
    elif orientation == 5:
        image = image.swapaxes(0, 1)
    elif orientation == 6:
        image = np.rot90(image, -1)
    elif orientation == 7:
        image = image.swapaxes(0, 1)[::-1, ::-1]
    elif orientation == 8:
        image = np.rot90(image, 1)
    return np.ascontiguousarray(image)


def read_header(data: bytes, name: str) -> _Header:
    """Read the format, size and EXIF orientation without decoding pixels.

    Raises:
        ImageError: when the bytes start with no supported signature, or the header
            is cut short.
    """
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return _png_header(data)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_header(data)
        if data.startswith(b"BM"):
            width, height = struct.unpack_from("<ii", data, 18)
            return _Header("BMP", width, abs(height), 1)
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff_header(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_header(data)
    except (struct.error, IndexError, ValueError):
        raise ImageError(
            f"{name} has a damaged or truncated image header; the file is corrupt."
        ) from None
    raise ImageError(
        f"{name} is not an image this program can read; expected {SUPPORTED_FORMATS}."
    )


def _png_header(data: bytes) -> _Header:
    width, height = struct.unpack_from(">II", data, 16)
    orientation = 1
    offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        if kind == b"eXIf":
            orientation = _exif_orientation(data[offset + 8 : offset + 8 + length])
        if kind in (b"IDAT", b"IEND"):
            break
        offset += 12 + length
    return _Header("PNG", width, height, orientation)


# Start-of-frame markers carry the image size; C4, C8 and CC are other segments.
_JPEG_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD}
_JPEG_SOF_MARKERS |= {0xCE, 0xCF}


def _jpeg_header(data: bytes) -> _Header:
    offset = 2
    orientation = 1
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = data[offset + 1]
        if marker == 0xFF:
            offset += 1
            continue
        (length,) = struct.unpack_from(">H", data, offset + 2)
        segment = data[offset + 4 : offset + 2 + length]
        if marker == 0xE1 and segment.startswith(b"Exif\x00\x00"):
            orientation = _exif_orientation(segment[6:])
        if marker in _JPEG_SOF_MARKERS:
            height, width = struct.unpack_from(">HH", segment, 1)
            return _Header("JPEG", width, height, orientation)
        if marker == 0xDA:
            break
        offset += 2 + length
    raise ValueError("JPEG without a frame header")


def _tiff_header(data: bytes) -> _Header:
    tags = _tiff_ifd0(data)
    width, height = tags.get(256, 0), tags.get(257, 0)
    if not width or not height:
        raise ValueError("TIFF without a size")
    return _Header("TIFF", width, height, tags.get(274, 1))


def _webp_header(data: bytes) -> _Header:
    kind = data[12:16]
    orientation = 1
    if kind == b"VP8 ":
        width, height = struct.unpack_from("<HH", data, 26)
        return _Header("WebP", width & 0x3FFF, height & 0x3FFF, orientation)
    if kind == b"VP8L":
        (bits,) = struct.unpack_from("<I", data, 21)
        return _Header("WebP", 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF), 1)
    if kind == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        offset = 12
        while offset + 8 <= len(data):
            chunk, length = struct.unpack_from("<4sI", data, offset)
            if chunk == b"EXIF":
                exif = data[offset + 8 : offset + 8 + length]
                if exif.startswith(b"Exif\x00\x00"):
                    exif = exif[6:]
                orientation = _exif_orientation(exif)
            offset += 8 + length + (length & 1)
        return _Header("WebP", width, height, orientation)
    raise ValueError("unknown WebP chunk")


def _exif_orientation(tiff: bytes) -> int:
    try:
        value = _tiff_ifd0(tiff).get(274, 1)
    except (struct.error, IndexError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def _tiff_ifd0(data: bytes) -> dict[int, int]:
    """Read the integer tags of a TIFF structure's first directory."""
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, offset)
    tags: dict[int, int] = {}
    for index in range(count):
        tag, kind, _, raw = struct.unpack_from(
            order + "HHI4s", data, offset + 2 + 12 * index
        )
        if kind == 3:  # SHORT
            tags[tag] = struct.unpack_from(order + "H", raw)[0]
        elif kind == 4:  # LONG
            tags[tag] = struct.unpack_from(order + "I", raw)[0]
    return tags
