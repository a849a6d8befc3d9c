"""Keeps citizens' ID numbers and phone numbers out of every log record."""

from __future__ import annotations

import logging
import re
from typing import Any

from hallclient.masking import mask_id_number, mask_phone

# 18-character resident IDs and 11-digit mainland mobiles (with or without +86), not inside
# longer digit runs; letters glued in front ("ID110105...") do not hide them.
_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")


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
    """Scrub every record as it is made, for every handler, also those added later.

    A record factory sees each record once, whatever logger or handler it goes
    to; the handler filters stay as a second net for records made elsewhere.
    """
    previous = logging.getLogRecordFactory()
    if not getattr(previous, "_scrubs_personal_data", False):

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                PersonalDataFilter().filter(record)
            except (TypeError, ValueError):
                pass  # a malformed format call: logging reports it when the record is emitted
            return record

        factory._scrubs_personal_data = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
