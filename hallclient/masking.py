"""Masking of personal data wherever it is shown to someone other than its owner.

One place for the rules, used by the citizen screen, printing, logs and exports
(DESIGN.md): ID ``110101********123X``, phone ``138****5678``, name ``张*``.
"""

from __future__ import annotations


def mask_id_number(id_number: str) -> str:
    """Keep the 6-digit region and the last 4 characters of an 18-character ID."""
    s = id_number.strip()
    if len(s) <= 10:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def mask_phone(phone: str) -> str:
    """Keep the 3-digit prefix and the last 4 digits of a mobile number."""
    s = phone.strip()
    if len(s) <= 7:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 7) + s[-4:]


def mask_name(name: str) -> str:
    """Keep the first character (the family name, for most Chinese names)."""
    s = name.strip()
    if len(s) <= 1:
        return "*" * len(s)
    return s[0] + "*" * (len(s) - 1)
