"""Classify 28x28 crops with the current model in one batch."""

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from engine.datasets import normalize
from engine.reading.components import Piece
from engine.reading.normalisation import normalise_crop


class CropClassifier:
    """Run a model on MNIST-style crops on the CPU, without gradients.

    Counts the crops it has seen, which the reader logs to show how much the split and
    merge searches cost.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.crops_seen = 0

    def probabilities(
        self, crops: npt.NDArray[np.uint8] | list[npt.NDArray[np.uint8]]
    ) -> npt.NDArray[np.float32]:
        """Return softmax probabilities (N, 10) for uint8 crops (N, 28, 28)."""
        batch = np.asarray(crops, np.uint8).reshape(-1, 28, 28)
        if batch.shape[0] == 0:
            return np.zeros((0, 10), np.float32)
        self.crops_seen += batch.shape[0]
        was_training = self.model.training
        self.model.eval()
        parameter = next(self.model.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
        with torch.inference_mode():
            logits = self.model(normalize(batch).to(device))
            probabilities = torch.softmax(logits.float(), dim=1).cpu().numpy()
        if was_training:
            self.model.train()
        return probabilities

    def piece_probabilities(self, pieces: list[Piece]) -> npt.NDArray[np.float32]:
        """Normalise each piece's mask and classify them all in one batch."""
        return self.probabilities([normalise_crop(piece.mask) for piece in pieces])


def log_confidence(probabilities: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Return the log of the top probability of each row."""
    return np.log(np.maximum(probabilities.max(axis=1).astype(np.float64), 1e-9))
