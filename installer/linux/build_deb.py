"""Build the hallclient .deb from the PyInstaller bundle (``make deb`` runs this after ``make dist``).

    python3 installer/linux/build_deb.py --bundle dist/hallclient --out dist

Layout: the bundle in /opt/hallclient, a /usr/bin/hallclient launcher, the menu entry and
icons, and /etc/hallclient/config.toml as a conffile whose unattended values the postinst
writes (installer/linux/debian/). Depends and Recommends are computed from what the bundle's
ELF files link to outside the bundle (objdump), named by the Debian packages that ship those
libraries on this build machine (dpkg -S); libc6's minimum version is the newest GLIBC_x.y
symbol version any of them needs. Standard library only: it runs with any python3.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
INSTALLER = HERE.parent
REPO = INSTALLER.parent
PACKAGE = "hallclient"
PREFIX = Path("opt") / PACKAGE
CONFFILE = "/etc/hallclient/config.toml"
MAINTAINER = "hallclient maintainers <hallclient@localhost>"
# Qt plugins the client works without (it says so and carries on): what only they link to is
# recommended, not required. Speech: calls are shown anyway; printing: papers can be saved as
# PDF; input methods: typing still works, just not through ibus.
OPTIONAL_PLUGIN_DIRS = ("texttospeech", "printsupport", "platforminputcontexts")
RECOMMENDS_EXTRA = ["fonts-noto-cjk | fonts-wqy-microhei | fonts-droid-fallback"]
SUGGESTS = ["cups", "speech-dispatcher"]


class BuildError(Exception):
    pass


def run(*cmd: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-1000:]}")
    return done.stdout


def version() -> str:
    text = (REPO / "hallclient" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not found:
        raise BuildError("hallclient/__init__.py has no __version__")
    return found.group(1)


# -- what the bundle needs from the system ------------------------------------------------


@dataclass
class ElfNeeds:
    needed: dict[str, set[str]] = field(default_factory=dict)  # soname -> files needing it
    glibc: tuple[int, ...] = (2, 17)


def _is_elf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"\x7fELF"


def scan_bundle(bundle: Path) -> ElfNeeds:
    needs = ElfNeeds()
    for path in sorted(bundle.rglob("*")):
        if path.is_symlink() or not path.is_file() or not _is_elf(path):
            continue
        rel = path.relative_to(bundle).as_posix()
        section = ""
        for line in run("objdump", "-p", str(path)).splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "NEEDED":
                needs.needed.setdefault(words[1], set()).add(rel)
            elif line.startswith("  required from "):
                section = line.split()[-1].rstrip(":")
            elif section.startswith("libc.so") and words and words[-1].startswith("GLIBC_2."):
                ver = tuple(int(x) for x in words[-1].removeprefix("GLIBC_").split(".") if x.isdigit())
                needs.glibc = max(needs.glibc, ver)
    return needs


def _ldconfig() -> dict[str, str]:
    """soname -> path of the libraries the dynamic linker knows, for this machine's architecture."""
    tag = {"x86_64": "x86-64", "aarch64": "AArch64"}.get(os.uname().machine)
    paths: dict[str, str] = {}
    for line in run("/sbin/ldconfig", "-p").splitlines()[1:]:
        name, _, rest = line.strip().partition(" (")
        if tag is None or tag in rest.split(")")[0]:
            paths.setdefault(name, rest.rsplit("=> ", 1)[-1])
    return paths


def _owner(path: str) -> str | None:
    real = os.path.realpath(path)
    candidates = {path, real}
    for p in list(candidates):  # merged /usr: dpkg may know either spelling
        if p.startswith("/usr/lib/"):
            candidates.add(p.removeprefix("/usr"))
        elif p.startswith("/lib/"):
            candidates.add("/usr" + p)
    for p in sorted(candidates):
        done = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return done.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def relationships(bundle: Path) -> tuple[list[str], list[str]]:
    """(Depends, Recommends) for what the bundle links to and does not contain."""
    needs = scan_bundle(bundle)
    bundled = {p.name for p in bundle.rglob("*")}
    system = _ldconfig()
    depends: set[str] = set()
    recommends: set[str] = set()
    unresolved = []
    for soname, users in sorted(needs.needed.items()):
        if soname in bundled or soname.startswith(
            ("libc.so", "libm.so", "libdl.so", "libpthread.so", "librt.so")
        ):
            continue
        if soname.startswith("ld-linux"):
            continue
        path = system.get(soname)
        owner = _owner(path) if path else None
        if owner is None:
            unresolved.append(f"{soname} (needed by {sorted(users)[0]})")
            continue
        optional = all(any(f"/plugins/{d}/" in f"/{u}" for d in OPTIONAL_PLUGIN_DIRS) for u in users)
        (recommends if optional else depends).add(owner)
    if unresolved:
        raise BuildError(
            "these libraries are linked to but not installed on this build machine, so the package "
            "that ships them cannot be named in Depends: "
            + "; ".join(unresolved)
            + ". Install them (add the Debian package to DEB_BUILD_PACKAGES in the Makefile) and rebuild."
        )
    recommends -= depends
    glibc = ".".join(str(x) for x in needs.glibc)
    dep_list = [f"libc6 (>= {glibc})", *sorted(depends - {"libc6"}), "debconf (>= 0.5) | debconf-2.0"]
    return dep_list, [*sorted(recommends), *RECOMMENDS_EXTRA]


# -- the package tree -----------------------------------------------------------------------


def _maintainer_script(name: str) -> str:
    text = (HERE / "debian" / name).read_text(encoding="utf-8")
    functions = (HERE / "debian" / "toml.sh").read_text(encoding="utf-8")
    return text.replace("# @TOML_FUNCTIONS@\n", functions)


def _normalise_modes(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if path.stat().st_mode & 0o111 else 0o644)


def stage(bundle: Path, root: Path) -> None:
    if not (bundle / PACKAGE).is_file():
        raise BuildError(f"{bundle} is not a PyInstaller bundle of {PACKAGE}: run `make dist` first")
    shutil.copytree(bundle, root / PREFIX, symlinks=True)
    share = root / PREFIX / "share"
    share.mkdir()
    shutil.copy2(INSTALLER / "config.toml", share / "config.toml.default")
    (root / "etc" / PACKAGE).mkdir(parents=True)
    shutil.copy2(INSTALLER / "config.toml", root / "etc" / PACKAGE / "config.toml")
    (root / "usr" / "bin").mkdir(parents=True)
    shutil.copy2(HERE / "launcher.sh", root / "usr" / "bin" / PACKAGE)
    (root / "usr" / "bin" / PACKAGE).chmod(0o755)
    apps = root / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy2(HERE / "hallclient.desktop", apps / "hallclient.desktop")
    for size_dir, icon in (("256x256", "hallclient.png"), ("scalable", "hallclient.svg")):
        icons = root / "usr" / "share" / "icons" / "hicolor" / size_dir / "apps"
        icons.mkdir(parents=True)
        shutil.copy2(INSTALLER / "icons" / icon, icons / icon)
    doc = root / "usr" / "share" / "doc" / PACKAGE
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "hallclient: counter client for government service halls.\n\n"
        "Bundled in /opt/hallclient: the Python runtime (PSF License), Qt 6 and PySide6 (LGPL-3.0),\n"
        "and the Python packages listed with their licences in /opt/hallclient/_internal/*.dist-info.\n"
        "Fonts: Droid Sans Fallback (Apache-2.0) and DejaVu Sans (Bitstream Vera licence), see\n"
        "/opt/hallclient/_internal/resources/fonts/LICENSE.*\n",
        encoding="utf-8",
    )
    _normalise_modes(root)


def control(root: Path, depends: list[str], recommends: list[str]) -> None:
    debian = root / "DEBIAN"
    debian.mkdir()
    installed_kb = (
        sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() and "DEBIAN" not in p.parts) // 1024 + 1
    )
    arch = run("dpkg", "--print-architecture").strip()
    fields = {
        "Package": PACKAGE,
        "Version": version(),
        "Architecture": arch,
        "Maintainer": MAINTAINER,
        "Installed-Size": str(installed_kb),
        "Depends": ", ".join(depends),
        "Recommends": ", ".join(recommends),
        "Suggests": ", ".join(SUGGESTS),
        "Section": "misc",
        "Priority": "optional",
        "Description": "counter client for government service halls (政务服务大厅窗口端)\n"
        " The program at the counter (窗口) of a government service hall: the clerk takes\n"
        " in-person submissions, decides, prints the papers, and the citizen rates the\n"
        " service on a second screen. Works offline and syncs with the hall's platform.\n"
        " .\n"
        " Configure in /etc/hallclient/config.toml; check a counter with `hallclient self-test`.",
    }
    (debian / "control").write_text("".join(f"{k}: {v}\n" for k, v in fields.items()), encoding="utf-8")
    (debian / "conffiles").write_text(CONFFILE + "\n", encoding="utf-8")
    shutil.copy2(HERE / "debian" / "templates", debian / "templates")
    for script in ("config", "postinst", "postrm"):
        (debian / script).write_text(_maintainer_script(script), encoding="utf-8")
        (debian / script).chmod(0o755)
    (debian / "templates").chmod(0o644)
    lines = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and "DEBIAN" not in path.relative_to(root).parts:
            if "/" + path.relative_to(root).as_posix() == CONFFILE:
                continue
            digest = hashlib.md5(path.read_bytes()).hexdigest()  # dpkg's md5sums format
            lines.append(f"{digest}  {path.relative_to(root).as_posix()}\n")
    (debian / "md5sums").write_text("".join(lines), encoding="utf-8")
    for f in ("control", "conffiles", "md5sums"):
        (debian / f).chmod(0o644)


def build(bundle: Path, out: Path, level: int) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    depends, recommends = relationships(bundle)
    deb = out / f"{PACKAGE}_{version()}_{run('dpkg', '--print-architecture').strip()}.deb"
    with tempfile.TemporaryDirectory(prefix="hallclient-deb-", dir=out) as tmp:
        root = Path(tmp) / "root"
        stage(bundle, root)
        control(root, depends, recommends)
        run(
            "dpkg-deb",
            "--root-owner-group",
            "-Zzstd",
            f"-z{level}",
            "--build",
            str(root),
            str(deb),
        )
    return deb


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--bundle", type=Path, default=REPO / "dist" / PACKAGE)
    p.add_argument("--out", type=Path, default=REPO / "dist")
    p.add_argument("--level", type=int, default=19, help="zstd level (19: smallest in reasonable time)")
    args = p.parse_args(argv)
    try:
        deb = build(args.bundle.resolve(), args.out.resolve(), args.level)
    except BuildError as exc:
        print(f"build_deb: {exc}", file=sys.stderr)
        return 1
    size = deb.stat().st_size
    print(f"{deb} ({size / 1e6:.1f} MB, {size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
