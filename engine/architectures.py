"""Per-layer parameter tables of LeNet, AlexNet, VGG-16 and GoogLeNet.

Every row is computed from the layer's hyperparameters (kernel size, channels, stride,
padding) by a small builder that tracks the output shape from layer to layer, so a
total is the sum of its rows and never a typed-in number. Shapes are channels first,
(C, H, W) for feature maps and (features,) after flattening, without the batch axis.
"""

import logging
import math
from dataclasses import dataclass
from typing import Any

from engine.errors import ConfigError

logger = logging.getLogger(__name__)

ARCHITECTURES = ("lenet", "alexnet", "vgg16", "googlenet")


@dataclass(frozen=True)
class LayerRow:
    """One layer of an architecture table.

    Attributes:
        name: layer name; for LeNet it is the stage name in ``engine.models.LeNet``.
        kind: "conv", "relu", "pool", "norm", "flatten", "linear" or "inception".
        output_shape: shape of the layer's output for one input, channels first.
        weights: number of learned multiplicative parameters (kernels, matrices and
            batch-norm scales).
        biases: number of learned additive parameters (biases and batch-norm shifts).
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    weights: int
    biases: int

    @property
    def parameters(self) -> int:
        """Number of learned parameters: weights plus biases."""
        return self.weights + self.biases


@dataclass(frozen=True)
class ArchitectureTable:
    """The layer table of one architecture.

    Attributes:
        name: short name, one of ``ARCHITECTURES``.
        title: name as written in the literature.
        input_shape: shape of one input image, channels first.
        layers: rows in forward order.
        total: sum of the rows' parameters.
        convention: which variant the table counts, and how it differs from other
            published counts.
    """

    name: str
    title: str
    input_shape: tuple[int, ...]
    layers: tuple[LayerRow, ...]
    total: int
    convention: str

    def row(self, name: str) -> LayerRow:
        """Return the row with the given layer name.

        Raises:
            ConfigError: when no row has that name.
        """
        for layer in self.layers:
            if layer.name == name:
                return layer
        known = ", ".join(layer.name for layer in self.layers)
        raise ConfigError(f"{self.title} has no layer {name!r}; its layers: {known}.")

    def to_json(self) -> dict[str, Any]:
        """Return the table as a JSON-serialisable dict."""
        return {
            "name": self.name,
            "title": self.title,
            "input_shape": list(self.input_shape),
            "total": self.total,
            "convention": self.convention,
            "layers": [
                {
                    "name": layer.name,
                    "kind": layer.kind,
                    "output_shape": list(layer.output_shape),
                    "weights": layer.weights,
                    "biases": layer.biases,
                    "parameters": layer.parameters,
                }
                for layer in self.layers
            ],
        }


def _window_output_size(
    size: int, kernel: int, stride: int, pad: int, ceil: bool
) -> int:
    # The output-size rule of torch.nn.Conv2d and MaxPool2d (dilation 1).
    span = size + 2 * pad - kernel
    steps = math.ceil(span / stride) if ceil else span // stride
    # With ceil_mode, PyTorch drops a last window that would start inside the padding.
    if ceil and steps * stride >= size + pad:
        steps -= 1
    return steps + 1


class _TableBuilder:
    """Appends rows while tracking the current output shape."""

    def __init__(self, input_shape: tuple[int, ...]) -> None:
        self.input_shape = input_shape
        self.shape = input_shape
        self.rows: list[LayerRow] = []

    def _add(self, name: str, kind: str, weights: int = 0, biases: int = 0) -> None:
        self.rows.append(LayerRow(name, kind, self.shape, weights, biases))

    def conv(
        self,
        name: str,
        out_channels: int,
        kernel: int,
        stride: int = 1,
        pad: int = 0,
        batch_norm: bool = False,
    ) -> None:
        # A convolution followed by batch norm has no bias of its own, because the
        # batch-norm shift takes its place. Batch norm adds a scale and a shift per
        # channel, counted here as a weight and a bias.
        in_channels, height, width = self.shape
        weights = kernel * kernel * in_channels * out_channels
        biases = out_channels
        if batch_norm:
            weights += out_channels
        height = _window_output_size(height, kernel, stride, pad, ceil=False)
        width = _window_output_size(width, kernel, stride, pad, ceil=False)
        self.shape = (out_channels, height, width)
        self._add(name, "conv", weights, biases)

    def pool(
        self, name: str, kernel: int, stride: int, pad: int = 0, ceil: bool = False
    ) -> None:
        channels, height, width = self.shape
        height = _window_output_size(height, kernel, stride, pad, ceil)
        width = _window_output_size(width, kernel, stride, pad, ceil)
        self.shape = (channels, height, width)
        self._add(name, "pool")

    def global_pool(self, name: str) -> None:
        self.shape = (self.shape[0], 1, 1)
        self._add(name, "pool")

    def activation(self, name: str) -> None:
        self._add(name, "relu")

    def norm(self, name: str) -> None:
        # Local response normalisation, as in AlexNet, has no learned parameters.
        self._add(name, "norm")

    def flatten(self, name: str) -> None:
        self.shape = (math.prod(self.shape),)
        self._add(name, "flatten")

    def linear(self, name: str, out_features: int) -> None:
        (in_features,) = self.shape
        self.shape = (out_features,)
        self._add(name, "linear", in_features * out_features, out_features)

    def inception(
        self,
        name: str,
        ch1x1: int,
        ch3x3_reduce: int,
        ch3x3: int,
        ch5x5_reduce: int,
        ch5x5: int,
        pool_proj: int,
        ch5x5_kernel: int = 5,
        batch_norm: bool = False,
    ) -> None:
        # Four parallel branches whose outputs are concatenated along the channels:
        # 1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max-pool (stride 1) then 1x1.
        in_channels, height, width = self.shape
        branch_convs = (
            (1, in_channels, ch1x1),
            (1, in_channels, ch3x3_reduce),
            (3, ch3x3_reduce, ch3x3),
            (1, in_channels, ch5x5_reduce),
            (ch5x5_kernel, ch5x5_reduce, ch5x5),
            (1, in_channels, pool_proj),
        )
        weights = 0
        biases = 0
        for kernel, conv_in, conv_out in branch_convs:
            weights += kernel * kernel * conv_in * conv_out
            biases += conv_out
            if batch_norm:
                weights += conv_out
        # Every branch pads to keep the spatial size.
        self.shape = (ch1x1 + ch3x3 + ch5x5 + pool_proj, height, width)
        self._add(name, "inception", weights, biases)

    def build(self, name: str, title: str, convention: str) -> ArchitectureTable:
        layers = tuple(self.rows)
        total = sum(layer.parameters for layer in layers)
        return ArchitectureTable(
            name, title, self.input_shape, layers, total, convention
        )


def _lenet() -> ArchitectureTable:
    table = _TableBuilder((1, 28, 28))
    table.conv("conv1", 20, kernel=5)
    table.activation("relu1")
    table.pool("pool1", kernel=2, stride=2)
    table.conv("conv2", 50, kernel=5)
    table.activation("relu2")
    table.pool("pool2", kernel=2, stride=2)
    table.flatten("flatten")
    table.linear("fc1", 500)
    table.activation("relu3")
    table.linear("fc2", 10)
    return table.build(
        "lenet",
        "LeNet (course variant)",
        "The LeNet this engine trains (engine.models.LeNet): 28x28 grey input, no "
        "padding, max-pooling and ReLU, 20 and 50 filters of 5x5, then 500 and 10 "
        "units. LeNet-5 of LeCun et al. (1998) is smaller: a 32x32 input and 6 and 16 "
        "feature maps.",
    )


def _alexnet() -> ArchitectureTable:
    table = _TableBuilder((3, 227, 227))
    table.conv("conv1", 96, kernel=11, stride=4)
    table.activation("relu1")
    table.norm("norm1")
    table.pool("pool1", kernel=3, stride=2)
    table.conv("conv2", 256, kernel=5, pad=2)
    table.activation("relu2")
    table.norm("norm2")
    table.pool("pool2", kernel=3, stride=2)
    table.conv("conv3", 384, kernel=3, pad=1)
    table.activation("relu3")
    table.conv("conv4", 384, kernel=3, pad=1)
    table.activation("relu4")
    table.conv("conv5", 256, kernel=3, pad=1)
    table.activation("relu5")
    table.pool("pool5", kernel=3, stride=2)
    table.flatten("flatten")
    table.linear("fc6", 4096)
    table.activation("relu6")
    table.linear("fc7", 4096)
    table.activation("relu7")
    table.linear("fc8", 1000)
    return table.build(
        "alexnet",
        "AlexNet",
        "Krizhevsky et al. (2012) as a single tower on a 227x227x3 input: every "
        "convolution sees all channels of the layer before. The paper's two-GPU split "
        "(grouped conv2, conv4 and conv5) has fewer parameters.",
    )


def _vgg16() -> ArchitectureTable:
    table = _TableBuilder((3, 224, 224))
    # Five blocks of 3x3 convolutions, each ending in a 2x2 max-pool:
    # (block number, output channels, number of convolutions).
    blocks = ((1, 64, 2), (2, 128, 2), (3, 256, 3), (4, 512, 3), (5, 512, 3))
    for block, channels, conv_count in blocks:
        for index in range(1, conv_count + 1):
            table.conv(f"conv{block}_{index}", channels, kernel=3, pad=1)
            table.activation(f"relu{block}_{index}")
        table.pool(f"pool{block}", kernel=2, stride=2)
    table.flatten("flatten")
    table.linear("fc6", 4096)
    table.activation("relu6")
    table.linear("fc7", 4096)
    table.activation("relu7")
    table.linear("fc8", 1000)
    return table.build(
        "vgg16",
        "VGG-16",
        "Simonyan and Zisserman (2014) on a 224x224x3 input: 13 convolutions of 3x3 "
        "with biases and no batch norm, then three fully connected layers.",
    )


def _googlenet() -> ArchitectureTable:
    table = _TableBuilder((3, 224, 224))
    table.conv("conv1", 64, kernel=7, stride=2, pad=3, batch_norm=True)
    table.pool("maxpool1", kernel=3, stride=2, ceil=True)
    table.conv("conv2", 64, kernel=1, batch_norm=True)
    table.conv("conv3", 192, kernel=3, pad=1, batch_norm=True)
    table.pool("maxpool2", kernel=3, stride=2, ceil=True)

    # Branch widths as in torchvision's googlenet: 1x1, 3x3 reduce, 3x3, 5x5 reduce,
    # 5x5, pool projection. torchvision builds the "5x5" branch with a 3x3 kernel,
    # which its source calls a known bug and keeps, and this table follows it.
    variant = {"ch5x5_kernel": 3, "batch_norm": True}
    table.inception("inception3a", 64, 96, 128, 16, 32, 32, **variant)
    table.inception("inception3b", 128, 128, 192, 32, 96, 64, **variant)
    table.pool("maxpool3", kernel=3, stride=2, ceil=True)
    table.inception("inception4a", 192, 96, 208, 16, 48, 64, **variant)
    table.inception("inception4b", 160, 112, 224, 24, 64, 64, **variant)
    table.inception("inception4c", 128, 128, 256, 24, 64, 64, **variant)
    table.inception("inception4d", 112, 144, 288, 32, 64, 64, **variant)
    table.inception("inception4e", 256, 160, 320, 32, 128, 128, **variant)
    table.pool("maxpool4", kernel=2, stride=2, ceil=True)
    table.inception("inception5a", 256, 160, 320, 32, 128, 128, **variant)
    table.inception("inception5b", 384, 192, 384, 48, 128, 128, **variant)

    table.global_pool("avgpool")
    table.flatten("flatten")
    table.linear("fc", 1000)
    # NOTE: the "about 6.8 million" of the paper's table 1 is quoted, not derived
    # here; only the torchvision total below is computed and tested.
    return table.build(
        "googlenet",
        "GoogLeNet",
        "torchvision's googlenet without the auxiliary classifiers: every convolution "
        "is followed by batch norm instead of a bias, and the 5x5 branch of each "
        "inception module uses 3x3 kernels. The original of Szegedy et al. (2014) "
        "has 5x5 kernels, biases and no batch norm, which comes to 6,998,552 by the "
        "same rules, and the params column of the paper's table 1 adds up to about "
        "6.8 million.",
    )


_BUILDERS = {
    "lenet": _lenet,
    "alexnet": _alexnet,
    "vgg16": _vgg16,
    "googlenet": _googlenet,
}


def architecture_table(name: str) -> ArchitectureTable:
    """Build the per-layer parameter table of a named architecture.

    Args:
        name: one of ``ARCHITECTURES`` ("lenet", "alexnet", "vgg16", "googlenet"),
            case-insensitive.

    Returns:
        The table, with rows in forward order and the total parameter count.

    Raises:
        ConfigError: when the name is not one of ``ARCHITECTURES``.
    """
    try:
        builder = _BUILDERS[name.lower()]
    except KeyError:
        known = ", ".join(ARCHITECTURES)
        raise ConfigError(
            f"Unknown architecture {name!r} for a summary; choose one of: {known}."
        ) from None
    return builder()
