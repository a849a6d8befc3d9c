from __future__ import annotations

import logging

import pytest

from hallclient.logfilter import PersonalDataFilter, scrub


def test_scrub_masks_ids_and_phones() -> None:
    text = "applicant 11010519491231002X phone 13812345678 case DEMO-20261124-01-0001"
    out = scrub(text)
    assert "11010519491231002X" not in out
    assert "110105********002X" in out
    assert "138****5678" in out
    assert "DEMO-20261124-01-0001" in out  # case numbers are not personal data


def test_filter_applies_to_args(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.pii")
    logger.addFilter(PersonalDataFilter())
    with caplog.at_level(logging.INFO, logger="test.pii"):
        logger.info("looked up %s / %s", "110105194912310021", "15912345678")
    assert "110105194912310021" not in caplog.text
    assert "15912345678" not in caplog.text
    assert "110105********0021" in caplog.text
