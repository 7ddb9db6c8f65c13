import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.credentials import (
    base58btc_decode,
    base58btc_encode,
    did_key_from_public_key,
    did_key_verification_method,
    public_key_from_did_key,
    sign_credential,
    verify_credential,
)

VECTOR = Path(__file__).resolve().parents[1] / "standards" / "w3c-eddsa-jcs-2022-signedJCS.json"
# The key pair of the W3C vc-di-eddsa test vectors (TestVectors/keyPair.json).
VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_PRIVATE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
# TestVectors/eddsa-jcs-2022/proofCanonJCS.txt: the canonical proof configuration.
VECTOR_PROOF_CANON = (
    '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],'
    '"created":"2023-02-24T23:36:38Z","cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod",'
    '"type":"DataIntegrityProof","verificationMethod":"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2'
    '#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}'
)
CREATED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def vector() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTOR.read_text())
    return data


def vector_key() -> Ed25519PrivateKey:
    raw = base58btc_decode(VECTOR_PRIVATE[1:])
    assert raw[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def certificate() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "DataPropertyRightCertificate"],
        "issuer": "did:example:issuer",
        "validFrom": "2026-11-22T08:00:00Z",
        "credentialSubject": {"id": "urn:pdr:resource:1", "name": "公共数据资源", "rights": ["hold", "use"]},
    }


def signed_certificate(key: Ed25519PrivateKey) -> dict[str, Any]:
    return sign_credential(certificate(), key, did_key_verification_method(key.public_key()), CREATED)


def test_base58btc() -> None:
    assert base58btc_encode(b"") == ""
    assert base58btc_encode(b"\x00\x00\x01") == "112"
    assert base58btc_encode(b"hello world") == "StV1DL6CwTryKyV"
    assert base58btc_decode("StV1DL6CwTryKyV") == b"hello world"
    for data in [b"\x00", b"\x00\xff", bytes(range(40)), b"\xff" * 64]:
        assert base58btc_decode(base58btc_encode(data)) == data
    for bad in ["0", "O", "I", "l", "abc+", "\u0661"]:
        with pytest.raises(ValueError):
            base58btc_decode(bad)


def test_did_key_of_the_vector_key() -> None:
    key = vector_key()
    assert did_key_from_public_key(key.public_key()) == f"did:key:{VECTOR_PUBLIC}"
    assert did_key_verification_method(key.public_key()) == f"did:key:{VECTOR_PUBLIC}#{VECTOR_PUBLIC}"
    resolved = public_key_from_did_key(f"did:key:{VECTOR_PUBLIC}#{VECTOR_PUBLIC}")
    assert resolved.public_bytes_raw() == key.public_key().public_bytes_raw()


@pytest.mark.parametrize(
    "did",
    [
        "did:web:example.com",
        "did:key:",
        "did:key:6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ",
        f"did:key:{VECTOR_PUBLIC}#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        # A P-256 did:key (multicodec 0x1200) is not an Ed25519 key.
        "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
    ],
)
def test_bad_did_keys(did: str) -> None:
    with pytest.raises(ValueError):
        public_key_from_did_key(did)


def test_w3c_vector_verifies() -> None:
    assert verify_credential(vector())


def test_w3c_vector_proof_configuration_is_canonicalized_as_published() -> None:
    proof = {k: v for k, v in vector()["proof"].items() if k != "proofValue"}
    assert rfc8785.dumps(proof).decode() == VECTOR_PROOF_CANON


def test_signing_reproduces_the_w3c_vector_exactly() -> None:
    # Ed25519 is deterministic, so signing the vector's document with its key must give its proof.
    signed = vector()
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    created = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
    ours = sign_credential(unsecured, vector_key(), signed["proof"]["verificationMethod"], created)
    assert ours == signed


def tamper(path: list[str | int], change: Any) -> dict[str, Any]:
    doc = vector()
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = change(target[path[-1]])
    return doc


def flip_last_char(text: str) -> str:
    return text[:-1] + ("A" if text[-1] != "A" else "B")


@pytest.mark.parametrize(
    ("path", "change"),
    [
        (["credentialSubject", "alumniOf"], lambda s: s.replace("Examples", "Exampl3s")),
        (["credentialSubject", "id"], lambda s: s + "x"),
        (["issuer"], lambda s: s.replace("5678", "5679")),
        (["validFrom"], lambda s: s.replace("2023", "2024")),
        (["proof", "proofValue"], flip_last_char),
        (["proof", "proofValue"], lambda s: s[:10] + s[11:]),
        (["proof", "proofValue"], lambda s: "u" + s[1:]),
        (["proof", "proofValue"], lambda s: 42),
        (["proof", "created"], lambda s: s.replace("38Z", "39Z")),
        (["proof", "created"], lambda s: "yesterday"),
        (["proof", "proofPurpose"], lambda s: "authentication"),
        (["proof", "cryptosuite"], lambda s: "eddsa-rdfc-2022"),
        (["proof", "type"], lambda s: "Ed25519Signature2020"),
        (["proof", "@context"], lambda s: [*s, "https://example.org/extra"]),
        (["proof", "@context"], lambda s: list(reversed(s))),
        (["@context"], lambda s: s[:1]),
        (["type"], lambda s: [*s, "Extra"]),
        (
            ["proof", "verificationMethod"],
            lambda s: (
                "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
                "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
            ),
        ),
        (["proof", "verificationMethod"], lambda s: "https://vc.example/issuers/5678#key-1"),
        (["proof", "verificationMethod"], lambda s: None),
    ],
)
def test_tampered_vector_does_not_verify(path: list[str | int], change: Any) -> None:
    assert not verify_credential(tamper(path, change))


def test_added_field_does_not_verify() -> None:
    doc = vector()
    doc["credentialSubject"]["extra"] = 1
    assert not verify_credential(doc)


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"proof": None},
        {"proof": "z123"},
        {"proof": [vector()["proof"]]},
        {**vector(), "proof": {}},
    ],
)
def test_malformed_documents_do_not_verify(doc: dict[str, Any]) -> None:
    assert not verify_credential(doc)


def test_non_dict_input_does_not_raise() -> None:
    assert not verify_credential([])  # type: ignore[arg-type]
    assert not verify_credential(None)  # type: ignore[arg-type]
    doc = vector()
    doc["credentialSubject"]["bad"] = float("nan")  # not representable in JCS
    assert not verify_credential(doc)


def test_round_trip_with_fresh_key() -> None:
    key = Ed25519PrivateKey.generate()
    signed = signed_certificate(key)
    assert signed["proof"]["created"] == "2026-11-22T08:00:00Z"
    assert signed["proof"]["@context"] == certificate()["@context"]
    assert signed["proof"]["proofValue"].startswith("z")
    assert verify_credential(signed)
    # The input was not modified.
    assert "proof" not in certificate()
    # JSON round trip, as a client would see it, keeps it valid.
    assert verify_credential(json.loads(json.dumps(signed, ensure_ascii=False)))


def test_round_trip_tampering_and_wrong_key() -> None:
    key = Ed25519PrivateKey.generate()
    signed = signed_certificate(key)
    changed = copy.deepcopy(signed)
    changed["credentialSubject"]["name"] = "公共数据资产"
    assert not verify_credential(changed)
    other = Ed25519PrivateKey.generate().public_key()
    assert not verify_credential(signed, lambda _method: other)
    assert verify_credential(signed, lambda _method: key.public_key())


def test_custom_resolver_is_used_and_may_fail() -> None:
    key = Ed25519PrivateKey.generate()
    method = "https://registry.example/issuer#key-1"
    signed = sign_credential(certificate(), key, method, CREATED)
    seen: list[str] = []

    def resolve(vm: str) -> Ed25519PublicKey:
        seen.append(vm)
        if vm != method:
            raise LookupError(vm)
        return key.public_key()

    assert verify_credential(signed, resolve)
    assert seen == [method]
    # The default resolver only knows did:key, so it cannot verify this one.
    assert not verify_credential(signed)
    signed["proof"]["verificationMethod"] = "https://registry.example/issuer#key-2"
    assert not verify_credential(signed, resolve)


def test_proof_purpose() -> None:
    key = Ed25519PrivateKey.generate()
    method = did_key_verification_method(key.public_key())
    signed = sign_credential(certificate(), key, method, CREATED, proof_purpose="authentication")
    assert not verify_credential(signed)
    assert verify_credential(signed, proof_purpose="authentication")
    assert verify_credential(signed, proof_purpose=None)


def test_created_is_utc() -> None:
    key = Ed25519PrivateKey.generate()
    method = did_key_verification_method(key.public_key())
    beijing = timezone(timedelta(hours=8))
    signed = sign_credential(certificate(), key, method, datetime(2026, 11, 22, 16, 0, tzinfo=beijing))
    assert signed["proof"]["created"] == "2026-11-22T08:00:00Z"
    with pytest.raises(ValueError):
        sign_credential(certificate(), key, method, datetime(2026, 11, 22, 16, 0))
    with pytest.raises(ValueError):
        sign_credential(signed, key, method, CREATED)
