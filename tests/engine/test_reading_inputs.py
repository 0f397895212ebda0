"""The photo reader on awkward inputs: file kinds, huge images, askew ruled lines."""

import struct
import time
import zlib

import cv2
import numpy as np
import pytest

from engine.errors import ImageError
from engine.reading import read_digits
from tests.engine.reading_pages import DigitBank, compose_page, load_reading_model, render_photo
from tests.engine.test_reading_decoding import _with_exif_orientation


@pytest.fixture(scope="module")
def model():
    return load_reading_model()


@pytest.fixture(scope="module")
def bank(model):
    return DigitBank(model)


def digits_of(reading) -> str:
    return reading.digits.replace(" ", "")


def _encode(image: np.ndarray, extension: str, params=()) -> bytes:
    ok, data = cv2.imencode(extension, image, list(params))
    assert ok
    return data.tobytes()


def test_read_exif_rotated_jpeg(model, bank):
    ink, _ = compose_page(bank, ["741"])
    upright = render_photo(ink)
    # Stored turned a quarter clockwise backwards; orientation 6 turns it back.
    stored = np.ascontiguousarray(np.rot90(upright, 1))
    jpeg = _with_exif_orientation(_encode(stored[..., ::-1], ".jpg"), 6)
    reading = read_digits(jpeg, model)
    assert digits_of(reading) == "741"
    assert reading.rotation_deg == 0
    assert reading.image_size == (upright.shape[1], upright.shape[0])


def test_read_rgba_transparent_black(model, bank):
    ink, _ = compose_page(bank, ["360"])
    bgra = np.zeros(ink.shape + (4,), np.uint8)  # black where transparent
    bgra[..., 3] = (ink * 255).astype(np.uint8)
    reading = read_digits(_encode(bgra, ".png"), model)
    assert digits_of(reading) == "360"


def test_read_sixteen_bit_grey(model, bank):
    ink, _ = compose_page(bank, ["529"])
    grey16 = ((0.92 - 0.8 * ink) * 65535).astype(np.uint16)
    assert digits_of(read_digits(_encode(grey16, ".png"), model)) == "529"


def test_read_undecodable_names_file(model, tmp_path):
    path = tmp_path / "scan.png"
    path.write_text("not a picture\n")
    with pytest.raises(ImageError, match="scan.png"):
        read_digits(path, model)


def _one_bit_png(side: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
            + chunk(b"IEND", b""))


def test_read_refuses_pixel_bomb(model, tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_one_bit_png(32_000))
    assert path.stat().st_size < 1_000_000
    start = time.perf_counter()
    with pytest.raises(ImageError, match=r"bomb\.png.*gigapixels"):
        read_digits(path, model)
    assert time.perf_counter() - start < 1.0


def test_read_askew_ruled_lines(model, bank):
    ink, _ = compose_page(bank, ["2846"], digit_px=70)
    height, width = ink.shape
    ruled = ink.copy()
    for base in range(20, height, 40):
        # One pixel of drop every 120 px, as a sheet photographed slightly turned.
        for x in range(width):
            y = base + x // 120
            if y < height:
                ruled[y, x] = max(ruled[y, x], 0.8)
    assert digits_of(read_digits(render_photo(ruled), model)) == "2846"


def test_read_touching_thin_pair(model, bank):
    ink, _ = compose_page(bank, ["5380"], digit_px=60, touching=True)
    assert digits_of(read_digits(render_photo(ink), model)) == "5380"


def test_read_twelve_megapixel_page(model, bank):
    lines = ["3141592653", "5897932384", "6264338327", "9502884197"]
    ink, boxes = compose_page(bank, lines, digit_px=340, gap_px=160, margin_px=200)
    photo = render_photo(ink, noise=2.0)
    assert photo.shape[0] * photo.shape[1] > 10_000_000
    start = time.perf_counter()
    reading = read_digits(photo, model)
    elapsed = time.perf_counter() - start
    assert reading.lines == lines
    assert reading.work_scale < 0.5
    # Boxes come from the full-resolution photo, not the working copy.
    for detection, (x, y, w, h) in zip(reading.detections, boxes, strict=True):
        bx, by, bw, bh = detection.box_xywh_px
        # Within a twentieth of the digit: a full-resolution MNIST pixel is 17 px.
        assert abs(bx - x) <= h / 20
        assert abs(by - y) <= h / 20
        assert abs(bh - h) <= h / 10
    # Generous for a shared CI machine; about 0.6 s on two idle cores.
    assert elapsed < 4.0


@pytest.mark.parametrize("shape", [(1, 20000), (12000, 3), (1, 801), (2, 2), (5, 3000)])
def test_reading_extreme_aspect_blank(shape):
    # Long thin strips once made OpenCV's resize fail on a zero-pixel side.
    from engine.reading import read_digits

    page = np.full((*shape, 3), 255, np.uint8)
    reading = read_digits(page, load_reading_model())
    assert reading.digits == ""
    assert reading.detections == []


@pytest.mark.parametrize("orientation", ["vertical", "horizontal"])
def test_normalise_one_pixel_stroke(orientation):
    from engine.reading.normalisation import normalise_crop

    mask = np.zeros((200, 200), bool)
    if orientation == "vertical":
        mask[40:190, 140] = True
    else:
        mask[100, 20:180] = True
    crop = normalise_crop(mask)
    assert crop.shape == (28, 28)
    assert crop.max() == 255
