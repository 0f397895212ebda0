"""Tests of `digitlab summary` and `digitlab backprop` through engine.cli.main."""

import json

import pytest

from engine.architectures import ARCHITECTURES
from engine.cli import main


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_summary_json(name: str, capsys) -> None:
    status = main(["summary", name, "--json"])

    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["name"] == name
    assert data["total"] == sum(layer["parameters"] for layer in data["layers"])
    for layer in data["layers"]:
        assert set(layer) >= {"name", "output_shape", "weights", "biases", "parameters"}


def test_summary_json_totals(capsys) -> None:
    totals = {}
    for name in ("alexnet", "vgg16", "googlenet"):
        main(["summary", name, "--json"])
        totals[name] = json.loads(capsys.readouterr().out)["total"]

    assert totals == {
        "alexnet": 62_378_344,
        "vgg16": 138_357_544,
        "googlenet": 6_624_904,
    }


def test_summary_text_table(capsys) -> None:
    status = main(["summary", "alexnet"])

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert status == 0
    assert lines[0] == "AlexNet, input 3x227x227"
    assert lines[2].split() == [
        "layer", "kind", "output", "shape", "weights", "biases", "parameters"
    ]  # fmt: skip
    conv1 = next(line for line in lines if line.startswith("conv1 "))
    assert conv1.split() == ["conv1", "conv", "96x55x55", "34,848", "96", "34,944"]
    total_index = next(i for i, line in enumerate(lines) if line.startswith("total"))
    assert lines[total_index].split() == ["total", "62,378,344"]
    # Counts are right-aligned, so every line of the table ends in the same column.
    assert len({len(line) for line in lines[2 : total_index + 1]}) == 1


def test_summary_rejects_unknown_name(capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["summary", "resnet"])

    assert raised.value.code == 2
    assert "invalid choice: 'resnet'" in capsys.readouterr().err


def test_backprop_json_defaults(capsys) -> None:
    status = main(["backprop", "--json"])

    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["gradients"]["df/dw2"] == 0.125
    assert data["gradients"]["dL/df"] == -9.0
    assert data["update"]["new_w2"] == 0.5625


def test_backprop_options(capsys) -> None:
    argv = ["backprop", "--x1", "2", "--x2", "0.5", "--w1", "0.3", "--w2", "-1.2"]
    status = main([*argv, "--target", "1", "--lr", "0.1", "--json"])

    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["inputs"] == {
        "x1": 2.0,
        "x2": 0.5,
        "w1": 0.3,
        "w2": -1.2,
        "target": 1.0,
        "learning_rate": 0.1,
    }
    assert data["gradients"]["dz/dh"] == -1.2


def test_backprop_text(capsys) -> None:
    status = main(["backprop"])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert "  dL/df  = -9" in lines
    assert "  df/dw2 = 0.125" in lines
    assert "  new_w2 = 0.5625" in lines


def test_backprop_nan_is_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["backprop", "--lr", "nan"])

    assert raised.value.code == 2
    assert "argument --lr: must be a finite number, got nan" in capsys.readouterr().err


def test_backprop_overflow_is_usage_error(capsys) -> None:
    status = main(["backprop", "--x1", "1e308", "--w1", "1e308", "--json"])

    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "The backprop step overflows: a becomes inf" in captured.err


def test_mirror_must_be_http(capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["data", "fetch", "mnist", "--mirror", "notaurl"])

    assert raised.value.code == 2
    assert "expected an http:// or https:// URL, got 'notaurl'" in capsys.readouterr().err


def test_backprop_rejects_bad_number(capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["backprop", "--w1", "one"])

    assert raised.value.code == 2
    assert "argument --w1: expected a number, got 'one'" in capsys.readouterr().err
