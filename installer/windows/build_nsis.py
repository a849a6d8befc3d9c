"""Compile installer/windows/hallclient.nsi with makensis (``make nsis``).

    python3 installer/windows/build_nsis.py --out dist [--payload DIR]

The real payload is the PyInstaller bundle built on Windows (hallclient.exe,
hallclient-console.exe, _internal/). Without ``--payload`` a stand-in with the same
names is made, so CI on Linux proves the script compiles and packs what the real
one will. Standard library only.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
INSTALLER = HERE.parent
REPO = INSTALLER.parent
STAND_IN_FILES = ("hallclient.exe", "hallclient-console.exe", "_internal/README.txt")


def version() -> str:
    text = (REPO / "hallclient" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not found:
        raise SystemExit("hallclient/__init__.py has no __version__")
    return found.group(1)


def stand_in_payload(work: Path) -> Path:
    payload = work / "stand-in-payload" / "hallclient"
    if payload.exists():
        shutil.rmtree(payload)
    for name in STAND_IN_FILES:
        path = payload / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "Stand-in for the PyInstaller bundle built on Windows (installer/README.md).\n", encoding="utf-8"
        )
    return payload


def compile_installer(payload: Path, out: Path) -> Path:
    makensis = shutil.which("makensis")
    if makensis is None:
        raise SystemExit("makensis not found: apt-get install nsis (make nsis does)")
    out.mkdir(parents=True, exist_ok=True)
    setup = out / f"hallclient-setup-{version()}.exe"
    defines = {
        "VERSION": version(),
        "PAYLOAD": str(payload),
        "OUTFILE": str(setup),
        "CONFIG_TEMPLATE": str(INSTALLER / "config.toml"),
        "ICON": str(INSTALLER / "icons" / "hallclient.ico"),
    }
    cmd = [makensis, "-V2", "-WX", *(f"-D{k}={v}" for k, v in defines.items()), str(HERE / "hallclient.nsi")]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"makensis failed with exit code {done.returncode}")
    return setup


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Compile the hallclient NSIS installer.")
    p.add_argument("--out", type=Path, default=REPO / "dist")
    p.add_argument("--work", type=Path, default=REPO / "build" / "nsis")
    p.add_argument("--payload", type=Path, help="the Windows onedir bundle (default: a stand-in)")
    args = p.parse_args(argv)
    payload = args.payload.resolve() if args.payload else stand_in_payload(args.work.resolve())
    setup = compile_installer(payload, args.out.resolve())
    print(
        f"{setup} ({setup.stat().st_size / 1e6:.1f} MB){'' if args.payload else ' with a stand-in payload'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
