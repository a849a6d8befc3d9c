"""Flatbed and sheet-fed scanners the operating system offers, through SANE's ``scanimage``.

Counters on Linux (统信 UOS, 麒麟, Debian) reach their scanners through SANE, whatever the
make; ``scanimage`` is its command-line front end and the one interface every driver
honours. Asking it in a child process also keeps a hanging driver (network scanners do
hang) away from the clerk's window: it is killed after a timeout, and the clerk is told.
Windows counters have no SANE; there the scanner's own software saves files, which the
capture dialog adds like any other file.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass

from hallclient.i18n import _

log = logging.getLogger(__name__)

LIST_TIMEOUT_S = 20.0  # network scanners answer slowly to a search
SCAN_TIMEOUT_S = 120.0  # an A4 page at 200 dpi takes 10-40 s on office flatbeds
DPI = 200  # legible in grey and small enough for the 300 KB a page budget after clean-up


class ScannerError(Exception):
    """A scan that did not happen, with the reason in words for the clerk."""


@dataclass(frozen=True)
class Scanner:
    device: str  # SANE's device name, e.g. "genesys:libusb:001:004"
    label: str  # vendor and model, for the clerk


def scanimage() -> str | None:
    return shutil.which("scanimage")


def find_scanners(program: str | None = None, timeout: float = LIST_TIMEOUT_S) -> list[Scanner]:
    """The scanners SANE sees now; none when SANE is not installed or does not answer."""
    exe = program or scanimage()
    if exe is None:
        return []
    try:
        done = subprocess.run(
            [exe, "--formatted-device-list=%d\t%v %m%n"],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("scanner search failed: %s", type(exc).__name__)
        return []
    found = []
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        device, _tab, label = line.partition("\t")
        if device.strip():
            found.append(Scanner(device.strip(), label.strip() or device.strip()))
    return found


def scan_page(scanner: Scanner, program: str | None = None, timeout: float = SCAN_TIMEOUT_S) -> bytes:
    """One page from the scanner's glass (or feeder), as PNG bytes."""
    exe = program or scanimage()
    if exe is None:
        raise ScannerError(_("本机没有安装扫描程序（SANE 的 scanimage），请从文件添加"))
    base = [exe, "--device-name", scanner.device, "--format=png"]
    # Grey at 200 dpi where the driver takes it; some drivers name their modes differently,
    # so a refusal of the options is retried with the driver's own defaults.
    for args in (base + ["--mode", "Gray", "--resolution", str(DPI)], base):
        try:
            done = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ScannerError(
                _("扫描仪 {name} 在 {s} 秒内没有完成扫描：请检查扫描仪是否开机、连接是否正常").format(
                    name=scanner.label, s=int(timeout)
                )
            ) from None
        except OSError as exc:
            raise ScannerError(_("无法启动扫描程序：{error}").format(error=exc.strerror or exc)) from exc
        if done.returncode == 0 and done.stdout.startswith(b"\x89PNG"):
            return done.stdout
        error = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = error[-1] if error else _("没有返回图像")
        if "setting of option" not in reason:
            break
    raise ScannerError(_("扫描仪 {name} 没有扫描：{reason}").format(name=scanner.label, reason=reason))
