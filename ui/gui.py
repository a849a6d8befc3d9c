"""Starts the Qt application for a configured counter."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

from hallclient.config import Config
from hallclient.i18n import _
from hallclient.services import build_services
from ui.app import CounterApp, load_stylesheet

# Platform plugins that cannot do something harmless say so on every window: not news.
_QT_NOISE = ("This plugin does not support propagateSizeHints",)
_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}
qt_log = logging.getLogger("qt")


def _qt_message(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    if not message.startswith(_QT_NOISE):
        qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)


def make_qt_app() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        if not existing.styleSheet():  # created elsewhere (pytest-qt): still look like the product
            load_stylesheet(existing)
        return existing
    qInstallMessageHandler(_qt_message)
    app = QApplication(sys.argv[:1])
    app.setOrganizationName("hallclient")
    app.setApplicationName("hallclient")
    load_stylesheet(app)
    return app


def run_gui(config: Config) -> int:
    app = make_qt_app()
    try:
        services = build_services(config)
    except Exception as exc:  # shown to the clerk instead of a traceback
        QMessageBox.critical(None, _("无法启动"), _("本机数据无法打开：{error}").format(error=exc))
        return 1
    counter_app = CounterApp(services)
    counter_app.start()
    code = app.exec()
    counter_app.shutdown()
    return code
