"""Digit Lab's headless core: data, models, training, evaluation, photo reading, theory.

This package never imports Qt. The desktop app uses only the names exported here.
"""

__version__ = "0.1.0"

from engine.activations import (  # noqa: E402
    LayerActivation,
    capture_activations,
    conv_filters,
    predict_probabilities,
)
from engine.architectures import (  # noqa: E402
    ARCHITECTURES,
    ArchitectureTable,
    LayerRow,
    architecture_table,
)
from engine.backprop import BackpropStep, backprop_step  # noqa: E402
from engine.datasets import (  # noqa: E402
    MNIST_MEAN,
    MNIST_STD,
    DigitDataset,
    load_dataset,
    normalize,
)
from engine.devices import DEVICES, resolve_device  # noqa: E402
from engine.download import (  # noqa: E402
    DEFAULT_MIRRORS,
    MNIST_SHA256,
    DownloadProgress,
    DownloadStopped,
    fetch_mnist,
    mnist_cache_dir,
)
from engine.errors import (  # noqa: E402
    ConfigError,
    DataError,
    DownloadError,
    EngineError,
    ImageError,
    TrainingError,
    WeightsError,
)
from engine.evaluation import EvaluationResult, evaluate  # noqa: E402
from engine.models import (  # noqa: E402
    MODEL_REGISTRY,
    WEIGHT_INITS,
    LeNet,
    build_model,
    layer_names,
)
from engine.reading import (  # noqa: E402
    MAX_IMAGE_PIXELS,
    Detection,
    PhotoReading,
    ReadingCancelled,
    annotate,
    decode_image,
    read_digits,
)
from engine.reading.normalisation import normalise_crop  # noqa: E402
from engine.training import (  # noqa: E402
    OPTIMIZERS,
    SCHEDULES,
    BatchProgress,
    EpochProgress,
    TrainConfig,
    TrainResult,
    train,
)
from engine.warmup import warm_up  # noqa: E402
from engine.weights import SHIPPED_WEIGHTS, LoadedModel, load_weights, save_weights  # noqa: E402

__all__ = [
    "MAX_IMAGE_PIXELS",
    "Detection",
    "PhotoReading",
    "ReadingCancelled",
    "annotate",
    "decode_image",
    "normalise_crop",
    "read_digits",
    "ARCHITECTURES",
    "DEFAULT_MIRRORS",
    "MNIST_SHA256",
    "ArchitectureTable",
    "BackpropStep",
    "DownloadProgress",
    "DownloadStopped",
    "LayerRow",
    "architecture_table",
    "backprop_step",
    "fetch_mnist",
    "mnist_cache_dir",
    "DEVICES",
    "MNIST_MEAN",
    "MNIST_STD",
    "MODEL_REGISTRY",
    "OPTIMIZERS",
    "SCHEDULES",
    "SHIPPED_WEIGHTS",
    "WEIGHT_INITS",
    "BatchProgress",
    "ConfigError",
    "DataError",
    "DigitDataset",
    "DownloadError",
    "EngineError",
    "EpochProgress",
    "EvaluationResult",
    "ImageError",
    "LayerActivation",
    "LeNet",
    "LoadedModel",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "WeightsError",
    "build_model",
    "capture_activations",
    "conv_filters",
    "evaluate",
    "layer_names",
    "load_dataset",
    "load_weights",
    "normalize",
    "predict_probabilities",
    "resolve_device",
    "save_weights",
    "train",
    "warm_up",
]
