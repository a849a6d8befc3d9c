"""A visit with several items (一件事一次办): the merged checklist and the order of decisions.

Citizens rarely come for one item: opening a business, a birth, a retirement are
"one thing" made of items of several departments, done in one visit at one
window. A paper that several items ask for is asked for once and checked once,
and the clerk's finding for it counts for every item that asked for it.

Two papers are the same when they have the same material code, or when a
bundle says so (``wire.SharedMaterial``: e.g. one 开办企业“一表通” form standing
for five departments' application forms). Qt-free and database-free; the server
uses :func:`shared_materials` to publish a bundle's shared list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hallclient import wire
from hallclient.decisions import MaterialFinding
from hallclient.i18n import _

# The synthetic item code of a visit's merged checklist (never a catalog code).
VISIT_CHECKLIST_CODE = "VISIT"


@dataclass(frozen=True)
class MergedMaterial:
    """One paper of the visit's checklist and the items' materials it stands for."""

    key: str
    name: str
    original_required: bool
    copies: int
    license_types: tuple[str, ...]
    uses: tuple[tuple[str, str], ...]  # (item code, material code)
    # Days an earlier submission stands for this paper: the strictest of its items' rules.
    reuse_days: int = 0

    @property
    def item_codes(self) -> list[str]:
        return list(dict.fromkeys(item for item, _m in self.uses))

    @property
    def shared(self) -> bool:
        return len(self.item_codes) > 1


def merge_materials(
    items: Sequence[wire.ServiceItem], shared: Iterable[wire.SharedMaterial] = ()
) -> list[MergedMaterial]:
    """The visit's checklist: each paper once, in the order the items (in decision order) ask for them.

    A bundle's shared list says which differently coded materials are one paper; materials
    with the same code are one paper anyway (an ID card is an ID card for every item).
    """
    alias: dict[tuple[str, str], wire.SharedMaterial] = {}
    for s in shared:
        for use in s.used_by:
            alias[(use.item_code, use.material_code)] = s
    rows: dict[str, dict[str, object]] = {}
    for item in items:
        for m in item.materials:
            group = alias.get((item.code, m.code))
            key = group.code if group is not None else m.code
            row = rows.get(key)
            if row is None:
                row = rows[key] = {
                    "name": group.name if group is not None else m.name,
                    "original": m.original_required,
                    "copies": m.copies,
                    "licenses": list(m.license_types),
                    "reuse": m.reuse_days,
                    "uses": [],
                }
            else:
                row["original"] = bool(row["original"]) or m.original_required
                row["copies"] = max(int(row["copies"]), m.copies)  # type: ignore[call-overload]
                row["reuse"] = min(int(row["reuse"]), m.reuse_days)  # type: ignore[call-overload]
                licenses = row["licenses"]
                assert isinstance(licenses, list)
                licenses += [t for t in m.license_types if t not in licenses]
            uses = row["uses"]
            assert isinstance(uses, list)
            uses.append((item.code, m.code))
    return [
        MergedMaterial(
            key=key,
            name=str(r["name"]),
            original_required=bool(r["original"]),
            copies=int(r["copies"]),  # type: ignore[call-overload]
            license_types=tuple(r["licenses"]),  # type: ignore[arg-type]
            uses=tuple(r["uses"]),  # type: ignore[arg-type]
            reuse_days=int(r["reuse"]),  # type: ignore[call-overload]
        )
        for key, r in rows.items()
    ]


def shared_materials(
    items: Sequence[wire.ServiceItem], aliases: Sequence[wire.SharedMaterial] = ()
) -> list[wire.SharedMaterial]:
    """A bundle's published shared list: its aliases, and every material code two items ask for."""
    out: list[wire.SharedMaterial] = []
    for row in merge_materials(items, aliases):
        if not row.shared:
            continue
        out.append(
            wire.SharedMaterial(
                code=row.key,
                name=row.name,
                original_required=row.original_required,
                copies=row.copies,
                used_by=[wire.MaterialUse(item_code=i, material_code=m) for i, m in row.uses],
            )
        )
    return out


@dataclass(frozen=True)
class DecidedItem:
    """One item of the visit after its decision."""

    item_code: str
    item_name: str
    department: str
    case_no: str
    decision: wire.Decision
    promised_date: dt.date | None = None
    correction_deadline: dt.date | None = None
    promised_days: int = 0


@dataclass(frozen=True)
class Visit:
    """The items of one ticket, in the order they are decided, and what was decided so far."""

    items: tuple[wire.ServiceItem, ...]
    bundle: wire.Bundle | None = None
    decided: tuple[DecidedItem, ...] = ()
    receipt_doc_id: str = ""
    materials: tuple[MergedMaterial, ...] = field(default=())

    @classmethod
    def of(cls, items: Sequence[wire.ServiceItem], bundle: wire.Bundle | None = None) -> Visit:
        if not items:
            raise ValueError("a visit has at least one item")
        codes = [i.code for i in items]
        if len(set(codes)) != len(codes):
            raise ValueError("an item appears twice in the visit")
        shared = bundle.shared_materials if bundle is not None else ()
        return cls(tuple(items), bundle, (), "", tuple(merge_materials(items, shared)))

    @property
    def name(self) -> str:
        if self.bundle is not None:
            return self.bundle.name
        return _("{n} 个事项").format(n=len(self.items))

    @property
    def item_codes(self) -> list[str]:
        return [i.code for i in self.items]

    def item(self, code: str) -> wire.ServiceItem:
        for i in self.items:
            if i.code == code:
                return i
        raise KeyError(code)

    def decided_item(self, code: str) -> DecidedItem | None:
        return next((d for d in self.decided if d.item_code == code), None)

    @property
    def next_item(self) -> wire.ServiceItem | None:
        """The first item not decided yet: items are decided in the bundle's order."""
        done = {d.item_code for d in self.decided}
        return next((i for i in self.items if i.code not in done), None)

    @property
    def complete(self) -> bool:
        return self.next_item is None

    @property
    def case_nos(self) -> list[str]:
        return [d.case_no for d in self.decided]

    def position(self, code: str) -> int:
        return self.item_codes.index(code) + 1

    def ref(self, code: str) -> wire.VisitRef:
        return wire.VisitRef(
            bundle_code=self.bundle.code if self.bundle else None,
            item_codes=self.item_codes,
            position=self.position(code),
        )

    def with_item(self, item: wire.ServiceItem) -> Visit:
        """An item added at the counter (ad hoc): decided after those already in the visit."""
        if item.code in self.item_codes:
            raise ValueError(f"{item.code} is already in the visit")
        items = (*self.items, item)
        shared = self.bundle.shared_materials if self.bundle is not None else ()
        return Visit(
            items, self.bundle, self.decided, self.receipt_doc_id, tuple(merge_materials(items, shared))
        )

    def without_item(self, code: str) -> Visit:
        if self.decided_item(code) is not None:
            raise ValueError(f"{code} is decided already")
        items = tuple(i for i in self.items if i.code != code)
        if not items:
            raise ValueError("a visit has at least one item")
        shared = self.bundle.shared_materials if self.bundle is not None else ()
        return Visit(
            items, self.bundle, self.decided, self.receipt_doc_id, tuple(merge_materials(items, shared))
        )

    def with_decided(self, d: DecidedItem) -> Visit:
        return Visit(self.items, self.bundle, (*self.decided, d), self.receipt_doc_id, self.materials)

    def with_receipt(self, doc_id: str) -> Visit:
        return Visit(self.items, self.bundle, self.decided, doc_id, self.materials)

    def checklist_item(self) -> wire.ServiceItem:
        """The merged checklist as one synthetic item, so the workspace shows and checks it like one."""
        return wire.ServiceItem(
            code=VISIT_CHECKLIST_CODE,
            version=1,
            name=self.name,
            department="、".join(dict.fromkeys(i.department for i in self.items)),
            legal_days=max(i.legal_days for i in self.items),
            promised_days=max(i.promised_days for i in self.items),
            instant=all(i.instant for i in self.items),
            materials=[
                wire.Material(
                    code=m.key,
                    name=m.name,
                    original_required=m.original_required,
                    copies=m.copies,
                    license_types=list(m.license_types),
                    reuse_days=m.reuse_days,
                )
                for m in self.materials
            ],
        )

    def findings_for(
        self, item_code: str, merged: Mapping[str, MaterialFinding]
    ) -> dict[str, MaterialFinding]:
        """The clerk's findings on the merged checklist, as the findings of one item's own materials."""
        out: dict[str, MaterialFinding] = {}
        for row in self.materials:
            finding = merged.get(row.key)
            if finding is None:
                continue
            for item, material in row.uses:
                if item == item_code:
                    out[material] = finding
        return out

    def used_by_names(self, key: str) -> list[str]:
        """The names of the items a checklist paper is used for."""
        row = next((m for m in self.materials if m.key == key), None)
        if row is None:
            return []
        names = {i.code: i.name for i in self.items}
        return [names[c] for c in row.item_codes if c in names]


def bundle_items(bundle: wire.Bundle, catalog: Mapping[str, wire.ServiceItem]) -> list[wire.ServiceItem]:
    """A bundle's items from the catalog, in its decision order; a missing item is an error to show."""
    missing = [c for c in bundle.items if c not in catalog]
    if missing:
        raise KeyError(", ".join(missing))
    return [catalog[c] for c in bundle.items]
