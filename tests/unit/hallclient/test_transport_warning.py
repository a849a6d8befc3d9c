"""Plain http beyond loopback is said to the clerk at sign-in; https and loopback are quiet."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hallclient.api import PlatformClient
from hallclient.config import Config, ServerConfig
from hallclient.counter import Counter
from hallclient.crypto import FieldCipher, load_or_create_key
from hallclient.events import EventBus
from hallclient.store import Store
from hallclient.workdays import WorkCalendar


def counter_for(url: str, tmp_path: Path) -> Counter:
    config = dataclasses.replace(Config(), server=ServerConfig(url=url), data_dir=tmp_path)
    store = Store(tmp_path / "c.sqlite", FieldCipher(load_or_create_key(tmp_path / "k")))
    return Counter(config, store, PlatformClient(url), EventBus(), WorkCalendar())


@pytest.mark.parametrize("url", ["http://10.20.0.5:8470", "http://hall-server.example.gov.cn"])
def test_plain_http_to_another_machine_is_a_visible_warning(url: str, tmp_path: Path) -> None:
    (warning,) = counter_for(url, tmp_path)._transport_warnings()
    assert "未加密" in warning and "https" in warning


@pytest.mark.parametrize(
    "url", ["https://hall-server.example.gov.cn", "http://127.0.0.1:8470", "http://localhost:8470"]
)
def test_https_and_loopback_need_no_warning(url: str, tmp_path: Path) -> None:
    assert counter_for(url, tmp_path)._transport_warnings() == ()
