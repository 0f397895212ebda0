"""Confusion matrix tab: heatmap counts, tooltips, cell images, tables and export."""

import csv

import numpy as np
import pytest
from PySide6 import QtCore

import engine
from desktop.confusion_tab import ConfusionTab
from desktop.model_state import ModelState
from engine.evaluation import summarize

pytestmark = [
    pytest.mark.gui,
    # The cell dialog is a top-level window; Qt's offscreen platform plugin warns that
    # it cannot pass size hints or raise windows, which changes nothing in a test.
    pytest.mark.qt_log_ignore(
        r"This plugin does not support (propagateSizeHints|raise)\(\)"
    ),
]

IMAGE_COUNT = 300


@pytest.fixture
def evaluated_state():
    """A ModelState with a synthetic test set and made-up predictions evaluated."""
    rng = np.random.default_rng(0)
    labels = np.arange(IMAGE_COUNT, dtype=np.int64) % 10
    images = rng.integers(0, 256, size=(IMAGE_COUNT, 28, 28), dtype=np.uint8)
    probabilities = rng.random((IMAGE_COUNT, 10), dtype=np.float32)
    probabilities[np.arange(IMAGE_COUNT), labels] += 3.0
    # Make every fourth 7 a confident 9, so cell (7, 9) has a known set of images.
    sevens = np.flatnonzero(labels == 7)[::4]
    probabilities[sevens, 9] += 6.0 + np.arange(len(sevens), dtype=np.float32)
    probabilities /= probabilities.sum(axis=1, keepdims=True)

    state = ModelState()
    state.set_test_set(engine.DigitDataset(images, labels, "synthetic/test"))
    state.set_evaluation(summarize(labels, probabilities))
    return state, sevens


@pytest.fixture
def tab(qtbot, evaluated_state):
    widget = ConfusionTab(evaluated_state[0])
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    return widget


def direct_counts(labels, predictions):
    counts = np.zeros((10, 10), dtype=np.int64)
    for true, predicted in zip(labels, predictions, strict=True):
        counts[true, predicted] += 1
    return counts


def test_view_shows_direct_counts(tab, evaluated_state):
    evaluation = evaluated_state[0].evaluation
    expected = direct_counts(evaluation.labels, evaluation.predictions)
    np.testing.assert_array_equal(tab.view.matrix, expected)


def test_cell_click_opens_images(qtbot, tab, evaluated_state):
    _, sevens = evaluated_state
    center = tab.view.cell_rect(7, 9).center().toPoint()
    qtbot.mouseClick(tab.view, QtCore.Qt.MouseButton.LeftButton, pos=center)
    dialog = tab.cell_dialog
    assert dialog.isVisible()
    assert dialog.windowTitle() == "7s read as 9"
    assert len(dialog.cards) == len(sevens)
    confidence = tab._model_state.evaluation.probabilities[sevens, 9]
    most_confident_first = sevens[np.argsort(-confidence)]
    assert [card.index for card in dialog.cards] == list(most_confident_first)


def test_cell_card_opens_in_layers(qtbot, tab, evaluated_state):
    tab.open_cell(7, 9)
    first = tab.cell_dialog.cards[0]
    with qtbot.waitSignal(tab.open_in_layers_requested, timeout=1000) as requested:
        qtbot.mouseClick(first.open_button, QtCore.Qt.MouseButton.LeftButton)
    assert requested.args == [first.index]


def test_cell_dialog_pages_large_cells(qtbot, tab, evaluated_state):
    tab.open_cell(3, 3)
    dialog = tab.cell_dialog
    assert len(dialog.indices) == 30
    assert dialog.windowTitle() == "3s read correctly"
    assert not dialog.more_button.isVisible()


def test_cell_tooltip_text(tab, evaluated_state):
    _, sevens = evaluated_state
    text = tab.view.cell_description(7, 9)
    assert text == f"True 7, predicted 9: {len(sevens)} images (26.7% of the 7s)"


def test_normalized_rows_sum_to_one(tab):
    tab.normalize_check.setChecked(True)
    np.testing.assert_allclose(tab.view.row_shares().sum(axis=1), np.ones(10))


def test_tables_show_scores(tab, evaluated_state):
    evaluation = evaluated_state[0].evaluation
    assert tab.class_table.item(7, 2).text() == f"{evaluation.recall[7]:.1%}"
    assert tab.class_table.item(9, 1).text() == f"{evaluation.precision[9]:.1%}"
    true, predicted, count = evaluation.most_confused[0]
    assert (true, predicted) == (7, 9)
    assert tab.pairs_table.item(0, 2).text() == str(count)
    assert "accuracy" in tab.summary_label.text()


def test_export_csv_matches_matrix(tab, evaluated_state, tmp_path):
    path = tmp_path / "matrix.csv"
    tab.export_csv(path)
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["true \\ predicted", *map(str, range(10))]
    matrix = np.array([[int(v) for v in row[1:]] for row in rows[1:]])
    np.testing.assert_array_equal(
        matrix, evaluated_state[0].evaluation.confusion_matrix
    )


def test_export_png_writes_image(tab, tmp_path):
    path = tmp_path / "matrix.png"
    tab.export_png(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluation_cleared_empties_view(tab, evaluated_state):
    evaluated_state[0].set_evaluation(None)
    assert tab.view.matrix is None
    assert not tab.has_export()
