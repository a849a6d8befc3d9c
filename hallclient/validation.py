"""Validation of what a clerk types at the counter: ID numbers, credit codes, phones, names.

Pure standard library: the ui calls these on every edit and shows ``InvalidInput.message``
next to ``InvalidInput.field``. Every message says what is wrong, where, and what was
expected, because the clerk reads it aloud to the citizen standing at the window.

Each validator returns the normalised value (stripped, upper-cased, full-width digits
folded to ASCII) that is stored and sent to the platform.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from hallclient.i18n import _

__all__ = [
    "InvalidInput",
    "birth_date_of",
    "resident_id_check_digit",
    "validate_name",
    "validate_phone",
    "validate_resident_id",
    "validate_uscc",
]


class InvalidInput(ValueError):
    """A field value was rejected; ``message`` is ready to show to the clerk."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


_ASCII_DIGITS = frozenset("0123456789")


def _fold(text: str) -> str:
    """Strip, and fold full-width forms (an IME in full-width mode) to ASCII."""
    return unicodedata.normalize("NFKC", text).strip()


def _shown(char: str) -> str:
    """A character as it can be quoted in a message (invisible ones by code point)."""
    if char.isprintable() and not char.isspace():
        return char
    return f"U+{ord(char):04X}"


# --- 居民身份证号码 (GB 11643-1999) -------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"  # index: weighted sum mod 11 (ISO 7064 MOD 11-2)
_EARLIEST_BIRTH = date(1900, 1, 1)

# 省级行政区划代码 (GB/T 2260): 华北 11–15, 东北 21–23, 华东 31–37, 中南 41–46,
# 西南 50–54, 西北 61–65, 台湾 71, 香港 81, 澳门 82.
_PROVINCE_CODES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47)]
    + [*range(50, 55), *range(61, 66), 71, 81, 82]
)


def resident_id_check_digit(first17: str) -> str:
    """The 18th character (``0``–``9`` or ``X``) for the first 17 digits of an ID number."""
    if len(first17) != 17 or not set(first17) <= _ASCII_DIGITS:
        raise InvalidInput(
            "id_number",
            _("计算身份证号码校验位需要前17位数字，实际为“{text}”").format(text=first17),
        )
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _id_shape(text: str, field: str) -> str:
    """Normalise and check length and character classes; returns the upper-cased number."""
    number = _fold(text).upper()
    if not number:
        raise InvalidInput(field, _("身份证号码不能为空，应为18位"))
    if len(number) != 18:
        raise InvalidInput(field, _("身份证号码应为18位，实际为 {count} 位").format(count=len(number)))
    for pos, char in enumerate(number[:17], start=1):
        if char not in _ASCII_DIGITS:
            raise InvalidInput(
                field,
                _("身份证号码第{pos}位应为数字，实际为“{char}”").format(pos=pos, char=_shown(char)),
            )
    last = number[17]
    if last not in _ASCII_DIGITS and last != "X":
        raise InvalidInput(
            field,
            _("身份证号码第18位（校验位）应为数字或 X，实际为“{char}”").format(char=_shown(last)),
        )
    return number


def _id_birth_date(number: str, field: str) -> date:
    digits = number[6:14]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise InvalidInput(
            field,
            _("身份证号码第7–14位的出生日期 {digits} 不是有效日期，应为 YYYYMMDD 格式的真实日期").format(
                digits=digits
            ),
        ) from None


def birth_date_of(id_number: str) -> date:
    """The birth date encoded in an 18-digit ID number (positions 7–14)."""
    return _id_birth_date(_id_shape(id_number, "id_number"), "id_number")


def validate_resident_id(text: str, *, today: date | None = None, field: str = "id_number") -> str:
    """Check an 18-digit 居民身份证号码 and return it with an upper-case ``X``."""
    number = _id_shape(text, field)
    province = int(number[:2])
    if province not in _PROVINCE_CODES:
        raise InvalidInput(
            field,
            _(
                "身份证号码前2位 {code} 不是有效的省级行政区划代码"
                "（应为 11–15、21–23、31–37、41–46、50–54、61–65、71、81 或 82）"
            ).format(code=number[:2]),
        )
    born = _id_birth_date(number, field)
    today = today if today is not None else date.today()
    if born > today:
        raise InvalidInput(
            field,
            _("身份证号码中的出生日期 {born} 晚于今天（{today}），请核对第7–14位").format(
                born=born.isoformat(), today=today.isoformat()
            ),
        )
    if born < _EARLIEST_BIRTH:
        raise InvalidInput(
            field,
            _("身份证号码中的出生日期 {born} 早于 1900-01-01，请核对第7–14位").format(born=born.isoformat()),
        )
    expected = resident_id_check_digit(number[:17])
    if number[17] != expected:
        raise InvalidInput(
            field,
            _("身份证号码校验位错误：第18位应为 {expected}，实际为 {actual}").format(
                expected=expected, actual=number[17]
            ),
        )
    return number


# --- 统一社会信用代码 (GB 32100-2015) -----------------------------------------------

_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
_USCC_VALUES = {char: value for value, char in enumerate(_USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _uscc_check_char(first17: str) -> str:
    total = sum(_USCC_VALUES[char] * weight for char, weight in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(text: str, *, field: str = "uscc") -> str:
    """Check an 18-character 统一社会信用代码 and return it upper-cased."""
    code = _fold(text).upper()
    if not code:
        raise InvalidInput(field, _("统一社会信用代码不能为空，应为18位"))
    if len(code) != 18:
        raise InvalidInput(field, _("统一社会信用代码应为18位，实际为 {count} 位").format(count=len(code)))
    for pos, char in enumerate(code, start=1):
        if char not in _USCC_VALUES:
            raise InvalidInput(
                field,
                _(
                    "统一社会信用代码第{pos}位“{char}”不是有效字符"
                    "（应为数字或除 I、O、S、V、Z 以外的大写字母）"
                ).format(pos=pos, char=_shown(char)),
            )
    region = code[2:8]
    if not set(region) <= _ASCII_DIGITS:
        raise InvalidInput(
            field,
            _("统一社会信用代码第3–8位（登记管理机关行政区划码）应为6位数字，实际为 {region}").format(
                region=region
            ),
        )
    expected = _uscc_check_char(code[:17])
    if code[17] != expected:
        raise InvalidInput(
            field,
            _("统一社会信用代码校验位错误：第18位应为 {expected}，实际为 {actual}").format(
                expected=expected, actual=code[17]
            ),
        )
    return code


# --- 电话号码 --------------------------------------------------------------------------


def _landline(number: str, field: str) -> str:
    if "-" in number:
        parts = number.split("-")
        if len(parts) != 2:
            raise InvalidInput(
                field,
                _("固定电话号码只能在区号后有一个“-”，如 010-12345678，实际为“{text}”").format(text=number),
            )
        area, local = parts
    else:
        # 010 and 02X are the only 3-digit area codes; every other one has 4 digits.
        split = 3 if number.startswith(("010", "02")) else 4
        area, local = number[:split], number[split:]
    if not (area.isascii() and area.isdigit() and len(area) in (3, 4) and area.startswith("0")):
        raise InvalidInput(
            field,
            _("固定电话区号“{area}”无效：区号应为以 0 开头的3–4位数字，如 010、0571").format(area=area),
        )
    three_digit = area == "010" or (area.startswith("02") and len(area) == 3)
    if len(area) == 3 and not three_digit:
        raise InvalidInput(
            field,
            _("固定电话区号“{area}”无效：3位区号只有 010 和 02X，其余区号为4位，如 0571").format(area=area),
        )
    if len(area) == 4 and (area.startswith("02") or area.startswith("01")):
        raise InvalidInput(
            field,
            _("固定电话区号“{area}”无效：以 01 或 02 开头的区号为3位，如 010、021").format(area=area),
        )
    if not (local.isascii() and local.isdigit()) or len(local) not in (7, 8):
        raise InvalidInput(
            field,
            _("固定电话区号 {area} 之后的号码应为7–8位数字，实际为“{local}”").format(area=area, local=local),
        )
    if local.startswith("0"):
        raise InvalidInput(
            field,
            _("固定电话区号 {area} 之后的号码不能以 0 开头，实际为“{local}”").format(area=area, local=local),
        )
    return f"{area}-{local}"


def validate_phone(text: str, *, field: str = "phone") -> str:
    """Check a mainland mobile (``13812345678``) or landline (``010-12345678``) number.

    Spaces are dropped, a ``+86``/``0086``/``86`` country prefix is accepted for mobiles,
    and the result is the bare 11-digit mobile or ``区号-号码``.
    """
    number = "".join(_fold(text).split())
    if not number:
        raise InvalidInput(field, _("电话号码不能为空，应为11位手机号码或带区号的固定电话"))
    for index, char in enumerate(number):
        if char not in _ASCII_DIGITS and char != "-" and not (char == "+" and index == 0):
            raise InvalidInput(
                field,
                _("电话号码含有无效字符“{char}”，只能包含数字和“-”（手机号码可加 +86）").format(
                    char=_shown(char)
                ),
            )
    had_country_code = False
    if number.startswith("+"):
        if not number.startswith("+86"):
            raise InvalidInput(
                field,
                _("电话号码只接受中国大陆号码，国家代码应为 +86，实际为“{text}”").format(text=number),
            )
        number, had_country_code = number[3:].lstrip("-"), True
    elif number.startswith("0086"):
        number, had_country_code = number[4:].lstrip("-"), True
    elif number.startswith("86") and len(number.replace("-", "")) == 13:
        number, had_country_code = number[2:].lstrip("-"), True

    if number.startswith("1"):
        digits = number.replace("-", "")
        if len(digits) != 11:
            raise InvalidInput(field, _("手机号码应为11位，实际为 {count} 位").format(count=len(digits)))
        if digits[1] not in "3456789":
            raise InvalidInput(
                field,
                _("手机号码第2位应为 3–9，实际为 {digit}").format(digit=digits[1]),
            )
        return digits
    if had_country_code:
        raise InvalidInput(
            field,
            _("+86 只用于手机号码，之后应为以 1 开头的11位号码，实际为“{text}”").format(text=number),
        )
    if number.startswith("0"):
        return _landline(number, field)
    raise InvalidInput(
        field,
        _(
            "电话号码应为以 1 开头的11位手机号码或以 0 开头的固定电话（如 010-12345678），实际为“{text}”"
        ).format(text=number),
    )


# --- 姓名 ------------------------------------------------------------------------------

_NAME_MAX = 40
_NAME_DOTS = frozenset("·•")  # U+00B7 间隔号 as in 少数民族姓名, and U+2022
_CJK_RANGES = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # Unified Ideographs
    (0xF900, 0xFAFF),  # Compatibility Ideographs
    (0x20000, 0x2FA1F),  # Extensions B–F, Compatibility Supplement
    (0x30000, 0x323AF),  # Extensions G–H
)


def _is_cjk(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in _CJK_RANGES)


def _is_latin_letter(char: str) -> bool:
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN ")


def validate_name(text: str, *, field: str = "name") -> str:
    """Check a person's name: 1–40 characters of 汉字, Latin letters, spaces and ``·``."""
    name = text.replace("\u3000", " ").strip()
    if not name:
        raise InvalidInput(field, _("姓名不能为空，应为1–40个字符"))
    if len(name) > _NAME_MAX:
        raise InvalidInput(
            field,
            _("姓名最多{limit}个字符，实际为 {count} 个").format(limit=_NAME_MAX, count=len(name)),
        )
    for pos, char in enumerate(name, start=1):
        if char in _NAME_DOTS or char == " " or _is_cjk(char) or _is_latin_letter(char):
            continue
        if unicodedata.category(char) == "Nd" or char.isdigit():
            raise InvalidInput(
                field,
                _("姓名不能包含数字：第{pos}个字符是“{char}”").format(pos=pos, char=char),
            )
        if unicodedata.category(char) in ("Cc", "Cf"):
            raise InvalidInput(
                field,
                _("姓名不能包含控制字符：第{pos}个字符是不可见字符 {code}").format(
                    pos=pos, code=_shown(char)
                ),
            )
        raise InvalidInput(
            field,
            _("姓名第{pos}个字符“{char}”不允许：只能包含汉字、拉丁字母、空格和间隔号“·”").format(
                pos=pos, char=_shown(char)
            ),
        )
    return name
