"""Ed25519 signatures over a document's canonical fields (hallclient/signing.py)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallclient.signing import (
    canonical_bytes,
    generate_private_key,
    public_key_of,
    sign_fields,
    verify_fields,
)

PRIVATE = generate_private_key()
PUBLIC = public_key_of(PRIVATE)
OTHER_PRIVATE = generate_private_key()
OTHER_PUBLIC = public_key_of(OTHER_PRIVATE)

FIELDS = {
    "doc_id": "3f2a9c1b7e4d5a6f8b90",
    "kind": "receipt",
    "case_no": "DEMO-20261124-01-0001",
    "item_code": "11330106MB0000000X4000110001",
    "item_name": "个体工商户设立登记",
    "decision": "accept",
    "decided_on": "2026-11-24",
    "promised_date": "2026-12-01",
    "hall": "示范区政务服务中心",
}


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# -- keys -----------------------------------------------------------------------------


def test_keys_are_unpadded_urlsafe_base64_of_32_raw_bytes() -> None:
    for key in (PRIVATE, PUBLIC):
        assert "=" not in key and "+" not in key and "/" not in key
        assert len(_unb64(key)) == 32
    assert PRIVATE != PUBLIC


def test_generated_keys_differ_and_public_key_is_deterministic() -> None:
    assert generate_private_key() != generate_private_key()
    assert public_key_of(PRIVATE) == PUBLIC


# -- sign and verify --------------------------------------------------------------------


def test_round_trip() -> None:
    sig = sign_fields(PRIVATE, FIELDS)
    assert len(_unb64(sig)) == 64
    assert verify_fields(PUBLIC, FIELDS, sig) is True


def test_signature_is_deterministic() -> None:
    # Ed25519 is deterministic: the same key and facts always give the same signature.
    assert sign_fields(PRIVATE, FIELDS) == sign_fields(PRIVATE, dict(FIELDS))


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_a_changed_field_is_refused(name: str) -> None:
    sig = sign_fields(PRIVATE, FIELDS)
    tampered = {**FIELDS, name: FIELDS[name] + "1"}
    assert verify_fields(PUBLIC, tampered, sig) is False


def test_an_added_or_removed_field_is_refused() -> None:
    sig = sign_fields(PRIVATE, FIELDS)
    assert verify_fields(PUBLIC, {**FIELDS, "extra": ""}, sig) is False
    fewer = dict(FIELDS)
    del fewer["promised_date"]
    assert verify_fields(PUBLIC, fewer, sig) is False


def test_a_renamed_key_with_the_same_value_is_refused() -> None:
    sig = sign_fields(PRIVATE, {"a": "1"})
    assert verify_fields(PUBLIC, {"b": "1"}, sig) is False


@pytest.mark.parametrize("byte_index", [0, 31, 32, 63])
def test_a_tampered_signature_is_refused(byte_index: int) -> None:
    raw = bytearray(_unb64(sign_fields(PRIVATE, FIELDS)))
    raw[byte_index] ^= 0x01
    assert verify_fields(PUBLIC, FIELDS, _b64(bytes(raw))) is False


def test_a_signature_by_another_key_is_refused() -> None:
    sig = sign_fields(OTHER_PRIVATE, FIELDS)
    assert verify_fields(PUBLIC, FIELDS, sig) is False
    assert verify_fields(OTHER_PUBLIC, FIELDS, sig) is True


def test_the_signature_of_other_fields_is_refused() -> None:
    other = sign_fields(PRIVATE, {**FIELDS, "case_no": "DEMO-20261124-01-0002"})
    assert verify_fields(PUBLIC, FIELDS, other) is False


def test_a_padded_signature_also_verifies() -> None:
    sig = sign_fields(PRIVATE, FIELDS)
    assert verify_fields(PUBLIC, FIELDS, sig + "=" * (-len(sig) % 4)) is True


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "A",  # one base64 character cannot encode a byte
        "AAAA",
        "!!!!not base64!!!!",
        "签名",
        "A" * 200,
        "====",
        " ",
    ],
)
def test_garbage_signature_returns_false_without_raising(garbage: str) -> None:
    assert verify_fields(PUBLIC, FIELDS, garbage) is False


@pytest.mark.parametrize("garbage", ["", "A", "AAAA", "公钥", "!!!!", "A" * 43 + "*", "A" * 100])
def test_garbage_public_key_returns_false_without_raising(garbage: str) -> None:
    sig = sign_fields(PRIVATE, FIELDS)
    assert verify_fields(garbage, FIELDS, sig) is False


def test_a_private_key_used_as_public_key_does_not_verify() -> None:
    sig = sign_fields(PRIVATE, FIELDS)
    assert verify_fields(PRIVATE, FIELDS, sig) is False


@given(
    fields=st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=8),
    data=st.data(),
)
@settings(max_examples=60, deadline=None)
def test_any_fields_round_trip_and_any_single_change_is_caught(
    fields: dict[str, str], data: st.DataObject
) -> None:
    sig = sign_fields(PRIVATE, fields)
    assert verify_fields(PUBLIC, fields, sig)
    assert verify_fields(PUBLIC, dict(reversed(list(fields.items()))), sig)
    if fields:
        key = data.draw(st.sampled_from(sorted(fields)))
        new_value = data.draw(st.text(max_size=30).filter(lambda v: v != fields[key]))
        assert not verify_fields(PUBLIC, {**fields, key: new_value}, sig)


# -- canonical bytes ------------------------------------------------------------------------


def test_canonical_bytes_are_sorted_compact_utf8_json() -> None:
    assert canonical_bytes({"b": "2", "a": "1"}) == b'{"a":"1","b":"2"}'
    assert canonical_bytes({}) == b"{}"


def test_canonical_bytes_keep_non_ascii_as_utf8() -> None:
    raw = canonical_bytes({"hall": "示范区政务服务中心", "name": "买买提·艾力"})
    assert raw == '{"hall":"示范区政务服务中心","name":"买买提·艾力"}'.encode()
    assert b"\\u" not in raw


def test_canonical_bytes_escape_json_specials() -> None:
    raw = canonical_bytes({'k"ey': 'va"l\\ue\n'})
    assert json.loads(raw) == {'k"ey': 'va"l\\ue\n'}


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=10), st.randoms())
def test_canonical_bytes_do_not_depend_on_insertion_order(fields: dict[str, str], rnd: object) -> None:
    items = list(fields.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    assert canonical_bytes(dict(items)) == canonical_bytes(fields)
    assert json.loads(canonical_bytes(fields)) == fields


def test_non_ascii_fields_sign_and_verify_and_differ_from_lookalikes() -> None:
    fields = {"hall": "示范区政务服务中心", "item_name": "居民身份证换领"}
    sig = sign_fields(PRIVATE, fields)
    assert verify_fields(PUBLIC, fields, sig)
    # A full-width digit or a look-alike character is a different fact.
    assert not verify_fields(PUBLIC, {**fields, "hall": "示范区政务服务中⼼"}, sig)


def test_order_of_keys_does_not_change_the_signature() -> None:
    reordered = dict(sorted(FIELDS.items(), reverse=True))
    assert list(reordered) != list(FIELDS)
    assert sign_fields(PRIVATE, reordered) == sign_fields(PRIVATE, FIELDS)
    assert verify_fields(PUBLIC, reordered, sign_fields(PRIVATE, FIELDS))
