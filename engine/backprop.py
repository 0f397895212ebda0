"""One worked backpropagation step on a two-neuron chain, computed by torch autograd.

The function is f(x, w) = sigmoid(sigmoid(x1 * w1) * w2 + x2), with the named
intermediate values a = x1 * w1, h = sigmoid(a) and z = h * w2 + x2, so f = sigmoid(z).
The loss is the squared error L = (f - target)^2, without a factor 1/2, so that
dL/df = 2 (f - target).
"""

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any

import torch

from engine.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackpropStep:
    """Forward values, partial derivatives and the SGD update of one step.

    Attributes:
        x1, x2, w1, w2, target, learning_rate: the inputs of the step.
        a, h, z, f, loss: forward values, a = x1*w1, h = sigmoid(a), z = h*w2 + x2,
            f = sigmoid(z) and loss = (f - target)^2.
        dloss_df, df_dz, dz_dh, dh_da, da_dw1, dz_dw2: local derivatives of each
            operation with respect to its input.
        df_dw1, df_dw2, df_dx1, df_dx2: derivatives of f with respect to the weights
            and inputs.
        dloss_dw1, dloss_dw2: derivatives of the loss with respect to the weights.
        new_w1, new_w2: the weights after one SGD step, w - learning_rate * dL/dw.
    """

    x1: float
    x2: float
    w1: float
    w2: float
    target: float
    learning_rate: float
    a: float
    h: float
    z: float
    f: float
    loss: float
    dloss_df: float
    df_dz: float
    dz_dh: float
    dh_da: float
    da_dw1: float
    dz_dw2: float
    df_dw1: float
    df_dw2: float
    df_dx1: float
    df_dx2: float
    dloss_dw1: float
    dloss_dw2: float
    new_w1: float
    new_w2: float

    @property
    def gradients(self) -> dict[str, float]:
        """Every partial derivative, keyed by its usual notation such as "dL/df"."""
        return {
            "dL/df": self.dloss_df,
            "df/dz": self.df_dz,
            "dz/dh": self.dz_dh,
            "dh/da": self.dh_da,
            "da/dw1": self.da_dw1,
            "dz/dw2": self.dz_dw2,
            "df/dw1": self.df_dw1,
            "df/dw2": self.df_dw2,
            "df/dx1": self.df_dx1,
            "df/dx2": self.df_dx2,
            "dL/dw1": self.dloss_dw1,
            "dL/dw2": self.dloss_dw2,
        }

    def to_json(self) -> dict[str, Any]:
        """Return the step as a JSON-serialisable dict of four groups."""
        return {
            "function": "f = sigmoid(sigmoid(x1*w1)*w2 + x2)",
            "loss_function": "L = (f - target)^2",
            "inputs": {
                "x1": self.x1,
                "x2": self.x2,
                "w1": self.w1,
                "w2": self.w2,
                "target": self.target,
                "learning_rate": self.learning_rate,
            },
            "forward": {
                "a": self.a,
                "h": self.h,
                "z": self.z,
                "f": self.f,
                "loss": self.loss,
            },
            "gradients": self.gradients,
            "update": {"new_w1": self.new_w1, "new_w2": self.new_w2},
        }


def _value(tensor: torch.Tensor) -> float:
    # Adding 0.0 turns a negative zero (from multiplying by a zero weight) into 0.0,
    # so printed tables and JSON do not show "-0.0".
    return float(tensor.detach()) + 0.0


def _derivative(output: torch.Tensor, source: torch.Tensor) -> float:
    # retain_graph keeps the graph alive so that every derivative can be read from
    # the same forward pass.
    (gradient,) = torch.autograd.grad(output, source, retain_graph=True)
    return _value(gradient)


def _check_finite(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise ConfigError(
                f"Invalid {name} {value!r} for the backprop step; pass a finite number."
            )


def _check_results_finite(step: "BackpropStep") -> None:
    # Finite inputs can still overflow, such as x1 * w1 = 1e308 * 1e308, and an
    # infinity or NaN would print as invalid JSON and mean nothing to a student.
    for field in dataclasses.fields(step):
        value = getattr(step, field.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(
                f"The backprop step overflows: {field.name} becomes {value}. "
                "Use inputs and weights of moderate size, such as between -100 and 100."
            )


def backprop_step(
    x1: float = 1.0,
    x2: float = 0.0,
    w1: float = 0.0,
    w2: float = 0.0,
    target: float = 5.0,
    learning_rate: float = 0.5,
) -> BackpropStep:
    """Run one forward pass, backward pass and SGD update of the two-neuron chain.

    Autograd computes every derivative in float64 on the CPU. Local derivatives
    (for example dh/da) come from differentiating one operation's output with respect
    to its own input, so a reader can multiply them along the chain and compare the
    product with the end-to-end derivatives (for example dL/dw2).

    Args:
        x1: first input, multiplied by w1.
        x2: second input, added before the outer sigmoid.
        w1: weight of the inner neuron.
        w2: weight of the outer neuron.
        target: value the output f should reach.
        learning_rate: SGD step size.

    Raises:
        ConfigError: when any argument is NaN or infinite, the learning rate is not
            positive, or a value of the step overflows.

    Returns:
        The forward values, the partial derivatives and the updated weights. With
        the defaults: f = 0.5, dL/df = -9, df/dw2 = 0.125 and new w2 = 0.5625.
    """
    _check_finite(
        x1=x1, x2=x2, w1=w1, w2=w2, target=target, learning_rate=learning_rate
    )
    if learning_rate <= 0:
        raise ConfigError(
            f"Invalid learning_rate {learning_rate!r} for the backprop step; "
            "pass a number greater than 0, such as 0.5."
        )
    x1_t, x2_t, w1_t, w2_t = (
        torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for value in (x1, x2, w1, w2)
    )

    a = x1_t * w1_t
    h = torch.sigmoid(a)
    z = h * w2_t + x2_t
    f = torch.sigmoid(z)
    loss = (f - target) ** 2

    dloss_dw1 = _derivative(loss, w1_t)
    dloss_dw2 = _derivative(loss, w2_t)
    # The local derivatives (dL/df, df/dz, dz/dh, dh/da) differentiate with respect
    # to an intermediate value, which autograd allows because a, h, z and f are
    # nodes of the same graph.
    step = BackpropStep(
        x1=x1,
        x2=x2,
        w1=w1,
        w2=w2,
        target=target,
        learning_rate=learning_rate,
        a=_value(a),
        h=_value(h),
        z=_value(z),
        f=_value(f),
        loss=_value(loss),
        dloss_df=_derivative(loss, f),
        df_dz=_derivative(f, z),
        dz_dh=_derivative(z, h),
        dh_da=_derivative(h, a),
        da_dw1=_derivative(a, w1_t),
        dz_dw2=_derivative(z, w2_t),
        df_dw1=_derivative(f, w1_t),
        df_dw2=_derivative(f, w2_t),
        df_dx1=_derivative(f, x1_t),
        df_dx2=_derivative(f, x2_t),
        dloss_dw1=dloss_dw1,
        dloss_dw2=dloss_dw2,
        new_w1=w1 - learning_rate * dloss_dw1 + 0.0,
        new_w2=w2 - learning_rate * dloss_dw2 + 0.0,
    )
    _check_results_finite(step)
    logger.debug(
        "Backprop step: loss %.6g, dL/dw1 %.6g, dL/dw2 %.6g",
        step.loss,
        step.dloss_dw1,
        step.dloss_dw2,
    )
    return step
