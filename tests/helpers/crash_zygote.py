"""A process that forks counter clients on demand, so they can be killed at any instant.

Importing the client stack takes about a second; a crash test that kills a
client hundreds of times cannot pay that on every start. This zygote imports
everything once, holds no threads, files or sockets, and forks a fresh client
for each ``run`` command read from stdin. The test kills the forked child with
SIGKILL; the zygote reports each child's pid and reaps the dead.

Commands (one per line): ``run WINDOW SEED`` -> prints ``pid N``; ``quit``.
The child plays a counter day: sign in, call, accept, rate, while the sync
worker thread pushes and pulls, until it is killed or runs out of citizens.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
from pathlib import Path

from hallclient import wire
from hallclient.config import Config, CounterConfig, PrintingConfig, SecurityConfig, ServerConfig, SyncConfig
from hallclient.domain import MaterialCheck
from hallclient.services import build_services

APPLICANT = wire.Applicant(name="王芳", id_number="11010519491231002X", phone="13800138000")
LEVELS = [level for level in wire.RatingLevel]


def play(server_url: str, root: Path, window_no: int, seed: int) -> None:
    folder = root / f"window{window_no}"
    config = Config(
        server=ServerConfig(url=server_url, timeout_s=5.0),
        counter=CounterConfig(
            hall_code="DEMO", window_no=window_no, device_id=f"crash-window-{window_no:02d}"
        ),
        printing=PrintingConfig(signing_key_file=str(root / "hall-signing.key")),
        sync=SyncConfig(interval_s=0.05, batch_size=7),
        security=SecurityConfig(key_file=str(folder / "device.key")),
        data_dir=folder,
    )
    services = build_services(config)
    services.sync_worker.interval_s = 0.05
    services.sync_worker.start()
    counter = services.counter
    counter.login(f"clerk{window_no}", "demo1234")
    counter.refresh()
    rng = random.Random(seed)
    while True:
        ticket = counter.call_next()
        if ticket is None:
            services.sync.sync_once()
            os._exit(0)
        ctx = counter.service_context(ticket)
        assert ctx.item is not None, f"no catalog item for {ticket.ticket_no}"
        checks = {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}
        outcome = counter.accept(ctx, checks, applicant=None if ctx.booking else APPLICANT)
        counter.record_rating(
            outcome.payload.case_no, rng.choice(LEVELS), decided_at=outcome.payload.decided_at
        )


def main() -> None:
    server_url, root = sys.argv[1], Path(sys.argv[2])
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        # Reap whatever died since the last command, so no zombies pile up.
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        window_no, seed = int(words[1]), int(words[2])
        pid = os.fork()
        if pid == 0:
            try:
                play(server_url, root, window_no, seed)
            except BaseException as exc:  # a crash the test did not cause: say so, then die
                print(f"child-error {window_no} {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                os._exit(3)
            os._exit(0)
        print(f"pid {pid} {dt.datetime.now().isoformat()}", flush=True)


if __name__ == "__main__":
    main()
