"""``hallclient``: the counter program's command line.

    hallclient [--config FILE]             the clerk window and the citizen screen
    hallclient demo [--headless --out DIR] an embedded server with demo data

Qt is imported only once a window is needed, so errors in the command line or
the configuration are reported quickly and plainly.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from hallclient.config import ConfigError, load_config
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
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_log_filter()
    if args.command == "demo":
        from ui.demo import run_demo

        return run_demo(headless=args.headless, out_dir=args.out, citizens=args.citizens)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(_("配置错误：{error}").format(error=exc), file=sys.stderr)
        return 2
    from ui.gui import run_gui

    return run_gui(config)


if __name__ == "__main__":
    sys.exit(main())
