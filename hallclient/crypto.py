"""Field encryption for personal data at rest, and the blind index for lookups.

A random 256-bit device data key encrypts each personal field with AES-GCM
(fresh nonce per value). A second key derived from it computes an HMAC blind
index of ID numbers, so "find by ID" is an indexed equality match without the
number ever being stored in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = b"v1:"


class KeyFileError(Exception):
    pass


def load_or_create_key(path: Path) -> bytes:
    """Read the device data key, creating it (mode 0600) on first use."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(key))
        return key
    except OSError as exc:
        raise KeyFileError(f"{path}: the device data key cannot be read: {exc}") from exc
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise KeyFileError(f"{path}: expected a base64 256-bit key; the file is damaged")
    return key


class FieldCipher:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._index_key = hashlib.sha256(b"hallclient blind index\x00" + key).digest()

    def encrypt(self, text: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return _PREFIX + nonce + self._aead.encrypt(nonce, text.encode("utf-8"), _PREFIX)

    def decrypt(self, blob: bytes) -> str:
        if not blob.startswith(_PREFIX):
            raise ValueError("not an encrypted field (unknown format)")
        body = blob[len(_PREFIX) :]
        return self._aead.decrypt(body[:12], body[12:], _PREFIX).decode("utf-8")

    def derive(self, label: str) -> bytes:
        """A key for another purpose (the audit chain's HMAC), bound to this device's key."""
        return hmac.new(
            self._index_key, b"hallclient derive\x00" + label.encode("utf-8"), hashlib.sha256
        ).digest()

    def blind_index(self, value: str) -> str:
        # hmac.digest is the one-shot C path: the same HMAC-SHA256, without building an HMAC object.
        return hmac.digest(self._index_key, value.strip().upper().encode("utf-8"), "sha256").hex()
