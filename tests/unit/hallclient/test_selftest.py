"""`hallclient self-test`: each check finds what it should, and says what to do when it fails."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import os
import socket
import sqlite3
import sys
from pathlib import Path

import pytest
from helpers.live_server import LiveServer

from hallclient import selftest
from hallclient.config import Config, CounterConfig, PrintingConfig, SecurityConfig, ServerConfig
from hallclient.localdb import SCHEMA_VERSION
from hallclient.selftest import Check, QtProbe, Status
from hallclient.signing import generate_private_key, public_key_of


def _config(tmp_path: Path, **sections: object) -> Config:
    return dataclasses.replace(Config(data_dir=tmp_path / "data"), **sections)  # type: ignore[arg-type]


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


# -- configuration ----------------------------------------------------------------------------


def test_valid_config_is_ok_and_summarised(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[server]\nurl = "https://zwfw.example.gov.cn"\n'
        '[counter]\nhall_code = "330106"\nwindow_no = 12\n',
        encoding="utf-8",
    )
    check, cfg = selftest.check_config(path)
    assert check.status is Status.OK and cfg is not None
    assert "330106" in check.detail and "12 号窗口" in check.detail and "https://zwfw" in check.detail


def test_broken_config_fails_naming_the_key_and_skips_what_needs_it(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[counter]\nwindow_no = 1000\n", encoding="utf-8")
    checks = selftest.run_checks(path, today=dt.date(2026, 3, 2))
    by_name = _by_name(checks)
    assert by_name["配置文件"].status is Status.FAIL
    assert "[counter.window_no]" in by_name["配置文件"].detail and str(path) in by_name["配置文件"].detail
    assert by_name["配置文件"].hint
    for name in ("数据目录", "本机数据库", "服务器", "本机时间"):
        assert by_name[name].status is Status.SKIP
    assert by_name["打印字体"].status is Status.OK  # resources are checked all the same
    assert selftest.exit_code(checks) == 1


# -- resources ----------------------------------------------------------------------------


def test_bundled_resources_are_found_and_usable() -> None:
    by_name = _by_name(selftest.check_resources(dt.date(2026, 3, 2)))
    assert by_name["资源目录"].status is Status.OK
    assert by_name["打印字体"].status is Status.OK
    assert by_name["节假日安排"].status is Status.OK and "2026" in by_name["节假日安排"].detail


def test_a_year_without_a_holiday_schedule_fails_and_next_year_warns_from_october() -> None:
    missing = _by_name(selftest.check_resources(dt.date(2031, 5, 6)))["节假日安排"]
    assert missing.status is Status.FAIL and "2031" in missing.detail and missing.hint
    december = _by_name(selftest.check_resources(dt.date(2026, 12, 1)))["节假日安排"]
    assert december.status is Status.WARN and "2027" in december.detail


def test_only_truetype_fonts_with_glyf_outlines_pass(tmp_path: Path) -> None:
    cff = tmp_path / "cff.otf"
    cff.write_bytes(b"OTTO" + b"\x00\x01" + b"\x00" * 6 + b"CFF " + b"\x00" * 12)
    assert "TrueType" in selftest._truetype_problem(cff)
    no_glyf = tmp_path / "noglyf.ttf"
    no_glyf.write_bytes(b"\x00\x01\x00\x00" + b"\x00\x01" + b"\x00" * 6 + b"CFF " + b"\x00" * 12)
    assert "glyf" in selftest._truetype_problem(no_glyf)


# -- data folder, database, keys ------------------------------------------------------------


def test_data_dir_writable_is_ok_and_an_impossible_one_fails(tmp_path: Path) -> None:
    ok = selftest.check_data_dir(_config(tmp_path))
    assert ok.status is Status.OK and "可写" in ok.detail
    assert not list((tmp_path / "data").iterdir()), "the probe file must not stay behind"
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    bad = selftest.check_data_dir(dataclasses.replace(Config(), data_dir=blocker / "data"))
    assert bad.status is Status.FAIL and "data_dir" in bad.hint


def _make_db(path: Path, version: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.execute(f"PRAGMA user_version = {version}")
    con.commit()
    con.close()


def test_local_database_missing_sound_damaged_or_too_new(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    db = cfg.data_dir / "counter.sqlite"
    assert selftest.check_local_db(cfg).status is Status.OK
    _make_db(db, SCHEMA_VERSION)
    sound = selftest.check_local_db(cfg)
    assert sound.status is Status.OK and f"结构版本 {SCHEMA_VERSION}" in sound.detail
    db.unlink()
    _make_db(db, SCHEMA_VERSION + 1)
    assert selftest.check_local_db(cfg).status is Status.FAIL
    db.write_bytes(b"this is not a database" * 100)
    damaged = selftest.check_local_db(cfg)
    assert damaged.status is Status.FAIL and "不要删除" in damaged.hint


def test_device_key_file_states(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "device.key"
    cfg = _config(tmp_path, security=SecurityConfig(key_file=str(key_file)))
    assert selftest.check_device_key(cfg).status is Status.OK  # created on first start
    _make_db(cfg.data_dir / "counter.sqlite", SCHEMA_VERSION)
    lost = selftest.check_device_key(cfg)
    assert lost.status is Status.FAIL and "备份" in lost.hint
    key_file.parent.mkdir(parents=True)
    key_file.write_bytes(base64.b64encode(os.urandom(32)))
    key_file.chmod(0o600)
    assert selftest.check_device_key(cfg).status is Status.OK
    key_file.chmod(0o644)
    loose = selftest.check_device_key(cfg)
    assert loose.status is Status.WARN and "chmod 600" in loose.hint
    key_file.write_bytes(b"short")
    assert selftest.check_device_key(cfg).status is Status.FAIL


def test_signing_key_unset_valid_and_garbage(tmp_path: Path) -> None:
    assert selftest.check_signing_key(_config(tmp_path)).status is Status.WARN
    key = generate_private_key()
    path = tmp_path / "hall.key"
    path.write_text(key + "\n", encoding="ascii")
    ok = selftest.check_signing_key(_config(tmp_path, printing=PrintingConfig(signing_key_file=str(path))))
    assert ok.status is Status.OK and public_key_of(key)[:16] in ok.detail
    path.write_text("not a key", encoding="ascii")
    bad = selftest.check_signing_key(_config(tmp_path, printing=PrintingConfig(signing_key_file=str(path))))
    assert bad.status is Status.FAIL
    gone = _config(tmp_path, printing=PrintingConfig(signing_key_file=str(tmp_path / "nowhere.key")))
    assert selftest.check_signing_key(gone).status is Status.FAIL


# -- server and clock -----------------------------------------------------------------------


def test_server_reachable_with_version_and_clock(live_server: LiveServer, tmp_path: Path) -> None:
    cfg = _config(tmp_path, server=ServerConfig(url=live_server.url, timeout_s=5))
    by_name = _by_name(selftest.check_server(cfg))
    assert by_name["服务器"].status is Status.OK and "服务器版本" in by_name["服务器"].detail
    assert by_name["TLS 证书"].status is Status.WARN  # plain http
    assert by_name["本机时间"].status is Status.OK


def test_clock_skew_beyond_two_minutes_fails(live_server: LiveServer, tmp_path: Path) -> None:
    cfg = _config(tmp_path, server=ServerConfig(url=live_server.url, timeout_s=5))
    fast = _by_name(
        selftest.check_server(cfg, clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=7))
    )
    assert fast.get("本机时间") and fast["本机时间"].status is Status.FAIL
    assert "快" in fast["本机时间"].detail and "NTP" in fast["本机时间"].hint


def test_unreachable_server_fails_with_a_network_hint(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = _config(tmp_path, server=ServerConfig(url=f"http://127.0.0.1:{port}", timeout_s=2))
    by_name = _by_name(selftest.check_server(cfg))
    assert by_name["服务器"].status is Status.FAIL and "防火墙" in by_name["服务器"].hint
    assert by_name["本机时间"].status is Status.SKIP


def test_missing_ca_bundle_is_named(tmp_path: Path) -> None:
    cfg = _config(tmp_path, server=ServerConfig(url="https://x.invalid", ca_bundle=str(tmp_path / "ca.pem")))
    (check,) = selftest.check_server(cfg)
    assert check.status is Status.FAIL and "ca.pem" in check.detail


# -- the Qt probe's facts -----------------------------------------------------------------

TWO_SCREENS = {
    "platform": "xcb",
    "screens": [
        {"name": "HDMI-1", "width": 1920, "height": 1080, "primary": True},
        {"name": "DP-1", "width": 1280, "height": 800, "primary": False},
    ],
    "citizen": "DP-1",
    "cjk_fonts": ["Noto Sans CJK SC", "WenQuanYi Micro Hei"],
    "printers": ["HP_LaserJet", "Receipt80"],
    "default_printer": "HP_LaserJet",
}


def test_a_ready_counter_passes_every_qt_check(tmp_path: Path) -> None:
    by_name = _by_name(selftest.qt_checks(QtProbe(facts=TWO_SCREENS), _config(tmp_path)))
    assert {c.status for c in by_name.values()} == {Status.OK}
    assert "群众评价屏：DP-1" in by_name["显示器"].detail
    assert "HP_LaserJet" in by_name["打印机"].detail


def test_qt_problems_each_get_their_own_fix(tmp_path: Path) -> None:
    facts = {
        **TWO_SCREENS,
        "platform": "offscreen",
        "screens": TWO_SCREENS["screens"][:1],
        "citizen": None,
        "cjk_fonts": [],
        "printers": [],
    }
    by_name = _by_name(selftest.qt_checks(QtProbe(facts=facts), _config(tmp_path)))
    assert by_name["Qt 平台插件"].status is Status.WARN
    assert by_name["显示器"].status is Status.WARN and "第二块显示器" in by_name["显示器"].hint
    assert by_name["界面字体"].status is Status.FAIL and "fonts-noto-cjk" in by_name["界面字体"].hint
    assert by_name["打印机"].status is Status.WARN


def test_configured_screen_and_printer_that_are_not_there(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    cfg = dataclasses.replace(
        cfg,
        citizen_screen=dataclasses.replace(cfg.citizen_screen, screen_name="HDMI-2"),
        printing=PrintingConfig(a4_printer="Canon_A4"),
    )
    by_name = _by_name(selftest.qt_checks(QtProbe(facts=TWO_SCREENS), cfg))
    assert by_name["显示器"].status is Status.WARN and "HDMI-2" in by_name["显示器"].detail
    assert by_name["打印机"].status is Status.FAIL and "Canon_A4" in by_name["打印机"].detail


def test_a_probe_that_cannot_start_qt_fails_the_platform_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    error = 'qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" even though it was found.'
    by_name = _by_name(selftest.qt_checks(QtProbe(error=error), _config(tmp_path)))
    assert by_name["Qt 平台插件"].status is Status.FAIL and "libxcb-cursor0" in by_name["Qt 平台插件"].hint
    assert by_name["显示器"].status is Status.SKIP


def test_run_qt_probe_reads_the_json_line_or_the_error() -> None:
    ok = selftest.run_qt_probe(
        [sys.executable, "-c", "print('noise'); print('{\"platform\": \"xcb\"}')"], timeout_s=30
    )
    assert ok.facts == {"platform": "xcb"} and not ok.error
    crashed = selftest.run_qt_probe(
        [
            sys.executable,
            "-c",
            "import sys; sys.stderr.write('could not connect to display\\n'); sys.exit(134)",
        ],
        timeout_s=30,
    )
    assert not crashed.facts and "134" in crashed.error and "could not connect to display" in crashed.error


# -- output ---------------------------------------------------------------------------------


def test_table_aligns_chinese_names_and_puts_the_fix_under_failures() -> None:
    checks = [
        Check("配置文件", Status.OK, "/etc/hallclient/config.toml"),
        Check("TLS 证书", Status.WARN, "使用 http://", "改用 https://"),
        Check("服务器", Status.FAIL, "无法连接", "检查网络"),
    ]
    lines = selftest.render_table(checks).splitlines()
    rows = [line for line in lines if line.startswith("[")]
    assert [r[:6] for r in rows] == ["[ OK ]", "[WARN]", "[FAIL]"]
    details = [selftest._width(r[: r.index(c.detail)]) for r, c in zip(rows, checks, strict=True)]
    assert len(set(details)) == 1, "the detail column starts at the same width on every line"
    assert any("→ 处理：检查网络" in line for line in lines)
    assert "1 项失败" in lines[-1]
    assert selftest.exit_code(checks) == 1
    assert selftest.exit_code(checks[:2]) == 0


def test_json_output_for_fleet_tools() -> None:
    data = json.loads(selftest.render_json([Check("服务器", Status.FAIL, "无法连接", "检查网络")]))
    assert data["ok"] is False
    assert data["checks"] == [{"name": "服务器", "status": "fail", "detail": "无法连接", "hint": "检查网络"}]


def test_run_checks_with_a_probe_covers_every_line(live_server: LiveServer, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[server]\nurl = "{live_server.url}"\n'
        f'[security]\nkey_file = "{tmp_path / "device.key"}"\n',
        encoding="utf-8",
    )
    seen: list[Config | None] = []

    def probe(cfg: Config | None) -> QtProbe:
        seen.append(cfg)
        return QtProbe(facts=TWO_SCREENS)

    checks = selftest.run_checks(path, qt_probe=probe, today=dt.date(2026, 3, 2))
    assert seen and seen[0] is not None and seen[0].source == path
    names = [c.name for c in checks]
    for expected in (
        "配置文件",
        "Qt 平台插件",
        "显示器",
        "界面字体",
        "打印机",
        "资源目录",
        "打印字体",
        "节假日安排",
        "界面翻译",
        "数据目录",
        "本机数据库",
        "本机数据密钥",
        "文书签名密钥",
        "服务器",
        "TLS 证书",
        "本机时间",
    ):
        assert expected in names
    assert selftest.exit_code(checks) == 0, selftest.render_table(checks)


def test_counter_config_defaults_match_what_the_checks_name() -> None:
    # The hints name config keys; they must exist (a renamed key would send IT staff astray).
    assert {"signing_key_file", "a4_printer"} <= {f.name for f in dataclasses.fields(PrintingConfig)}
    assert {"ca_bundle", "timeout_s", "url"} <= {f.name for f in dataclasses.fields(ServerConfig)}
    assert {"key_file"} <= {f.name for f in dataclasses.fields(SecurityConfig)}
    assert {"window_no", "hall_code"} <= {f.name for f in dataclasses.fields(CounterConfig)}
