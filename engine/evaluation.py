"""Test-set evaluation: accuracy, confusion matrix, per-class scores and the errors."""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from engine.datasets import DigitDataset, normalize
from engine.models import NUM_CLASSES

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Scores of a model on one labelled split.

    Attributes:
        accuracy: share of images read correctly, 0 to 1.
        count: number of images evaluated.
        confusion_matrix: int64 (10, 10), rows are true digits, columns predicted ones.
        precision: float64 (10,), per predicted digit; NaN where nothing was predicted.
        recall: float64 (10,), per true digit; NaN where the split has none of it.
        most_confused: (true, predicted, count) for every off-diagonal cell with errors,
            most frequent first.
        predictions: int64 (N,) predicted digit per image.
        probabilities: float32 (N, 10) softmax output per image.
        labels: int64 (N,) true digit per image.
        misclassified: int64 indices into the split of every wrong prediction, the most
            confident mistakes first.
    """

    accuracy: float
    count: int
    confusion_matrix: npt.NDArray[np.int64]
    precision: npt.NDArray[np.float64]
    recall: npt.NDArray[np.float64]
    most_confused: list[tuple[int, int, int]]
    predictions: npt.NDArray[np.int64]
    probabilities: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int64]
    misclassified: npt.NDArray[np.int64]

    def cell_indices(self, true: int, predicted: int) -> npt.NDArray[np.int64]:
        """Return the indices of the images in one confusion-matrix cell.

        The most confident predictions come first, so for an off-diagonal cell the
        errors the model was surest of lead.
        """
        indices = np.flatnonzero(
            (self.labels == true) & (self.predictions == predicted)
        )
        confidence = self.probabilities[indices, predicted]
        return indices[np.argsort(-confidence, kind="stable")]

    def to_json(self, *, include_errors: bool = True) -> dict[str, Any]:
        """Return the result as plain JSON types; NaN scores become null."""
        result: dict[str, Any] = {
            "accuracy": self.accuracy,
            "count": self.count,
            "confusion_matrix": self.confusion_matrix.tolist(),
            "precision": [_finite_or_none(value) for value in self.precision],
            "recall": [_finite_or_none(value) for value in self.recall],
            "most_confused": [list(pair) for pair in self.most_confused],
        }
        if include_errors:
            result["misclassified"] = [
                {
                    "index": int(index),
                    "true": int(self.labels[index]),
                    "predicted": int(self.predictions[index]),
                    "probabilities": [
                        round(float(p), 6) for p in self.probabilities[index]
                    ],
                }
                for index in self.misclassified
            ]
        return result


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def confusion_matrix(
    labels: npt.NDArray[np.int64], predictions: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Count (true, predicted) pairs into a (10, 10) matrix, rows true."""
    flat = labels * NUM_CLASSES + predictions
    counts = np.bincount(flat, minlength=NUM_CLASSES * NUM_CLASSES)
    return counts.reshape(NUM_CLASSES, NUM_CLASSES).astype(np.int64)


def summarize(
    labels: npt.NDArray[np.int64], probabilities: npt.NDArray[np.float32]
) -> EvaluationResult:
    """Build an ``EvaluationResult`` from true labels and predicted probabilities."""
    predictions = probabilities.argmax(axis=1).astype(np.int64)
    matrix = confusion_matrix(labels, predictions)
    correct = np.diag(matrix).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = correct / matrix.sum(axis=0)
        recall = correct / matrix.sum(axis=1)
    errors = [
        (true, predicted, int(matrix[true, predicted]))
        for true in range(NUM_CLASSES)
        for predicted in range(NUM_CLASSES)
        if true != predicted and matrix[true, predicted] > 0
    ]
    errors.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    wrong = np.flatnonzero(predictions != labels)
    wrong_confidence = probabilities[wrong, predictions[wrong]]
    count = len(labels)
    return EvaluationResult(
        accuracy=float(correct.sum() / count) if count else 0.0,
        count=count,
        confusion_matrix=matrix,
        precision=precision,
        recall=recall,
        most_confused=errors,
        predictions=predictions,
        probabilities=probabilities,
        labels=labels,
        misclassified=wrong[np.argsort(-wrong_confidence, kind="stable")],
    )


@torch.inference_mode()
def predict_probabilities_batched(
    model: nn.Module,
    images: npt.NDArray[np.uint8],
    *,
    batch_size: int = 1000,
    on_progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> npt.NDArray[np.float32] | None:
    """Run the model over uint8 images (N, 28, 28) in batches and return softmax (N, 10).

    Returns None when ``stop`` was set before the last batch.
    """
    model.eval()
    device = next(model.parameters()).device
    outputs = []
    for start in range(0, len(images), batch_size):
        if stop is not None and stop.is_set():
            return None
        batch = normalize(images[start : start + batch_size]).to(device)
        outputs.append(torch.softmax(model(batch), dim=1).cpu())
        if on_progress is not None:
            on_progress(min(start + batch_size, len(images)), len(images))
    if not outputs:
        return np.zeros((0, NUM_CLASSES), dtype=np.float32)
    return torch.cat(outputs).numpy().astype(np.float32)


def evaluate(
    model: nn.Module,
    dataset: DigitDataset,
    *,
    batch_size: int = 1000,
    on_progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> EvaluationResult | None:
    """Evaluate a model on a labelled split.

    Args:
        model: a classifier returning logits of shape (N, 10).
        dataset: the split to evaluate.
        batch_size: images per forward pass.
        on_progress: called with (images done, images total) after every batch.
        stop: when set, evaluation ends early and returns None.

    Returns:
        The result, or None when stopped.
    """
    probabilities = predict_probabilities_batched(
        model, dataset.images, batch_size=batch_size, on_progress=on_progress, stop=stop
    )
    if probabilities is None:
        return None
    result = summarize(dataset.labels, probabilities)
    logger.info(
        "Evaluated %s: accuracy %.4f on %d images",
        dataset.name,
        result.accuracy,
        result.count,
    )
    return result
