"""The wire contract refuses what neither side could store, and says so in its schema."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hallclient import wire


def test_nul_characters_are_refused_with_the_field_named() -> None:
    with pytest.raises(ValidationError) as err:
        wire.LoginRequest(hall_code="DE\x00MO", window_no=1, username="u", password="p", device_id="d")
    assert err.value.errors()[0]["loc"] == ("hall_code",)
    with pytest.raises(ValidationError):
        wire.RatingPayload.model_validate(
            {
                "case_no": "C",
                "window_no": 1,
                "level": "satisfied",
                "reasons": ["ok", "bad\x00"],
                "decided_at": "2026-11-25T09:00:00+08:00",
                "rated_at": "2026-11-25T09:01:00+08:00",
            }
        )


def test_ordinary_text_passes_unchanged() -> None:
    req = wire.LoginRequest(hall_code="DEMO", window_no=1, username="王晓燕", password="p\tw", device_id="d")
    assert req.username == "王晓燕" and req.password == "p\tw"


def test_schema_documents_the_rule() -> None:
    props = wire.LoginRequest.model_json_schema()["properties"]
    assert props["hall_code"]["pattern"] == wire.NO_NUL_PATTERN
    reasons = wire.RatingPayload.model_json_schema()["properties"]["reasons"]
    assert reasons["items"]["pattern"] == wire.NO_NUL_PATTERN
