"""Classify 28x28 crops with the current model, in batches, caching repeated crops."""

import copy
import logging

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from engine.datasets import normalize
from engine.reading.components import Piece
from engine.reading.normalisation import normalise_crop

logger = logging.getLogger(__name__)

# Crops per forward pass. Batches of a few thousand ran slower per crop on the CPU
# (measured with the shipped LeNet), as their activations outgrow the caches.
BATCH_CROPS = 256

# Intra-op threads for the forward passes. A second thread gains little on batches
# this small. While another process keeps a core busy, every operator also waits for
# the descheduled thread, so the 7,500 crops of a 5,000-digit grid took 6.0 s with 2
# threads and 1.1 s with 1 on 2 shared cores. torch.set_num_threads applies to the
# calling thread only (checked with torch 2.13), so other threads keep theirs.
INFERENCE_THREADS = 1


class CropClassifier:
    """Run a model on MNIST-style crops without gradients, remembering each piece.

    The split and merge searches and the final reading classify many of the same
    pieces. A piece's crop and probabilities are therefore computed once per reading
    and reused while the piece's mask is the same object. The classifier works on a private copy
    of the model in channels-last layout: the caller's model keeps its train/eval mode
    (a training thread may use it), its forward hooks do not fire on reading crops,
    and oneDNN runs the pooling of channels-last maps several times faster.

    Counts the crops it has classified, which the reader logs to show how much the
    split and merge searches cost.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = _inference_copy(model)
        self.crops_seen = 0
        # Maps id(mask) to (mask, crop, probabilities). The entry keeps the mask
        # alive, so no other array can take its id.
        self._pieces: dict[
            int,
            tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint8], npt.NDArray[np.float32]],
        ] = {}

    def probabilities(
        self, crops: npt.NDArray[np.uint8] | list[npt.NDArray[np.uint8]]
    ) -> npt.NDArray[np.float32]:
        """Return softmax probabilities (N, 10) for uint8 crops (N, 28, 28)."""
        batch = np.asarray(crops, np.uint8).reshape(-1, 28, 28)
        if batch.shape[0] == 0:
            return np.zeros((0, 10), np.float32)
        self.crops_seen += batch.shape[0]
        parameter = next(self.model.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
        # Only a model that could not be copied is the caller's own and may be training.
        was_training = self.model.training
        self.model.eval()
        threads = torch.get_num_threads()
        torch.set_num_threads(min(threads, INFERENCE_THREADS))
        try:
            parts = self._forward(batch, device)
        finally:
            torch.set_num_threads(threads)
            if was_training:
                self.model.train()
        return np.concatenate(parts)

    def _forward(
        self, batch: npt.NDArray[np.uint8], device: torch.device
    ) -> list[npt.NDArray[np.float32]]:
        parts = []
        with torch.inference_mode():
            for start in range(0, batch.shape[0], BATCH_CROPS):
                inputs = normalize(batch[start : start + BATCH_CROPS]).to(device)
                if device.type == "cpu":
                    inputs = inputs.contiguous(memory_format=torch.channels_last)
                logits = self.model(inputs)
                parts.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
        return parts

    def classify_masks(
        self, masks: list[npt.NDArray[np.bool_]]
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
        """Normalise and classify ink masks, reusing the results for masks seen before.

        Returns:
            The crops (N, 28, 28) uint8 and their probabilities (N, 10).
        """
        new = [mask for mask in {id(mask): mask for mask in masks}.values()
               if id(mask) not in self._pieces]
        if new:
            crops = np.array([normalise_crop(mask) for mask in new], np.uint8)
            probabilities = self.probabilities(crops.reshape(-1, 28, 28))
            for mask, crop, row in zip(new, crops, probabilities, strict=True):
                self._pieces[id(mask)] = (mask, crop, row)
        found = [self._pieces[id(mask)] for mask in masks]
        crops = np.array([crop for _, crop, _ in found], np.uint8).reshape(-1, 28, 28)
        rows = np.array([row for _, _, row in found], np.float32).reshape(-1, 10)
        return crops, rows

    def piece_probabilities(self, pieces: list[Piece]) -> npt.NDArray[np.float32]:
        """Normalise each piece's mask and classify them, one batch for the new ones."""
        return self.classify_masks([piece.mask for piece in pieces])[1]


def _inference_copy(model: nn.Module) -> nn.Module:
    try:
        inference = copy.deepcopy(model)
    except Exception as error:  # noqa: BLE001 -- any module may refuse to copy
        logger.debug("Model copy failed (%s); classifying with the model itself", error)
        return model
    for module in inference.modules():
        module._forward_hooks.clear()
        module._forward_pre_hooks.clear()
    inference.eval()
    parameter = next(inference.parameters(), None)
    if parameter is None or parameter.device.type == "cpu":
        inference = inference.to(memory_format=torch.channels_last)
    return inference


def log_confidence(probabilities: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Return the log of the top probability of each row."""
    return np.log(np.maximum(probabilities.max(axis=1).astype(np.float64), 1e-9))
