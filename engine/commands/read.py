"""The `digitlab read` subcommand: read the digits in photos."""

import argparse
import json
import logging
import sys
from pathlib import Path

import cv2

from engine.errors import EngineError
from engine.reading import annotate, decode_image, read_digits
from engine.weights import load_weights

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "read",
        help="read the handwritten digits in photos",
        description="Find, box and read every handwritten digit in each photo.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("photos", nargs="+", type=Path, metavar="PHOTO",
                        help="photo files (JPEG, PNG, BMP, TIFF or WebP)")
    parser.add_argument("--weights", type=Path, default=None,
                        help="weights file (.safetensors); default: the shipped LeNet")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON list with an object per photo")
    parser.add_argument("--annotate", type=Path, default=None, metavar="OUT_DIR",
                        help="write each photo with boxes and digits drawn into this "
                        "folder, as NAME.annotated.png")
    parser.add_argument("--rotation", type=int, choices=(0, 90, 180, 270),
                        default=None, help="counter-clockwise turn in degrees that "
                        "makes the pages upright; default: detect sideways pages")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Read every photo; return 1 if any could not be read, else 0."""
    model = load_weights(args.weights).model
    if args.annotate is not None:
        _create_folder(args.annotate)
    results = []
    failed = False
    annotation_names: set[str] = set()
    for photo in args.photos:
        try:
            reading = read_digits(photo, model, rotation_deg=args.rotation)
            if args.annotate is not None:
                _write_annotation(photo, reading, args.annotate, annotation_names)
        except EngineError as error:
            logger.debug("Could not read %s", photo, exc_info=True)
            failed = True
            results.append(_error_entry(photo, str(error)))
            if not args.json:
                print(f"{photo}: error: {error}", file=sys.stderr)
            continue
        except Exception as error:
            # One photo that trips a bug must not lose the readings of the others.
            logger.error("Unexpected error while reading %s", photo, exc_info=True)
            failed = True
            message = f"Unexpected error while reading {photo}: {error!r}. Please report it."
            results.append(_error_entry(photo, message))
            if not args.json:
                print(f"{photo}: error: {message}", file=sys.stderr)
            continue
        if args.json:
            results.append(reading.to_json())
        else:
            _print_reading(photo, reading)
    if args.json:
        print(json.dumps(results, indent=2))
    return 1 if failed else 0


def _create_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise EngineError(
            f"--annotate {folder} is a file, not a folder; name a folder to write the "
            "annotated photos into."
        ) from None
    except OSError as error:
        raise EngineError(
            f"Cannot create the --annotate folder {folder}: {error.strerror or error}. "
            "Choose a folder you can write to."
        ) from error


def _error_entry(photo: Path, message: str) -> dict:
    return {"file": str(photo), "digits": "", "lines": [], "detections": [],
            "error": message}


def _print_reading(photo: Path, reading) -> None:
    unsure = sum(detection.unsure for detection in reading.detections)
    note = f" ({unsure} unsure)" if unsure else ""
    text = reading.digits if reading.digits else "(no digits found)"
    print(f"{photo}: {text}{note}")
    for warning in reading.warnings:
        print(f"{photo}: warning: {warning}")


def _write_annotation(photo: Path, reading, folder: Path, used_names: set[str]) -> None:
    image = annotate(decode_image(photo), reading)
    # Photos with one name from different folders get numbered files instead of
    # overwriting each other.
    name = f"{photo.stem}.annotated.png"
    counter = 2
    while name in used_names:
        name = f"{photo.stem}.annotated-{counter}.png"
        counter += 1
    used_names.add(name)
    target = folder / name
    if not cv2.imwrite(str(target), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise EngineError(f"Could not write {target}; check that the folder is writable.")
    logger.info("Wrote %s", target)
