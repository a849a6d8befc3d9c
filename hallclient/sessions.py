"""Clerk sign-in that also works offline, and the lockout that protects it.

After each successful online sign-in the clerk's password is kept here only as
an argon2 verifier, with the clerk's public details; an offline sign-in or an
unlock checks the password against it, for ``offline_login_days`` at most.
Where the clerk signs in with two factors, the TOTP secret the server handed
over is kept too, AES-GCM-encrypted under a key derived (argon2id) from the
password, so a copy of the store without the password gives no codes; an
offline sign-in then checks the password and the code, each code once.
Wrong passwords and wrong codes in a row lock the account on this counter for
a while, online attempts answered by the server included, so guessing offline
gains nothing. Nothing here logs a password, a code or a secret.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

from hallclient import wire
from hallclient.config import SecurityConfig
from hallclient.i18n import _
from hallclient.store import Store

VERIFIER_KEY = "offline_verifier"
LAST_STEP_KEY = "totp_last_step"
# RFC 6238 as the server and the phone apps use it: 6 digits, 30-second steps, and one
# step either side accepted. A counter clock further off than that cannot check codes.
TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
TOTP_WINDOW_STEPS = 1
TOTP_TOLERANCE = dt.timedelta(seconds=TOTP_STEP_SECONDS * TOTP_WINDOW_STEPS)
# argon2id for the key that encrypts the TOTP secret (RFC 9106's second recommended setting).
_KDF = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}

# Which failure a wrong answer was, for the words and the field the dialog puts the cursor in.
PASSWORD = "password"
TOTP = "totp_code"
RECOVERY = "recovery_code"


class SignInRefused(Exception):
    """A sign-in or unlock refused; the message says why and, when locked, until when.

    ``field`` names what to type again: "password", "totp_code", "recovery_code" or None.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def refused_field(exc: BaseException) -> str | None:
    """The field a refused sign-in points at, also through a CounterError raised from it."""
    for e in (exc, exc.__cause__):
        if isinstance(e, SignInRefused):
            return e.field
    return None


def totp_step(secret: str, code: str, when: dt.datetime) -> int | None:
    """The time-step (now or one either side) whose code ``code`` is, or None; RFC 6238."""
    import pyotp

    code = "".join(ch for ch in code if ch.isdigit() or ch.isalpha())
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    otp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
    now = otp.timecode(when)
    near = [now + d for k in range(1, TOTP_WINDOW_STEPS + 1) for d in (-k, k)]
    for step in [now, *near]:
        if hmac.compare_digest(otp.generate_otp(step), code):
            return step
    return None


def _key_from_password(password: str, salt: bytes) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(password.encode("utf-8"), salt, hash_len=32, type=Type.ID, **_KDF)


def _aad(username: str) -> bytes:
    return f"hallclient/totp/{username}".encode()


def seal_secret(secret: str, password: str, username: str) -> dict[str, str]:
    """The TOTP secret encrypted (AES-256-GCM) under a key derived from the password."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_key_from_password(password, salt)).encrypt(nonce, secret.encode("ascii"), _aad(username))
    return {
        "kdf": "argon2id",
        "salt": base64.b64encode(salt).decode("ascii"),
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "ct": base64.b64encode(sealed).decode("ascii"),
    }


def open_secret(sealed: dict[str, str], password: str, username: str) -> str | None:
    """The TOTP secret, or None when the password (or the record) is not the one it was sealed with."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        key = _key_from_password(password, base64.b64decode(sealed["salt"]))
        plain = AESGCM(key).decrypt(
            base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ct"]), _aad(username)
        )
    except (InvalidTag, KeyError, ValueError):
        return None
    return plain.decode("ascii")


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
                _(
                    "密码或动态口令连续输错次数过多，账号在本机锁定至 {time}，请稍后再试或联系大厅负责人。"
                ).format(time=until.strftime("%H:%M"))
            )

    def failed(self, username: str, what: str = PASSWORD, *, reused: bool = False) -> str:
        """Count a wrong password or code; the words to show, which say how many tries are left."""
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
        left, time = limit - count, locked_until.strftime("%H:%M") if locked_until else ""
        if what == TOTP and reused:
            if locked_until is not None:
                return _("这个动态口令已经用过。已连续输错 {n} 次，账号在本机锁定至 {time}。").format(
                    n=count, time=time
                )
            return _("这个动态口令已经用过，请等手机上出现新的口令再输入（还可以再试 {left} 次）").format(
                left=left
            )
        if what == TOTP:
            if locked_until is not None:
                return _("动态口令不对。已连续输错 {n} 次，账号在本机锁定至 {time}。").format(
                    n=count, time=time
                )
            return _("动态口令不对或已过期，请输入手机上当前显示的 6 位数字（还可以再试 {left} 次）").format(
                left=left
            )
        if what == RECOVERY:
            if locked_until is not None:
                return _("备用码不对或已经用过。已连续输错 {n} 次，账号在本机锁定至 {time}。").format(
                    n=count, time=time
                )
            return _("备用码不对或已经用过，每个备用码只能用一次（还可以再试 {left} 次）").format(left=left)
        if locked_until is not None:
            return _("用户名或密码错误。已连续输错 {n} 次，账号在本机锁定至 {time}。").format(
                n=count, time=time
            )
        return _("用户名或密码错误（还可以再试 {left} 次）").format(left=left)

    def succeeded(self, username: str) -> None:
        if self.store.get_state(self._failures_key(username)):
            self.store.set_state(self._failures_key(username), "")

    # -- the verifier ---------------------------------------------------------------------

    def remember(
        self,
        username: str,
        password: str,
        clerk: wire.ClerkInfo,
        hall_name: str,
        *,
        second_factor: bool = False,
        totp_secret: str | None = None,
        totp_code: str | None = None,
    ) -> None:
        """Keep what an offline sign-in will check, after an online sign-in the server accepted.

        With ``second_factor`` the offline sign-in asks for a code too; the secret is
        kept sealed under the password, and the code just used online is spent here as well.
        """
        from argon2 import PasswordHasher

        record = {
            "username": username,
            "hash": PasswordHasher().hash(password),
            "clerk": clerk.model_dump(),
            "hall_name": hall_name,
            "at": self.clock().isoformat(),
            "second_factor": second_factor,
            "totp": seal_secret(totp_secret, password, username) if totp_secret else None,
        }
        # One verifier per clerk: the clerks of several shifts may each sign in offline here.
        self.store.set_state(f"{VERIFIER_KEY}/{username}", json.dumps(record, ensure_ascii=False))
        if totp_secret and totp_code:
            step = totp_step(totp_secret, totp_code, self.clock())
            if step is not None:
                self._spend_step(username, step)

    def _last_step(self, username: str) -> int:
        raw = self.store.get_state(f"{LAST_STEP_KEY}/{username}")
        return int(raw) if raw else -1

    def _spend_step(self, username: str, step: int) -> None:
        if step > self._last_step(username):
            self.store.set_state(f"{LAST_STEP_KEY}/{username}", str(step))

    def verify(
        self,
        username: str,
        password: str,
        *,
        why_offline: str = "",
        totp_code: str | None = None,
        recovery_code: str | None = None,
    ) -> CachedClerk:
        """Check a sign-in against what was cached (offline sign-in, unlock), with lockout.

        An offline sign-in (``why_offline`` set) of a clerk who signs in with two factors
        needs the code as well; an unlock of the session already open takes the password.
        """
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
            raise SignInRefused(self.failed(username), PASSWORD) from None
        if why_offline and (record.get("second_factor") or record.get("totp")):
            self._second_factor_offline(username, password, record, prefix, totp_code, recovery_code)
        self.succeeded(username)
        return CachedClerk(wire.ClerkInfo.model_validate(record["clerk"]), record["hall_name"])

    def _second_factor_offline(
        self,
        username: str,
        password: str,
        record: dict[str, object],
        prefix: str,
        totp_code: str | None,
        recovery_code: str | None,
    ) -> None:
        if recovery_code and not totp_code:
            # Recovery codes are spent on the server; offline this counter could not spend one.
            raise SignInRefused(prefix + _("备用码只能在联网时使用；离线时请输入手机上的动态口令。"), TOTP)
        if not totp_code:
            raise SignInRefused(prefix + _("请同时输入手机身份验证器上的 6 位动态口令。"), TOTP)
        sealed = record.get("totp")
        secret = open_secret(sealed, password, username) if isinstance(sealed, dict) else None
        if secret is None:
            raise SignInRefused(
                prefix + _("本机没有保存此账号的动态口令密钥，离线时无法登录；请在网络恢复后在线登录。")
            )
        step = totp_step(secret, totp_code, self.clock())
        if step is None:
            message = self.failed(username, TOTP)
            raise SignInRefused(
                message
                + _("（如果口令确实是手机上刚显示的，可能是本机时间不准：本机现在是 {now}。）").format(
                    now=self.clock().strftime("%H:%M:%S")
                ),
                TOTP,
            )
        if step <= self._last_step(username):
            raise SignInRefused(self.failed(username, TOTP, reused=True), TOTP)
        self._spend_step(username, step)
