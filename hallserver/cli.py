"""``hallserver``: serve, init-db, seed --demo|--bookings N, clerk add|disable|reset-password|enrol-totp|require-totp, export, logs prune|export."""

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
from hallserver.db import create_schema, default_db_url, make_engine, pool_size, session_factory


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
    serve.add_argument(
        "--request-log",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the HTTP request log to FILE, rotated at midnight (UTC), ID and phone numbers masked",
    )
    serve.add_argument(
        "--log-retention-days",
        type=_retention_days,
        default=180,
        metavar="N",
        help="days of request log files kept (at least 180, the default; 网络安全法 §21)",
    )

    logs = sub.add_parser(
        "logs",
        help="archive or export the login log and the e-license access log",
        description=(
            "The database keeps both logs append-only and refuses to delete a row younger than "
            "180 days. prune: rows older than --keep-days go to a .jsonl.gz archive with its "
            "SHA-256, then out of the database. export: rows of one log as JSON lines for an assessor. "
            "Citizens' ID numbers are masked in both."
        ),
    )
    lsub = logs.add_subparsers(dest="action", required=True)
    prune = with_db(lsub.add_parser("prune", help="archive, then delete, rows older than --keep-days"))
    prune.add_argument("--keep-days", type=_retention_days, default=180, metavar="N", help="at least 180")
    prune.add_argument("--archive", type=Path, required=True, metavar="DIR", help="where the archives go")
    lexp = with_db(lsub.add_parser("export", help="one log as JSON lines"))
    lexp.add_argument("table", choices=("login_log", "license_access_log"))
    lexp.add_argument("--from", dest="date_from", type=_iso_date, default=None, metavar="YYYY-MM-DD")
    lexp.add_argument("--to", dest="date_to", type=_iso_date, default=None, metavar="YYYY-MM-DD")
    lexp.add_argument("--out", type=Path, default=None, metavar="FILE", help="default: stdout")

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
    add.add_argument(
        "--department",
        default="",
        help="for a back-office account: the department whose cases it decides (e.g. 市场监督管理局)",
    )
    for action in ("disable", "reset-password"):
        sp = with_db(csub.add_parser(action))
        sp.add_argument("--hall", required=True)
        sp.add_argument("--username", required=True)
        if action == "reset-password":
            sp.add_argument("--password-stdin", action="store_true")
    enrol = with_db(
        csub.add_parser(
            "enrol-totp",
            help="bind a clerk's phone authenticator (second factor) and print one-time recovery codes",
            description=(
                "Creates the clerk's TOTP secret (RFC 6238) and prints the otpauth URI, a QR code to "
                "scan with an authenticator app (身份验证器) and 10 one-time recovery codes (备用码), "
                "shown this once and stored hashed. An enrolled clerk signs in with password and code."
            ),
        )
    )
    enrol.add_argument("username", metavar="USER")
    enrol.add_argument("--hall", default=None, help="the clerk's hall (needed when USER exists in several)")
    enrol.add_argument(
        "--png", type=Path, default=None, metavar="FILE", help="also write the QR code as PNG (0600)"
    )
    enrol.add_argument(
        "--reset",
        action="store_true",
        help="replace an existing enrolment (a lost phone): new secret and codes",
    )
    policy = with_db(
        csub.add_parser(
            "require-totp",
            help="whether the hall's clerks must sign in with the second factor (default: required)",
        )
    )
    policy.add_argument("--hall", required=True)
    policy.add_argument(
        "--off", action="store_true", help="password alone (not for production: 等保 level 3)"
    )

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
KEEP_ALIVE_S = 75  # longer than any counter's polling interval, as nginx's default
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _retention_days(text: str) -> int:
    """A number of days a log is kept; argparse names the option in its error."""
    from hallserver.log_retention import RetentionError, check_keep_days

    try:
        return check_keep_days(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} 不是天数（应为整数，至少 180）") from None
    except RetentionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        pool_size()  # a typo in HALLSERVER_DB_POOL is said before anything starts
    except ValueError as exc:
        print(f"hallserver: {exc}", file=sys.stderr)
        return 2
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
        config = uvicorn.Config(
            create_app(engine),
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            # Counters poll every few seconds on a kept-alive connection; uvicorn's default 5 s
            # closes it just as the next request goes out, which the counter sees as a failed push.
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        if args.request_log is not None:
            # After uvicorn's own logging set-up, which would otherwise drop the handler.
            from hallserver.log_retention import RetentionError, request_log_handler

            try:
                handler = request_log_handler(args.request_log, args.log_retention_days)
            except RetentionError as exc:
                raise CliError(str(exc)) from exc
            logging.getLogger("uvicorn.access").addHandler(handler)
        uvicorn.Server(config).run()
        return 0
    if args.command == "logs":
        return _logs(args, engine)
    if args.command == "seed":
        return _seed(args, engine)
    if args.command == "export":
        return _export(args, engine)
    return _clerk(args, engine)


def _logs(args: argparse.Namespace, engine: Engine) -> int:
    from hallserver import log_retention

    sessions = session_factory(engine)
    if args.action == "prune":
        try:
            done = log_retention.prune(sessions, args.keep_days, args.archive, dt.datetime.now(dt.UTC))
        except log_retention.RetentionError as exc:
            raise CliError(str(exc)) from exc
        if not done:
            print(f"没有早于 {args.keep_days} 天的日志，无需归档")
        for a in done:
            print(f"{a.table}：{a.rows} 行已归档到 {a.path}（SHA-256 {a.sha256}）并从数据库删除")
        return 0
    since = _local_midnight(args.date_from) if args.date_from else None
    until = _local_midnight(args.date_to + dt.timedelta(days=1)) if args.date_to else None
    with sessions() as s:
        if args.out is None:
            log_retention.write_rows(s, args.table, sys.stdout, since=since, until=until)
            return 0
        tmp = args.out.with_name(args.out.name + ".part")
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                n, _last = log_retention.write_rows(s, args.table, fh, since=since, until=until)
            os.replace(tmp, args.out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise CliError(f"无法写入 {args.out}：{exc.strerror or exc}") from exc
    print(f"{args.table}：{n} 行已导出到 {args.out}", file=sys.stderr)
    return 0


def _local_midnight(day: dt.date) -> dt.datetime:
    """Days are the hall's, in the server's local zone, as in the other exports."""
    return dt.datetime.combine(day, dt.time.min).astimezone()


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
    from hallserver.seed import DEMO_PASSWORD, demo_department_accounts, seed_demo

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
    print(f"后台审批页 /dept/ 的演示账号（密码同窗口人员 {DEMO_PASSWORD}）：")
    for username, _name, _staff_no, department in demo_department_accounts():
        print(f"  {username}  {department}")


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


def _enrol_totp(args: argparse.Namespace, engine: Engine) -> int:
    """Bind a clerk's authenticator: secret, QR code (terminal and --png), recovery codes."""
    from hallserver import totp
    from hallserver.enrolment import CLI_DEVICE, Actor, AlreadyEnrolled, enrol, grouped
    from hallserver.models import Clerk, Hall

    now = dt.datetime.now(dt.UTC)
    with session_factory(engine)() as s:
        query = select(Clerk).where(Clerk.username == args.username)
        if args.hall is not None:
            if s.get(Hall, args.hall) is None:
                raise CliError(f"大厅编码 {args.hall} 不存在")
            query = query.where(Clerk.hall_code == args.hall)
        found = list(s.scalars(query))
        if not found:
            raise CliError(f"没有账号 {args.username}" + (f"（大厅 {args.hall}）" if args.hall else ""))
        if len(found) > 1:
            halls = "、".join(sorted(c.hall_code for c in found))
            raise CliError(f"账号 {args.username} 在多个大厅都有（{halls}），请用 --hall 指定")
        clerk = found[0]
        try:
            done = enrol(s, clerk, reset=args.reset, actor=Actor(CLI_DEVICE), now=now)
        except AlreadyEnrolled:
            raise CliError(
                f"账号 {args.username} 已绑定动态口令；手机丢失或更换时加 --reset 重新绑定"
            ) from None
        hall = s.get(Hall, clerk.hall_code)
        assert hall is not None
        if args.png is not None:
            try:
                totp.write_qr_png(done.uri, args.png)
            except OSError as exc:
                raise CliError(f"无法写入 {args.png}：{exc.strerror or exc}") from exc
        s.commit()
    print(f"{clerk.name}（{clerk.username}，{hall.name}）的动态口令已绑定。")
    print("请本人用手机身份验证器（如 Microsoft Authenticator、Google 身份验证器、FreeOTP）扫描：\n")
    print(totp.qr_terminal(done.uri))
    print(f"\n无法扫码时手动输入密钥：{grouped(done.secret)}（基于时间，30 秒，6 位）")
    print(f"otpauth 地址：{done.uri}")
    if args.png is not None:
        print(f"二维码图片：{args.png}（含密钥，扫码后请删除）")
    if not hall.require_second_factor:
        print(f"注意：大厅 {hall.code} 目前未要求动态口令；此账号绑定后仍须密码加动态口令登录。")
    print(
        "\n一次性备用码（手机不在身边时代替动态口令，每个只能用一次；只显示这一次，请打印或抄下交本人保管）："
    )
    for code in done.recovery_codes:
        print(f"  {code}")
    return 0


def _require_totp(args: argparse.Namespace, engine: Engine) -> int:
    from hallserver.models import Hall

    with session_factory(engine)() as s:
        hall = s.get(Hall, args.hall)
        if hall is None:
            raise CliError(f"大厅编码 {args.hall} 不存在")
        hall.require_second_factor = not args.off
        s.commit()
    if args.off:
        print(f"大厅 {args.hall}：未绑定动态口令的账号可仅凭密码登录（不符合等保三级要求，仅供过渡）")
    else:
        print(f"大厅 {args.hall}：所有账号须用密码加动态口令登录")
    return 0


def _clerk(args: argparse.Namespace, engine: Engine) -> int:
    from hallserver.models import Clerk, Hall
    from hallserver.security import hash_password

    if args.action == "enrol-totp":
        return _enrol_totp(args, engine)
    if args.action == "require-totp":
        return _require_totp(args, engine)
    with session_factory(engine)() as s:
        if s.get(Hall, args.hall) is None:
            raise CliError(f"大厅编码 {args.hall} 不存在")
        clerk = s.scalar(select(Clerk).where(Clerk.hall_code == args.hall, Clerk.username == args.username))
        if args.action == "add" and args.department:
            if clerk is not None:
                raise CliError(f"账号 {args.username} 已存在")
            from hallserver.department import add_department_staff

            add_department_staff(
                s,
                hall_code=args.hall,
                username=args.username,
                name=args.name,
                staff_no=args.staff_no,
                password=_read_password(args.password_stdin),
                department=args.department,
            )
        elif args.action == "add":
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
