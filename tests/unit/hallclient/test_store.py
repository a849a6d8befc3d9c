"""The local store (hallclient/store.py + localdb.py) on a real SQLite file with a real FieldCipher."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hallclient import wire
from hallclient.crypto import FieldCipher, load_or_create_key
from hallclient.store import AlreadyRated, Store, format_case_no

HALL = "DEMO"
DAY = dt.date(2026, 11, 24)
NOW = dt.datetime(2026, 11, 24, 9, 30, 0)  # naive local wall clock, as the counter's clock gives

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"
NAME = "欧阳娜娜"
APPLICANT = wire.Applicant(name=NAME, id_number=ID_NUMBER, phone=PHONE)
OTHER = wire.Applicant(name="李建国", id_number="310104198001010015", phone="15900001111")


def item(code: str = "ITEM-001", version: int = 1, name: str = "个体工商户设立登记") -> wire.ServiceItem:
    return wire.ServiceItem(
        code=code,
        version=version,
        name=name,
        department="市场监督管理局",
        legal_days=20,
        promised_days=5,
        materials=[wire.Material(code="M1", name="申请书"), wire.Material(code="M2", name="身份证明")],
    )


def booking(
    code: str = "YY202611240001",
    applicant: wire.Applicant = APPLICANT,
    status: wire.BookingStatus = wire.BookingStatus.BOOKED,
    slot: str = "09:00-09:30",
) -> wire.Booking:
    return wire.Booking(
        code=code,
        hall_code=HALL,
        date=DAY,
        slot=slot,
        item_code="ITEM-001",
        applicant=applicant,
        pre_review=wire.PreReview(
            result=wire.PreReviewResult.PASSED,
            reviewer_notes="网上预审通过",
            reviewed_at=dt.datetime(2026, 11, 23, 16, 30, tzinfo=dt.UTC),
            materials=[wire.MaterialReview(material_code="M1", status=wire.MaterialStatus.OK)],
        ),
        status=status,
    )


def ticket(no: str = "A001", booking_code: str | None = "YY202611240001") -> wire.Ticket:
    return wire.Ticket(
        ticket_no=no,
        hall_code=HALL,
        date=DAY,
        booking_code=booking_code,
        item_code="ITEM-001",
        state=wire.TicketState.WAITING,
        issued_at=NOW.replace(hour=8, minute=45).astimezone(),
    )


def payload_factory(
    *,
    ticket_no: str | None = "A001",
    booking_code: str | None = "YY202611240001",
    applicant: wire.Applicant = APPLICANT,
    window_no: int = 1,
    notes: str = "",
) -> Callable[[str], wire.CaseDecidedPayload]:
    def payload_for(case_no: str) -> wire.CaseDecidedPayload:
        return wire.CaseDecidedPayload(
            case_no=case_no,
            ticket_no=ticket_no,
            booking_code=booking_code,
            item_code="ITEM-001",
            item_version=1,
            decision=wire.Decision.ACCEPT,
            window_no=window_no,
            clerk_id=7,
            decided_at=NOW.astimezone(),
            promised_date=DAY + dt.timedelta(days=7),
            materials=[wire.CheckedMaterial(code="M1", name="申请书", status="original_seen")],
            applicant=applicant,
            notes=notes,
        )

    return payload_for


def decide(store: Store, *, window_no: int = 1, day: dt.date = DAY, **kw: object) -> wire.CaseDecidedPayload:
    ticket_no = kw.get("ticket_no", "A001")
    return store.record_decision(
        hall_code=HALL,
        day=day,
        payload_for=payload_factory(window_no=window_no, **kw),  # type: ignore[arg-type]
        now=NOW,
        window_no=window_no,
        ticket_no=ticket_no,  # type: ignore[arg-type]
    )


def rating(case_no: str, level: wire.RatingLevel = wire.RatingLevel.SATISFIED) -> wire.RatingPayload:
    return wire.RatingPayload(
        case_no=case_no,
        window_no=1,
        level=level,
        reasons=["办事效率高"],
        comment="窗口工作人员很耐心",
        decided_at=NOW.astimezone(),
        rated_at=(NOW + dt.timedelta(minutes=1)).astimezone(),
    )


@pytest.fixture
def key(tmp_path: Path) -> bytes:
    return load_or_create_key(tmp_path / "keys" / "device.key")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "counter.sqlite"


@pytest.fixture
def store(db_path: Path, key: bytes) -> Iterator[Store]:
    s = Store(db_path, FieldCipher(key))
    yield s
    s.close()


def raw_rows(path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql, args).fetchall()


def file_bytes(path: Path) -> bytes:
    """The database file together with its WAL and shared-memory files, as they lie on disk."""
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


def forms_of(text: str) -> list[bytes]:
    """The ways a value could appear in the file if stored in clear."""
    return [
        text.encode("utf-8"),
        text.encode("utf-16-le"),
        json.dumps(text).encode("ascii"),  # \\uXXXX escapes
    ]


# -- catalog -----------------------------------------------------------------------------


def test_catalog_upsert_lookup_and_ordering(store: Store) -> None:
    assert store.catalog() == [] and store.catalog_item("ITEM-001") is None
    store.upsert_catalog([item("ITEM-002", name="乙"), item("ITEM-001", name="甲")])
    assert [i.code for i in store.catalog()] == ["ITEM-001", "ITEM-002"]
    assert store.catalog_item("ITEM-002") == item("ITEM-002", name="乙")


def test_catalog_upsert_replaces_with_the_servers_version(store: Store) -> None:
    store.upsert_catalog([item(version=1, name="旧名称")])
    store.upsert_catalog([item(version=2, name="新名称")])
    got = store.catalog_item("ITEM-001")
    assert got is not None and got.version == 2 and got.name == "新名称"
    assert len(store.catalog()) == 1


# -- bookings ------------------------------------------------------------------------------


def test_booking_round_trip(store: Store) -> None:
    b = booking()
    store.upsert_bookings([b])
    assert store.booking(b.code, HALL) == b
    assert store.booking("YY-NOPE", HALL) is None


def test_booking_upsert_replaces_status_and_applicant(store: Store) -> None:
    store.upsert_bookings([booking()])
    store.upsert_bookings([booking(applicant=OTHER, status=wire.BookingStatus.CANCELLED)])
    got = store.booking("YY202611240001", HALL)
    assert got is not None
    assert got.status is wire.BookingStatus.CANCELLED and got.applicant == OTHER
    # The blind index follows the new applicant.
    assert store.find_bookings_by_id_number(ID_NUMBER, HALL) == []
    assert [x.code for x in store.find_bookings_by_id_number(OTHER.id_number, HALL)] == ["YY202611240001"]


def test_find_bookings_by_id_number_uses_the_blind_index(store: Store, db_path: Path, key: bytes) -> None:
    store.upsert_bookings(
        [
            booking("YY1", APPLICANT, slot="09:00-09:30"),
            booking("YY2", OTHER, slot="09:30-10:00"),
            booking("YY3", APPLICANT, slot="10:00-10:30"),
        ]
    )
    found = store.find_bookings_by_id_number(ID_NUMBER, HALL)
    assert sorted(b.code for b in found) == ["YY1", "YY3"]
    assert all(b.applicant == APPLICANT and b.hall_code == HALL for b in found)
    # Lower-case x and surrounding spaces, as a clerk may type them, find the same bookings.
    assert sorted(b.code for b in store.find_bookings_by_id_number(" 11010519491231002x ", HALL)) == [
        "YY1",
        "YY3",
    ]
    assert store.find_bookings_by_id_number("110105194912310021", HALL) == []
    # What is stored is the HMAC blind index, not the number.
    indexes = {r[0] for r in raw_rows(db_path, "SELECT id_index FROM bookings")}
    assert FieldCipher(key).blind_index(ID_NUMBER) in indexes
    assert all(ID_NUMBER not in str(i) for i in indexes)


def test_bookings_by_code_fetches_the_known_ones_of_many_codes(store: Store) -> None:
    mine, other = booking("YY1", APPLICANT), booking("YY2", OTHER, status=wire.BookingStatus.SERVED)
    store.upsert_bookings([mine, other])
    assert store.bookings_by_code([], HALL) == {}
    assert store.bookings_by_code(["YY2", "YY-NOPE", "YY1", "YY2"], HALL) == {"YY1": mine, "YY2": other}
    # More codes than one IN (...) takes: the known ones are found in every chunk.
    store.upsert_bookings([booking("YY700"), booking("YY1199")])
    codes = (f"YY{i}" for i in range(1, 1200))
    assert sorted(store.bookings_by_code(codes, HALL)) == ["YY1", "YY1199", "YY2", "YY700"]


def test_a_booking_read_back_is_the_same_wire_model_down_to_its_nested_parts(store: Store) -> None:
    b = booking()
    store.upsert_bookings([b])
    for got in (store.booking(b.code, HALL), store.bookings_by_code([b.code], HALL)[b.code]):
        assert got == b and type(got) is wire.Booking
        assert got.model_fields_set == wire.Booking.model_validate_json(b.model_dump_json()).model_fields_set
        assert type(got.applicant) is wire.Applicant and type(got.pre_review) is wire.PreReview
        assert type(got.pre_review.materials[0]) is wire.MaterialReview
        assert got.date == DAY and got.status is wire.BookingStatus.BOOKED
        assert got.pre_review.reviewed_at == dt.datetime(2026, 11, 23, 16, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("status", "lost"),
        ("date", "24.11.2026"),
        ("pre_review", '{"result": "passed", "materials": [{"material_code": "M1", "status": "maybe"}]}'),
        ("pre_review", '{"result": "passed", "reviewer": "someone"}'),
        ("pre_review", "{not json"),
    ],
)
def test_a_mangled_booking_row_is_refused_not_handed_on(
    store: Store, db_path: Path, column: str, value: str
) -> None:
    from pydantic import ValidationError

    store.upsert_bookings([booking()])
    with sqlite3.connect(db_path) as db:
        db.execute(f"UPDATE bookings SET {column} = ?", (value,))
    with pytest.raises(ValidationError):
        store.booking("YY202611240001", HALL)


def test_lookups_see_every_write_including_other_threads_and_after_reopening(
    store: Store, db_path: Path, key: bytes
) -> None:
    assert store.booking("YY1", HALL) is None  # this thread's reader exists from here on
    store.upsert_bookings([booking("YY1")])
    assert store.booking("YY1", HALL) == booking("YY1")
    writer = threading.Thread(
        target=store.upsert_bookings, args=([booking("YY1", OTHER, status=wire.BookingStatus.SERVED)],)
    )
    writer.start()
    writer.join(10)
    got = store.booking("YY1", HALL)
    assert got is not None and got.applicant == OTHER and got.status is wire.BookingStatus.SERVED
    assert [b.code for b in store.find_bookings_by_id_number(OTHER.id_number, HALL)] == ["YY1"]
    # close() closes the readers; the same object reads again on new ones, like its engine does.
    store.close()
    assert store.booking("YY1", HALL) == got
    again = Store(db_path, FieldCipher(key))
    try:
        assert again.bookings_by_code(["YY1"], HALL) == {"YY1": got}
    finally:
        again.close()


def test_lookups_from_many_threads_while_another_writes(store: Store) -> None:
    """The counter reads from its database runner, the sync worker and the citizen screen at once."""
    codes = [f"YY{i:03d}" for i in range(40)]
    store.upsert_bookings([booking(c, APPLICANT if i % 2 else OTHER) for i, c in enumerate(codes)])
    errors: list[BaseException] = []
    wrong: list[str] = []
    start = threading.Barrier(7)

    def look_up(worker: int) -> None:
        try:
            start.wait(10)
            for round_no in range(30):
                code = codes[(worker * 7 + round_no) % len(codes)]
                got = store.booking(code, HALL)
                if got is None or got.code != code or got.applicant not in (APPLICANT, OTHER):
                    wrong.append(code)
                found = store.find_bookings_by_id_number(ID_NUMBER, HALL)
                if len(found) != 20 or any(b.applicant != APPLICANT for b in found):
                    wrong.append(f"id {len(found)}")
                if set(store.bookings_by_code(codes[:10], HALL)) != set(codes[:10]):
                    wrong.append("bulk")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def write() -> None:
        try:
            start.wait(10)
            for round_no in range(10):
                # Status changes only: every reader must keep finding the same bookings meanwhile.
                status = wire.BookingStatus.SERVED if round_no % 2 else wire.BookingStatus.BOOKED
                store.upsert_bookings(
                    [booking(c, APPLICANT if i % 2 else OTHER, status=status) for i, c in enumerate(codes)]
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=look_up, args=(n,)) for n in range(6)]
    threads.append(threading.Thread(target=write))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert errors == [] and wrong == []


def test_lookups_hold_no_read_snapshot_that_would_stall_a_checkpoint(store: Store, db_path: Path) -> None:
    store.upsert_bookings([booking("YY1"), booking("YY2", OTHER)])
    assert store.booking("YY1", HALL) is not None
    assert len(store.find_bookings_by_id_number(ID_NUMBER, HALL)) == 1
    assert len(store.bookings_by_code(["YY1", "YY2"], HALL)) == 2
    with sqlite3.connect(db_path) as db:
        busy, _log, _done = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0


def test_another_device_key_cannot_read_or_find_the_bookings(db_path: Path, store: Store) -> None:
    store.upsert_bookings([booking()])
    store.close()
    stranger = Store(db_path, FieldCipher(b"\x01" * 32))
    try:
        assert stranger.find_bookings_by_id_number(ID_NUMBER, HALL) == []
        with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
            stranger.booking("YY202611240001", HALL)
    finally:
        stranger.close()


# -- personal data at rest ------------------------------------------------------------------


def test_personal_data_never_appears_in_clear_in_the_file(store: Store, db_path: Path) -> None:
    store.upsert_catalog([item()])
    store.upsert_bookings([booking(), booking("YY2", OTHER)])
    store.upsert_tickets([ticket()])
    store.set_ticket_state(DAY, "A001", wire.TicketState.CALLED, 1, NOW)
    p = decide(store)
    store.record_rating(rating(p.case_no), NOW)
    store.record_document(
        doc_id="doc0000000001",
        case_no=p.case_no,
        kind="receipt",
        sha256="0" * 64,
        path=db_path.parent / "documents" / "x.pdf",
        fields={"case_no": p.case_no, "kind": "receipt"},
        signature="sig",
        reprint_no=0,
        now=NOW,
    )
    assert store.pending_count() == 4

    secrets_ = [ID_NUMBER, ID_NUMBER.lower(), PHONE, NAME, OTHER.id_number, OTHER.phone, OTHER.name]
    on_disk = file_bytes(db_path)
    # Positive control: what is not personal (the catalog, the clerk's materials check) is in clear.
    assert "个体工商户设立登记".encode() in on_disk
    for value in secrets_:
        for form in forms_of(value):
            assert form not in on_disk, f"{value!r} found in clear in the database files"

    store.close()  # checkpoints the WAL into the main file
    on_disk = db_path.read_bytes()
    for value in secrets_:
        for form in forms_of(value):
            assert form not in on_disk, f"{value!r} found in clear in the database file after close"


def test_outbox_payloads_are_encrypted_but_decrypt_to_the_full_applicant(store: Store, db_path: Path) -> None:
    store.upsert_tickets([ticket()])
    decide(store)
    blobs = raw_rows(db_path, "SELECT kind, payload_enc FROM outbox")
    assert [k for k, _ in blobs] == ["case_decided"]
    (_, blob) = blobs[0]
    assert isinstance(blob, bytes) and blob.startswith(b"v1:")
    for value in (ID_NUMBER, PHONE, NAME):
        assert value.encode() not in blob
    (op,) = store.pending_ops(10)
    assert op.op.payload["applicant"] == APPLICANT.model_dump()


def test_every_personal_column_holds_ciphertext(store: Store, db_path: Path) -> None:
    store.upsert_bookings([booking()])
    store.upsert_tickets([ticket()])
    decide(store)
    for table in ("bookings", "cases"):
        (blob,) = raw_rows(db_path, f"SELECT applicant_enc FROM {table}")[0]  # noqa: S608
        assert isinstance(blob, bytes) and blob.startswith(b"v1:")


# -- tickets -----------------------------------------------------------------------------------


def test_tickets_upsert_and_next_waiting_prefers_bookings(store: Store) -> None:
    store.upsert_tickets([ticket("B001", booking_code=None), ticket("A002"), ticket("A001")])
    assert [t.ticket_no for t in store.tickets(DAY, HALL)] == ["A001", "A002", "B001"]
    nxt = store.next_waiting_ticket(DAY, HALL, 1)
    assert nxt is not None and nxt.ticket_no == "A001"
    assert store.next_waiting_ticket(DAY + dt.timedelta(days=1), HALL, 1) is None


def test_set_ticket_state_writes_the_outbox_op_in_the_same_transaction(store: Store, db_path: Path) -> None:
    store.upsert_tickets([ticket()])
    store.set_ticket_state(DAY, "A001", wire.TicketState.CALLED, 3, NOW)

    (t,) = store.tickets(DAY, HALL)
    assert t.state is wire.TicketState.CALLED and t.window_no == 3
    assert t.called_at is not None and t.called_at.replace(tzinfo=None) == NOW
    (op,) = store.pending_ops(10)
    assert op.op.kind is wire.OpKind.TICKET_STATE
    payload = wire.TicketStatePayload.model_validate(op.op.payload)
    assert (payload.ticket_no, payload.state, payload.window_no) == ("A001", wire.TicketState.CALLED, 3)
    assert store.pending_count() == 1
    # Both rows were committed together: a fresh connection sees both.
    assert raw_rows(db_path, "SELECT state, window_no FROM tickets") == [("called", 3)]
    assert raw_rows(db_path, "SELECT kind, status FROM outbox") == [("ticket_state", "pending")]


def test_set_ticket_state_rolls_back_the_ticket_when_the_op_cannot_be_written(
    store: Store, db_path: Path
) -> None:
    store.upsert_tickets([ticket()])
    # A trigger makes the outbox insert fail inside the store's transaction.
    with sqlite3.connect(db_path) as db:
        db.execute(
            "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
    with pytest.raises(Exception, match="disk says no"):
        store.set_ticket_state(DAY, "A001", wire.TicketState.CALLED, 1, NOW)
    (t,) = store.tickets(DAY, HALL)
    assert t.state is wire.TicketState.WAITING and t.window_no is None
    assert store.pending_count() == 0


# -- decisions and case numbers ---------------------------------------------------------------


def test_format_case_no() -> None:
    assert format_case_no("DEMO", DAY, 1, 1) == "DEMO-20261124-01-0001"
    assert format_case_no("H3301", dt.date(2027, 1, 5), 12, 345) == "H3301-20270105-12-0345"


def test_record_decision_allocates_sequential_case_numbers(store: Store) -> None:
    store.upsert_tickets([ticket("A001"), ticket("A002"), ticket("A003")])
    numbers = [decide(store, ticket_no=f"A00{i}").case_no for i in (1, 2, 3)]
    assert numbers == [f"DEMO-20261124-01-000{i}" for i in (1, 2, 3)]


def test_case_sequences_are_per_window_and_per_day(store: Store) -> None:
    assert decide(store, window_no=1, ticket_no=None).case_no == "DEMO-20261124-01-0001"
    assert decide(store, window_no=2, ticket_no=None).case_no == "DEMO-20261124-02-0001"
    assert decide(store, window_no=1, ticket_no=None).case_no == "DEMO-20261124-01-0002"
    tomorrow = DAY + dt.timedelta(days=1)
    assert decide(store, window_no=1, day=tomorrow, ticket_no=None).case_no == "DEMO-20261125-01-0001"


def test_case_sequence_survives_closing_and_reopening_the_store(db_path: Path, key: bytes) -> None:
    first = Store(db_path, FieldCipher(key))
    a = decide(first, ticket_no=None).case_no
    b = decide(first, ticket_no=None).case_no
    first.close()

    again = Store(db_path, FieldCipher(key))
    try:
        c = decide(again, ticket_no=None).case_no
        assert [a, b, c] == [f"DEMO-20261124-01-000{i}" for i in (1, 2, 3)]
        assert len({a, b, c}) == 3
        assert again.case(a) is not None and again.case(c) is not None
    finally:
        again.close()


def test_record_decision_writes_case_ticket_booking_and_op_together(store: Store, db_path: Path) -> None:
    store.upsert_bookings([booking()])
    store.upsert_tickets([ticket()])
    p = decide(store, notes="原件已核验")

    case = store.case(p.case_no)
    assert case is not None
    assert case.applicant == APPLICANT and case.decision is wire.Decision.ACCEPT
    assert case.ticket_no == "A001" and case.booking_code == "YY202611240001"
    assert case.promised_date == DAY + dt.timedelta(days=7) and case.decided_at == NOW
    (t,) = store.tickets(DAY, HALL)
    assert t.state is wire.TicketState.DONE
    b = store.booking("YY202611240001", HALL)
    assert b is not None and b.status is wire.BookingStatus.SERVED
    (op,) = store.pending_ops(10)
    assert op.op.kind is wire.OpKind.CASE_DECIDED
    assert wire.CaseDecidedPayload.model_validate(op.op.payload) == p
    assert raw_rows(db_path, "SELECT case_no, notes FROM cases") == [(p.case_no, "原件已核验")]


def test_a_failing_payload_for_leaves_no_case_no_op_and_no_used_number(store: Store, db_path: Path) -> None:
    store.upsert_bookings([booking()])
    store.upsert_tickets([ticket()])
    seen: list[str] = []

    def explode(case_no: str) -> wire.CaseDecidedPayload:
        seen.append(case_no)
        raise RuntimeError("printer on fire")

    with pytest.raises(RuntimeError, match="printer on fire"):
        store.record_decision(
            hall_code=HALL, day=DAY, payload_for=explode, now=NOW, window_no=1, ticket_no="A001"
        )
    assert seen == ["DEMO-20261124-01-0001"]
    assert store.case("DEMO-20261124-01-0001") is None
    assert store.pending_count() == 0
    assert raw_rows(db_path, "SELECT count(*) FROM cases") == [(0,)]
    assert raw_rows(db_path, "SELECT count(*) FROM outbox") == [(0,)]
    assert raw_rows(db_path, "SELECT count(*) FROM case_sequences") == [(0,)]
    (t,) = store.tickets(DAY, HALL)
    assert t.state is wire.TicketState.WAITING
    b = store.booking("YY202611240001", HALL)
    assert b is not None and b.status is wire.BookingStatus.BOOKED
    # The number that was offered to the failed attempt is given to the next decision.
    assert decide(store).case_no == "DEMO-20261124-01-0001"


def test_a_payload_for_failure_after_earlier_cases_keeps_the_sequence(store: Store, db_path: Path) -> None:
    decide(store, ticket_no=None)

    def bad(case_no: str) -> wire.CaseDecidedPayload:
        raise ValueError(case_no)

    with pytest.raises(ValueError, match="DEMO-20261124-01-0002"):
        store.record_decision(hall_code=HALL, day=DAY, payload_for=bad, now=NOW, window_no=1, ticket_no=None)
    assert raw_rows(db_path, "SELECT last_seq FROM case_sequences") == [(1,)]
    assert decide(store, ticket_no=None).case_no == "DEMO-20261124-01-0002"
    assert store.pending_count() == 2


def test_decisions_from_two_threads_get_distinct_numbers(store: Store) -> None:
    other: dict[str, object] = {}

    def decide_in_other_thread() -> None:
        try:
            other["case_no"] = decide(store, ticket_no=None).case_no
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            other["error"] = exc

    racer = threading.Thread(target=decide_in_other_thread)
    first_payload = payload_factory(ticket_no=None)

    def payload_for(case_no: str) -> wire.CaseDecidedPayload:
        # The other counter thread decides while this one holds its number but has not written yet.
        # A correct store makes it wait for this transaction; give it a moment either way.
        if not racer.is_alive() and "case_no" not in other and "error" not in other:
            racer.start()
            racer.join(1.0)
        return first_payload(case_no)

    mine = store.record_decision(
        hall_code=HALL, day=DAY, payload_for=payload_for, now=NOW, window_no=1, ticket_no=None
    ).case_no
    racer.join(10)
    assert "error" not in other, other.get("error")
    assert {mine, other["case_no"]} == {"DEMO-20261124-01-0001", "DEMO-20261124-01-0002"}


# -- ratings ---------------------------------------------------------------------------------------


def test_record_rating_once_then_already_rated(store: Store, db_path: Path) -> None:
    p = decide(store, ticket_no=None)
    assert not store.has_rating(p.case_no)
    store.record_rating(rating(p.case_no), NOW)
    assert store.has_rating(p.case_no)
    with pytest.raises(AlreadyRated, match=p.case_no):
        store.record_rating(rating(p.case_no, wire.RatingLevel.VERY_DISSATISFIED), NOW)
    # The second attempt queued nothing and changed nothing.
    kinds = [op.op.kind for op in store.pending_ops(10)]
    assert kinds == [wire.OpKind.CASE_DECIDED, wire.OpKind.RATING_GIVEN]
    assert raw_rows(db_path, "SELECT level FROM ratings") == [("satisfied",)]


def test_a_rating_for_an_unknown_case_is_refused(store: Store) -> None:
    with pytest.raises(Exception, match="FOREIGN KEY"):
        store.record_rating(rating("DEMO-20261124-01-9999"), NOW)
    assert store.pending_count() == 0


# -- outbox -------------------------------------------------------------------------------------------


def _three_ops(store: Store) -> list[str]:
    store.upsert_tickets([ticket("A001"), ticket("A002")])
    store.set_ticket_state(DAY, "A001", wire.TicketState.CALLED, 1, NOW)
    store.set_ticket_state(DAY, "A002", wire.TicketState.CALLED, 1, NOW + dt.timedelta(minutes=1))
    decide(store, ticket_no="A001")
    return [str(p.op.op_id) for p in store.pending_ops(10)]


def test_pending_ops_come_in_creation_order_and_respect_the_limit(store: Store) -> None:
    ids = _three_ops(store)
    ops = store.pending_ops(10)
    assert [o.op.kind for o in ops] == [
        wire.OpKind.TICKET_STATE,
        wire.OpKind.TICKET_STATE,
        wire.OpKind.CASE_DECIDED,
    ]
    assert [o.row_id for o in ops] == sorted(o.row_id for o in ops)
    assert [o.op.payload.get("ticket_no") for o in ops] == ["A001", "A002", "A001"]
    assert len(set(ids)) == 3 and all(uuid.UUID(i) for i in ids)
    assert [str(o.op.op_id) for o in store.pending_ops(2)] == ids[:2]
    assert store.pending_count() == 3
    assert all(o.op.created_at.tzinfo is not None for o in ops)


def test_pending_ops_are_valid_wire_ops(store: Store) -> None:
    _three_ops(store)
    req = wire.PushRequest(device_id="test", ops=[p.op for p in store.pending_ops(10)])
    again = wire.PushRequest.model_validate_json(req.model_dump_json())
    assert again == req


def test_apply_results_marks_applied_and_duplicate_done_and_keeps_conflicts(store: Store) -> None:
    applied, duplicate, conflict = _three_ops(store)
    store.apply_results(
        [
            wire.OpResult(op_id=uuid.UUID(applied), status=wire.OpStatus.APPLIED),
            wire.OpResult(op_id=uuid.UUID(duplicate), status=wire.OpStatus.DUPLICATE),
            wire.OpResult(
                op_id=uuid.UUID(conflict), status=wire.OpStatus.CONFLICT, detail="已被另一次上传使用"
            ),
        ],
        NOW,
    )
    assert store.pending_count() == 0 and store.pending_ops(10) == []
    (c,) = store.unacknowledged_conflicts()
    assert (c.op_id, c.kind, c.detail) == (conflict, "case_decided", "已被另一次上传使用")
    assert c.created_at == NOW

    store.acknowledge_conflict(conflict)
    assert store.unacknowledged_conflicts() == []
    assert store.pending_count() == 0


def test_rejected_ops_are_conflicts_too_and_acknowledging_one_keeps_the_others(store: Store) -> None:
    a, b, _c = _three_ops(store)
    store.apply_results(
        [
            wire.OpResult(op_id=uuid.UUID(a), status=wire.OpStatus.REJECTED, detail="没有 A001 号"),
            wire.OpResult(op_id=uuid.UUID(b), status=wire.OpStatus.CONFLICT, detail="同时被叫到"),
        ],
        NOW,
    )
    assert [x.op_id for x in store.unacknowledged_conflicts()] == [a, b]
    assert store.pending_count() == 1  # the third op was not answered yet
    store.acknowledge_conflict(a)
    assert [x.op_id for x in store.unacknowledged_conflicts()] == [b]


def test_apply_results_records_each_answer_and_acknowledges_a_case_only_once(
    store: Store, db_path: Path
) -> None:
    ids = _three_ops(store)
    (case_no,) = [r[0] for r in raw_rows(db_path, "SELECT case_no FROM cases")]
    later = NOW + dt.timedelta(hours=1)
    store.apply_results(
        [
            wire.OpResult(op_id=uuid.UUID(ids[0]), status=wire.OpStatus.APPLIED),
            wire.OpResult(op_id=uuid.UUID(ids[2]), status=wire.OpStatus.CONFLICT, detail="第一次"),
            wire.OpResult(op_id=uuid.UUID(ids[2]), status=wire.OpStatus.DUPLICATE, detail="第二次"),
        ],
        NOW,
    )
    outbox = "SELECT op_id, status, detail, acked_at FROM outbox ORDER BY id"
    stamp = NOW.isoformat(sep=" ", timespec="microseconds")
    assert raw_rows(db_path, outbox) == [
        (ids[0], "applied", "", stamp),
        (ids[1], "pending", "", None),
        (ids[2], "duplicate", "第二次", stamp),  # the last answer for an op wins
    ]
    case_acked = "SELECT acked_at FROM cases WHERE case_no = ?"
    assert raw_rows(db_path, case_acked, case_no) == [(stamp,)]
    # A later answer for the same op updates the op but not the case's first acknowledgement,
    # from which retention counts.
    store.apply_results([wire.OpResult(op_id=uuid.UUID(ids[2]), status=wire.OpStatus.APPLIED)], later)
    assert raw_rows(db_path, outbox)[2] == (
        ids[2],
        "applied",
        "",
        later.isoformat(sep=" ", timespec="microseconds"),
    )
    assert raw_rows(db_path, case_acked, case_no) == [(stamp,)]
    store.apply_results([], later)
    assert store.pending_count() == 1


def test_apply_results_for_unknown_op_ids_changes_nothing(store: Store) -> None:
    _three_ops(store)
    store.apply_results([wire.OpResult(op_id=uuid.uuid4(), status=wire.OpStatus.APPLIED)], NOW)
    assert store.pending_count() == 3


def test_outbox_state_survives_reopening(db_path: Path, key: bytes) -> None:
    s = Store(db_path, FieldCipher(key))
    ids = _three_ops(s)
    s.apply_results([wire.OpResult(op_id=uuid.UUID(ids[0]), status=wire.OpStatus.CONFLICT, detail="x")], NOW)
    s.close()
    s = Store(db_path, FieldCipher(key))
    try:
        assert [str(p.op.op_id) for p in s.pending_ops(10)] == ids[1:]
        assert [c.op_id for c in s.unacknowledged_conflicts()] == [ids[0]]
    finally:
        s.close()


# -- sync state and the file itself --------------------------------------------------------------


def test_sync_state_get_and_set(store: Store) -> None:
    assert store.get_state("cursor") == "" and store.get_state("cursor", "0") == "0"
    store.set_state("cursor", "42")
    store.set_state("cursor", "43")
    assert store.get_state("cursor") == "43"


def test_the_file_is_created_with_its_folder_and_uses_wal(store: Store, db_path: Path) -> None:
    store.set_state("k", "v")
    assert db_path.is_file()
    assert raw_rows(db_path, "PRAGMA journal_mode") == [("wal",)]


def test_the_same_new_ticket_upserted_from_two_threads_at_once(store: Store) -> None:
    """The clerk's call and the sync worker's pull can store the same ticket at the same instant.

    Found by the crash test: both read "no such ticket", both inserted, one died on
    the unique constraint. Every write transaction now takes the write lock first.
    """
    import threading

    day = dt.date(2026, 11, 25)
    errors: list[BaseException] = []
    for n in range(40):
        ticket = wire.Ticket(
            ticket_no=f"B{n:04d}",
            hall_code="DEMO",
            date=day,
            item_code="ITEM",
            state=wire.TicketState.CALLED,
            window_no=1,
            issued_at=dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC),
        )
        start = threading.Barrier(4)

        def upsert(t: wire.Ticket = ticket, gate: threading.Barrier = start) -> None:
            gate.wait()
            try:
                if threading.current_thread().name.endswith("0"):
                    store.upsert_tickets([t])
                else:
                    store.upsert_ticket(t)
            except BaseException as exc:  # collected: an exception in a thread would pass silently
                errors.append(exc)

        threads = [threading.Thread(target=upsert, name=f"w{i}") for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    assert errors == []
    assert len(store.tickets(day, "DEMO")) == 40


def test_a_full_disk_is_said_plainly_and_keeps_what_was_saved(store: Store, db_path: Path) -> None:
    """SQLite's page limit stands in for a full disk: the same error, without filling a real one."""
    from sqlalchemy import event

    from hallclient.store import StoreError

    first = decide(store, ticket_no=None).case_no
    with sqlite3.connect(db_path) as db:
        pages = int(db.execute("PRAGMA page_count").fetchone()[0])
    event.listen(store._engine, "connect", lambda con, _rec: con.execute(f"PRAGMA max_page_count = {pages}"))
    store._engine.dispose()  # new connections get the limit
    big = "材料说明" * 20_000  # far more than the free pages can hold
    with pytest.raises(StoreError, match="磁盘已满") as err:
        decide(store, ticket_no=None, notes=big)
    assert str(db_path) in str(err.value)
    # Nothing half-written: no case, no op, no number consumed; the earlier case is intact.
    assert raw_rows(db_path, "SELECT case_no FROM cases") == [(first,)]
    assert raw_rows(db_path, "SELECT last_seq FROM case_sequences") == [(1,)]
    assert store.pending_count() == 1


def test_a_bad_rating_opens_a_follow_up_in_the_same_transaction(store: Store, db_path: Path) -> None:
    good = decide(store, ticket_no=None).case_no
    bad = decide(store, ticket_no=None).case_no
    store.record_rating(rating(good, wire.RatingLevel.SATISFIED), NOW)
    store.record_rating(
        rating(bad, wire.RatingLevel.VERY_DISSATISFIED), NOW, follow_up_due=DAY + dt.timedelta(days=7)
    )
    assert store.open_follow_ups() == [(bad, "very_dissatisfied", DAY + dt.timedelta(days=7))]
    # A second rating of the same service is refused and opens nothing more.
    with pytest.raises(AlreadyRated):
        store.record_rating(rating(bad, wire.RatingLevel.DISSATISFIED), NOW, follow_up_due=DAY)
    assert raw_rows(db_path, "SELECT count(*) FROM follow_ups") == [(1,)]
