"""Tokens of the index and of queries, computed in Python once, the same for SQLite and PostgreSQL.

Chinese (and other CJK) runs become overlapping character bigrams followed by the run's last character alone;
Latin words are folded, lower-cased and Snowball-stemmed, and a word that is not its own stem is followed by its
spelling as written, marked (``·parking`` after ``park``). SQLite's FTS5 (``ascii`` tokenizer: it only splits on
our spaces) and PostgreSQL's tsvector (built as a literal, no parser involved) therefore index exactly the same
tokens at the same positions. A query is segmented into words with jieba (so ``天河区充电桩`` needs no space).
Each query word matches exactly, or loosely through its parts, and exact matches rank above loose ones: a Chinese
word exactly as a phrase of its bigrams (wherever it occurs as a substring), loosely where every finer dictionary
word it is made of occurs (``公交站点``: ``公交`` and ``站点``); an English word exactly as spelled, loosely by its
stem; a one-character word is a prefix token.
"""

from __future__ import annotations

import logging
import math
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
# Marks an English word's spelling as written; never part of a word, and a token character to FTS5's tokenizer.
SPELLING = "\u00b7"


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


def _word_token(folded: str) -> str | None:
    if len(folded) > MAX_WORD:
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
            tokens.extend(_latin_tokens(word))
    return tokens


@lru_cache(maxsize=200_000)
def _latin_tokens(word: str) -> tuple[str, ...]:
    """A Latin word's tokens: its stem, then its spelling when that differs; none for a word too long to index."""
    folded = _fold(word)
    token = _word_token(folded) if folded else None
    if not token:
        return ()
    return (token,) if token == folded else (token, SPELLING + folded)


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
        total = sum(len(s) for s in streams)
        if total <= MAX_PER_TOKEN:
            return cls(*streams)  # the usual case: too few tokens for any limit to cut
        if total + 3 < MAX_POSITIONS:
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
        # Each token's positions as one growing string: most tokens occur once, and lists cost more than they save.
        positions: dict[str, str] = {}
        position = 1
        for weight, tokens in zip("ABC", (self.title, self.keywords, self.description), strict=True):
            for token in tokens:
                place = f"{position}{weight}"
                held = positions.get(token)
                positions[token] = place if held is None else f"{held},{place}"
                position += 1
            position += 1
        return " ".join([f"'{token}':{places}" for token, places in positions.items()])


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


@dataclass(frozen=True)
class Word:
    """A query word: found exactly, or loosely where every one of its parts occurs, ranked below exact matches."""

    exact: Item
    parts: tuple[Item, ...] = ()


def _phrase(piece: str) -> Item:
    return Item(tuple(piece[i : i + 2] for i in range(len(piece) - 1)))


@lru_cache(maxsize=50_000)
def finer_words(piece: str) -> tuple[str, ...]:
    """The shorter dictionary words a Chinese word is made of, a last lone character aside; none if no such
    words make it up (``新能源``: ``新`` alone is no word). Covering every character, then the fewest words, then
    the most frequent, wins (``公交站点``: ``公交`` and ``站点`` rather than ``公交站``)."""
    size = len(piece)
    if size < 3:
        return ()
    jieba = _jieba()
    dag = jieba.get_DAG(piece)
    # best[i]: (characters left out, how many words, minus their log frequency, the words) making up piece[i:].
    best: dict[int, tuple[int, int, float, tuple[str, ...]] | None] = {size: (0, 0, 0.0, ())}
    for start in range(size - 1, -1, -1):
        options: list[tuple[int, int, float, tuple[str, ...]]] = [(1, 0, 0.0, ())] if start == size - 1 else []
        for last in dag[start]:
            end = last + 1
            rest = best.get(end)
            if end - start < 2 or (start == 0 and end == size) or rest is None:
                continue
            word = piece[start:end]
            frequency = math.log(jieba.get_FREQ(word) or 1)
            options.append((rest[0], rest[1] + 1, rest[2] - frequency, (word, *rest[3])))
        best[start] = min(options) if options else None
    found = best[0]
    return found[3] if found else ()


def finest_words(piece: str) -> tuple[str, ...]:
    """The finer words of a Chinese word, each split again into its own where it can be (``公交车站点``: ``公交``
    and ``站点``, by way of ``公交车``)."""
    found: list[str] = []
    for word in finer_words(piece):
        found.extend(finest_words(word) or (word,))
    return tuple(dict.fromkeys(found))


def _cjk_words(run: str) -> list[tuple[Word, bool]]:
    found: list[tuple[Word, bool]] = []
    for piece, stop in _cjk_pieces(run):
        if len(piece) == 1:
            found.append((Word(Item((piece,), prefix=True)), stop))
        else:
            found.append((Word(_phrase(piece), tuple(_phrase(part) for part in finest_words(piece))), stop))
    return found


def parse_query(q: str | None) -> list[Word]:
    """The words of a query; stop words only count when nothing else is asked."""
    if not q:
        return []
    found: list[tuple[Word, bool]] = []
    for run, word in _RUNS.findall(normalise(q)):
        if run:
            found += _cjk_words(run)
            continue
        folded = _fold(word)
        token = _word_token(folded) if folded else None
        if token == folded:
            found.append((Word(Item((token,))), folded in _EN_STOP))
        elif token:
            found.append((Word(Item((SPELLING + folded,)), (Item((token,)),)), folded in _EN_STOP))
    wanted = [item for item, stop in found if not stop] or [item for item, _ in found]
    return list(dict.fromkeys(wanted))


def document_text(title: str, title_en: str | None, keywords: Sequence[str], description: str) -> DocumentText:
    """The weighted tokens of a dataset: both titles, the keywords, the description."""
    return DocumentText.build(" ".join(filter(None, (title, title_en))), keywords, description)
