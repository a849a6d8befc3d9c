"""Clerk sign-in that also works offline, and the lockout that protects it.

After each successful online sign-in the clerk's password is kept here only as
an argon2 verifier, with the clerk's public details; an offline sign-in or an
unlock checks the password against it, for ``offline_login_days`` at most.
Wrong passwords in a row lock the account on this counter for a while, online
attempts answered by the server included, so guessing offline gains nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from hallclient import wire
from hallclient.config import SecurityConfig
from hallclient.i18n import _
from hallclient.store import Store

VERIFIER_KEY = "offline_verifier"


class SignInRefused(Exception):
    """A sign-in or unlock refused; the message says why and, when locked, until when."""


@dataclass(frozen=True)
class CachedClerk:
    clerk: wire.ClerkInfo
    hall_name: str


class SignInGuard:
    def __init__(self, store: Store, config: SecurityConfig, clock: Callable[[], dt.datetime]) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    # -- lockout ------------------------------------------------------------------------

    def _failures_key(self, username: str) -> str:
        return f"login_failures/{username}"

    def _failures(self, username: str) -> tuple[int, dt.datetime | None]:
        raw = self.store.get_state(self._failures_key(username))
        if not raw:
            return 0, None
        data = json.loads(raw)
        until = dt.datetime.fromisoformat(data["locked_until"]) if data.get("locked_until") else None
        return int(data["count"]), until

    def check_not_locked(self, username: str) -> None:
        _count, until = self._failures(username)
        if until is not None and self.clock() < until:
            raise SignInRefused(
                _("密码连续输错次数过多，账号在本机锁定至 {time}，请稍后再试或联系大厅负责人。").format(
                    time=until.strftime("%H:%M")
                )
            )

    def failed(self, username: str) -> str:
        """Count a wrong password; the words to show, which say how many tries are left."""
        count, until = self._failures(username)
        if until is not None and self.clock() >= until:
            count = 0  # the lock ran out: a fresh series
        count += 1
        limit = self.config.max_failed_logins
        locked_until = None
        if count >= limit:
            locked_until = self.clock() + dt.timedelta(minutes=self.config.lockout_minutes)
        self.store.set_state(
            self._failures_key(username),
            json.dumps({"count": count, "locked_until": locked_until.isoformat() if locked_until else None}),
        )
        if locked_until is not None:
            return _("用户名或密码错误。已连续输错 {n} 次，账号在本机锁定至 {time}。").format(
                n=count, time=locked_until.strftime("%H:%M")
            )
        return _("用户名或密码错误（还可以再试 {left} 次）").format(left=limit - count)

    def succeeded(self, username: str) -> None:
        if self.store.get_state(self._failures_key(username)):
            self.store.set_state(self._failures_key(username), "")

    # -- the verifier ---------------------------------------------------------------------

    def remember(self, username: str, password: str, clerk: wire.ClerkInfo, hall_name: str) -> None:
        from argon2 import PasswordHasher

        record = {
            "username": username,
            "hash": PasswordHasher().hash(password),
            "clerk": clerk.model_dump(),
            "hall_name": hall_name,
            "at": self.clock().isoformat(),
        }
        # One verifier per clerk: the clerks of several shifts may each sign in offline here.
        self.store.set_state(f"{VERIFIER_KEY}/{username}", json.dumps(record, ensure_ascii=False))

    def verify(self, username: str, password: str, *, why_offline: str = "") -> CachedClerk:
        """Check a password against the cached verifier (offline sign-in, unlock), with lockout."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        self.check_not_locked(username)
        raw = self.store.get_state(f"{VERIFIER_KEY}/{username}")
        record = json.loads(raw) if raw else None
        prefix = f"{why_offline}。" if why_offline else ""
        if not record or record.get("username") != username:
            raise SignInRefused(prefix + _("离线登录需要此账号先在本机在线登录过一次。"))
        days = self.config.offline_login_days
        cached_at = dt.datetime.fromisoformat(record["at"])
        if why_offline and (days == 0 or self.clock() - cached_at > dt.timedelta(days=days)):
            raise SignInRefused(
                prefix + _("本机保存的登录凭据已超过 {days} 天，请在网络恢复后在线登录。").format(days=days)
            )
        try:
            PasswordHasher().verify(record["hash"], password)
        except (VerificationError, InvalidHashError):
            raise SignInRefused(self.failed(username)) from None
        self.succeeded(username)
        return CachedClerk(wire.ClerkInfo.model_validate(record["clerk"]), record["hall_name"])
