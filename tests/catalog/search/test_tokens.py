"""Tokens of the index and of queries: bigrams for Chinese, stems and spellings for English, jieba for query words
and the finer words they are made of."""

from __future__ import annotations

from catalog.search import tokens as search_tokens
from catalog.search.tokens import Item, Word, finer_words, finest_words, parse_query
from registry.enums import THEME_LABELS_ZH, Theme


def test_tokens_and_queries() -> None:
    assert search_tokens.index_tokens("天河区充电桩") == ["天河", "河区", "区充", "充电", "电桩", "桩"]
    # A word that is not its own stem is followed by its spelling, so an exact match can rank above a stem's.
    assert search_tokens.index_tokens("Parking Lots, ＰＭ２.５ park") == [
        "park",
        "·parking",
        "lot",
        "·lots",
        "pm2",
        "5",
        "park",
    ]
    assert [w.exact.tokens for w in parse_query("天河区充电桩")] == [("天河", "河区"), ("充电", "电桩")]
    assert parse_query("桩") == [Word(Item(("桩",), prefix=True))]
    assert parse_query("parking in the 天河区") == [
        Word(Item(("·parking",)), (Item(("park",)),)),
        Word(Item(("天河", "河区")), (Item(("天河",)),)),
    ]
    assert parse_query("park") == [Word(Item(("park",)))]
    assert THEME_LABELS_ZH[Theme("public_services")] == "公共服务"


def test_a_word_kept_whole_has_the_finer_words_it_is_made_of() -> None:
    assert jieba_keeps_whole("公交站点") and finer_words("公交站点") == ("公交", "站点")
    assert finer_words("公交车") == ("公交",)  # a last lone character may be left out
    assert finer_words("新能源车") == ("新能源",)
    assert finer_words("新能源") == ()  # a first lone character may not: 能源 is another thing
    assert finer_words("公交") == ()
    assert finest_words("公交车站点") == ("公交", "站点")  # by way of 公交车 and 站点
    assert parse_query("公交站点") == [Word(Item(("公交", "交站", "站点")), (Item(("公交",)), Item(("站点",))))]


def jieba_keeps_whole(word: str) -> bool:
    """Whether the query segmenter keeps a word as one piece."""
    return [w.exact for w in parse_query(word)] == [Item(tuple(word[i : i + 2] for i in range(len(word) - 1)))]


def test_a_documents_tsvector_weighs_its_fields_and_leaves_a_position_between_them() -> None:
    text = search_tokens.DocumentText(["a", "b"], ["a"], ["c", "a"])
    assert text.tsvector() == "'a':1A,4B,7C 'b':2A 'c':6C"


def test_a_token_is_indexed_at_most_255_times_in_a_document() -> None:
    assert search_tokens.MAX_PER_TOKEN == 255  # PostgreSQL keeps 256 positions per lexeme
    at_limit = search_tokens.DocumentText.build("标题", [], " ".join(["停"] * 253))
    assert at_limit.fields() == (["标题", "题"], [], ["停"] * 253)
    over = search_tokens.DocumentText.build("标题", ["停车"], " ".join(["停"] * 300))
    assert over.fields() == (["标题", "题"], ["停车", "车"], ["停"] * 255)
