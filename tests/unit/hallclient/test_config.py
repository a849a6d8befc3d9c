from __future__ import annotations

from pathlib import Path

import pytest

from hallclient.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_full_config_loads(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            f"""
data_dir = "{tmp_path / "data"}"
[server]
url = "https://hall.example.gov.cn"
timeout_s = 3
[counter]
hall_code = "HZ01"
window_no = 7
device_id = "dev-7"
[citizen_screen]
rating_timeout_s = 45
""",
        )
    )
    assert cfg.server.url == "https://hall.example.gov.cn"
    assert cfg.server.timeout_s == 3.0
    assert cfg.counter.window_no == 7
    assert cfg.counter.device_id == "dev-7"
    assert cfg.citizen_screen.rating_timeout_s == 45
    assert cfg.data_dir == tmp_path / "data"


def test_typo_in_key_names_file_key_and_known_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "[counter]\nwindow_number = 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "counter.window_number" in msg
    assert "window_no" in msg  # tells what the right key is


def test_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[counter.window_no\] 应为整数，实际为 '3'"):
        load_config(write(tmp_path, '[counter]\nwindow_no = "3"\n'))


def test_out_of_range_window(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="counter.window_no.*1 到 999"):
        load_config(write(tmp_path, "[counter]\nwindow_no = 0\n"))


def test_unknown_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="未知的配置节"):
        load_config(write(tmp_path, "[printer]\nname = 'x'\n"))


def test_bad_toml_syntax(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="不是有效的 TOML"):
        load_config(write(tmp_path, "[server\nurl = 1\n"))


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="配置文件不存在") as err:
        load_config(missing)
    assert str(missing) in str(err.value)


def test_bad_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="server.url"):
        load_config(write(tmp_path, '[server]\nurl = "hall.local:8470"\n'))


def test_device_id_is_generated_once_and_remembered(tmp_path: Path) -> None:
    path = write(tmp_path, f'data_dir = "{tmp_path / "d"}"\n')
    first = load_config(path).counter.device_id
    assert first
    assert load_config(path).counter.device_id == first
