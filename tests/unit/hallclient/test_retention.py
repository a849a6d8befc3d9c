"""Retention: citizens' data purged retention_days after the server acknowledged it, nothing unsent.

Store.purge_personal_data on a real SQLite file with explicit (fake) times, then a
real Counter against a live hallserver, its clock moved a month on.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig

from hallclient import wire
from hallclient.audit import AuditAction
from hallclient.crypto import FieldCipher, load_or_create_key
from hallclient.domain import MaterialCheck
from hallclient.store import PURGED, Store
from hallclient.validation import resident_id_check_digit

HALL = "DEMO"
NOW = dt.datetime(2026, 11, 24, 9, 30, 0)
OLD = NOW - dt.timedelta(days=40)
RECENT = NOW - dt.timedelta(days=5)
COMPANY = "11330100MB0001001A4000117002"  # demo catalog: 有限责任公司设立登记


def valid_id(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


OLD_CITIZEN = wire.Applicant(name="司马慧敏", id_number=valid_id("33010619880215047"), phone="13957112468")
NEW_CITIZEN = wire.Applicant(name="欧阳建华", id_number=valid_id("11010519750301123"), phone="15800001234")


@pytest.fixture
def key(tmp_path: Path) -> bytes:
    return load_or_create_key(tmp_path / "keys" / "device.key")


@pytest.fixture
def store(tmp_path: Path, key: bytes) -> Iterator[Store]:
    s = Store(tmp_path / "data" / "counter.sqlite", FieldCipher(key))
    yield s
    s.close()


def raw(path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    # Closed at once: an open reader would keep the WAL from being checkpointed at close.
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql, args).fetchall()


def on_disk(path: Path) -> bytes:
    """The database file with its WAL and shared-memory files, as they lie on disk."""
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


def booking(code: str, day: dt.date, applicant: wire.Applicant) -> wire.Booking:
    return wire.Booking(
        code=code,
        hall_code=HALL,
        date=day,
        slot="09:00-09:30",
        item_code="ITEM-001",
        applicant=applicant,
        pre_review=wire.PreReview(
            result=wire.PreReviewResult.PASSED,
            reviewer_notes="",
            reviewed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            materials=[],
        ),
    )


def decide(store: Store, at: dt.datetime, applicant: wire.Applicant, booking_code: str | None = None) -> str:
    """Record a decision at ``at``; its case number."""

    def payload_for(case_no: str) -> wire.CaseDecidedPayload:
        return wire.CaseDecidedPayload(
            case_no=case_no,
            ticket_no=None,
            booking_code=booking_code,
            item_code="ITEM-001",
            item_version=1,
            decision=wire.Decision.ACCEPT,
            window_no=1,
            clerk_id=7,
            decided_at=at.astimezone(),
            promised_date=at.date() + dt.timedelta(days=7),
            materials=[],
            applicant=applicant,
        )

    return store.record_decision(
        hall_code=HALL, day=at.date(), payload_for=payload_for, now=at, window_no=1, ticket_no=None
    ).case_no


def op_of(store: Store, case_no: str) -> uuid.UUID:
    (op,) = [p.op.op_id for p in store.pending_ops(500) if p.op.payload.get("case_no") == case_no]
    return op


def ack(store: Store, case_no: str, at: dt.datetime, status: wire.OpStatus = wire.OpStatus.APPLIED) -> str:
    op_id = op_of(store, case_no)
    store.apply_results([wire.OpResult(op_id=op_id, status=status, detail="")], at)
    return str(op_id)


def is_purged(store: Store, case_no: str) -> bool:
    case = store.case(case_no)
    assert case is not None, "a purged case keeps its row: number, item and decision"
    return case.applicant.id_number == "" and case.applicant.phone == ""


# -- the store ---------------------------------------------------------------------------------


def test_acknowledged_data_older_than_retention_is_purged_and_newer_is_kept(store: Store) -> None:
    store.upsert_bookings(
        [booking("YY-OLD", OLD.date(), OLD_CITIZEN), booking("YY-NEW", RECENT.date(), NEW_CITIZEN)]
    )
    old_case = decide(store, OLD, OLD_CITIZEN, "YY-OLD")
    old_op = ack(store, old_case, OLD + dt.timedelta(minutes=1))
    new_case = decide(store, RECENT, NEW_CITIZEN, "YY-NEW")
    new_op = ack(store, new_case, RECENT + dt.timedelta(minutes=1))
    store.actor = "ZW-0107"

    assert store.purge_personal_data(NOW, 30) == 3  # one case, one op, one booking

    # The old case keeps its number, item and decision; the citizen is gone.
    old = store.case(old_case)
    assert old is not None and old.decision is wire.Decision.ACCEPT and old.item_code == "ITEM-001"
    assert old.applicant == wire.Applicant(name="（已按期清除）", id_number="", phone="")
    assert raw(store.path, "SELECT applicant_enc, id_index FROM cases WHERE case_no = ?", old_case) == [
        (PURGED, "")
    ]
    # Its blind index no longer finds it; the recent citizen is still found.
    assert store.cases_by_id_number(OLD_CITIZEN.id_number) == []
    assert [c.case_no for c in store.cases_by_id_number(NEW_CITIZEN.id_number)] == [new_case]
    assert (
        store.booking("YY-OLD", HALL) is None
        and store.find_bookings_by_id_number(OLD_CITIZEN.id_number, HALL) == []
    )
    recent_booking = store.booking("YY-NEW", HALL)
    assert recent_booking is not None and recent_booking.applicant == NEW_CITIZEN
    new = store.case(new_case)
    assert new is not None and new.applicant == NEW_CITIZEN
    # The old op and its encrypted payload are gone; the recent one stays.
    ops = {r[0] for r in raw(store.path, "SELECT op_id FROM outbox")}
    assert ops == {new_op} and old_op not in ops

    purge = store.audit_entries()[-1]
    assert (purge.action, purge.actor, purge.detail) == (
        AuditAction.PURGE,
        "ZW-0107",
        "cases=1 ops=1 bookings=1",
    )
    assert store.verify_audit() is None


def test_a_second_purge_finds_nothing_and_writes_no_audit_row(store: Store) -> None:
    case_no = decide(store, OLD, OLD_CITIZEN)
    ack(store, case_no, OLD)
    assert store.purge_personal_data(NOW, 30) == 2
    rows = len(store.audit_entries())
    assert store.purge_personal_data(NOW, 30) == 0
    assert store.purge_personal_data(NOW + dt.timedelta(days=1), 30) == 0
    assert len(store.audit_entries()) == rows


def test_nothing_is_purged_within_retention_days(store: Store) -> None:
    store.upsert_bookings([booking("YY-1", (NOW - dt.timedelta(days=29)).date(), OLD_CITIZEN)])
    case_no = decide(store, NOW - dt.timedelta(days=29, hours=23), OLD_CITIZEN, "YY-1")
    ack(store, case_no, NOW - dt.timedelta(days=29, hours=23))
    assert store.purge_personal_data(NOW, 30) == 0
    assert not is_purged(store, case_no)
    assert store.audit_entries()[-1].action != AuditAction.PURGE
    # A shorter retention takes it.
    assert store.purge_personal_data(NOW, 7) == 3
    assert is_purged(store, case_no)


def test_nothing_still_pending_in_the_outbox_is_purged(store: Store) -> None:
    # Decided 40 days ago and never sent (the counter was offline since): kept whole.
    unsent = decide(store, OLD, OLD_CITIZEN)
    # Decided after it and acknowledged long ago: the server has it, so its personal data may go.
    later = decide(store, OLD + dt.timedelta(days=1), NEW_CITIZEN)
    ack(store, later, OLD + dt.timedelta(days=1))
    assert store.pending_count() == 1

    store.purge_personal_data(NOW, 30)

    assert not is_purged(store, unsent) and is_purged(store, later)
    assert store.pending_count() == 1
    (op,) = store.pending_ops(10)
    assert op.op.payload["applicant"] == OLD_CITIZEN.model_dump()
    assert [c.case_no for c in store.cases_by_id_number(OLD_CITIZEN.id_number)] == [unsent]

    # Once the server has it, and the retention has passed since, it goes.
    ack(store, unsent, NOW)
    assert store.purge_personal_data(NOW + dt.timedelta(days=31), 30) >= 2
    assert is_purged(store, unsent) and is_purged(store, later)
    assert store.pending_count() == 0


def test_an_unacknowledged_conflict_is_kept_until_a_clerk_has_seen_it(store: Store) -> None:
    case_no = decide(store, OLD, OLD_CITIZEN)
    conflict = ack(store, case_no, OLD, wire.OpStatus.CONFLICT)
    store.purge_personal_data(NOW, 30)
    assert [c.op_id for c in store.unacknowledged_conflicts()] == [conflict]
    assert raw(store.path, "SELECT op_id, status FROM outbox") == [(conflict, "conflict")]

    store.acknowledge_conflict(conflict, NOW)
    assert store.purge_personal_data(NOW, 30) >= 1
    assert raw(store.path, "SELECT count(*) FROM outbox") == [(0,)]


def test_a_rejected_op_is_kept_until_acknowledged_too(store: Store) -> None:
    case_no = decide(store, OLD, OLD_CITIZEN)
    rejected = ack(store, case_no, OLD, wire.OpStatus.REJECTED)
    store.purge_personal_data(NOW, 30)
    assert [c.op_id for c in store.unacknowledged_conflicts()] == [rejected]


def test_retention_counts_from_the_servers_acknowledgement(store: Store) -> None:
    """Decided 40 days ago offline, acknowledged yesterday: 30 days from the ack have not passed."""
    case_no = decide(store, OLD, OLD_CITIZEN)
    ack(store, case_no, NOW - dt.timedelta(days=1))
    store.purge_personal_data(NOW, 30)
    assert not is_purged(store, case_no), "purged 1 day after the server acknowledged it, not 30"


def test_purged_data_does_not_linger_in_the_files_of_a_running_counter(store: Store) -> None:
    """The purged ciphertext must not stay in the WAL or in free pages while the counter runs: the
    key is on the same machine, so a copy of the files would still give the citizen away."""
    case_no = decide(store, OLD, OLD_CITIZEN)
    ack(store, case_no, OLD)
    ((blob,),) = raw(store.path, "SELECT applicant_enc FROM cases WHERE case_no = ?", case_no)
    assert isinstance(blob, bytes) and len(blob) > 40
    assert blob in on_disk(store.path)  # positive control

    store.purge_personal_data(NOW, 30)
    assert blob not in on_disk(store.path), "the purged applicant is still in counter.sqlite-wal"


def test_purged_data_is_gone_from_the_file_after_close(store: Store) -> None:
    case_no = decide(store, OLD, OLD_CITIZEN)
    ack(store, case_no, OLD)
    ((blob,),) = raw(store.path, "SELECT applicant_enc FROM cases WHERE case_no = ?", case_no)
    store.purge_personal_data(NOW, 30)
    store.close()
    assert blob not in on_disk(store.path)


# -- a real counter a month later ----------------------------------------------------------------


def serve(rig: CounterRig, applicant: wire.Applicant) -> str:
    c = rig.services.counter
    ticket = c.call_next()
    assert ticket is not None
    ctx = c.with_item(c.service_context(ticket), COMPANY)
    assert ctx.item is not None
    checks = {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}
    return c.accept(ctx, checks, applicant=applicant).case_no


def test_a_synced_case_is_purged_a_month_later_and_lookup_no_longer_finds_it(rig: CounterRig) -> None:
    s = rig.services
    s.counter.login(DEMO_USER, DEMO_PASSWORD)
    s.counter.refresh()
    case_no = serve(rig, OLD_CITIZEN)
    assert [h.case.case_no for h in s.counter.lookup(OLD_CITIZEN.id_number) if h.case] == [case_no]
    status = s.sync.sync_once()
    assert status.online and status.pending_ops == 0
    assert s.housekeeping() == 0  # nothing is old yet

    month_later = dt.datetime.now() + dt.timedelta(days=s.config.security.retention_days + 1)
    s.counter.clock = lambda: month_later
    cleared = s.housekeeping()
    assert cleared >= 1 + 48  # the case, its acknowledged ops and today's 48 demo bookings
    assert is_purged(s.store, case_no)
    assert s.counter.lookup(OLD_CITIZEN.id_number) == []
    assert s.store.bookings_between(dt.date.today(), dt.date.today(), HALL) == []
    assert s.store.audit_entries()[-1].action == AuditAction.PURGE
    assert s.store.verify_audit() is None


def test_a_case_decided_while_the_server_is_down_survives_the_purge(rig: CounterRig) -> None:
    s = rig.services
    s.counter.login(DEMO_USER, DEMO_PASSWORD)
    s.counter.refresh()
    s.sync.sync_once()
    rig.server.stop()
    case_no = serve(rig, OLD_CITIZEN)
    assert not s.sync.sync_once().online
    pending = s.store.pending_count()
    assert pending >= 2  # the offline call and the decision

    month_later = dt.datetime.now() + dt.timedelta(days=s.config.security.retention_days + 1)
    s.store.purge_personal_data(month_later, s.config.security.retention_days)
    assert s.store.pending_count() == pending
    assert not is_purged(s.store, case_no)
    [hit] = [h for h in s.counter.lookup(OLD_CITIZEN.id_number) if h.case]
    assert hit.case is not None and hit.case.applicant == OLD_CITIZEN

    rig.server.start()
    s.counter.login(DEMO_USER, DEMO_PASSWORD)
    assert s.sync.sync_once().pending_ops == 0
    s.store.purge_personal_data(month_later, s.config.security.retention_days)
    assert is_purged(s.store, case_no)
