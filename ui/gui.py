"""Starts the Qt application for a configured counter.

The sign-in window comes first, with only what it needs (the config, the
translations, Qt's widgets): the local store, the sync engine and the windows
behind the sign-in load on a worker thread while the clerk types. That is why
this module imports neither ``hallclient.services`` nor ``ui.app`` at the top.
"""

from __future__ import annotations

import logging
import sys
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

from hallclient.config import Config
from hallclient.i18n import _, set_language
from hallclient.resources import resource_path
from ui.clerk.login_dialog import LoginDialog
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from hallclient.counter import ClerkSession
    from hallclient.services import Services
    from ui.app import CounterApp

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
log = logging.getLogger(__name__)
# Logged when the sign-in window is on screen.
SIGN_IN_SHOWN = "sign-in window shown"


def _qt_message(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    if not message.startswith(_QT_NOISE):
        qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)


def load_stylesheet(app: QApplication) -> None:
    app.setStyleSheet(resource_path("qss", "app.qss").read_text(encoding="utf-8"))


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


def _build(config: Config) -> Services:
    """The counter's services, and the modules of the windows after the sign-in, off the GUI thread."""
    from hallclient.services import build_services

    services = build_services(config)
    # Only imported here (module code, no widgets made): the GUI thread then finds them loaded.
    import ui.app  # noqa: F401

    return services


class PendingDesk:
    """The sign-in dialog's counter until the real one is built: a sign-in waits for it.

    The build runs on the runner's counter worker, which takes one task at a time, so a
    sign-in clicked early queues behind it, and the build's result reaches the GUI thread
    (where the ``CounterApp`` is made) before the sign-in's does.
    """

    def __init__(self, config: Config, services: Future[Services]) -> None:
        self.config = config
        self.services = services

    @property
    def hall_code(self) -> str:
        return self.config.counter.hall_code

    @property
    def window_no(self) -> int:
        return self.config.counter.window_no

    def login(
        self, username: str, password: str, *, totp_code: str | None = None, recovery_code: str | None = None
    ) -> ClerkSession:
        counter = self.services.result().counter
        return counter.login(username, password, totp_code=totp_code, recovery_code=recovery_code)


class CounterStartup:
    """Shows the sign-in window at once, builds the services behind it, then hands over to CounterApp."""

    def __init__(self, app: QApplication, config: Config) -> None:
        self.app = app
        self.config = config
        self.counter_app: CounterApp | None = None
        self.failed = False
        set_language(config.counter.language)
        self.runner = TaskRunner()
        self.building: Future[Services] = Future()
        self.login = LoginDialog(PendingDesk(config, self.building), self.runner)

    def start(self) -> None:
        self.login.show()
        # Once the event loop has shown it: how long start-up took is in the log's timestamps
        # (bench/frozen_start.py reads this line from the frozen program and from the source).
        QTimer.singleShot(0, lambda: log.info(SIGN_IN_SHOWN))
        # Started once the window is up: on a machine of two cores the build would otherwise
        # take the interpreter from the GUI thread while it builds and shows the window.
        building = self.runner.run(lambda: _build(self.config), self._built, self._failed)
        assert building is not None  # a new runner is not shut down
        building.add_done_callback(self._chain)

    def _chain(self, done: Future[Any]) -> None:
        exc = done.exception()
        if exc is not None:
            self.building.set_exception(exc)
        else:
            self.building.set_result(done.result())

    def _built(self, services: Services) -> None:
        from ui.app import CounterApp

        self.counter_app = CounterApp(services, runner=self.runner, login=self.login)
        self.counter_app.start()

    def _failed(self, exc: Exception) -> None:
        self.failed = True
        self.login.hide()
        # Shown to the clerk instead of a traceback.
        QMessageBox.critical(None, _("无法启动"), _("本机数据无法打开：{error}").format(error=exc))
        self.app.exit(1)

    def shutdown(self) -> None:
        if self.counter_app is not None:
            self.counter_app.shutdown()
            return
        # Closed before the services were ready: let the build finish, then close what it opened.
        self.runner.shutdown()
        if self.building.done() and self.building.exception() is None:
            self.building.result().close()


def run_gui(config: Config) -> int:
    app = make_qt_app()
    startup = CounterStartup(app, config)
    startup.start()
    code = app.exec()
    startup.shutdown()
    return 1 if startup.failed else code
