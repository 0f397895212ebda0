"""Loss plot: growing history arrays, EMA smoothing, speed at 100,000 points."""

import time

import numpy as np
import pytest

from desktop.loss_plot import LOSS_EMA_ALPHA, GrowingSeries, LossPlot, step_above

pytestmark = pytest.mark.gui


def reference_ema(values):
    smoothed, last = [], None
    for value in values:
        last = (
            value
            if last is None
            else (1 - LOSS_EMA_ALPHA) * last + LOSS_EMA_ALPHA * value
        )
        smoothed.append(last)
    return np.array(smoothed)


def test_series_grows_past_capacity():
    series = GrowingSeries(capacity=4)
    series.extend(range(10))
    series.extend([10.0])
    np.testing.assert_array_equal(series.values, np.arange(11))


def test_plot_smoothing_matches_reference(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    losses = np.random.default_rng(1).random(500) + 0.5
    for chunk in np.array_split(losses, 17):
        plot.append_losses(chunk)
    assert plot.batch_count == 500
    np.testing.assert_allclose(plot.smoothed_losses, reference_ema(losses))


def test_plot_epochs_and_clear(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.append_losses([2.0, 1.0])
    plot.add_epoch(0.9)
    assert plot.epoch_count == 1
    plot.clear()
    assert plot.batch_count == 0
    assert plot.epoch_count == 0


def test_plot_redraw_fast_at_100k_points(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(800, 500)
    plot.append_losses(np.random.default_rng(2).random(120_000))
    plot.grab()
    started_s = time.perf_counter()
    for _ in range(10):
        plot.append_losses(np.random.default_rng(3).random(50))
        plot.grab()
    per_update_s = (time.perf_counter() - started_s) / 10
    assert plot.batch_count == 120_500
    # Ten updates a second must leave most of each 100 ms to the rest of the app.
    assert per_update_s < 0.1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.7, 1.0),
        (2.3, 5.0),
        (5.0, 5.0),
        (100, 100.0),
        (101, 200.0),
        (120_000, 200_000.0),
    ],
)
def test_range_step_above(value, expected):
    assert step_above(value) == pytest.approx(expected)


def test_plot_range_grows_in_steps(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.append_losses(np.full(150, 3.1))
    (x_min, x_max), (y_min, y_max) = plot._loss_plot.viewRange()
    assert (x_min, x_max) == pytest.approx((0, 200))
    assert (y_min, y_max) == pytest.approx((0, 5))


def test_plot_fits_expected_batches(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.set_expected_batches(314)
    plot.append_losses(np.full(10, 1.0))
    (x_min, x_max), _ = plot._loss_plot.viewRange()
    assert (x_min, x_max) == pytest.approx((0, 314))
