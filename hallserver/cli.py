"""``hallserver``: serve, init-db, seed --demo|--bookings N, clerk add|disable|reset-password, export."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import io
import logging
import os
import re
import sys
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from hallserver import export
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

    seed = with_db(
        sub.add_parser(
            "seed",
            help="load data: the demo hall, and/or N bulk bookings for benchmarks",
            description=(
                "--demo: the demo hall DEMO (windows, clerks, catalog, the day's bookings and tickets). "
                "--bookings N: N bulk bookings for server benchmarks, written in batches; they get "
                "no change-log entries, so counters do not pull them through /sync/pull (a million "
                "bookings would otherwise be a million changes to pull). Both together: the demo hall "
                "first, then the bulk bookings. Re-running replaces that day's demo or bulk bookings."
            ),
        )
    )
    seed.add_argument("--demo", action="store_true", help="the demo hall DEMO with the day's bookings")
    seed.add_argument(
        "--bookings",
        type=_count,
        default=None,
        metavar="N",
        help="N bulk bookings for benchmarks (no change-log entries: not pulled by counters)",
    )
    seed.add_argument("--hall", default=None, metavar="CODE", help="hall of the bulk bookings (default DEMO)")
    seed.add_argument(
        "--date",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="day of the bookings (default today)",
    )
    seed.add_argument(
        "--hall-key-out",
        type=Path,
        default=None,
        help="with --demo: create the hall's document signing key, write the private key here (0600)",
    )

    clerk = sub.add_parser("clerk", help="manage clerk accounts")
    csub = clerk.add_subparsers(dest="action", required=True)
    add = with_db(csub.add_parser("add"))
    add.add_argument("--hall", required=True)
    add.add_argument("--username", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--staff-no", required=True)
    add.add_argument("--role", choices=ROLES, default="clerk", help="clerk (default), supervisor or admin")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    for action in ("disable", "reset-password"):
        sp = with_db(csub.add_parser(action))
        sp.add_argument("--hall", required=True)
        sp.add_argument("--username", required=True)
        if action == "reset-password":
            sp.add_argument("--password-stdin", action="store_true")

    exp = sub.add_parser(
        "export",
        help="export ratings, statistics, supervision figures or follow-ups as CSV or xlsx",
        description=(
            "ratings: one row per rating (local date and time, hall, window, item, level, reasons, "
            "comment), never any citizen identity. stats: per day and window, cases by decision, "
            "ratings per level and the satisfaction rate (未评价 not counted as rated). "
            "figures: the supervision figures (办结率, 好评率, 整改率, waiting times; "
            "docs/supervision.md) by hall, window, clerk or item and per day, week or month. "
            "follow-ups: the 整改 tasks of the ratings in range, with their results, anonymous. "
            "CSV is UTF-8 with BOM for Excel."
        ),
    )
    esub = exp.add_subparsers(dest="what", required=True)
    for what, what_help in (
        ("ratings", "rating details"),
        ("stats", "per-day, per-window statistics"),
        ("figures", "supervision figures by hall, window, clerk or item"),
        ("follow-ups", "整改 follow-ups with their results"),
    ):
        ep = with_db(esub.add_parser(what, help=what_help))
        if what == "figures":
            ep.add_argument(
                "--by",
                choices=("hall", "window", "clerk", "item"),
                default="window",
                help="group (default window)",
            )
            ep.add_argument(
                "--period",
                choices=("total", "day", "week", "month"),
                default="total",
                help="one row per group for the range (total, default), or per day, week or month",
            )
            ep.add_argument("--window", type=int, default=None, metavar="N", help="only this window")
            ep.add_argument("--item", default=None, metavar="CODE", help="only this item")
        ep.add_argument(
            "--from", dest="date_from", type=_iso_date, required=True, metavar="YYYY-MM-DD", help="first day"
        )
        ep.add_argument(
            "--to",
            dest="date_to",
            type=_iso_date,
            required=True,
            metavar="YYYY-MM-DD",
            help="last day (inclusive)",
        )
        ep.add_argument("--format", choices=("csv", "xlsx"), default="csv", help="csv (default) or xlsx")
        ep.add_argument("--hall", default=None, metavar="CODE", help="only this hall (default: all halls)")
        ep.add_argument(
            "--out",
            type=Path,
            default=None,
            metavar="FILE",
            help="output file (csv default: stdout; xlsx: required)",
        )
    return p


ROLES = ("clerk", "supervisor", "admin")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(text: str) -> dt.date:
    """A YYYY-MM-DD date; argparse names the option in its error."""
    if _ISO_DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD 格式（例如 2026-03-02），实际为“{text}”")


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"应为不小于 0 的整数，实际为“{text}”")
    return n


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
    if args.command == "export":
        return _export(args, engine)
    return _clerk(args, engine)


def _seed(args: argparse.Namespace, engine: Engine) -> int:
    if not args.demo and args.bookings is None:
        raise CliError("请指定 --demo（演示大厅）和/或 --bookings N（批量预约）")
    if args.hall_key_out is not None and not args.demo:
        raise CliError("--hall-key-out 只能与 --demo 一起使用")
    if args.hall is not None and args.bookings is None:
        raise CliError("--hall 只用于 --bookings（演示大厅固定为 DEMO）")
    day: dt.date = args.date or dt.date.today()
    create_schema(engine)
    if args.demo:
        _seed_demo(args, engine, day)
    if args.bookings is not None:
        _seed_bulk(args, engine, day)
    return 0


def _seed_demo(args: argparse.Namespace, engine: Engine, day: dt.date) -> None:
    from hallclient.signing import generate_private_key, public_key_of
    from hallserver.seed import seed_demo

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
        summary = seed_demo(s, day, public_key=public_key)
    print(
        f"演示大厅 {summary.hall}：{summary.clerks} 个窗口人员账号、{summary.items} 个事项、"
        f"{summary.bookings} 个预约已写入"
    )


def _seed_bulk(args: argparse.Namespace, engine: Engine, day: dt.date) -> None:
    from hallserver.bigdata import BulkSeedError, seed_bookings
    from hallserver.seed import DEMO_HALL

    def progress(done: int, total: int, seconds: float) -> None:
        rate = done / seconds if seconds > 0 else 0.0
        print(f"已写入 {done}/{total} 个预约（{rate:,.0f} 条/秒）", file=sys.stderr, flush=True)

    try:
        summary = seed_bookings(engine, args.hall or DEMO_HALL, day, args.bookings, progress=progress)
    except BulkSeedError as exc:
        raise CliError(str(exc)) from exc
    replaced = f"（替换了原有的 {summary.replaced} 个）" if summary.replaced else ""
    print(
        f"大厅 {summary.hall} {summary.date}：{summary.bookings} 个批量预约已写入{replaced}，"
        f"用时 {summary.seconds:.1f} 秒（{summary.rows_per_second:,.0f} 条/秒）；"
        "未写入变更日志，窗口端不会同步这些预约"
    )


def _export(args: argparse.Namespace, engine: Engine) -> int:
    from hallserver.models import Hall

    start: dt.date = args.date_from
    end: dt.date = args.date_to
    if end < start:
        raise CliError(f"结束日期 --to {end} 早于开始日期 --from {start}")
    out: Path | None = args.out
    if args.format == "xlsx" and out is None:
        raise CliError("xlsx 格式必须用 --out 指定输出文件")
    with session_factory(engine)() as s:
        if args.hall is not None and s.get(Hall, args.hall) is None:
            raise CliError(f"大厅编码 {args.hall} 不存在")
        if args.what in ("figures", "follow-ups"):
            table = _supervision_table(args, s, start, end)
        else:
            make = export.ratings_table if args.what == "ratings" else export.stats_table
            table = make(s, start, end, args.hall)
        try:
            if out is None:
                n = _csv_to_stdout(table)
            else:
                n = _to_file(table, out, args.format)
        except OSError as exc:
            raise CliError(f"无法写入 {out or '标准输出'}：{exc.strerror or exc}") from exc
    if out is not None:
        print(f"已导出 {n} 行到 {out}", file=sys.stderr)
    return 0


def _supervision_table(args: argparse.Namespace, s: Session, start: dt.date, end: dt.date) -> export.Table:
    """figures or follow-ups of one hall (--hall) or of every hall, as of the server's today."""
    from hallclient import wire
    from hallserver import stats
    from hallserver.models import Hall
    from hallserver.supervision import list_follow_ups

    halls = [args.hall] if args.hall is not None else list(s.scalars(select(Hall.code).order_by(Hall.code)))
    today = dt.date.today()
    if args.what == "follow-ups":
        return export.follow_ups_table(
            f
            for hall in halls
            for f in list_follow_ups(s, hall, today, status=wire.FollowUpFilter.ALL, start=start, end=end)
        )
    filters = stats.Filters(args.window, args.item)
    by, period = wire.FigureGroup(args.by), wire.FigurePeriod(args.period)
    return export.figures_table(
        *(
            stats.figures(s, hall, start, end, today=today, by=by, period=period, filters=filters)
            for hall in halls
        )
    )


def _csv_to_stdout(table: export.Table) -> int:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream: the BOM as a character
        sys.stdout.write("\ufeff")
        return export.write_csv(table, sys.stdout)
    # The BOM and UTF-8 whatever the console's encoding (GBK on Chinese Windows).
    text = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
    try:
        return export.write_csv(table, text)
    finally:
        text.flush()
        text.detach()


def _to_file(table: export.Table, out: Path, fmt: str) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a failed export leaves no half file behind.
    tmp = out.with_name(f".{out.name}.part")
    try:
        if fmt == "xlsx":
            n = export.write_xlsx(table, tmp)
        else:
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
                n = export.write_csv(table, fh)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return n


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
                    role=args.role,
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
