"""An e-license opened at the counter, watermarked "仅供办理 {item} 使用 {date}" on every page.

The pages are rendered to images with the watermark painted in, so no copy of
the license leaves this dialog without it.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPixmap
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QDialog, QLabel, QScrollArea, QVBoxLayout, QWidget

from hallclient.i18n import _


def watermark(image: QImage, text: str) -> QImage:
    """Repeat ``text`` diagonally across the page, light enough to read the license through."""
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setPixelSize(max(14, image.width() // 28))
    painter.setFont(font)
    painter.setPen(QColor(200, 30, 30, 90))
    painter.translate(image.width() / 2, image.height() / 2)
    painter.rotate(-30)
    span = int(math.hypot(image.width(), image.height()))
    step_y = font.pixelSize() * 4
    step_x = painter.fontMetrics().horizontalAdvance(text) + font.pixelSize() * 3
    for y in range(-span, span, step_y):
        offset = (y // step_y) % 2 * step_x // 2
        for x in range(-span - offset, span, step_x):
            painter.drawText(QPointF(x, y), text)
    painter.end()
    return image


class LicenseViewer(QDialog):
    def __init__(self, pdf: bytes, title: str, mark: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("licenseViewer")
        self.setWindowTitle(title)
        self.resize(900, 700)
        self.mark = mark
        self._data = QByteArray(pdf)
        self._buffer = QBuffer(self._data, self)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument(self)
        self.document.load(self._buffer)
        pages = QWidget()
        layout = QVBoxLayout(pages)
        self.images: list[QImage] = []
        for page in range(self.document.pageCount()):
            size = self.document.pagePointSize(page)
            scale = 860 / max(size.width(), 1.0)
            image = self.document.render(page, QSize(int(size.width() * scale), int(size.height() * scale)))
            image = image.convertToFormat(QImage.Format.Format_ARGB32)
            self.images.append(watermark(image, mark))
            label = QLabel()
            label.setPixmap(QPixmap.fromImage(image))
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            layout.addWidget(label)
        if not self.images:
            layout.addWidget(QLabel(_("证照文件无法显示")))
        scroll = QScrollArea()
        scroll.setWidget(pages)
        scroll.setWidgetResizable(True)
        note = QLabel(_("此证照由电子证照库提供，查看已记录。{mark}").format(mark=mark))
        note.setObjectName("hint")
        outer = QVBoxLayout(self)
        outer.addWidget(note)
        outer.addWidget(scroll, 1)
