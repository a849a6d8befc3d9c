"""Clerk passwords (argon2) and second factor (TOTP), bearer tokens, lockout, the login log, one device per window."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver import totp
from hallserver.errors import ApiError
from hallserver.models import AuthToken, Clerk, Hall, LoginEvent, RecoveryCode, Window

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
TOKEN_LIFETIME = dt.timedelta(hours=12)

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the clerk, at which window, from which device."""

    clerk_id: int
    hall_code: str
    window_no: int
    device_id: str
    role: str


BAD_CREDENTIALS = "用户名或密码错误"


@dataclass
class Attempt:
    """What one sign-in attempt got as far as, for its line in the login log."""

    clerk_id: int | None = None
    username: str = ""
    factor: str = "password"


def login(s: Session, req: wire.LoginRequest, now: dt.datetime) -> wire.LoginResponse:
    """Password, then (where the hall requires it or the clerk has one) the second factor.

    Every attempt, refused or not, leaves one row in the login log. Wrong passwords,
    wrong or replayed codes and wrong recovery codes all count towards the lockout.
    """
    attempt = Attempt()
    try:
        resp = _login(s, req, now, attempt)
    except ApiError as exc:
        s.rollback()  # what was meant to be kept (the failure count) is committed already
        log_attempt(s, req.hall_code, req.window_no, req.device_id, now, attempt, exc.code)
        s.commit()
        raise
    log_attempt(s, req.hall_code, req.window_no, req.device_id, now, attempt, "ok")
    s.commit()
    return resp


def log_attempt(
    s: Session,
    hall_code: str,
    window_no: int,
    device_id: str,
    now: dt.datetime,
    attempt: Attempt,
    outcome: str,
) -> None:
    s.add(
        LoginEvent(
            at=now,
            hall_code=hall_code,
            window_no=window_no,
            device_id=device_id,
            clerk_id=attempt.clerk_id,
            username=attempt.username,
            outcome=outcome,
            factor=attempt.factor,
        )
    )


def _failed(s: Session, clerk: Clerk, now: dt.datetime, code: str, message: str, field: str) -> ApiError:
    """Count a failed factor towards the lockout (committed at once) and say what was wrong."""
    clerk.failed_logins += 1
    if clerk.failed_logins >= MAX_FAILED_LOGINS:
        clerk.locked_until = now + LOCKOUT
        clerk.failed_logins = 0
    s.commit()
    return ApiError(401, code, message, field)


@dataclass(frozen=True)
class Factors:
    """What a person typed to prove who they are."""

    password: str
    totp_code: str | None = None
    recovery_code: str | None = None


@dataclass(frozen=True)
class Verified:
    second_factor: bool
    recovery_codes_left: int | None


def verify_factors(
    s: Session, hall: Hall, clerk: Clerk, factors: Factors, now: dt.datetime, attempt: Attempt
) -> Verified:
    """The one check of an account's factors, for the counters and the department page alike.

    Raises ApiError with the reason in words. On success the failure count is reset
    and the accepted TOTP step (or recovery code) marked used, uncommitted: the caller
    commits with the rest of the sign-in, or rolls it all back.
    """
    attempt.clerk_id, attempt.username = clerk.id, clerk.username
    if clerk.disabled:
        raise ApiError(403, "account_disabled", "该账号已停用，请联系大厅管理员")
    if clerk.locked_until is not None and clerk.locked_until > now:
        # Round up: with exactly 15 minutes left the clerk is told 15, not 16.
        minutes = max(1, math.ceil((clerk.locked_until - now).total_seconds() / 60))
        raise ApiError(
            423,
            "account_locked",
            f"密码或动态口令连续输错 {MAX_FAILED_LOGINS} 次，账号已锁定，请 {minutes} 分钟后再试",
        )
    if not check_password(clerk.password_hash, factors.password):
        raise _failed(s, clerk, now, "bad_credentials", BAD_CREDENTIALS, "password")
    second_factor = hall.require_second_factor or clerk.totp_secret is not None
    recovery_left: int | None = None
    if second_factor:
        accepted_step, recovery_left = _second_factor(s, hall, clerk, factors, now, attempt)
        if accepted_step is not None:
            clerk.totp_last_step = accepted_step
    clerk.failed_logins = 0
    clerk.locked_until = None
    return Verified(second_factor, recovery_left)


def _login(s: Session, req: wire.LoginRequest, now: dt.datetime, attempt: Attempt) -> wire.LoginResponse:
    hall = s.get(Hall, req.hall_code)
    if hall is None:
        raise ApiError(404, "unknown_hall", f"大厅编码 {req.hall_code} 不存在，请检查客户端配置", "hall_code")
    window = s.get(Window, (req.hall_code, req.window_no))
    if window is None:
        raise ApiError(
            404, "unknown_window", f"{hall.name}没有 {req.window_no} 号窗口，请检查客户端配置", "window_no"
        )
    clerk = s.scalar(select(Clerk).where(Clerk.hall_code == req.hall_code, Clerk.username == req.username))
    if clerk is None:
        # Same answer as a wrong password: do not tell a stranger which accounts exist.
        raise ApiError(401, "bad_credentials", BAD_CREDENTIALS, "password")
    verified = verify_factors(
        s, hall, clerk, Factors(req.password, req.totp_code, req.recovery_code), now, attempt
    )
    _claim_window(s, window, req.device_id, now)
    token = secrets.token_urlsafe(32)
    expires = now + TOKEN_LIFETIME
    s.add(
        AuthToken(
            token_hash=token_digest(token),
            clerk_id=clerk.id,
            hall_code=req.hall_code,
            window_no=req.window_no,
            device_id=req.device_id,
            expires_at=expires,
        )
    )
    return wire.LoginResponse(
        token=token,
        expires_at=expires,
        clerk=wire.ClerkInfo(
            id=clerk.id, name=clerk.name, staff_no=clerk.staff_no, photo_url=clerk.photo_url, role=clerk.role
        ),
        hall_name=hall.name,
        second_factor=verified.second_factor,
        # For the counter to keep, encrypted under a key from the password, for offline sign-in.
        totp_secret=clerk.totp_secret if verified.second_factor else None,
        recovery_codes_left=verified.recovery_codes_left,
    )


def _second_factor(
    s: Session, hall: Hall, clerk: Clerk, factors: Factors, now: dt.datetime, attempt: Attempt
) -> tuple[int | None, int | None]:
    """Check the TOTP code or a recovery code; the time-step accepted, or recovery codes left."""
    if clerk.totp_secret is None:
        raise ApiError(
            403,
            "totp_not_enrolled",
            f"{hall.name}要求用密码和动态口令两种方式登录，此账号还没有绑定动态口令；"
            "请大厅管理员在监管窗口“账号与动态口令”中为此账号绑定，"
            f"或执行 hallserver clerk enrol-totp {clerk.username} --hall {hall.code}，绑定后再登录",
        )
    if factors.recovery_code:
        attempt.factor = "recovery_code"
        for row in s.scalars(
            select(RecoveryCode)
            .where(RecoveryCode.clerk_id == clerk.id, RecoveryCode.used_at.is_(None))
            .order_by(RecoveryCode.id)
        ):
            if totp.check_recovery_code(row.code_hash, factors.recovery_code):
                row.used_at = now
                left = s.scalar(
                    select(func.count())
                    .select_from(RecoveryCode)
                    .where(RecoveryCode.clerk_id == clerk.id, RecoveryCode.used_at.is_(None))
                )
                return None, int(left or 0)
        raise _failed(
            s,
            clerk,
            now,
            "recovery_code_invalid",
            "备用码不对或已经用过（每个备用码只能用一次）",
            "recovery_code",
        )
    if not factors.totp_code:
        attempt.factor = "totp"
        raise ApiError(
            401,
            "totp_required",
            f"{hall.name}要求双因素登录：请同时输入手机身份验证器上的 6 位动态口令",
            "totp_code",
        )
    attempt.factor = "totp"
    step = totp.matching_step(clerk.totp_secret, factors.totp_code, now)
    if step is None:
        raise _failed(
            s,
            clerk,
            now,
            "totp_invalid",
            "动态口令不对或已过期：请输入手机上当前显示的 6 位数字",
            "totp_code",
        )
    if clerk.totp_last_step is not None and step <= clerk.totp_last_step:
        raise _failed(
            s,
            clerk,
            now,
            "totp_reused",
            "这个动态口令已经用过：请等手机上出现新的口令再输入（每个口令只能用一次）",
            "totp_code",
        )
    return step, None


def _claim_window(s: Session, window: Window, device_id: str, now: dt.datetime) -> None:
    if window.device_id not in (None, device_id):
        holder_active = s.scalar(
            select(AuthToken.token_hash).where(
                AuthToken.hall_code == window.hall_code,
                AuthToken.window_no == window.window_no,
                AuthToken.device_id == window.device_id,
                AuthToken.revoked.is_(False),
                AuthToken.expires_at > now,
            )
        )
        if holder_active is not None:
            raise ApiError(
                409,
                "window_taken",
                f"{window.window_no} 号窗口已在另一台电脑（{window.device_id}）上登录；"
                "请先在那台电脑上退出，或联系管理员",
                "window_no",
            )
    window.device_id = device_id


def logout(s: Session, principal: Principal, token: str) -> None:
    s.execute(update(AuthToken).where(AuthToken.token_hash == token_digest(token)).values(revoked=True))
    window = s.get(Window, (principal.hall_code, principal.window_no))
    if window is not None and window.device_id == principal.device_id:
        window.device_id = None
    s.commit()


def authenticate(s: Session, authorization: str | None, now: dt.datetime) -> tuple[Principal, str]:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "not_logged_in", "未登录或登录信息缺失，请重新登录")
    token = authorization[7:].strip()
    row = s.get(AuthToken, token_digest(token))
    if row is None or row.revoked:
        raise ApiError(401, "not_logged_in", "登录已失效，请重新登录")
    if row.expires_at <= now:
        raise ApiError(401, "token_expired", "登录已过期，请重新登录")
    clerk = s.get(Clerk, row.clerk_id)
    if clerk is None or clerk.disabled:
        raise ApiError(403, "account_disabled", "该账号已停用，请联系大厅管理员")
    return Principal(row.clerk_id, row.hall_code, row.window_no, row.device_id, clerk.role), token
