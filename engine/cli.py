"""The ``digitlab`` command line: one subcommand per job, each in ``engine.commands``."""

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from engine import __version__
from engine.errors import ConfigError, EngineError
from engine.memory import configure_allocator

logger = logging.getLogger(__name__)

# Each module adds its subparser with add_parser(subparsers) and runs it with run(args).
# They are imported inside main(), where Ctrl+C during the slow torch import is handled.
COMMAND_NAMES = ("train", "evaluate", "read", "summary", "backprop", "data", "gui")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def command_modules() -> list[ModuleType]:
    return [importlib.import_module(f"engine.commands.{name}") for name in COMMAND_NAMES]


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
    for module in command_modules():
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
    """Run one subcommand and return its exit status.

    Returns 0 on success, 1 on failure, 2 on invalid usage (argparse exits with 2 by
    itself), and 130 when interrupted with Ctrl+C.
    """
    command = "digitlab"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = f"digitlab {args.command}"
        configure_logging(args.verbose)
        configure_allocator()
        return int(args.run(args) or EXIT_OK)
    except ConfigError as error:
        logger.debug("%s: invalid settings", command, exc_info=True)
        print(f"{command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except EngineError as error:
        logger.debug("%s failed", command, exc_info=True)
        print(f"{command}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away, as with `digitlab summary vgg16 | head`.
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
