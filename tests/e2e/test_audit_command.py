"""`hallclient audit verify|export` as IT staff run it: exit codes, the first broken link, a file for the auditor."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from hallclient.audit import AuditAction
from hallclient.crypto import FieldCipher, load_or_create_key
from hallclient.store import Store


def run_client(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ui.main", *args], capture_output=True, text=True, timeout=60, check=False
    )


def counter_with_a_log(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    key = tmp_path / "device.key"
    store = Store(data / "counter.sqlite", FieldCipher(load_or_create_key(key)))
    store.actor = "ZW-0107"
    at = dt.datetime(2026, 11, 25, 9, 0)
    for i, (action, subject) in enumerate(
        [
            (AuditAction.LOGIN, "ZW-0107"),
            (AuditAction.DECISION, "DEMO-20261125-01-0001"),
            (AuditAction.PRINT, "d1"),
        ]
    ):
        store.audit(action, subject, "", at + dt.timedelta(minutes=i))
    store.close()
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{data}"\n\n[security]\nkey_file = "{key}"\n', encoding="utf-8")
    return config


def test_verify_says_the_log_is_whole(tmp_path: Path) -> None:
    config = counter_with_a_log(tmp_path)
    done = run_client("--config", str(config), "audit", "verify")
    assert done.returncode == 0, done.stderr
    assert "审计日志完整" in done.stdout and "3 条" in done.stdout


def test_verify_names_the_first_changed_entry_and_fails(tmp_path: Path) -> None:
    config = counter_with_a_log(tmp_path)
    with sqlite3.connect(tmp_path / "data" / "counter.sqlite") as db:
        (second,) = db.execute("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 1").fetchone()
        db.execute("UPDATE audit_log SET subject = 'DEMO-20261125-01-0099' WHERE id = ?", (second,))
    done = run_client("--config", str(config), "audit", "verify")
    assert done.returncode == 1
    assert "审计日志被改动" in done.stdout and f"第 {second} 条" in done.stdout


def test_export_writes_every_entry_with_its_hashes_and_is_itself_audited(tmp_path: Path) -> None:
    config = counter_with_a_log(tmp_path)
    target = tmp_path / "audit.jsonl"
    done = run_client("--config", str(config), "audit", "export", str(target))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["action"] for r in rows] == ["login", "decision", "print"]
    assert all(len(r["hash"]) == 64 and len(r["prev_hash"]) == 64 for r in rows)
    # The export is recorded in the log, which still verifies.
    again = run_client("--config", str(config), "audit", "verify")
    assert again.returncode == 0 and "4 条" in again.stdout


def test_a_counter_without_data_is_told_plainly(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path / "nothing"}"\n\n[security]\nkey_file = "{tmp_path / "k"}"\n')
    done = run_client("--config", str(config), "audit", "verify")
    assert done.returncode == 2 and "本机数据文件不存在" in done.stderr
    assert "Traceback" not in done.stderr
