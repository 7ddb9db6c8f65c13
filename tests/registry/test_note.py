import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tlog_scales.signing import PlainEd25519Signer, Vkey
from tlog_scales.tlog import Checkpoint as ScalesCheckpoint

from registry.note import (
    Checkpoint,
    NoteError,
    format_checkpoint,
    key_id,
    parse_and_verify_checkpoint,
    parse_vkey,
    sign_checkpoint,
    sign_note,
    verify_note,
    vkey_string,
)

ORIGIN = "registry.example/log"
ROOT = hashlib.sha256(b"root").digest()


def key(seed: int = 1) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def test_key_id_and_vkey_format() -> None:
    pub = key().public_key()
    raw = pub.public_bytes_raw()
    assert key_id(ORIGIN, pub) == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + raw).digest()[:4]
    name, hex_id, b64 = vkey_string(ORIGIN, pub).split("+")
    assert (name, hex_id) == (ORIGIN, key_id(ORIGIN, pub).hex())
    assert base64.b64decode(b64) == b"\x01" + raw
    parsed = parse_vkey(vkey_string(ORIGIN, pub))
    assert parsed.name == ORIGIN and parsed.public_key.public_bytes_raw() == raw


def test_golang_sumdb_vkey_parses() -> None:
    # The public key of sum.golang.org, published by the Go project.
    vkey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
    assert parse_vkey(vkey).key_id == bytes.fromhex("033de0ae")


# Vectors from golang.org/x/mod/sumdb/note/note_test.go (the reference implementation).
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


def go_peter_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_PETER_SKEY.split("+", 4)[4])
    assert seed[0] == 1
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def test_go_sign_vector() -> None:
    assert sign_note(GO_TEXT, "PeterNeumann", go_peter_key()) == GO_TEXT + "\n" + GO_PETER_SIG
    assert vkey_string("PeterNeumann", go_peter_key().public_key()) == GO_PETER_VKEY


def test_go_open_vectors() -> None:
    note = GO_TEXT + "\n" + GO_PETER_SIG + GO_ENOCH_SIG
    assert verify_note(note, GO_PETER_VKEY) == GO_TEXT
    assert verify_note(note, GO_ENOCH_VKEY) == GO_TEXT
    assert verify_note(GO_TEXT + "\n" + GO_PETER_SIG * 2 + GO_ENOCH_SIG, GO_PETER_VKEY) == GO_TEXT
    with pytest.raises(NoteError, match="too many"):
        verify_note(GO_TEXT + "\n" + GO_PETER_SIG * 101, GO_PETER_VKEY)
    with pytest.raises(NoteError, match="invalid signature"):
        verify_note(GO_TEXT + "\n" + GO_PETER_SIG[:60] + "ABCD" + GO_PETER_SIG[60:], GO_PETER_VKEY)
    bad_messages = [
        GO_TEXT.encode(),
        (GO_TEXT + "\n").encode(),
        (GO_TEXT + "\n" + GO_PETER_SIG[:-1]).encode(),
        ("\x01" + GO_TEXT + "\n" + GO_PETER_SIG).encode(),
        b"\xff" + (GO_TEXT + "\n" + GO_PETER_SIG).encode(),
        (GO_TEXT + "\n" + "\u2014 Bad Name " + GO_PETER_SIG.split(" ")[2]).encode(),
        (GO_TEXT + "\n" + GO_PETER_SIG + "Unexpected line.\n").encode(),
    ]
    for message in bad_messages:
        with pytest.raises(NoteError):
            verify_note(message, GO_PETER_VKEY)


def test_go_vkey_manglings_are_refused() -> None:
    b = GO_PETER_VKEY
    assert parse_vkey(b).name == "PeterNeumann"
    for i in range(len(b) + 1):
        for j in range(i + 1, len(b) + 1):
            if (i, j) != (0, len(b)):
                with pytest.raises(NoteError):
                    parse_vkey(b[i:j])
    for i in range(len(b)):
        with pytest.raises(NoteError):
            parse_vkey(b[:i] + chr(ord(b[i]) + 1) + b[i + 1 :])
    # Wrong key length and unknown algorithm, each with a matching key hash (Go's test).
    with pytest.raises(NoteError):
        parse_vkey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    with pytest.raises(NoteError):
        parse_vkey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_vkey_matches_tlog_scales() -> None:
    signer = PlainEd25519Signer(ORIGIN, key())
    theirs = signer.vkey.serialize()  # type: ignore[no-untyped-call]
    assert theirs == vkey_string(ORIGIN, key().public_key())


def test_format_checkpoint() -> None:
    text = format_checkpoint(ORIGIN, 42, ROOT)
    assert text == f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\n"
    with pytest.raises(ValueError):
        format_checkpoint("", 1, ROOT)
    with pytest.raises(ValueError):
        format_checkpoint("a\nb", 1, ROOT)
    with pytest.raises(ValueError):
        format_checkpoint(ORIGIN, 1, ROOT[:31])


def test_sign_note_shape() -> None:
    note = sign_checkpoint(ORIGIN, 42, ROOT, key())
    text, sig = note.split("\n\n")
    assert text + "\n" == format_checkpoint(ORIGIN, 42, ROOT)
    assert sig.startswith(f"\u2014 {ORIGIN} ") and sig.endswith("\n") and sig.count("\n") == 1
    blob = base64.b64decode(sig.split(" ")[2])
    assert blob[:4] == key_id(ORIGIN, key().public_key()) and len(blob) == 68


def test_round_trip() -> None:
    note = sign_checkpoint(ORIGIN, 42, ROOT, key())
    vkey = vkey_string(ORIGIN, key().public_key())
    assert parse_and_verify_checkpoint(note, vkey) == Checkpoint(ORIGIN, 42, ROOT)
    assert parse_and_verify_checkpoint(note.encode(), parse_vkey(vkey)) == Checkpoint(ORIGIN, 42, ROOT)


def test_our_checkpoint_verifies_in_tlog_scales() -> None:
    note = sign_checkpoint(ORIGIN, 1234, ROOT, key())
    theirs = ScalesCheckpoint.from_text(note)
    assert (theirs.origin, theirs.size, theirs.root_hash) == (ORIGIN, 1234, ROOT)
    theirs.verify(Vkey.from_string(vkey_string(ORIGIN, key().public_key())))
    # ... and with another key it does not.
    with pytest.raises(Exception, match="no signature matched"):
        theirs.verify(Vkey.from_string(vkey_string(ORIGIN, key(2).public_key())))


def test_tlog_scales_checkpoint_verifies_here() -> None:
    signer = PlainEd25519Signer(ORIGIN, key())
    text = ScalesCheckpoint.make_signed(ORIGIN, 77, ROOT, [signer]).serialize()
    vkey = signer.vkey.serialize()  # type: ignore[no-untyped-call]
    assert parse_and_verify_checkpoint(text, vkey) == Checkpoint(ORIGIN, 77, ROOT)


def test_unknown_cosignatures_are_ignored() -> None:
    note = sign_checkpoint(ORIGIN, 5, ROOT, key())
    witness = sign_note(format_checkpoint(ORIGIN, 5, ROOT), "witness.example", key(3))
    cosigned = note + witness.split("\n\n")[1]
    vkey = vkey_string(ORIGIN, key().public_key())
    assert parse_and_verify_checkpoint(cosigned, vkey).size == 5
    # The witness alone is not the log.
    with pytest.raises(NoteError, match="not signed by"):
        parse_and_verify_checkpoint(witness, vkey)


def vkey1() -> str:
    return vkey_string(ORIGIN, key().public_key())


def good() -> str:
    return sign_checkpoint(ORIGIN, 42, ROOT, key())


def resign(text: str, name: str = ORIGIN) -> str:
    return sign_note(text, name, key())


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (good().replace("\n42\n", "\n43\n"), "invalid signature"),
        (sign_checkpoint(ORIGIN, 42, ROOT, key(2)), "not signed by"),
        (good()[:-1], "newline"),
        (good().replace("\n\n", "\n"), "blank line"),
        (good().split("\n\n")[0] + "\n\n", "no signatures"),
        (good().replace("\u2014", "-"), "malformed signature line"),
        (good().replace("\u2014 ", "\u2014  "), "malformed signature line"),
        (good() + "garbage\n", "malformed signature line"),
        (good().replace("42", "4\t2"), "control"),
        (resign(f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\nextension\n"), "extension"),
        (resign(f"{ORIGIN}\n042\n{base64.b64encode(ROOT).decode()}\n"), "decimal"),
        (resign(f"{ORIGIN}\n-1\n{base64.b64encode(ROOT).decode()}\n"), "decimal"),
        (resign(f"{ORIGIN}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n"), "32 bytes"),
        (resign(f"{ORIGIN}\n42\nnot base64!\n"), "base64"),
        (resign(f"{ORIGIN}\n42\n"), "origin, size and root"),
        (resign(format_checkpoint("other.example/log", 42, ROOT)), "origin"),
    ],
)
def test_rejections(note: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        parse_and_verify_checkpoint(note, vkey1())


def test_wrong_origin_even_when_signed_by_the_key() -> None:
    note = sign_note(format_checkpoint("other.example/log", 1, ROOT), ORIGIN, key())
    with pytest.raises(NoteError, match="origin"):
        parse_and_verify_checkpoint(note, vkey1())
    # An explicit expected origin is honoured.
    assert parse_and_verify_checkpoint(note, vkey1(), origin="other.example/log").size == 1


def test_bad_signature_by_known_key_rejects_even_with_a_good_one() -> None:
    note = good()
    sig = note.split("\n\n")[1]
    blob = bytearray(base64.b64decode(sig.split(" ")[2]))
    blob[10] ^= 1
    bad_line = f"\u2014 {ORIGIN} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(NoteError, match="invalid signature"):
        verify_note(note + bad_line, vkey1())


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        ORIGIN,
        f"{ORIGIN}+00000000+" + base64.b64encode(b"\x01" + key().public_key().public_bytes_raw()).decode(),
        vkey_string(ORIGIN, key().public_key()).replace("+A", "+B", 1),
        "with space+" + vkey_string(ORIGIN, key().public_key()).split("+", 1)[1],
        vkey_string(ORIGIN, key().public_key()) + "+extra",
    ],
)
def test_bad_vkeys(vkey: str) -> None:
    with pytest.raises(NoteError):
        parse_vkey(vkey)


def test_sign_note_refuses_bad_input() -> None:
    with pytest.raises(NoteError):
        sign_note("no newline", ORIGIN, key())
    with pytest.raises(NoteError):
        sign_note("text\n", "bad name", key())
    with pytest.raises(NoteError):
        sign_note("text\n", "a+b", key())
    with pytest.raises(NoteError):
        sign_note("bell\a\n", ORIGIN, key())


def test_invalid_utf8_is_a_note_error() -> None:
    with pytest.raises(NoteError, match="UTF-8"):
        verify_note(good().encode() + b"\xff", vkey1())
