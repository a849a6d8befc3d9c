"""Entry point of the frozen ``hallclient`` (installer/hallclient.spec builds it).

It is ``ui.main`` plus two things only a frozen program needs:

- ``hallclient demo`` starts its embedded server as ``sys.executable -m hallserver …``
  (ui/demo_server.py), and in a bundle ``sys.executable`` is this program, not a Python
  interpreter: so ``hallclient -m hallserver ARGS`` runs hallserver's command line here.
- The Windows installer writes its unattended values into config.toml with
  ``hallclient --installer-config …`` (installer/installer_config.py), since NSIS cannot
  edit a UTF-8 file faithfully.
"""

from __future__ import annotations

import sys


def main() -> int:
    argv = sys.argv[1:]
    if argv[:2] == ["-m", "hallserver"]:
        from hallserver.cli import main as hallserver_main

        return hallserver_main(argv[2:])
    if argv[:1] == ["--installer-config"]:
        from installer_config import main as installer_config_main

        return installer_config_main(argv[1:])
    from ui.main import main as hallclient_main  # noqa: TID251 (the entry point, like ui/main.py)

    return hallclient_main(argv)


if __name__ == "__main__":
    sys.exit(main())
