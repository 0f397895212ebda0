"""Guard against the PySide6 6.12.0 defect that drops a None reference per draw call.

With PySide6-Essentials 6.12.0 on CPython 3.11, each drawLine or drawRect released one
reference to None, and a live plot aborted with "Fatal Python error: none_dealloc" after
a few thousand calls. 6.11.3 keeps the count flat.
"""

import sys

import pytest
from PySide6 import QtCore, QtGui

pytestmark = pytest.mark.gui

DRAW_CALLS = 400


def test_painter_keeps_none_references(qapp):
    image = QtGui.QImage(64, 64, QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(image)
    before = sys.getrefcount(None)
    for i in range(DRAW_CALLS // 2):
        painter.drawLine(QtCore.QLineF(0, i % 64, 63, 63 - i % 64))
        painter.drawRect(QtCore.QRectF(i % 32, i % 32, 10, 10))
    after = sys.getrefcount(None)
    painter.end()
    # The count may rise a little (new objects referring to None); it must not fall.
    assert after >= before
