"""A counter's real core services pointed at a live hallserver, for integration and ui tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from helpers.live_server import LiveServer

from hallclient.config import (
    CitizenScreenConfig,
    Config,
    CounterConfig,
    PrintingConfig,
    SecurityConfig,
    ServerConfig,
    SyncConfig,
)
from hallclient.services import Services, build_services

DEMO_USER = "clerk1"
DEMO_PASSWORD = "demo1234"


@dataclass
class CounterRig:
    config: Config
    services: Services
    server: LiveServer

    def close(self) -> None:
        self.services.close()


def make_config(server: LiveServer, folder: Path, *, window_no: int = 1, timeout_s: float = 3.0) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "hall-signing.key"
    key_file.write_text(server.hall_key, encoding="ascii")
    return Config(
        server=ServerConfig(url=server.url, timeout_s=timeout_s),
        counter=CounterConfig(
            hall_code="DEMO", window_no=window_no, device_id=f"test-window-{window_no:02d}"
        ),
        citizen_screen=CitizenScreenConfig(rating_timeout_s=30),
        printing=PrintingConfig(signing_key_file=str(key_file)),
        sync=SyncConfig(interval_s=0.5),
        security=SecurityConfig(key_file=str(folder / "device.key")),
        data_dir=folder / "data",
    )


def make_rig(server: LiveServer, folder: Path, *, window_no: int = 1) -> CounterRig:
    config = make_config(server, folder, window_no=window_no)
    return CounterRig(config, build_services(config), server)
