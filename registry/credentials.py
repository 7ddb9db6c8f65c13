"""W3C Data Integrity proofs with the eddsa-jcs-2022 cryptosuite, and did:key for Ed25519.

Signing follows https://www.w3.org/TR/vc-di-eddsa/ section 3.3: the proof
configuration (the proof options plus the document's ``@context``) and the
unsecured document are each canonicalized with JCS (RFC 8785) and hashed with
SHA-256; the Ed25519 signature over ``hash(proofConfig) || hash(document)`` is
the proof value, multibase base58btc encoded (``z...``).
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
# Multicodec ed25519-pub (0xed) as an unsigned varint.
ED25519_PUB_MULTICODEC = b"\xed\x01"
DID_KEY_PREFIX = "did:key:"

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
# XML Schema 1.1 dateTime, which the spec requires of "created".
_XSD_DATETIME = re.compile(
    r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII,
)

KeyResolver = Callable[[str], Ed25519PublicKey]


def base58btc_encode(data: bytes) -> str:
    """Return data in the Bitcoin base58 alphabet (no multibase prefix)."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    digits = []
    while n:
        n, rem = divmod(n, 58)
        digits.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Decode Bitcoin base58 text (no multibase prefix); raise ValueError on a foreign character."""
    n = 0
    for c in text:
        if c not in _B58_INDEX:
            raise ValueError(f"invalid base58 character {c!r}")
        n = n * 58 + _B58_INDEX[c]
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * zeros + body


def did_key_from_public_key(public_key: Ed25519PublicKey) -> str:
    """Return the did:key DID of an Ed25519 public key."""
    return DID_KEY_PREFIX + _multibase_key(public_key)


def did_key_verification_method(public_key: Ed25519PublicKey) -> str:
    """Return the did:key verification method id did:key:z...#z... of an Ed25519 public key."""
    return f"{did_key_from_public_key(public_key)}#{_multibase_key(public_key)}"


def public_key_from_did_key(did: str) -> Ed25519PublicKey:
    """Return the Ed25519 public key of a did:key DID or verification method (fragment must match)."""
    if not did.startswith(DID_KEY_PREFIX):
        raise ValueError("not a did:key identifier")
    value, _, fragment = did[len(DID_KEY_PREFIX) :].partition("#")
    if fragment and fragment != value:
        raise ValueError("did:key fragment does not name the DID's own key")
    if not value.startswith("z"):
        raise ValueError("did:key value is not multibase base58btc")
    raw = base58btc_decode(value[1:])
    if len(raw) != 34 or raw[:2] != ED25519_PUB_MULTICODEC:
        raise ValueError("did:key is not an Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def sign_credential(
    credential: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Return a copy of credential with an eddsa-jcs-2022 DataIntegrityProof added."""
    if "proof" in credential:
        raise ValueError("credential already has a proof")
    if created.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    unsecured = copy.deepcopy(credential)
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _xsd_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    # The proof carries the document's @context so a verifier can check the document kept it.
    if "@context" in unsecured:
        proof["@context"] = copy.deepcopy(unsecured["@context"])
    signature = private_key.sign(_hash_data(unsecured, proof))
    proof["proofValue"] = "z" + base58btc_encode(signature)
    return {**unsecured, "proof": proof}


def verify_credential(
    signed: dict[str, Any],
    resolve_key: KeyResolver | None = None,
    *,
    proof_purpose: str | None = "assertionMethod",
) -> bool:
    """Return whether signed carries a valid eddsa-jcs-2022 proof; never raises on bad input."""
    resolve = public_key_from_did_key if resolve_key is None else resolve_key
    try:
        return _verify(signed, resolve, proof_purpose)
    except Exception:
        # Untrusted input (and a caller's resolver) may fail in any way; verification fails closed.
        return False


def _verify(signed: Any, resolve: KeyResolver, proof_purpose: str | None) -> bool:
    if not isinstance(signed, dict) or not isinstance(signed.get("proof"), dict):
        return False
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    options = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    proof_value = signed["proof"].get("proofValue")
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        return False
    signature = base58btc_decode(proof_value[1:])
    if len(signature) != 64:
        return False
    if options.get("type") != PROOF_TYPE or options.get("cryptosuite") != CRYPTOSUITE:
        return False
    if proof_purpose is not None and options.get("proofPurpose") != proof_purpose:
        return False
    created = options.get("created")
    if created is not None and not _valid_xsd_datetime(created):
        return False
    method = options.get("verificationMethod")
    if not isinstance(method, str):
        return False
    if "@context" in options:
        # The document's @context must start with the proof's, in order (spec 3.3.2 step 4).
        proof_context = _as_list(options["@context"])
        if _as_list(unsecured.get("@context"))[: len(proof_context)] != proof_context:
            return False
        unsecured["@context"] = options["@context"]
    public_key = resolve(method)
    public_key.verify(signature, _hash_data(unsecured, options))
    return True


def _hash_data(unsecured: dict[str, Any], options: dict[str, Any]) -> bytes:
    """sha256(JCS(proof configuration)) || sha256(JCS(unsecured document)), spec 3.3.4 and 3.3.5."""
    config = dict(options)
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    config_hash = hashlib.sha256(rfc8785.dumps(config)).digest()
    document_hash = hashlib.sha256(rfc8785.dumps(unsecured)).digest()
    return config_hash + document_hash


def _multibase_key(public_key: Ed25519PublicKey) -> str:
    return "z" + base58btc_encode(ED25519_PUB_MULTICODEC + public_key.public_bytes_raw())


def _xsd_datetime(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    spec = "seconds" if utc.microsecond == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _valid_xsd_datetime(value: object) -> bool:
    if not isinstance(value, str) or not _XSD_DATETIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        # Years beyond 9999 or negative are valid XSD but unrepresentable here; refuse them.
        return False
    return True


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
