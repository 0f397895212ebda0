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
        (["--epochs", "0"], "epochs must be a positive whole number, got 0"),
        (["--lr", "-1"], "learning_rate must be a positive number, got -1.0"),
        (["--batch-size", "0"], "batch_size must be a positive whole number, got 0"),
    ],
)
def test_train_invalid_hyperparameters(tmp_path, capsys, arguments, message):
    status = main(["train", *arguments, "--out", str(tmp_path / "x.safetensors")])
    assert status == 1
    assert message in capsys.readouterr().err


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


def test_train_unwritable_output(tmp_path, capsys):
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
