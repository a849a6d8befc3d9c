"""What IT staff see from `hallclient` with a broken configuration: a sentence, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_client(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ui.main", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("toml", "key", "words"),
    [
        ("[counter]\nwindow_nr = 3\n", "counter.window_nr", "未知的配置项"),
        ('[counter]\nwindow_no = "3"\n', "counter.window_no", "应为整数"),
        ('[sever]\nurl = "http://x"\n', "sever", "未知的配置节"),
        ('[server]\nurl = "zwfw.example.gov.cn"\n', "server.url", "http://"),
        ("[counter\n", "syntax", "不是有效的 TOML"),
    ],
)
def test_config_typo_names_file_key_and_expectation(tmp_path: Path, toml: str, key: str, words: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(toml, encoding="utf-8")
    done = run_client("--config", str(config))
    assert done.returncode == 2
    assert str(config) in done.stderr and f"[{key}]" in done.stderr and words in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    done = run_client("--config", str(missing))
    assert done.returncode == 2 and str(missing) in done.stderr and "配置文件不存在" in done.stderr
