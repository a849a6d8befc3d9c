"""The one place that knows where ``resources/`` is.

From a checkout or an editable install it sits beside the packages; in a
PyInstaller bundle it is copied to the same relative path under ``sys._MEIPASS``.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath


def resources_root() -> Path:
    frozen_base = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and frozen_base:
        return Path(frozen_base) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a file under resources/; refuses absolute paths and '..' so callers cannot escape it."""
    rel = PurePosixPath(*parts)
    if rel.is_absolute() or ".." in rel.parts:
        raise ValueError(f"resource path must be relative and inside resources/: {rel}")
    return resources_root().joinpath(*rel.parts)
