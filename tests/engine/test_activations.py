import numpy as np
import pytest
import torch

from engine.activations import capture_activations, conv_filters, predict_probabilities
from engine.datasets import normalize
from engine.models import LeNet, layer_names


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return LeNet().eval()


def test_every_stage_captured_in_order(model, sample_test):
    activations = capture_activations(model, sample_test.images[0])
    assert [a.name for a in activations] == layer_names(model)
    kinds = [a.kind for a in activations]
    assert kinds == [
        "conv",
        "relu",
        "pool",
        "conv",
        "relu",
        "pool",
        "flatten",
        "linear",
        "relu",
        "linear",
    ]


def test_activation_shapes_match_model(model, sample_test):
    shapes = {
        a.name: a.output.shape
        for a in capture_activations(model, sample_test.images[0])
    }
    assert shapes["conv1"] == (20, 24, 24)
    assert shapes["pool1"] == (20, 12, 12)
    assert shapes["conv2"] == (50, 8, 8)
    assert shapes["pool2"] == (50, 4, 4)
    assert shapes["flatten"] == (800,)
    assert shapes["fc1"] == (500,)
    assert shapes["fc2"] == (10,)


def test_last_stage_is_logits(model, sample_test):
    image = sample_test.images[5]
    logits = capture_activations(model, image)[-1].output
    with torch.inference_mode():
        expected = model(normalize(image))[0].numpy()
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)


def test_relu_outputs_non_negative(model, sample_test):
    for activation in capture_activations(model, sample_test.images[1]):
        if activation.kind == "relu":
            assert activation.output.min() >= 0


def test_conv_filters_shapes(model):
    filters = conv_filters(model)
    assert filters["conv1"].shape == (20, 1, 5, 5)
    assert filters["conv2"].shape == (50, 20, 5, 5)


def test_predict_probabilities_sum_to_one(model, sample_test):
    probabilities = predict_probabilities(model, sample_test.images[:7])
    assert probabilities.shape == (7, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    assert predict_probabilities(model, sample_test.images[0]).shape == (1, 10)
