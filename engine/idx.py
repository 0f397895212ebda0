"""Reader for the IDX format that MNIST ships in, gzip-compressed or raw.

An IDX file starts with a magic number whose third byte is the element type (0x08 for
unsigned bytes) and whose fourth byte is the number of dimensions, then one big-endian
int32 per dimension, then the data.
"""

import gzip
import logging
from pathlib import Path

import numpy as np
import numpy.typing as npt

from engine.errors import DataError

logger = logging.getLogger(__name__)

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
GZIP_SIGNATURE = b"\x1f\x8b"


def read_idx_bytes(path: Path) -> bytes:
    """Return the decompressed content of an IDX file, gzip or raw, sniffed from the bytes."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"IDX file not found: {path}") from None
    except OSError as error:
        raise DataError(f"Cannot read IDX file {path}: {error.strerror}") from error
    if not raw.startswith(GZIP_SIGNATURE):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as error:
        raise DataError(
            f"{path} is a damaged gzip file ({error}); download it again."
        ) from error


def _parse(path: Path, expected_magic: int) -> npt.NDArray[np.uint8]:
    content = read_idx_bytes(path)

    if len(content) < 8:
        raise DataError(
            f"{path} is too short to be an IDX file ({len(content)} bytes)."
        )
    magic = int.from_bytes(content[:4], "big")
    if magic != expected_magic:
        raise DataError(
            f"{path} has magic number 0x{magic:08x}, expected 0x{expected_magic:08x}; "
            "is it the right file (images or labels)?"
        )

    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise DataError(f"{path} is truncated inside its header.")
    shape = tuple(
        int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )

    expected_size = header_size + int(np.prod(shape))
    if len(content) < expected_size:
        raise DataError(
            f"{path} is truncated: the header promises shape {shape} "
            f"({expected_size} bytes) but the file has {len(content)} bytes."
        )
    if len(content) > expected_size:
        raise DataError(
            f"{path} has {len(content) - expected_size} bytes past the data "
            f"that its header describes (shape {shape})."
        )

    data = np.frombuffer(content, dtype=np.uint8, offset=header_size)
    return data.reshape(shape)


def read_idx_images(path: Path) -> npt.NDArray[np.uint8]:
    """Read an IDX image file.

    Returns:
        uint8 array of shape (N, rows, columns).

    Raises:
        DataError: when the file is missing, truncated, or not an image file.
    """
    images = _parse(Path(path), IMAGES_MAGIC)
    if images.shape[1:] != (28, 28):
        raise DataError(
            f"{path} contains images of {images.shape[1]}x{images.shape[2]} pixels; "
            "Digit Lab expects 28x28 MNIST images."
        )
    return images


def read_idx_labels(path: Path) -> npt.NDArray[np.int64]:
    """Read an IDX label file.

    Returns:
        int64 array of shape (N,) with values 0 to 9.

    Raises:
        DataError: when the file is missing, truncated, or contains labels outside 0 to 9.
    """
    labels = _parse(Path(path), LABELS_MAGIC)
    if labels.size and labels.max() > 9:
        raise DataError(
            f"{path} contains label {int(labels.max())}; MNIST labels are 0 to 9."
        )
    return labels.astype(np.int64)


def write_idx(
    path: Path, array: npt.NDArray[np.uint8], *, compress: bool = True
) -> None:
    """Write a uint8 array as an IDX file, gzip-compressed when ``compress`` is true."""
    magic = 0x00000800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape
    )
    content = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    if compress:
        content = gzip.compress(content, compresslevel=9, mtime=0)
    Path(path).write_bytes(content)
