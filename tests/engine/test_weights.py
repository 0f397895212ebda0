import errno
import json
import pickle

import pytest
import torch

from engine import weights as weights_module
from engine.errors import WeightsError
from engine.models import LeNet
from engine.weights import SHIPPED_WEIGHTS, load_weights, save_weights


def saved_model(tmp_path, name="model.safetensors"):
    torch.manual_seed(0)
    model = LeNet()
    path = save_weights(tmp_path / name, model, {"metrics": {"accuracy": 0.5}})
    return model, path


def test_weights_round_trip(tmp_path):
    model, path = saved_model(tmp_path)
    loaded = load_weights(path)
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], tensor)
    assert loaded.metadata["architecture"] == "lenet"
    assert loaded.metadata["layer_shapes"]["fc1.weight"] == [500, 800]
    assert loaded.accuracy == 0.5


def test_shipped_weights_load():
    if not SHIPPED_WEIGHTS.is_file():
        pytest.skip("no shipped weights in this checkout")
    loaded = load_weights()
    assert loaded.accuracy is not None and loaded.accuracy >= 0.993
    assert loaded.metadata["metrics"]["count"] == 10_000


def test_corrupt_file_rejected(tmp_path):
    _, path = saved_model(tmp_path)
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        load_weights(path)


def test_pickle_file_rejected(tmp_path):
    _, path = saved_model(tmp_path)
    path.write_bytes(pickle.dumps(LeNet().state_dict()))
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        load_weights(path)


def test_other_architecture_explained(tmp_path):
    from safetensors.torch import save_file

    _, path = saved_model(tmp_path)
    tensors = {"conv1.weight": torch.zeros(6, 1, 5, 5), "conv1.bias": torch.zeros(6)}
    save_file(tensors, str(path))
    with pytest.raises(WeightsError) as raised:
        load_weights(path)
    message = str(raised.value)
    assert "does not fit the lenet architecture" in message
    assert "conv1.weight is [6, 1, 5, 5] but lenet needs [20, 1, 5, 5]" in message
    assert "missing tensors" in message


def test_missing_metadata_explained(tmp_path):
    _, path = saved_model(tmp_path)
    path.with_suffix(".json").unlink()
    with pytest.raises(WeightsError, match="Metadata file model.json is missing"):
        load_weights(path)


def test_corrupt_metadata_explained(tmp_path):
    _, path = saved_model(tmp_path)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(WeightsError, match="is not valid JSON"):
        load_weights(path)


def test_missing_file_explained(tmp_path):
    with pytest.raises(WeightsError, match="Weights file not found"):
        load_weights(tmp_path / "absent.safetensors")


def test_missing_folder_rejected(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        save_weights(tmp_path / "no" / "model.safetensors", LeNet())


def test_read_only_folder_rejected(tmp_path, monkeypatch):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    probe = folder / "probe"
    try:
        probe.write_text("x")
    except PermissionError:
        pass
    else:
        # Root ignores the folder's mode, so the refusal the OS would give is simulated.
        probe.unlink()

        def refuse(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(weights_module.tempfile, "mkstemp", refuse)
    try:
        with pytest.raises(WeightsError) as raised:
            save_weights(folder / "model.safetensors", LeNet())
        assert "Cannot save weights to" in str(raised.value)
        assert "Permission denied" in str(raised.value)
    finally:
        folder.chmod(0o700)


def test_full_disk_keeps_previous_file(tmp_path, monkeypatch):
    model, path = saved_model(tmp_path)
    before = path.read_bytes()
    before_metadata = path.with_suffix(".json").read_text()

    def full_disk(tensors, filename):
        with open(filename, "wb") as handle:
            handle.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(weights_module, "save_file", full_disk)
    with pytest.raises(WeightsError) as raised:
        save_weights(path, LeNet(), {"metrics": {"accuracy": 0.9}})
    assert "No space left on device" in str(raised.value)
    assert "the previous file was kept" in str(raised.value)
    assert path.read_bytes() == before
    assert path.with_suffix(".json").read_text() == before_metadata
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model.json",
        "model.safetensors",
    ]
    load_weights(path)


def test_metadata_is_json(tmp_path):
    _, path = saved_model(tmp_path)
    metadata = json.loads(path.with_suffix(".json").read_text())
    assert metadata["format_version"] == 1
    assert "package_version" in metadata


def test_non_finite_tensors_rejected(tmp_path):
    from safetensors.torch import save_file

    model, path = saved_model(tmp_path)
    tensors = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    tensors["fc2.bias"][0] = float("nan")
    save_file(tensors, str(path))
    with pytest.raises(WeightsError, match="fc2.bias contains NaN or infinite values"):
        load_weights(path)


def test_integer_tensors_rejected(tmp_path):
    from safetensors.torch import save_file

    model, path = saved_model(tmp_path)
    tensors = {name: tensor.to(torch.int64) for name, tensor in model.state_dict().items()}
    save_file(tensors, str(path))
    with pytest.raises(WeightsError, match="weights must be floating point"):
        load_weights(path)


def test_folder_given_as_weights(tmp_path):
    with pytest.raises(WeightsError, match="is a folder; pass the .safetensors file"):
        load_weights(tmp_path)


def test_saved_file_mode_follows_umask(tmp_path):
    import os

    previous = os.umask(0o022)
    try:
        _, path = saved_model(tmp_path)
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644
    assert path.with_suffix(".json").stat().st_mode & 0o777 == 0o644


def test_check_writable_accepts_folder(tmp_path):
    from engine.weights import check_writable

    check_writable(tmp_path / "model.safetensors")
    assert list(tmp_path.iterdir()) == []
