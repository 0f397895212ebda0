"""The ``digitlab evaluate`` subcommand."""

import argparse
import math
import json
import sys
from pathlib import Path

from engine.commands.train import add_data_argument
from engine.datasets import load_dataset
from engine.evaluation import EvaluationResult, evaluate
from engine.progress import ProgressBar
from engine.weights import SHIPPED_WEIGHTS, load_weights


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score weights on a test split",
        description="Score trained weights on the test split: accuracy, confusion matrix, "
        "per-class precision and recall, and the most-confused pairs.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--weights",
        type=Path,
        default=None,
        help=f"weights file (default: the shipped {SHIPPED_WEIGHTS.name})",
    )
    add_data_argument(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object on stdout, misclassified images included",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_weights(args.weights)
    test_set = load_dataset(str(args.data), "test")
    bar = ProgressBar()
    result = evaluate(
        loaded.model,
        test_set,
        on_progress=lambda done, total: bar.update(
            done / total, f"{done}/{total} images"
        ),
    )
    bar.close()
    assert result is not None  # no stop event was given
    if args.json:
        payload = {
            "weights": str(loaded.path),
            "data": test_set.name,
            **result.to_json(),
        }
        print(json.dumps(payload))
    else:
        print_report(result, loaded.path.name, test_set.name)
    return 0


def print_report(result: EvaluationResult, weights_name: str, data_name: str) -> None:
    out = sys.stdout
    print(
        f"{weights_name} on {data_name}: accuracy {result.accuracy:.2%} "
        f"({result.count - len(result.misclassified)} of {result.count})",
        file=out,
    )
    print("\nConfusion matrix (rows: true digit, columns: predicted):", file=out)
    print("      " + "".join(f"{digit:>6}" for digit in range(10)), file=out)
    for digit, row in enumerate(result.confusion_matrix):
        print(f"{digit:>6}" + "".join(f"{count:>6}" for count in row), file=out)
    print("\ndigit  precision  recall", file=out)
    for digit in range(10):
        precision = _percent(result.precision[digit])
        recall = _percent(result.recall[digit])
        print(f"{digit:>5}  {precision:>9}  {recall:>6}", file=out)
    if result.most_confused:
        print("\nMost confused (true -> predicted: count):", file=out)
        for true, predicted, count in result.most_confused[:5]:
            print(f"  {true} -> {predicted}: {count}", file=out)


def _percent(value: float) -> str:
    # NaN means the digit was never predicted (precision) or never present (recall).
    return "n/a" if math.isnan(value) else f"{value:.2%}"
