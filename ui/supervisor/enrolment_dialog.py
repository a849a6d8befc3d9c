"""The one showing of a new authenticator binding: QR code, secret for typing in, ten recovery codes.

The server keeps only hashes of the recovery codes and never hands the secret out
again, so this dialog is the one place they are seen. The QR code is drawn here from
the otpauth URI (hallclient.qr, the encoder the server's CLI uses too), not fetched as
an image. Closing the dialog wipes the secret, the URI and the codes from its widgets.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize, Qt
from PySide6.QtGui import QCloseEvent, QColor, QFont, QFontDatabase, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient import wire
from hallclient.i18n import _
from hallclient.qr import qr_matrix

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


def grouped(secret: str) -> str:
    """The secret in groups of four, as it is typed into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def paint_qr(painter: QPainter, matrix: list[list[bool]], area: QRect) -> None:
    """Square modules of whole pixels, centred in ``area`` on white: blurred edges scan badly."""
    painter.fillRect(area, QColor("white"))
    if not matrix:
        return
    n = len(matrix) + 2 * QUIET_ZONE
    module = max(1, min(area.width(), area.height()) // n)
    left = area.left() + (area.width() - module * n) // 2 + QUIET_ZONE * module
    top = area.top() + (area.height() - module * n) // 2 + QUIET_ZONE * module
    black = QColor("black")
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                painter.fillRect(left + c * module, top + r * module, module, module, black)


def qr_image(matrix: list[list[bool]], *, module: int = 8) -> QImage:
    side = (len(matrix) + 2 * QUIET_ZONE) * module
    image = QImage(side, side, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    paint_qr(painter, matrix, QRect(0, 0, side, side))
    painter.end()
    return image


def write_private_png(image: QImage, path: Path) -> None:
    """The PNG written 0600 where the system allows: it holds the secret."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise OSError(_("无法生成二维码图片"))
    buffer.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.data())


def ask_png_path(parent: QWidget, suggested: str) -> Path | None:
    path, _chosen = QFileDialog.getSaveFileName(parent, _("保存二维码 PNG"), suggested, "PNG (*.png)")
    return Path(path) if path else None


class QrView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("qrView")
        self.matrix: list[list[bool]] = []
        self.setMinimumSize(340, 340)

    def set_matrix(self, matrix: list[list[bool]]) -> None:
        self.matrix = matrix
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(380, 380)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        side = min(self.width(), self.height())
        paint_qr(painter, self.matrix, QRect((self.width() - side) // 2, 0, side, side))
        painter.end()


class EnrolmentDialog(QDialog):
    def __init__(
        self, enrolment: wire.TotpEnrolment, member: wire.StaffMember, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("enrolmentDialog")
        self.setWindowTitle(_("绑定动态口令"))
        self.enrolment: wire.TotpEnrolment | None = enrolment
        self.png_name = f"totp-{member.staff_no}.png"
        # Replaceable by tests: where the QR code PNG is saved (None: cancelled).
        self.ask_png_path: Callable[[str], Path | None] = lambda s: ask_png_path(self, s)
        self.saved: Path | None = None

        heading = (
            _("{name}（工号 {staff}）的动态口令已重新绑定，旧手机和旧备用码已作废")
            if enrolment.replaced
            else _("{name}（工号 {staff}）的动态口令已绑定")
        )
        title = QLabel(heading.format(name=member.name, staff=member.staff_no))
        title.setWordWrap(True)
        title.setObjectName("enrolmentTitle")
        title.setStyleSheet("font-size: 18px; font-weight: bold;")
        scan = QLabel(
            _("请本人用手机身份验证器（如 Microsoft Authenticator、Google 身份验证器、FreeOTP）扫描：")
        )
        scan.setWordWrap(True)
        self.qr = QrView()
        self.qr.set_matrix(qr_matrix(enrolment.uri))

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        big = QFont(mono)
        big.setPointSize(max(mono.pointSize(), 10) + 4)
        manual = QLabel(_("无法扫码时手动输入密钥（基于时间，30 秒，6 位）："))
        self.secret = QLabel(grouped(enrolment.secret))
        self.secret.setObjectName("enrolmentSecret")
        self.secret.setFont(big)
        self.secret.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        codes_title = QLabel(_("一次性备用码（手机不在身边时代替动态口令，每个只能用一次）："))
        codes_box = QWidget()
        grid = QGridLayout(codes_box)
        self.code_labels: list[QLabel] = []
        half = (len(enrolment.recovery_codes) + 1) // 2
        for i, code in enumerate(enrolment.recovery_codes):
            label = QLabel(f"{i + 1:>2}. {code}")
            label.setObjectName("recoveryCode")
            label.setFont(big)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(label, i % half, i // half)
            self.code_labels.append(label)
        warning = QLabel(
            _(
                "备用码和密钥只显示这一次，关闭本窗口后无法再查看：请现在打印或抄下交本人保管。"
                "二维码图片含密钥，扫码后请删除。"
            )
        )
        warning.setObjectName("enrolmentWarning")
        warning.setWordWrap(True)
        warning.setStyleSheet("background: #fef3c7; color: #92400e; font-weight: bold; padding: 8px;")

        self.save_button = QPushButton(_("保存二维码 PNG"))
        self.save_button.setObjectName("saveQrButton")
        self.save_button.clicked.connect(self.save_png)
        close = QPushButton(_("已抄下，关闭"))
        close.setObjectName("closeEnrolmentButton")
        close.clicked.connect(self.accept)
        self.status = QLabel()
        self.status.setObjectName("enrolmentStatus")
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)

        right = QVBoxLayout()
        right.addWidget(manual)
        right.addWidget(self.secret)
        right.addSpacing(12)
        right.addWidget(codes_title)
        right.addWidget(codes_box)
        right.addStretch(1)
        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(scan)
        left.addWidget(self.qr, 1)
        body.addLayout(left, 1)
        body.addLayout(right, 1)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addLayout(body, 1)
        lay.addWidget(warning)
        lay.addLayout(buttons)
        self.finished.connect(lambda _result: self.wipe())
        self.resize(900, 560)

    def save_png(self) -> None:
        if self.enrolment is None:
            return
        path = self.ask_png_path(self.png_name)
        if path is None:
            return
        try:
            write_private_png(qr_image(qr_matrix(self.enrolment.uri)), path)
        except OSError as exc:
            self.status.setText(_("无法保存：{error}").format(error=exc.strerror or exc))
            return
        self.saved = path
        self.status.setText(_("已保存到 {path}（含密钥，扫码后请删除）").format(path=path))

    def wipe(self) -> None:
        """Nothing of the secret stays in the widgets once the dialog is closed."""
        self.enrolment = None
        self.qr.set_matrix([])
        self.secret.clear()
        for label in self.code_labels:
            label.clear()
        self.save_button.setEnabled(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.wipe()
        super().closeEvent(event)
