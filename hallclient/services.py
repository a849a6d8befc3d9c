"""Builds the core services of one counter from its configuration.

Qt-free, so the ui's composition root, the tests and the command-line tools all
assemble a counter the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from hallclient.api import PlatformClient
from hallclient.audit import AuditAction
from hallclient.config import Config
from hallclient.counter import Counter
from hallclient.crypto import FieldCipher
from hallclient.events import EventBus
from hallclient.keystore import device_key
from hallclient.store import Store
from hallclient.sync import SyncEngine, SyncWorker
from hallclient.uploads import UploadEngine, UploadWorker
from hallclient.workdays import WorkCalendar


@dataclass
class Services:
    """The core objects of one counter, built once and passed to whoever needs them."""

    config: Config
    store: Store
    api: PlatformClient
    bus: EventBus
    counter: Counter
    sync: SyncEngine
    sync_worker: SyncWorker
    uploads: UploadWorker

    key_location: str = ""

    def close(self) -> None:
        self.sync_worker.stop()
        self.uploads.stop()
        self.store.close()

    def housekeeping(self) -> int:
        """Purge citizens' data past retention (start-up, then daily); how many records were cleared."""
        now, days = self.counter.clock(), self.config.security.retention_days
        return self.store.purge_personal_data(now, days) + self.store.purge_captures(now, days)


CONFIG_HASH_KEY = "config_sha256"


def record_config_change(store: Store, config: Config, now: dt.datetime) -> bool:
    """Audit a configuration that differs from the one this counter last started with."""
    if config.source is None or not config.source.is_file():
        return False
    digest = hashlib.sha256(config.source.read_bytes()).hexdigest()
    before = store.get_state(CONFIG_HASH_KEY)
    if before == digest:
        return False
    detail = f"{config.source} sha256 {before[:12] or '-'} -> {digest[:12]}"
    store.audit(AuditAction.CONFIG, config.source.name, detail, now)
    store.set_state(CONFIG_HASH_KEY, digest)
    return True


def build_services(config: Config) -> Services:
    data_dir = config.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    device = device_key(config)
    cipher = FieldCipher(device.key)
    store = Store(data_dir / "counter.sqlite", cipher)
    api = PlatformClient(
        config.server.url, timeout_s=config.server.timeout_s, ca_bundle=config.server.ca_bundle
    )
    bus = EventBus()
    sync = SyncEngine(
        store,
        api,
        bus,
        device_id=config.counter.device_id,
        hall_code=config.counter.hall_code,
        batch_size=config.sync.batch_size,
    )
    worker = SyncWorker(sync, interval_s=config.sync.interval_s)
    key = ""
    if config.printing.signing_key_file:
        key = Path(config.printing.signing_key_file).read_text(encoding="ascii").strip()
    counter = Counter(config, store, api, bus, WorkCalendar(), signing_key=key, on_change=worker.kick)
    # Captured paper materials go up in chunks on their own worker, so a large file never
    # holds back the small ops the sync worker sends.
    uploads = UploadWorker(UploadEngine(store, api), interval_s=config.sync.interval_s)
    record_config_change(store, config, counter.clock())
    return Services(config, store, api, bus, counter, sync, worker, uploads, key_location=device.where)
