"""The ``digitlab data`` subcommand: download MNIST and describe a data source."""

import argparse
import json
import urllib.parse
from pathlib import Path

from engine import download
from engine.datasets import load_dataset
from engine.download import DEFAULT_MIRRORS, DownloadProgress
from engine.progress import ProgressBar

MEGABYTE = 1_000_000


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data",
        help="download MNIST or describe a data source",
        description="Download the full MNIST set, or print the size and class counts "
        "of a data source.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_fetch_parser(actions)
    _add_info_parser(actions)


def _add_fetch_parser(actions: argparse._SubParsersAction) -> None:
    parser = actions.add_parser(
        "fetch",
        help="download the four MNIST archives, checking each one's SHA-256",
        description="Download the four MNIST archives into the user cache folder, or "
        "into --dest. Files already present with the right SHA-256 are kept.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("dataset", choices=("mnist",), help="data set to download")
    # SUPPRESS keeps argparse from appending "(default: None)" to help texts that
    # already name the default.
    parser.add_argument(
        "--dest",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="folder for the archives (default: mnist in the user cache folder, or "
        "$DIGITLAB_CACHE_DIR/mnist when that variable is set)",
    )
    parser.add_argument(
        "--mirror",
        dest="mirrors",
        action="append",
        type=mirror_url,
        default=argparse.SUPPRESS,
        metavar="URL",
        help="base URL that serves the archives; repeat to try several in order "
        f"(default: {' then '.join(DEFAULT_MIRRORS)})",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=3,
        metavar="N",
        help="extra attempts per file on each mirror after a failed one",
    )
    parser.set_defaults(run=run_fetch)


def mirror_url(text: str) -> str:
    """Accept an http or https base URL, the only kinds the downloader speaks."""
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise argparse.ArgumentTypeError(
            f"expected an http:// or https:// URL, got {text!r}"
        )
    return text


def _add_info_parser(actions: argparse._SubParsersAction) -> None:
    parser = actions.add_parser(
        "info",
        help="print the size, class counts and hash of each split of a data source",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "source",
        metavar="sample|mnist|DIR",
        help="embedded sample, the full MNIST set in the user cache (downloaded when "
        "missing), or a folder holding the four MNIST IDX files",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the splits as one JSON object"
    )
    parser.set_defaults(run=run_info)


class DownloadBar:
    """Draws ``DownloadProgress`` events on a ``ProgressBar``."""

    def __init__(self, bar: ProgressBar) -> None:
        self.bar = bar

    def __call__(self, progress: DownloadProgress) -> None:
        file_fraction = 0.0
        size = f"{progress.received_bytes / MEGABYTE:.1f} MB"
        if progress.total_bytes:
            file_fraction = progress.received_bytes / progress.total_bytes
            size += f" of {progress.total_bytes / MEGABYTE:.1f} MB"
        fraction = (progress.file_index + file_fraction) / progress.file_count
        number = f"{progress.file_index + 1}/{progress.file_count}"
        self.bar.update(fraction, f"{number} {progress.file_name} {size}")


def run_fetch(args: argparse.Namespace) -> int:
    bar = ProgressBar()
    try:
        # The hash table is looked up when the command runs, not when this module
        # is imported, so tests can serve their own archives.
        folder = download.fetch_mnist(
            getattr(args, "dest", None),
            mirrors=getattr(args, "mirrors", DEFAULT_MIRRORS),
            files=download.MNIST_SHA256,
            on_progress=DownloadBar(bar),
            retries=args.retries,
        )
    finally:
        bar.close()
    print(folder)
    return 0


def run_info(args: argparse.Namespace) -> int:
    bar = ProgressBar()
    try:
        splits = {
            split: load_dataset(args.source, split, on_progress=DownloadBar(bar))
            for split in ("train", "test")
        }
    finally:
        bar.close()
    info = {
        split: {
            "name": dataset.name,
            "count": len(dataset),
            "class_counts": dataset.class_counts(),
            "sha256": dataset.sha256,
        }
        for split, dataset in splits.items()
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for split, entry in info.items():
        counts = " ".join(
            f"{digit}:{count:,}" for digit, count in enumerate(entry["class_counts"])
        )
        print(f"{split}: {entry['count']:,} images from {entry['name']}")
        print(f"  per digit  {counts}")
        print(f"  sha256     {entry['sha256']}")
    return 0
