"""The masking rules (ID ``110101********123X``, phone ``138****5678``, name ``张*``).

What the masks promise: the output has the length of the stripped input, every
position is either the input's own character or ``*``, only the designed
positions are ever kept (ID: region + last 4; phone: prefix + last 4; name: the
first character), and inputs too short for that rule are masked entirely.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallclient.masking import mask_id_number, mask_name, mask_phone

# (mask, leading characters kept, trailing characters kept, length up to which all is hidden)
RULES: dict[str, tuple[Callable[[str], str], int, int, int]] = {
    "id": (mask_id_number, 6, 4, 10),
    "phone": (mask_phone, 3, 4, 7),
    "name": (mask_name, 1, 0, 1),
}

# Text without '*' (so a kept character is never mistaken for a mask) and with no
# surrounding whitespace (strip() is tested separately).
CORE = st.text(
    alphabet=st.characters(blacklist_characters="*", blacklist_categories=("Cs",)), max_size=40
).map(str.strip)


def _kept(masked: str) -> int:
    return sum(1 for c in masked if c != "*")


# -- the documented examples ------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("11010119900307123X", "110101********123X"),
        ("110105194912310021", "110105********0021"),
        ("11010519491231002x", "110105********002x"),
        ("  11010119900307123X\n", "110101********123X"),
    ],
)
def test_resident_id(raw: str, masked: str) -> None:
    assert mask_id_number(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        (" 15912345678 ", "159****5678"),
        ("010-12345678", "010*****5678"),
        ("0571-8888888", "057*****8888"),
    ],
)
def test_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("张三", "张*"),
        ("王晓燕", "王**"),
        ("欧阳娜娜", "欧***"),
        ("买买提·艾力", "买*****"),
        ("Zhang San", "Z********"),
        ("  李四 ", "李*"),
        ("𠮷野家", "𠮷**"),  # a character outside the BMP counts as one character
    ],
)
def test_name(raw: str, masked: str) -> None:
    assert mask_name(raw) == masked


# -- short and odd inputs ---------------------------------------------------------------


@pytest.mark.parametrize("mask", [mask_id_number, mask_phone, mask_name])
@pytest.mark.parametrize("blank", ["", " ", "\t\n  "])
def test_blank_input_gives_empty_mask(mask: Callable[[str], str], blank: str) -> None:
    assert mask(blank) == ""


@pytest.mark.parametrize("text", ["1", "110101", "1101011990", "E12345678", "H1234567"])
def test_id_of_ten_characters_or_fewer_is_hidden_entirely(text: str) -> None:
    assert mask_id_number(text) == "*" * len(text)


@pytest.mark.parametrize("text", ["1", "138", "1381234", "8888888"])
def test_phone_of_seven_characters_or_fewer_is_hidden_entirely(text: str) -> None:
    assert mask_phone(text) == "*" * len(text)


@pytest.mark.parametrize("text", ["张", "A", "𠮷"])
def test_single_character_name_is_hidden_entirely(text: str) -> None:
    assert mask_name(text) == "*"


def test_first_generation_fifteen_digit_id_keeps_region_and_last_four() -> None:
    assert mask_id_number("110105491231002") == "110105*****1002"


def test_mobile_with_country_code_keeps_only_the_prefix_characters() -> None:
    # Unnormalised input: the kept "prefix" is then "+86", which hides more, not less.
    assert mask_phone("+8613812345678") == "+86*******5678"


def test_masks_never_leave_the_full_value_in_the_output() -> None:
    for mask, value in [
        (mask_id_number, "11010119900307123X"),
        (mask_phone, "13812345678"),
        (mask_name, "张三"),
    ]:
        assert value not in mask(value)


def test_the_hidden_middle_of_an_id_is_the_birth_date_and_sequence() -> None:
    masked = mask_id_number("11010119900307123X")
    assert "19900307" not in masked
    assert masked[6:14] == "********"


# -- properties ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(RULES))
@given(text=CORE)
def test_mask_keeps_only_the_designed_positions(kind: str, text: str) -> None:
    mask, head, tail, hide_all_up_to = RULES[kind]
    masked = mask(text)
    assert len(masked) == len(text)
    if len(text) <= hide_all_up_to:
        assert masked == "*" * len(text)
        return
    for i, (orig, out) in enumerate(zip(text, masked, strict=True)):
        if i < head or i >= len(text) - tail:
            assert out == orig, (i, text, masked)
        else:
            assert out == "*", (i, text, masked)
    assert _kept(masked) == head + tail


@pytest.mark.parametrize("kind", sorted(RULES))
@given(text=CORE)
def test_mask_never_reveals_more_than_the_rule_allows(kind: str, text: str) -> None:
    mask, head, tail, _all = RULES[kind]
    assert _kept(mask(text)) <= head + tail


@pytest.mark.parametrize("kind", sorted(RULES))
@given(
    text=CORE,
    left=st.sampled_from(["", " ", "\t", "\n ", "\u3000"]),
    right=st.sampled_from(["", " ", "\r\n"]),
)
def test_surrounding_whitespace_is_ignored(kind: str, text: str, left: str, right: str) -> None:
    mask = RULES[kind][0]
    assert mask(left + text + right) == mask(text)


@pytest.mark.parametrize("kind", sorted(RULES))
@given(text=CORE)
def test_mask_is_idempotent(kind: str, text: str) -> None:
    mask = RULES[kind][0]
    once = mask(text)
    assert mask(once) == once


@given(
    region=st.from_regex(r"[1-8][0-9]{5}", fullmatch=True),
    middle=st.from_regex(r"[0-9]{8}", fullmatch=True),
    tail=st.from_regex(r"[0-9]{3}[0-9X]", fullmatch=True),
)
def test_any_resident_id_hides_exactly_the_eight_middle_characters(
    region: str, middle: str, tail: str
) -> None:
    assert mask_id_number(region + middle + tail) == region + "********" + tail


@given(
    prefix=st.from_regex(r"1[3-9][0-9]", fullmatch=True),
    middle=st.from_regex(r"[0-9]{4}", fullmatch=True),
    tail=st.from_regex(r"[0-9]{4}", fullmatch=True),
)
def test_any_mobile_hides_exactly_the_four_middle_digits(prefix: str, middle: str, tail: str) -> None:
    assert mask_phone(prefix + middle + tail) == prefix + "****" + tail


@given(
    name=st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=2, max_size=6)
)
def test_any_chinese_name_keeps_only_the_family_name_character(name: str) -> None:
    masked = mask_name(name)
    assert masked == name[0] + "*" * (len(name) - 1)
    for ch in name[1:]:
        if ch != name[0]:
            assert ch not in masked
