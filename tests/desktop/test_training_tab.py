"""Training tab: a short real run, stop, failure, divergence, remembered settings."""

import logging
from types import SimpleNamespace

import pytest

import engine
from desktop.model_state import ModelState
from desktop.training_tab import TrainingTab, format_duration

pytestmark = pytest.mark.gui

RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def tab(qtbot):
    widget = TrainingTab(ModelState())
    qtbot.addWidget(widget)
    yield widget
    if widget.is_training():
        with qtbot.waitSignal(widget.training_ended, timeout=RUN_TIMEOUT_MS):
            widget.stop()


def short_config(**changes):
    values = dict(
        data="sample",
        epochs=1,
        batch_size=32,
        max_batches=6,
        num_threads=1,
        augment=False,
    )
    values.update(changes)
    return engine.TrainConfig(**values)


def test_training_run_updates_plot(qtbot, tab):
    with qtbot.waitSignal(tab.training_ended, timeout=RUN_TIMEOUT_MS) as ended:
        assert tab.start(short_config())
    assert ended.args == ["finished"]
    assert tab.plot.batch_count == 6
    assert tab.plot.epoch_count == 1
    assert tab.use_button.isEnabled()
    assert tab.save_button.isEnabled()
    assert tab.start_button.isEnabled()
    assert "images/s" in tab.speed_label.text()
    assert "Epoch 1/1" in tab.log_view.toPlainText()


def test_training_result_becomes_current_model(qtbot, tab):
    state = tab._model_state
    with qtbot.waitSignal(tab.training_ended, timeout=RUN_TIMEOUT_MS):
        tab.start(short_config())
    with qtbot.waitSignal(state.model_changed, timeout=1000):
        tab.use_trained_model()
    assert state.model is tab.outcome.result.model
    assert state.test_set.name == "sample/test"
    assert state.evaluation is tab.outcome.result.evaluation
    assert state.display_name.startswith("Trained ")


def test_training_stops_on_request(qtbot, tab):
    with qtbot.waitSignal(tab.batches_plotted, timeout=RUN_TIMEOUT_MS):
        tab.start(short_config(max_batches=None, epochs=3))
    with qtbot.waitSignal(tab.training_ended, timeout=5000) as ended:
        tab.stop()
    assert ended.args == ["stopped"]
    assert tab.outcome is not None
    assert tab.outcome.result.status == "stopped"
    assert not tab.is_training()
    assert tab.progress_bar.format() == "Stopped"


def test_training_pause_holds_batches(qtbot, tab):
    with qtbot.waitSignal(tab.batches_plotted, timeout=RUN_TIMEOUT_MS):
        tab.start(short_config(max_batches=None, epochs=3))
    tab.pause_button.setChecked(True)
    assert tab.pause_button.text() == "Resume"
    qtbot.wait(300)
    count = tab.plot.batch_count
    qtbot.wait(400)
    assert tab.plot.batch_count == count
    with qtbot.waitSignal(tab.training_ended, timeout=5000) as ended:
        tab.stop()
    assert ended.args == ["stopped"]


def test_training_failure_shows_message(qtbot, tab, shown_errors, monkeypatch):
    def broken_train(config, **kwargs):
        raise engine.DataError("Data set sample/train is truncated.")

    monkeypatch.setattr(engine, "train", broken_train)
    with qtbot.waitSignal(tab.training_ended, timeout=RUN_TIMEOUT_MS) as ended:
        tab.start(short_config())
    assert ended.args == ["failed"]
    assert shown_errors == [
        (
            "Training failed",
            "Training stopped because of an error: Data set sample/train is truncated.",
            "DataError: Data set sample/train is truncated.",
        )
    ]
    assert tab.start_button.isEnabled()
    assert not tab.use_button.isEnabled()


def test_training_divergence_shows_message(qtbot, tab, shown_errors, monkeypatch):
    message = "The loss became nan in epoch 1, batch 3; training stopped."

    def diverging_train(config, *, on_batch=None, **kwargs):
        return SimpleNamespace(
            model=object(),
            status="diverged",
            message=message,
            best_accuracy=None,
            elapsed_s=0.1,
            evaluation=None,
            config=config,
            train_set_name="sample/train",
        )

    monkeypatch.setattr(engine, "train", diverging_train)
    with qtbot.waitSignal(tab.training_ended, timeout=RUN_TIMEOUT_MS) as ended:
        tab.start(short_config())
    assert ended.args == ["diverged"]
    assert shown_errors == [("Training diverged", message, "")]
    assert tab.use_button.isEnabled()


def test_training_invalid_folder_message(tab, shown_errors):
    tab.data_combo.setCurrentIndex(tab.data_combo.findData("folder"))
    tab.folder_edit.setText("")
    assert not tab.start()
    assert shown_errors == [
        (
            "Cannot start training",
            "The data folder is missing. Choose the folder that contains the four "
            "MNIST IDX files, or choose another source.",
            "",
        )
    ]


def test_training_settings_remembered(qtbot, settings):
    first = TrainingTab(ModelState())
    qtbot.addWidget(first)
    first.epochs_spin.setValue(3)
    first.learning_rate_spin.setValue(0.01)
    first.optimizer_combo.setCurrentText("adam")
    first.augment_check.setChecked(False)
    first.threads_spin.setValue(1)
    first.save_settings(settings)

    second = TrainingTab(ModelState())
    qtbot.addWidget(second)
    second.restore_settings(settings)
    config = second.build_config()
    assert config.epochs == 3
    assert config.learning_rate == pytest.approx(0.01)
    assert config.optimizer == "adam"
    assert config.augment is False
    assert config.num_threads == 1


def test_training_invalid_setting_uses_default(qtbot, settings, caplog):
    settings.setValue("training/epochs", "many")
    tab = TrainingTab(ModelState())
    qtbot.addWidget(tab)
    with caplog.at_level(logging.WARNING):
        tab.restore_settings(settings)
    assert tab.epochs_spin.value() == engine.TrainConfig().epochs
    assert "Setting epochs has the invalid value 'many'" in caplog.text


def test_format_duration_units():
    assert format_duration(42) == "42 s"
    assert format_duration(185) == "3 min 05 s"
    assert format_duration(3720) == "1 h 02 min"


def test_training_download_failure_message(qtbot, tab, shown_errors, monkeypatch):
    def failing_fetch(*, on_progress=None, stop=None, **kwargs):
        for received in (0, 4096, 8192):
            on_progress(
                engine.DownloadProgress("train-images-idx3-ubyte.gz", received, 9912422)
            )
        raise engine.DownloadError("Could not download train-images-idx3-ubyte.gz.")

    monkeypatch.setattr(engine, "fetch_mnist", failing_fetch)
    with qtbot.waitSignal(tab.training_ended, timeout=RUN_TIMEOUT_MS) as ended:
        tab.start(short_config(data="mnist"))
    assert ended.args == ["failed"]
    assert shown_errors == [
        (
            "Training failed",
            "Training stopped because of an error: Could not download "
            "train-images-idx3-ubyte.gz.",
            "DownloadError: Could not download train-images-idx3-ubyte.gz.",
        )
    ]
