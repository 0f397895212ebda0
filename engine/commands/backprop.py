"""The ``digitlab backprop`` subcommand: one worked backpropagation step."""

import argparse
import json

from engine.backprop import BackpropStep, backprop_step
from engine.commands.arguments import finite_float, positive_float

DEFAULTS = backprop_step()


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backprop",
        help="work one backpropagation step on f = sigmoid(sigmoid(x1*w1)*w2 + x2)",
        description="Run one forward pass, backward pass and SGD update on "
        "f = sigmoid(sigmoid(x1*w1)*w2 + x2) with the loss L = (f - target)^2, and "
        "print every intermediate value and partial derivative.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    inputs = (
        ("--x1", DEFAULTS.x1, "first input, multiplied by w1"),
        ("--x2", DEFAULTS.x2, "second input, added before the outer sigmoid"),
        ("--w1", DEFAULTS.w1, "starting weight of the inner neuron"),
        ("--w2", DEFAULTS.w2, "starting weight of the outer neuron"),
        ("--target", DEFAULTS.target, "value the output f should reach"),
    )
    for flag, default, help_text in inputs:
        parser.add_argument(flag, type=finite_float, default=default, help=help_text)
    parser.add_argument(
        "--lr",
        type=positive_float,
        default=DEFAULTS.learning_rate,
        help="SGD learning rate of the update",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the step as one JSON object",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    step = backprop_step(
        x1=args.x1,
        x2=args.x2,
        w1=args.w1,
        w2=args.w2,
        target=args.target,
        learning_rate=args.lr,
    )
    if args.json:
        print(json.dumps(step.to_json(), indent=2))
    else:
        print(format_step(step))
    return 0


def _section(title: str, values: dict[str, float]) -> list[str]:
    width = max(len(name) for name in values)
    return [title] + [
        f"  {name.ljust(width)} = {value:.6g}" for name, value in values.items()
    ]


def format_step(step: BackpropStep) -> str:
    """Format a step as four blocks: inputs, forward pass, derivatives, update."""
    data = step.to_json()
    lines = [f"{data['function']}, {data['loss_function']}", ""]
    lines += _section("inputs", data["inputs"])
    lines += [""] + _section("forward pass", data["forward"])
    lines += [""] + _section("partial derivatives", data["gradients"])
    lines += [""] + _section("SGD update, w - lr * dL/dw", data["update"])
    return "\n".join(lines)
