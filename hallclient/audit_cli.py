"""``hallclient audit verify|export``: check the audit chain of this counter, or hand it to an auditor."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TextIO

from hallclient.audit import AuditAction
from hallclient.config import Config
from hallclient.crypto import FieldCipher
from hallclient.i18n import _
from hallclient.keystore import device_key
from hallclient.store import Store


def open_store(config: Config) -> Store:
    path = config.data_dir / "counter.sqlite"
    if not path.exists():
        raise FileNotFoundError(_("本机数据文件不存在：{path}").format(path=path))
    return Store(path, FieldCipher(device_key(config).key))


def verify(config: Config, out: TextIO = sys.stdout) -> int:
    """0 when the chain is whole, 1 with the first broken link named."""
    store = open_store(config)
    try:
        entries = store.audit_entries()
        broken = store.verify_audit()
    finally:
        store.close()
    if broken is None:
        print(_("审计日志完整：共 {n} 条，链条无断点。").format(n=len(entries)), file=out)
        return 0
    print(_("审计日志被改动：{where}").format(where=broken), file=out)
    return 1


def export(config: Config, target: Path, out: TextIO = sys.stdout) -> int:
    """Write the log as JSON lines (each row with its hashes, so the auditor can re-check the chain)."""
    store = open_store(config)
    try:
        entries = store.audit_entries()
        target.write_text("".join(e.as_json() + "\n" for e in entries), encoding="utf-8")
        store.audit(AuditAction.EXPORT, target.name, f"{len(entries)} rows", dt.datetime.now())
    finally:
        store.close()
    print(_("已导出 {n} 条审计记录到 {path}").format(n=len(entries), path=target), file=out)
    return 0
