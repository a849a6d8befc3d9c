from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallclient.crypto import FieldCipher, KeyFileError, load_or_create_key

CIPHER = FieldCipher(b"k" * 32)


@given(st.text())
def test_round_trip_any_text(text: str) -> None:
    assert CIPHER.decrypt(CIPHER.encrypt(text)) == text


def test_ciphertext_hides_text_and_differs_each_time() -> None:
    a = CIPHER.encrypt("110105194912310021")
    b = CIPHER.encrypt("110105194912310021")
    assert a != b
    assert b"110105" not in a


def test_tampered_ciphertext_is_refused() -> None:
    blob = bytearray(CIPHER.encrypt("张三"))
    blob[-1] ^= 1
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        CIPHER.decrypt(bytes(blob))


def test_blind_index_is_stable_and_case_insensitive() -> None:
    assert CIPHER.blind_index("11010519491231002x") == CIPHER.blind_index("11010519491231002X")
    assert CIPHER.blind_index("110105194912310021") != CIPHER.blind_index("11010519491231002X")
    assert FieldCipher(b"j" * 32).blind_index("x") != CIPHER.blind_index("x")


def test_key_file_created_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "device.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_key(path) == key


def test_damaged_key_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "device.key"
    path.write_text("not a key")
    with pytest.raises(KeyFileError, match="damaged"):
        load_or_create_key(path)
