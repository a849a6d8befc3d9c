"""hallclient/lookup.py: what a typed or scanned text is, and a scanner's burst told from a person."""

from __future__ import annotations

import datetime as dt

import pytest

from hallclient.lookup import Query, QueryKind, WedgeDetector, classify_query
from hallclient.validation import InvalidInput, resident_id_check_digit

CODE = "YY202611250001"
ID_X = "11010519491231002X"  # a real-shaped number whose check character is X
LEAP = "440305200002291232"  # born on a leap day: 2000-02-29


def valid_id(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


# -- booking codes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        CODE,
        CODE.lower(),
        "yY202611250001",
        f"  {CODE}\t",
        f"\n{CODE}\r\n",
        # what a QR reader types from a booking slip: the code at the end of a URL ...
        f"https://zwfw.example.gov.cn/booking/{CODE}",
        f"https://zwfw.example.gov.cn/booking/{CODE.lower()}",
        # ... or in its query string, followed by more parameters
        f"https://zwfw.example.gov.cn/b?code={CODE}&s=ab12",
        f"http://10.0.0.5:8080/api/v1/bookings?date=2026-11-25&code={CODE}",
        f"预约号：{CODE}",
        # an IME left in full-width mode
        "ＹＹ２０２６１１２５０００１",
        "YY２０２６１１２５０００１",
    ],
)
def test_booking_codes_are_found_and_upper_cased(text: str) -> None:
    assert classify_query(text) == Query(QueryKind.BOOKING_CODE, CODE)


@pytest.mark.parametrize("digits", ["12345678", "1234567890", "1234567890123456"])
def test_booking_codes_of_8_to_16_digits(digits: str) -> None:
    assert classify_query(f"yy{digits}") == Query(QueryKind.BOOKING_CODE, f"YY{digits}")


@pytest.mark.parametrize(
    "text",
    [
        "YY1234567",  # 7 digits: too short
        "YY12345678901234567",  # 17 digits: too long, and never cut to fit
        "XYY202611250001",  # glued to a letter before it: not a booking code
        "AYY12345678",
    ],
)
def test_near_misses_are_not_booking_codes_and_the_message_says_so(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        classify_query(text)
    assert err.value.field == "query"
    assert text in err.value.message
    assert "预约号" in err.value.message and "18 位身份证号" in err.value.message


# -- resident ID numbers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ID_X, ID_X),
        (ID_X.lower(), ID_X),  # lower-case x accepted, returned upper-case
        (f"  {ID_X}  ", ID_X),
        ("110105 19491231 002X", ID_X),  # typed in groups, as printed on some forms
        ("１１０１０５１９４９１２３１００２Ｘ", ID_X),  # full-width, X included
        (LEAP, LEAP),
        (valid_id("31010419800101001"), valid_id("31010419800101001")),
        (valid_id("65010220051231999"), valid_id("65010220051231999")),
    ],
)
def test_valid_id_numbers_are_normalised(text: str, expected: str) -> None:
    assert classify_query(text) == Query(QueryKind.ID_NUMBER, expected)


def test_leap_day_id_is_valid_but_a_non_leap_29_february_is_not() -> None:
    assert classify_query(LEAP).kind is QueryKind.ID_NUMBER
    bad = valid_id("44030519990229123")
    with pytest.raises(InvalidInput, match="19990229 不是有效日期"):
        classify_query(bad)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("110105194912310021", "校验位错误：第18位应为 X，实际为 1"),
        ("11010519491231002Y", "既不是预约号"),  # Y is no check character: not even ID-shaped
        (valid_id("99010519491231002"), "前2位 99 不是有效的省级行政区划代码"),
        (valid_id("10010519491231002"), "前2位 10"),
        (valid_id("11010519491331002"), "19491331 不是有效日期"),
        (valid_id("11010519490132002"), "19490132 不是有效日期"),
        (valid_id("11010518991231002"), "早于 1900-01-01"),
        (valid_id(f"110105{dt.date.today().year + 1}0101002"), "晚于今天"),
        ("11010519491231002", "既不是预约号（YY 开头），也不是 18 位身份证号"),  # 17 digits
        ("1101051949123100211", "也不是 18 位身份证号"),  # 19 digits
        ("123", "也不是 18 位身份证号"),
    ],
)
def test_invalid_id_numbers_say_what_is_wrong(text: str, what: str) -> None:
    with pytest.raises(InvalidInput) as err:
        classify_query(text)
    assert what in err.value.message
    assert err.value.message == str(err.value)


def test_every_wrong_check_digit_names_the_right_one() -> None:
    first17 = ID_X[:17]
    for wrong in "0123456789":
        with pytest.raises(InvalidInput) as err:
            classify_query(first17 + wrong)
        assert f"应为 X，实际为 {wrong}" in err.value.message


# -- names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张伟", "张伟"),
        ("  欧阳娜娜 ", "欧阳娜娜"),
        ("王", "王"),  # a surname alone finds everybody with it
        ("阿卜杜·热合曼", "阿卜杜·热合曼"),
        ("买买提·艾力", "买买提·艾力"),
        ("John Smith", "John Smith"),  # an applicant with a name in Latin letters
        ("Müller", "Müller"),
        ("李 娜", "李 娜"),
    ],
)
def test_names_are_names(text: str, expected: str) -> None:
    assert classify_query(text) == Query(QueryKind.NAME, expected)


@pytest.mark.parametrize("text", ["", " ", "\t\n", "\u3000"])  # \u3000: a full-width space
def test_empty_input_asks_for_something_to_search(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        classify_query(text)
    assert err.value.field == "query"
    assert "请输入预约号、身份证号或姓名" in err.value.message


@pytest.mark.parametrize("text", ["abc123", "A1", "1a2b3c4d5e6f7g8h9i"])
def test_letters_with_digits_are_a_typo_not_a_name(text: str) -> None:
    with pytest.raises(InvalidInput, match="既不是预约号"):
        classify_query(text)


def test_invalid_input_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        classify_query("")


# -- the keyboard-wedge scanner ---------------------------------------------------------


def feed(d: WedgeDetector, text: str, *, start: float, gap: float) -> float:
    """Type ``text`` one key every ``gap`` seconds; returns the time of the last key."""
    at = start
    for i, ch in enumerate(text):
        at = start + i * gap
        d.key(ch, at)
    return at


@pytest.mark.parametrize("gap", [0.002, 0.008, 0.015, 0.03])
def test_a_fast_burst_ended_by_enter_is_a_scan(gap: float) -> None:
    d = WedgeDetector()
    last = feed(d, ID_X, start=100.0, gap=gap)
    assert d.enter(last + gap) == ID_X


def test_a_scanned_booking_slip_url_comes_through_whole() -> None:
    d = WedgeDetector()
    url = f"https://zwfw.example.gov.cn/booking/{CODE}"
    last = feed(d, url, start=5.0, gap=0.004)
    scanned = d.enter(last + 0.004)
    assert scanned == url
    assert classify_query(scanned) == Query(QueryKind.BOOKING_CODE, CODE)


@pytest.mark.parametrize("gap", [0.08, 0.15, 0.3, 1.0])
def test_human_typing_speed_is_not_a_scan(gap: float) -> None:
    d = WedgeDetector()
    last = feed(d, ID_X, start=0.0, gap=gap)
    assert d.enter(last + gap) is None


def test_a_pause_in_the_middle_starts_again() -> None:
    d = WedgeDetector()
    last = feed(d, "1101051", start=0.0, gap=0.01)  # 7 fast keys ...
    last = feed(d, "9491", start=last + 0.5, gap=0.01)  # ... a pause, then 4 more
    # 11 keys in all, but neither run alone is long enough.
    assert d.enter(last + 0.01) is None


def test_after_a_pause_only_the_new_burst_counts() -> None:
    d = WedgeDetector()
    last = feed(d, "张三", start=0.0, gap=0.2)  # the clerk typing by hand ...
    last = feed(d, CODE, start=last + 0.4, gap=0.005)  # ... then a scan
    assert d.enter(last + 0.005) == CODE


def test_one_slow_key_inside_a_burst_breaks_it() -> None:
    d = WedgeDetector()
    last = feed(d, "YY2026112", start=0.0, gap=0.005)
    d.key("5", last + 0.2)  # one late key
    last = feed(d, "0001", start=last + 0.205, gap=0.005)
    assert d.enter(last + 0.005) is None  # "50001" is too short on its own


def test_too_short_is_not_a_scan_and_min_length_is_inclusive() -> None:
    d = WedgeDetector()
    last = feed(d, "1234567", start=0.0, gap=0.005)
    assert d.enter(last + 0.005) is None
    last = feed(d, "12345678", start=10.0, gap=0.005)
    assert d.enter(last + 0.005) == "12345678"


def test_enter_long_after_the_burst_is_not_a_scan() -> None:
    d = WedgeDetector()
    last = feed(d, ID_X, start=0.0, gap=0.005)
    assert d.enter(last + 0.5) is None


def test_a_gap_exactly_at_the_limit_still_counts() -> None:
    d = WedgeDetector(max_gap_s=0.5, min_length=3)
    for i, ch in enumerate("abc"):
        d.key(ch, i * 0.5)
    assert d.enter(1.5) == "abc"


def test_enter_alone_and_enter_twice_give_nothing() -> None:
    d = WedgeDetector()
    assert d.enter(0.0) is None
    last = feed(d, CODE, start=1.0, gap=0.005)
    assert d.enter(last + 0.005) == CODE
    assert d.enter(last + 0.010) is None  # the burst was consumed by the first Enter


def test_enter_resets_even_when_it_was_not_a_scan() -> None:
    d = WedgeDetector()
    last = feed(d, "1234", start=0.0, gap=0.005)
    assert d.enter(last + 0.005) is None
    # The four keys before the Enter do not count towards the next burst.
    last = feed(d, "5678", start=last + 0.010, gap=0.005)
    assert d.enter(last + 0.005) is None


def test_reset_forgets_the_keys_so_far() -> None:
    d = WedgeDetector()
    last = feed(d, ID_X, start=0.0, gap=0.005)
    d.reset()
    assert not d.in_burst(last + 0.001)
    assert d.enter(last + 0.005) is None


def test_in_burst_needs_two_quick_keys() -> None:
    d = WedgeDetector()
    assert not d.in_burst(0.0)
    d.key("1", 0.0)
    assert not d.in_burst(0.005)  # one key might be a person
    d.key("1", 0.005)
    assert d.in_burst(0.010)
    assert not d.in_burst(0.5)  # the burst has gone quiet


def test_thresholds_are_configurable() -> None:
    slow_scanner = WedgeDetector(max_gap_s=0.06, min_length=4)
    last = feed(slow_scanner, "A123", start=0.0, gap=0.05)
    assert slow_scanner.enter(last + 0.05) == "A123"
    strict = WedgeDetector(max_gap_s=0.01, min_length=20)
    last = feed(strict, ID_X, start=0.0, gap=0.005)  # 18 keys: fewer than 20
    assert strict.enter(last + 0.005) is None


def test_two_detectors_do_not_share_keys() -> None:
    a, b = WedgeDetector(), WedgeDetector()
    feed(a, ID_X, start=0.0, gap=0.005)
    assert b.enter(0.09) is None
    assert a.enter(0.09) == ID_X
