"""The English catalog keeps up with the source.

The msgids are the zh_CN text, re-extracted here from the code at test time the same way
``make messages`` does (babel.cfg, keywords ``_``, ``N_`` and printing's ``t``). A string added
or reworded in the code without ``make messages`` and a translation fails these tests, and so
does a translation left behind for a string the code no longer has.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import hallclient.i18n as i18n

REPO = Path(__file__).resolve().parents[3]
TRANSLATIONS = REPO / "resources" / "translations"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
# Same keywords as `make messages`: printing/ translates with `t = translator(lang)`.
KEYWORDS = {**DEFAULT_KEYWORDS, "t": None}

MsgKey = str | tuple[str, str]  # msgid, or (msgid, msgctxt)


def _key(msgid: str | Sequence[str], context: str | None) -> MsgKey:
    singular = msgid if isinstance(msgid, str) else msgid[0]
    return singular if context is None else (singular, context)


def _source_messages() -> dict[MsgKey, list[str]]:
    """Every marked msgid in the source, with where it is used."""
    with (REPO / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")  # type: ignore[no-untyped-call]
    found: dict[MsgKey, list[str]] = {}
    for filename, lineno, msgid, _comments, context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault(_key(msgid, context), []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def source() -> dict[MsgKey, list[str]]:
    found = _source_messages()
    assert found, "extraction found no marked strings: is babel.cfg still listing the sources?"
    return found


@pytest.fixture(scope="module")
def en_catalog() -> Catalog:
    assert EN_PO.is_file(), f"{EN_PO.relative_to(REPO)} is missing: run `make messages`"
    with EN_PO.open("rb") as f:
        return read_po(f, locale="en", domain=i18n.DOMAIN)


def _entries(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def _strings(m: Message) -> tuple[list[str], list[str]]:
    ids = [m.id] if isinstance(m.id, str) else list(m.id)
    strs = [m.string] if isinstance(m.string, str) else list(m.string or ())
    return ids, strs


def _fields(text: str) -> set[str]:
    """The str.format replacement fields, e.g. ``{value!r}``; ``{{`` and ``}}`` are literal braces."""
    fields: set[str] = set()
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            fields.add(
                "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            )
    return fields


def _listing(problems: list[str]) -> str:
    return "\n  " + "\n  ".join(problems)


def test_every_source_string_has_an_english_translation(
    source: dict[MsgKey, list[str]], en_catalog: Catalog
) -> None:
    problems = []
    for key, where in sorted(source.items(), key=lambda kv: str(kv[0])):
        msgid, context = (key, None) if isinstance(key, str) else key
        m = en_catalog.get(msgid, context)
        if m is None:
            problems.append(f"{msgid!r} ({', '.join(where)}): not in the catalog")
        elif m.fuzzy:
            problems.append(f"{msgid!r} ({', '.join(where)}): marked fuzzy")
        elif not all(s.strip() for s in _strings(m)[1]):
            problems.append(f"{msgid!r} ({', '.join(where)}): msgstr is empty")
    assert not problems, (
        f"{len(problems)} source strings lack an English translation in {EN_PO.relative_to(REPO)}; "
        "run `make messages`, translate them, then `make catalogs`:" + _listing(problems)
    )


def test_catalog_keeps_no_strings_the_source_no_longer_has(
    source: dict[MsgKey, list[str]], en_catalog: Catalog
) -> None:
    stale = [repr(m.id) for m in _entries(en_catalog) if _key(m.id, m.context) not in source] + [
        f"{m.id!r} (obsolete #~ entry)" for m in en_catalog.obsolete.values()
    ]
    assert not stale, (
        f"{len(stale)} entries in {EN_PO.relative_to(REPO)} are not in the source any more; "
        "run `make messages` (it drops them):" + _listing(stale)
    )


def test_catalog_as_a_whole_is_not_fuzzy(en_catalog: Catalog) -> None:
    # pybabel compile silently skips a catalog whose header is marked fuzzy.
    assert not en_catalog.fuzzy


def test_translations_keep_the_placeholders(en_catalog: Catalog) -> None:
    problems = []
    for m in _entries(en_catalog):
        ids, strs = _strings(m)
        for msgid, msgstr in zip(ids, strs, strict=False):
            if not msgstr:
                continue  # reported by the completeness test
            try:
                want, got = _fields(msgid), _fields(msgstr)
            except ValueError as exc:  # unbalanced braces: .format() would raise at run time
                problems.append(f"{msgid!r}: {exc} in {msgstr!r}")
                continue
            if want != got:
                missing = ", ".join(sorted(want - got)) or "none"
                extra = ", ".join(sorted(got - want)) or "none"
                problems.append(f"{msgid!r}: missing {missing}; unexpected {extra} in {msgstr!r}")
    assert not problems, "translations whose {placeholders} differ from the msgid:" + _listing(problems)


def test_translations_keep_the_line_breaks(en_catalog: Catalog) -> None:
    # The citizen screen lays out multi-line messages line by line.
    problems = [
        f"{msgid!r}: {msgid.count(chr(10))} line breaks, msgstr {msgstr!r} has {msgstr.count(chr(10))}"
        for m in _entries(en_catalog)
        for msgid, msgstr in zip(*_strings(m), strict=False)
        if msgstr and msgid.count("\n") != msgstr.count("\n")
    ]
    assert not problems, "translations with a different number of line breaks:" + _listing(problems)


@pytest.fixture
def compiled_catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The .po compiled into tmp_path, and i18n reading its catalogs from there (not from `make`)."""
    with EN_PO.open("rb") as f:
        catalog = read_po(f, locale="en", domain=i18n.DOMAIN)
    mo = tmp_path / "translations" / "en" / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo"
    mo.parent.mkdir(parents=True)
    with mo.open("wb") as f:
        write_mo(f, catalog)
    # tmp_path stands in for resources/: i18n looks for resource_path("translations").
    monkeypatch.setattr(i18n, "resource_path", tmp_path.joinpath)
    i18n._catalog.cache_clear()
    yield mo
    i18n._catalog.cache_clear()


def test_translator_gives_english_from_the_compiled_catalog(compiled_catalogs: Path) -> None:
    assert compiled_catalogs.stat().st_size > 0
    en = i18n.translator("en")
    assert en("受理通知书") == "Notice of Acceptance"
    assert en("第{n}号窗口").format(n=3) == "Window 3"
    assert en("请到 {window} 号窗口办理").format(window=5) == "Please go to Window 5"
    # zh_CN is the source language: it needs no catalog and never changes the text.
    assert i18n.translator("zh_CN")("受理通知书") == "受理通知书"
