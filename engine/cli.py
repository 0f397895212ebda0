"""The ``digitlab`` command line: one subcommand per job, each in ``engine.commands``."""

import argparse
import logging
import sys
from collections.abc import Sequence

from engine import __version__
from engine.commands import backprop, data, evaluate, gui, read, summary, train
from engine.errors import EngineError
from engine.memory import configure_allocator

logger = logging.getLogger(__name__)

# Each module adds its subparser with add_parser(subparsers) and runs it with run(args).
COMMAND_MODULES = (train, evaluate, read, summary, backprop, data, gui)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitlab",
        description="Train, evaluate and explain a LeNet on MNIST, and read digits from photos.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"digitlab {__version__}"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log more detail (-vv for debug)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.add_parser(subparsers)
    return parser


def configure_logging(verbosity: int) -> None:
    if verbosity >= 2:
        level = logging.DEBUG
    elif verbosity == 1:
        level = logging.INFO
    else:
        level = logging.WARNING
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit status: 0 success, 1 failure, 2 invalid usage."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    configure_allocator()
    try:
        return int(args.run(args) or EXIT_OK)
    except EngineError as error:
        logger.debug("Command %s failed", args.command, exc_info=True)
        print(f"digitlab {args.command}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"digitlab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
