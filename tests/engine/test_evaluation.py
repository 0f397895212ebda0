import numpy as np
import pytest

from engine.evaluation import confusion_matrix, evaluate, summarize
from engine.models import LeNet


def direct_counts(labels, predictions):
    matrix = np.zeros((10, 10), dtype=np.int64)
    for true, predicted in zip(labels, predictions, strict=True):
        matrix[true, predicted] += 1
    return matrix


def random_probabilities(count, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(count, 10))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return rng.integers(0, 10, size=count), probabilities.astype(np.float32)


def test_confusion_matches_direct_counting():
    labels, probabilities = random_probabilities(500)
    predictions = probabilities.argmax(axis=1)
    np.testing.assert_array_equal(
        confusion_matrix(labels, predictions), direct_counts(labels, predictions)
    )


def test_summary_scores():
    labels, probabilities = random_probabilities(400, seed=1)
    result = summarize(labels, probabilities)
    predictions = probabilities.argmax(axis=1)
    assert result.accuracy == pytest.approx(np.mean(predictions == labels))
    for digit in range(10):
        assert result.recall[digit] == pytest.approx(
            np.mean(predictions[labels == digit] == digit)
        )
        assert result.precision[digit] == pytest.approx(
            np.mean(labels[predictions == digit] == digit)
        )


def test_most_confused_ranked():
    labels, probabilities = random_probabilities(400, seed=2)
    result = summarize(labels, probabilities)
    counts = [count for _, _, count in result.most_confused]
    assert counts == sorted(counts, reverse=True)
    true, predicted, count = result.most_confused[0]
    assert result.confusion_matrix[true, predicted] == count
    assert true != predicted


def test_cell_indices_most_confident_first():
    labels, probabilities = random_probabilities(300, seed=3)
    result = summarize(labels, probabilities)
    true, predicted, count = result.most_confused[0]
    cell = result.cell_indices(true, predicted)
    assert len(cell) == count
    confidence = probabilities[cell, predicted]
    assert list(confidence) == sorted(confidence, reverse=True)
    assert all(labels[cell] == true)


def test_misclassified_listed_with_probabilities():
    labels, probabilities = random_probabilities(200, seed=4)
    result = summarize(labels, probabilities)
    assert set(result.misclassified) == set(
        np.flatnonzero(probabilities.argmax(1) != labels)
    )
    payload = result.to_json()
    assert len(payload["misclassified"]) == len(result.misclassified)
    assert len(payload["misclassified"][0]["probabilities"]) == 10


def test_precision_nan_when_never_predicted():
    labels = np.array([0, 1, 1])
    probabilities = np.eye(10, dtype=np.float32)[[0, 0, 0]]
    result = summarize(labels, probabilities)
    assert np.isnan(result.precision[5])
    assert result.to_json()["precision"][5] is None


def test_evaluate_real_model(tiny_test):
    result = evaluate(LeNet(), tiny_test, batch_size=64)
    assert result is not None
    assert result.count == len(tiny_test)
    assert result.confusion_matrix.sum() == len(tiny_test)
