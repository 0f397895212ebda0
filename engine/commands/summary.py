"""The ``digitlab summary`` subcommand: an architecture's per-layer parameter table."""

import argparse
import json
import textwrap

from engine.architectures import ARCHITECTURES, ArchitectureTable, architecture_table

HEADERS = ("layer", "kind", "output shape", "weights", "biases", "parameters")
LINE_WIDTH = 88


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "summary",
        help="print the layer table of LeNet, AlexNet, VGG-16 or GoogLeNet",
        description="Print each layer's output shape, weights, biases and parameters, "
        "and the architecture's total parameter count.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "architecture",
        choices=ARCHITECTURES,
        help="architecture whose table to print",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the table as one JSON object with total and layers",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    table = architecture_table(args.architecture)
    if args.json:
        print(json.dumps(table.to_json(), indent=2))
    else:
        print(format_table(table))
    return 0


def _format_shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(size) for size in shape)


def format_table(table: ArchitectureTable) -> str:
    """Format a table as aligned text columns with thousands separators."""
    rows = [
        (
            layer.name,
            layer.kind,
            _format_shape(layer.output_shape),
            f"{layer.weights:,}",
            f"{layer.biases:,}",
            f"{layer.parameters:,}",
        )
        for layer in table.layers
    ]
    total_row = ("total", "", "", "", "", f"{table.total:,}")
    widths = [
        max(len(row[column]) for row in (HEADERS, *rows, total_row))
        for column in range(len(HEADERS))
    ]

    def format_row(row: tuple[str, ...]) -> str:
        # Names and shapes read left to right; counts align on their last digit.
        text = [cell.ljust(widths[i]) for i, cell in enumerate(row[:3])]
        counts = [cell.rjust(widths[i + 3]) for i, cell in enumerate(row[3:])]
        return "  ".join(text + counts).rstrip()

    rule = "-" * len(format_row(HEADERS))
    heading = f"{table.title}, input {_format_shape(table.input_shape)}"
    lines = [heading, "", format_row(HEADERS), rule]
    lines += [format_row(row) for row in rows]
    lines += [rule, format_row(total_row), ""]
    lines.append(textwrap.fill(table.convention, width=LINE_WIDTH))
    return "\n".join(lines)
