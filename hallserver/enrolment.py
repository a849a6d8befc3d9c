"""Binding a clerk's authenticator (绑定动态口令): one procedure for the CLI and the admin's window.

A new secret and ten new recovery codes replace whatever the clerk had, so a lost
phone and its paper codes stop working at once. The codes leave here in clear text
exactly once, in the returned :class:`Enrolment`; only their argon2 hashes are
stored. Every enrolment leaves a row in the login log (factor ``enrol``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from hallserver import totp
from hallserver.models import Clerk, Hall, LoginEvent, RecoveryCode

CLI_DEVICE = "hallserver-cli"


class AlreadyEnrolled(Exception):
    """The clerk has a second factor and ``reset`` was not asked for."""


@dataclass(frozen=True)
class Actor:
    """Where the enrolment was done from, for the login log: the admin's device and window."""

    device_id: str
    window_no: int = 0


@dataclass(frozen=True)
class Enrolment:
    uri: str
    secret: str
    recovery_codes: list[str]
    enrolled_at: dt.datetime
    # True when an earlier secret (and its recovery codes) was voided.
    replaced: bool


def enrol(s: Session, clerk: Clerk, *, reset: bool, actor: Actor, now: dt.datetime) -> Enrolment:
    """Give ``clerk`` a new secret and recovery codes; the caller commits.

    Raises :class:`AlreadyEnrolled` when the clerk has one and ``reset`` is false: a
    second click must not silently void the phone a colleague is using.
    """
    replaced = clerk.totp_secret is not None
    if replaced and not reset:
        raise AlreadyEnrolled(clerk.username)
    hall = s.get(Hall, clerk.hall_code)
    assert hall is not None  # a foreign key
    secret = totp.new_secret()
    codes = totp.new_recovery_codes()
    clerk.totp_secret = secret
    clerk.totp_last_step = None
    clerk.totp_enrolled_at = now
    s.execute(delete(RecoveryCode).where(RecoveryCode.clerk_id == clerk.id))
    s.add_all(RecoveryCode(clerk_id=clerk.id, code_hash=totp.hash_recovery_code(c)) for c in codes)
    s.add(
        LoginEvent(
            at=now,
            hall_code=clerk.hall_code,
            window_no=actor.window_no,
            device_id=actor.device_id,
            clerk_id=clerk.id,
            username=clerk.username,
            outcome="totp_reset" if replaced else "totp_enrolled",
            factor="enrol",
        )
    )
    uri = totp.provisioning_uri(secret, clerk.username, hall.code, hall.name)
    return Enrolment(uri=uri, secret=secret, recovery_codes=codes, enrolled_at=now, replaced=replaced)


def grouped(secret: str) -> str:
    """The secret in groups of four, as it is typed into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
