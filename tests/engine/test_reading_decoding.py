"""Photo decoding: formats sniffed from bytes, orientation, depth, alpha, bad files."""

import struct
import zlib

import cv2
import numpy as np
import pytest

from engine.errors import ImageError
from engine.reading import decode_image
from engine.reading.decoding import MAX_IMAGE_PIXELS, decode_source


def _test_image() -> np.ndarray:
    rgb = np.full((40, 60, 3), 255, np.uint8)
    rgb[10:30, 5:20] = (200, 30, 30)  # red block on the left
    return rgb


def _encode(rgb: np.ndarray, extension: str) -> bytes:
    ok, data = cv2.imencode(extension, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("extension", [".png", ".bmp", ".tiff", ".webp", ".jpg"])
def test_decode_formats(extension):
    decoded = decode_image(_encode(_test_image(), extension))
    assert decoded.shape == (40, 60, 3)
    assert decoded[20, 10, 0] > 150
    assert decoded[20, 10, 2] < 100


def test_decode_sniffs_content_not_name(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(_encode(_test_image(), ".png"))
    assert decode_source(path).format == "PNG"


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    segment = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment
    return jpeg[:2] + app1 + jpeg[2:]


def test_decode_applies_exif_orientation():
    jpeg = _with_exif_orientation(_encode(_test_image(), ".jpg"), 6)
    decoded = decode_image(jpeg)
    assert decoded.shape == (60, 40, 3)
    # Orientation 6 turns the image 90 degrees clockwise: the left block goes on top.
    assert decoded[10, 20, 0] > 150
    assert decoded[10, 20, 2] < 100


def test_decode_sixteen_bit():
    gray16 = np.full((20, 30), 65535, np.uint16)
    gray16[5:15, 5:15] = 0
    ok, data = cv2.imencode(".png", gray16)
    decoded = decode_image(data.tobytes())
    assert decoded.dtype == np.uint8
    assert decoded[0, 0, 0] == 255
    assert decoded[10, 10, 0] == 0


def test_decode_alpha_composited_on_white():
    bgra = np.zeros((20, 30, 4), np.uint8)  # black, fully transparent
    bgra[5:15, 5:15] = (0, 0, 0, 255)  # an opaque black square
    ok, data = cv2.imencode(".png", bgra)
    decoded = decode_image(data.tobytes())
    assert tuple(decoded[0, 0]) == (255, 255, 255)
    assert tuple(decoded[10, 10]) == (0, 0, 0)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png(width: int, height: int, colour_type: int, rows: bytes, extra=b"") -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + extra
            + _png_chunk(b"IDAT", zlib.compress(rows)) + _png_chunk(b"IEND", b""))


def test_decode_grey_alpha():
    # Two pixels: black opaque, black transparent.
    data = _png(2, 1, 4, b"\x00" + bytes([0, 255, 0, 0]))
    decoded = decode_image(data)
    assert tuple(decoded[0, 0]) == (0, 0, 0)
    assert tuple(decoded[0, 1]) == (255, 255, 255)


def test_decode_palette():
    palette = _png_chunk(b"PLTE", bytes([255, 0, 0, 0, 0, 255]))
    data = _png(2, 1, 3, b"\x00" + bytes([0, 1]), extra=palette)
    decoded = decode_image(data)
    assert tuple(decoded[0, 0]) == (255, 0, 0)
    assert tuple(decoded[0, 1]) == (0, 0, 255)


def test_decode_rejects_bomb_before_decoding():
    side = 40_000
    data = _png(side, side, 0, b"")  # header only claims the size
    with pytest.raises(ImageError, match="1.60 gigapixels"):
        decode_image(data)
    assert side * side > MAX_IMAGE_PIXELS


def test_decode_rejects_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match="empty.png is an empty file"):
        decode_image(path)


def test_decode_rejects_text(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("These are notes, not a picture.\n")
    with pytest.raises(ImageError, match="notes.png is not an image"):
        decode_image(path)


def test_decode_missing_file(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        decode_image(tmp_path / "nowhere.jpg")


def test_decode_truncated_jpeg_warns():
    rgb = np.full((256, 256, 3), 235, np.uint8)
    rgb[:100, 50:80] = 20
    data = _encode(rgb, ".jpg")
    decoded = decode_source(data[: len(data) * 6 // 10])
    assert decoded.warnings
    assert "incomplete" in decoded.warnings[0]
    assert decoded.rgb.shape == (256, 256, 3)
