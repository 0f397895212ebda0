"""Tests of the Layers tab: drawn digits and test images through a real LeNet."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6 import QtCore

import engine
from desktop.drawing_pad import PAD_SIZE_PX, DrawingPad
from desktop.layers_tab import SOURCE_DRAWING, SOURCE_TEST_IMAGE, LayersTab
from desktop.model_state import ModelState
from desktop.reading_worker import INK_THRESHOLD

pytestmark = pytest.mark.gui

RESULT_TIMEOUT_MS = 15_000
LENET_STAGES = [
    ("conv1", (20, 24, 24)),
    ("relu1", (20, 24, 24)),
    ("pool1", (20, 12, 12)),
    ("conv2", (50, 8, 8)),
    ("relu2", (50, 8, 8)),
    ("pool2", (50, 4, 4)),
    ("flatten", (800,)),
    ("fc1", (500,)),
    ("relu3", (500,)),
    ("fc2", (10,)),
]
# A "7": a bar across the top and a slanted stem, in pad pixels.
SEVEN_STROKES = [
    [(70, 60), (150, 60), (210, 62)],
    [(210, 62), (170, 140), (130, 220)],
]


@pytest.fixture(scope="module")
def lenet():
    """The shipped model when its weights exist, else a seeded untrained LeNet."""
    if Path(engine.SHIPPED_WEIGHTS).exists():
        return engine.load_weights()
    torch.manual_seed(0)
    return engine.LoadedModel(engine.build_model().eval(), {}, Path("untrained"))


@pytest.fixture(scope="module")
def test_set():
    return engine.load_dataset("sample", "test")


@pytest.fixture
def model_state(lenet, test_set, qapp):
    state = ModelState()
    state.set_test_set(test_set)
    state.set_model(lenet, "LeNet under test")
    return state


@pytest.fixture
def layers_tab(qtbot, model_state):
    tab = LayersTab(model_state)
    qtbot.addWidget(tab)
    tab.resize(1100, 800)
    # Building the tab shows test image 0; let that request finish first.
    qtbot.waitUntil(lambda: tab._worker is None, timeout=RESULT_TIMEOUT_MS)
    return tab


def draw_seven(pad: DrawingPad) -> None:
    for stroke in SEVEN_STROKES:
        pad.add_stroke(stroke)


def test_layers_drawn_digit_activations(layers_tab, qtbot):
    with qtbot.waitSignal(
        layers_tab.activations_shown, timeout=RESULT_TIMEOUT_MS
    ) as blocker:
        draw_seven(layers_tab.pad)
    outcome = blocker.args[0]
    assert layers_tab.source() == SOURCE_DRAWING
    assert [(a.name, a.output.shape) for a in outcome.activations] == LENET_STAGES
    assert [a.kind for a in outcome.activations][:3] == ["conv", "relu", "pool"]
    assert outcome.probabilities.shape == (10,)
    assert outcome.probabilities.sum() == pytest.approx(1.0, abs=1e-4)


def test_layers_drawing_uses_engine_crop(layers_tab, qtbot):
    with qtbot.waitSignal(
        layers_tab.activations_shown, timeout=RESULT_TIMEOUT_MS
    ) as blocker:
        draw_seven(layers_tab.pad)
    outcome = blocker.args[0]
    expected = engine.normalise_crop(layers_tab.pad.image_gray_u8() >= INK_THRESHOLD)
    assert outcome.image_28.shape == (28, 28)
    assert np.array_equal(outcome.image_28, expected)
    # The digit fills MNIST's 20 px box, so the 4 px border stays nearly black.
    assert outcome.image_28[:2].max() < 30


def test_layers_mouse_drawing(layers_tab, qtbot):
    pad = layers_tab.pad
    pad.resize(PAD_SIZE_PX, PAD_SIZE_PX)
    left = QtCore.Qt.MouseButton.LeftButton
    with qtbot.waitSignal(layers_tab.activations_shown, timeout=RESULT_TIMEOUT_MS):
        qtbot.mousePress(pad, left, pos=QtCore.QPoint(140, 50))
        for y in range(60, 240, 20):
            qtbot.mouseMove(pad, QtCore.QPoint(140, y))
        qtbot.mouseRelease(pad, left, pos=QtCore.QPoint(140, 240))
    assert pad.stroke_count() == 1
    drawing = pad.image_gray_u8()
    assert drawing[150, 140] == 255  # on the stroke
    assert drawing[150, 40] == 0  # far from it
    assert layers_tab.source() == SOURCE_DRAWING


def test_layers_live_updates_throttled(layers_tab, qtbot):
    shown = []
    layers_tab.activations_shown.connect(shown.append)
    pad = layers_tab.pad
    pad.begin_stroke(QtCore.QPointF(60, 60))
    moves = 0
    for step in range(40):
        pad.extend_stroke(QtCore.QPointF(60 + 4 * step, 60 + 4 * step))
        moves += 1
        qtbot.wait(5)
    pad.stroke_finished.emit()
    final = engine.normalise_crop(pad.image_gray_u8() >= INK_THRESHOLD)
    qtbot.waitUntil(
        lambda: bool(shown) and np.array_equal(shown[-1].image_28, final),
        timeout=RESULT_TIMEOUT_MS,
    )
    # The drawing changed 41 times in about 0.2 s; far fewer updates were shown.
    assert 1 <= len(shown) < moves / 2


def test_layers_test_image_shown(layers_tab, qtbot, test_set):
    with qtbot.waitSignal(
        layers_tab.activations_shown, timeout=RESULT_TIMEOUT_MS
    ) as blocker:
        layers_tab.show_test_image(5)
    outcome = blocker.args[0]
    assert layers_tab.source() == SOURCE_TEST_IMAGE
    assert layers_tab.index_spin.value() == 5
    assert np.array_equal(outcome.image_28, test_set.images[5])
    label = int(test_set.labels[5])
    assert layers_tab.source_label.text() == f"{test_set.name} #5, label {label}"
    assert not layers_tab.input_label.pixmap().isNull()


def test_layers_stage_grids(layers_tab, qtbot):
    with qtbot.waitSignal(layers_tab.activations_shown, timeout=RESULT_TIMEOUT_MS):
        layers_tab.show_test_image(1)
    views = layers_tab.stage_views()
    assert [view.grid.tile_count() for view in views] == [
        20,
        20,
        20,
        50,
        50,
        50,
        1,
        1,
        1,
        1,
    ]
    assert views[0].title.text().startswith("<b>conv1</b> (conv, 20 × 24 × 24)")


def test_layers_map_tooltip(layers_tab, qtbot):
    with qtbot.waitSignal(
        layers_tab.activations_shown, timeout=RESULT_TIMEOUT_MS
    ) as blocker:
        layers_tab.show_test_image(2)
    relu1 = blocker.args[0].activations[1].output
    grid = layers_tab.stage_views()[1].grid
    second_tile = grid._tile_rect(1).center()
    expected = (
        f"relu1 map 1: min {relu1[1].min():.3g}, max {relu1[1].max():.3g}, "
        f"mean {relu1[1].mean():.3g}"
    )
    assert grid.tooltip_at(second_tile) == expected
    assert grid.tooltip_at(QtCore.QPointF(-5, -5)) == ""


def test_layers_filters_shown(layers_tab):
    views = layers_tab.filter_views()
    assert [view.grid.tile_count() for view in views] == [20, 1000]
    assert views[1].title.text().startswith("<b>conv2 filters</b> (50 × 20 kernels")


def test_layers_probability_bars(layers_tab, qtbot):
    with qtbot.waitSignal(
        layers_tab.activations_shown, timeout=RESULT_TIMEOUT_MS
    ) as blocker:
        layers_tab.show_test_image(3)
    probabilities = blocker.args[0].probabilities
    assert np.allclose(layers_tab.bars.probabilities(), probabilities)
    best = int(probabilities.argmax())
    assert layers_tab.prediction_label.text().startswith(f"<b>Prediction: {best}</b>")


def test_layers_next_of_class(layers_tab, qtbot, test_set):
    layers_tab.class_combo.setCurrentIndex(4)
    with qtbot.waitSignal(layers_tab.activations_shown, timeout=RESULT_TIMEOUT_MS):
        layers_tab.next_of_class_button.click()
    first = layers_tab.index_spin.value()
    assert int(test_set.labels[first]) == 4
    with qtbot.waitSignal(layers_tab.activations_shown, timeout=RESULT_TIMEOUT_MS):
        layers_tab.next_of_class_button.click()
    second = layers_tab.index_spin.value()
    assert second > first
    assert int(test_set.labels[second]) == 4


def test_layers_errors_list(layers_tab, qtbot, model_state, test_set):
    evaluation = engine.evaluate(model_state.model, test_set)
    model_state.set_evaluation(evaluation)
    combo = layers_tab.errors_combo
    errors = evaluation.misclassified
    if errors.size == 0:
        assert combo.itemText(0) == "(no errors)"
        return
    assert combo.count() == 1 + min(errors.size, 1000)
    index = int(errors[0])
    with qtbot.waitSignal(layers_tab.activations_shown, timeout=RESULT_TIMEOUT_MS):
        combo.activated.emit(1)
    assert layers_tab.index_spin.value() == index
    predicted = int(evaluation.predictions[index])
    assert combo.itemText(1).startswith(
        f"#{index}: {int(test_set.labels[index])} read as {predicted} ("
    )


def test_layers_errors_need_evaluation(layers_tab, model_state):
    model_state.set_evaluation(None)
    assert not layers_tab.errors_combo.isEnabled()
    assert layers_tab.errors_combo.itemText(0) == "(no evaluation yet)"


def test_layers_undo_and_clear(layers_tab, qtbot):
    pad = layers_tab.pad
    draw_seven(pad)
    assert pad.stroke_count() == 2
    layers_tab.undo_button.click()
    assert pad.stroke_count() == 1
    with_one = pad.image_gray_u8()
    assert with_one[62, 90] == 255  # the top bar is kept
    assert with_one[180, 150] == 0  # the stem is gone
    layers_tab.clear_button.click()
    assert pad.is_empty()
    assert pad.image_gray_u8().max() == 0
    qtbot.waitUntil(
        lambda: layers_tab.source_label.text() == "Draw a digit on the pad.",
        timeout=RESULT_TIMEOUT_MS,
    )
    assert layers_tab.bars.probabilities().max() == 0


def test_layers_no_torch_on_gui_thread(layers_tab, qtbot, monkeypatch):
    gui_thread = QtCore.QThread.currentThread()
    threads = []
    real_capture = engine.capture_activations

    def recording_capture(model, image):
        threads.append(QtCore.QThread.currentThread() is gui_thread)
        return real_capture(model, image)

    monkeypatch.setattr(engine, "capture_activations", recording_capture)
    with qtbot.waitSignal(layers_tab.activations_shown, timeout=RESULT_TIMEOUT_MS):
        draw_seven(layers_tab.pad)
    assert threads
    assert not any(threads)


def test_layers_failure_message(layers_tab, qtbot, monkeypatch):
    def broken_capture(model, image):
        raise engine.ConfigError("Image of shape (3, 3) is not 28x28.")

    monkeypatch.setattr(engine, "capture_activations", broken_capture)
    layers_tab.show_test_image(7)
    qtbot.waitUntil(
        lambda: bool(layers_tab.status_label.text()), timeout=RESULT_TIMEOUT_MS
    )
    assert layers_tab.status_label.text() == (
        "Could not compute the activations: Image of shape (3, 3) is not 28x28."
    )
