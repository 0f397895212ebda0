"""Allocator tuning for the many large, short-lived buffers of training and inference."""

import ctypes
import ctypes.util
import logging
import sys

logger = logging.getLogger(__name__)

# From glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
# Free memory above this stays with the process instead of going back to the OS at once.
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024

_configured = False


def configure_allocator() -> bool:
    """Keep glibc from giving every large activation a fresh ``mmap``.

    By default glibc serves each allocation over 128 KiB or so with its own ``mmap`` and
    unmaps it on free, so every batch faults its activation buffers in again from zeroed
    pages. Turning mmap off and raising the trim threshold lets freed buffers be reused.
    The cost is that up to ``TRIM_THRESHOLD_BYTES`` of freed memory stays reserved.

    Returns:
        True when the settings were applied; False on other C libraries and systems,
        where the call does nothing.
    """
    global _configured
    if _configured:
        return True
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        logger.debug("No mallopt in %s; the allocator keeps its defaults", name)
        return False
    applied = (
        mallopt(_M_MMAP_MAX, 0) == 1
        and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1
    )
    _configured = applied
    logger.debug("glibc allocator tuned for reuse of large buffers: %s", applied)
    return applied
