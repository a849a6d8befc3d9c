"""A counter that starts with a changed configuration says so in its audit log (等保: config changes audited)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from hallclient.audit import AuditAction
from hallclient.config import load_config
from hallclient.crypto import FieldCipher, load_or_create_key
from hallclient.services import record_config_change
from hallclient.store import Store

NOW = dt.datetime(2026, 11, 25, 8, 30)


def test_a_changed_config_file_is_audited_once(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[counter]\nhall_code = "HZ01"\nwindow_no = 3\n', encoding="utf-8")
    config = dataclasses.replace(load_config(path), data_dir=tmp_path / "data")
    store = Store(tmp_path / "data" / "counter.sqlite", FieldCipher(load_or_create_key(tmp_path / "k")))

    assert record_config_change(store, config, NOW)  # the first start records the config it ran with
    assert not record_config_change(store, config, NOW)  # unchanged: nothing to say
    path.write_text('[counter]\nhall_code = "HZ01"\nwindow_no = 4\n', encoding="utf-8")
    assert record_config_change(store, config, NOW + dt.timedelta(days=1))

    changes = [e for e in store.audit_entries() if e.action == AuditAction.CONFIG.value]
    assert len(changes) == 2 and changes[1].subject == "config.toml" and "->" in changes[1].detail
    assert store.verify_audit() is None
