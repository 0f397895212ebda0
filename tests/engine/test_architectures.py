"""Tests of the per-layer parameter tables."""

import json

import pytest
import torch

from engine.architectures import ARCHITECTURES, LayerRow, architecture_table
from engine.errors import ConfigError
from engine.models import LeNet


def test_lenet_total_matches_model() -> None:
    table = architecture_table("lenet")

    expected = sum(parameter.numel() for parameter in LeNet().parameters())
    assert table.total == expected
    assert table.total == 431_080


def test_lenet_rows_match_model_layers() -> None:
    table = architecture_table("lenet")
    model = LeNet()

    assert [row.name for row in table.layers] == [
        name for name, _ in model.named_children()
    ]
    for name, module in model.named_children():
        row = table.row(name)
        weight = getattr(module, "weight", None)
        bias = getattr(module, "bias", None)
        assert row.weights == (weight.numel() if weight is not None else 0), name
        assert row.biases == (bias.numel() if bias is not None else 0), name


def test_lenet_shapes_match_forward_pass() -> None:
    table = architecture_table("lenet")
    model = LeNet().eval()
    shapes: dict[str, tuple[int, ...]] = {}

    def record_shape(name: str):
        def hook(_module, _inputs, output: torch.Tensor) -> None:
            shapes[name] = tuple(output.shape[1:])

        return hook

    for name, module in model.named_children():
        module.register_forward_hook(record_shape(name))

    with torch.no_grad():
        model(torch.zeros(1, *table.input_shape))

    for row in table.layers:
        assert row.output_shape == shapes[row.name], row.name


def test_alexnet_counts() -> None:
    table = architecture_table("alexnet")

    assert table.input_shape == (3, 227, 227)
    assert table.total == 62_378_344
    assert table.row("conv1").parameters == 34_944
    assert table.row("conv1").output_shape == (96, 55, 55)
    assert table.row("fc6").parameters == 37_752_832
    assert table.row("pool5").output_shape == (256, 6, 6)


def test_vgg16_counts() -> None:
    table = architecture_table("vgg16")
    convs = [row for row in table.layers if row.kind == "conv"]

    assert table.total == 138_357_544
    assert len(convs) == 13
    assert table.row("conv2_2").parameters == 147_584
    assert table.row("conv2_2").output_shape == (128, 112, 112)
    assert table.row("fc6").parameters == 102_764_544


def test_googlenet_counts() -> None:
    table = architecture_table("googlenet")
    modules = [row for row in table.layers if row.kind == "inception"]

    assert table.total == 6_624_904
    assert len(modules) == 9
    assert table.row("inception3a").output_shape == (256, 28, 28)
    assert table.row("inception4e").output_shape == (832, 14, 14)
    assert table.row("inception5b").output_shape == (1024, 7, 7)
    assert "torchvision" in table.convention
    assert "6.8 million" in table.convention


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_total_is_sum_of_rows(name: str) -> None:
    table = architecture_table(name)

    assert table.total == sum(row.parameters for row in table.layers)
    assert table.layers[-1].output_shape == ((10,) if name == "lenet" else (1000,))


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_table_to_json(name: str) -> None:
    table = architecture_table(name)

    data = json.loads(json.dumps(table.to_json()))

    assert data["name"] == name
    assert data["total"] == table.total
    assert len(data["layers"]) == len(table.layers)
    first = data["layers"][0]
    assert set(first) >= {"name", "output_shape", "weights", "biases", "parameters"}
    assert first["parameters"] == first["weights"] + first["biases"]


def test_layer_row_parameters() -> None:
    row = LayerRow("fc", "linear", (10,), weights=5000, biases=10)

    assert row.parameters == 5010


def test_unknown_architecture_lists_known() -> None:
    with pytest.raises(ConfigError, match="lenet, alexnet, vgg16, googlenet"):
        architecture_table("resnet50")


def test_unknown_row_raises() -> None:
    with pytest.raises(ConfigError, match="no layer 'conv9'"):
        architecture_table("lenet").row("conv9")
