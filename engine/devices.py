"""Choice of the torch device a run uses."""

import logging

import torch

from engine.errors import ConfigError

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str) -> torch.device:
    """Turn ``auto|cpu|cuda|mps`` into a torch device that exists on this machine.

    ``auto`` takes CUDA, then Apple's MPS, then the CPU.

    Raises:
        ConfigError: when the named device is unknown or not available here.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" and torch.cuda.is_available():
        return torch.device("cuda")
    if name == "mps" and _mps_available():
        return torch.device("mps")
    if name in DEVICES:
        raise ConfigError(
            f"Device {name!r} is not available on this machine (this torch build: "
            f"{torch.__version__}); use --device cpu or --device auto."
        )
    raise ConfigError(f"Unknown device {name!r}; choose one of: {', '.join(DEVICES)}.")
