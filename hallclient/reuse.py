"""复用既往材料: papers the applicant handed in for an earlier case, offered instead of new ones.

A material of the current item with ``reuse_days`` > 0 matches an earlier
submission of a material with the same name (whitespace ignored), in any item,
that the server still counts as usable. An offer is only an offer: it stands
for the material once the citizen has agreed on the citizen screen
(``consented_at``); refused or unanswered, the paper is asked for as usual.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from hallclient import wire
from hallclient.i18n import _

_SPACE = re.compile(r"\s+")


def same_material(a: str, b: str) -> bool:
    return _SPACE.sub("", a) == _SPACE.sub("", b)


@dataclass(frozen=True)
class ReuseOffer:
    material_code: str
    material_name: str
    earlier: wire.EarlierMaterial
    consented_at: dt.datetime | None = None

    @property
    def submitted_on(self) -> dt.date:
        return self.earlier.submitted_at.astimezone().date()

    def describe(self) -> str:
        """For the checklist: which case it came from and until when it may be used."""
        return _("{item}（{date} 提交，可用至 {until}）").format(
            item=self.earlier.item_name,
            date=self.submitted_on.isoformat(),
            until=self.earlier.valid_until.isoformat(),
        )

    def source_note(self) -> str:
        """What the receipt states about where the material came from."""
        return _("复用办件 {case_no}（{date}）提交的材料").format(
            case_no=self.earlier.case_no, date=self.submitted_on.isoformat()
        )

    def reused_from(self) -> wire.ReusedFrom:
        assert self.consented_at is not None
        return wire.ReusedFrom(
            case_no=self.earlier.case_no,
            material_code=self.earlier.material_code,
            sha256=self.earlier.sha256,
            submitted_on=self.submitted_on.isoformat(),
            consented_at=self.consented_at.isoformat(),
        )


def match_earlier(item: wire.ServiceItem, earlier: list[wire.EarlierMaterial]) -> dict[str, ReuseOffer]:
    """For each re-usable material of the item: the latest earlier submission of the same name."""
    out: dict[str, ReuseOffer] = {}
    for m in item.materials:
        if m.reuse_days <= 0:
            continue
        found = [e for e in earlier if same_material(e.material_name, m.name)]
        if found:
            latest = max(found, key=lambda e: e.submitted_at)
            out[m.code] = ReuseOffer(m.code, m.name, latest)
    return out
