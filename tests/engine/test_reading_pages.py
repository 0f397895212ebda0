"""The photo reader on synthetic pages of real MNIST digits, one fault per test."""

import threading

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.reading import ReadingCancelled, read_digits
from tests.engine.reading_pages import DigitBank, compose_page, load_reading_model, render_photo


@pytest.fixture(scope="module")
def model():
    return load_reading_model()


@pytest.fixture(scope="module")
def bank(model):
    return DigitBank(model)


def digits_of(reading) -> str:
    return reading.digits.replace(" ", "")


def test_reading_clean_row(model, bank):
    ink, boxes = compose_page(bank, ["4071"])
    reading = read_digits(render_photo(ink), model)
    assert digits_of(reading) == "4071"
    assert reading.lines == ["4071"]
    assert reading.rotation_deg == 0


def test_reading_boxes_match_drawn_digits(model, bank):
    ink, boxes = compose_page(bank, ["2583"])
    reading = read_digits(render_photo(ink), model)
    assert len(reading.detections) == len(boxes)
    for detection, (x, y, w, h) in zip(reading.detections, boxes, strict=True):
        bx, by, bw, bh = detection.box_xywh_px
        assert abs(bx - x) <= 4
        assert abs(by - y) <= 4
        assert abs(bw - w) <= 8
        assert abs(bh - h) <= 8


def test_reading_detection_fields(model, bank):
    ink, _ = compose_page(bank, ["69"])
    reading = read_digits(render_photo(ink), model)
    detection = reading.detections[0]
    assert detection.crop_28.shape == (28, 28)
    assert detection.crop_28.dtype == np.uint8
    assert len(detection.top3) == 3
    assert detection.top3[0][0] == detection.digit
    assert 0.0 <= detection.confidence <= 1.0
    assert reading.gray.shape == reading.mask.shape
    assert reading.image_size == (ink.shape[1], ink.shape[0])


def test_reading_shadow_gradient(model, bank):
    ink, _ = compose_page(bank, ["35827"])
    reading = read_digits(render_photo(ink, shadow=0.3), model)
    assert digits_of(reading) == "35827"


def test_reading_blur_and_jpeg_noise(model, bank):
    ink, _ = compose_page(bank, ["1946"])
    photo = render_photo(ink, blur_px=1.5, jpeg_quality=30, noise=6)
    assert digits_of(read_digits(photo, model)) == "1946"


def test_reading_perspective(model, bank):
    ink, _ = compose_page(bank, ["70583"])
    photo = render_photo(ink, perspective=0.06)
    assert digits_of(read_digits(photo, model)) == "70583"


def test_reading_ruled_lines(model, bank):
    ink, _ = compose_page(bank, ["5037"], digit_px=70)
    photo = render_photo(ink, ruled_every_px=40)
    assert digits_of(read_digits(photo, model)) == "5037"


def test_reading_broken_strokes(model, bank):
    ink, _ = compose_page(bank, ["4572"], broken=True)
    assert digits_of(read_digits(render_photo(ink), model)) == "4572"


def test_reading_touching_pairs(model, bank):
    ink, _ = compose_page(bank, ["3800"], touching=True)
    reading = read_digits(render_photo(ink), model)
    assert digits_of(reading) == "3800"


def test_reading_two_slanted_rows(model, bank):
    ink, _ = compose_page(bank, ["123", "4567"], slope=0.12)
    reading = read_digits(render_photo(ink), model)
    assert [line.replace(" ", "") for line in reading.lines] == ["123", "4567"]
    assert [d.line for d in reading.detections] == [0, 0, 0, 1, 1, 1, 1]


@pytest.mark.parametrize("turns", [1, 3])
def test_reading_sideways_page(model, bank, turns):
    ink, _ = compose_page(bank, ["12476", "89524"])
    upright = render_photo(ink)
    sideways = np.ascontiguousarray(np.rot90(upright, -turns))
    reading = read_digits(sideways, model)
    assert reading.rotation_deg == 90 * turns
    assert [line.replace(" ", "") for line in reading.lines] == ["12476", "89524"]
    # Boxes are in the sideways photo's pixels.
    x, y, w, h = reading.detections[0].box_xywh_px
    assert x + w <= sideways.shape[1]
    assert y + h <= sideways.shape[0]


def test_reading_rotation_override(model, bank):
    ink, _ = compose_page(bank, ["2580"])
    sideways = np.ascontiguousarray(np.rot90(render_photo(ink), -1))
    reading = read_digits(sideways, model, rotation_deg=90)
    assert digits_of(reading) == "2580"
    assert reading.rotation_deg == 90


def test_reading_rejects_bad_rotation(model):
    with pytest.raises(ConfigError, match="rotation_deg=45"):
        read_digits(np.full((50, 50, 3), 255, np.uint8), model, rotation_deg=45)


def test_reading_light_on_dark(model, bank):
    ink, _ = compose_page(bank, ["826"])
    reading = read_digits(render_photo(ink, invert=True), model)
    assert digits_of(reading) == "826"


def test_reading_blank_page(model):
    rng = np.random.default_rng(1)
    page = np.clip(230 + rng.normal(0, 3, (400, 600, 3)), 0, 255).astype(np.uint8)
    reading = read_digits(page, model)
    assert reading.digits == ""
    assert reading.detections == []


def test_reading_spaces_between_numbers(model, bank):
    ink_left, _ = compose_page(bank, ["12"], margin_px=40)
    ink_right, _ = compose_page(bank, ["34"], margin_px=40)
    gap = np.zeros((ink_left.shape[0], 200), np.float32)
    reading = read_digits(render_photo(np.hstack([ink_left, gap, ink_right])), model)
    assert reading.digits == "12 34"


def test_reading_large_page_downscaled(model, bank):
    ink, boxes = compose_page(bank, ["6074"], digit_px=400, margin_px=300)
    photo = render_photo(ink)
    assert photo.shape[0] * photo.shape[1] > 3_000_000
    reading = read_digits(photo, model)
    assert digits_of(reading) == "6074"
    assert reading.work_scale < 1.0
    x, y, w, h = reading.detections[0].box_xywh_px
    assert abs(x - boxes[0][0]) <= 8
    assert abs(h - boxes[0][3]) <= 16


def test_reading_stops_on_request(model, bank):
    ink, _ = compose_page(bank, ["12"])
    stop = threading.Event()
    stop.set()
    with pytest.raises(ReadingCancelled):
        read_digits(render_photo(ink), model, stop=stop)


def test_reading_to_json(model, bank):
    ink, _ = compose_page(bank, ["90"])
    data = read_digits(render_photo(ink), model).to_json()
    assert data["digits"] == "90"
    assert data["error"] is None
    assert set(data["detections"][0]) >= {"box", "digit", "confidence", "unsure"}
    assert len(data["detections"][0]["box"]) == 4
