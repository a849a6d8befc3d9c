"""Matching earlier submissions to an item's materials (复用既往材料), without a server."""

from __future__ import annotations

import datetime as dt

import pytest

from hallclient import decisions, wire
from hallclient.decisions import MaterialFinding
from hallclient.domain import MaterialCheck
from hallclient.reuse import match_earlier

NOW = dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.UTC)


def earlier(name: str, case_no: str = "DEMO-20260101-01-0001", days_ago: int = 10) -> wire.EarlierMaterial:
    at = NOW - dt.timedelta(days=days_ago)
    return wire.EarlierMaterial(
        case_no=case_no,
        item_code="X",
        item_name="个体工商户设立登记",
        material_code="M001",
        material_name=name,
        submitted_at=at,
        valid_until=at.date() + dt.timedelta(days=180),
        sha256="a" * 64,
        pages=1,
    )


ITEM = wire.ServiceItem(
    code="Y",
    version=1,
    name="食品经营许可证核发",
    department="市场监督管理局",
    legal_days=20,
    promised_days=10,
    materials=[
        wire.Material(code="A", name="申请人居民身份证", reuse_days=180),
        wire.Material(code="B", name="食品经营许可申请书", copies=0),  # a form: never re-used
    ],
)


def test_same_name_whitespace_aside_matches_and_the_latest_wins() -> None:
    found = [
        earlier("申请人 居民身份证", "DEMO-1", days_ago=40),
        earlier("申请人居民身份证", "DEMO-2", days_ago=5),
        earlier("食品经营许可申请书", "DEMO-3"),
    ]
    offers = match_earlier(ITEM, found)
    assert set(offers) == {"A"}
    assert offers["A"].earlier.case_no == "DEMO-2" and offers["A"].consented_at is None
    assert "DEMO-2" in offers["A"].source_note()


def test_reused_counts_as_provided_only_with_consent() -> None:
    offers = match_earlier(ITEM, [earlier("申请人居民身份证")])
    findings = {"A": MaterialFinding(MaterialCheck.REUSED), "B": MaterialFinding(MaterialCheck.ORIGINAL_SEEN)}
    with pytest.raises(decisions.DecisionRefused, match="同意"):
        decisions.check_reused(ITEM, findings, offers)
    agreed = {"A": offers["A"].__class__(**{**offers["A"].__dict__, "consented_at": NOW})}
    decisions.check_reused(ITEM, findings, agreed)
    decisions.check_accept(ITEM, findings)  # §32: complete, nothing missing
