"""Ed25519 signatures over a printed document's canonical fields.

The hall signs; the platform server holds the hall's public key and its verify
page recomputes the check. Canonical form: the fields as JSON with sorted keys,
no whitespace, UTF-8 (so the same facts always give the same bytes).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_bytes(fields: Mapping[str, str]) -> bytes:
    return json.dumps(dict(fields), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def generate_private_key() -> str:
    """A new private key as url-safe base64 of its 32 raw bytes."""
    key = Ed25519PrivateKey.generate()
    return _b64(key.private_bytes_raw())


def public_key_of(private_key_b64: str) -> str:
    key = Ed25519PrivateKey.from_private_bytes(_unb64(private_key_b64))
    return _b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def sign_fields(private_key_b64: str, fields: Mapping[str, str]) -> str:
    key = Ed25519PrivateKey.from_private_bytes(_unb64(private_key_b64))
    return _b64(key.sign(canonical_bytes(fields)))


def verify_fields(public_key_b64: str, fields: Mapping[str, str], signature_b64: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(_unb64(public_key_b64))
        key.verify(_unb64(signature_b64), canonical_bytes(fields))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
