"""Saving and loading trained weights: safetensors for tensors, JSON for metadata.

A model is two files side by side: ``NAME.safetensors`` with the tensors and
``NAME.json`` with the architecture, layer shapes, training config, data source and
metrics. Neither format can run code when read, unlike torch's pickle-based files.
"""

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from engine import __version__
from engine.errors import WeightsError
from engine.models import build_model

logger = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
SHIPPED_WEIGHTS = WEIGHTS_DIR / "lenet.safetensors"
FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model read from disk.

    Attributes:
        model: the network, on the CPU, in eval mode.
        metadata: the JSON metadata saved beside the tensors.
        path: the ``.safetensors`` file it came from.
    """

    model: nn.Module
    metadata: dict[str, Any]
    path: Path

    @property
    def accuracy(self) -> float | None:
        """Test accuracy recorded when the weights were saved, if any."""
        value = self.metadata.get("metrics", {}).get("accuracy")
        return float(value) if value is not None else None


def metadata_path(weights_path: Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def layer_shapes(model: nn.Module) -> dict[str, list[int]]:
    return {name: list(tensor.shape) for name, tensor in model.state_dict().items()}


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_atomically(path: Path, write: Any) -> None:
    """Write through a temporary file in the same folder, then rename it over ``path``.

    The rename is atomic on POSIX and Windows, so a crash or a full disk mid-write
    leaves the previous file as it was.
    """
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    os.close(handle)
    try:
        write(Path(temporary))
        # mkstemp creates the file readable by its owner only, and safetensors'
        # save_file replaces the file, so the mode is set after writing: a saved model
        # gets the permissions of any other file the user creates.
        os.chmod(temporary, 0o666 & ~_current_umask())
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_writable(path: Path) -> None:
    """Check that ``save_weights(path, ...)`` can create files in the folder of ``path``.

    Raises:
        WeightsError: when the folder is missing or a file cannot be created in it.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise WeightsError(
            f"Cannot save weights to {path}: folder {path.parent} does not exist."
        )
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as error:
        raise WeightsError(
            f"Cannot save weights to {path}: {error.strerror or error}. "
            "Choose a folder you can write to."
        ) from error


def save_weights(
    path: Path, model: nn.Module, metadata: dict[str, Any] | None = None
) -> Path:
    """Save a model's tensors and metadata atomically.

    Args:
        path: the ``.safetensors`` file to write; the metadata goes beside it as ``.json``.
        model: the network to save; tensors are copied to the CPU.
        metadata: training config, data source, metrics and anything else to keep. The
            architecture, layer shapes, format and package version are added.

    Returns:
        The path of the ``.safetensors`` file.

    Raises:
        WeightsError: when the folder is missing or not writable, or the disk is full.
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise WeightsError(f"Weights file {path} must end in .safetensors.")
    if not path.parent.is_dir():
        raise WeightsError(
            f"Cannot save weights to {path}: folder {path.parent} does not exist."
        )
    full_metadata = dict(metadata or {})
    full_metadata.update(
        format_version=FORMAT_VERSION,
        architecture=getattr(model, "architecture_name", type(model).__name__.lower()),
        layer_shapes=layer_shapes(model),
        package_version=__version__,
    )
    tensors = {
        name: tensor.detach().cpu().contiguous()
        for name, tensor in model.state_dict().items()
    }
    text = json.dumps(full_metadata, indent=2, sort_keys=True)
    try:
        # Two renames cannot be one atomic step. An interruption between them leaves
        # new tensors beside old metadata: load_weights rejects the pair when the
        # architectures differ, and otherwise loads the new tensors with old metrics.
        _write_atomically(path, lambda target: save_file(tensors, str(target)))
        _write_atomically(
            metadata_path(path),
            lambda target: target.write_text(text + "\n", encoding="utf-8"),
        )
    except OSError as error:
        raise WeightsError(
            f"Cannot save weights to {path}: {error.strerror or error}. "
            "Choose a folder you can write to with free space; the previous file was kept."
        ) from error
    logger.info("Saved weights to %s", path)
    return path


def load_weights(path: Path | None = None) -> LoadedModel:
    """Load weights saved by ``save_weights``; None loads the shipped model.

    Raises:
        WeightsError: when a file is missing or corrupt, or the tensors do not fit the
            architecture named in the metadata.
    """
    path = SHIPPED_WEIGHTS if path is None else Path(path)
    metadata = _read_metadata(path)
    architecture = str(metadata.get("architecture", "lenet"))
    try:
        tensors = load_file(str(path))
    except FileNotFoundError:
        raise WeightsError(f"Weights file not found: {path}.") from None
    except (SafetensorError, OSError, ValueError) as error:
        raise WeightsError(
            f"{path} is not a readable safetensors file ({error}); it may be damaged. "
            "Save the weights again or load the shipped model."
        ) from error
    try:
        model = build_model(architecture)
    except Exception as error:
        raise WeightsError(
            f"{path} names architecture {architecture!r}, which this version cannot build."
        ) from error
    _check_shapes(path, architecture, model, tensors)
    _check_values(path, tensors)
    model.load_state_dict(tensors)
    model.eval()
    logger.info("Loaded %s weights from %s", architecture, path)
    return LoadedModel(model, metadata, path)


def _read_metadata(path: Path) -> dict[str, Any]:
    meta_path = metadata_path(path)
    if path.is_dir():
        raise WeightsError(
            f"{path} is a folder; pass the .safetensors file of the weights to load."
        )
    if not path.is_file():
        raise WeightsError(f"Weights file not found: {path}.")
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WeightsError(
            f"Metadata file {meta_path.name} is missing beside {path}; weights are saved as "
            "a .safetensors and a .json file with the same name."
        ) from None
    except (OSError, ValueError) as error:
        raise WeightsError(
            f"Metadata file {meta_path} is not valid JSON ({error}). "
            "Restore it from a copy, or train and save the model again."
        ) from error
    if not isinstance(metadata, dict):
        raise WeightsError(f"Metadata file {meta_path} must hold a JSON object.")
    return metadata


def _check_values(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    """Reject tensors that cannot be trained weights: integer types, NaN or infinity."""
    for name, tensor in tensors.items():
        if not tensor.is_floating_point():
            raise WeightsError(
                f"{path}: tensor {name} has type {tensor.dtype}; weights must be floating "
                "point. The file was not saved by Digit Lab."
            )
        if not torch.isfinite(tensor).all():
            raise WeightsError(
                f"{path}: tensor {name} contains NaN or infinite values; the model it "
                "came from had diverged. Load another weights file."
            )


def _check_shapes(
    path: Path, architecture: str, model: nn.Module, tensors: dict[str, torch.Tensor]
) -> None:
    expected = layer_shapes(model)
    found = {name: list(tensor.shape) for name, tensor in tensors.items()}
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = [
        f"{name} is {found[name]} but {architecture} needs {shape}"
        for name, shape in expected.items()
        if name in found and found[name] != shape
    ]
    problems = []
    if missing:
        problems.append(f"missing tensors {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors {', '.join(unexpected)}")
    problems.extend(wrong)
    if problems:
        raise WeightsError(
            f"{path} does not fit the {architecture} architecture: {'; '.join(problems)}. "
            "It was probably saved from another network."
        )
