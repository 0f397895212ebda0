import threading

import numpy as np
import pytest
import torch

from engine.errors import ConfigError
from engine.training import BatchProgress, TrainConfig, one_cycle_factor, train

SMOKE = dict(epochs=1, batch_size=32, max_batches=12, seed=3)


def test_loss_falls_in_few_batches(tiny_train, tiny_test):
    result = train(TrainConfig(**SMOKE), train_set=tiny_train, test_set=tiny_test)
    assert result.status == "finished"
    assert len(result.batch_losses) == 12
    assert np.mean(result.batch_losses[-4:]) < np.mean(result.batch_losses[:4])


def test_same_seed_same_metrics(tiny_train, tiny_test):
    first = train(TrainConfig(**SMOKE), train_set=tiny_train, test_set=tiny_test)
    second = train(TrainConfig(**SMOKE), train_set=tiny_train, test_set=tiny_test)
    assert first.batch_losses == second.batch_losses
    assert first.epoch_accuracies == second.epoch_accuracies


def test_train_stops_on_request(tiny_train, tiny_test):
    stop = threading.Event()
    seen: list[BatchProgress] = []

    def on_batch(progress: BatchProgress) -> None:
        seen.append(progress)
        if progress.batch == 3:
            stop.set()

    result = train(
        TrainConfig(epochs=2, batch_size=16),
        train_set=tiny_train,
        test_set=tiny_test,
        on_batch=on_batch,
        stop=stop,
    )
    assert result.status == "stopped"
    assert len(seen) == 3
    assert result.best_accuracy is None
    assert result.message == "Stopped on request in epoch 1."


def test_train_pause_then_resume(tiny_train, tiny_test):
    pause = threading.Event()
    resumed = threading.Event()

    def on_batch(progress: BatchProgress) -> None:
        if progress.batch == 2 and not resumed.is_set():
            pause.set()
            threading.Timer(0.2, lambda: (resumed.set(), pause.clear())).start()

    result = train(
        TrainConfig(**SMOKE),
        train_set=tiny_train,
        test_set=tiny_test,
        on_batch=on_batch,
        pause=pause,
    )
    assert resumed.is_set()
    assert result.status == "finished"
    assert len(result.batch_losses) == 12


def test_stop_while_paused(tiny_train, tiny_test):
    pause, stop = threading.Event(), threading.Event()
    pause.set()
    threading.Timer(0.2, stop.set).start()
    result = train(
        TrainConfig(**SMOKE),
        train_set=tiny_train,
        test_set=tiny_test,
        pause=pause,
        stop=stop,
    )
    assert result.status == "stopped"


def test_divergence_keeps_finite_weights(tiny_train, tiny_test):
    config = TrainConfig(
        epochs=1, batch_size=32, learning_rate=1e6, schedule="constant", max_batches=16
    )
    result = train(config, train_set=tiny_train, test_set=tiny_test)
    assert result.status == "diverged"
    assert "Try a smaller learning rate" in result.message
    for tensor in result.model.state_dict().values():
        assert torch.isfinite(tensor).all()


def test_best_epoch_weights_returned(tiny_train, tiny_test):
    result = train(
        TrainConfig(epochs=2, batch_size=32, max_batches=8),
        train_set=tiny_train,
        test_set=tiny_test,
    )
    assert result.best_accuracy == max(result.epoch_accuracies)
    assert result.evaluation is not None
    assert result.evaluation.accuracy == pytest.approx(result.best_accuracy)


def test_constant_init_units_stay_equal(tiny_train, tiny_test):
    config = TrainConfig(weight_init="constant", augment=False, **SMOKE)
    result = train(config, train_set=tiny_train, test_set=tiny_test)
    filters = result.model.conv1.weight.detach()
    # Every filter received the same gradient at every step, so all are still equal.
    assert torch.allclose(filters, filters[0].expand_as(filters))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("epochs", 0, "epochs must be a positive whole number, got 0"),
        ("batch_size", -8, "batch_size must be a positive whole number, got -8"),
        ("learning_rate", 0.0, "learning_rate must be a positive number, got 0.0"),
        ("learning_rate", -0.1, "learning_rate must be a positive number, got -0.1"),
        (
            "learning_rate",
            float("nan"),
            "learning_rate must be a positive number, got nan",
        ),
        ("optimizer", "rmsprop", "optimizer 'rmsprop' is not supported"),
        ("device", "tpu", "device 'tpu' is not supported"),
        ("weight_init", "random", "weight_init 'random' is not supported"),
        ("momentum", 1.5, "momentum must be in [0, 1), got 1.5"),
    ],
)
def test_config_rejects_invalid(field, value, message):
    with pytest.raises(ConfigError) as raised:
        TrainConfig(**{field: value})
    assert message in str(raised.value)


def test_unavailable_device_rejected(tiny_train, tiny_test):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match="'cuda' is not available"):
        train(
            TrainConfig(device="cuda", **SMOKE),
            train_set=tiny_train,
            test_set=tiny_test,
        )


def test_one_cycle_shape():
    factors = [one_cycle_factor(step, 100) for step in range(100)]
    assert factors[0] == pytest.approx(0.04)
    assert max(factors) == pytest.approx(1.0)
    assert factors[-1] < 0.01
    assert one_cycle_factor(0, 1) > 0
