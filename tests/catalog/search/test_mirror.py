"""The search mirror: word matching in memory agrees with the full-text index."""

from __future__ import annotations

from catalog.search import mirror as search_mirror
from catalog.search import tokens as search_tokens
from catalog.search.tokens import parse_query


def test_word_matching_in_memory_agrees_with_the_index() -> None:
    tokens = search_tokens.index_tokens("天河区公共充电设施与电桩 Parking lots")
    for q, found in [
        ("充电", True),
        ("充电桩", False),
        ("桩", True),
        ("parking", True),
        ("parks", False),
        ("停车", False),
    ]:
        items = [w.exact for w in parse_query(q)]
        assert all(search_mirror.item_matches(i.tokens, i.prefix, tokens) for i in items) is found, q
