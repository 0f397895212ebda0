"""Digit Lab's headless core: data, models, training, evaluation, photo reading, theory.

This package never imports Qt. The desktop app uses only the names exported here.
"""

__version__ = "0.1.0"
