"""SHA-256 in a thread of its own: the digest of what was fed, in order; no thread left behind."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from storage.hashing import ThreadedSha256


def _hashing_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "pdr-sha256"]


def test_the_digest_is_that_of_the_pieces_in_the_order_fed() -> None:
    batches = [[os.urandom(size) for size in (1, 70_000, 0, 3)] for _ in range(20)]
    hasher = ThreadedSha256(batches_ahead=2)
    for batch in batches:
        hasher.update(batch)
    expected = hashlib.sha256(b"".join(piece for batch in batches for piece in batch)).hexdigest()
    assert hasher.hexdigest() == expected
    assert _hashing_threads() == []


def test_nothing_fed_is_the_digest_of_nothing() -> None:
    assert ThreadedSha256(batches_ahead=1).hexdigest() == hashlib.sha256(b"").hexdigest()


def test_closing_without_a_digest_ends_the_thread_and_can_be_repeated() -> None:
    hasher = ThreadedSha256(batches_ahead=1)
    hasher.update([b"abc"] * 10)
    hasher.close()
    hasher.close()
    assert _hashing_threads() == []


def test_a_piece_that_is_not_bytes_fails_the_digest_without_blocking_the_feeder() -> None:
    hasher = ThreadedSha256(batches_ahead=1)
    hasher.update(["text"])  # type: ignore[list-item]
    for _ in range(5):  # more than the queue holds: the thread keeps draining it
        hasher.update([b"more"])
    with pytest.raises(TypeError):
        hasher.hexdigest()
    assert _hashing_threads() == []
