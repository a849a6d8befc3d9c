"""Keeps citizens' ID numbers and phone numbers out of every log record."""

from __future__ import annotations

import logging
import re

from hallclient.masking import mask_id_number, mask_phone

# 18-character resident IDs and 11-digit mainland mobiles, not inside longer digit runs.
_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def scrub(text: str) -> str:
    text = _ID.sub(lambda m: mask_id_number(m.group(0)), text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def install_log_filter() -> None:
    """Attach the filter to every root handler, so records from any library are scrubbed too."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
