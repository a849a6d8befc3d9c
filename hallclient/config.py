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

from hallclient.i18n import LANGUAGES, N_, _


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
    # 重呼: how often one number may be called again before it must be treated as 过号.
    max_recalls: int = 3
    # The overdue panel warns this many working days before a promised completion date.
    overdue_warning_days: int = 2


@dataclass(frozen=True)
class DecisionsConfig:
    """What the notices state that is the hall's to set, not the law's."""

    # 补正期限 printed on the 一次性补正告知书, in working days (0: no deadline printed).
    correction_working_days: int = 10
    # Where corrected materials are brought; empty: this hall and window.
    correction_bring_to: str = ""
    # 不予受理通知书: the bodies the citizen may turn to (行政复议 / 行政诉讼).
    reconsideration_body: str = "本机关所属的县级以上地方人民政府"
    court: str = "有管辖权的人民法院"


@dataclass(frozen=True)
class CitizenScreenConfig:
    screen_name: str = ""
    rating_timeout_s: int = 60
    large_font: bool = False
    # Working days a 不满意/非常不满意 rating's follow-up (整改) may take; provinces set their own.
    follow_up_working_days: int = 5


@dataclass(frozen=True)
class PrintingConfig:
    hall_name: str = ""
    letterhead: str = ""
    seal_image: str = ""
    a4_printer: str = ""
    # The 80 mm thermal printer for slips (queue tickets, and papers when layout = "slip").
    slip_printer: str = ""
    signing_key_file: str = ""
    layout: str = "a4"


@dataclass(frozen=True)
class SecurityConfig:
    # An offline sign-in uses the verifier cached at the last online sign-in, for this many days.
    offline_login_days: int = 7
    # Wrong passwords in a row (offline sign-in and unlock) before the account waits lockout_minutes.
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    # The clerk window locks (and the citizen screen blanks) after this many idle minutes; 0: never.
    idle_lock_minutes: int = 10
    # Citizens' personal data is purged locally this many days after the server acknowledged it.
    retention_days: int = 30
    # The device data key file when the OS keystore is not available; empty: the system config dir.
    key_file: str = ""


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
    decisions: DecisionsConfig = field(default_factory=DecisionsConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    data_dir: Path = field(default_factory=default_data_dir)
    source: Path | None = None


_SECTIONS: dict[str, type[Any]] = {
    "server": ServerConfig,
    "counter": CounterConfig,
    "citizen_screen": CitizenScreenConfig,
    "printing": PrintingConfig,
    "decisions": DecisionsConfig,
    "security": SecurityConfig,
    "sync": SyncConfig,
}

_TYPE_NAMES = {str: N_("字符串"), int: N_("整数"), float: N_("数字"), bool: N_("true 或 false")}


def system_config_path() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "hallclient" / "config.toml"
    return Path("/etc/hallclient/config.toml")


def _coerce(path: Path | None, key: str, value: Any, expected: type[Any]) -> Any:
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, bool):
        raise ConfigError(
            path, key, _("应为{kind}，实际为 {value!r}").format(kind=_(_TYPE_NAMES[int]), value=value)
        )
    if not isinstance(value, expected):
        raise ConfigError(
            path, key, _("应为{kind}，实际为 {value!r}").format(kind=_(_TYPE_NAMES[expected]), value=value)
        )
    return value


def _section(path: Path | None, name: str, raw: Any, cls: type[Any]) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(path, name, _("应为一个配置节（[节名] 下面若干键）"))
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(path, f"{name}.{key}", _("未知的配置项；可用的有：{known}").format(known=known))
        expected = type(getattr(cls(), key))
        values[key] = _coerce(path, f"{name}.{key}", value, expected)
    return cls(**values)


def _validate(cfg: Config) -> None:
    p = cfg.source
    if not cfg.server.url.startswith(("http://", "https://")):
        raise ConfigError(
            p,
            "server.url",
            _("应为 http:// 或 https:// 开头的地址，实际为 {url!r}").format(url=cfg.server.url),
        )
    if cfg.server.timeout_s <= 0:
        raise ConfigError(p, "server.timeout_s", _("应为大于 0 的秒数"))
    if not 1 <= cfg.counter.window_no <= 999:
        raise ConfigError(
            p, "counter.window_no", _("应为 1 到 999，实际为 {value}").format(value=cfg.counter.window_no)
        )
    if not cfg.counter.hall_code.strip():
        raise ConfigError(p, "counter.hall_code", _("不能为空"))
    if cfg.counter.language not in LANGUAGES:
        raise ConfigError(
            p, "counter.language", _("应为以下之一：{choices}").format(choices=", ".join(LANGUAGES))
        )
    if not 0 <= cfg.counter.max_recalls <= 10:
        raise ConfigError(p, "counter.max_recalls", _("应为 0 到 10 次"))
    if not 0 <= cfg.counter.overdue_warning_days <= 30:
        raise ConfigError(p, "counter.overdue_warning_days", _("应为 0 到 30 个工作日"))
    if not 0 <= cfg.decisions.correction_working_days <= 60:
        raise ConfigError(
            p, "decisions.correction_working_days", _("应为 0 到 60 个工作日（0 表示不写期限）")
        )
    for key in ("reconsideration_body", "court"):
        if not getattr(cfg.decisions, key).strip():
            raise ConfigError(p, f"decisions.{key}", _("不能为空：不予受理通知书必须写明救济途径"))
    sec = cfg.security
    if not 0 <= sec.offline_login_days <= 30:
        raise ConfigError(p, "security.offline_login_days", _("应为 0 到 30 天（0 表示不允许离线登录）"))
    if not 1 <= sec.max_failed_logins <= 20:
        raise ConfigError(p, "security.max_failed_logins", _("应为 1 到 20 次"))
    if not 1 <= sec.lockout_minutes <= 1440:
        raise ConfigError(p, "security.lockout_minutes", _("应为 1 到 1440 分钟"))
    if not 0 <= sec.idle_lock_minutes <= 240:
        raise ConfigError(p, "security.idle_lock_minutes", _("应为 0 到 240 分钟（0 表示不自动锁屏）"))
    if not 1 <= sec.retention_days <= 3650:
        raise ConfigError(p, "security.retention_days", _("应为 1 到 3650 天"))
    if not 1 <= cfg.citizen_screen.follow_up_working_days <= 60:
        raise ConfigError(p, "citizen_screen.follow_up_working_days", _("应为 1 到 60 个工作日"))
    if cfg.citizen_screen.rating_timeout_s < 5:
        raise ConfigError(p, "citizen_screen.rating_timeout_s", _("至少 5 秒"))
    if cfg.printing.layout not in ("a4", "slip"):
        raise ConfigError(
            p, "printing.layout", _("应为 a4 或 slip，实际为 {value!r}").format(value=cfg.printing.layout)
        )
    if cfg.sync.interval_s <= 0:
        raise ConfigError(p, "sync.interval_s", _("应为大于 0 的秒数"))
    if not 1 <= cfg.sync.batch_size <= 500:
        raise ConfigError(p, "sync.batch_size", _("应为 1 到 500"))


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
            raise ConfigError(source, name, _("未知的配置节；可用的有：{known}").format(known=known))
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
        raise ConfigError(path, "file", _("配置文件不存在")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "file", _("无法读取：{error}").format(error=exc)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "syntax", _("不是有效的 TOML：{error}").format(error=exc)) from None
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
