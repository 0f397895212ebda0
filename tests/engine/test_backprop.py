"""Tests of the worked backpropagation step against derivatives written out by hand."""

import json
import math

import pytest

from engine.backprop import BackpropStep, backprop_step
from engine.errors import ConfigError


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def _hand_step(x1, x2, w1, w2, target, lr) -> dict[str, float]:
    # The chain rule applied by hand, one local derivative per operation.
    a = x1 * w1
    h = _sigmoid(a)
    z = h * w2 + x2
    f = _sigmoid(z)
    dloss_df = 2 * (f - target)
    df_dz = f * (1 - f)
    dh_da = h * (1 - h)
    df_dw2 = df_dz * h
    df_dw1 = df_dz * w2 * dh_da * x1
    return {
        "f": f,
        "loss": (f - target) ** 2,
        "dL/df": dloss_df,
        "df/dz": df_dz,
        "dh/da": dh_da,
        "df/dw1": df_dw1,
        "df/dw2": df_dw2,
        "dL/dw1": dloss_df * df_dw1,
        "dL/dw2": dloss_df * df_dw2,
        "new_w1": w1 - lr * dloss_df * df_dw1,
        "new_w2": w2 - lr * dloss_df * df_dw2,
    }


def test_backprop_worked_example() -> None:
    step = backprop_step(x1=1.0, x2=0.0, w1=0.0, w2=0.0, target=5.0, learning_rate=0.5)

    assert step.f == 0.5
    assert step.loss == 20.25
    assert step.df_dw2 == 0.125
    assert step.dloss_df == -9.0
    assert step.dloss_dw2 == -1.125
    assert step.new_w2 == 0.5625
    assert step.new_w1 == 0.0


@pytest.mark.parametrize(
    "inputs",
    [
        (1.0, 0.0, 0.0, 0.0, 5.0, 0.5),
        (2.0, 0.5, 0.3, -1.2, 1.0, 0.1),
        (-1.5, 2.0, 0.8, 0.7, -0.5, 1.0),
    ],
)
def test_backprop_matches_hand_reference(inputs) -> None:
    x1, x2, w1, w2, target, lr = inputs
    expected = _hand_step(x1, x2, w1, w2, target, lr)

    step = backprop_step(x1, x2, w1, w2, target, lr)

    assert step.f == pytest.approx(expected["f"], rel=1e-12)
    assert step.loss == pytest.approx(expected["loss"], rel=1e-12)
    for name in ("dL/df", "df/dz", "dh/da", "df/dw1", "df/dw2", "dL/dw1", "dL/dw2"):
        assert step.gradients[name] == pytest.approx(expected[name], abs=1e-12), name
    assert step.dz_dh == w2
    assert step.da_dw1 == x1
    assert step.new_w1 == pytest.approx(expected["new_w1"], abs=1e-12)
    assert step.new_w2 == pytest.approx(expected["new_w2"], abs=1e-12)


def test_backprop_chain_rule_holds() -> None:
    step = backprop_step(x1=0.7, x2=-0.2, w1=1.3, w2=0.4, target=2.0)

    product = step.dloss_df * step.df_dz * step.dz_dh * step.dh_da * step.da_dw1
    assert step.dloss_dw1 == pytest.approx(product, rel=1e-12)
    assert step.dloss_dw2 == pytest.approx(
        step.dloss_df * step.df_dz * step.dz_dw2, rel=1e-12
    )


def test_backprop_to_json() -> None:
    data = json.loads(json.dumps(backprop_step().to_json()))

    assert data["gradients"]["dL/df"] == -9.0
    assert data["gradients"]["df/dw2"] == 0.125
    assert data["update"]["new_w2"] == 0.5625
    assert data["forward"]["f"] == 0.5
    assert data["inputs"]["learning_rate"] == 0.5


def test_backprop_step_is_frozen() -> None:
    step = backprop_step()

    assert isinstance(step, BackpropStep)
    with pytest.raises(AttributeError):
        step.new_w2 = 1.0  # type: ignore[misc]


def test_backprop_rejects_nan() -> None:
    with pytest.raises(ConfigError, match="Invalid target nan"):
        backprop_step(target=float("nan"))
