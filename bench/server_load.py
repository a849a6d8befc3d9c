"""Loopback load: 200 simulated counter windows against a real ``hallserver serve`` process.

Run once on SQLite and once on a throwaway PostgreSQL (tests/helpers/postgres.py,
imported by putting tests/ on sys.path). The server is a separate process (uvicorn),
so the load generator (asyncio + httpx, a keep-alive connection per window) does not share
its GIL.

Setup, before the server starts: the demo seed (``seed_demo``), windows and clerks
4..200 written directly to the database (one argon2 hash, reused), and enough
waiting walk-in tickets that call-next never runs dry. The change log head is read
from the database: every window starts pulling from there, as a counter that
synced earlier in the morning would.

Phases, per database:

1. login: every window logs in once (argon2 verify on the server, ~0.17 s of CPU
   each), a few at a time. Timed and reported in the note, not in the load figures.
   Quick mode skips it (200 logins take ~45 s per database here): the windows'
   tokens are written into the database beforehand, as if each counter had signed
   in earlier in the morning, and the load runs 25 s instead of 40.
2. load: each window runs a sync round every 5 s (±20 % jitter, first round at a
   random offset): POST /sync/push with the 1–3 ops its clerk produced since the
   last round, then GET /sync/pull from its cursor (following has_more), and,
   when no citizen is at the counter, POST /queue/call-next in half of its rounds.
   The ops follow a counter's real flow: call-next → ticket_state ``serving`` →
   case_decided (the called ticket, case number ``{hall}-{yyyymmdd}-{window:02d}-{seq:04d}``)
   → rating_given, the rating sometimes in the same round, sometimes in the next;
   an instant item (即办件) is served, decided and rated within one round. A
   prober requests GET /health every 0.1 s throughout. Requests time out after 5 s
   (a counter's default); the load stops after the set time, rounds in flight get
   10 s more, then whatever is still waiting is cancelled and counted as an error.

Results per database:

* ``p99`` of the real work (push, pull, call-next together; a failed request counts
  with the time it took, a timeout at 5 s like a counter's), baseline the p99 of the
  health probes answered under the same load in the same run (failed probes are
  counted in the note and in the errors, not in the baseline, so a server that stops
  answering does not make its own baseline look slow). Goal ratio ``RATIO_GOAL`` = 5: a
  sync request is a handful of short transactions (token lookup plus 1–3 op
  transactions, or one indexed range query plus serialising the hall's recent
  changes) against health's single ``SELECT 1``, and both queue for the same
  threadpool and connection pool; when real work costs more than ~5 trivial
  requests at the tail, something in it (lock waits, a slow query, a big pull
  page) dominates and deserves a look.
* errors (non-2xx answers and exceptions, ops answered ``rejected`` included) over
  requests; the goal is 0.
* PostgreSQL only: p99 against the absolute budget of 100 ms (goal ratio 1.0).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import ServerProcess, postgres_helpers, prepare_db
from bench.report import Result
from hallclient import wire
from hallserver.demo_catalog import DEMO_CATALOG
from hallserver.seed import DEMO_HALL, DEMO_PASSWORD, GIVEN, SURNAMES, resident_id

ROOT = Path(__file__).resolve().parent.parent

WINDOWS = 200
INTERVAL_S = 5.0
JITTER = 0.2  # each round is INTERVAL_S × uniform(1 - JITTER, 1 + JITTER) after the previous one
CALL_NEXT_P = 0.5  # a free window calls the next citizen in this share of its rounds
SPLIT_RATING_P = 0.5  # the citizen rates after the next sync round rather than in the same one
HEALTH_EVERY_S = 0.1
LOGIN_CONCURRENCY = 4
MAX_PULL_PAGES = 10
HARD_STOP_GRACE_S = 10.0
REQUEST_TIMEOUT_S = 5.0  # a counter's default (hallclient.config: server.timeout_s)
RATIO_GOAL = 5.0
PG_P99_BUDGET_MS = 100.0
WORK = ("push", "pull", "call_next")
API = wire.API_PREFIX


@dataclass
class Stats:
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    ops: Counter[str] = field(default_factory=Counter)
    queue_empty: int = 0
    pulled_changes: int = 0
    hard_stopped: bool = False
    health_ok: list[float] = field(default_factory=list)  # the baseline: answered health probes

    def record(self, endpoint: str, ms: float) -> None:
        self.latency_ms.setdefault(endpoint, []).append(ms)

    def requests(self, endpoints: tuple[str, ...]) -> int:
        return sum(len(self.latency_ms.get(e, [])) for e in endpoints)

    def merged(self, endpoints: tuple[str, ...]) -> list[float]:
        return [ms for e in endpoints for ms in self.latency_ms.get(e, [])]


def _pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _server_log_summary(text: str) -> str:
    """What went wrong on the server side, counted by kind."""
    kinds: Counter[str] = Counter()
    patterns = {
        "database is locked": r"database is locked",
        "QueuePool timeout": r"QueuePool limit",
        "deadlock": r"deadlock detected",
        "serialization failure": r"could not serialize",
        "too many connections": r"too many (clients|connections)",
        "Traceback": r"^Traceback",
        "ERROR lines": r"\bERROR\b",
        "WARNING lines": r"\bWARNING\b",
    }
    for name, pattern in patterns.items():
        n = len(re.findall(pattern, text, flags=re.MULTILINE))
        if n:
            kinds[name] = n
    return ", ".join(f"{k} ×{v}" for k, v in kinds.items()) or "clean"


def _server_log_lines(text: str, top: int = 6) -> list[str]:
    """The distinct exception messages and error lines, timestamps stripped, most frequent first."""
    seen: Counter[str] = Counter()
    for raw in text.splitlines():
        line = re.sub(r"^\d{4}-\d\d-\d\d [\d:,]+ ", "", raw.strip())
        if re.match(r"^[\w.]+(Error|Exception|Warning)\b:", line) or re.search(
            r"database is locked|ERROR", line
        ):
            seen[line[:220]] += 1
    return [f"{n} × {line}" for line, n in seen.most_common(top)]


# -- the simulated windows -----------------------------------------------------------------


@dataclass
class SimWindow:
    no: int
    rng: random.Random
    cursor: int
    token: str = ""
    clerk_id: int = 0
    ticket: dict[str, Any] | None = None  # the citizen at the counter (call-next's answer)
    serving: bool = False
    pending_rating: wire.CaseDecidedPayload | None = None
    case_seq: int = 0

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def device_id(self) -> str:
        return f"BENCH-W{self.no:03d}"


ITEMS = {item.code: item for item in DEMO_CATALOG}


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _op(kind: wire.OpKind, payload: wire.WireModel) -> wire.Op:
    return wire.Op(op_id=uuid.uuid4(), kind=kind, payload=payload.model_dump(mode="json"), created_at=_now())


def _ticket_state(w: SimWindow, state: wire.TicketState) -> wire.Op:
    assert w.ticket is not None
    payload = wire.TicketStatePayload(ticket_no=w.ticket["ticket_no"], state=state, window_no=w.no, at=_now())
    return _op(wire.OpKind.TICKET_STATE, payload)


def _case_decided(w: SimWindow, today: dt.date) -> wire.CaseDecidedPayload:
    ticket = w.ticket or {}
    item = ITEMS.get(ticket.get("item_code") or "") or w.rng.choice(DEMO_CATALOG)
    roll = w.rng.random()
    if item.instant:
        decision = wire.Decision.COMPLETE
    elif roll < 0.75:
        decision = wire.Decision.ACCEPT
    elif roll < 0.95:
        decision = wire.Decision.CORRECT
    else:
        decision = wire.Decision.REJECT
    statuses = ["original_seen", "copy_taken"]
    materials = [
        wire.CheckedMaterial(
            code=m.code,
            name=m.name,
            status=(
                "missing"
                if decision is wire.Decision.CORRECT and i == len(item.materials) - 1
                else w.rng.choice(statuses)
            ),
        )
        for i, m in enumerate(item.materials)
    ]
    w.case_seq += 1
    return wire.CaseDecidedPayload(
        case_no=f"{DEMO_HALL}-{today:%Y%m%d}-{w.no:02d}-{w.case_seq:04d}",
        ticket_no=ticket.get("ticket_no"),
        booking_code=ticket.get("booking_code"),
        item_code=item.code,
        item_version=item.version,
        decision=decision,
        window_no=w.no,
        clerk_id=w.clerk_id,
        decided_at=_now(),
        promised_date=today + dt.timedelta(days=item.promised_days)
        if decision is wire.Decision.ACCEPT
        else None,
        materials=materials,
        applicant=wire.Applicant(
            name=w.rng.choice(SURNAMES) + w.rng.choice(GIVEN),
            id_number=resident_id(w.rng, today),
            phone=f"1{w.rng.choice('3456789')}{w.rng.randrange(0, 10**9):09d}",
        ),
        notes="",
    )


def _rating(w: SimWindow, case: wire.CaseDecidedPayload) -> wire.Op:
    levels = list(wire.RatingLevel)
    level = w.rng.choices(levels, weights=[55, 25, 8, 3, 1, 8])[0]
    reasons = ["办事效率高"] if level is wire.RatingLevel.VERY_SATISFIED and w.rng.random() < 0.3 else []
    payload = wire.RatingPayload(
        case_no=case.case_no,
        window_no=w.no,
        level=level,
        reasons=reasons,
        comment="",
        decided_at=case.decided_at,
        rated_at=_now(),
    )
    return _op(wire.OpKind.RATING_GIVEN, payload)


def _ops_for_round(w: SimWindow, today: dt.date) -> list[wire.Op]:
    """What the clerk did since the last round: 1–3 ops, in a counter's real order."""
    ops: list[wire.Op] = []
    if w.pending_rating is not None:
        ops.append(_rating(w, w.pending_rating))
        w.pending_rating = None

    def decide() -> None:
        case = _case_decided(w, today)
        ops.append(_op(wire.OpKind.CASE_DECIDED, case))
        if w.rng.random() < SPLIT_RATING_P:
            w.pending_rating = case
        else:
            ops.append(_rating(w, case))
        w.ticket, w.serving = None, False

    if w.ticket is not None and not w.serving:
        ops.append(_ticket_state(w, wire.TicketState.SERVING))
        w.serving = True
        item = ITEMS.get(w.ticket.get("item_code") or "")
        if item is not None and item.instant and not ops[:-1]:
            decide()  # 即办件: served, decided and rated within one interval
    elif w.ticket is not None:
        decide()
    elif not ops:
        # Nobody called since the last round: a citizen back with corrected materials,
        # served without a queue number.
        decide()
    return ops[:3]


class Load:
    def __init__(self, base: str, stats: Stats, today: dt.date) -> None:
        self.base = base
        self.stats = stats
        self.today = today
        self.measuring = False

    async def request(
        self, client: httpx.AsyncClient, endpoint: str, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        """One timed request; None when it failed (counted as an error while measuring)."""
        t0 = time.perf_counter()
        resp: httpx.Response | None = None
        try:
            answer = await client.request(method, f"{API}{path}", **kw)
        except httpx.HTTPError as exc:
            resp = None
            failure = f"{endpoint}: {type(exc).__name__}"
        except asyncio.CancelledError:
            # Still waiting at the hard stop: as slow as it got so far, and an error.
            if self.measuring:
                self.stats.record(endpoint, (time.perf_counter() - t0) * 1000)
                self.stats.errors[f"{endpoint}: unfinished at hard stop"] += 1
            raise
        else:
            resp = answer
            failure = "" if answer.is_success else f"{endpoint}: HTTP {answer.status_code}"
        ms = (time.perf_counter() - t0) * 1000
        if self.measuring or endpoint == "login":
            self.stats.record(endpoint, ms)
            if failure:
                self.stats.errors[failure] += 1
            elif endpoint == "health":
                self.stats.health_ok.append(ms)
        return resp if not failure else None

    async def login(self, client: httpx.AsyncClient, w: SimWindow) -> None:
        body = wire.LoginRequest(
            hall_code=DEMO_HALL,
            window_no=w.no,
            username=f"clerk{w.no}",
            password=DEMO_PASSWORD,
            device_id=w.device_id,
        ).model_dump(mode="json")
        resp = await self.request(client, "login", "POST", "/auth/login", json=body)
        if resp is None:
            raise RuntimeError(f"window {w.no} could not log in")
        answer = resp.json()
        w.token, w.clerk_id = answer["token"], answer["clerk"]["id"]

    async def sync_round(self, client: httpx.AsyncClient, w: SimWindow) -> None:
        ops = _ops_for_round(w, self.today)
        push = wire.PushRequest(device_id=w.device_id, ops=ops).model_dump(mode="json")
        resp = await self.request(client, "push", "POST", "/sync/push", json=push, headers=w.auth)
        if resp is not None and self.measuring:
            for r in resp.json()["results"]:
                self.stats.ops[r["status"]] += 1
                if r["status"] == wire.OpStatus.REJECTED.value:
                    self.stats.errors[f"op rejected: {r['detail'][:60]}"] += 1
        for _page in range(MAX_PULL_PAGES):
            resp = await self.request(
                client, "pull", "GET", "/sync/pull", params={"cursor": w.cursor}, headers=w.auth
            )
            if resp is None:
                break
            page = resp.json()
            if self.measuring:
                self.stats.pulled_changes += len(page["changes"])
            w.cursor = max(w.cursor, int(page["next_cursor"]))
            if not page["has_more"]:
                break

    async def call_next(self, client: httpx.AsyncClient, w: SimWindow) -> None:
        resp = await self.request(
            client, "call_next", "POST", "/queue/call-next", json={"window_no": w.no}, headers=w.auth
        )
        if resp is None:
            return
        ticket = resp.json()["ticket"]
        if ticket is None:
            if self.measuring:
                self.stats.queue_empty += 1
            return
        w.ticket, w.serving = ticket, False

    async def window(self, client: httpx.AsyncClient, w: SimWindow, end: float, max_rounds: int) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time() + w.rng.uniform(0, INTERVAL_S)
        for _round in range(max_rounds):
            await asyncio.sleep(max(0.0, min(next_at, end) - loop.time()))
            if loop.time() >= end:
                return
            await self.sync_round(client, w)
            if w.ticket is None and w.rng.random() < CALL_NEXT_P:
                await self.call_next(client, w)
            next_at += INTERVAL_S * w.rng.uniform(1 - JITTER, 1 + JITTER)

    async def prober(self, end: float) -> None:
        loop = asyncio.get_running_loop()
        async with httpx.AsyncClient(base_url=self.base, timeout=REQUEST_TIMEOUT_S) as client:
            next_at = loop.time()
            while loop.time() < end:
                await self.request(client, "health", "GET", "/health")
                next_at += HEALTH_EVERY_S
                await asyncio.sleep(max(0.0, next_at - loop.time()))


def _signed_in_earlier(url: str, windows: int) -> dict[int, tuple[str, int]]:
    """Each window's clerk signed in on its counter already: window -> (bearer token, clerk id)."""
    import secrets

    from sqlalchemy import select

    from hallserver.db import make_engine, session_factory
    from hallserver.models import AuthToken, Clerk, Window
    from hallserver.security import token_digest

    engine = make_engine(url)
    out: dict[int, tuple[str, int]] = {}
    try:
        with session_factory(engine)() as s:
            clerks = {c.username: c.id for c in s.scalars(select(Clerk).where(Clerk.hall_code == DEMO_HALL))}
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)
            for no in range(1, windows + 1):
                token, device = secrets.token_urlsafe(32), f"BENCH-W{no:03d}"
                clerk_id = clerks[f"clerk{no}"]
                s.add(
                    AuthToken(
                        token_hash=token_digest(token),
                        clerk_id=clerk_id,
                        hall_code=DEMO_HALL,
                        window_no=no,
                        device_id=device,
                        expires_at=expires,
                    )
                )
                window = s.get(Window, (DEMO_HALL, no))
                assert window is not None
                window.device_id = device
                out[no] = (token, clerk_id)
            s.commit()
    finally:
        engine.dispose()
    return out


async def _drive(
    base: str,
    head: int,
    today: dt.date,
    windows: int,
    duration_s: float,
    tokens: dict[int, tuple[str, int]] | None = None,
) -> tuple[Stats, float]:
    stats = Stats()
    load = Load(base, stats, today)
    ws = [SimWindow(no, random.Random(no), head) for no in range(1, windows + 1)]
    for w in ws:
        if tokens:
            w.token, w.clerk_id = tokens[w.no]
    # One pool with a keep-alive connection per window: a window sends one request at a time.
    limits = httpx.Limits(max_connections=windows + 1, max_keepalive_connections=windows + 1)
    client = httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S, limits=limits)
    try:
        gate = asyncio.Semaphore(LOGIN_CONCURRENCY)

        async def login(w: SimWindow) -> None:
            async with gate:
                await load.login(client, w)

        await asyncio.gather(*(login(w) for w in ws if not w.token))
        loop = asyncio.get_running_loop()
        load.measuring = True
        t0 = loop.time()
        end = t0 + duration_s
        max_rounds = int(duration_s / (INTERVAL_S * (1 - JITTER))) + 2
        everything = asyncio.gather(load.prober(end), *(load.window(client, w, end, max_rounds) for w in ws))
        try:
            # A round started just before the end still finishes; nothing waits much past that.
            await asyncio.wait_for(everything, duration_s + HARD_STOP_GRACE_S)
        except TimeoutError:
            stats.hard_stopped = True
        elapsed = loop.time() - t0
    finally:
        await client.aclose()
    return stats, elapsed


# -- one database ---------------------------------------------------------------------------


def _measure(
    label: str, url: str, folder: Path, duration_s: float, quick: bool
) -> tuple[Stats, float, str, float]:
    today = dt.date.today()
    max_rounds = int(duration_s / (INTERVAL_S * (1 - JITTER))) + 2
    head = prepare_db(url, today, windows=WINDOWS, tickets=WINDOWS * max_rounds // 2 + 100)
    tokens = _signed_in_earlier(url, WINDOWS) if quick else None
    server = ServerProcess(url, folder / f"server-{label}.log")
    try:
        server.wait_ready()
        t_login = time.monotonic()
        stats, elapsed = asyncio.run(_drive(server.base, head, today, WINDOWS, duration_s, tokens))
        login_s = time.monotonic() - t_login - elapsed
    finally:
        server.stop()
    log_text = server.log_path.read_text(encoding="utf-8", errors="replace")
    trouble = _server_log_lines(log_text)
    if trouble:
        print(f"server_load {label}: server log:", *trouble, sep="\n  ", file=sys.stderr)
    return stats, elapsed, log_text, login_s


def _results(label: str, stats: Stats, elapsed: float, log_text: str, login_s: float) -> list[Result]:
    work = stats.merged(WORK)
    health = stats.health_ok
    health_failed = len(stats.latency_ms.get("health", [])) - len(health)
    p50, p99 = _pct(work, 50), _pct(work, 99)
    h99 = _pct(health, 99)
    requests = stats.requests((*WORK, "health"))
    errors = sum(stats.errors.values())
    per_endpoint = "; ".join(
        f"{e} n={len(stats.latency_ms.get(e, []))} p50 {_pct(stats.latency_ms.get(e, []), 50):.1f} "
        f"p99 {_pct(stats.latency_ms.get(e, []), 99):.1f}"
        for e in (*WORK, "health")
    )
    logins = stats.latency_ms.get("login", [])
    ops = ", ".join(f"{k} {v}" for k, v in sorted(stats.ops.items()))
    error_kinds = ", ".join(f"{k} ×{v}" for k, v in stats.errors.most_common(5)) or "none"
    note = (
        f"{WINDOWS} windows, {elapsed:.0f} s, {requests / elapsed:.1f} req/s; work p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, health (answered) p50 {_pct(health, 50):.1f} p99 {h99:.1f} ms, "
        f"{health_failed} failed; {per_endpoint}; "
        f"errors {errors}/{requests} ({error_kinds}); ops {ops}; pulled {stats.pulled_changes} changes; "
        f"call-next empty {stats.queue_empty}; {'hard-stopped; ' if stats.hard_stopped else ''}"
        + (
            f"logins {len(logins)} in {login_s:.0f} s (p50 {_pct(logins, 50):.0f} ms); "
            if logins
            else "signed in beforehand (quick mode); "
        )
        + f"server log: {_server_log_summary(log_text)}"
    )
    out = [
        Result(f"server load p99, {label}", p99, h99, "ms p99 / health p99", RATIO_GOAL, note),
        Result(
            f"server load errors, {label}",
            float(errors),
            float(requests),
            "errors / requests",
            0.0,
            error_kinds,
        ),
    ]
    if label == "PostgreSQL":
        out.append(
            Result(
                f"server load p99 vs {PG_P99_BUDGET_MS:.0f} ms, {label}",
                p99,
                PG_P99_BUDGET_MS,
                "ms p99 / budget",
                1.0,
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {errors}/{requests}",
            )
        )
    return out


def run(quick: bool) -> list[Result]:
    duration_s = 25.0 if quick else 180.0
    folder = Path(tempfile.mkdtemp(prefix="bench-server-load-"))
    results: list[Result] = []
    try:
        sqlite_url = f"sqlite:///{folder / 'hallserver.sqlite'}"
        results += _results("SQLite", *_measure("SQLite", sqlite_url, folder, duration_s, quick))
        pg_helpers = postgres_helpers()
        try:
            pg = pg_helpers.start_postgres()
        except pg_helpers.PostgresUnavailable as exc:
            print(f"server_load: PostgreSQL skipped: {exc}", file=sys.stderr)
        else:
            try:
                url = pg.create_database("hall_bench")
                results += _results("PostgreSQL", *_measure("PostgreSQL", url, folder, duration_s, quick))
            finally:
                pg.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return results
