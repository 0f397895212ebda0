"""Main window: tabs, shortcuts, status bar, settings, routing, failures and closing."""

import logging
import time

import pytest
from PySide6 import QtCore, QtGui

import engine
from desktop import workers
from desktop.main_window import TAB_NAMES, about_text, weights_metadata

pytestmark = pytest.mark.gui


def test_window_has_five_tabs(make_main_window):
    window = make_main_window(load_startup=False)
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == [
        "Training",
        "Confusion matrix",
        "Layers",
        "Photo reading",
        "Theory",
    ]
    assert len(TAB_NAMES) == window.tabs.count()


def test_window_shortcuts_switch_tabs(make_main_window):
    window = make_main_window(load_startup=False)
    view_actions = [
        a for a in window.findChildren(QtGui.QAction) if a.data() is not None
    ]
    shortcuts = sorted(action.shortcut().toString() for action in view_actions)
    assert shortcuts == ["Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4", "Ctrl+5"]
    for action in view_actions:
        action.trigger()
        assert window.tabs.currentIndex() == action.data()


def test_window_menu_shortcuts(make_main_window):
    window = make_main_window(load_startup=False)
    assert window.open_photo_action.shortcut() == QtGui.QKeySequence("Ctrl+O")
    assert window.save_weights_action.shortcut() == QtGui.QKeySequence("Ctrl+S")
    assert window.quit_action.shortcut() == QtGui.QKeySequence("Ctrl+Q")


def test_window_startup_shows_model(make_main_window):
    window = make_main_window()
    state = window.model_state
    assert state.test_set is not None
    assert state.test_set.name == "sample/test"
    if not engine.SHIPPED_WEIGHTS.is_file():
        assert window.model_label.text() == "No model loaded"
        pytest.skip(f"shipped weights {engine.SHIPPED_WEIGHTS} are not built yet")
    assert state.display_name == "Shipped LeNet"
    assert state.evaluation is not None
    assert window.model_label.text() == (
        f"Model: Shipped LeNet - {state.evaluation.accuracy:.2%} on sample/test"
    )


def test_window_close_during_training(qtbot, make_main_window):
    window = make_main_window(load_startup=False)
    tab = window.training_tab
    config = engine.TrainConfig(data="sample", epochs=5, batch_size=32, num_threads=1)
    with qtbot.waitSignal(tab.batches_plotted, timeout=60_000):
        tab.start(config)
    started_s = time.monotonic()
    window.close()
    assert time.monotonic() - started_s < 3.0
    assert workers._engine_thread is None
    assert not tab.is_training() or tab._worker.stop_event.is_set()


def test_window_settings_remembered(make_main_window):
    first = make_main_window(load_startup=False)
    first.tabs.setCurrentIndex(4)
    first.training_tab.epochs_spin.setValue(4)
    first.resize(640, 480)
    first.close()

    second = make_main_window(load_startup=False)
    assert second.tabs.currentIndex() == 4
    assert second.training_tab.epochs_spin.value() == 4
    assert second.size() == QtCore.QSize(640, 480)


def test_window_invalid_settings_use_defaults(make_main_window, settings, caplog):
    settings.setValue("window/tab", "third")
    settings.setValue("window/geometry", "not a geometry")
    settings.sync()
    with caplog.at_level(logging.WARNING):
        window = make_main_window(load_startup=False)
    assert window.tabs.currentIndex() == 0
    assert "Setting window/tab has the invalid value 'third'" in caplog.text


def test_open_weights_failure_message(qtbot, make_main_window, shown_errors, tmp_path):
    window = make_main_window(load_startup=False)
    missing = tmp_path / "missing.safetensors"
    window.open_weights(missing)
    qtbot.waitUntil(lambda: bool(shown_errors), timeout=10_000)
    assert shown_errors == [
        (
            "Could not load weights",
            "The weights file could not be loaded; the current model is unchanged.",
            f"Weights file not found: {missing}.",
        )
    ]
    assert window.model_state.model is None


def test_open_in_layers_routes_index(make_main_window, monkeypatch):
    window = make_main_window(load_startup=False)
    shown: list[int] = []
    monkeypatch.setattr(window.layers_tab, "show_test_image", shown.append)
    window.confusion_tab.open_in_layers_requested.emit(17)
    assert shown == [17]
    assert window.current_tab_name() == "layers"


def test_export_without_data_goes_to_status_bar(make_main_window):
    window = make_main_window(load_startup=False)
    window.show_tab("training")
    window.export_action.trigger()
    assert (
        window.statusBar().currentMessage() == "Nothing to export on the Training tab."
    )


def test_about_text_versions():
    import cv2
    import PySide6
    import torch

    text = about_text()
    assert engine.__version__ in text
    assert torch.__version__ in text
    assert PySide6.__version__ in text
    assert cv2.__version__ in text
    assert "Yann LeCun, Corinna Cortes and Christopher J. C. Burges" in text
    assert "CC BY-SA 3.0" in text


def test_weights_save_and_open(qtbot, make_main_window, tmp_path):
    window = make_main_window()
    state = window.model_state
    if state.loaded is None:
        pytest.skip(f"shipped weights {engine.SHIPPED_WEIGHTS} are not built yet")
    path = tmp_path / "copy.safetensors"
    window.save_weights(path, state.model, weights_metadata(state.loaded))
    qtbot.waitUntil(lambda: path.with_suffix(".json").is_file(), timeout=10_000)

    with qtbot.waitSignal(state.model_changed, timeout=10_000):
        window.open_weights(path)
    assert state.display_name == "copy.safetensors"
    assert state.source == "file"
    qtbot.waitUntil(lambda: state.evaluation is not None, timeout=30_000)
    assert window.model_label.text().startswith("Model: copy.safetensors - ")


def test_cli_tab_names_match_window():
    # The engine's `digitlab gui --tab` keeps its own copy so it can parse options
    # without importing Qt; the two lists must not drift apart.
    from engine.commands.gui import TAB_NAMES as CLI_TAB_NAMES

    assert CLI_TAB_NAMES == TAB_NAMES
