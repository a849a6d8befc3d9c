"""Where the device data key lives: the OS keystore when there is one, else a 0600 key file.

The key decrypts every citizen's data in the local store, so it must not sit
beside that file on a stolen disk when the OS offers better. Order:
the key file named in config; a key file this device already has (kept where
it is, since moving it could lose the data); the OS keystore (keyring); a new
key file in the system-wide config directory.
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from hallclient.config import Config
from hallclient.crypto import load_or_create_key

log = logging.getLogger(__name__)

SERVICE = "hallclient"


@dataclass(frozen=True)
class DeviceKey:
    key: bytes
    where: str  # for self-test and IT staff: "keyring:<backend>" or the key file's path


def system_key_file() -> Path:
    from platformdirs import site_config_dir

    return Path(site_config_dir("hallclient", appauthor=False)) / "device.key"


def _keyring_backend() -> object | None:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken backend configuration: fall back to the file
        log.info("OS keystore not usable: %s", type(exc).__name__)
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None  # headless machines: no real keystore, only the "fail"/null backends
    return backend


def device_key(config: Config, *, use_keyring: bool = True) -> DeviceKey:
    if config.security.key_file:
        path = Path(config.security.key_file).expanduser()
        return DeviceKey(load_or_create_key(path), str(path))
    legacy = config.data_dir / "device.key"
    if legacy.exists():
        return DeviceKey(load_or_create_key(legacy), str(legacy))
    backend = _keyring_backend() if use_keyring else None
    if backend is not None:
        import keyring

        account = config.counter.device_id or "device"
        try:
            stored = keyring.get_password(SERVICE, account)
            if stored is None:
                stored = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
                keyring.set_password(SERVICE, account, stored)
            key = base64.b64decode(stored, validate=True)
            if len(key) == 32:
                return DeviceKey(key, f"keyring:{type(backend).__name__}")
            log.warning("the key in the OS keystore is damaged; using a key file instead")
        except Exception as exc:  # keystore locked or refusing: the counter must still start
            log.warning("OS keystore refused the device key: %s", type(exc).__name__)
    path = system_key_file()
    try:
        return DeviceKey(load_or_create_key(path), str(path))
    except OSError:
        # Not allowed to write the system directory (a normal user without an installer run):
        # the data directory is this user's own and still 0600.
        return DeviceKey(load_or_create_key(legacy), str(legacy))
