"""Test set-up shared by tests/engine and tests/desktop."""

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Offscreen unless a developer chose a platform, for example to watch a test run.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
