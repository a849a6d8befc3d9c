"""A visit's merged checklist: each paper once, with the strictest of its items' rules."""

from __future__ import annotations

from hallclient import wire
from hallclient.visits import merge_materials


def item(code: str, *materials: wire.Material) -> wire.ServiceItem:
    return wire.ServiceItem(
        code=code,
        version=1,
        name=code,
        department="市场监督管理局",
        legal_days=20,
        promised_days=5,
        materials=list(materials),
    )


def test_a_shared_paper_is_reusable_only_as_long_as_every_item_using_it_allows() -> None:
    id_for_a = wire.Material(code="M001", name="身份证", reuse_days=365)
    id_for_b = wire.Material(code="M001", name="身份证", reuse_days=180)
    form = wire.Material(code="M002", name="申请表")
    merged = merge_materials([item("A", id_for_a, form), item("B", id_for_b)], [])
    by_key = {m.key: m for m in merged}
    assert by_key["M001"].reuse_days == 180 and by_key["M001"].item_codes == ["A", "B"]
    assert by_key["M002"].reuse_days == 0  # an application form is never taken from an earlier case
