"""Write the unattended install values into config.toml, for the Windows installer.

    hallclient.exe --installer-config CONFIG TEMPLATE [--server URL] [--hall CODE] [--window N]

NSIS cannot edit a UTF-8 file without garbling the Chinese in it, so the installer runs the
bundled program with this hidden first argument (installer/hallclient_main.py dispatches it)
once the files are in place. Same rules as the .deb's maintainer scripts
(installer/linux/debian/toml.sh): a missing CONFIG starts as a copy of TEMPLATE; only the keys
given are set, in place, and every other line and comment stays as the admin left it; the
values are checked with the same patterns. Standard library only.

Exit codes: 0 written (or nothing to change), 2 an invalid value (nothing written), 1 the file
could not be read, written or parsed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tomllib
from pathlib import Path

SERVER = re.compile(r'https?://[^\s"\\]+', re.ASCII)
HALL = re.compile(r"[A-Za-z0-9_.-]{1,32}", re.ASCII)
WINDOW = re.compile(r"[1-9][0-9]{0,2}", re.ASCII)


def _header(line: str) -> str | None:
    """The section a ``[name]`` line opens (spaces and comment ignored), else None."""
    if not line.lstrip().startswith("["):
        return None
    return re.sub(r"[\s\[\]]", "", line.split("#", 1)[0])


def _is_key(line: str, key: str) -> bool:
    return re.match(rf"[ \t]*{re.escape(key)}[ \t]*=", line) is not None


def toml_get(text: str, section: str, key: str) -> str | None:
    current = None
    for line in text.splitlines():
        header = _header(line)
        if header is not None:
            current = header
        elif current == section and _is_key(line, key):
            value = line.split("=", 1)[1].lstrip()
            if value.startswith('"'):
                return value[1:].split('"', 1)[0]
            return value.split("#", 1)[0].rstrip()
    return None


def toml_set(text: str, section: str, key: str, value: str) -> str:
    """``text`` with ``key = value`` (value already TOML) in ``section``, changing nothing else."""
    newline = "\r\n" if "\r\n" in text else "\n"
    entry = f"{key} = {value}{newline}"
    out: list[str] = []
    current = None
    done = False
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    for line in lines:
        header = _header(line)
        if header is not None:
            if current == section and not done:
                out.append(entry)
                done = True
            current = header
        elif current == section and not done and _is_key(line, key):
            out.append(entry)
            done = True
            continue
        out.append(line)
    if not done:
        if current != section:
            out.append(f"{newline}[{section}]{newline}")
        out.append(entry)
    return "".join(out)


def problems(server: str | None, hall: str | None, window: str | None) -> list[str]:
    found = []
    if server and not SERVER.fullmatch(server):
        found.append(f"server URL {server!r}: http:// or https://, no spaces or quotes")
    if hall and not HALL.fullmatch(hall):
        found.append(f"hall code {hall!r}: 1-32 letters, digits, '-', '_', '.'")
    if window and not WINDOW.fullmatch(window):
        found.append(f"window number {window!r}: 1-999")
    return found


def apply(
    config: Path, template: Path, server: str | None, hall: str | None, window: str | None
) -> list[str]:
    """Create ``config`` from ``template`` if missing, then set the given values; returns what changed."""
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, config)
    text = config.read_bytes().decode("utf-8")
    changed = []
    for section, key, value, toml_value in (
        ("server", "url", server, f'"{server}"'),
        ("counter", "hall_code", hall, f'"{hall}"'),
        ("counter", "window_no", window, window),
    ):
        if value and toml_get(text, section, key) != value:
            text = toml_set(text, section, key, str(toml_value))
            changed.append(f"[{section}] {key} = {toml_value}")
    if changed:
        tomllib.loads(text)  # never leave a file the client cannot read
        tmp = config.with_name(config.name + ".hallclient-new")
        tmp.write_bytes(text.encode("utf-8"))
        os.replace(tmp, config)
    return changed


def _say(message: str) -> None:
    if sys.stderr is not None:  # a windowed (no console) program has no stderr
        print(f"hallclient: {message}", file=sys.stderr)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="hallclient --installer-config")
    p.add_argument("config", type=Path)
    p.add_argument("template", type=Path)
    p.add_argument("--server", default="")
    p.add_argument("--hall", default="")
    p.add_argument("--window", default="")
    args = p.parse_args(argv)
    bad = problems(args.server, args.hall, args.window)
    if bad:
        _say("invalid install parameters: " + "; ".join(bad))
        return 2
    try:
        changed = apply(args.config, args.template, args.server, args.hall, args.window)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        _say(f"{args.config}: {exc}")
        return 1
    for line in changed:
        _say(f"{args.config}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
