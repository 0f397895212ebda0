"""Tests of the Theory tab: the parameter tables and the worked backprop step."""

import pytest
from PySide6 import QtCore

import engine
from desktop.theory_tab import TheoryTab

pytestmark = pytest.mark.gui

STEP_TIMEOUT_MS = 10_000


@pytest.fixture
def theory_tab(qtbot):
    tab = TheoryTab()
    qtbot.addWidget(tab)
    panel = tab.backprop
    # The first step is requested when the tab is built; wait until it is shown.
    qtbot.waitUntil(lambda: panel.step is not None, timeout=STEP_TIMEOUT_MS)
    return tab


def column_texts(table, column: int) -> list[str]:
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_theory_alexnet_total_shown(theory_tab):
    panel = theory_tab.architectures
    panel.show_architecture("alexnet")
    assert panel.chooser.currentData() == "alexnet"
    assert "62,378,344" in panel.total_label.text()
    assert panel.table.rowCount() == len(engine.architecture_table("alexnet").layers)


def test_theory_tables_match_engine(theory_tab):
    panel = theory_tab.architectures
    for name in engine.ARCHITECTURES:
        table = engine.architecture_table(name)
        panel.show_architecture(name)
        assert column_texts(panel.table, 0) == [layer.name for layer in table.layers]
        assert column_texts(panel.table, 5) == [
            f"{layer.parameters:,}" for layer in table.layers
        ]
        assert f"{table.total:,}" in panel.total_label.text()
        assert panel.convention_label.text() == table.convention


def test_theory_lenet_shape_column(theory_tab):
    panel = theory_tab.architectures
    panel.show_architecture("lenet")
    names = column_texts(panel.table, 0)
    shapes = dict(zip(names, column_texts(panel.table, 2), strict=True))
    assert shapes["conv1"] == "20 × 24 × 24"
    assert shapes["pool2"] == "50 × 4 × 4"


def test_backprop_defaults_shown(theory_tab):
    panel = theory_tab.backprop
    assert panel.value_text("new_w2") == "0.5625"
    assert panel.value_text("f") == "0.5"
    assert panel.value_text("dloss_df") == "-9"
    assert panel.value_text("df_dw2") == "0.125"
    assert panel.value_text("new_w1") == "0"


def test_backprop_recomputes_on_edit(theory_tab, qtbot):
    panel = theory_tab.backprop
    with qtbot.waitSignal(panel.step_shown, timeout=STEP_TIMEOUT_MS) as blocker:
        panel.inputs["w1"].setValue(1.0)
    step = blocker.args[0]
    expected = engine.backprop_step(w1=1.0)
    assert step.new_w1 == pytest.approx(expected.new_w1)
    assert panel.value_text("new_w1") == f"{expected.new_w1:.6g}"
    assert panel.value_text("a") == "1"


def test_backprop_edits_coalesce(theory_tab, qtbot):
    panel = theory_tab.backprop
    shown = []
    panel.step_shown.connect(shown.append)
    for value in (0.1, 0.2, 0.3, 0.4):
        panel.inputs["x2"].setValue(value)
    qtbot.waitUntil(
        lambda: bool(shown) and shown[-1].x2 == pytest.approx(0.4), timeout=5000
    )
    qtbot.wait(3 * 40)
    # Four quick edits fall in one recompute interval, so one step covers all of them.
    assert len(shown) == 1
    assert panel.values()["x2"] == pytest.approx(0.4)


def test_backprop_reset_restores_defaults(theory_tab, qtbot):
    panel = theory_tab.backprop
    panel.inputs["target"].setValue(1.0)
    qtbot.waitUntil(lambda: panel.step.target == 1.0, timeout=STEP_TIMEOUT_MS)
    panel.reset_inputs()
    qtbot.waitUntil(lambda: panel.step.target == 5.0, timeout=STEP_TIMEOUT_MS)
    assert panel.value_text("new_w2") == "0.5625"


def test_theory_tab_runs_no_torch_on_gui_thread(qtbot, monkeypatch):
    gui_thread = QtCore.QThread.currentThread()
    calls = []
    real_step = engine.backprop_step

    def recording_step(**values):
        calls.append(QtCore.QThread.currentThread() is gui_thread)
        return real_step(**values)

    monkeypatch.setattr(engine, "backprop_step", recording_step)
    tab = TheoryTab()
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: tab.backprop.step is not None, timeout=STEP_TIMEOUT_MS)
    assert calls == [False]
