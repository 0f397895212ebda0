"""Digit Lab's headless core: data, models, training, evaluation, photo reading, theory.

This package never imports Qt. The desktop app uses only the names exported here.
Each name is imported from its module on first use, so ``import engine`` and the
command line start without loading torch until a command needs it.
"""

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "LayerActivation": "engine.activations",
    "capture_activations": "engine.activations",
    "conv_filters": "engine.activations",
    "predict_probabilities": "engine.activations",
    "ARCHITECTURES": "engine.architectures",
    "ArchitectureTable": "engine.architectures",
    "LayerRow": "engine.architectures",
    "architecture_table": "engine.architectures",
    "BackpropStep": "engine.backprop",
    "backprop_step": "engine.backprop",
    "DigitDataset": "engine.datasets",
    "MNIST_MEAN": "engine.datasets",
    "MNIST_STD": "engine.datasets",
    "load_dataset": "engine.datasets",
    "normalize": "engine.datasets",
    "DEVICES": "engine.devices",
    "resolve_device": "engine.devices",
    "DEFAULT_MIRRORS": "engine.download",
    "DownloadProgress": "engine.download",
    "DownloadStopped": "engine.download",
    "MNIST_SHA256": "engine.download",
    "fetch_mnist": "engine.download",
    "mnist_cache_dir": "engine.download",
    "ConfigError": "engine.errors",
    "DataError": "engine.errors",
    "DownloadError": "engine.errors",
    "EngineError": "engine.errors",
    "ImageError": "engine.errors",
    "TrainingError": "engine.errors",
    "WeightsError": "engine.errors",
    "EvaluationResult": "engine.evaluation",
    "evaluate": "engine.evaluation",
    "LeNet": "engine.models",
    "MODEL_REGISTRY": "engine.models",
    "WEIGHT_INITS": "engine.models",
    "build_model": "engine.models",
    "layer_names": "engine.models",
    "Detection": "engine.reading",
    "MAX_IMAGE_PIXELS": "engine.reading",
    "PhotoReading": "engine.reading",
    "ReadingCancelled": "engine.reading",
    "annotate": "engine.reading",
    "decode_image": "engine.reading",
    "read_digits": "engine.reading",
    "normalise_crop": "engine.reading.normalisation",
    "BatchProgress": "engine.training",
    "EpochProgress": "engine.training",
    "OPTIMIZERS": "engine.training",
    "SCHEDULES": "engine.training",
    "TrainConfig": "engine.training",
    "TrainResult": "engine.training",
    "train": "engine.training",
    "warm_up": "engine.warmup",
    "LoadedModel": "engine.weights",
    "SHIPPED_WEIGHTS": "engine.weights",
    "load_weights": "engine.weights",
    "save_weights": "engine.weights",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from engine.activations import (
        LayerActivation,
        capture_activations,
        conv_filters,
        predict_probabilities,
    )
    from engine.architectures import (
        ARCHITECTURES,
        ArchitectureTable,
        LayerRow,
        architecture_table,
    )
    from engine.backprop import BackpropStep, backprop_step
    from engine.datasets import (
        DigitDataset,
        MNIST_MEAN,
        MNIST_STD,
        load_dataset,
        normalize,
    )
    from engine.devices import DEVICES, resolve_device
    from engine.download import (
        DEFAULT_MIRRORS,
        DownloadProgress,
        DownloadStopped,
        MNIST_SHA256,
        fetch_mnist,
        mnist_cache_dir,
    )
    from engine.errors import (
        ConfigError,
        DataError,
        DownloadError,
        EngineError,
        ImageError,
        TrainingError,
        WeightsError,
    )
    from engine.evaluation import EvaluationResult, evaluate
    from engine.models import (
        LeNet,
        MODEL_REGISTRY,
        WEIGHT_INITS,
        build_model,
        layer_names,
    )
    from engine.reading import (
        Detection,
        MAX_IMAGE_PIXELS,
        PhotoReading,
        ReadingCancelled,
        annotate,
        decode_image,
        read_digits,
    )
    from engine.reading.normalisation import normalise_crop
    from engine.training import (
        BatchProgress,
        EpochProgress,
        OPTIMIZERS,
        SCHEDULES,
        TrainConfig,
        TrainResult,
        train,
    )
    from engine.warmup import warm_up
    from engine.weights import LoadedModel, SHIPPED_WEIGHTS, load_weights, save_weights
