"""Where the device data key lives (hallclient/keystore.py).

The system config dir is redirected to tmp_path through XDG_CONFIG_DIRS (what
platformdirs reads), and every test checks that before anything is written: the
tests must never create a key under the real /etc. The OS keystore is a tiny
in-memory keyring backend, or keyring's own "fail" backend for "no keystore".
"""

from __future__ import annotations

import base64
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from hallclient import keystore
from hallclient.config import Config, CounterConfig, SecurityConfig
from hallclient.crypto import FieldCipher, load_or_create_key
from hallclient.keystore import SERVICE, KeyUnavailable, device_key, system_key_file
from hallclient.store import Store

DEVICE_ID = "test-window-01"


class MemoryKeyring(KeyringBackend):
    """An OS keystore that keeps its secrets in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.secrets[(service, username)]


@pytest.fixture(autouse=True)
def system_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    etc = tmp_path / "etc-xdg"
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(etc))
    assert system_key_file() == etc / "hallclient" / "device.key"
    return etc


@pytest.fixture(autouse=True)
def restore_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


@pytest.fixture
def no_keystore() -> None:
    keyring.set_keyring(fail.Keyring())


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


def config(tmp_path: Path, key_file: str = "") -> Config:
    return Config(
        counter=CounterConfig(device_id=DEVICE_ID),
        security=SecurityConfig(key_file=key_file),
        data_dir=tmp_path / "data",
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# -- the configured key file -------------------------------------------------------------------


def test_the_configured_key_file_wins(
    tmp_path: Path, memory_keyring: MemoryKeyring, system_dir: Path
) -> None:
    cfg = config(tmp_path, key_file=str(tmp_path / "keys" / "hall.key"))
    # A legacy key in the data dir and a key in the keystore are both passed over.
    load_or_create_key(cfg.data_dir / "device.key")
    memory_keyring.set_password(SERVICE, DEVICE_ID, base64.b64encode(b"\x07" * 32).decode())

    first = device_key(cfg)
    assert first.where == str(tmp_path / "keys" / "hall.key")
    assert len(first.key) == 32 and first.key != b"\x07" * 32
    assert first.key != load_or_create_key(cfg.data_dir / "device.key")
    assert mode(tmp_path / "keys" / "hall.key") == 0o600
    assert device_key(cfg).key == first.key
    assert files_under(system_dir) == []


def test_an_existing_configured_key_file_is_used_as_it_is(tmp_path: Path, no_keystore: None) -> None:
    path = tmp_path / "keys" / "hall.key"
    path.parent.mkdir()
    path.write_bytes(base64.b64encode(b"\x42" * 32) + b"\n")
    assert device_key(config(tmp_path, key_file=str(path))).key == b"\x42" * 32


def test_a_configured_key_file_under_home_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_keystore: None
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    got = device_key(config(tmp_path, key_file="~/hallclient.key"))
    assert got.where == str(tmp_path / "home" / "hallclient.key")
    assert (tmp_path / "home" / "hallclient.key").is_file()


# -- a key this device already has --------------------------------------------------------------


def test_an_existing_data_dir_key_is_reused(
    tmp_path: Path, memory_keyring: MemoryKeyring, system_dir: Path
) -> None:
    cfg = config(tmp_path)
    legacy = load_or_create_key(cfg.data_dir / "device.key")
    got = device_key(cfg)
    assert got.key == legacy and got.where == str(cfg.data_dir / "device.key")
    # Not moved into the keystore, not copied to the system dir.
    assert memory_keyring.secrets == {}
    assert files_under(system_dir) == []


def test_data_written_with_the_legacy_key_stays_readable(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    cfg = config(tmp_path)
    sealed = FieldCipher(load_or_create_key(cfg.data_dir / "device.key")).encrypt("沈阳市")
    assert FieldCipher(device_key(cfg).key).decrypt(sealed) == "沈阳市"


# -- no OS keystore: a 0600 file in the system config dir --------------------------------------------


def test_without_a_keystore_a_0600_file_is_created_in_the_system_config_dir(
    tmp_path: Path, no_keystore: None, system_dir: Path
) -> None:
    cfg = config(tmp_path)
    got = device_key(cfg)
    path = system_dir / "hallclient" / "device.key"
    assert got.where == str(path)
    assert mode(path) == 0o600
    assert base64.b64decode(path.read_bytes()) == got.key and len(got.key) == 32
    assert not (cfg.data_dir / "device.key").exists()
    # The second start finds the same key.
    assert device_key(cfg) == got


def test_use_keyring_false_goes_straight_to_the_file(
    tmp_path: Path, memory_keyring: MemoryKeyring, system_dir: Path
) -> None:
    got = device_key(config(tmp_path), use_keyring=False)
    assert got.where == str(system_dir / "hallclient" / "device.key")
    assert memory_keyring.secrets == {}


def test_a_zero_priority_backend_counts_as_no_keystore(tmp_path: Path, system_dir: Path) -> None:
    class NullKeyring(MemoryKeyring):
        priority = 0  # type: ignore[assignment]

    keyring.set_keyring(NullKeyring())
    assert device_key(config(tmp_path)).where == str(system_dir / "hallclient" / "device.key")


def test_the_system_key_file_can_be_redirected_on_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_keystore: None
) -> None:
    target = tmp_path / "elsewhere" / "device.key"
    monkeypatch.setattr(keystore, "system_key_file", lambda: target)
    assert device_key(config(tmp_path)).where == str(target)
    assert mode(target) == 0o600


def test_a_damaged_system_key_file_is_refused_not_replaced(
    tmp_path: Path, no_keystore: None, system_dir: Path
) -> None:
    path = system_dir / "hallclient" / "device.key"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a key")
    with pytest.raises(Exception, match="damaged"):
        device_key(config(tmp_path))
    assert path.read_bytes() == b"not a key"


# -- an OS keystore ----------------------------------------------------------------------------------


def test_with_a_keystore_the_key_is_kept_there(
    tmp_path: Path, memory_keyring: MemoryKeyring, system_dir: Path
) -> None:
    cfg = config(tmp_path)
    first = device_key(cfg)
    assert first.where == "keyring:MemoryKeyring"
    assert list(memory_keyring.secrets) == [(SERVICE, DEVICE_ID)]
    assert base64.b64decode(memory_keyring.secrets[(SERVICE, DEVICE_ID)]) == first.key
    assert len(first.key) == 32
    # No key file anywhere.
    assert files_under(system_dir) == [] and not (cfg.data_dir / "device.key").exists()
    # The second start gets the same key.
    assert device_key(cfg) == first


def test_two_devices_on_one_keystore_get_their_own_keys(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    a = device_key(config(tmp_path / "a"))
    other = Config(counter=CounterConfig(device_id="test-window-02"), data_dir=tmp_path / "b" / "data")
    b = device_key(other)
    assert a.key != b.key and len(memory_keyring.secrets) == 2


def test_a_damaged_keystore_entry_falls_back_to_a_file(
    tmp_path: Path, memory_keyring: MemoryKeyring, system_dir: Path
) -> None:
    memory_keyring.set_password(SERVICE, DEVICE_ID, base64.b64encode(b"short").decode())
    got = device_key(config(tmp_path))
    assert got.where == str(system_dir / "hallclient" / "device.key") and len(got.key) == 32


def test_a_keystore_that_refuses_falls_back_to_a_file(tmp_path: Path, system_dir: Path) -> None:
    class LockedKeyring(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise keyring.errors.KeyringLocked("locked")

    keyring.set_keyring(LockedKeyring())
    got = device_key(config(tmp_path))
    assert got.where == str(system_dir / "hallclient" / "device.key")


# -- the key must not change under existing data -----------------------------------------------------


def test_a_key_file_made_before_a_keystore_appeared_is_still_used(
    tmp_path: Path, no_keystore: None, system_dir: Path
) -> None:
    """First start without a keystore (before the desktop session unlocked it, say): the key went
    to the system file and the data was encrypted with it. A later start with the keystore up
    must keep using that file, or every citizen's data and every unsent op is unreadable."""
    cfg = config(tmp_path)
    first = device_key(cfg)
    keyring.set_keyring(MemoryKeyring())
    assert device_key(cfg).key == first.key


def test_a_keystore_key_is_not_silently_replaced_when_the_keystore_is_unavailable(
    tmp_path: Path, memory_keyring: MemoryKeyring, system_dir: Path
) -> None:
    """The key went to the keystore; on a later start the keystore is not reachable. A fresh key
    would make the existing store unreadable: the counter must stop and say so instead."""
    cfg = config(tmp_path)
    first = device_key(cfg)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)  # device_key records where the key went in it
    store = Store(cfg.data_dir / "counter.sqlite", FieldCipher(first.key))
    store.set_state("probe", "x")
    store.close()

    keyring.set_keyring(fail.Keyring())
    try:
        again = device_key(cfg)
    except Exception:  # noqa: BLE001 - refusing to start is the right answer
        return
    assert again.key == first.key, "a new key was made although data encrypted with the old one exists"


def test_a_configured_key_file_that_vanished_under_existing_data_stops_the_counter(tmp_path: Path) -> None:
    """A new key at the configured path could never read the data: refuse, with the way out."""
    key_file = tmp_path / "keys" / "device.key"
    cfg = Config(
        counter=CounterConfig(device_id=DEVICE_ID),
        security=SecurityConfig(key_file=str(key_file)),
        data_dir=tmp_path / "data",
    )
    first = device_key(cfg)
    store = Store(cfg.data_dir / "counter.sqlite", FieldCipher(first.key))
    store.set_state("probe", "x")
    store.close()
    key_file.unlink()
    with pytest.raises(KeyUnavailable) as err:
        device_key(cfg)
    assert str(key_file) in str(err.value) and "key_file" in str(err.value)
    assert not key_file.exists()  # no second key was made
