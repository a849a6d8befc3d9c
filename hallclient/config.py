"""Client configuration from TOML.

A counter is configured by IT staff, often by editing a file on hundreds of
machines, so every mistake is reported with the file, the key and what was
expected, and unknown keys are errors (a typo must not silently fall back to a
default).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hallclient.i18n import LANGUAGES


class ConfigError(Exception):
    def __init__(self, path: Path | None, key: str, problem: str) -> None:
        where = str(path) if path else "<defaults>"
        super().__init__(f"{where}: [{key}] {problem}")
        self.path = path
        self.key = key
        self.problem = problem


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("hallclient", appauthor=False))


@dataclass(frozen=True)
class ServerConfig:
    url: str = "http://127.0.0.1:8470"
    timeout_s: float = 5.0
    ca_bundle: str = ""


@dataclass(frozen=True)
class CounterConfig:
    hall_code: str = "DEMO"
    window_no: int = 1
    device_id: str = ""
    language: str = "zh_CN"


@dataclass(frozen=True)
class CitizenScreenConfig:
    screen_name: str = ""
    rating_timeout_s: int = 60
    large_font: bool = False


@dataclass(frozen=True)
class PrintingConfig:
    hall_name: str = ""
    letterhead: str = ""
    seal_image: str = ""
    a4_printer: str = ""
    signing_key_file: str = ""
    layout: str = "a4"


@dataclass(frozen=True)
class SyncConfig:
    interval_s: float = 5.0
    batch_size: int = 200


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    counter: CounterConfig = field(default_factory=CounterConfig)
    citizen_screen: CitizenScreenConfig = field(default_factory=CitizenScreenConfig)
    printing: PrintingConfig = field(default_factory=PrintingConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    data_dir: Path = field(default_factory=default_data_dir)
    source: Path | None = None


_SECTIONS: dict[str, type[Any]] = {
    "server": ServerConfig,
    "counter": CounterConfig,
    "citizen_screen": CitizenScreenConfig,
    "printing": PrintingConfig,
    "sync": SyncConfig,
}

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def system_config_path() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "hallclient" / "config.toml"
    return Path("/etc/hallclient/config.toml")


def _coerce(path: Path | None, key: str, value: Any, expected: type[Any]) -> Any:
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, bool):
        raise ConfigError(path, key, f"expected {_TYPE_NAMES[int]}, got {value!r}")
    if not isinstance(value, expected):
        raise ConfigError(path, key, f"expected {_TYPE_NAMES[expected]}, got {value!r}")
    return value


def _section(path: Path | None, name: str, raw: Any, cls: type[Any]) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(path, name, "expected a table (a [section] with keys)")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(path, f"{name}.{key}", f"unknown key; known keys are: {known}")
        expected = type(getattr(cls(), key))
        values[key] = _coerce(path, f"{name}.{key}", value, expected)
    return cls(**values)


def _validate(cfg: Config) -> None:
    p = cfg.source
    if not cfg.server.url.startswith(("http://", "https://")):
        raise ConfigError(p, "server.url", f"expected an http:// or https:// URL, got {cfg.server.url!r}")
    if cfg.server.timeout_s <= 0:
        raise ConfigError(p, "server.timeout_s", "expected a positive number of seconds")
    if not 1 <= cfg.counter.window_no <= 999:
        raise ConfigError(p, "counter.window_no", f"expected 1..999, got {cfg.counter.window_no}")
    if not cfg.counter.hall_code.strip():
        raise ConfigError(p, "counter.hall_code", "must not be empty")
    if cfg.counter.language not in LANGUAGES:
        raise ConfigError(p, "counter.language", f"expected one of {', '.join(LANGUAGES)}")
    if cfg.citizen_screen.rating_timeout_s < 5:
        raise ConfigError(p, "citizen_screen.rating_timeout_s", "expected at least 5 seconds")
    if cfg.printing.layout not in ("a4", "slip"):
        raise ConfigError(p, "printing.layout", f"expected 'a4' or 'slip', got {cfg.printing.layout!r}")
    if cfg.sync.interval_s <= 0:
        raise ConfigError(p, "sync.interval_s", "expected a positive number of seconds")
    if not 1 <= cfg.sync.batch_size <= 500:
        raise ConfigError(p, "sync.batch_size", "expected 1..500")


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    sections: dict[str, Any] = {}
    data_dir: Path | None = None
    for name, raw in data.items():
        if name == "data_dir":
            data_dir = Path(_coerce(source, "data_dir", raw, str)).expanduser()
            continue
        cls = _SECTIONS.get(name)
        if cls is None:
            known = ", ".join(sorted([*_SECTIONS, "data_dir"]))
            raise ConfigError(source, name, f"unknown section; known sections are: {known}")
        sections[name] = _section(source, name, raw, cls)
    cfg = Config(**sections, source=source)
    if data_dir is not None:
        cfg = dataclasses.replace(cfg, data_dir=data_dir)
    _validate(cfg)
    return cfg


def load_config(path: Path | None = None) -> Config:
    """Load ``path``, else the system-wide file if there is one, else the defaults."""
    if path is None:
        candidate = system_config_path()
        if not candidate.exists():
            return with_device_id(Config())
        path = candidate
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "file", "the configuration file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "file", f"cannot be read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "syntax", f"is not valid TOML: {exc}") from None
    return with_device_id(parse_config(data, path))


def with_device_id(cfg: Config) -> Config:
    """Give the config a stable device id: configured, else one remembered in the data dir."""
    if cfg.counter.device_id:
        return cfg
    id_file = cfg.data_dir / "device-id"
    try:
        device_id = id_file.read_text(encoding="ascii").strip()
    except OSError:
        device_id = ""
    if not device_id:
        device_id = uuid.uuid4().hex[:16]
        try:
            id_file.parent.mkdir(parents=True, exist_ok=True)
            id_file.write_text(device_id, encoding="ascii")
        except OSError:
            pass  # a read-only data dir is reported by the self-test; the id then lives for this run
    return dataclasses.replace(cfg, counter=dataclasses.replace(cfg.counter, device_id=device_id))
