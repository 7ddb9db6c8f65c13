import argparse
import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tlog_scales.cli import cmd_gen_proof
from tlog_scales.signing import PlainEd25519Signer
from tlog_scales.writer import TilesWriter

from registry.merkle import MemoryHashStore, inclusion_proof, root_hash
from registry.note import Checkpoint, sign_checkpoint, vkey_string
from registry.tlog_proof import (
    HEADER,
    TlogProof,
    TlogProofError,
    format_tlog_proof,
    parse_tlog_proof,
    verify_tlog_proof,
)

ORIGIN = "registry.example/log"
KEY = Ed25519PrivateKey.from_private_bytes(b"\x05" * 32)
VKEY = vkey_string(ORIGIN, KEY.public_key())


def entry(i: int) -> bytes:
    return f"certificate {i}".encode()


def build(n: int) -> MemoryHashStore:
    store = MemoryHashStore()
    for i in range(n):
        store.append(entry(i))
    return store


def proof_text(store: MemoryHashStore, index: int, size: int, extra: bytes | None = None) -> str:
    checkpoint = sign_checkpoint(ORIGIN, size, root_hash(size, store), KEY)
    return format_tlog_proof(index, inclusion_proof(index, size, store), checkpoint, extra)


def test_format_shape() -> None:
    store = build(5)
    text = proof_text(store, 3, 5)
    lines = text.split("\n")
    assert lines[0] == HEADER
    assert lines[1] == "index 3"
    proof = inclusion_proof(3, 5, store)
    assert lines[2 : 2 + len(proof)] == [base64.b64encode(h).decode() for h in proof]
    assert lines[2 + len(proof)] == ""
    assert "\n".join(lines[3 + len(proof) :]) == sign_checkpoint(ORIGIN, 5, root_hash(5, store), KEY)


def test_round_trip_every_index_and_size() -> None:
    store = build(70)
    for size in range(1, 71):
        for index in range(size):
            parsed = parse_tlog_proof(proof_text(store, index, size))
            assert parsed.index == index and parsed.extra is None
            checkpoint = verify_tlog_proof(parsed, entry(index), VKEY, ORIGIN)
            assert checkpoint == Checkpoint(ORIGIN, size, root_hash(size, store))


def test_extra_data_round_trips() -> None:
    store = build(3)
    text = proof_text(store, 1, 3, extra=b"opaque \x00 bytes")
    assert text.split("\n")[1] == "extra " + base64.b64encode(b"opaque \x00 bytes").decode()
    parsed = parse_tlog_proof(text)
    assert parsed.extra == b"opaque \x00 bytes"
    assert verify_tlog_proof(parsed, entry(1), VKEY, ORIGIN).size == 3


def test_single_entry_log_has_no_hashes() -> None:
    store = build(1)
    parsed = parse_tlog_proof(proof_text(store, 0, 1))
    assert parsed.proof_hashes == ()
    assert verify_tlog_proof(parsed, entry(0), VKEY, ORIGIN).size == 1


def test_verification_failures() -> None:
    store = build(10)
    good = parse_tlog_proof(proof_text(store, 4, 10))
    with pytest.raises(TlogProofError, match="not proven"):
        verify_tlog_proof(good, entry(5), VKEY, ORIGIN)
    with pytest.raises(TlogProofError, match="not proven"):
        verify_tlog_proof(TlogProof(5, good.proof_hashes, good.checkpoint), entry(4), VKEY, ORIGIN)
    with pytest.raises(TlogProofError, match="not proven"):
        verify_tlog_proof(TlogProof(4, good.proof_hashes[:-1], good.checkpoint), entry(4), VKEY, ORIGIN)
    bad_hash = bytes([good.proof_hashes[0][0] ^ 1]) + good.proof_hashes[0][1:]
    tampered = TlogProof(4, (bad_hash, *good.proof_hashes[1:]), good.checkpoint)
    with pytest.raises(TlogProofError, match="not proven"):
        verify_tlog_proof(tampered, entry(4), VKEY, ORIGIN)
    with pytest.raises(TlogProofError, match="origin"):
        verify_tlog_proof(good, entry(4), VKEY, "other.example/log")
    other_key = vkey_string(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"\x06" * 32).public_key())
    with pytest.raises(TlogProofError, match="not signed by"):
        verify_tlog_proof(good, entry(4), other_key, ORIGIN)
    forged = TlogProof(4, good.proof_hashes, good.checkpoint.replace("\n10\n", "\n11\n"))
    with pytest.raises(TlogProofError, match="invalid signature"):
        verify_tlog_proof(forged, entry(4), VKEY, ORIGIN)


def test_index_beyond_checkpoint_fails() -> None:
    store = build(10)
    checkpoint = sign_checkpoint(ORIGIN, 4, root_hash(4, store), KEY)
    text = format_tlog_proof(7, inclusion_proof(7, 10, store), checkpoint)
    with pytest.raises(TlogProofError, match="not proven"):
        verify_tlog_proof(parse_tlog_proof(text), entry(7), VKEY, ORIGIN)


def good_text() -> str:
    return proof_text(build(10), 4, 10)


@pytest.mark.parametrize(
    "text",
    [
        "",
        good_text().replace(HEADER, "c2sp.org/tlog-proof@v2"),
        good_text().replace("index 4", "index 04"),
        good_text().replace("index 4", "index -4"),
        good_text().replace("index 4", "index  4"),
        good_text().replace("index 4", "Index 4"),
        good_text().replace("index 4\n", ""),
        good_text().split("\n\n")[0],
        good_text().split("\n\n")[0] + "\n\n",
        good_text().replace("index 4\n", "index 4\nnot base64!\n"),
        good_text().replace("index 4\n", "index 4\nAAAA\n"),
        good_text().replace("index 4\n", "extra !!\nindex 4\n"),
        good_text().replace("index 4\n", "index 4\nextra AAAA\n"),
        good_text().replace(f"{HEADER}\n", f"{HEADER}\n\n"),
    ],
)
def test_malformed_proofs_are_refused(text: str) -> None:
    with pytest.raises(TlogProofError):
        parse_tlog_proof(text)


def test_format_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        format_tlog_proof(-1, [], "x\n")
    with pytest.raises(ValueError):
        format_tlog_proof(0, [b"short"], "x\n")
    with pytest.raises(ValueError):
        format_tlog_proof(0, [], "no newline")


def test_proofs_from_tlog_scales_cli_verify_and_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "log"
    writer = TilesWriter.create(root, ORIGIN)
    store = MemoryHashStore()
    for i in range(600):
        writer.add_leaf(entry(i))
        store.append(entry(i))
    writer.commit([PlainEd25519Signer(ORIGIN, KEY)])
    for index in (0, 1, 255, 256, 599):
        cmd_gen_proof(argparse.Namespace(location=str(root), leaf_index=index))
        theirs = capsys.readouterr().out
        # The independent implementation writes exactly what we write ...
        assert theirs == proof_text(store, index, 600)
        # ... and we verify it.
        checkpoint = verify_tlog_proof(parse_tlog_proof(theirs), entry(index), VKEY, ORIGIN)
        assert checkpoint.size == 600
        with pytest.raises(TlogProofError):
            verify_tlog_proof(parse_tlog_proof(theirs), entry(index + 1), VKEY, ORIGIN)
