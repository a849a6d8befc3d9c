"""The clerks' second factor: TOTP codes (RFC 6238), one-time recovery codes, the otpauth QR code.

The secret is what a phone authenticator app (身份验证器) scans from the QR code;
each code is good for one 30-second time-step, one step either side is accepted
for clocks a little apart, and ``security.login`` accepts a step only once. The
recovery codes are shown once at enrolment and stored argon2-hashed.
Nothing here logs a code or a secret.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from pathlib import Path
from urllib.parse import quote

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hallclient import qr

STEP_SECONDS = 30
DIGITS = 6
# Steps either side of the server's own that are still accepted (phone clocks drift).
WINDOW_STEPS = 1
RECOVERY_CODES = 10
# Crockford's base32: no I, L, O, U, so a code read aloud or copied by hand survives.
_RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_RECOVERY_GROUPS = 3  # xxxx-xxxx-xxxx: 60 random bits
# Recovery codes are random (60 bits), not chosen by people: a light argon2id is plenty and keeps
# enrolment (10 hashes) and a recovery sign-in (up to 10 checks) quick.
_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def new_secret() -> str:
    """160 random bits, base32 (what RFC 4226 recommends and every authenticator app reads)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str, hall_code: str, hall_name: str) -> str:
    """The otpauth:// URI the QR code carries; the app shows "<hall name> (<user>@<hall>)"."""
    issuer = hall_name or hall_code
    label = quote(f"{issuer}:{username}@{hall_code}", safe="@:")
    # SHA-1, 6 digits and 30 s are the defaults every app assumes; left out, the QR code stays small.
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer, safe='')}"


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace() and ch != "-")


def matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time-step whose code this is (now, or one step either side), or None."""
    code = normalize_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = totp.timecode(now)
    near = [current + d for k in range(1, WINDOW_STEPS + 1) for d in (-k, k)]
    for step in [current, *near]:
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, when: dt.datetime) -> str:
    """The code a phone shows at ``when`` (tests and the enrolment check)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(when)


# -- recovery codes ----------------------------------------------------------------------------


def new_recovery_codes(n: int = RECOVERY_CODES) -> list[str]:
    return [
        "-".join(
            "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(_RECOVERY_GROUPS)
        )
        for _ in range(n)
    ]


def normalize_recovery_code(code: str) -> str:
    """Lower case, no dashes or spaces; the letters Crockford's base32 leaves out read as digits."""
    table = str.maketrans({"o": "0", "i": "1", "l": "1"})
    return normalize_code(code).lower().translate(table)


def hash_recovery_code(code: str) -> str:
    return _hasher.hash(normalize_recovery_code(code))


def check_recovery_code(stored_hash: str, code: str) -> bool:
    try:
        return _hasher.verify(stored_hash, normalize_recovery_code(code))
    except (VerificationError, InvalidHashError):
        return False


# -- the QR code -------------------------------------------------------------------------------


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR code's modules (True: dark); the admin's window draws the same ones (hallclient.qr)."""
    return qr.qr_matrix(text)


def qr_terminal(text: str, *, border: int = 2) -> str:
    """The QR code in half-block characters, two module rows per line.

    Dark modules are blanks and light ones are blocks, so it scans on the usual
    terminal with light text on a dark background.
    """
    matrix = qr_matrix(text)
    n = len(matrix) + 2 * border

    def light(r: int, c: int) -> bool:
        r, c = r - border, c - border
        inside = 0 <= r < len(matrix) and 0 <= c < len(matrix)
        return not (inside and matrix[r][c])

    glyphs = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}
    lines = []
    for r in range(0, n, 2):
        lines.append("".join(glyphs[(light(r, c), r + 1 < n and light(r + 1, c))] for c in range(n)))
    return "\n".join(lines)


def write_qr_png(text: str, path: Path, *, scale: int = 8, border: int = 4) -> None:
    """A black-on-white PNG of the QR code, written 0600 (it holds the secret)."""
    import os

    from PIL import Image

    matrix = qr_matrix(text)
    n = len(matrix) + 2 * border
    image = Image.new("1", (n, n), 1)
    image.putdata(
        [
            0
            if 0 <= r - border < len(matrix)
            and 0 <= c - border < len(matrix)
            and matrix[r - border][c - border]
            else 1
            for r in range(n)
            for c in range(n)
        ]
    )
    image = image.resize((n * scale, n * scale), Image.Resampling.NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        image.save(fh, format="PNG")
