"""The installers as IT staff use them: `make dist deb nsis`, the frozen program, the .deb installed.

The PyInstaller bundle and the .deb are built once per session with the Makefile's own targets
(a few minutes, most of it zstd -19). The .deb is then installed with dpkg into a throwaway
root: an overlay of this machine's / in a private mount namespace, so dpkg, debconf and
/etc on the machine itself are never touched. The NSIS script is compiled with Debian's makensis
against a stand-in payload (the real one is built on Windows).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from helpers.live_server import LiveServer

from hallclient.config import parse_config

REPO = Path(__file__).resolve().parents[2]
INSTALLER = REPO / "installer"
TEMPLATE = INSTALLER / "config.toml"
TOML_SH = INSTALLER / "linux" / "debian" / "toml.sh"
SIZE_BUDGET = 60_000_000  # bytes: "<= 60 MB" for the .deb
ENV_KEYS = ("HALLCLIENT_SERVER", "HALLCLIENT_HALL", "HALLCLIENT_WINDOW")


def _installer_config() -> ModuleType:
    spec = importlib.util.spec_from_file_location("installer_config", INSTALLER / "installer_config.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


installer_config = _installer_config()


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.update(extra)
    return env


# -- the config template and the two key writers (no build needed) ------------------------


def test_config_template_is_valid_as_shipped_and_with_every_default_uncommented() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    shipped = parse_config(tomllib.loads(text), TEMPLATE)
    assert (shipped.server.url, shipped.counter.hall_code, shipped.counter.window_no) == (
        "http://127.0.0.1:8470",
        "DEMO",
        1,
    )
    # Every "# key = value" and "# [section]" line is a default shown to the admin: uncommented,
    # they must still be a valid config with those defaults (a renamed key fails here).
    uncommented = re.sub(r"^# (\[?[a-z_]+\]?( = .*)?)$", r"\1", text, flags=re.M)
    full = parse_config(tomllib.loads(uncommented), TEMPLATE)
    assert full == shipped


CASES = [
    # (file text, section, key, TOML value)
    ('[server]\nurl = "http://a"\n\n[counter]\nwindow_no = 1\n', "server", "url", '"https://b"'),
    ('[server]\nurl = "http://a"\n\n[counter]\nwindow_no = 1\n', "counter", "window_no", "12"),
    ('[server]\nurl = "http://a"\n', "counter", "hall_code", '"330106"'),
    ("[counter] # the counter\nwindow_no=4 # was 3\n[sync]\n", "counter", "window_no", "5"),
    ('[counter]\n# window_no = 1\nhall_code = "X"\n', "counter", "window_no", "9"),
    ('[printing]\nhall_name = "某某市政务服务中心"\n[counter]\n', "counter", "hall_code", '"A-1"'),
    ('[server]\nurl = "http://a"', "server", "url", '"http://c"'),  # no final newline
]


def _sh(script: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", f". {TOML_SH}; {script}", "sh", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize(("text", "section", "key", "value"), CASES)
def test_deb_and_windows_key_writers_agree(
    tmp_path: Path, text: str, section: str, key: str, value: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    done = _sh('toml_set "$1" "$2" "$3" "$4"', str(path), section, key, value)
    assert done.returncode == 0, done.stderr
    by_shell = path.read_text(encoding="utf-8")
    by_python = installer_config.toml_set(text, section, key, value)
    assert by_shell == by_python
    parsed = tomllib.loads(by_python)
    assert parsed[section][key] == tomllib.loads(f"v = {value}")["v"]
    got = _sh('toml_get "$1" "$2" "$3"', str(path), section, key).stdout.strip()
    assert got == installer_config.toml_get(by_python, section, key) == str(parsed[section][key])
    # Every line that was there is still there.
    kept = [line for line in text.splitlines() if not re.match(rf"\s*{key}\s*=", line)]
    assert all(line in by_python.splitlines() for line in kept)


@pytest.mark.parametrize(
    ("server", "hall", "window", "ok"),
    [
        ("https://zwfw.example.gov.cn:8470/api", "330106", "12", True),
        ("http://[::1]:8470", "DEMO_2.a-b", "999", True),
        ("ftp://x", "", "", False),
        ('http://a"b', "", "", False),
        ("http://a b", "", "", False),
        ("", "有中文", "", False),
        ("", "x" * 33, "", False),
        ("", "", "0", False),
        ("", "", "1000", False),
        ("", "", "07", False),
    ],
)
def test_deb_and_windows_validators_agree(server: str, hall: str, window: str, ok: bool) -> None:
    assert (not installer_config.problems(server, hall, window)) is ok
    checks = [("valid_server", server), ("valid_hall", hall), ("valid_window", window)]
    shell_ok = all(_sh(f'{fn} "$1"', value).returncode == 0 for fn, value in checks if value)
    assert shell_ok is ok


def test_windows_config_writer_creates_then_edits_in_place(tmp_path: Path) -> None:
    config = tmp_path / "ProgramData" / "hallclient" / "config.toml"
    args = [str(config), str(TEMPLATE)]
    assert (
        installer_config.main([*args, "--server", "https://h.example", "--hall", "330106", "--window", "7"])
        == 0
    )
    cfg = parse_config(tomllib.loads(config.read_text(encoding="utf-8")))
    assert (cfg.server.url, cfg.counter.hall_code, cfg.counter.window_no) == (
        "https://h.example",
        "330106",
        7,
    )
    assert "窗口端配置" in config.read_text(encoding="utf-8"), "the template's Chinese comments survive"
    edited = config.read_text(encoding="utf-8").replace("# large_font = false", "large_font = true")
    config.write_text(edited, encoding="utf-8")
    assert installer_config.main([*args, "--window", "8"]) == 0  # an upgrade with one new value
    after = config.read_text(encoding="utf-8")
    assert after == edited.replace("window_no = 7", "window_no = 8")
    assert installer_config.main([*args, "--window", "abc"]) == 2
    assert config.read_text(encoding="utf-8") == after, "an invalid value writes nothing"


# -- built once per session ---------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    dist: Path
    bundle: Path
    deb: Path
    seconds: float


def _make(*targets: str, dist: Path, build: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-C", str(REPO), *targets, f"DIST_DIR={dist}", f"BUILD_DIR={build}"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _tools_or_skip(done: subprocess.CompletedProcess[str], tools: tuple[str, ...]) -> None:
    """A failed build is a failure, unless a tool it needs could not be installed at all."""
    if done.returncode == 0:
        return
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} could not be installed on this machine:\n{done.stderr[-1500:]}")
    pytest.fail(f"make failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("installer")
    dist, build = base / "dist", base / "build"
    started = time.monotonic()
    done = _make("deb", dist=dist, build=build, timeout=1800)
    _tools_or_skip(done, ("objdump", "strip", "dpkg-deb"))
    shutil.rmtree(build, ignore_errors=True)  # PyInstaller's work files: ~200 MB, not needed now
    (deb,) = dist.glob("hallclient_*.deb")
    return Built(dist, dist / "hallclient", deb, time.monotonic() - started)


def _elf_files(root: Path) -> list[Path]:
    out = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    out.append(path)
    return out


@pytest.mark.slow
def test_bundle_has_the_client_and_nothing_it_does_not_use(built: Built) -> None:
    internal = built.bundle / "_internal"
    assert (built.bundle / "hallclient").is_file()
    for present in ("ui", "hallclient", "printing", "hallserver", "PySide6"):
        assert (internal / present).is_dir(), f"{present} missing from the bundle"
    assert (internal / "hallserver" / "migrations" / "env.py").is_file(), "the demo server's migrations"
    for absent in ("psycopg", "psycopg_binary", "openpyxl", "pytest", "_pytest", "PyInstaller", "hypothesis"):
        assert not (internal / absent).exists(), f"{absent} is bundled but a counter never needs it"
    # Resources, found through hallclient/resources.py under sys._MEIPASS.
    res = internal / "resources"
    assert (res / "fonts" / "DroidSansFallbackFull.ttf").is_file()
    assert list((res / "calendars").glob("cn-*.json"))
    assert (res / "translations" / "en" / "LC_MESSAGES" / "hallclient.mo").is_file()
    assert not list(res.rglob("*.po")), "translation sources are not shipped"
    qt = internal / "PySide6" / "Qt"
    plugin_dirs = {p.name for p in (qt / "plugins").iterdir()}
    assert plugin_dirs <= {
        "platforms",
        "xcbglintegrations",
        "platforminputcontexts",
        "imageformats",
        "iconengines",
        "printsupport",
        "texttospeech",
    }, plugin_dirs
    assert {p.name for p in (qt / "plugins" / "platforms").iterdir()} <= {
        "libqxcb.so",
        "libqoffscreen.so",
        "libqminimal.so",
    }
    assert {p.name for p in (qt / "translations").iterdir()} <= {
        "qtbase_zh_CN.qm",
        "qt_zh_CN.qm",
        "qtbase_en.qm",
        "qt_en.qm",
    }
    libs = {p.name for p in internal.rglob("lib*.so*")}
    # Qt Quick/QML and FFmpeg come only with the camera backend, left out of the default Linux build.
    unused = [n for n in libs if n.startswith(("libQt6Qml", "libQt6Quick", "libQt6Wayland", "libavcodec"))]
    assert not unused, unused
    # System libraries are the target's (named in Depends), not copies of the build machine's.
    for system in ("libX11.so.6", "libfontconfig.so.1", "libcups.so.2", "libpulse.so.0", "libglib-2.0.so.0"):
        assert system not in libs, f"{system} bundled"
    unstripped = [
        p.relative_to(built.bundle)
        for p in _elf_files(built.bundle)
        if ".symtab"
        in subprocess.run(["readelf", "-S", "-W", str(p)], capture_output=True, text=True, check=True).stdout
    ]
    assert not unstripped, f"not stripped: {unstripped[:5]}"
    raw = sum(p.lstat().st_size for p in built.bundle.rglob("*") if p.is_file())
    assert raw < 250_000_000, f"bundle is {raw / 1e6:.0f} MB"


def _frozen(built: Built, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(built.bundle / "hallclient"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=_clean_env(**env),
        cwd=built.dist,
    )


@pytest.mark.slow
def test_frozen_program_starts_quickly_and_knows_its_commands(built: Built) -> None:
    started = time.monotonic()
    done = _frozen(built, "--help")
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "self-test" in done.stdout and "demo" in done.stdout
    assert elapsed < 5, f"--help took {elapsed:.2f} s"
    server = _frozen(built, "-m", "hallserver", "--help")  # how `hallclient demo` starts its server
    assert server.returncode == 0 and "serve" in server.stdout, server.stderr


@pytest.mark.slow
def test_frozen_self_test_passes_against_a_live_server(
    built: Built, live_server: LiveServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[server]\nurl = "{live_server.url}"\n'
        f'[security]\nkey_file = "{tmp_path / "device.key"}"\n',
        encoding="utf-8",
    )
    done = _frozen(built, "--config", str(config), "self-test", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True
    assert checks["资源目录"]["detail"] == str(built.bundle / "_internal" / "resources")
    assert checks["打印字体"]["status"] == "ok" and checks["界面翻译"]["status"] == "ok"
    assert checks["Qt 平台插件"]["detail"].startswith("offscreen")  # the probe ran in the bundle
    assert "1-citizen" in checks["显示器"]["detail"]
    assert checks["服务器"]["status"] == "ok" and checks["本机时间"]["status"] == "ok"

    config.write_text(config.read_text(encoding="utf-8").replace(live_server.url, "http://127.0.0.1:9"))
    table = _frozen(built, "--config", str(config), "--self-test")
    assert table.returncode == 1
    assert "[FAIL] 服务器" in table.stdout and "→ 处理：" in table.stdout
    assert "Traceback" not in table.stdout + table.stderr


@pytest.mark.slow
def test_frozen_program_writes_the_windows_installer_values(built: Built, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    done = _frozen(
        built,
        "--installer-config",
        str(config),
        str(TEMPLATE),
        "--server",
        "https://h.example",
        "--window",
        "5",
    )
    assert done.returncode == 0, done.stderr
    cfg = parse_config(tomllib.loads(config.read_text(encoding="utf-8")))
    assert (cfg.server.url, cfg.counter.window_no) == ("https://h.example", 5)


# -- the .deb ---------------------------------------------------------------------------------


def _deb_field(deb: Path, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.slow
def test_deb_is_within_budget_with_launcher_menu_entry_icon_and_conffile(
    built: Built, tmp_path: Path
) -> None:
    size = built.deb.stat().st_size
    assert size <= SIZE_BUDGET, f".deb is {size / 1e6:.1f} MB, over the 60 MB budget"
    info = subprocess.run(
        ["dpkg-deb", "-I", str(built.deb)], capture_output=True, text=True, check=True
    ).stdout
    members = subprocess.run(["ar", "t", str(built.deb)], capture_output=True, text=True, check=True).stdout
    assert "data.tar.zst" in members.split(), members
    for member in ("conffiles", "postinst", "postrm", "config", "templates", "md5sums"):
        assert member in info
    depends = _deb_field(built.deb, "Depends")
    for needed in ("libc6 (>= 2.", "libxcb-cursor0", "libxkbcommon-x11-0", "libfontconfig1", "debconf"):
        assert needed in depends, depends
    assert "libcups2" in _deb_field(built.deb, "Recommends")
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(built.deb)], capture_output=True, text=True, check=True
    ).stdout
    entries = {line.split()[-1].removeprefix("."): line.split()[0] for line in listing.splitlines()}
    assert entries["/usr/bin/hallclient"].startswith("-rwxr-xr-x")
    assert entries["/opt/hallclient/hallclient"].startswith("-rwxr-xr-x")
    for path in (
        "/etc/hallclient/config.toml",
        "/usr/share/applications/hallclient.desktop",
        "/usr/share/icons/hicolor/256x256/apps/hallclient.png",
        "/usr/share/icons/hicolor/scalable/apps/hallclient.svg",
        "/opt/hallclient/share/config.toml.default",
        "/usr/share/doc/hallclient/copyright",
    ):
        assert path in entries, f"{path} not in the package"
    assert all(line.split()[1] == "root/root" for line in listing.splitlines())
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "-e", str(built.deb), str(control)], check=True)
    assert (control / "conffiles").read_text(encoding="utf-8").split() == ["/etc/hallclient/config.toml"]
    unpacked = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(built.deb), str(unpacked)], check=True)
    desktop = (unpacked / "usr/share/applications/hallclient.desktop").read_text(encoding="utf-8")
    assert "\nExec=hallclient\n" in desktop and "\nIcon=hallclient\n" in desktop
    assert "Name[zh_CN]=政务服务窗口" in desktop
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(
            ["desktop-file-validate", str(unpacked / "usr/share/applications/hallclient.desktop")],
            check=False,
        )
        assert check.returncode == 0
    launcher = (unpacked / "usr/bin/hallclient").read_text(encoding="utf-8")
    assert "exec /opt/hallclient/hallclient" in launcher


@pytest.fixture
def postinst(built: Built, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The package's postinst, pointed at a config copy and without debconf: (script, config)."""
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "-e", str(built.deb), str(control)], check=True)
    config = tmp_path / "etc" / "config.toml"
    config.parent.mkdir()
    shutil.copy(TEMPLATE, config)
    text = (control / "postinst").read_text(encoding="utf-8")
    text = text.replace("/etc/hallclient/config.toml", str(config))
    text = text.replace("/usr/share/debconf/confmodule", str(tmp_path / "no-debconf"))
    text = text.replace("/usr/share/applications", str(tmp_path / "apps"))
    text = text.replace("/opt/hallclient/share/config.toml.default", str(TEMPLATE))
    script = tmp_path / "postinst"
    script.write_text(text, encoding="utf-8")
    yield script, config


def _configure(script: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(script), "configure", ""],
        capture_output=True,
        text=True,
        env=_clean_env(**env),
        check=False,
    )


@pytest.mark.slow
def test_postinst_writes_unattended_values_and_keeps_hand_edits(postinst: tuple[Path, Path]) -> None:
    script, config = postinst
    done = _configure(
        script,
        HALLCLIENT_SERVER="https://zwfw.example.gov.cn",
        HALLCLIENT_HALL="330106",
        HALLCLIENT_WINDOW="12",
    )
    assert done.returncode == 0, done.stderr
    cfg = parse_config(tomllib.loads(config.read_text(encoding="utf-8")))
    assert (cfg.server.url, cfg.counter.hall_code, cfg.counter.window_no) == (
        "https://zwfw.example.gov.cn",
        "330106",
        12,
    )
    edited = config.read_text(encoding="utf-8").replace("# large_font = false", "large_font = true")
    config.write_text(edited, encoding="utf-8")
    assert _configure(script).returncode == 0  # an upgrade without values changes nothing
    assert config.read_text(encoding="utf-8") == edited
    assert _configure(script, HALLCLIENT_WINDOW="13").returncode == 0
    assert config.read_text(encoding="utf-8") == edited.replace("window_no = 12", "window_no = 13")
    bad = _configure(script, HALLCLIENT_WINDOW="abc", HALLCLIENT_SERVER="zwfw.example.gov.cn")
    assert bad.returncode == 1
    assert "window number 'abc'" in bad.stderr and "server URL" in bad.stderr
    assert "window_no = 13" in config.read_text(encoding="utf-8"), "nothing written on invalid values"


# -- installed with dpkg, in a throwaway root ---------------------------------------------------


class ThrowawayRoot:
    """This machine's / under an overlay whose changes go to a temporary folder, for dpkg."""

    def __init__(self, base: Path) -> None:
        self.base = base
        for d in ("upper", "work", "merged"):
            (base / d).mkdir(parents=True, exist_ok=True)
        # What the programs inside need from outside the root filesystem's own tree.
        self.binds = ["/proc", "/sys", "/dev", "/tmp", str(REPO.parent)]

    def run(self, script: str, *, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
        mount = (
            'set -e; b="$1"; shift; '
            'mount -t overlay overlay -o "lowerdir=/,upperdir=$b/upper,workdir=$b/work" "$b/merged"; '
            'for d in "$@"; do mount --rbind "$d" "$b/merged$d"; done; '
            'exec chroot "$b/merged" /bin/sh -c "$HALLCLIENT_ROOT_SCRIPT"'
        )
        return subprocess.run(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                mount,
                "sh",
                str(self.base),
                *self.binds,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=_clean_env(
                DEBIAN_FRONTEND="noninteractive",
                # The root's own programs: /usr/bin/hallclient, not a checkout's .venv/bin/hallclient.
                PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                HALLCLIENT_ROOT_SCRIPT=script,
                **env,
            ),
        )

    def file(self, path: str) -> Path:
        """Where a file the root changed is (its overlay upper layer)."""
        return self.base / "upper" / path.lstrip("/")


def _throwaway_root(tmp_path: Path) -> ThrowawayRoot:
    if os.geteuid() != 0:
        pytest.skip("installing with dpkg needs root")
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not available")
    root = ThrowawayRoot(tmp_path / "root")
    probe = root.run("test -d /var/lib/dpkg && echo ok", timeout=60)
    if probe.stdout.strip() != "ok":
        pytest.skip(
            f"cannot make a throwaway root here (mount namespace/overlayfs refused): {probe.stderr[-500:]}"
        )
    return root


def _config_in(root: ThrowawayRoot) -> dict[str, object]:
    done = root.run("cat /etc/hallclient/config.toml")
    assert done.returncode == 0, done.stderr
    return tomllib.loads(done.stdout)


@pytest.mark.slow
def test_deb_installs_runs_and_removes_cleanly(built: Built, live_server: LiveServer, tmp_path: Path) -> None:
    root = _throwaway_root(tmp_path)
    deb = str(built.deb)
    done = root.run(
        f"dpkg -i {deb}", HALLCLIENT_SERVER=live_server.url, HALLCLIENT_HALL="DEMO", HALLCLIENT_WINDOW="7"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    cfg = _config_in(root)
    assert cfg["server"] == {"url": live_server.url} and cfg["counter"] == {
        "hall_code": "DEMO",
        "window_no": 7,
    }
    status = root.run("dpkg-query -W -f '${Status} ${Conffiles}' hallclient").stdout
    assert status.startswith("install ok installed") and "/etc/hallclient/config.toml" in status
    assert (
        root.run(
            "test -x /usr/bin/hallclient && test -f /usr/share/applications/hallclient.desktop"
        ).returncode
        == 0
    )

    # The installed program, as the menu entry starts it: self-test, then the headless counter day.
    selftest = root.run("cd /tmp && hallclient self-test")
    assert selftest.returncode == 0, selftest.stdout + selftest.stderr
    assert "/etc/hallclient/config.toml：大厅 DEMO，7 号窗口" in selftest.stdout
    assert "/opt/hallclient/_internal/resources" in selftest.stdout
    out = tmp_path / "demo-out"
    demo = root.run(f"cd /tmp && hallclient demo --headless --citizens 2 --out {out}", timeout=600)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["ok"] is True and len(summary["cases"]) == 2
    assert len(list((out / "receipts").glob("*.pdf"))) == 2

    # Upgrades keep a hand-edited conffile; values given again change only their key.
    assert (
        root.run("sed -i 's/^# large_font = false/large_font = true/' /etc/hallclient/config.toml").returncode
        == 0
    )
    again = root.run(f"dpkg -i {deb}")
    assert again.returncode == 0, again.stderr
    cfg = _config_in(root)
    assert cfg["citizen_screen"] == {"large_font": True} and cfg["counter"] == {
        "hall_code": "DEMO",
        "window_no": 7,
    }
    again = root.run(f"dpkg -i {deb}", HALLCLIENT_WINDOW="8")
    assert again.returncode == 0, again.stderr
    cfg = _config_in(root)
    assert cfg["counter"] == {"hall_code": "DEMO", "window_no": 8} and cfg["citizen_screen"] == {
        "large_font": True
    }

    # remove: the program goes, the configuration stays; purge: that goes too.
    removed = root.run("dpkg -r hallclient")
    assert removed.returncode == 0, removed.stderr
    gone = root.run(
        "test ! -e /opt/hallclient && test ! -e /usr/bin/hallclient && test -f /etc/hallclient/config.toml"
    )
    assert gone.returncode == 0, "remove must take the program and keep the configuration"
    purged = root.run("dpkg --purge hallclient")
    assert purged.returncode == 0, purged.stderr
    assert root.run("test ! -e /etc/hallclient").returncode == 0
    assert root.run("dpkg-query -W hallclient").returncode != 0
    assert "hallclient" not in root.run("debconf-show hallclient 2>/dev/null").stdout
    assert not Path("/opt/hallclient").exists() and not Path("/etc/hallclient").exists(), "the machine itself"


@pytest.mark.slow
def test_debconf_preseed_configures_a_fresh_install(built: Built, tmp_path: Path) -> None:
    root = _throwaway_root(tmp_path)
    preseed = (
        "hallclient hallclient/server_url string https://preseed.example.gov.cn\n"
        "hallclient hallclient/window_no string 21\n"
    )
    done = root.run(f"printf '{preseed}' | debconf-set-selections && dpkg -i {built.deb}")
    assert done.returncode == 0, done.stdout + done.stderr
    cfg = _config_in(root)
    assert cfg["server"] == {"url": "https://preseed.example.gov.cn"}
    assert cfg["counter"] == {"hall_code": "DEMO", "window_no": 21}
    # The file is the master copy: a hand edit survives reinstalling with the old preseed in debconf.
    assert root.run("sed -i 's/^window_no = 21/window_no = 22/' /etc/hallclient/config.toml").returncode == 0
    assert root.run(f"dpkg -i {built.deb}").returncode == 0
    assert _config_in(root)["counter"] == {"hall_code": "DEMO", "window_no": 22}
    bad = root.run(f"dpkg -i {built.deb}", HALLCLIENT_HALL="有中文")
    assert bad.returncode != 0 and "hall code" in bad.stderr


# -- Windows ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_nsis_script_compiles_with_debians_makensis(tmp_path: Path) -> None:
    dist, build = tmp_path / "dist", tmp_path / "build"
    done = _make("nsis", dist=dist, build=build, timeout=600)
    _tools_or_skip(done, ("makensis",))
    (setup,) = dist.glob("hallclient-setup-*.exe")
    assert setup.read_bytes()[:2] == b"MZ"
    # What the real installer does, as makensis compiled it (-V4 lists every instruction).
    payload = build / "nsis" / "stand-in-payload" / "hallclient"
    listing = subprocess.run(
        [
            "makensis",
            "-V4",
            f"-DPAYLOAD={payload}",
            f"-DOUTFILE={tmp_path / 'again.exe'}",
            f"-DCONFIG_TEMPLATE={TEMPLATE}",
            f"-DICON={INSTALLER / 'icons' / 'hallclient.ico'}",
            str(INSTALLER / "windows" / "hallclient.nsi"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for expected in (
        'File: "hallclient.exe"',
        'File: "hallclient-console.exe"',
        '"$INSTDIR\\config.toml.default"',
        "Unicode: true",
        'InstallDir: "$PROGRAMFILES64\\hallclient"',
        "--installer-config",
        "QuietUninstallString",
        'CreateShortcut: "$SMPROGRAMS\\hallclient\\',
        "WriteUninstaller",
    ):
        assert expected in listing, f"{expected!r} not in the compiled installer"
