"""Network architectures the engine can train, looked up by name."""

from collections.abc import Callable

import torch
from torch import nn

from engine.errors import ConfigError

INPUT_SHAPE = (1, 28, 28)
NUM_CLASSES = 10


class LeNet(nn.Module):
    """LeNet as taught in the course: two 5x5 conv blocks and two fully connected layers.

    Every stage is its own named module, so a forward hook on any of them captures that
    stage's output: conv1, relu1, pool1, conv2, relu2, pool2, flatten, fc1, relu3, fc2.
    Input: float32 tensor of shape (N, 1, 28, 28), normalised with the MNIST mean and
    standard deviation. Output: logits of shape (N, 10).
    """

    architecture_name = "lenet"

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, kernel_size=5)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(20, 50, kernel_size=5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(50 * 4 * 4, 500)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(500, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.relu1(x)
        x = self.pool1(x)
        x = self.conv2(x)
        x = self.relu2(x)
        x = self.pool2(x)
        x = self.flatten(x)
        x = self.fc1(x)
        x = self.relu3(x)
        return self.fc2(x)


MODEL_REGISTRY: dict[str, Callable[[], nn.Module]] = {"lenet": LeNet}


def build_model(architecture: str = "lenet") -> nn.Module:
    """Build an untrained model of the named architecture.

    Raises:
        ConfigError: when the name is not in ``MODEL_REGISTRY``.
    """
    try:
        factory = MODEL_REGISTRY[architecture]
    except KeyError:
        known = ", ".join(sorted(MODEL_REGISTRY))
        raise ConfigError(
            f"Unknown architecture {architecture!r}; choose one of: {known}."
        ) from None
    return factory()


def layer_names(model: nn.Module) -> list[str]:
    """Return the names of the model's top-level stages in forward order."""
    return [name for name, _ in model.named_children()]


WEIGHT_INITS = ("default", "kaiming", "xavier", "constant")

# Every weight of every layer gets this value under the "constant" scheme. Any constant
# would do: the point is that all units of a layer start equal and so receive equal
# gradients, and they stay copies of one another however long training runs.
CONSTANT_INIT_VALUE = 0.01


def initialize_weights(model: nn.Module, scheme: str) -> None:
    """Re-initialise the conv and linear weights of ``model`` in place.

    ``"default"`` keeps PyTorch's own initialisation, ``"kaiming"`` and ``"xavier"`` use
    the normal-distribution variants, ``"constant"`` sets every weight to one value and
    every bias to zero.

    Raises:
        ConfigError: when the scheme is unknown.
    """
    if scheme not in WEIGHT_INITS:
        raise ConfigError(
            f"Unknown weight initialisation {scheme!r}; choose one of: {', '.join(WEIGHT_INITS)}."
        )
    if scheme == "default":
        return
    for module in model.modules():
        if not isinstance(module, nn.Conv2d | nn.Linear):
            continue
        if scheme == "kaiming":
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        elif scheme == "xavier":
            nn.init.xavier_normal_(module.weight)
        else:
            nn.init.constant_(module.weight, CONSTANT_INIT_VALUE)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
