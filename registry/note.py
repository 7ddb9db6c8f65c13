"""C2SP signed notes (c2sp.org/signed-note) and checkpoints (c2sp.org/tlog-checkpoint), Ed25519 only.

A signed note is its text (ending in a newline), a blank line, then signature
lines ``— <key name> base64(key ID || signature)``. The log signs its
checkpoints with the key named after its origin; the verifier key is published
as ``<name>+<hex key ID>+base64(0x01 || public key)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519_TYPE = 0x01
EM_DASH = "\u2014"
# The spec requires accepting at least 16 signatures; bound the work anyway.
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 1 << 20

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A signed note or checkpoint is malformed, unsigned by the expected key, or for another log."""


@dataclass(frozen=True)
class Checkpoint:
    """A verified tree head: log origin, tree size and root hash."""

    origin: str
    size: int
    root_hash: bytes


@dataclass(frozen=True)
class VerifierKey:
    """A parsed Ed25519 note verifier key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """Return the 4-byte key ID SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    _check_key_name(name)
    raw = public_key.public_bytes_raw()
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519_TYPE]) + raw).digest()[:4]


def vkey_string(name: str, public_key: Ed25519PublicKey) -> str:
    """Return the verifier key string <name>+<hex key ID>+<base64(0x01 || public key)>."""
    payload = bytes([ED25519_TYPE]) + public_key.public_bytes_raw()
    return f"{name}+{key_id(name, public_key).hex()}+{base64.b64encode(payload).decode()}"


def parse_vkey(vkey: str) -> VerifierKey:
    """Parse a verifier key string, checking that its key ID matches its name and key."""
    # Base64 may itself contain "+", so only the first two separate fields.
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise NoteError("verifier key must be <name>+<key id>+<key>")
    name, hex_id, b64 = parts
    _check_key_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError("verifier key ID must be 8 lowercase hex digits")
    payload = _b64decode(b64, "verifier key")
    if len(payload) != 33 or payload[0] != ED25519_TYPE:
        raise NoteError("verifier key is not an Ed25519 (type 0x01) key")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(payload[1:])
    except ValueError:
        raise NoteError("verifier key is not a valid Ed25519 public key") from None
    if key_id(name, public_key) != bytes.fromhex(hex_id):
        raise NoteError("verifier key ID does not match its name and key")
    return VerifierKey(name, bytes.fromhex(hex_id), public_key)


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return text as a signed note with one Ed25519 signature line by key name."""
    _check_text(text)
    _check_key_name(name)
    kid = key_id(name, private_key.public_key())
    signature = private_key.sign(text.encode())
    return f"{text}\n{EM_DASH} {name} {base64.b64encode(kid + signature).decode()}\n"


def verify_note(note: str | bytes, vkey: str | VerifierKey) -> str:
    """Return the text of a signed note after checking its signature by vkey."""
    verifier = parse_vkey(vkey) if isinstance(vkey, str) else vkey
    try:
        raw = note if isinstance(note, bytes) else note.encode()
        note = raw.decode()
    except UnicodeError:
        raise NoteError("note is not valid UTF-8") from None
    if len(raw) > MAX_NOTE_BYTES:
        raise NoteError("note is too large")
    if _CONTROL.search(note):
        raise NoteError("note contains control characters")
    if not note.endswith("\n"):
        raise NoteError("note does not end with a newline")
    # The text ends at the last blank line; signature lines contain no blank lines.
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, sig_block = note[: split + 1], note[split + 2 :]
    _check_text(text)
    lines = sig_block.split("\n")[:-1]
    if not lines:
        raise NoteError("note has no signatures")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("note has too many signatures")
    verified = False
    for line in lines:
        name, kid, signature = _parse_signature_line(line)
        # Signatures by other keys (witnesses, rotated keys) are ignored, as the spec requires.
        if name != verifier.name or kid != verifier.key_id:
            continue
        try:
            verifier.public_key.verify(signature, text.encode())
        except InvalidSignature:
            raise NoteError(f"invalid signature by {name}") from None
        verified = True
    if not verified:
        raise NoteError(f"note is not signed by {verifier.name}")
    return text


def format_checkpoint(origin: str, tree_size: int, root_hash: bytes) -> str:
    """Return the checkpoint note text: origin, tree size, base64 root hash, each ending in a newline."""
    if not origin or _CONTROL.search(origin) or "\n" in origin:
        raise ValueError("origin must be a non-empty single line")
    if tree_size < 0:
        raise ValueError("tree size must be non-negative")
    if len(root_hash) != 32:
        raise ValueError("root hash must be 32 bytes")
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"


def sign_checkpoint(origin: str, tree_size: int, root_hash: bytes, private_key: Ed25519PrivateKey) -> str:
    """Return a checkpoint signed by the log key, whose name is the origin."""
    return sign_note(format_checkpoint(origin, tree_size, root_hash), origin, private_key)


def parse_checkpoint_text(text: str) -> Checkpoint:
    """Parse checkpoint note text (unverified); extension lines are refused."""
    lines = text.split("\n")
    if lines[-1] != "":
        raise NoteError("checkpoint text does not end with a newline")
    lines = lines[:-1]
    if len(lines) < 3:
        raise NoteError("checkpoint needs origin, size and root hash lines")
    if len(lines) > 3:
        raise NoteError("checkpoint has extension lines")
    origin, size_line, root_line = lines
    if not origin:
        raise NoteError("checkpoint origin is empty")
    if not _DECIMAL.fullmatch(size_line):
        raise NoteError("checkpoint tree size is not a canonical decimal")
    root_hash = _b64decode(root_line, "checkpoint root hash")
    if len(root_hash) != 32:
        raise NoteError("checkpoint root hash is not 32 bytes")
    return Checkpoint(origin, int(size_line), root_hash)


def parse_and_verify_checkpoint(
    note_text: str | bytes, vkey: str | VerifierKey, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint by vkey and return it; origin defaults to the key name."""
    verifier = parse_vkey(vkey) if isinstance(vkey, str) else vkey
    checkpoint = parse_checkpoint_text(verify_note(note_text, verifier))
    expected = verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise NoteError(f"checkpoint is for origin {checkpoint.origin!r}, expected {expected!r}")
    return checkpoint


def _check_key_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name) or _CONTROL.search(name):
        raise NoteError(f"invalid key name {name!r}")


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if _CONTROL.search(text):
        raise NoteError("note text contains control characters")


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes]:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != EM_DASH:
        raise NoteError("malformed signature line")
    name, blob = parts[1], _b64decode(parts[2], "signature")
    _check_key_name(name)
    if len(blob) < 5:
        raise NoteError("signature is too short")
    return name, blob[:4], blob[4:]


def _b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise NoteError(f"{what} is not valid base64") from None
    # Refuse non-canonical encodings (stray padding bits) so each value has one spelling.
    if base64.b64encode(raw).decode() != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw
