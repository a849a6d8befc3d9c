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
from hallclient.i18n import _

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


class KeyUnavailable(Exception):
    """The device key that encrypted this counter's data cannot be had; a new one would lose the data."""


def _marker(config: Config) -> Path:
    return config.data_dir / "device.key.where"


def _remember(config: Config, where: str) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    _marker(config).write_text(where + "\n", encoding="utf-8")


def _from_keyring(account: str) -> bytes | None:
    import keyring

    stored = keyring.get_password(SERVICE, account)
    if stored is None:
        return None
    key = base64.b64decode(stored, validate=True)
    if len(key) != 32:
        raise ValueError("damaged")
    return key


def device_key(config: Config, *, use_keyring: bool = True) -> DeviceKey:
    """The device data key; once chosen, the same place is used on every start.

    Where the key went is remembered beside the data (``device.key.where``): a
    keystore that appears or goes away later must not lead to a second key that
    cannot read what the first one encrypted.
    """
    if config.security.key_file:
        path = Path(config.security.key_file).expanduser()
        if not path.exists() and (config.data_dir / "counter.sqlite").exists():
            # A new key here could never read what is already encrypted: stop and say so.
            raise KeyUnavailable(
                _(
                    "配置的设备密钥文件 {path} 不存在，而本机已有加密数据（{data}）。请恢复原来的密钥文件，或改正 [security] key_file。"
                ).format(path=path, data=config.data_dir / "counter.sqlite")
            )
        return DeviceKey(load_or_create_key(path), str(path))
    legacy = config.data_dir / "device.key"
    if legacy.exists():
        return DeviceKey(load_or_create_key(legacy), str(legacy))
    account = config.counter.device_id or "device"
    marker = _marker(config)
    if marker.exists():
        where = marker.read_text(encoding="utf-8").strip()
        if where.startswith("keyring:"):
            try:
                key = _from_keyring(account) if _keyring_backend() is not None else None
            except Exception as exc:  # locked, refusing or damaged: say so, never replace it
                raise KeyUnavailable(_keyring_message(type(exc).__name__)) from None
            if key is None:
                raise KeyUnavailable(_keyring_message(_("钥匙串中没有本机的密钥")))
            return DeviceKey(key, where)
        path = Path(where)
        if not path.exists():
            raise KeyUnavailable(
                _(
                    "设备密钥文件 {path} 不见了。本机已加密的数据需要它才能读取，请从备份恢复该文件，不要删除数据文件。"
                ).format(path=path)
            )
        return DeviceKey(load_or_create_key(path), where)
    system_file = system_key_file()
    if system_file.exists():
        _remember(config, str(system_file))
        return DeviceKey(load_or_create_key(system_file), str(system_file))
    if (config.data_dir / "counter.sqlite").exists():
        raise KeyUnavailable(
            _(
                "本机已有加密数据（{path}），但找不到加密它的设备密钥。请联系信息技术人员从备份恢复密钥。"
            ).format(path=config.data_dir / "counter.sqlite")
        )
    backend = _keyring_backend() if use_keyring else None
    if backend is not None:
        import keyring

        try:
            key = _from_keyring(account)  # a key this device put there before, if any
            if key is None:
                keyring.set_password(
                    SERVICE, account, base64.b64encode(secrets.token_bytes(32)).decode("ascii")
                )
                key = _from_keyring(account)
            if key is not None:
                where = f"keyring:{type(backend).__name__}"
                _remember(config, where)
                return DeviceKey(key, where)
        except Exception as exc:  # keystore refusing or its entry damaged: a file, never an overwrite
            log.warning("OS keystore not used for the device key: %s", type(exc).__name__)
    for path in (system_file, legacy):
        try:
            key = load_or_create_key(path)
        except OSError:
            # Not allowed to write the system directory (a normal user without an installer
            # run): the data directory is this user's own, and the file is still 0600.
            continue
        _remember(config, str(path))
        return DeviceKey(key, str(path))
    raise KeyUnavailable(_("无法创建设备密钥文件 {path}").format(path=legacy))


def _keyring_message(reason: str) -> str:
    return _(
        "设备密钥保存在系统钥匙串中，但现在无法读取（{reason}）。请先解锁系统钥匙串后重新启动；本机数据不受影响。"
    ).format(reason=reason)
