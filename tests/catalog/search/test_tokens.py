"""Tokens of the index and of queries: bigrams for Chinese, stems for English, jieba for query words."""

from __future__ import annotations

from catalog.search import tokens as search_tokens
from catalog.search.tokens import Item, parse_query
from registry.enums import THEME_LABELS_ZH, Theme


def test_tokens_and_queries() -> None:
    assert search_tokens.index_tokens("天河区充电桩") == ["天河", "河区", "区充", "充电", "电桩", "桩"]
    assert search_tokens.index_tokens("Parking Lots, ＰＭ２.５") == ["park", "lot", "pm2", "5"]
    assert [i.tokens for i in parse_query("天河区充电桩")] == [("天河", "河区"), ("充电", "电桩")]
    assert parse_query("桩") == [Item(("桩",), prefix=True)]
    assert parse_query("parking in the 天河区") == [Item(("park",)), Item(("天河", "河区"))]
    assert THEME_LABELS_ZH[Theme("public_services")] == "公共服务"
