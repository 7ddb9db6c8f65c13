"""The c2sp.org/tlog-proof@v1 text format: an offline-verifiable proof that an entry is logged.

Per https://c2sp.org/tlog-proof the proof is the line ``c2sp.org/tlog-proof@v1``,
an optional ``extra <base64>`` line (opaque, unauthenticated), ``index <n>``,
the base64 inclusion proof hashes one per line (leaf sibling first, RFC 9162
order), an empty line, then the signed checkpoint verbatim.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from registry.merkle import leaf_hash, verify_inclusion
from registry.note import Checkpoint, NoteError, VerifierKey, parse_and_verify_checkpoint

HEADER = "c2sp.org/tlog-proof@v1"
# More hashes than this cannot belong to a tree with a 64-bit size.
MAX_PROOF_HASHES = 64

_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)


class TlogProofError(ValueError):
    """A tlog proof is malformed or does not prove inclusion in a checkpoint of the expected log."""


@dataclass(frozen=True)
class TlogProof:
    """A parsed, not yet verified, tlog proof."""

    index: int
    proof_hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None


def format_tlog_proof(
    index: int, proof_hashes: Sequence[bytes], signed_checkpoint: str, extra: bytes | None = None
) -> str:
    """Return the tlog-proof text for leaf index, its inclusion proof and the signed checkpoint."""
    if index < 0:
        raise ValueError("index must be non-negative")
    if any(len(h) != 32 for h in proof_hashes):
        raise ValueError("proof hashes must be 32 bytes")
    if not signed_checkpoint.endswith("\n"):
        raise ValueError("signed checkpoint must end with a newline")
    lines = [HEADER]
    if extra is not None:
        lines.append(f"extra {_b64(extra)}")
    lines.append(f"index {index}")
    lines += [_b64(h) for h in proof_hashes]
    return "\n".join(lines) + "\n\n" + signed_checkpoint


def parse_tlog_proof(text: str) -> TlogProof:
    """Parse tlog-proof text, checking its syntax only."""
    head, sep, checkpoint = text.partition("\n\n")
    if not sep or not checkpoint:
        raise TlogProofError("tlog proof has no checkpoint after an empty line")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise TlogProofError(f"tlog proof must start with {HEADER}")
    pos = 1
    extra = None
    if pos < len(lines) and lines[pos].startswith("extra "):
        extra = _unb64(lines[pos][len("extra ") :], "extra data")
        pos += 1
    if pos >= len(lines) or not lines[pos].startswith("index "):
        raise TlogProofError("tlog proof has no index line")
    index_text = lines[pos][len("index ") :]
    if not _DECIMAL.fullmatch(index_text):
        raise TlogProofError("tlog proof index is not a canonical decimal")
    hash_lines = lines[pos + 1 :]
    if len(hash_lines) > MAX_PROOF_HASHES:
        raise TlogProofError("tlog proof has too many hashes")
    hashes = tuple(_unb64(line, "proof hash") for line in hash_lines)
    if any(len(h) != 32 for h in hashes):
        raise TlogProofError("tlog proof hash is not 32 bytes")
    return TlogProof(int(index_text), hashes, checkpoint, extra)


def verify_tlog_proof(proof: TlogProof, leaf_data: bytes, vkey: str | VerifierKey, origin: str) -> Checkpoint:
    """Return the checkpoint if it is signed by vkey for origin and includes leaf_data at proof.index."""
    try:
        checkpoint = parse_and_verify_checkpoint(proof.checkpoint, vkey, origin)
    except NoteError as exc:
        raise TlogProofError(f"checkpoint: {exc}") from exc
    if not verify_inclusion(
        leaf_hash(leaf_data), proof.index, checkpoint.size, proof.proof_hashes, checkpoint.root_hash
    ):
        raise TlogProofError(f"entry {proof.index} is not proven included in the tree of size {checkpoint.size}")
    return checkpoint


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise TlogProofError(f"{what} is not valid base64") from None
    if _b64(raw) != text:
        raise TlogProofError(f"{what} is not canonical base64")
    return raw
