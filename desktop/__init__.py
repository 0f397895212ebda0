"""Digit Lab's desktop app (PySide6), built on the names that ``engine`` exports."""
