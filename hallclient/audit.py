"""The counter's audit log: append-only rows, each holding the hash of the one before.

Every row's hash covers its own fields and the previous row's hash, so editing
a row breaks its own hash, and deleting or reordering rows breaks the link
to the next one. The hash is an HMAC keyed from the device data key, so
someone who can write the file but has not got the key cannot rebuild a
consistent chain after changing it. Cutting rows off the end is caught by the chain head kept
beside the log (``audit_head``: the last id and hash), written in the same
transaction as each row. Rows never carry a citizen's personal data: they name
cases, tickets and documents by number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hallclient.i18n import _

GENESIS = "0" * 64
HEAD_KEY = "audit_head"


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    LOCK = "lock"
    UNLOCK = "unlock"
    TICKET = "ticket"
    WINDOW = "window"
    DECISION = "decision"
    PRINT = "print"
    REPRINT = "reprint"
    PICKUP = "pickup"
    CONFLICT_ACK = "conflict_ack"
    EXPORT = "export"
    PURGE = "purge"
    CONFIG = "config"
    PRIORITY = "priority"  # 绿色通道: a ticket marked with a priority category, and why
    CONSENT = "consent"  # the citizen agreed (or not) on the citizen screen, e.g. to re-use earlier materials


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    detail: str
    prev_hash: str
    hash: str

    def as_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "at": self.at.isoformat(),
                "actor": self.actor,
                "action": self.action,
                "subject": self.subject,
                "detail": self.detail,
                "prev_hash": self.prev_hash,
                "hash": self.hash,
            },
            ensure_ascii=False,
        )


def entry_hash(
    key: bytes, prev_hash: str, at: dt.datetime, actor: str, action: str, subject: str, detail: str
) -> str:
    canonical = json.dumps(
        [prev_hash, at.isoformat(), actor, action, subject, detail], ensure_ascii=False, separators=(",", ":")
    )
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    """Where the chain stops being trustworthy, and why, in words for IT staff."""

    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        where = _("第 {id} 条").format(id=self.entry_id) if self.entry_id is not None else _("日志末尾")
        return f"{where}：{self.reason}"


def verify_chain(
    entries: Iterable[AuditEntry], head: tuple[int, str] | None, key: bytes
) -> BrokenLink | None:
    """The first broken link of the chain, or None when every row and the head agree."""
    prev_hash = GENESIS
    last: AuditEntry | None = None
    for e in entries:
        if last is not None and e.id <= last.id:
            return BrokenLink(e.id, _("顺序被改动（编号不递增）"))
        if e.prev_hash != prev_hash:
            return BrokenLink(e.id, _("与上一条记录的链接不符（前面的记录被删除、插入或调换过）"))
        expected = entry_hash(key, e.prev_hash, e.at, e.actor, e.action, e.subject, e.detail)
        if not hmac.compare_digest(expected, e.hash):
            return BrokenLink(e.id, _("记录内容与其哈希不符（被修改过）"))
        prev_hash, last = e.hash, e
    if head is None:
        if last is not None:
            return BrokenLink(None, _("缺少链头记录，无法确认末尾是否被删除"))
        return None
    head_id, head_hash = head
    if last is None or last.id != head_id or last.hash != head_hash:
        return BrokenLink(None, _("日志末尾的记录被删除或替换过（与链头记录不符）"))
    return None


def format_head(entry_id: int, entry_hash_value: str) -> str:
    return f"{entry_id}:{entry_hash_value}"


def parse_head(raw: str) -> tuple[int, str] | None:
    if not raw:
        return None
    entry_id, _sep, value = raw.partition(":")
    return int(entry_id), value
