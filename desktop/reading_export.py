"""Write a photo reading with the user's corrections as CSV, JSON or annotated PNG."""

import csv
import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6 import QtGui

from desktop.photo_canvas import BoxAnnotation, render_annotated_image
from desktop.reading_panel import corrected_lines

logger = logging.getLogger(__name__)

EXPORT_SUFFIXES = (".png", ".csv", ".json")
CSV_COLUMNS = (
    "file",
    "line",
    "box",
    "digit",
    "read_digit",
    "corrected",
    "confidence",
    "unsure",
    "x_px",
    "y_px",
    "width_px",
    "height_px",
)


def box_annotations(
    reading: Any, corrections: Mapping[int, int]
) -> list[BoxAnnotation]:
    """Turn a reading's detections into the boxes the canvas draws."""
    boxes = []
    for index, detection in enumerate(reading.detections):
        digit = corrections.get(index, detection.digit)
        boxes.append(
            BoxAnnotation(
                box_xywh_px=tuple(int(value) for value in detection.box_xywh_px),
                label=str(digit),
                confidence=float(detection.confidence),
                unsure=bool(detection.unsure) and index not in corrections,
                corrected=index in corrections,
            )
        )
    return boxes


def csv_rows(name: str, reading: Any, corrections: Mapping[int, int]) -> list[dict]:
    """Return one CSV row per detection, in reading order."""
    rows = []
    for index, detection in enumerate(reading.detections):
        x, y, width, height = detection.box_xywh_px
        rows.append(
            {
                "file": name,
                "line": detection.line + 1,
                "box": index + 1,
                "digit": corrections.get(index, detection.digit),
                "read_digit": detection.digit,
                "corrected": index in corrections,
                "confidence": f"{detection.confidence:.4f}",
                "unsure": bool(detection.unsure),
                "x_px": x,
                "y_px": y,
                "width_px": width,
                "height_px": height,
            }
        )
    return rows


def reading_json(name: str, reading: Any, corrections: Mapping[int, int]) -> dict:
    """Return the engine's JSON form of the reading plus the hand corrections.

    ``digits`` and ``lines`` stay as the network read them. ``corrected_lines`` adds
    the lines with the user's digits, and ``corrections`` lists each change as the box
    index (from 0), the digit read and the digit set by hand.
    """
    document = dict(reading.to_json())
    document["file"] = name
    document["corrections"] = [
        {"box": index, "read_digit": reading.detections[index].digit, "digit": digit}
        for index, digit in sorted(corrections.items())
    ]
    document["corrected_lines"] = corrected_lines(reading, corrections)
    return document


def export_reading(
    path: Path,
    name: str,
    reading: Any,
    photo: QtGui.QImage,
    corrections: Mapping[int, int],
) -> Path:
    """Write the reading to ``path``; the suffix (.png, .csv or .json) picks the format.

    Raises:
        ValueError: for any other suffix.
        OSError: when the file cannot be written.
    """
    suffix = path.suffix.lower()
    if suffix == ".png":
        image = render_annotated_image(photo, box_annotations(reading, corrections))
        _write_atomically(path, lambda temp: _save_png(image, temp))
    elif suffix == ".csv":
        rows = csv_rows(name, reading, corrections)
        _write_atomically(path, lambda temp: _write_csv(temp, rows))
    elif suffix == ".json":
        text = json.dumps(reading_json(name, reading, corrections), indent=2)
        _write_atomically(path, lambda temp: temp.write_text(text + "\n", "utf-8"))
    else:
        raise ValueError(
            f"Cannot export to {path.name}: use a file name ending in "
            f"{', '.join(EXPORT_SUFFIXES)}."
        )
    logger.info("Exported the reading of %s to %s", name, path)
    return path


def _save_png(image: QtGui.QImage, path: Path) -> None:
    if not image.save(str(path), "PNG"):
        raise OSError(f"Qt could not write the PNG file {path}")


def _write_csv(path: Path, rows: Sequence[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _write_atomically(path: Path, write: Any) -> None:
    # Write next to the target and rename, so a failed export never leaves half a file.
    handle, temp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix
    )
    os.close(handle)
    temp = Path(temp_name)
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
