"""The committed OpenAPI document is the one the code generates."""

from __future__ import annotations

import json

from hallserver.app import OPENAPI_FILE, openapi_document


def test_committed_openapi_matches_the_code() -> None:
    committed = OPENAPI_FILE.read_text(encoding="utf-8")
    assert committed == openapi_document(), (
        "hallserver/openapi.json is stale: run `make openapi` and commit it"
    )


def test_document_covers_the_wire_contract() -> None:
    doc = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    paths = set(doc["paths"])
    for path in (
        "/api/v1/auth/login",
        "/api/v1/catalog",
        "/api/v1/bookings",
        "/api/v1/sync/push",
        "/api/v1/sync/pull",
        "/api/v1/queue/call-next",
        "/api/v1/verify/{doc_id}",
        "/api/v1/stats",
        "/api/v1/health",
    ):
        assert path in paths, path
    assert "ErrorBody" in doc["components"]["schemas"]
