"""Property-based tests (hypothesis) of masking, field encryption and the log filter.

- masking (hallclient/masking.py) never shows more of any string than its rule allows;
- FieldCipher round-trips every text, and never gives the same ciphertext twice;
- the log filter (hallclient/logfilter.py) leaves no valid ID number or mobile number
  in any text it is embedded in.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from hallclient.crypto import FieldCipher
from hallclient.logfilter import PersonalDataFilter, scrub
from hallclient.masking import mask_id_number, mask_name, mask_phone
from hallclient.validation import resident_id_check_digit

# (mask, characters kept at the start, at the end, and the length up to which everything is hidden)
RULES: dict[str, tuple[Callable[[str], str], int, int, int]] = {
    "id": (mask_id_number, 6, 4, 10),
    "phone": (mask_phone, 3, 4, 7),
    "name": (mask_name, 1, 0, 1),
}


@pytest.mark.parametrize("rule", sorted(RULES))
@given(raw=st.text())
@example(raw="")
@example(raw=" \u3000 ")
@example(raw="11010119900307123X")
@example(raw="*" * 20)
def test_a_mask_never_reveals_more_than_its_rule(rule: str, raw: str) -> None:
    mask, head, tail, hide_all_up_to = RULES[rule]
    s = raw.strip()
    masked = mask(raw)
    assert len(masked) == len(s)
    shown = [i for i, c in enumerate(masked) if c != "*"]
    if len(s) <= hide_all_up_to:
        assert shown == []
        return
    allowed = set(range(head)) | set(range(len(s) - tail, len(s)))
    assert set(shown) <= allowed
    # What is shown is the input's own character at that place, nothing invented.
    assert all(masked[i] == s[i] for i in shown)
    # Everything else is a star.
    assert all(masked[i] == "*" for i in range(len(s)) if i not in allowed)
    assert len(shown) <= head + tail


@given(raw=st.text(min_size=1))
def test_masking_is_idempotent(raw: str) -> None:
    for mask, *_rest in RULES.values():
        once = mask(raw)
        assert mask(once) == once


# -- field encryption ----------------------------------------------------------------------------------

KEYS = st.binary(min_size=32, max_size=32)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(key=KEYS, text=st.text())
@example(key=b"\x00" * 32, text="")
@example(key=b"\x00" * 32, text="𠮷野家 \x00 \U0010ffff")
def test_encrypt_then_decrypt_gives_back_every_text(key: bytes, text: str) -> None:
    cipher = FieldCipher(key)
    blob = cipher.encrypt(text)
    assert isinstance(blob, bytes) and blob.startswith(b"v1:")
    assert cipher.decrypt(blob) == text
    # A fresh cipher from the same key (the next start of the counter) reads it too.
    assert FieldCipher(key).decrypt(blob) == text


@given(key=KEYS, text=st.text())
def test_the_same_text_never_encrypts_the_same_way_twice(key: bytes, text: str) -> None:
    cipher = FieldCipher(key)
    a, b = cipher.encrypt(text), cipher.encrypt(text)
    assert a != b
    assert cipher.decrypt(a) == cipher.decrypt(b) == text


@given(key=KEYS, text=st.text(min_size=4))
def test_the_ciphertext_does_not_contain_the_text(key: bytes, text: str) -> None:
    encoded = text.encode("utf-8")
    assume(len(encoded) >= 8)
    assert encoded not in FieldCipher(key).encrypt(text)


@given(key=KEYS, other=KEYS, text=st.text())
def test_another_key_cannot_decrypt(key: bytes, other: bytes, text: str) -> None:
    assume(key != other)
    blob = FieldCipher(key).encrypt(text)
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        FieldCipher(other).decrypt(blob)


@given(key=KEYS, text=st.text(), flip=st.integers(min_value=0))
def test_any_changed_byte_is_refused(key: bytes, text: str, flip: int) -> None:
    blob = bytearray(FieldCipher(key).encrypt(text))
    i = 3 + flip % (len(blob) - 3)  # past the "v1:" prefix
    blob[i] ^= 0x01
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        FieldCipher(key).decrypt(bytes(blob))


# -- the log filter -------------------------------------------------------------------------------------


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.from_regex(r"[1-6][0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31)))
    seq = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    first17 = f"{region}{born:%Y%m%d}{seq}"
    check = resident_id_check_digit(first17)
    if check == "X" and draw(st.booleans()):
        check = "x"  # typed in lower case
    return first17 + check


MOBILES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


def _glues(c: str) -> bool:
    """A character that would make the number part of a longer code (a hash, an order number)."""
    return c.isdecimal() or (c.isascii() and c.isalpha())


# Anything around the number, as long as the number is not glued to more digits or Latin letters.
SEPARATED = st.text().filter(lambda t: not t or not _glues(t[-1]))
FOLLOWING = st.text().filter(lambda t: not t or not _glues(t[0]))


@given(
    before=SEPARATED,
    id_number=resident_ids(),
    middle=st.sampled_from([" ", "，", "/", "：", "\n", "手机"]),
    phone=MOBILES,
    after=FOLLOWING,
)
@example(before="", id_number="11010519491231002X", middle=" ", phone="13812345678", after="")
@example(
    before="申请人身份证号", id_number="11010519491231002x", middle="手机", phone="13812345678", after="。"
)
def test_the_filter_leaves_no_id_number_or_phone_in_any_text(
    before: str, id_number: str, middle: str, phone: str, after: str
) -> None:
    text = f"{before}{id_number}{middle}{phone}{after}"
    out = scrub(text)
    assert id_number not in out and id_number.upper() not in out
    assert phone not in out
    assert mask_id_number(id_number) in out and mask_phone(phone) in out
    # And through a real logging record, with the values passed as arguments.
    record = logging.LogRecord("test", logging.INFO, __file__, 1, "%s|%s", (text, phone), None)
    assert PersonalDataFilter().filter(record)
    message = record.getMessage()
    assert id_number not in message and phone not in message


@given(
    id_number=resident_ids(),
    times=st.integers(min_value=2, max_value=5),
    sep=st.sampled_from([" ", ",", "、"]),
)
def test_the_filter_masks_every_occurrence(id_number: str, times: int, sep: str) -> None:
    out = scrub(sep.join([id_number] * times))
    assert id_number not in out
    assert out.count(mask_id_number(id_number)) == times


@given(text=st.text())
def test_the_filter_leaves_text_without_numbers_alone(text: str) -> None:
    assume(not any(c.isdigit() for c in text))
    assert scrub(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "mobile +8613812345678",  # the international form of a mainland mobile
        "ID110105194912310021",  # a label glued to the number
    ],
)
def test_the_filter_masks_numbers_glued_to_a_prefix(text: str) -> None:
    out = scrub(text)
    assert "13812345678" not in out
    assert "110105194912310021" not in out
