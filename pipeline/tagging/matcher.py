"""Find the text signals in normalized text, fast, with the exact result of plain jieba.

Matching works clause by clause, where a clause is what jieba segments on its own: a run of
Chinese characters, letters and digits between punctuation, spaces or emoji. A hit is a
taxonomy term (or a pattern match) inside one clause whose start and end are token boundaries
of jieba's segmentation and not in the middle of an English word, not inside a look-alike
compound, not cancelled by a context word of its signal, and not negated in the same clause.

Two ways to get there, with identical results:
* `match` (fast): split the text into clauses and look each up in a cache (clauses repeat far
  more than whole messages). A new clause is scanned once by Aho-Corasick for every term,
  exclusion and pattern anchor; most have none and stop there. Only clauses with a candidate
  are segmented.
* `match_reference` (plain jieba): segment the whole text, regroup the tokens into clauses,
  and look every run of tokens up in the term table. Kept to prove the fast path changes
  nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import ahocorasick

from pipeline.tagging.anchors import required_literals
from pipeline.tagging.segmenter import HAN_BLOCK, Segmenter
from pipeline.tagging.taxonomy import Taxonomy

_Span = tuple[str, int, int]  # signal, start, end (offsets inside one clause)
_NOTHING: frozenset[str] = frozenset()
_CACHE_LIMIT = 200_000


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
        self._clause_cache: dict[str, frozenset[str]] = {}

    def _build_automaton(self) -> tuple[ahocorasick.Automaton, tuple[int, ...]]:
        anchors: dict[str, list[int]] = {}
        ungated: list[int] = []
        for index, (_, pattern) in enumerate(self._patterns):
            literals = required_literals(pattern, self.segmenter.expected_frequency)
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
        found = _NOTHING
        cache = self._clause_cache
        for clause in HAN_BLOCK.findall(text):
            signals = cache.get(clause)
            if signals is None:
                signals = self._match_clause(clause)
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[clause] = signals
            if signals:
                found = found | signals
        return found

    def _match_clause(self, clause: str) -> frozenset[str]:
        hits: list[_Span] = []
        exclusions: list[_Span] = []
        to_run: set[int] = set(self._ungated)
        if self._automaton.kind == ahocorasick.AHOCORASICK:
            for last, (length, terms, excluded, patterns) in self._automaton.iter(clause):
                for signal in terms:
                    hits.append((signal, last + 1 - length, last + 1))
                for signal in excluded:
                    exclusions.append((signal, last + 1 - length, last + 1))
                if patterns:
                    to_run.update(patterns)
        if to_run:
            hits.extend(self._pattern_hits(clause, to_run))
        if not hits:
            return _NOTHING
        return self._confirm(hits, exclusions, _ClauseTokens(self.segmenter.cut(clause)))

    def match_reference(self, text: str) -> frozenset[str]:
        """Signals in normalized `text` by plain jieba over the whole text (reference path)."""
        found: set[str] = set()
        for tokens in _clauses(self.segmenter.cut(text)):
            view = _ClauseTokens(tokens)
            clause = "".join(tokens)
            hits: list[_Span] = []
            for first in range(len(tokens)):
                joined = ""
                for last in range(first, len(tokens)):
                    joined += tokens[last]
                    if len(joined) > self._longest_term:
                        break
                    start = view.starts[first]
                    hits.extend(
                        (signal, start, start + len(joined))
                        for signal in self._term_signals.get(joined, ())
                    )
            exclusions: list[_Span] = []
            for word, signals in self._exclusion_signals.items():
                position = clause.find(word)
                while position >= 0:
                    exclusions.extend((s, position, position + len(word)) for s in signals)
                    position = clause.find(word, position + 1)
            hits.extend(self._pattern_hits(clause, range(len(self._patterns))))
            found |= self._confirm(hits, exclusions, view)
        return frozenset(found)

    def _pattern_hits(self, clause: str, indexes: Iterable[int]) -> list[_Span]:
        found = []
        for index in indexes:
            signal, pattern = self._patterns[index]
            for match in pattern.finditer(clause):
                found.append((signal, match.start(), match.end()))
        return found

    def _confirm(
        self, hits: list[_Span], exclusions: list[_Span], view: _ClauseTokens
    ) -> frozenset[str]:
        """Keep hits on token boundaries, outside exclusions, not cancelled, and not negated."""
        taxonomy = self._taxonomy
        found: set[str] = set()
        for signal, start, end in hits:
            if signal in found:
                continue
            if exclusions and any(
                s == signal and xs <= start and end <= xe for s, xs, xe in exclusions
            ):
                continue
            if start not in view.index_at or end not in view.index_at:
                continue
            if _inside_latin_word(view.text, start, end):
                continue
            rule = taxonomy.rules[signal]
            if _cancelled(rule.cancel_before, view.text[:start]) or _cancelled(
                rule.cancel_after, view.text[end:]
            ):
                continue
            if rule.negatable and (
                not taxonomy.negation_before.isdisjoint(view.before(start, taxonomy.window))
                or not taxonomy.negation_after.isdisjoint(view.after(end, taxonomy.window))
            ):
                continue
            found.add(signal)
        return frozenset(found)


def _inside_latin_word(clause: str, start: int, end: int) -> bool:
    """True when a hit starts or ends in the middle of an English word.

    jieba splits a Latin word around any dictionary word inside it (linda → li/nda), so
    without this nda, api or poc would be found inside linda, rapid or epoch.
    """
    starts_inside = start > 0 and _is_latin(clause[start]) and _is_latin(clause[start - 1])
    ends_inside = end < len(clause) and _is_latin(clause[end - 1]) and _is_latin(clause[end])
    return starts_inside or ends_inside


def _is_latin(character: str) -> bool:
    return "a" <= character <= "z"


def _cancelled(words: tuple[str, ...], context: str) -> bool:
    """True when a word of the signal's cancel list occurs in `context` (same clause)."""
    return bool(context) and any(word in context for word in words)


def _index(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    index: dict[str, tuple[str, ...]] = {}
    for word, signal in pairs:
        if signal not in index.get(word, ()):
            index[word] = (*index.get(word, ()), signal)
    return index


def _clauses(tokens: list[str]) -> Iterable[list[str]]:
    """Runs of clause tokens in a whole-text segmentation (punctuation, spaces, emoji split)."""
    run: list[str] = []
    for token in tokens:
        if HAN_BLOCK.fullmatch(token):
            run.append(token)
        elif run:
            yield run
            run = []
    if run:
        yield run


class _ClauseTokens:
    """The tokens of one clause, addressed by character offset."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.text = "".join(tokens)
        self.starts: list[int] = []
        offset = 0
        for token in tokens:
            self.starts.append(offset)
            offset += len(token)
        # token index starting at each boundary; the clause end maps past the last token
        self.index_at = {start: index for index, start in enumerate(self.starts)}
        self.index_at[offset] = len(tokens)

    def before(self, start: int, count: int) -> list[str]:
        index = self.index_at[start]
        return self.tokens[max(0, index - count) : index]

    def after(self, end: int, count: int) -> list[str]:
        index = self.index_at[end]
        return self.tokens[index : index + count]
