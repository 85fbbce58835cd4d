"""Render the app icon from its SVG source: hicolor PNGs, a Windows .ico and a macOS .icns.

    python packaging/make_icons.py        (QT_QPA_PLATFORM=offscreen is set for you)

The .ico and .icns containers are written here directly (both can hold PNG images), so no
image library beyond Qt's SVG renderer is needed and the output is the same on every OS.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SOURCE = ICONS / "captionist.svg"
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_TYPES = {b"icp4": 16, b"icp5": 32, b"icp6": 64, b"ic07": 128, b"ic08": 256, b"ic09": 512}


def render_png(renderer: QSvgRenderer, size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, images = b"", b""
    for size, png in sorted(pngs.items()):
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        images += png
        offset += len(png)
    return header + entries + images


def icns(pngs: dict[bytes, bytes]) -> bytes:
    chunks = b"".join(kind + struct.pack(">I", 8 + len(png)) + png for kind, png in pngs.items())
    return b"icns" + struct.pack(">I", 8 + len(chunks)) + chunks


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        print(f"cannot render {SOURCE}", file=sys.stderr)
        return 1
    sizes = sorted(set(HICOLOR_SIZES) | set(ICO_SIZES))
    pngs = {size: render_png(renderer, size) for size in sizes}
    for size in HICOLOR_SIZES:
        out = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "io.github.captionist.Captionist.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pngs[size])
    scalable = ICONS / "hicolor" / "scalable" / "apps" / "io.github.captionist.Captionist.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_bytes(SOURCE.read_bytes())
    (ICONS / "captionist.ico").write_bytes(ico({s: pngs[s] for s in ICO_SIZES}))
    (ICONS / "captionist.icns").write_bytes(
        icns({kind: pngs[size] for kind, size in ICNS_TYPES.items()})
    )
    print(f"wrote {len(HICOLOR_SIZES)} PNG sizes, captionist.ico and captionist.icns to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
