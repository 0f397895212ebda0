import json

import pytest

from engine.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["--version"])
    assert raised.value.code == 0
    assert capsys.readouterr().out.startswith("digitlab ")


def test_train_then_evaluate_json(tmp_path, capsys):
    out = tmp_path / "smoke.safetensors"
    status = main(
        [
            "train",
            "--epochs",
            "1",
            "--max-batches",
            "4",
            "--batch-size",
            "32",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert status == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "finished"
    assert summary["weights"] == str(out)
    assert out.is_file()

    assert main(["evaluate", "--weights", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["count"] == 2000
    assert len(report["confusion_matrix"]) == 10
    assert all(len(entry) == 3 for entry in report["most_confused"])
    assert 0 <= report["accuracy"] <= 1


def test_evaluate_text_report(tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    main(["train", "--epochs", "1", "--max-batches", "2", "--out", str(out)])
    capsys.readouterr()
    assert main(["evaluate", "--weights", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Confusion matrix (rows: true digit, columns: predicted):" in text
    assert "precision" in text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--epochs", "0"], "argument --epochs: must be greater than 0, got 0"),
        (["--lr", "-1"], "argument --lr: must be greater than 0, got -1"),
        (["--lr", "nan"], "argument --lr: must be a finite number, got nan"),
        (["--batch-size", "0"], "argument --batch-size: must be greater than 0, got 0"),
        (["--threads", "0"], "argument --threads: must be greater than 0, got 0"),
        (["--momentum", "1.5"], "argument --momentum: must be at least 0 and below 1"),
        (["--epochs", "abc"], "argument --epochs: expected a whole number, got 'abc'"),
    ],
)
def test_train_invalid_hyperparameters(tmp_path, capsys, arguments, message):
    with pytest.raises(SystemExit) as raised:
        main(["train", *arguments, "--out", str(tmp_path / "x.safetensors")])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_train_unavailable_device_is_usage_error(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    status = main(["train", "--device", "cuda", "--out", str(tmp_path / "x.safetensors")])
    assert status == 2
    assert "Device 'cuda' is not available" in capsys.readouterr().err


def test_train_checks_output_before_training(tmp_path, capsys, monkeypatch):
    import engine.commands.train as train_command

    def fail_if_called(*args, **kwargs):
        raise AssertionError("training started before the output folder was checked")

    monkeypatch.setattr(train_command, "train", fail_if_called)
    status = main(["train", "--out", str(tmp_path / "missing" / "x.safetensors")])
    assert status == 1
    assert "folder" in capsys.readouterr().err


def test_diverged_run_keeps_existing_weights(tmp_path, capsys):
    out = tmp_path / "good.safetensors"
    out.write_bytes(b"previous weights")
    arguments = ["--lr", "1e6", "--schedule", "constant", "--max-batches", "10"]
    status = main(["train", "--epochs", "1", *arguments, "--out", str(out)])
    assert status == 1
    assert out.read_bytes() == b"previous weights"
    assert "no weights were saved" in capsys.readouterr().out


def test_summary_into_closed_pipe():
    import subprocess
    import sys

    from tests.engine.conftest import REPO_ROOT

    result = subprocess.run(
        f"{sys.executable} -m engine summary vgg16 | head -1",
        shell=True, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.stdout.startswith("VGG-16")
    assert "BrokenPipeError" not in result.stderr


def test_train_missing_data_folder(tmp_path, capsys):
    status = main(
        [
            "train",
            "--data",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path / "x.safetensors"),
        ]
    )
    assert status == 1
    assert "Data folder not found" in capsys.readouterr().err


def test_train_unwritable_output_named(tmp_path, capsys):
    status = main(["train", "--out", str(tmp_path / "missing" / "x.safetensors")])
    assert status == 1
    assert "folder" in capsys.readouterr().err


def test_evaluate_corrupt_weights(tmp_path, capsys):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"garbage")
    path.with_suffix(".json").write_text("{}")
    assert main(["evaluate", "--weights", str(path)]) == 1
    assert "not a readable safetensors file" in capsys.readouterr().err


def test_usage_error_exit_status(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["train", "--optimizer", "rmsprop"])
    assert raised.value.code == 2
