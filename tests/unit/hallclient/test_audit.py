"""The hash-chained audit log (hallclient/audit.py + Store._audit) on a real SQLite file.

The counter's actions are driven through a real Counter against a live hallserver;
the tampering is done the way a curious operator would do it: with sqlite3 on the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig

from hallclient import wire
from hallclient.audit import GENESIS, HEAD_KEY, AuditAction, BrokenLink, entry_hash, verify_chain
from hallclient.counter import Counter, CounterError
from hallclient.crypto import FieldCipher, load_or_create_key
from hallclient.domain import MaterialCheck
from hallclient.store import Store
from hallclient.validation import resident_id_check_digit
from printing.documents import render_paper

NOW = dt.datetime(2026, 11, 24, 9, 30, 0)
COMPANY = "11330100MB0001001A4000117002"  # demo catalog: 有限责任公司设立登记
CLERK1_STAFF_NO = "ZW-0107"  # hallserver/seed.py

ID_NUMBER = "33010619880215" + "047"
ID_NUMBER += resident_id_check_digit(ID_NUMBER)
PHONE = "13957112468"
NAME = "司马慧敏"
APPLICANT = wire.Applicant(name=NAME, id_number=ID_NUMBER, phone=PHONE)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "counter.sqlite"


@pytest.fixture
def store(db_path: Path, tmp_path: Path) -> Iterator[Store]:
    s = Store(db_path, FieldCipher(load_or_create_key(tmp_path / "keys" / "device.key")))
    yield s
    s.close()


def raw(path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql, args).fetchall()


def tamper(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """What a curious operator does with the sqlite3 shell, while the counter has the file open."""
    with closing(sqlite3.connect(path)) as db:
        for sql, args in statements:
            db.execute(sql, args)
        db.commit()


def six_entries(store: Store) -> list[int]:
    """A short log as a day at the counter writes it; the ids of its rows."""
    store.actor = "ZW-0107"
    actions = [
        (AuditAction.LOGIN, "ZW-0107", "online"),
        (AuditAction.TICKET, "A001", "called"),
        (AuditAction.DECISION, "DEMO-20261124-01-0001", "accept"),
        (AuditAction.PRINT, "doc0001", "receipt DEMO-20261124-01-0001 #0"),
        (AuditAction.LOCK, "ZW-0107", ""),
        (AuditAction.UNLOCK, "ZW-0107", ""),
    ]
    for n, (action, subject, detail) in enumerate(actions):
        store.audit(action, subject, detail, NOW + dt.timedelta(minutes=n))
    ids = [e.id for e in store.audit_entries()]
    assert len(ids) == 6
    return ids


COLUMNS = "at, actor, action, subject, detail, prev_hash, hash"


def row(path: Path, entry_id: int) -> tuple[object, ...]:
    (r,) = raw(path, f"SELECT {COLUMNS} FROM audit_log WHERE id = ?", entry_id)
    return r


def put(entry_id: int, values: tuple[object, ...]) -> tuple[str, tuple[object, ...]]:
    sets = ", ".join(f"{c.strip()} = ?" for c in COLUMNS.split(","))
    return f"UPDATE audit_log SET {sets} WHERE id = ?", (*values, entry_id)


# -- through the counter -------------------------------------------------------------------


def serve_one(counter: Counter) -> str:
    counter.refresh()
    ticket = counter.call_next()
    assert ticket is not None
    ticket = counter.start_serving(ticket)
    ctx = counter.with_item(counter.service_context(ticket), COMPANY)
    assert ctx.item is not None
    outcome = counter.accept(
        ctx, {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}, applicant=APPLICANT
    )
    counter.archive_document(outcome, render_paper(outcome.paper))
    reprint = counter.next_reprint_no(outcome)
    counter.archive_document(outcome, render_paper(outcome.paper, reprint_no=reprint), reprint_no=reprint)
    slip = counter.pickup(outcome.case_no, NAME)
    counter.archive_document(slip, render_paper(slip.paper))
    return outcome.case_no


def test_counter_actions_append_rows_in_order_by_the_signed_in_clerk(rig: CounterRig) -> None:
    s = rig.services
    counter = s.counter
    with pytest.raises(CounterError):
        counter.login(DEMO_USER, "not-the-password")
    counter.login(DEMO_USER, DEMO_PASSWORD)
    case_no = serve_one(counter)
    counter.lock()
    counter.unlock(DEMO_PASSWORD)
    counter.logout()

    entries = s.store.audit_entries()
    got = [(e.action, e.actor) for e in entries]
    signed_in = [
        (AuditAction.LOGIN, CLERK1_STAFF_NO),
        (AuditAction.TICKET, CLERK1_STAFF_NO),  # start_serving
        (AuditAction.DECISION, CLERK1_STAFF_NO),
        (AuditAction.PRINT, CLERK1_STAFF_NO),
        (AuditAction.REPRINT, CLERK1_STAFF_NO),
        (AuditAction.PICKUP, CLERK1_STAFF_NO),
        (AuditAction.PRINT, CLERK1_STAFF_NO),  # the pick-up slip
        (AuditAction.LOCK, CLERK1_STAFF_NO),
        (AuditAction.UNLOCK, CLERK1_STAFF_NO),
        (AuditAction.LOGOUT, CLERK1_STAFF_NO),
    ]
    # The failed attempt before anyone signed in names the account tried, acted by nobody.
    assert got == [(AuditAction.LOGIN_FAILED, ""), *signed_in]
    assert entries[0].subject == DEMO_USER and entries[0].detail == "bad_credentials"
    assert entries[1].detail == "online"
    decision = entries[3]
    assert (decision.subject, decision.detail) == (case_no, "accept")
    assert entries[6].subject == case_no
    # Ids increase, each row links to the one before, and times never go backwards.
    assert [e.id for e in entries] == sorted({e.id for e in entries})
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert all(a.at <= b.at for a, b in zip(entries, entries[1:], strict=False))
    assert s.store.verify_audit() is None

    # After the logout, nobody acts at this counter any more.
    assert s.store.actor == ""


def test_no_audit_row_holds_a_citizens_personal_data(rig: CounterRig) -> None:
    s = rig.services
    s.counter.login(DEMO_USER, DEMO_PASSWORD)
    serve_one(s.counter)
    s.sync.sync_once()
    rows = raw(s.store.path, f"SELECT {COLUMNS} FROM audit_log")
    assert len(rows) >= 7
    text = "\n".join("|".join(str(v) for v in r) for r in rows)
    for value in (ID_NUMBER, ID_NUMBER[:6] + ID_NUMBER[-4:], PHONE, NAME, NAME[1:]):
        assert value not in text
    # Not the masked forms either: the log names cases and documents, never citizens.
    assert "*" not in text


def test_the_window_pause_and_resume_are_audited(rig: CounterRig) -> None:
    s = rig.services
    s.counter.login(DEMO_USER, DEMO_PASSWORD)
    s.counter.pause("系统维护")
    s.counter.resume_service()
    windows = [e for e in s.store.audit_entries() if e.action == AuditAction.WINDOW]
    assert len(windows) == 2, "暂停服务 / 恢复服务 leave no audit row (Store.record_window_state)"
    assert all(e.actor == CLERK1_STAFF_NO for e in windows)


def test_a_conflict_acknowledgement_is_audited_with_the_clerk(store: Store) -> None:
    store.upsert_tickets(
        [
            wire.Ticket(
                ticket_no="A001",
                hall_code="DEMO",
                date=NOW.date(),
                item_code="ITEM",
                state=wire.TicketState.WAITING,
                issued_at=NOW.astimezone(),
            )
        ]
    )
    store.actor = "ZW-0112"
    store.set_ticket_state(NOW.date(), "A001", wire.TicketState.CALLED, 1, NOW)
    (op,) = store.pending_ops(10)
    store.apply_results(
        [wire.OpResult(op_id=op.op.op_id, status=wire.OpStatus.CONFLICT, detail="同时被叫到")], NOW
    )
    store.acknowledge_conflict(str(op.op.op_id), NOW + dt.timedelta(minutes=1))
    last = store.audit_entries()[-1]
    assert (last.action, last.actor, last.subject) == (AuditAction.CONFLICT_ACK, "ZW-0112", str(op.op.op_id))
    assert store.verify_audit() is None


def test_an_action_that_fails_leaves_no_audit_row(store: Store, db_path: Path) -> None:
    six_entries(store)
    with pytest.raises(Exception, match="不存在或结果已领取"):
        store.record_pickup("DEMO-20261124-01-9999", 1, NAME, NOW)
    assert len(store.audit_entries()) == 6
    assert store.verify_audit() is None


# -- an untouched log ------------------------------------------------------------------------


def test_an_empty_log_verifies(store: Store) -> None:
    assert store.audit_entries() == []
    assert store.verify_audit() is None


def test_an_untouched_log_verifies_and_survives_reopening(
    store: Store, db_path: Path, tmp_path: Path
) -> None:
    ids = six_entries(store)
    assert store.verify_audit() is None
    store.close()
    again = Store(db_path, FieldCipher(load_or_create_key(tmp_path / "keys" / "device.key")))
    try:
        assert again.verify_audit() is None
        again.audit(AuditAction.EXPORT, "", "audit export", NOW + dt.timedelta(hours=1))
        entries = again.audit_entries()
        assert [e.id for e in entries][:6] == ids and entries[-1].prev_hash == entries[-2].hash
        assert again.verify_audit() is None
    finally:
        again.close()


def test_the_head_names_the_last_row(store: Store) -> None:
    ids = six_entries(store)
    last = store.audit_entries()[-1]
    assert store.get_state(HEAD_KEY) == f"{ids[-1]}:{last.hash}"


# -- tampering with sqlite3 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("detail", "receipt DEMO-20261124-01-0002 #0"),
        ("actor", "ZW-0112"),
        ("action", "lock"),
        ("subject", "doc0002"),
        ("at", "2026-11-24T08:00:00"),
    ],
)
def test_editing_any_field_of_a_row_names_that_row(
    store: Store, db_path: Path, column: str, value: str
) -> None:
    ids = six_entries(store)
    tamper(db_path, (f"UPDATE audit_log SET {column} = ? WHERE id = ?", (value, ids[3])))
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id == ids[3]
    assert "被修改" in broken.reason
    assert f"第 {ids[3]} 条" in str(broken)


def test_editing_a_rows_stored_hash_breaks_the_next_link(store: Store, db_path: Path) -> None:
    ids = six_entries(store)
    tamper(db_path, ("UPDATE audit_log SET hash = ? WHERE id = ?", ("f" * 64, ids[2])))
    broken = store.verify_audit()
    # Row 3's own hash no longer matches its content.
    assert broken is not None and broken.entry_id == ids[2]


def test_deleting_a_middle_row_names_the_row_after_it(store: Store, db_path: Path) -> None:
    ids = six_entries(store)
    tamper(db_path, ("DELETE FROM audit_log WHERE id = ?", (ids[2],)))
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id == ids[3]
    assert "删除" in broken.reason


def test_deleting_the_first_row_names_the_new_first_row(store: Store, db_path: Path) -> None:
    ids = six_entries(store)
    tamper(db_path, ("DELETE FROM audit_log WHERE id = ?", (ids[0],)))
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id == ids[1]


def test_swapping_two_rows_contents_names_the_first_of_them(store: Store, db_path: Path) -> None:
    ids = six_entries(store)
    second, fourth = row(db_path, ids[1]), row(db_path, ids[3])
    tamper(db_path, put(ids[1], fourth), put(ids[3], second))
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id == ids[1]


def test_swapping_two_adjacent_rows_is_detected(store: Store, db_path: Path) -> None:
    ids = six_entries(store)
    a, b = row(db_path, ids[4]), row(db_path, ids[5])
    tamper(db_path, put(ids[4], b), put(ids[5], a))
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id == ids[4]


def test_moving_a_row_to_the_end_by_renumbering_is_detected(store: Store, db_path: Path) -> None:
    ids = six_entries(store)
    tamper(db_path, ("UPDATE audit_log SET id = ? WHERE id = ?", (ids[-1] + 100, ids[1])))
    broken = store.verify_audit()
    # The row after the one moved away no longer links to its predecessor.
    assert broken is not None and broken.entry_id == ids[2]


def test_deleting_the_last_row_is_caught_by_the_head(store: Store, db_path: Path) -> None:
    ids = six_entries(store)
    tamper(db_path, ("DELETE FROM audit_log WHERE id = ?", (ids[-1],)))
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id is None
    assert "末尾" in broken.reason and str(broken).startswith("日志末尾")


def test_deleting_the_last_rows_and_the_head_is_detected(store: Store, db_path: Path) -> None:
    six_entries(store)
    tamper(
        db_path,
        ("DELETE FROM audit_log WHERE id > 4", ()),
        ("DELETE FROM sync_state WHERE key = ?", (HEAD_KEY,)),
    )
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id is None
    assert "链头" in broken.reason


def test_deleting_every_row_is_detected(store: Store, db_path: Path) -> None:
    six_entries(store)
    tamper(db_path, ("DELETE FROM audit_log", ()))
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id is None


# Whoever tampers with the file has sqlite3 and this source, but not the device key.
ATTACKER_KEY = b"not the device key, which the attacker does not have"


def insert(entry_id: int, prev_hash: str, at: dt.datetime, detail: str, digest: str | None = None) -> tuple:
    actor, action, subject = "ZW-0107", "decision", "DEMO-20261124-01-0009"
    digest = digest or entry_hash(ATTACKER_KEY, prev_hash, at, actor, action, subject, detail)
    return (
        f"INSERT INTO audit_log (id, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (entry_id, at.isoformat(), actor, action, subject, detail, prev_hash, digest),
    )


def test_a_forged_row_appended_with_a_made_up_hash_is_named(store: Store, db_path: Path) -> None:
    ids = six_entries(store)
    last = store.audit_entries()[-1]
    tamper(db_path, insert(ids[-1] + 1, last.hash, NOW + dt.timedelta(hours=1), "accept", digest="a" * 64))
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id == ids[-1] + 1


def test_a_forged_row_appended_with_a_well_linked_hash_is_named(store: Store, db_path: Path) -> None:
    """Linked correctly, but hashed without the device key: the row itself is named."""
    ids = six_entries(store)
    last = store.audit_entries()[-1]
    tamper(db_path, insert(ids[-1] + 1, last.hash, NOW + dt.timedelta(hours=1), "accept"))
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id == ids[-1] + 1


def test_a_forged_row_inserted_in_the_middle_is_named(store: Store, db_path: Path) -> None:
    ids = six_entries(store)
    entries = store.audit_entries()
    # Make room between rows 3 and 4, then slip in a well-formed row linked to row 3.
    tamper(db_path, ("UPDATE audit_log SET id = id * 10", ()))
    tamper(db_path, insert(ids[2] * 10 + 5, entries[2].hash, entries[2].at, "accept"))
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id == ids[2] * 10 + 5


def test_a_forged_row_inserted_before_the_first_is_detected(store: Store, db_path: Path) -> None:
    six_entries(store)
    tamper(db_path, insert(0, GENESIS, NOW - dt.timedelta(hours=1), "accept"))
    broken = store.verify_audit()
    assert broken is not None and broken.entry_id == 0


def test_a_rewritten_chain_with_its_head_is_detected(store: Store, db_path: Path) -> None:
    """Anyone with sqlite3 and this source can recompute every hash and the head.

    A plain SHA-256 chain kept in the same file as its head proves nothing against
    that; the chain needs a secret (an HMAC with a key derived from the device key)
    or an anchor outside the file (the head sent to the server).
    """
    ids = six_entries(store)
    entries = store.audit_entries()
    prev = GENESIS
    statements = []
    for e in entries:
        detail = "reject" if e.id == ids[2] else e.detail
        digest = entry_hash(ATTACKER_KEY, prev, e.at, e.actor, e.action, e.subject, detail)
        statements.append(
            (
                "UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? WHERE id = ?",
                (detail, prev, digest, e.id),
            )
        )
        prev = digest
    statements.append(("UPDATE sync_state SET value = ? WHERE key = ?", (f"{ids[-1]}:{prev}", HEAD_KEY)))
    tamper(db_path, *statements)
    assert store.audit_entries()[2].detail == "reject"
    assert store.verify_audit() is not None, "a fully recomputed chain passes verification"


# -- verify_chain on its own ----------------------------------------------------------------------


def test_verify_chain_reports_the_first_of_several_breaks(store: Store) -> None:
    six_entries(store)
    entries = store.audit_entries()
    tampered = list(entries)
    tampered[1] = dataclasses.replace(entries[1], detail="x")
    tampered[4] = dataclasses.replace(entries[4], detail="y")
    head = (entries[-1].id, entries[-1].hash)
    broken = verify_chain(tampered, head, store._audit_key)
    assert isinstance(broken, BrokenLink) and broken.entry_id == entries[1].id
    assert verify_chain(entries, head, store._audit_key) is None
    # Rows out of id order.
    swapped = [entries[0], entries[2], entries[1], *entries[3:]]
    broken = verify_chain(swapped, head, store._audit_key)
    assert broken is not None and broken.entry_id == entries[2].id
