"""Which materials of an item the e-license registry already holds for the applicant (减证便民).

A material names the license types that satisfy it; a valid license of one of
those types satisfies it, shown as 由电子证照提供 instead of asking for paper.
An expired or revoked license is shown as such and satisfies nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hallclient import wire
from hallclient.i18n import _


@dataclass(frozen=True)
class LicenseMatch:
    material_code: str
    license: wire.ELicense
    usable: bool

    def describe(self) -> str:
        """For the checklist: the license, its issuer and validity, or why it cannot be used."""
        lic = self.license
        until = lic.valid_until.isoformat() if lic.valid_until else _("长期")
        if lic.status is wire.LicenseStatus.REVOKED:
            return _("{type}已被注销，不能使用").format(type=lic.type_name)
        if lic.status is wire.LicenseStatus.EXPIRED:
            return _("{type}已于 {date} 过期，不能使用").format(type=lic.type_name, date=until)
        return _("{type}（{issuer}，有效期至 {date}）").format(
            type=lic.type_name, issuer=lic.issuer, date=until
        )

    def source_note(self) -> str:
        """What the receipt states about where the material came from."""
        return _("电子证照 {type} {no}").format(type=self.license.type_name, no=self.license.license_no)


def match_licenses(item: wire.ServiceItem, licenses: list[wire.ELicense]) -> dict[str, LicenseMatch]:
    """For each material with license types: the best license found (a usable one first)."""
    out: dict[str, LicenseMatch] = {}
    for m in item.materials:
        candidates = [lic for lic in licenses if lic.type_code in m.license_types]
        if not candidates:
            continue
        usable = [lic for lic in candidates if lic.status is wire.LicenseStatus.VALID]
        best = max(usable or candidates, key=lambda lic: lic.valid_until or dt.date.max)
        out[m.code] = LicenseMatch(m.code, best, usable=bool(usable))
    return out
