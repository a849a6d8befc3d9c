"""gettext for the whole product: core, ui and printing share one catalog.

zh_CN is the source language: msgids are the Chinese text (the legal wording of
notices is authored in Chinese, and a missing catalog can never put English on
a citizen's paper). The ``en`` catalog translates them.

``_`` translates with the active language; ``set_language`` switches it. The
citizen screen may show another language than the clerk window, so
``translator(lang)`` gives a function bound to one language.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import lru_cache

from hallclient.resources import resource_path

DOMAIN = "hallclient"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"


class _Active:
    """The clerk-facing language of this process (the citizen screen uses ``translator``)."""

    lang = DEFAULT_LANGUAGE


@lru_cache(maxsize=8)
def _catalog(lang: str) -> gettext.NullTranslations:
    return gettext.translation(
        DOMAIN, localedir=str(resource_path("translations")), languages=[lang], fallback=True
    )


def set_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    _Active.lang = lang


def language() -> str:
    return _Active.lang


def _(message: str) -> str:
    if _Active.lang == DEFAULT_LANGUAGE:
        return message
    return _catalog(_Active.lang).gettext(message)


def translator(lang: str) -> Callable[[str], str]:
    """A gettext function fixed to ``lang`` whatever the active language is."""
    if lang == DEFAULT_LANGUAGE:
        return str
    return _catalog(lang).gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message
