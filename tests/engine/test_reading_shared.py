"""The photo reader on the shared fault cases and real photos (skipped when absent)."""

import csv
from pathlib import Path

import pytest

from engine.errors import ImageError
from engine.reading import read_digits
from tests.engine.reading_pages import load_reading_model

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CASES = SHARED / "cases" / "reading"
PHOTOS = SHARED / "photos"


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    if not (folder / name).is_file():
        return []
    with open(folder / name, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


CASE_ROWS = _rows(CASES, "cases.tsv")


@pytest.fixture(scope="module")
def model():
    return load_reading_model()


@pytest.mark.skipif(not CASE_ROWS, reason="the shared reading cases (../shared/cases/reading) are not available")
@pytest.mark.parametrize("row", CASE_ROWS, ids=[row["file"] for row in CASE_ROWS])
def test_reading_shared_case(model, row):
    path = CASES / row["file"]
    expected = row["expected_digits_or_behaviour"]
    if expected.startswith(("error:", "refuse")):
        with pytest.raises(ImageError, match=path.name):
            read_digits(path, model)
        return
    reading = read_digits(path, model)
    if expected.startswith("warn:"):
        assert any("incomplete" in warning for warning in reading.warnings)
        assert reading.detections == []
        return
    assert reading.digits.replace(" ", "") == expected.replace("/", "")
    if "/" in expected:
        assert [line.replace(" ", "") for line in reading.lines] == expected.split("/")
