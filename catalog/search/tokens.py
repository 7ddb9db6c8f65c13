"""Tokens of the index and of queries, computed in Python once, the same for SQLite and PostgreSQL.

Chinese (and other CJK) runs become overlapping character bigrams followed by the run's last character alone;
Latin words are folded, lower-cased and Snowball-stemmed. SQLite's FTS5 (``ascii`` tokenizer: it only splits on
our spaces) and PostgreSQL's tsvector (built as a literal, no parser involved) therefore index exactly the same
tokens at the same positions. A query is segmented into words with jieba (so ``天河区充电桩`` needs no space);
each Chinese word becomes a phrase of its bigrams, which matches wherever the word occurs as a substring, a
one-character word becomes a prefix token, an English word its stem.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f"
_RUNS = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>(?:(?![{_CJK}])[^\W_])+)")
# PostgreSQL ignores lexemes over 2 KB; nothing that long is a word anyway.
MAX_WORD = 40
# PostgreSQL keeps positions up to 16383 and 256 positions per lexeme; we stop indexing a document before
# either limit, identically on both engines, so phrase matching never differs.
MAX_POSITIONS = 16000
MAX_PER_TOKEN = 255

_EN_STOP = frozenset(
    "a an and are as at be by for from in into is it of on or the to with".split()  # noqa: SIM905
)
_ZH_STOP = frozenset("的了和与及或在是之其等")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem of a lower-case English word; other words unchanged."""
    if word.isascii() and word.isalpha() and len(word) > 2:
        return str(_stemmer().stemWord(word))
    return word


def normalise(value: str) -> str:
    """Full-width to half-width and compatibility forms (NFKC), then case-folded."""
    return unicodedata.normalize("NFKC", value).casefold()


def _fold(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c) and c.isalnum())


def _word_token(word: str) -> str | None:
    folded = _fold(word)
    if not folded or len(folded) > MAX_WORD:
        return None
    return stem(folded)


def index_tokens(value: str | None) -> list[str]:
    """The tokens of a text as the index stores them."""
    tokens: list[str] = []
    if not value:
        return tokens
    for run, word in _RUNS.findall(normalise(value)):
        if run:
            tokens.extend(map(str.__add__, run[:-1], run[1:]))
            tokens.append(run[-1])
        else:
            token = _word_token(word)
            if token:
                tokens.append(token)
    return tokens


@dataclass(frozen=True)
class DocumentText:
    """The three weighted fields of a document, tokenized and capped identically for both engines."""

    title: list[str]
    keywords: list[str]
    description: list[str]

    @classmethod
    def build(cls, title: str, keywords: Iterable[str], description: str | None) -> DocumentText:
        """Tokenize a dataset's text; keywords are separate runs, so no phrase spans two of them."""
        # Keywords joined by a newline tokenize as separate runs, exactly as one by one, in one call.
        streams = (index_tokens(title), index_tokens("\n".join(keywords)), index_tokens(description))
        if sum(len(s) for s in streams) + 3 < MAX_POSITIONS:
            counted = Counter(streams[0])
            counted.update(streams[1])
            counted.update(streams[2])
            if max(counted.values(), default=0) <= MAX_PER_TOKEN:
                return cls(*streams)  # the usual case: nothing to cut
        counts: Counter[str] = Counter()
        total = 0
        fields: list[list[str]] = []
        for stream in streams:
            kept: list[str] = []
            for token in stream:
                if total >= MAX_POSITIONS or counts[token] >= MAX_PER_TOKEN:
                    break
                counts[token] += 1
                total += 1
                kept.append(token)
            fields.append(kept)
            total += 1  # the gap between fields on PostgreSQL
        return cls(*fields)

    def fields(self) -> tuple[list[str], list[str], list[str]]:
        """The title, keyword and description tokens."""
        return self.title, self.keywords, self.description

    def fts_row(self) -> tuple[str, str, str]:
        """The three FTS5 column values."""
        return " ".join(self.title), " ".join(self.keywords), " ".join(self.description)

    def tsvector(self) -> str:
        """A PostgreSQL tsvector literal: weights A, B, C, with a position gap between fields."""
        positions: dict[str, list[str]] = {}
        position = 1
        for weight, tokens in zip("ABC", (self.title, self.keywords, self.description), strict=True):
            for token in tokens:
                positions.setdefault(token, []).append(f"{position}{weight}")
                position += 1
            position += 1
        return " ".join(f"'{token}':{','.join(places)}" for token, places in positions.items())


@dataclass(frozen=True)
class Item:
    """One query word: a token, a phrase of bigrams, or a one-character prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False

    def fts(self) -> str:
        """The word in FTS5 query syntax."""
        phrase = '"' + " ".join(self.tokens) + '"'
        return phrase + " *" if self.prefix else phrase

    def tsquery(self, weight: str = "") -> str:
        """The word in tsquery syntax, limited to one weight when given."""
        if self.prefix:
            return f"'{self.tokens[0]}':*{weight}"
        parts = [f"'{token}'" + (f":{weight}" if weight else "") for token in self.tokens]
        return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"


@lru_cache(maxsize=1)
def _jieba() -> Any:

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def warm_up() -> None:
    """Load the segmentation dictionary now rather than on the first query."""
    _jieba()


def _cjk_pieces(run: str) -> list[tuple[str, bool]]:
    words = [w for w in _jieba().lcut(run) if w]
    pieces: list[tuple[str, bool]] = []
    pending = ""
    for word in words:
        if len(word) == 1 and word in _ZH_STOP:
            pieces.append((word, True))
        elif len(word) == 1 and pieces and not pieces[-1][1]:
            # A lone character is mostly a suffix (区, 桩, 站): keep it with its word.
            pieces[-1] = (pieces[-1][0] + word, False)
        elif len(word) == 1:
            pending += word
        else:
            pieces.append((pending + word, False))
            pending = ""
    if pending:
        pieces.append((pending, False))
    return pieces


def parse_query(q: str | None) -> list[Item]:
    """The words of a query; stop words only count when nothing else is asked."""
    if not q:
        return []
    found: list[tuple[Item, bool]] = []
    for run, word in _RUNS.findall(normalise(q)):
        if run:
            for piece, stop in _cjk_pieces(run):
                if len(piece) == 1:
                    found.append((Item((piece,), prefix=True), stop))
                else:
                    found.append((Item(tuple(piece[i : i + 2] for i in range(len(piece) - 1))), stop))
        else:
            folded = _fold(word)
            token = _word_token(folded) if folded else None
            if token:
                found.append((Item((token,)), folded in _EN_STOP))
    wanted = [item for item, stop in found if not stop] or [item for item, _ in found]
    return list(dict.fromkeys(wanted))


def document_text(title: str, title_en: str | None, keywords: Sequence[str], description: str) -> DocumentText:
    """The weighted tokens of a dataset: both titles, the keywords, the description."""
    return DocumentText.build(" ".join(filter(None, (title, title_en))), keywords, description)
