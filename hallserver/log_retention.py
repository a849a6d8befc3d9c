"""Keeping the server's logs for at least 180 days, then archiving them, never losing a row.

网络安全法 §21 asks for six months of logs; 等保 level 3 that they be protected from edit
and available to an assessor. The login log and the e-license access log are tables the
database itself keeps append-only (migration 0009: no UPDATE, no DELETE of a row younger
than 180 days); ``prune`` moves rows older than the hall's retention into compressed JSON
line archives, each with its SHA-256 beside it, and only then deletes them. The request
log is a file rotated at midnight that keeps as many days as the retention says.

Archives and exports mask the citizen's ID number in the e-license access log (the row
still names the case's ticket and the license, which is what an audit follows).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import logging.handlers
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from hallclient.logfilter import PersonalDataFilter
from hallclient.masking import mask_id_number
from hallserver.models import LicenseAccess, LoginEvent

# The legal floor (six months and a margin); the database enforces the same number.
FLOOR_DAYS = 180
TABLES: dict[str, type[LoginEvent] | type[LicenseAccess]] = {
    "login_log": LoginEvent,
    "license_access_log": LicenseAccess,
}
_BATCH = 2000


class RetentionError(Exception):
    """A retention setting or an archive that cannot be what the law asks; the message says why."""


def check_keep_days(days: int) -> int:
    if days < FLOOR_DAYS:
        raise RetentionError(
            f"日志保留天数 {days} 少于 {FLOOR_DAYS} 天：网络安全法第二十一条要求日志至少保存六个月，"
            f"请设为 {FLOOR_DAYS} 或更大"
        )
    return days


@dataclass(frozen=True)
class Archived:
    table: str
    rows: int
    path: Path
    sha256: str


def _row(table: str, row: LoginEvent | LicenseAccess) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        out[column.name] = value
    if table == "license_access_log":
        out["holder_id"] = mask_id_number(str(out["holder_id"]))
    return out


def _rows(
    s: Session, table: str, since: dt.datetime | None, until: dt.datetime | None
) -> Iterator[LoginEvent | LicenseAccess]:
    model = TABLES[table]
    query = select(model).order_by(model.id)
    if since is not None:
        query = query.where(model.at >= since)
    if until is not None:
        query = query.where(model.at < until)
    yield from s.scalars(query.execution_options(yield_per=_BATCH))  # type: ignore[misc]


def write_rows(
    s: Session,
    table: str,
    fh: IO[str],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> tuple[int, int | None]:
    """Rows of one log as JSON lines, oldest first; how many, and the last id written."""
    if table not in TABLES:
        raise RetentionError(f"没有名为 {table} 的日志；可选：{'、'.join(TABLES)}")
    n, last_id = 0, None
    for row in _rows(s, table, since, until):
        fh.write(json.dumps(_row(table, row), ensure_ascii=False, sort_keys=True) + "\n")
        n, last_id = n + 1, row.id
    return n, last_id


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def prune(
    sessions: sessionmaker[Session], keep_days: int, archive_dir: Path, now: dt.datetime
) -> list[Archived]:
    """Archive, then delete, every log row older than ``keep_days``; never a younger one.

    The archive is written, flushed to disk and read back (its row count checked) before
    the rows are deleted in one transaction; a crash in between leaves the rows in the
    database and a spare archive, never a lost row.
    """
    check_keep_days(keep_days)
    try:
        archive_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RetentionError(f"无法创建归档目录 {archive_dir}：{exc.strerror or exc}") from exc
    cutoff = now - dt.timedelta(days=keep_days)
    done: list[Archived] = []
    for table, model in TABLES.items():
        with sessions() as s:
            oldest = s.scalar(select(func.min(model.at)).where(model.at < cutoff))
            if oldest is None:
                continue
            name = f"{table}-{oldest:%Y%m%d}-{cutoff:%Y%m%d}-{now:%Y%m%dT%H%M%S}.jsonl.gz"
            path = archive_dir / name
            tmp = path.with_suffix(".part")
            try:
                with gzip.open(tmp, "wt", encoding="utf-8") as fh:
                    count, last_id = write_rows(s, table, fh, until=cutoff)
                with tmp.open("rb+") as raw:
                    os.fsync(raw.fileno())
                with gzip.open(tmp, "rt", encoding="utf-8") as check:
                    if sum(1 for _ in check) != count:
                        raise RetentionError(f"归档文件 {tmp} 读回的行数不对，未删除任何日志")
                os.replace(tmp, path)
                sha = _sha256(path)
                path.with_name(name + ".sha256").write_text(f"{sha}  {name}\n", encoding="utf-8")
                _fsync_dir(archive_dir)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise RetentionError(
                    f"无法写入归档 {path}：{exc.strerror or exc}；未删除任何日志，请检查磁盘空间和权限"
                ) from exc
            assert last_id is not None
            s.execute(delete(model).where(model.at < cutoff, model.id <= last_id))
            s.commit()
            done.append(Archived(table, count, path, sha))
    return done


def request_log_handler(path: Path, keep_days: int) -> logging.Handler:
    """The HTTP request log: one file a day (UTC midnight), ``keep_days`` of them kept."""
    check_keep_days(keep_days)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.TimedRotatingFileHandler(
            path, when="midnight", backupCount=keep_days, encoding="utf-8", utc=True
        )
    except OSError as exc:
        raise RetentionError(f"无法打开请求日志 {path}：{exc.strerror or exc}") from exc
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    handler.addFilter(PersonalDataFilter())
    return handler
