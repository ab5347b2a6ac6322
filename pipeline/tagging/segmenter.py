"""jieba segmentation with the taxonomy's domain words, on a private tokenizer.

A private `jieba.Tokenizer` keeps tenant dictionaries apart and leaves the global one alone.
HMM is off: it invents words, and a keyword must be a word the dictionary knows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache

import jieba

# jieba cuts text into blocks of these characters (clauses) and segments each on its own;
# punctuation, spaces and emoji between them are single-character tokens.
HAN_BLOCK = jieba.re_han_default
_SINGLE_CHARACTER = 1_000_000
_FREQUENCY_MARGIN = 20


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
        # Shorter words first: a compound's frequency is then set against its boosted parts
        # (协议价 after 协议), so adding a part never splits a compound added earlier.
        for word in sorted(dict.fromkeys(words), key=len):
            self._tokenizer.add_word(word, self._whole_word_frequency(word))

    @property
    def tokenizer(self) -> jieba.Tokenizer:
        """The private tokenizer, for jieba tools (keyword extraction) that take one."""
        return self._tokenizer

    def _whole_word_frequency(self, word: str) -> int:
        """Enough frequency that jieba keeps `word` whole, with a margin for context.

        jieba's `suggest_freq` is the bare minimum to beat splitting the word on its own; in a
        sentence, neighbours and later additions to the dictionary tip such a word apart
        (说再看看 -> 说/再/看看), hence the margin. Explicit, so the result is deterministic.
        """
        return int(self._tokenizer.suggest_freq(word, tune=False)) * _FREQUENCY_MARGIN + 1

    def expected_frequency(self, text: str) -> float:
        """How common `text` is in Chinese: its dictionary frequency, with single characters
        counted as very common because they occur inside many words, not only alone."""
        known = self._tokenizer.FREQ.get(text, 0)
        return max(known, _SINGLE_CHARACTER) if len(text) == 1 else known + 1

    def cut(self, text: str) -> list[str]:
        """Plain jieba with the domain words, HMM off."""
        return self._tokenizer.lcut(text, HMM=False)
