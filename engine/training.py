"""The training loop shared by the command line and the desktop app."""

import copy
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.augmentation import random_affine
from engine.datasets import DigitDataset, load_dataset, normalize
from engine.devices import DEVICES, resolve_device
from engine.errors import ConfigError
from engine.evaluation import EvaluationResult, evaluate
from engine.memory import configure_allocator
from engine.models import MODEL_REGISTRY, WEIGHT_INITS, build_model, initialize_weights

logger = logging.getLogger(__name__)

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("onecycle", "step", "constant")
# Interval between copies of weights that gave a finite loss. The copies let a run that
# diverges before its first epoch ends still hand back usable weights.
SNAPSHOT_INTERVAL_BATCHES = 50
PAUSE_POLL_S = 0.05

Status = Literal["finished", "stopped", "diverged"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; validated on construction.

    Attributes:
        data: ``"sample"``, ``"mnist"`` or a folder of IDX files.
        epochs: passes over the training split.
        batch_size: images per optimiser step.
        learning_rate: peak learning rate (the one-cycle maximum, or the start value).
        optimizer: ``"sgd"`` (with momentum) or ``"adam"``.
        momentum: SGD momentum; ignored by Adam.
        weight_decay: L2 penalty added by the optimiser.
        schedule: ``"onecycle"``, ``"step"`` (x0.1 at 50 % and 75 % of the epochs) or
            ``"constant"``.
        weight_init: ``"default"``, ``"kaiming"``, ``"xavier"`` or ``"constant"``.
        augment: apply small random shifts, rotations and scaling to each batch.
        seed: seeds weight initialisation, shuffling and augmentation.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"mps"``.
        num_threads: torch CPU threads; None keeps torch's choice.
        max_batches: stop each epoch after this many batches (for smoke runs).
        architecture: name in ``engine.models.MODEL_REGISTRY``.
    """

    data: str = "sample"
    epochs: int = 12
    batch_size: int = 64
    learning_rate: float = 0.05
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "onecycle"
    weight_init: str = "default"
    augment: bool = True
    seed: int = 0
    device: str = "auto"
    num_threads: int | None = None
    max_batches: int | None = None
    architecture: str = "lenet"

    def __post_init__(self) -> None:
        _require_positive_int("epochs", self.epochs)
        _require_positive_int("batch_size", self.batch_size)
        if self.num_threads is not None:
            _require_positive_int("num_threads", self.num_threads)
        if self.max_batches is not None:
            _require_positive_int("max_batches", self.max_batches)
        if not (
            isinstance(self.learning_rate, int | float)
            and math.isfinite(self.learning_rate)
            and self.learning_rate > 0
        ):
            raise ConfigError(
                f"learning_rate must be a positive number, got {self.learning_rate!r}; "
                "try 0.05 for SGD or 0.001 for Adam."
            )
        if not (0 <= self.momentum < 1):
            raise ConfigError(f"momentum must be in [0, 1), got {self.momentum!r}.")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError(
                f"weight_decay must be zero or positive, got {self.weight_decay!r}."
            )
        _require_choice("optimizer", self.optimizer, OPTIMIZERS)
        _require_choice("schedule", self.schedule, SCHEDULES)
        _require_choice("weight_init", self.weight_init, WEIGHT_INITS)
        _require_choice("device", self.device, DEVICES)
        _require_choice("architecture", self.architecture, tuple(MODEL_REGISTRY))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _require_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive whole number, got {value!r}.")


def _require_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(
            f"{name} {value!r} is not supported; choose one of: {', '.join(choices)}."
        )


@dataclass(frozen=True)
class BatchProgress:
    """Reported after every optimiser step. ``epoch`` and ``batch`` count from 1."""

    epoch: int
    epochs: int
    batch: int
    batches_per_epoch: int
    loss: float
    images_per_second: float
    elapsed_s: float
    eta_s: float | None


@dataclass(frozen=True)
class EpochProgress:
    """Reported after every epoch, once the test split has been evaluated."""

    epoch: int
    epochs: int
    train_loss: float
    test_accuracy: float
    elapsed_s: float


@dataclass(frozen=True, eq=False)
class TrainResult:
    """The outcome of a run.

    Attributes:
        model: the weights of the best epoch by test accuracy, on the CPU, in eval mode.
        status: ``"finished"``, ``"stopped"`` on request, or ``"diverged"`` on a NaN or
            infinite loss.
        message: one sentence for the user on how the run ended.
        best_accuracy: test accuracy of ``model``; None when no epoch completed.
        best_epoch: the epoch ``model`` comes from, counted from 1.
        batch_losses: training loss of every batch, in order.
        epoch_accuracies: test accuracy after each completed epoch.
        evaluation: full evaluation of ``model`` on the test split, if one completed.
    """

    model: nn.Module
    status: Status
    message: str
    best_accuracy: float | None
    best_epoch: int | None
    batch_losses: list[float]
    epoch_accuracies: list[float]
    evaluation: EvaluationResult | None
    config: TrainConfig
    elapsed_s: float
    train_set_name: str = ""
    train_set_sha256: str = ""
    test_set_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """Return what ``engine.weights.save_weights`` should record about this run."""
        metrics: dict[str, Any] = {"best_epoch": self.best_epoch, "status": self.status}
        if self.evaluation is not None:
            metrics.update(self.evaluation.to_json(include_errors=False))
        metrics["test_set"] = self.test_set_name
        config = self.config.to_json()
        if config["data"] not in ("sample", "mnist"):
            # A folder's own name only: saved metadata should not carry machine paths.
            config["data"] = Path(config["data"]).name
        return {
            "training_config": config,
            "data": {"name": self.train_set_name, "sha256": self.train_set_sha256},
            "metrics": metrics,
            "epoch_accuracies": self.epoch_accuracies,
            "elapsed_s": round(self.elapsed_s, 1),
        }


def _build_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(
            model.parameters(),
            lr=config.learning_rate,
            weight_decay=config.weight_decay,
        )
    return torch.optim.SGD(
        model.parameters(),
        lr=config.learning_rate,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        nesterov=config.momentum > 0,
    )


ONE_CYCLE_WARMUP = 0.2
ONE_CYCLE_START = 0.04


def one_cycle_factor(step: int, total_steps: int) -> float:
    """Return the share of the peak learning rate at ``step`` of a one-cycle schedule.

    It rises linearly from 4 % to 100 % over the first 20 % of the steps, then falls along
    a cosine to zero. Unlike torch's OneCycleLR it also works for runs of a few steps.
    """
    warmup = max(1, int(total_steps * ONE_CYCLE_WARMUP))
    if step < warmup:
        return ONE_CYCLE_START + (1 - ONE_CYCLE_START) * step / warmup
    remaining = max(1, total_steps - warmup)
    progress = min(1.0, (step - warmup) / remaining)
    return 0.5 * (1 + math.cos(math.pi * progress))


class _Schedule:
    """Learning-rate schedule stepped once per batch."""

    def __init__(
        self,
        config: TrainConfig,
        optimizer: torch.optim.Optimizer,
        steps_per_epoch: int,
    ):
        total = config.epochs * steps_per_epoch
        self._scheduler: torch.optim.lr_scheduler.LRScheduler | None
        if config.schedule == "onecycle":
            self._scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer, lambda step: one_cycle_factor(step, total)
            )
        elif config.schedule == "step":
            milestones = [int(total * 0.5), int(total * 0.75)]
            self._scheduler = torch.optim.lr_scheduler.MultiStepLR(
                optimizer, milestones, gamma=0.1
            )
        else:
            self._scheduler = None

    def step(self) -> None:
        if self._scheduler is not None:
            self._scheduler.step()


def train(
    config: TrainConfig,
    *,
    train_set: DigitDataset | None = None,
    test_set: DigitDataset | None = None,
    on_batch: Callable[[BatchProgress], None] | None = None,
    on_epoch: Callable[[EpochProgress], None] | None = None,
    stop: threading.Event | None = None,
    pause: threading.Event | None = None,
) -> TrainResult:
    """Train a model and return the best weights seen.

    Args:
        config: the run's settings.
        train_set: training split; loaded from ``config.data`` when None.
        test_set: split evaluated after each epoch; loaded from ``config.data`` when None.
        on_batch: called after every batch. It runs on the training thread, so it should
            return quickly; callers that update a screen throttle it themselves.
        on_epoch: called after each epoch's evaluation.
        stop: when set, the run ends after the current batch with status ``"stopped"``.
        pause: while set, the loop waits between batches (a set ``stop`` still ends it).

    Returns:
        The outcome, with the best epoch's weights. A NaN or infinite loss ends the run
        with status ``"diverged"`` and the last weights that gave a finite loss.

    Raises:
        ConfigError: when the device is unavailable.
        DataError: when the data cannot be loaded.
    """
    started = time.perf_counter()
    configure_allocator()
    if train_set is None:
        train_set = load_dataset(config.data, "train")
    if test_set is None:
        test_set = load_dataset(config.data, "test")
    device = resolve_device(config.device)
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    logger.info(
        "Training %s on %s (%d images) for %d epochs on %s: %s",
        config.architecture,
        train_set.name,
        len(train_set),
        config.epochs,
        device,
        config,
    )

    torch.manual_seed(config.seed)
    model = build_model(config.architecture)
    initialize_weights(model, config.weight_init)
    # Channels-last layout: on the CPU, oneDNN's convolutions run about 1.5 times
    # faster in it for this LeNet (bench/bench_training.py, 2 cores, torch 2.13).
    model.to(device, memory_format=torch.channels_last)
    generator = torch.Generator().manual_seed(config.seed)
    inputs = normalize(train_set.images)
    targets = torch.from_numpy(train_set.labels)

    batches_per_epoch = math.ceil(len(train_set) / config.batch_size)
    if config.max_batches is not None:
        batches_per_epoch = min(batches_per_epoch, config.max_batches)
    optimizer = _build_optimizer(config, model)
    schedule = _Schedule(config, optimizer, batches_per_epoch)

    loop = _Loop(config, model, device, stop, pause)
    status: Status = "finished"
    message = ""
    total_batches = config.epochs * batches_per_epoch
    images_seen = 0
    loop_started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(train_set), generator=generator)
        epoch_losses: list[float] = []
        for batch_index in range(batches_per_epoch):
            if loop.wait_while_paused():
                status, message = "stopped", f"Stopped on request in epoch {epoch}."
                break
            chosen = order[
                batch_index * config.batch_size : (batch_index + 1) * config.batch_size
            ]
            batch = inputs[chosen]
            if config.augment:
                batch = random_affine(batch, generator)
            batch = batch.to(device, memory_format=torch.channels_last)
            labels = targets[chosen].to(device)

            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(batch), labels)
            loss_value = float(loss.item())
            if not math.isfinite(loss_value):
                status = "diverged"
                message = (
                    f"The loss became {loss_value} in epoch {epoch}, batch {batch_index + 1}; "
                    "training stopped and the last good weights were kept. "
                    "Try a smaller learning rate."
                )
                break
            loss.backward()
            optimizer.step()
            schedule.step()
            loop.record_finite_batch(loss_value)
            epoch_losses.append(loss_value)
            images_seen += len(chosen)

            if on_batch is not None:
                elapsed = time.perf_counter() - loop_started
                done = (epoch - 1) * batches_per_epoch + batch_index + 1
                rate = images_seen / elapsed if elapsed > 0 else 0.0
                eta = elapsed / done * (total_batches - done) if done else None
                on_batch(
                    BatchProgress(
                        epoch,
                        config.epochs,
                        batch_index + 1,
                        batches_per_epoch,
                        loss_value,
                        rate,
                        elapsed,
                        eta,
                    )
                )
        if status != "finished" or not epoch_losses:
            break
        accuracy = loop.finish_epoch(epoch, test_set)
        logger.debug(
            "Epoch %d: train loss %.4f, test accuracy %.4f",
            epoch,
            float(np.mean(epoch_losses)),
            accuracy,
        )
        if on_epoch is not None:
            on_epoch(
                EpochProgress(
                    epoch,
                    config.epochs,
                    float(np.mean(epoch_losses)),
                    accuracy,
                    time.perf_counter() - started,
                )
            )

    return loop.result(
        status, message, test_set, train_set, time.perf_counter() - started
    )


class _Loop:
    """Book-keeping of a run: best weights, finite-loss snapshots, pause and stop."""

    def __init__(
        self,
        config: TrainConfig,
        model: nn.Module,
        device: torch.device,
        stop: threading.Event | None,
        pause: threading.Event | None,
    ):
        self.config = config
        self.model = model
        self.device = device
        self.stop = stop
        self.pause = pause
        self.batch_losses: list[float] = []
        self.epoch_accuracies: list[float] = []
        self.best_accuracy: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.finite_state = self._copy_state()

    def _copy_state(self) -> dict[str, torch.Tensor]:
        return {
            name: tensor.detach().to("cpu", copy=True)
            for name, tensor in self.model.state_dict().items()
        }

    def wait_while_paused(self) -> bool:
        """Block while paused; return True when a stop was requested."""
        while self.pause is not None and self.pause.is_set():
            if self.stop is not None and self.stop.is_set():
                return True
            time.sleep(PAUSE_POLL_S)
        return self.stop is not None and self.stop.is_set()

    def record_finite_batch(self, loss_value: float) -> None:
        self.batch_losses.append(loss_value)
        if len(self.batch_losses) % SNAPSHOT_INTERVAL_BATCHES == 0:
            self.finite_state = self._copy_state()

    def finish_epoch(self, epoch: int, test_set: DigitDataset) -> float:
        result = evaluate(self.model, test_set)
        assert result is not None  # evaluate only returns None when given a stop event
        self.epoch_accuracies.append(result.accuracy)
        self.finite_state = self._copy_state()
        if self.best_accuracy is None or result.accuracy > self.best_accuracy:
            self.best_accuracy, self.best_epoch = result.accuracy, epoch
            self.best_state = self.finite_state
        return result.accuracy

    def result(
        self,
        status: Status,
        message: str,
        test_set: DigitDataset,
        train_set: DigitDataset,
        elapsed_s: float,
    ) -> TrainResult:
        # Back to the usual layout, so callers get plain contiguous tensors.
        model = copy.deepcopy(self.model).to("cpu", memory_format=torch.contiguous_format)
        model.load_state_dict(
            self.best_state if self.best_state is not None else self.finite_state
        )
        model.eval()
        evaluation = evaluate(model, test_set) if self.best_state is not None else None
        if status == "finished":
            message = f"Finished {self.config.epochs} epochs in {elapsed_s:.0f} s."
        if self.best_accuracy is not None:
            message += f" Best test accuracy {self.best_accuracy:.2%} (epoch {self.best_epoch})."
        logger.info("Training %s: %s", status, message)
        return TrainResult(
            model=model,
            status=status,
            message=message,
            best_accuracy=self.best_accuracy,
            best_epoch=self.best_epoch,
            batch_losses=self.batch_losses,
            epoch_accuracies=self.epoch_accuracies,
            evaluation=evaluation,
            config=self.config,
            elapsed_s=elapsed_s,
            train_set_name=train_set.name,
            train_set_sha256=train_set.sha256,
            test_set_name=test_set.name,
        )
