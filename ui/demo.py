"""``hallclient demo``: a counter against an embedded hallserver with demo data.

With a display, the clerk signs in (the demo account is filled in) and works
the queue. ``--headless`` plays a scripted counter day offscreen instead (see
``ui/demo_day.py``).
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from pathlib import Path

from hallclient.config import (
    CitizenScreenConfig,
    Config,
    CounterConfig,
    PrintingConfig,
    SecurityConfig,
    ServerConfig,
    SyncConfig,
)
from hallclient.i18n import _
from ui.demo_server import DemoServer, DemoServerError

log = logging.getLogger(__name__)

DEMO_USER = "clerk1"
DEMO_PASSWORD = "demo1234"


def demo_config(server: DemoServer, data_dir: Path, *, rating_timeout_s: int = 30) -> Config:
    return Config(
        server=ServerConfig(url=server.url, timeout_s=3.0),
        counter=CounterConfig(hall_code="DEMO", window_no=1, device_id="demo-window-01"),
        citizen_screen=CitizenScreenConfig(rating_timeout_s=rating_timeout_s),
        printing=PrintingConfig(signing_key_file=str(server.hall_key)),
        sync=SyncConfig(interval_s=2.0),
        # A demo keeps its key with its throw-away data, never in the machine's keystore.
        security=SecurityConfig(key_file=str(data_dir / "device.key")),
        data_dir=data_dir,
    )


def run_demo(*, headless: bool, out_dir: Path, citizens: int) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="hallclient-demo-"))
    print(_("正在启动内置服务器并生成演示数据…"), flush=True)
    try:
        server = DemoServer.start(workdir / "server")
    except DemoServerError as exc:
        print(_("演示服务器无法启动：{error}").format(error=exc), file=sys.stderr)
        return 1
    try:
        config = demo_config(server, workdir / "client")
        if headless:
            from ui.demo_day import play_counter_day

            return play_counter_day(config, out_dir, citizens=citizens)
        return _interactive(config)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _interactive(config: Config) -> int:
    from hallclient.services import build_services
    from ui.app import CounterApp
    from ui.gui import make_qt_app

    app = make_qt_app()
    services = build_services(config)
    counter_app = CounterApp(services)
    counter_app.login.username.setText(DEMO_USER)
    counter_app.login.password.setText(DEMO_PASSWORD)
    counter_app.start()
    print(
        _("演示账号 {user} / {password} 已填好，点击“登录”开始。").format(
            user=DEMO_USER, password=DEMO_PASSWORD
        )
    )
    code = app.exec()
    counter_app.shutdown()
    return code
