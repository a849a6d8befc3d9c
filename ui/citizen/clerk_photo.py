"""The clerk's photo on the citizen screen, or a calm placeholder with the clerk's surname."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

BASE_SIZE = QSize(190, 238)  # a 4:5 ID-photo shape at scale 1.0


class ClerkPhoto(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clerkPhoto")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.image: QImage | None = None
        self.surname = ""
        self.high_contrast = False
        self.set_scale(1.0)

    def set_scale(self, scale: float) -> None:
        self.setFixedSize(BASE_SIZE * scale)

    def set_name(self, name: str) -> None:
        self.surname = name.strip()[:1]
        self.update()

    def set_photo(self, data: bytes | None) -> bool:
        """Show the photo in ``data`` (any format Qt reads); False, and the placeholder, if unreadable."""
        image = QImage.fromData(data) if data else QImage()
        self.image = None if image.isNull() else image
        self.update()
        return self.image is not None

    @property
    def has_photo(self) -> bool:
        return self.image is not None

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        r = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        radius = r.width() * 0.08
        clip = QPainterPath()
        clip.addRoundedRect(r, radius, radius)
        if self.image is not None:
            p.setClipPath(clip)
            # Fill the frame, cropping the longer side, centred: no stretched faces.
            img = self.image.scaled(
                r.size().toSize(),
                Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                Qt.TransformationMode.SmoothTransformation,
            )
            x = r.x() + (r.width() - img.width()) / 2
            y = r.y() + (r.height() - img.height()) / 2
            p.drawImage(int(x), int(y), img)
            p.setClipping(False)
        else:
            bg, fg = (
                (QColor("#1a1a1a"), QColor("#ffd600"))
                if self.high_contrast
                else (
                    QColor("#dbe4f3"),
                    QColor("#1e3a8a"),
                )
            )
            p.fillPath(clip, bg)
            d = r.width() * 0.74
            circle = QRectF(r.center().x() - d / 2, r.center().y() - d / 2, d, d)
            p.setPen(QPen(fg, max(2.0, r.width() * 0.02)))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(circle)
            if self.surname:
                font = QFont(self.font())
                font.setPixelSize(int(d * 0.5))
                font.setBold(True)
                p.setFont(font)
                p.drawText(circle, Qt.AlignmentFlag.AlignCenter, self.surname)
        border = QColor("#ffffff") if self.high_contrast else QColor("#9ca3af")
        p.setPen(QPen(border, 2 if not self.high_contrast else 3))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(r, radius, radius)
        p.end()
