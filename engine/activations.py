"""Per-layer outputs of a model for one image, and its learned conv filters."""

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from engine.datasets import normalize
from engine.evaluation import predict_probabilities_batched

LayerKind = Literal["conv", "relu", "pool", "flatten", "linear", "other"]

_KINDS: tuple[tuple[type[nn.Module], LayerKind], ...] = (
    (nn.Conv2d, "conv"),
    (nn.ReLU, "relu"),
    (nn.MaxPool2d, "pool"),
    (nn.Flatten, "flatten"),
    (nn.Linear, "linear"),
)


@dataclass(frozen=True, eq=False)
class LayerActivation:
    """One stage's output for a single image.

    Attributes:
        name: the stage's name in the model, such as ``"conv1"``.
        kind: what the stage does: conv, relu, pool, flatten or linear.
        output: float32 array without the batch dimension; feature maps are (C, H, W),
            vectors (F,).
    """

    name: str
    kind: LayerKind
    output: npt.NDArray[np.float32]


def layer_kind(module: nn.Module) -> LayerKind:
    for module_type, kind in _KINDS:
        if isinstance(module, module_type):
            return kind
    return "other"


@torch.inference_mode()
def capture_activations(
    model: nn.Module, image: npt.NDArray[np.uint8]
) -> list[LayerActivation]:
    """Run one 28x28 uint8 image through the model and capture every named stage.

    Returns:
        One ``LayerActivation`` per top-level stage, in forward order.
    """
    model.eval()
    device = next(model.parameters()).device
    captured: list[LayerActivation] = []
    handles = []
    for name, module in model.named_children():

        def hook(
            _module: nn.Module, _inputs: object, output: torch.Tensor, name: str = name
        ) -> None:
            captured.append(
                LayerActivation(
                    name,
                    layer_kind(_module),
                    output[0].detach().cpu().numpy().astype(np.float32),
                )
            )

        handles.append(module.register_forward_hook(hook))
    try:
        model(normalize(image).to(device))
    finally:
        for handle in handles:
            handle.remove()
    return captured


def conv_filters(model: nn.Module) -> dict[str, npt.NDArray[np.float32]]:
    """Return each conv stage's kernels as float32 (out_channels, in_channels, k, k)."""
    return {
        name: module.weight.detach().cpu().numpy().astype(np.float32)
        for name, module in model.named_children()
        if isinstance(module, nn.Conv2d)
    }


def predict_probabilities(
    model: nn.Module, images: npt.NDArray[np.uint8]
) -> npt.NDArray[np.float32]:
    """Return softmax probabilities (N, 10) for uint8 images (N, 28, 28) or one (28, 28)."""
    array = np.asarray(images)
    if array.ndim == 2:
        array = array[None]
    probabilities = predict_probabilities_batched(model, array)
    assert probabilities is not None  # no stop event was given
    return probabilities
