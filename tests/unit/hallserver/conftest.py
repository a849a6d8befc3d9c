"""Fixtures for the hallserver tests: a real SQLite file, the seeded demo hall, a movable clock.

Nothing of ours is mocked: the app, the database, argon2 and Ed25519 are all real.
The clock is the only thing the tests control, through ``create_app(clock=...)``.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import (
    API,
    DAY,
    ITEM,
    OTHER_HALL,
    OTHER_PASSWORD,
    Counter,
    MovableClock,
    local,
    login_body,
)
from helpers.postgres import PostgresServer, start_postgres
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from hallclient.signing import generate_private_key, public_key_of
from hallserver.app import create_app
from hallserver.changes import record_booking
from hallserver.db import create_schema, make_engine, session_factory
from hallserver.models import Booking, Clerk, Hall, Window
from hallserver.security import hash_password
from hallserver.seed import seed_demo


@pytest.fixture(scope="session")
def hall_key() -> str:
    """The demo hall's private signing key (generated, real Ed25519)."""
    return generate_private_key()


def _seed(engine: Engine, hall_key: str) -> None:
    create_schema(engine)
    with session_factory(engine)() as s:
        seed_demo(s, DAY, public_key=public_key_of(hall_key))
    engine.dispose()  # closes every connection: checkpoints SQLite's WAL, frees a PG template


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory, hall_key: str) -> Path:
    """The demo hall seeded once per run into SQLite; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("seeded") / "hs.sqlite"
    _seed(make_engine(f"sqlite:///{path}"), hall_key)
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server on loopback for the whole run (see tests/helpers/postgres.py)."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def seeded_pg_template(postgres: PostgresServer, hall_key: str) -> str:
    """The demo hall seeded once into a PostgreSQL database used as a template."""
    url = postgres.create_database("seeded_template")
    _seed(make_engine(url), hall_key)
    return "seeded_template"


DATABASES = ["sqlite"] if os.environ.get("HALL_TEST_NO_PG") == "1" else ["sqlite", "postgresql"]
_pg_counter = itertools.count(1)


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path: Path, seeded_db: Path) -> Iterator[Engine]:
    """The seeded demo hall in a database of its own: a SQLite file, or a PostgreSQL database."""
    if request.param == "postgresql":
        postgres: PostgresServer = request.getfixturevalue("postgres")
        template = request.getfixturevalue("seeded_pg_template")
        url = postgres.create_database(f"t{next(_pg_counter)}", template=template)
        eng = make_engine(url)
        yield eng
        eng.dispose()
        postgres.drop_database(url)
        return
    target = tmp_path / "hs.sqlite"
    for suffix in ("", "-wal"):
        if Path(f"{seeded_db}{suffix}").exists():
            shutil.copyfile(f"{seeded_db}{suffix}", f"{target}{suffix}")
    eng = make_engine(f"sqlite:///{target}")
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def clock() -> MovableClock:
    """09:30 local time on the seeded day."""
    return MovableClock(local(DAY, 9, 30))


@pytest.fixture
def client(engine: Engine, clock: MovableClock) -> Iterator[TestClient]:
    with TestClient(create_app(engine, clock=clock), raise_server_exceptions=False) as tc:
        yield tc


LoginFn = Callable[..., Counter]


@pytest.fixture
def login(client: TestClient) -> LoginFn:
    """Log a clerk in (demo password by default) and return the counter."""

    def _login(**kw: Any) -> Counter:
        body = login_body(**kw)
        r = client.post(f"{API}/auth/login", json=body)
        assert r.status_code == 200, r.text
        return Counter(r.json()["token"], body["device_id"], body["window_no"], r.json())

    return _login


@pytest.fixture
def window1(login: LoginFn) -> Counter:
    return login(window_no=1, username="clerk1")


@pytest.fixture
def supervisor(sessions: sessionmaker[Session], login: LoginFn) -> Counter:
    """clerk3 made the hall's supervisor (大厅负责人), signed in at window 3."""
    with sessions() as s:
        s.execute(update(Clerk).where(Clerk.username == "clerk3").values(role="supervisor"))
        s.commit()
    return login(window_no=3, username="clerk3")


@pytest.fixture
def other_hall(sessions: sessionmaker[Session]) -> str:
    """A second hall with one window, one clerk and one booking (with its change-log entry)."""
    with sessions() as s:
        # Password-only like the demo hall: these tests are about halls, not sign-in factors.
        s.add(Hall(code=OTHER_HALL, name="东区政务服务中心", require_second_factor=False))
        s.flush()
        s.add(Window(hall_code=OTHER_HALL, window_no=1, name="1 号窗口"))
        s.add(
            Clerk(
                hall_code=OTHER_HALL,
                username="east1",
                name="赵东",
                staff_no="ED-01",
                password_hash=hash_password(OTHER_PASSWORD),
            )
        )
        b = Booking(
            code="EAST-B-0001",
            hall_code=OTHER_HALL,
            date=DAY,
            slot="09:00-09:30",
            item_code=ITEM,
            applicant={"name": "钱东", "id_number": "11010519491231002X", "phone": "13900139000"},
            pre_review={"result": "none", "reviewer_notes": "", "reviewed_at": None, "materials": []},
            status="booked",
        )
        s.add(b)
        record_booking(s, b)
        s.commit()
    return OTHER_HALL
