"""One-off start-up work that torch would otherwise do in the middle of the first run."""

import logging
import time

import torch

logger = logging.getLogger(__name__)


def warm_up() -> float:
    """Build a throwaway optimizer so torch's lazy imports happen now.

    In torch 2.13 the first optimizer built in a process imports ``torch._dynamo`` (with
    sympy, several hundred modules), which takes a few seconds on a small machine. An app
    calls this once after start-up, on the thread that will train.

    Returns:
        The seconds it took.
    """
    started = time.perf_counter()
    parameter = torch.nn.Parameter(torch.zeros(1))
    torch.optim.SGD([parameter], lr=0.1)
    elapsed = time.perf_counter() - started
    logger.debug("torch warmed up in %.2f s", elapsed)
    return elapsed
