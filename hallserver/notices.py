"""SMS notices to citizens: called, a few places away, result ready for pick-up.

A notice is recorded in the same transaction as the event that causes it (a call,
a result marked ready), so it is never lost and never blocks the counter: the
counter's request ends when the row is written. A dispatcher thread delivers the
rows through a pluggable :class:`NoticeSender` and retries failures with growing
delays; after the last retry the notice is ``failed`` and listed for the hall
(``GET /notices``). Phone numbers are masked in every log line and every stored
error message; only the sender itself sees the number.

Senders: :class:`LoggingSender` (the demo and tests) and :class:`HttpSender`, an
SMS gateway reached by URL with a JSON body template, configured from the
environment (:func:`sender_from_env`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hallclient import wire
from hallclient.masking import mask_phone
from hallserver.models import Booking, Case, Hall, Notice, Ticket, TicketVisit

log = logging.getLogger(__name__)

# Waits before the 2nd, 3rd … attempt; after the last one the notice is failed.
RETRY_DELAYS = (dt.timedelta(seconds=30), dt.timedelta(minutes=2), dt.timedelta(minutes=10))
# A delivery in progress holds its row this long (another dispatcher leaves it alone).
CLAIM_LEASE = dt.timedelta(minutes=2)
_PHONE = re.compile(r"1[3-9]\d{9}")


class NoticeFailed(Exception):
    """The gateway did not take the message; the text says why (without the phone number)."""


class NoticeSender(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Deliver or raise NoticeFailed."""


def mask_phones(text: str) -> str:
    """Every mobile number in ``text`` masked (error messages can echo the request)."""
    return _PHONE.sub(lambda m: mask_phone(m.group()), text)


class LoggingSender:
    """Writes each notice to the log, phone masked: for the demo and the tests."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (masked phone, text), for tests and the demo

    def send(self, phone: str, text: str) -> None:
        self.sent.append((mask_phone(phone), text))
        log.info("SMS to %s: %s", mask_phone(phone), text)


class HttpSender:
    """POSTs a JSON body to an SMS gateway; ``template`` is JSON whose strings may hold {phone} and {text}."""

    def __init__(
        self, url: str, template: str, *, timeout_s: float = 5.0, headers: dict[str, str] | None = None
    ):
        self.url = url
        try:
            self.template = json.loads(template)
        except ValueError as exc:
            raise ValueError(f"SMS template is not JSON: {exc}") from None
        self.timeout_s = timeout_s
        self.headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}

    def body(self, phone: str, text: str) -> bytes:
        def fill(value: Any) -> Any:
            if isinstance(value, str):
                return value.replace("{phone}", phone).replace("{text}", text)
            if isinstance(value, list):
                return [fill(v) for v in value]
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            return value

        return json.dumps(fill(self.template), ensure_ascii=False).encode("utf-8")

    def send(self, phone: str, text: str) -> None:
        import urllib.error
        import urllib.request

        req = urllib.request.Request(
            self.url, data=self.body(phone, text), headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 (configured URL)
                if resp.status >= 300:
                    raise NoticeFailed(f"短信网关返回 HTTP {resp.status}")
        except urllib.error.HTTPError as exc:
            raise NoticeFailed(f"短信网关返回 HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise NoticeFailed(mask_phones(f"短信网关无法连接：{reason}")) from None


def sender_from_env(env: dict[str, str] | None = None) -> NoticeSender:
    """HALLSERVER_SMS_URL and HALLSERVER_SMS_TEMPLATE configure the gateway; without them, the log."""
    env = dict(os.environ if env is None else env)
    url = env.get("HALLSERVER_SMS_URL", "").strip()
    if not url:
        return LoggingSender()
    template = env.get("HALLSERVER_SMS_TEMPLATE", '{"phone": "{phone}", "text": "{text}"}')
    timeout = float(env.get("HALLSERVER_SMS_TIMEOUT_S", "5"))
    return HttpSender(url, template, timeout_s=timeout)


# -- recording ---------------------------------------------------------------------------------


def ticket_phone(s: Session, t: Ticket) -> str | None:
    """Where a ticket's notices go: the phone given at the walk-in, else the booking's."""
    visit = s.get(TicketVisit, t.id)
    if visit is not None and visit.phone:
        return visit.phone
    if t.booking_code:
        b = s.get(Booking, t.booking_code)
        if b is not None:
            phone = (b.applicant or {}).get("phone")
            return str(phone) if phone else None
    return None


def _hall_name(s: Session, hall_code: str) -> str:
    hall = s.get(Hall, hall_code)
    return hall.name if hall is not None else hall_code


def record(
    s: Session,
    *,
    hall_code: str,
    day: dt.date,
    kind: wire.NoticeKind,
    ref: str,
    phone: str,
    text: str,
    now: dt.datetime,
) -> bool:
    """Add a notice in the caller's transaction (a savepoint: a duplicate never spoils the caller's work).

    Returns False when the same notice was recorded before (one per kind and reference a day).
    """
    exists = s.scalar(
        select(Notice.id).where(
            Notice.hall_code == hall_code, Notice.day == day, Notice.kind == kind.value, Notice.ref == ref
        )
    )
    if exists is not None:
        return False
    try:
        with s.begin_nested():
            s.add(
                Notice(
                    hall_code=hall_code,
                    day=day,
                    kind=kind.value,
                    ref=ref,
                    phone=phone,
                    text=text,
                    status=wire.NoticeStatus.PENDING.value,
                    attempts=0,
                    last_error="",
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False
    log.info("notice %s for %s recorded (%s)", kind.value, ref, mask_phone(phone))
    return True


def ticket_called(s: Session, t: Ticket, now: dt.datetime) -> None:
    phone = ticket_phone(s, t)
    if not phone or t.window_no is None:
        return
    text = f"【{_hall_name(s, t.hall_code)}】您的 {t.ticket_no} 号已叫到，请到 {t.window_no} 号窗口办理。"
    record(
        s,
        hall_code=t.hall_code,
        day=t.date,
        kind=wire.NoticeKind.CALLED,
        ref=t.ticket_no,
        phone=phone,
        text=text,
        now=now,
    )


def ticket_approaching(s: Session, t: Ticket, ahead: int, now: dt.datetime) -> None:
    phone = ticket_phone(s, t)
    if not phone:
        return
    text = (
        f"【{_hall_name(s, t.hall_code)}】您的 {t.ticket_no} 号前面还有 {ahead} 位，"
        "请回到大厅留意叫号，过号需重新取号。"
    )
    record(
        s,
        hall_code=t.hall_code,
        day=t.date,
        kind=wire.NoticeKind.APPROACHING,
        ref=t.ticket_no,
        phone=phone,
        text=text,
        now=now,
    )


def result_ready(s: Session, case: Case, now: dt.datetime, item_name: str = "") -> bool:
    """The result of an accepted case can be collected: tell the applicant (the phone on the case)."""
    phone = str(((case.body or {}).get("applicant") or {}).get("phone") or "")
    if not phone:
        return False
    what = f"（{item_name}）" if item_name else ""
    text = (
        f"【{_hall_name(s, case.hall_code)}】您的办件 {case.case_no}{what}办理结果已可领取，"
        "请携带受理通知书和本人身份证件到大厅领取。"
    )
    return record(
        s,
        hall_code=case.hall_code,
        day=now.astimezone().date(),
        kind=wire.NoticeKind.RESULT_READY,
        ref=case.case_no,
        phone=phone,
        text=text,
        now=now,
    )


def to_wire(n: Notice) -> wire.NoticeInfo:
    return wire.NoticeInfo(
        id=n.id,
        kind=wire.NoticeKind(n.kind),
        ref=n.ref,
        phone=mask_phone(n.phone),
        text=n.text,
        status=wire.NoticeStatus(n.status),
        attempts=n.attempts,
        last_error=n.last_error,
        created_at=n.created_at,
        sent_at=n.sent_at,
    )


# -- delivery ----------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


class NoticeDispatcher:
    """Delivers due notices off the request threads; ``kick`` after recording, retries on a timer."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        sender: NoticeSender,
        clock: Callable[[], dt.datetime],
        *,
        retry_delays: Sequence[dt.timedelta] = RETRY_DELAYS,
        batch: int = 50,
    ) -> None:
        self.sessions = sessions
        self.sender = sender
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays) + 1

    def deliver_due(self) -> DeliveryReport:
        """Send every notice due now once; what fails is scheduled again or, at the end, failed."""
        report = DeliveryReport()
        now = self.clock()
        with self.sessions() as s:
            due = s.execute(
                select(Notice.id, Notice.next_attempt_at)
                .where(Notice.status == wire.NoticeStatus.PENDING.value, Notice.next_attempt_at <= now)
                .order_by(Notice.next_attempt_at, Notice.id)
                .limit(self.batch)
            ).all()
        for notice_id, due_at in due:
            with self.sessions() as s:
                # Claim it: only if nobody else moved its time meanwhile.
                claimed = s.execute(
                    update(Notice)
                    .where(
                        Notice.id == notice_id, Notice.next_attempt_at == due_at, Notice.status == "pending"
                    )
                    .values(next_attempt_at=now + CLAIM_LEASE, attempts=Notice.attempts + 1)
                )
                s.commit()
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                n = s.get(Notice, notice_id)
                assert n is not None
                phone, text, attempts = n.phone, n.text, n.attempts
            error = ""
            try:
                self.sender.send(phone, text)
            except NoticeFailed as exc:
                error = mask_phones(str(exc))
            except Exception as exc:  # a sender's bug must not stop the others' notices
                error = mask_phones(f"{type(exc).__name__}: {exc}")
            with self.sessions() as s:
                n = s.get(Notice, notice_id)
                assert n is not None
                if not error:
                    n.status, n.sent_at, n.last_error = wire.NoticeStatus.SENT.value, self.clock(), ""
                    report.sent += 1
                elif attempts >= self.max_attempts:
                    n.status, n.last_error = wire.NoticeStatus.FAILED.value, error[:500]
                    report.failed += 1
                    log.warning(
                        "notice %s %s to %s failed for good after %s attempts: %s",
                        n.kind,
                        n.ref,
                        mask_phone(phone),
                        attempts,
                        error,
                    )
                else:
                    n.last_error = error[:500]
                    n.next_attempt_at = self.clock() + self.retry_delays[attempts - 1]
                    report.retrying += 1
                    log.info(
                        "notice %s %s to %s not delivered (attempt %s), retrying: %s",
                        n.kind,
                        n.ref,
                        mask_phone(phone),
                        attempts,
                        error,
                    )
                s.commit()
        return report

    def next_due(self) -> dt.datetime | None:
        with self.sessions() as s:
            return s.scalar(
                select(Notice.next_attempt_at)
                .where(Notice.status == wire.NoticeStatus.PENDING.value)
                .order_by(Notice.next_attempt_at)
                .limit(1)
            )

    # -- the background thread ------------------------------------------------------------------

    def kick(self) -> None:
        """Something was recorded: deliver soon, on the dispatcher's own thread."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="notice-dispatcher", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            wait: float | None = None
            try:
                self.deliver_due()
                upcoming = self.next_due()
                if upcoming is not None:
                    wait = max(1.0, min(60.0, (upcoming - self.clock()).total_seconds()))
            except Exception as exc:  # the database may be away for a moment: try again later
                log.warning("notice delivery interrupted: %s", type(exc).__name__)
                wait = 30.0
            self._wake.wait(wait)


_DISPATCHER_LOCK = threading.Lock()


def dispatcher_of(app_state: Any) -> NoticeDispatcher:
    """The app's dispatcher (``app.state.notices``), made on first use with the environment's sender."""
    with _DISPATCHER_LOCK:
        found: NoticeDispatcher | None = getattr(app_state, "notices", None)
        if found is None:
            found = NoticeDispatcher(app_state.sessions, sender_from_env(), app_state.clock)
            app_state.notices = found
        return found
