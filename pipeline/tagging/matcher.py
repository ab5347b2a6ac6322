"""Find the text signals in normalized text, fast, with the exact result of plain jieba.

A hit is a taxonomy term (or a pattern match) whose start and end are token boundaries of
jieba's segmentation, not inside a look-alike compound, and not negated nearby.

Two ways to get there, with identical results:
* `match` (fast): Aho-Corasick finds every term, exclusion and pattern anchor in one scan;
  most chat has none and stops there. jieba segments each punctuation-separated block on its
  own, so only the blocks holding a candidate are segmented, and those results are cached.
* `match_reference` (plain jieba): segment the whole text, look every run of tokens up in
  the term table. Kept to prove the fast path changes nothing.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Protocol

import ahocorasick

from pipeline.tagging.anchors import required_literals
from pipeline.tagging.segmenter import HAN_BLOCK, Segmenter
from pipeline.tagging.taxonomy import Taxonomy

_Span = tuple[str, int, int]  # signal, start, end


class _TokenView(Protocol):
    def is_boundary(self, position: int) -> bool: ...
    def before(self, start: int, count: int) -> tuple[str, ...]: ...
    def after(self, end: int, count: int) -> tuple[str, ...]: ...


class SignalMatcher:
    """Text signals of one taxonomy (speaker rules are applied by the tagger)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._taxonomy = taxonomy
        rules = taxonomy.rules.values()
        self._term_signals = _index((term, rule.signal) for rule in rules for term in rule.terms)
        self._exclusion_signals = _index(
            (word, rule.signal) for rule in rules for word in rule.exclusions
        )
        self._patterns = [(rule.signal, pattern) for rule in rules for pattern in rule.patterns]
        self._longest_term = max(map(len, self._term_signals), default=0)
        self.segmenter = Segmenter(
            [
                *taxonomy.dictionary_words,
                *taxonomy.negation_before,
                *taxonomy.negation_after,
                *self._term_signals,
                *self._exclusion_signals,
            ]
        )
        self._automaton, self._ungated = self._build_automaton()

    def _build_automaton(self) -> tuple[ahocorasick.Automaton, tuple[int, ...]]:
        anchors: dict[str, list[int]] = {}
        ungated: list[int] = []
        for index, (_, pattern) in enumerate(self._patterns):
            literals = required_literals(pattern)
            if literals is None:
                ungated.append(index)
            for literal in literals or ():
                anchors.setdefault(literal, []).append(index)
        automaton = ahocorasick.Automaton()
        for word in {*self._term_signals, *self._exclusion_signals, *anchors}:
            automaton.add_word(
                word,
                (
                    len(word),
                    self._term_signals.get(word, ()),
                    self._exclusion_signals.get(word, ()),
                    tuple(anchors.get(word, ())),
                ),
            )
        if len(automaton):
            automaton.make_automaton()
        return automaton, tuple(ungated)

    def match(self, text: str) -> frozenset[str]:
        """Signals in normalized `text` (fast path)."""
        hits: list[_Span] = []
        exclusions: list[_Span] = []
        to_run = set(self._ungated)
        if self._automaton.kind == ahocorasick.AHOCORASICK:
            for last, (length, terms, excluded, patterns) in self._automaton.iter(text):
                start = last + 1 - length
                hits.extend((signal, start, last + 1) for signal in terms)
                exclusions.extend((signal, start, last + 1) for signal in excluded)
                to_run.update(patterns)
        hits.extend(self._pattern_hits(text, sorted(to_run)))
        if not hits:
            return frozenset()
        return self._confirm(hits, exclusions, _BlockView(text, self.segmenter))

    def match_reference(self, text: str) -> frozenset[str]:
        """Signals in normalized `text` by plain jieba over the whole text (reference path)."""
        view = _WholeTextView(text, self.segmenter)
        hits: list[_Span] = []
        tokens, starts = view.tokens, view.starts
        for first in range(len(tokens)):
            joined = ""
            for last in range(first, len(tokens)):
                joined += tokens[last]
                if len(joined) > self._longest_term:
                    break
                for signal in self._term_signals.get(joined, ()):
                    hits.append((signal, starts[first], starts[first] + len(joined)))
        exclusions: list[_Span] = []
        for word, signals in self._exclusion_signals.items():
            position = text.find(word)
            while position >= 0:
                exclusions.extend((signal, position, position + len(word)) for signal in signals)
                position = text.find(word, position + 1)
        hits.extend(self._pattern_hits(text, range(len(self._patterns))))
        return self._confirm(hits, exclusions, view)

    def _pattern_hits(self, text: str, indexes: Iterable[int]) -> list[_Span]:
        found = []
        for index in indexes:
            signal, pattern = self._patterns[index]
            found.extend((signal, m.start(), m.end()) for m in pattern.finditer(text))
        return found

    def _confirm(
        self, hits: list[_Span], exclusions: list[_Span], view: _TokenView
    ) -> frozenset[str]:
        """Keep hits on token boundaries, outside exclusions, and not negated."""
        taxonomy = self._taxonomy
        found: set[str] = set()
        for signal, start, end in hits:
            if signal in found:
                continue
            if any(s == signal and xs <= start and end <= xe for s, xs, xe in exclusions):
                continue
            if not (view.is_boundary(start) and view.is_boundary(end)):
                continue
            if taxonomy.rules[signal].negatable and (
                not taxonomy.negation_before.isdisjoint(view.before(start, taxonomy.window))
                or not taxonomy.negation_after.isdisjoint(view.after(end, taxonomy.window))
            ):
                continue
            found.add(signal)
        return frozenset(found)


def _index(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    index: dict[str, tuple[str, ...]] = {}
    for word, signal in pairs:
        if signal not in index.get(word, ()):
            index[word] = (*index.get(word, ()), signal)
    return index


class _BlockView:
    """Token boundaries from segmenting only the blocks that are asked about."""

    def __init__(self, text: str, segmenter: Segmenter) -> None:
        spans = [match.span() for match in HAN_BLOCK.finditer(text)]
        self._starts = [start for start, _ in spans]
        self._ends = [end for _, end in spans]
        self._text = text
        self._segmenter = segmenter

    def _block_at(self, position: int) -> int:
        """Index of the block holding the character at `position`, or -1."""
        index = bisect.bisect_right(self._starts, position) - 1
        return index if index >= 0 and position < self._ends[index] else -1

    def _tokens(self, index: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
        block_start = self._starts[index]
        return self._segmenter.cut_block(self._text[block_start : self._ends[index]])

    def is_boundary(self, position: int) -> bool:
        index = self._block_at(position)
        if index < 0 or position == self._starts[index]:
            return True
        _, starts = self._tokens(index)
        return position - self._starts[index] in starts

    def before(self, start: int, count: int) -> tuple[str, ...]:
        index = self._block_at(start)
        if index < 0 or count == 0:
            return ()
        tokens, starts = self._tokens(index)
        position = bisect.bisect_left(starts, start - self._starts[index])
        return tokens[max(0, position - count) : position]

    def after(self, end: int, count: int) -> tuple[str, ...]:
        index = self._block_at(end - 1)
        if index < 0 or count == 0:
            return ()
        tokens, starts = self._tokens(index)
        position = bisect.bisect_left(starts, end - self._starts[index])
        return tokens[position : position + count]


class _WholeTextView:
    """Token boundaries from plain jieba over the whole text."""

    def __init__(self, text: str, segmenter: Segmenter) -> None:
        self.tokens = segmenter.cut(text)
        self.starts: list[int] = []
        offset = 0
        for token in self.tokens:
            self.starts.append(offset)
            offset += len(token)
        self._boundaries = {*self.starts, offset}
        self._in_block = [HAN_BLOCK.fullmatch(token) is not None for token in self.tokens]
        self._first_at = {start: index for index, start in enumerate(self.starts)}

    def is_boundary(self, position: int) -> bool:
        return position in self._boundaries

    def before(self, start: int, count: int) -> tuple[str, ...]:
        index = self._first_at[start]
        taken: list[str] = []
        while self._in_block[index] and index > 0 and self._in_block[index - 1]:
            if len(taken) == count:
                break
            index -= 1
            taken.insert(0, self.tokens[index])
        return tuple(taken)

    def after(self, end: int, count: int) -> tuple[str, ...]:
        last = bisect.bisect_right(self.starts, end - 1) - 1
        taken: list[str] = []
        index = last
        while (
            self._in_block[index] and index + 1 < len(self.tokens) and self._in_block[index + 1]
        ):
            if len(taken) == count:
                break
            index += 1
            taken.append(self.tokens[index])
        return tuple(taken)
