"""``hallclient``: the counter program's command line.

    hallclient [--config FILE]             the clerk window and the citizen screen
    hallclient demo [--headless --out DIR] an embedded server with demo data
    hallclient self-test [--json]          the deployment doctor (also ``--self-test``)

Qt is imported only once a window is needed, so errors in the command line or
the configuration are reported quickly and plainly.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from hallclient.config import Config, ConfigError, load_config
from hallclient.i18n import _
from hallclient.logfilter import install_log_filter


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hallclient", description=_("政务服务大厅窗口综合受理客户端"))
    p.add_argument("--config", type=Path, help=_("配置文件（默认 /etc/hallclient/config.toml）"))
    p.add_argument("-v", "--verbose", action="store_true", help=_("输出调试日志"))
    sub = p.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help=_("内置服务器和演示数据，体验完整的窗口办理流程"))
    demo.add_argument("--headless", action="store_true", help=_("不显示窗口，自动演示一天的窗口办理"))
    demo.add_argument("--out", type=Path, default=Path("demo-out"), help=_("无界面演示的输出目录"))
    demo.add_argument("--citizens", type=int, default=6, help=_("无界面演示中办理的群众人数"))
    # The self-test speaks to IT staff in Chinese, unmarked for translation (hallclient/selftest.py).
    p.add_argument("--self-test", action="store_true", help="同 self-test")
    selftest = sub.add_parser(
        "self-test", help="部署自检：Qt、显示器、字体、打印机、数据目录、密钥、服务器、时间；失败时退出码为 1"
    )
    selftest.add_argument("--json", action="store_true", help="以 JSON 输出结果（供批量部署工具收集）")
    # The Qt half of the self-test, run in a child process (a missing platform plugin aborts it).
    selftest.add_argument("--qt-probe", action="store_true", help=argparse.SUPPRESS)
    selftest.add_argument("--qt-probe-screen", default="", help=argparse.SUPPRESS)
    audit = sub.add_parser("audit", help=_("审计日志：校验链条是否被改动，或导出给审计人员"))
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help=_("校验审计日志的哈希链，报告第一个断点；被改动时退出码为 1"))
    export = audit_sub.add_parser("export", help=_("把审计日志导出为 JSON Lines 文件"))
    export.add_argument("target", type=Path, help=_("导出文件路径"))
    return p


def _qt_probe_command(config_screen: str) -> list[str]:
    """How to start this program's own Qt probe: frozen, the bundle's binary; else this module."""
    if getattr(sys, "frozen", False):
        base = [sys.executable]
    else:
        base = [sys.executable, "-m", "ui.main"]
    return [*base, "self-test", "--qt-probe", "--qt-probe-screen", config_screen]


def _qt_probe(screen_name: str) -> int:
    """Print what Qt finds on this machine as one JSON line: platform, screens, CJK fonts, printers."""
    import json

    from PySide6.QtGui import QFontDatabase, QGuiApplication
    from PySide6.QtPrintSupport import QPrinterInfo

    from ui.citizen.placement import citizen_screen

    app = QGuiApplication(sys.argv[:1])
    primary = app.primaryScreen()
    citizen = citizen_screen(screen_name)
    facts = {
        "platform": app.platformName(),
        "screens": [
            {
                "name": s.name(),
                "width": s.geometry().width(),
                "height": s.geometry().height(),
                "primary": s is primary,
            }
            for s in app.screens()
        ],
        "citizen": citizen.name() if citizen is not None else None,
        "cjk_fonts": QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese),
        "printers": QPrinterInfo.availablePrinterNames(),
        "default_printer": QPrinterInfo.defaultPrinterName(),
    }
    print(json.dumps(facts, ensure_ascii=False), flush=True)
    return 0


def _self_test(config_path: Path | None, *, as_json: bool) -> int:
    from hallclient import selftest

    def probe(cfg: Config | None) -> selftest.QtProbe:
        return selftest.run_qt_probe(_qt_probe_command(cfg.citizen_screen.screen_name if cfg else ""))

    checks = selftest.run_checks(config_path, qt_probe=probe)
    print(selftest.render_json(checks) if as_json else selftest.render_table(checks), flush=True)
    return selftest.exit_code(checks)


def _audit(config: Config, args: argparse.Namespace) -> int:
    from hallclient import audit_cli
    from hallclient.crypto import KeyFileError
    from hallclient.keystore import KeyUnavailable

    try:
        if args.audit_command == "verify":
            return audit_cli.verify(config)
        return audit_cli.export(config, args.target)
    except (OSError, ValueError, KeyFileError, KeyUnavailable) as exc:
        # A missing data file, a key that cannot be read, a target that cannot be written.
        print(_("审计日志操作失败：{error}").format(error=exc), file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_log_filter()
    if args.command == "self-test" and args.qt_probe:
        return _qt_probe(args.qt_probe_screen)
    if args.command == "self-test" or args.self_test:
        return _self_test(args.config, as_json=getattr(args, "json", False))
    if args.command == "demo":
        from ui.demo import run_demo

        return run_demo(headless=args.headless, out_dir=args.out, citizens=args.citizens)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(_("配置错误：{error}").format(error=exc), file=sys.stderr)
        return 2
    if args.command == "audit":
        return _audit(config, args)
    from ui.gui import run_gui

    return run_gui(config)


if __name__ == "__main__":
    sys.exit(main())
