"""Light geometric augmentation of normalised digit batches, done on the whole batch at once."""

import math

import torch
import torch.nn.functional as F

from engine.datasets import MNIST_MEAN, MNIST_STD

# Value of a blank pixel after normalisation, used to fill what a shift uncovers.
BACKGROUND = -MNIST_MEAN / MNIST_STD


def random_affine(
    batch: torch.Tensor,
    generator: torch.Generator,
    *,
    max_shift_px: float = 2.0,
    max_rotation_deg: float = 10.0,
    max_scale: float = 0.1,
) -> torch.Tensor:
    """Shift, rotate and scale each image of a (N, 1, H, W) batch by a small random amount.

    Each image gets its own shift in pixels, rotation in degrees and scale factor, drawn
    uniformly from +-max_shift_px, +-max_rotation_deg and 1 +- max_scale.
    """
    count, _, height, width = batch.shape

    def uniform(limit: float) -> torch.Tensor:
        return (torch.rand(count, generator=generator) * 2 - 1) * limit

    angle = uniform(math.radians(max_rotation_deg))
    scale = 1 + uniform(max_scale)
    # affine_grid works in coordinates where the image spans -1..1, so a shift of one
    # pixel is 2 / size.
    shift_x = uniform(max_shift_px) * 2 / width
    shift_y = uniform(max_shift_px) * 2 / height
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift_x], 1), torch.stack([sin, cos, shift_y], 1)], 1
    ).to(batch.device, batch.dtype)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    # grid_sample pads with zeros; shifting by the background value makes the padding blank.
    shifted = batch - BACKGROUND
    warped = F.grid_sample(
        shifted, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    return warped + BACKGROUND
