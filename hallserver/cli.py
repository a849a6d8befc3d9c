"""``hallserver``: serve, init-db, seed --demo, clerk add|disable|reset-password."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging
import os
import sys
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from hallserver.db import create_schema, default_db_url, make_engine, session_factory


class CliError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hallserver", description="政务服务大厅平台参考服务端")
    sub = p.add_subparsers(dest="command", required=True)

    def with_db(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument(
            "--db", default=None, help="database URL: sqlite:///PATH (default) or postgresql+psycopg://…"
        )
        return sp

    serve = with_db(sub.add_parser("serve", help="run the HTTP API"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8470)
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    with_db(sub.add_parser("init-db", help="create the tables"))

    seed = with_db(sub.add_parser("seed", help="load data"))
    seed.add_argument(
        "--demo", action="store_true", required=True, help="the demo hall DEMO with today's bookings"
    )
    seed.add_argument(
        "--date", type=dt.date.fromisoformat, default=None, help="day of the bookings (default today)"
    )
    seed.add_argument(
        "--hall-key-out",
        type=Path,
        default=None,
        help="create the hall's document signing key, write the private key here (0600)",
    )

    clerk = sub.add_parser("clerk", help="manage clerk accounts")
    csub = clerk.add_subparsers(dest="action", required=True)
    add = with_db(csub.add_parser("add"))
    add.add_argument("--hall", required=True)
    add.add_argument("--username", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--staff-no", required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    for action in ("disable", "reset-password"):
        sp = with_db(csub.add_parser(action))
        sp.add_argument("--hall", required=True)
        sp.add_argument("--username", required=True)
        if action == "reset-password":
            sp.add_argument("--password-stdin", action="store_true")
    return p


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("新密码：")
        if getpass.getpass("再输入一次：") != password:
            raise CliError("两次输入的密码不一致")
    if len(password) < 8:
        raise CliError("密码至少 8 位")
    return password


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per plugin on every start
    url = args.db or os.environ.get("HALLSERVER_DB") or default_db_url()
    try:
        return _run(args, url)
    except CliError as exc:
        print(f"hallserver: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        print(f"hallserver: 无法打开数据库 {url}：{exc.orig}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"hallserver: 数据库错误：{type(exc).__name__}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, url: str) -> int:
    engine = make_engine(url)
    if args.command == "init-db":
        create_schema(engine)
        print(f"数据库已就绪：{engine.url.render_as_string(hide_password=True)}")
        return 0
    if args.command == "serve":
        import uvicorn

        from hallserver.app import create_app

        create_schema(engine)
        uvicorn.run(create_app(engine), host=args.host, port=args.port, log_level=args.log_level)
        return 0
    if args.command == "seed":
        return _seed(args, engine)
    return _clerk(args, engine)


def _seed(args: argparse.Namespace, engine: Engine) -> int:
    from hallclient.signing import generate_private_key, public_key_of
    from hallserver.seed import seed_demo

    create_schema(engine)
    public_key = ""
    if args.hall_key_out is not None:
        private = generate_private_key()
        path: Path = args.hall_key_out
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(private + "\n")
        public_key = public_key_of(private)
    with session_factory(engine)() as s:
        summary = seed_demo(s, args.date or dt.date.today(), public_key=public_key)
    print(
        f"演示大厅 {summary.hall}：{summary.clerks} 个窗口人员账号、{summary.items} 个事项、"
        f"{summary.bookings} 个预约已写入"
    )
    return 0


def _clerk(args: argparse.Namespace, engine: Engine) -> int:
    from hallserver.models import Clerk, Hall
    from hallserver.security import hash_password

    with session_factory(engine)() as s:
        if s.get(Hall, args.hall) is None:
            raise CliError(f"大厅编码 {args.hall} 不存在")
        clerk = s.scalar(select(Clerk).where(Clerk.hall_code == args.hall, Clerk.username == args.username))
        if args.action == "add":
            if clerk is not None:
                raise CliError(f"账号 {args.username} 已存在")
            s.add(
                Clerk(
                    hall_code=args.hall,
                    username=args.username,
                    name=args.name,
                    staff_no=args.staff_no,
                    password_hash=hash_password(_read_password(args.password_stdin)),
                )
            )
        elif clerk is None:
            raise CliError(f"大厅 {args.hall} 没有账号 {args.username}")
        elif args.action == "disable":
            clerk.disabled = True
        else:
            clerk.password_hash = hash_password(_read_password(args.password_stdin))
            clerk.failed_logins = 0
            clerk.locked_until = None
        s.commit()
    print(f"账号 {args.username}：{args.action} 完成")
    return 0
