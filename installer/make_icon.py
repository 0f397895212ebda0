"""Draw the Digit Lab app icon and write it as PNG, Windows ICO and macOS ICNS.

The icon is a handwritten "2" on a pixel grid, drawn with QPainter paths only (no
fonts), so it comes out the same on every machine. Run it from the repository root
after changing the drawing:

    .venv/bin/python installer/make_icon.py

It writes ``resources/icons/digitlab.png`` (256 px, used by Qt and the Linux launcher),
``digitlab.ico`` and ``digitlab.icns``. Both containers hold PNG-compressed images,
which Windows Vista and later and macOS 10.7 and later read.
"""

import argparse
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore, QtGui  # noqa: E402

ICON_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"
PNG_SIZE = 256
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types that hold a PNG of the given edge length in pixels.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
)
GRID_CELLS = 7
BACKGROUND_TOP = QtGui.QColor("#1d3f8f")
BACKGROUND_BOTTOM = QtGui.QColor("#2a8fd1")
GRID_COLOR = QtGui.QColor(255, 255, 255, 38)
INK_COLOR = QtGui.QColor("#ffffff")


def draw_icon(size: int) -> QtGui.QImage:
    """Draw the icon at ``size`` x ``size`` pixels on a transparent background."""
    image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    # Every coordinate below is a fraction of the edge, so one drawing serves all sizes.
    painter.scale(size, size)

    margin = 0.04
    tile = QtCore.QRectF(margin, margin, 1 - 2 * margin, 1 - 2 * margin)
    gradient = QtGui.QLinearGradient(0, margin, 0, 1 - margin)
    gradient.setColorAt(0, BACKGROUND_TOP)
    gradient.setColorAt(1, BACKGROUND_BOTTOM)
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(gradient)
    painter.drawRoundedRect(tile, 0.18, 0.18)

    # A faint grid stands for the 28 x 28 input pixels of the network. It is left
    # out at small sizes, where it would only blur the digit.
    if size >= 48:
        grid_pen = QtGui.QPen(GRID_COLOR, 0.006)
        painter.setPen(grid_pen)
        step = tile.width() / GRID_CELLS
        for index in range(1, GRID_CELLS):
            offset = margin + index * step
            painter.drawLine(
                QtCore.QPointF(offset, margin), QtCore.QPointF(offset, 1 - margin)
            )
            painter.drawLine(
                QtCore.QPointF(margin, offset), QtCore.QPointF(1 - margin, offset)
            )

    digit = QtGui.QPainterPath(QtCore.QPointF(0.31, 0.37))
    digit.cubicTo(0.33, 0.20, 0.66, 0.18, 0.68, 0.35)
    digit.cubicTo(0.70, 0.50, 0.46, 0.60, 0.30, 0.77)
    digit.cubicTo(0.45, 0.74, 0.58, 0.76, 0.72, 0.75)
    ink_pen = QtGui.QPen(INK_COLOR, 0.10 if size >= 32 else 0.13)
    ink_pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
    ink_pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
    painter.setPen(ink_pen)
    painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
    painter.drawPath(digit)
    painter.end()
    return image


def png_bytes(image: QtGui.QImage) -> bytes:
    """Encode ``image`` as PNG."""
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"Qt failed to encode a {image.width()} px icon as PNG")
    return bytes(buffer.data())


def ico_bytes(images: dict[int, bytes]) -> bytes:
    """Pack PNG images, keyed by edge length, into one ICO file."""
    header = struct.pack("<HHH", 0, 1, len(images))
    directory = b""
    payload = b""
    offset = len(header) + 16 * len(images)
    for size, data in sorted(images.items()):
        # An edge of 256 is stored as 0 because the field is one byte.
        edge = 0 if size >= 256 else size
        directory += struct.pack(
            "<BBBBHHII", edge, edge, 0, 0, 1, 32, len(data), offset
        )
        payload += data
        offset += len(data)
    return header + directory + payload


def icns_bytes(elements: list[tuple[bytes, bytes]]) -> bytes:
    """Pack (type, PNG data) elements into one ICNS file; lengths are big-endian."""
    body = b"".join(
        kind + struct.pack(">I", 8 + len(data)) + data for kind, data in elements
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the Digit Lab icon files.")
    parser.add_argument(
        "--out", type=Path, default=ICON_DIR, help="folder for the icon files"
    )
    args = parser.parse_args(argv)

    app = QtGui.QGuiApplication.instance() or QtGui.QGuiApplication(sys.argv[:1])
    sizes = sorted(set(ICO_SIZES) | {edge for _, edge in ICNS_TYPES})
    rendered = {size: png_bytes(draw_icon(size)) for size in sizes}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "digitlab.png").write_bytes(rendered[PNG_SIZE])
    (args.out / "digitlab.ico").write_bytes(
        ico_bytes({size: rendered[size] for size in ICO_SIZES})
    )
    (args.out / "digitlab.icns").write_bytes(
        icns_bytes([(kind, rendered[edge]) for kind, edge in ICNS_TYPES])
    )
    print(f"wrote digitlab.png, digitlab.ico and digitlab.icns to {args.out}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
