from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallclient.validation import (
    InvalidInput,
    birth_date_of,
    resident_id_check_digit,
    validate_name,
    validate_phone,
    validate_resident_id,
    validate_uscc,
)

KNOWN_ID = "11010519491231002X"  # the GB 11643-1999 example number
KNOWN_USCC = "91350100M000100Y43"
TODAY = date(2026, 3, 1)
PROVINCES = [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47)]
PROVINCES += [*range(50, 55), *range(61, 66), 71, 81, 82]


def iso7064_mod11_2_ok(number: str) -> bool:
    """Independent check of a full number: sum of a_i * 2^(18-i) mod 11 must be 1."""
    values = [10 if c == "X" else int(c) for c in number]
    return sum(v * pow(2, 17 - i, 11) for i, v in enumerate(values)) % 11 == 1


def make_id(region: str, born: date, seq: str) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq}"
    return first17 + resident_id_check_digit(first17)


def reject(func: object, text: str, **kwargs: object) -> InvalidInput:
    assert callable(func)
    with pytest.raises(InvalidInput) as info:
        func(text, **kwargs)
    return info.value


# --- InvalidInput -----------------------------------------------------------------------


def test_invalid_input_carries_field_and_message() -> None:
    exc = InvalidInput("id_number", "身份证号码不能为空")
    assert isinstance(exc, ValueError)
    assert exc.field == "id_number"
    assert exc.message == "身份证号码不能为空"
    assert str(exc) == "身份证号码不能为空"


# --- 居民身份证号码 -------------------------------------------------------------------------


def test_known_example_is_valid() -> None:
    assert iso7064_mod11_2_ok(KNOWN_ID)
    assert validate_resident_id(KNOWN_ID, today=TODAY) == KNOWN_ID
    assert resident_id_check_digit(KNOWN_ID[:17]) == "X"


def test_lowercase_x_and_whitespace_are_normalised() -> None:
    assert validate_resident_id(f"  {KNOWN_ID.lower()}\t\n", today=TODAY) == KNOWN_ID


def test_full_width_digits_from_an_ime_are_folded() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in KNOWN_ID)
    assert validate_resident_id(full_width, today=TODAY) == KNOWN_ID


@pytest.mark.parametrize(
    ("region", "born", "seq"),
    [
        ("440304", date(1990, 3, 7), "123"),
        ("310115", date(2000, 2, 29), "004"),
        ("650102", date(1900, 1, 1), "981"),
        ("820000", date(2026, 3, 1), "000"),  # born today
        ("710000", date(1985, 12, 31), "556"),
    ],
)
def test_generated_ids_with_computed_check_digit_are_valid(region: str, born: date, seq: str) -> None:
    number = make_id(region, born, seq)
    assert iso7064_mod11_2_ok(number)
    assert validate_resident_id(number, today=TODAY) == number
    assert birth_date_of(number) == born


def test_check_digit_ten_maps_to_x() -> None:
    digits = [resident_id_check_digit(f"1101051949123{n:04d}") for n in range(200)]
    assert "X" in digits
    assert set(digits) <= set("0123456789X")


def test_wrong_check_digit_names_expected_and_actual() -> None:
    exc = reject(validate_resident_id, KNOWN_ID[:17] + "5", today=TODAY)
    assert exc.field == "id_number"
    assert exc.message == "身份证号码校验位错误：第18位应为 X，实际为 5"


def test_empty() -> None:
    assert reject(validate_resident_id, "   ").message == "身份证号码不能为空，应为18位"


@pytest.mark.parametrize("text", [KNOWN_ID[:17], KNOWN_ID + "1", "110105491231002"])
def test_wrong_length(text: str) -> None:
    exc = reject(validate_resident_id, text, today=TODAY)
    assert exc.message == f"身份证号码应为18位，实际为 {len(text)} 位"


def test_non_digit_in_first_17_names_the_position() -> None:
    exc = reject(validate_resident_id, "1101051949A231002X", today=TODAY)
    assert exc.message == "身份证号码第11位应为数字，实际为“A”"


def test_inner_space_is_reported_by_code_point() -> None:
    exc = reject(validate_resident_id, "110105 9491231002X", today=TODAY)
    assert exc.message == "身份证号码第7位应为数字，实际为“U+0020”"


def test_x_only_allowed_as_check_character() -> None:
    exc = reject(validate_resident_id, "11010519491231002Y", today=TODAY)
    assert exc.message == "身份证号码第18位（校验位）应为数字或 X，实际为“Y”"
    exc = reject(validate_resident_id, "1101051949123100XX", today=TODAY)
    assert exc.message == "身份证号码第17位应为数字，实际为“X”"


@pytest.mark.parametrize("region", ["00", "10", "16", "20", "39", "47", "55", "66", "72", "83", "99"])
def test_unknown_province_code(region: str) -> None:
    number = make_id(region + "0105", date(1980, 1, 1), "001")
    exc = reject(validate_resident_id, number, today=TODAY)
    assert exc.message.startswith(f"身份证号码前2位 {region} 不是有效的省级行政区划代码")
    assert "11–15" in exc.message


@pytest.mark.parametrize("province", PROVINCES)
def test_every_listed_province_code_is_accepted(province: int) -> None:
    number = make_id(f"{province}0000", date(1980, 1, 1), "001")
    assert validate_resident_id(number, today=TODAY) == number


@pytest.mark.parametrize("digits", ["19490231", "20230229", "19491301", "19490000", "00000101"])
def test_impossible_birth_date(digits: str) -> None:
    first17 = f"110105{digits}002"
    exc = reject(validate_resident_id, first17 + resident_id_check_digit(first17), today=TODAY)
    assert exc.message == (
        f"身份证号码第7–14位的出生日期 {digits} 不是有效日期，应为 YYYYMMDD 格式的真实日期"
    )


def test_birth_date_in_the_future() -> None:
    tomorrow = TODAY + timedelta(days=1)
    exc = reject(validate_resident_id, make_id("110105", tomorrow, "002"), today=TODAY)
    assert exc.message == "身份证号码中的出生日期 2026-03-02 晚于今天（2026-03-01），请核对第7–14位"


def test_future_is_relative_to_the_real_today_by_default() -> None:
    next_year = date.today().replace(month=1, day=1) + timedelta(days=366)
    exc = reject(validate_resident_id, make_id("110105", next_year, "002"))
    assert "晚于今天" in exc.message


def test_birth_date_before_1900() -> None:
    exc = reject(validate_resident_id, make_id("110105", date(1899, 12, 31), "002"), today=TODAY)
    assert exc.message == "身份证号码中的出生日期 1899-12-31 早于 1900-01-01，请核对第7–14位"


def test_custom_field_name_is_reported() -> None:
    assert reject(validate_resident_id, "123", field="agent_id_number").field == "agent_id_number"


def test_birth_date_of() -> None:
    assert birth_date_of(KNOWN_ID) == date(1949, 12, 31)
    assert birth_date_of(KNOWN_ID.lower()) == date(1949, 12, 31)
    assert reject(birth_date_of, "110105194902310021").message.startswith(
        "身份证号码第7–14位的出生日期 19490231"
    )


@pytest.mark.parametrize("first17", ["", "1101051949123100", "110105194912310021", "1101051949123100A"])
def test_check_digit_helper_rejects_bad_input(first17: str) -> None:
    with pytest.raises(InvalidInput, match="前17位数字"):
        resident_id_check_digit(first17)


@given(
    province=st.sampled_from(PROVINCES),
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    seq=st.integers(0, 999),
    data=st.data(),
)
def test_any_generated_id_validates_and_any_single_substitution_is_caught(
    province: int, born: date, seq: int, data: st.DataObject
) -> None:
    number = make_id(f"{province}0102", born, f"{seq:03d}")
    assert validate_resident_id(number, today=TODAY) == number
    pos = data.draw(st.integers(0, 17))
    replacement = data.draw(st.sampled_from([c for c in "0123456789X" if c != number[pos]]))
    tampered = number[:pos] + replacement + number[pos + 1 :]
    with pytest.raises(InvalidInput):
        validate_resident_id(tampered, today=TODAY)


# --- 统一社会信用代码 -------------------------------------------------------------------------

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc_check(first17: str) -> str:
    weights = [pow(3, i, 31) for i in range(17)]  # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, weights, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def test_uscc_weights_are_the_published_ones() -> None:
    assert [pow(3, i, 31) for i in range(17)] == [
        1,
        3,
        9,
        27,
        19,
        26,
        16,
        17,
        20,
        29,
        25,
        13,
        8,
        24,
        10,
        30,
        28,
    ]


def test_uscc_known_example() -> None:
    assert uscc_check(KNOWN_USCC[:17]) == KNOWN_USCC[17]
    assert validate_uscc(KNOWN_USCC) == KNOWN_USCC


def test_uscc_is_upper_cased_and_stripped() -> None:
    assert validate_uscc(f" {KNOWN_USCC.lower()} ") == KNOWN_USCC


@pytest.mark.parametrize(
    "first17", ["12100000400000372", "5311000050000013X", "92440300MA5F00000", "Y1110000000000000"]
)
def test_uscc_generated_with_independent_check(first17: str) -> None:
    code = first17 + uscc_check(first17)
    assert validate_uscc(code) == code


def test_uscc_check_character_zero_when_sum_is_multiple_of_31() -> None:
    for n in range(10_000):
        first17 = f"9111000000000{n:04d}"
        if uscc_check(first17) == "0":
            assert validate_uscc(first17 + "0") == first17 + "0"
            return
    pytest.fail("no code with check character 0 in range")


def test_uscc_wrong_check_character() -> None:
    exc = reject(validate_uscc, KNOWN_USCC[:17] + "4")
    assert exc.field == "uscc"
    assert exc.message == "统一社会信用代码校验位错误：第18位应为 3，实际为 4"


def test_uscc_empty_and_length() -> None:
    assert reject(validate_uscc, "").message == "统一社会信用代码不能为空，应为18位"
    assert reject(validate_uscc, KNOWN_USCC[:15]).message == "统一社会信用代码应为18位，实际为 15 位"


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V", "-", "中"])
def test_uscc_forbidden_characters(bad: str) -> None:
    code = KNOWN_USCC[:9] + bad + KNOWN_USCC[10:]
    exc = reject(validate_uscc, code)
    assert exc.message == (
        f"统一社会信用代码第10位“{bad}”不是有效字符（应为数字或除 I、O、S、V、Z 以外的大写字母）"
    )


def test_uscc_region_code_must_be_digits() -> None:
    first17 = "91A50100M000100Y4"
    exc = reject(validate_uscc, first17 + uscc_check(first17))
    assert exc.message == "统一社会信用代码第3–8位（登记管理机关行政区划码）应为6位数字，实际为 A50100"


# --- 电话号码 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "13812345678"),
        (" 138 1234 5678 ", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("+86 199 1234 5678", "19912345678"),
        ("8615012345678", "15012345678"),
        ("008617712345678", "17712345678"),
        ("010-12345678", "010-12345678"),
        ("0571-8765432", "0571-8765432"),
        ("021 6234 5678", "021-62345678"),
        ("01012345678", "010-12345678"),
        ("05718765432", "0571-8765432"),
        ("０２１－８７６５４３２１", "021-87654321"),
    ],
)
def test_valid_phones_are_normalised(text: str, expected: str) -> None:
    assert validate_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "电话号码不能为空，应为11位手机号码或带区号的固定电话"),
        ("1381234567", "手机号码应为11位，实际为 10 位"),
        ("138123456789", "手机号码应为11位，实际为 12 位"),
        ("12812345678", "手机号码第2位应为 3–9，实际为 2"),
        ("138 1234 567a", "电话号码含有无效字符“a”，只能包含数字和“-”（手机号码可加 +86）"),
        ("1381234+5678", "电话号码含有无效字符“+”，只能包含数字和“-”（手机号码可加 +86）"),
        ("+1 202 555 0100", "电话号码只接受中国大陆号码，国家代码应为 +86，实际为“+12025550100”"),
        ("+86 010 12345678", "+86 只用于手机号码，之后应为以 1 开头的11位号码，实际为“01012345678”"),
        (
            "62345678",
            "电话号码应为以 1 开头的11位手机号码或以 0 开头的固定电话（如 010-12345678），实际为“62345678”",
        ),
        ("0210-1234567", "固定电话区号“0210”无效：以 01 或 02 开头的区号为3位，如 010、021"),
        ("057-18765432", "固定电话区号“057”无效：3位区号只有 010 和 02X，其余区号为4位，如 0571"),
        ("05-12345678", "固定电话区号“05”无效：区号应为以 0 开头的3–4位数字，如 010、0571"),
        ("010-123456", "固定电话区号 010 之后的号码应为7–8位数字，实际为“123456”"),
        ("010-123456789", "固定电话区号 010 之后的号码应为7–8位数字，实际为“123456789”"),
        ("010-02345678", "固定电话区号 010 之后的号码不能以 0 开头，实际为“02345678”"),
        ("010-1234-5678", "固定电话号码只能在区号后有一个“-”，如 010-12345678，实际为“010-1234-5678”"),
    ],
)
def test_invalid_phones(text: str, message: str) -> None:
    exc = reject(validate_phone, text)
    assert exc.field == "phone"
    assert exc.message == message


# --- 姓名 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张三", "张三"),
        ("  李四  ", "李四"),
        ("阿沛·阿旺晋美", "阿沛·阿旺晋美"),
        ("买买提•艾力", "买买提•艾力"),
        ("John Smith", "John Smith"),
        ("José Müller", "José Müller"),
        ("\u3000王五\u3000", "王五"),
        ("𠀀𪚥", "𠀀𪚥"),  # Extension B characters used in real names
        ("䶮", "䶮"),  # Extension A
        ("王" * 40, "王" * 40),
        ("A", "A"),
    ],
)
def test_valid_names(text: str, expected: str) -> None:
    assert validate_name(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "姓名不能为空，应为1–40个字符"),
        (" \u3000 ", "姓名不能为空，应为1–40个字符"),
        ("王" * 41, "姓名最多40个字符，实际为 41 个"),
        ("张3", "姓名不能包含数字：第2个字符是“3”"),
        ("张３", "姓名不能包含数字：第2个字符是“３”"),
        ("张\x00三", "姓名不能包含控制字符：第2个字符是不可见字符 U+0000"),
        ("张\t三", "姓名不能包含控制字符：第2个字符是不可见字符 U+0009"),
        ("张\u200b三", "姓名不能包含控制字符：第2个字符是不可见字符 U+200B"),
        ("张-三", "姓名第2个字符“-”不允许：只能包含汉字、拉丁字母、空格和间隔号“·”"),
        ("Иван", "姓名第1个字符“И”不允许：只能包含汉字、拉丁字母、空格和间隔号“·”"),
        ("张三。", "姓名第3个字符“。”不允许：只能包含汉字、拉丁字母、空格和间隔号“·”"),
    ],
)
def test_invalid_names(text: str, message: str) -> None:
    exc = reject(validate_name, text, field="applicant_name")
    assert exc.field == "applicant_name"
    assert exc.message == message
