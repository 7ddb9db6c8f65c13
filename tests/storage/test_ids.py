"""Row ids: 26 Crockford base32 digits that sort by creation time."""

from __future__ import annotations

import random

from storage.ids import encode_id, new_id


def _digits(value: int) -> str:
    """The encoding done digit by digit, as the definition reads."""
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    return "".join(alphabet[(value >> (5 * (25 - i))) & 31] for i in range(26))


def test_encoding_matches_the_definition_at_the_edges_and_at_random() -> None:
    rng = random.Random(3)
    for value in [0, 1, 31, 32, (1 << 128) - 1, *(rng.getrandbits(128) for _ in range(2000))]:
        assert encode_id(value) == _digits(value)


def test_ids_are_unique_and_sort_by_time() -> None:
    ids = [new_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 26 for i in ids)
    first, later = ids[0], new_id()
    assert first[:10] <= later[:10]  # the millisecond part never goes back
