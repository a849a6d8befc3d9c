"""``hallclient self-test``: the deployment doctor IT staff run on a counter that does not work.

Every check gives one line: what was looked at, what was found and, when it is not
right, what to do about it. The checks here are Qt-free (configuration, resources,
data folder, local database, key files, server, clock); the ui side runs a small Qt
probe in a child process (a missing platform plugin aborts the process that loads it)
and hands its facts to :func:`qt_checks`. Exit code: 0 when nothing failed, else 1.

The lines are in Chinese, the language of the IT staff who read them; the file names,
keys and commands in them are what to type.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import hallclient
from hallclient.config import Config, ConfigError, load_config, system_config_path
from hallclient.resources import resource_path, resources_root

# Below this much free space in the data folder a counter may fail to save a case.
LOW_DISK_FAIL = 50 * 1024 * 1024
LOW_DISK_WARN = 500 * 1024 * 1024
FONT_FILES = ("DroidSansFallbackFull.ttf", "DejaVuSans.ttf")  # printing/fonts.py embeds these
# From this month on a missing schedule for next year is worth a warning: the State Council
# publishes it in November, and deadlines of up to 60 working days reach into it.
NEXT_YEAR_CALENDAR_FROM_MONTH = 10


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""


# -- configuration --------------------------------------------------------------------------


def check_config(path: Path | None) -> tuple[Check, Config | None]:
    name = "配置文件"
    shown = path or system_config_path()
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        return Check(name, Status.FAIL, str(exc), "按提示改正该项后重新运行 hallclient self-test"), None
    if cfg.source is None:
        return (
            Check(
                name,
                Status.WARN,
                f"{shown} 不存在，使用内置默认值（服务器 {cfg.server.url}）",
                f"按 installer/README.md 建立 {shown}，写明 [server] url、[counter] hall_code 和 window_no",
            ),
            cfg,
        )
    detail = (
        f"{cfg.source}：大厅 {cfg.counter.hall_code}，{cfg.counter.window_no} 号窗口，服务器 {cfg.server.url}"
    )
    return Check(name, Status.OK, detail), cfg


# -- resources ------------------------------------------------------------------------------


def _truetype_problem(path: Path) -> str:
    """Why ``path`` is not a TrueType (glyf) font reportlab can embed, or '' when it is one."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] not in (b"\x00\x01\x00\x00", b"true"):
                return "不是 TrueType 字体文件"
            count = int.from_bytes(head[4:6], "big")
            tags = {fh.read(16)[:4] for _ in range(count)}
    except OSError as exc:
        return f"无法读取：{exc}"
    if b"glyf" not in tags:
        return "没有 glyf 表（CFF/OTF 字体无法嵌入 PDF）"
    return ""


def check_resources(today: dt.date) -> list[Check]:
    root = resources_root()
    if not root.is_dir():
        return [Check("资源目录", Status.FAIL, f"{root} 不存在", "安装不完整：重新安装 hallclient 软件包")]
    checks = [Check("资源目录", Status.OK, str(root))]

    problems = []
    for file in FONT_FILES:
        problem = _truetype_problem(resource_path("fonts", file))
        if problem:
            problems.append(f"{file}：{problem}")
    checks.append(
        Check(
            "打印字体",
            Status.FAIL if problems else Status.OK,
            "；".join(problems) or "、".join(FONT_FILES) + " 可嵌入 PDF",
            "安装不完整：重新安装 hallclient 软件包" if problems else "",
        )
    )

    from hallclient.workdays import CalendarError, WorkCalendar, calendar_file_name

    calendar = WorkCalendar()
    try:
        this_year = calendar.has_year(today.year)
        next_year = calendar.has_year(today.year + 1)
    except CalendarError as exc:
        checks.append(Check("节假日安排", Status.FAIL, str(exc), "改正或删除该文件后重新安装"))
    else:
        years = [y for y, ok in ((today.year, this_year), (today.year + 1, next_year)) if ok]
        found = "、".join(f"{y} 年" for y in years) or "无"
        if not this_year:
            checks.append(
                Check(
                    "节假日安排",
                    Status.FAIL,
                    f"缺少 {today.year} 年（resources/calendars/{calendar_file_name(today.year)}）",
                    "办结时限无法按工作日计算：升级到带有本年节假日安排的 hallclient 版本",
                )
            )
        elif not next_year and today.month >= NEXT_YEAR_CALENDAR_FROM_MONTH:
            checks.append(
                Check(
                    "节假日安排",
                    Status.WARN,
                    f"已有 {found}，缺少 {today.year + 1} 年",
                    "跨年的办结时限将只按周末估算：国务院办公厅公布后升级 hallclient",
                )
            )
        else:
            checks.append(Check("节假日安排", Status.OK, f"已有 {found}"))

    from hallclient.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES

    missing = [
        lang
        for lang in LANGUAGES
        if lang != DEFAULT_LANGUAGE
        and not resource_path("translations", lang, "LC_MESSAGES", f"{DOMAIN}.mo").is_file()
    ]
    checks.append(
        Check(
            "界面翻译",
            Status.WARN if missing else Status.OK,
            f"缺少 {'、'.join(missing)} 的编译目录（.mo）" if missing else "、".join(LANGUAGES),
            "从源码运行时执行 make catalogs；安装包里缺少则重新安装" if missing else "",
        )
    )
    return checks


# -- data folder, local database, keys ------------------------------------------------------


def check_data_dir(cfg: Config) -> Check:
    name = "数据目录"
    folder = cfg.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".self-test-{os.getpid()}"
        with probe.open("wb") as fh:
            fh.write(b"hallclient self-test\n")
            fh.flush()
            os.fsync(fh.fileno())
        probe.unlink()
    except OSError as exc:
        return Check(
            name,
            Status.FAIL,
            f"{folder} 不可写：{exc.strerror or exc}",
            f"让运行 hallclient 的用户可以写入 {folder}，或在配置文件中用 data_dir 指定另一个目录",
        )
    free = shutil.disk_usage(folder).free
    detail = f"{folder} 可写，剩余 {free / 1024**3:.1f} GB"
    if free < LOW_DISK_FAIL:
        return Check(name, Status.FAIL, detail, "磁盘将满，办件无法保存：清理磁盘")
    if free < LOW_DISK_WARN:
        return Check(name, Status.WARN, detail, "磁盘空间不多：清理磁盘")
    return Check(name, Status.OK, detail)


def check_local_db(cfg: Config) -> Check:
    from hallclient.localdb import SCHEMA_VERSION

    name = "本机数据库"
    path = cfg.data_dir / "counter.sqlite"
    if not path.exists():
        return Check(name, Status.OK, f"{path} 尚未建立（首次登录时建立）")
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            result = [row[0] for row in con.execute("PRAGMA quick_check")]
            version = int(con.execute("PRAGMA user_version").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error as exc:
        return Check(
            name,
            Status.FAIL,
            f"{path} 无法打开：{exc}",
            "文件已损坏或不是本程序的数据库：联系技术支持，不要删除该文件",
        )
    if result != ["ok"]:
        return Check(
            name,
            Status.FAIL,
            f"{path} 完整性检查未通过：{'; '.join(result[:3])}",
            "不要删除该文件：先复制备份，再联系技术支持恢复",
        )
    if version > SCHEMA_VERSION:
        return Check(
            name,
            Status.FAIL,
            f"{path} 由更新版本的客户端写入（结构版本 {version}，本版本支持 {SCHEMA_VERSION}）",
            "安装与该文件相同或更新版本的 hallclient",
        )
    if version < SCHEMA_VERSION:
        return Check(name, Status.OK, f"{path} 完好（结构版本 {version}，下次启动时自动备份并升级）")
    return Check(name, Status.OK, f"{path} 完好（结构版本 {version}）")


def _key_file_check(name: str, path: Path, has_data: bool) -> Check:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if has_data:
            return Check(
                name,
                Status.FAIL,
                f"{path} 不存在，而本机数据库已有数据",
                f"从备份恢复 {path}：没有它，本机保存的个人信息无法解密",
            )
        return Check(name, Status.OK, f"{path} 尚未生成（首次启动时生成）")
    except OSError as exc:
        return Check(
            name,
            Status.FAIL,
            f"{path} 无法读取：{exc.strerror or exc}",
            "让运行 hallclient 的用户可以读取该文件（权限 600，属于该用户）",
        )
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        return Check(name, Status.FAIL, f"{path} 已损坏（应为 base64 的 256 位密钥）", f"从备份恢复 {path}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        return Check(name, Status.WARN, f"{path} 可被其他用户读取（权限 {mode:o}）", f"chmod 600 {path}")
    return Check(name, Status.OK, f"密钥文件 {path} 完好")


def check_device_key(cfg: Config) -> Check:
    """Where hallclient/keystore.py would find the device data key, looked up without creating it."""
    from hallclient import keystore

    name = "本机数据密钥"
    has_data = (cfg.data_dir / "counter.sqlite").exists()
    if cfg.security.key_file:
        return _key_file_check(name, Path(cfg.security.key_file).expanduser(), has_data)
    legacy = cfg.data_dir / "device.key"
    if legacy.exists():
        return _key_file_check(name, legacy, has_data)
    backend = keystore._keyring_backend()
    if backend is not None:
        import keyring

        where = f"系统密钥环（{type(backend).__module__.rsplit('.', 1)[-1]}）"  # SecretService, Windows…
        try:
            stored = keyring.get_password(keystore.SERVICE, cfg.counter.device_id or "device")
        except Exception as exc:  # locked or refusing keystores raise their own exception types
            return Check(
                name,
                Status.FAIL,
                f"{where}拒绝访问：{type(exc).__name__}",
                "在柜台的桌面会话中解锁密钥环后重试；或在 [security] key_file 指定密钥文件",
            )
        if stored is None:
            if has_data:
                return Check(
                    name,
                    Status.FAIL,
                    f"{where}中没有本机密钥，而本机数据库已有数据",
                    "换过用户或密钥环被清空：从备份恢复密钥，否则本机保存的个人信息无法解密",
                )
            return Check(name, Status.OK, f"{where}：首次启动时生成")
        try:
            valid = len(base64.b64decode(stored, validate=True)) == 32
        except ValueError:
            valid = False
        if not valid:
            return Check(name, Status.FAIL, f"{where}中的密钥已损坏", "从备份恢复密钥")
        return Check(name, Status.OK, f"{where}中的密钥完好")
    system_file = keystore.system_key_file()
    if system_file.exists() or has_data:
        return _key_file_check(name, system_file, has_data)
    return Check(name, Status.OK, f"尚未生成（首次启动时生成 {system_file}，该目录不可写时为 {legacy}）")


def check_signing_key(cfg: Config) -> Check:
    from hallclient.signing import public_key_of

    name = "文书签名密钥"
    configured = cfg.printing.signing_key_file
    if not configured:
        return Check(
            name,
            Status.WARN,
            "未配置 [printing] signing_key_file：通知书不带电子签名",
            "向大厅管理员领取签名密钥文件，并在配置文件中填写 signing_key_file",
        )
    path = Path(configured)
    try:
        public = public_key_of(path.read_text(encoding="ascii").strip())
    except OSError as exc:
        return Check(
            name,
            Status.FAIL,
            f"{path} 无法读取：{exc.strerror or exc}",
            "检查 signing_key_file 的路径和文件权限",
        )
    except (ValueError, UnicodeDecodeError):
        return Check(name, Status.FAIL, f"{path} 不是有效的签名私钥", "向大厅管理员重新领取签名密钥文件")
    return Check(name, Status.OK, f"{path}（公钥 {public[:16]}…，应与平台登记的一致）")


# -- server and clock -----------------------------------------------------------------------


def check_server(
    cfg: Config,
    *,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> list[Check]:
    from hallclient.api import PlatformClient, PlatformError
    from hallclient.counter import MAX_CLOCK_SKEW

    url = cfg.server.url
    if cfg.server.ca_bundle and not Path(cfg.server.ca_bundle).is_file():
        return [
            Check(
                "服务器",
                Status.FAIL,
                f"[server] ca_bundle 指定的 {cfg.server.ca_bundle} 不存在",
                "把大厅的根证书放到该路径，或改正 ca_bundle",
            )
        ]
    client = PlatformClient(url, timeout_s=cfg.server.timeout_s, ca_bundle=cfg.server.ca_bundle)
    started = clock()
    t0 = time.monotonic()
    try:
        health = client.health()
    except PlatformError as exc:
        hints = {
            "tls": "服务器证书不被信任：在 [server] ca_bundle 指定大厅的根证书（PEM），并核对本机时间",
            "timeout": "服务器没有及时响应：检查网络和防火墙，或加大 [server] timeout_s",
            "unreachable": "检查网线/网络、服务器地址和端口，以及防火墙是否放行",
        }
        hint = hints.get(exc.code, "地址可能指向了别的服务：核对 [server] url")
        checks = [Check("服务器", Status.FAIL, f"{url}：{exc.message}", hint)]
        skipped = "服务器不可达，未检查"
        return [*checks, Check("本机时间", Status.SKIP, skipped)]
    rtt = time.monotonic() - t0
    checks = [
        Check(
            "服务器",
            Status.OK,
            f"{url} 可达（{rtt * 1000:.0f} ms），服务器版本 {health.version}，客户端版本 {hallclient.__version__}",
        )
    ]
    if url.startswith("https://"):
        trusted_by = cfg.server.ca_bundle or "随程序提供的根证书"
        checks.append(Check("TLS 证书", Status.OK, f"证书有效（由 {trusted_by} 验证）"))
    else:
        checks.append(
            Check(
                "TLS 证书",
                Status.WARN,
                "使用 http://，通信未加密",
                "生产环境请使用 https:// 地址，并在 [server] ca_bundle 指定大厅的根证书",
            )
        )
    local = started + dt.timedelta(seconds=rtt / 2)
    skew = local - health.time
    seconds = skew.total_seconds()
    if abs(seconds) < 1:
        detail = "与服务器一致（相差不到 1 秒）"
    else:
        detail = f"与服务器相差 {abs(seconds):.0f} 秒（本机{'快' if seconds > 0 else '慢'}）"
    if abs(skew) > MAX_CLOCK_SKEW:
        checks.append(
            Check(
                "本机时间",
                Status.FAIL,
                detail,
                "校准本机时间（开启 NTP 时间同步）：办件编号和通知书上的时间依赖它",
            )
        )
    else:
        checks.append(Check("本机时间", Status.OK, detail))
    return checks


# -- the Qt probe's facts ----------------------------------------------------------------


@dataclass(frozen=True)
class QtProbe:
    """What the ui's Qt probe found, or why it could not run."""

    facts: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def run_qt_probe(command: Sequence[str], *, timeout_s: float = 60.0) -> QtProbe:
    """Run the Qt probe ``command`` (it prints one JSON object) and read what it found."""
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return QtProbe(error=f"Qt 探测在 {timeout_s:.0f} 秒内没有结束")
    except OSError as exc:
        return QtProbe(error=f"无法启动 Qt 探测：{exc}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode == 0 and lines:
        try:
            return QtProbe(facts=json.loads(lines[-1]))
        except json.JSONDecodeError:
            pass
    tail = [line.strip() for line in done.stderr.splitlines() if line.strip()][-4:]
    return QtProbe(
        error=f"退出码 {done.returncode}：" + " | ".join(tail) if tail else f"退出码 {done.returncode}"
    )


def _platform_hint(error: str) -> str:
    low = error.lower()
    if "could not connect to display" in low or (
        os.name == "posix" and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
    ):
        return "没有图形会话：在柜台的桌面里运行；远程检查时可加 QT_QPA_PLATFORM=offscreen 先查其余各项"
    if "xcb" in low:
        return (
            "缺少 Qt 的 X11 依赖库：sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 "
            "libxkbcommon-x11-0 libegl1 libgl1"
        )
    return "用 QT_DEBUG_PLUGINS=1 hallclient self-test 查看详细原因"


def qt_checks(probe: QtProbe, cfg: Config | None) -> list[Check]:
    if probe.error:
        return [
            Check("Qt 平台插件", Status.FAIL, probe.error, _platform_hint(probe.error)),
            Check("显示器", Status.SKIP, "Qt 未能启动，未检查"),
            Check("界面字体", Status.SKIP, "Qt 未能启动，未检查"),
            Check("打印机", Status.SKIP, "Qt 未能启动，未检查"),
        ]
    facts = probe.facts
    platform = str(facts.get("platform", ""))
    checks = []
    if platform in ("offscreen", "minimal"):
        checks.append(
            Check(
                "Qt 平台插件",
                Status.WARN,
                f"{platform}（不显示窗口，真实显示器未检查）",
                "在柜台的桌面会话中不设 QT_QPA_PLATFORM 再运行一次",
            )
        )
    else:
        checks.append(Check("Qt 平台插件", Status.OK, platform))

    screens = [s for s in facts.get("screens", []) if isinstance(s, dict)]
    listed = "，".join(
        f"{s.get('name')} {s.get('width')}x{s.get('height')}{'（主屏）' if s.get('primary') else ''}"
        for s in screens
    )
    citizen = facts.get("citizen")
    wanted = cfg.citizen_screen.screen_name if cfg else ""
    if not screens:
        checks.append(Check("显示器", Status.FAIL, "没有发现显示器", "检查显示器连接和显卡驱动"))
    elif wanted and citizen != wanted:
        checks.append(
            Check(
                "显示器",
                Status.WARN,
                f"{listed}；配置的群众评价屏 {wanted} 不存在，改用 {citizen or '无'}",
                f"把 [citizen_screen] screen_name 改为上面列出的屏幕名称之一，或接上 {wanted}",
            )
        )
    elif citizen is None:
        checks.append(
            Check(
                "显示器",
                Status.WARN,
                f"{listed}；只有一块屏幕，没有群众评价屏",
                "接上面向群众的第二块显示器，并在系统设置中设为扩展屏",
            )
        )
    else:
        checks.append(Check("显示器", Status.OK, f"{listed}；群众评价屏：{citizen}"))

    fonts = [str(f) for f in facts.get("cjk_fonts", [])]
    if fonts:
        shown = "、".join(fonts[:3]) + (f" 等 {len(fonts)} 种" if len(fonts) > 3 else "")
        checks.append(Check("界面字体", Status.OK, f"中文字体：{shown}"))
    else:
        checks.append(
            Check(
                "界面字体",
                Status.FAIL,
                "系统中没有中文字体，界面文字将显示为方框",
                "安装中文字体，例如 sudo apt install fonts-noto-cjk（或 fonts-wqy-microhei）",
            )
        )

    printers = [str(p) for p in facts.get("printers", [])]
    default = str(facts.get("default_printer", ""))
    configured = cfg.printing.a4_printer if cfg else ""
    if configured and configured not in printers:
        checks.append(
            Check(
                "打印机",
                Status.FAIL,
                f"配置的打印机 {configured} 不存在；系统中有：{'、'.join(printers) or '无'}",
                "在系统中添加该打印机，或把 [printing] a4_printer 改为上面列出的名称之一",
            )
        )
    elif not printers:
        checks.append(
            Check(
                "打印机",
                Status.WARN,
                "系统中没有打印机：通知书只能保存为 PDF",
                "安装打印机驱动并在系统打印设置（CUPS）中添加打印机",
            )
        )
    else:
        use = configured or default or printers[0]
        checks.append(Check("打印机", Status.OK, f"{'、'.join(printers)}；通知书打印到 {use}"))
    return checks


# -- all together ---------------------------------------------------------------------------


def run_checks(
    config_path: Path | None,
    *,
    qt_probe: Callable[[Config | None], QtProbe] | None = None,
    today: dt.date | None = None,
) -> list[Check]:
    """Every check, in the order a person would fix things."""
    config_check, cfg = check_config(config_path)
    checks = [config_check]
    if qt_probe is not None:
        checks += qt_checks(qt_probe(cfg), cfg)
    checks += check_resources(today or dt.date.today())
    if cfg is None:
        skipped = "配置文件有误，未检查"
        for name in ("数据目录", "本机数据库", "本机数据密钥", "文书签名密钥", "服务器", "本机时间"):
            checks.append(Check(name, Status.SKIP, skipped))
        return checks
    data_dir = check_data_dir(cfg)
    checks.append(data_dir)
    checks.append(check_local_db(cfg))
    checks.append(check_device_key(cfg))
    checks.append(check_signing_key(cfg))
    checks += check_server(cfg)
    return checks


def exit_code(checks: Sequence[Check]) -> int:
    return 1 if any(c.status is Status.FAIL for c in checks) else 0


_MARKS = {Status.OK: "[ OK ]", Status.WARN: "[WARN]", Status.FAIL: "[FAIL]", Status.SKIP: "[SKIP]"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def render_table(checks: Sequence[Check]) -> str:
    """One line per check, the fix under each line that is not OK, and a verdict."""
    name_width = max((_width(c.name) for c in checks), default=0)
    lines = [f"hallclient {hallclient.__version__} 自检（self-test）"]
    for c in checks:
        pad = " " * (name_width - _width(c.name))
        lines.append(f"{_MARKS[c.status]} {c.name}{pad}  {c.detail}")
        if c.hint and c.status in (Status.WARN, Status.FAIL):
            lines.append(f"{' ' * 7}{' ' * name_width}  → 处理：{c.hint}")
    failed = sum(c.status is Status.FAIL for c in checks)
    warned = sum(c.status is Status.WARN for c in checks)
    if failed:
        lines.append(f"结果：{failed} 项失败，{warned} 项需注意。按“处理”提示改正后重新运行。")
    else:
        lines.append(f"结果：通过（{warned} 项需注意）。")
    return "\n".join(lines)


def render_json(checks: Sequence[Check]) -> str:
    """For fleet tools that collect the results of many counters."""
    return json.dumps(
        {
            "version": hallclient.__version__,
            "ok": exit_code(checks) == 0,
            "checks": [{**asdict(c), "status": str(c.status)} for c in checks],
        },
        ensure_ascii=False,
    )
