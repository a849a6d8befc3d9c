"""Finding a citizen at the counter, and telling a scanner from a person typing.

A keyboard-wedge scanner (the QR reader for booking slips, an ID-card reader)
"types" its text into whatever has focus, followed by Enter, far faster than a
person can. :class:`WedgeDetector` recognises such a burst from key timings
alone, so the ui can take it wherever the focus is; :func:`classify_query`
says what a typed or scanned text is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from hallclient.i18n import _
from hallclient.validation import InvalidInput, validate_resident_id

# Booking codes as the platform issues them (YY + date + number), also found at the end of
# the URL a booking slip's QR code may carry.
BOOKING_CODE = re.compile(r"(?<![A-Z0-9])(YY\d{8,16})(?![0-9])", re.IGNORECASE | re.ASCII)
ID_SHAPE = re.compile(r"^\d{17}[\dXx]$", re.ASCII)


class QueryKind(StrEnum):
    BOOKING_CODE = "booking_code"
    ID_NUMBER = "id_number"
    NAME = "name"


@dataclass(frozen=True)
class Query:
    kind: QueryKind
    value: str


def classify_query(text: str) -> Query:
    """Booking code, resident ID number or (part of) a name; raises InvalidInput with what is wrong."""
    # An IME left in full-width mode types ＹＹ２０２６… or １１０１…Ｘ: fold to ASCII first.
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned:
        raise InvalidInput("query", _("请输入预约号、身份证号或姓名"))
    match = BOOKING_CODE.search(cleaned)
    if match:
        return Query(QueryKind.BOOKING_CODE, match.group(1).upper())
    compact = cleaned.replace(" ", "")
    if ID_SHAPE.match(compact):
        return Query(QueryKind.ID_NUMBER, validate_resident_id(compact))
    # Digits that are neither a code nor an ID number are a typo; letters alone are a name
    # (an applicant with a name in Latin letters).
    if re.fullmatch(r"[0-9A-Za-z]*[0-9][0-9A-Za-z]*", compact):
        raise InvalidInput(
            "query",
            _("“{text}”既不是预约号（YY 开头），也不是 18 位身份证号，请核对").format(text=cleaned),
        )
    return Query(QueryKind.NAME, cleaned)


@dataclass
class WedgeDetector:
    """Recognise a scanner's burst of keystrokes ended by Enter.

    Feed every printable key with its timestamp (seconds) and every Enter. A
    person types a few keys a second; a wedge scanner sends one every few
    milliseconds. A burst counts when it has at least ``min_length`` keys, each
    within ``max_gap_s`` of the previous one, and Enter follows within the gap.
    """

    max_gap_s: float = 0.035
    min_length: int = 8
    _chars: list[str] = field(default_factory=list)
    _last: float | None = None

    def key(self, char: str, at: float) -> None:
        if self._last is not None and at - self._last > self.max_gap_s:
            self._chars.clear()
        self._chars.append(char)
        self._last = at

    def enter(self, at: float) -> str | None:
        """The scanned text if the keys before this Enter were a scanner's burst, else None."""
        burst = (
            self._last is not None
            and at - self._last <= self.max_gap_s
            and len(self._chars) >= self.min_length
        )
        text = "".join(self._chars) if burst else None
        self.reset()
        return text

    def in_burst(self, at: float) -> bool:
        """Whether a key arriving now continues a burst already long enough to be a scanner's."""
        return self._last is not None and at - self._last <= self.max_gap_s and len(self._chars) >= 2

    def reset(self) -> None:
        self._chars.clear()
        self._last = None
