"""jieba segmentation with the taxonomy's domain words, on a private tokenizer.

A private `jieba.Tokenizer` keeps tenant dictionaries apart and leaves the global one alone.
HMM is off: it invents words, and a keyword must be a word the dictionary knows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache

import jieba

# jieba cuts text into blocks of these characters and segments each block on its own;
# punctuation, spaces and emoji between blocks are single-character tokens.
HAN_BLOCK = jieba.re_han_default

_CACHE_LIMIT = 200_000


@lru_cache(maxsize=1)
def _base_dictionary() -> tuple[dict[str, int], int]:
    """jieba's main dictionary, loaded once per process and copied into each tokenizer."""
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer.FREQ, tokenizer.total


class Segmenter:
    """Segments normalized text; domain words are added with explicit frequencies."""

    def __init__(self, words: Iterable[str]) -> None:
        base_freq, base_total = _base_dictionary()
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.FREQ = dict(base_freq)
        self._tokenizer.total = base_total
        self._tokenizer.initialized = True
        for word in words:
            self._tokenizer.add_word(word, self._whole_word_frequency(word))
        self._blocks: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {}

    def _whole_word_frequency(self, word: str) -> int:
        """The smallest frequency at which jieba keeps `word` whole, or its known one if higher.

        Computed explicitly (never left to jieba's default) so the value is deterministic for a
        given dictionary and word order.
        """
        return max(int(self._tokenizer.suggest_freq(word, tune=False)) + 1, 1)

    def cut(self, text: str) -> list[str]:
        """Plain jieba over the whole text: the reference the fast path must agree with."""
        return self._tokenizer.lcut(text, HMM=False)

    def cut_block(self, block: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """Tokens of one han block and their start offsets, cached: clauses repeat in chat."""
        cached = self._blocks.get(block)
        if cached is None:
            tokens = tuple(self._tokenizer.cut(block, HMM=False))
            starts, offset = [], 0
            for token in tokens:
                starts.append(offset)
                offset += len(token)
            cached = (tokens, tuple(starts))
            if len(self._blocks) >= _CACHE_LIMIT:
                self._blocks.clear()
            self._blocks[block] = cached
        return cached
