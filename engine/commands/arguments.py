"""Argument types shared by the subcommands, so invalid values fail as usage errors."""

import argparse
import math


def positive_int(text: str) -> int:
    """Parse a whole number greater than zero."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value}")
    return value


def positive_float(text: str) -> float:
    """Parse a finite number greater than zero."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """Parse a finite number of zero or more."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or greater, got {text}")
    return value


def unit_interval_float(text: str) -> float:
    """Parse a number in [0, 1), such as a momentum."""
    value = finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"must be at least 0 and below 1, got {text}; 0.9 is the usual momentum"
        )
    return value


def finite_float(text: str) -> float:
    """Parse a number that is neither NaN nor infinite."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value
