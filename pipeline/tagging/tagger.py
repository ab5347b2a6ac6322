"""The tagger: text signals from the matcher, speaker rules, and the two kind-only signals."""

from __future__ import annotations

from pathlib import Path

from pipeline.tagging.matcher import SignalMatcher
from pipeline.tagging.normalize import normalize_text
from pipeline.tagging.segmenter import Segmenter
from pipeline.tagging.taxonomy import Taxonomy, load_taxonomy
from schemas.events import (
    CONVERSATIONAL_KINDS,
    MATERIAL_KINDS,
    RECORD_CHANGE_KINDS,
    Actor,
    CanonicalEvent,
    EventKind,
)

_CACHE_LIMIT = 100_000
_SPEAKER_ACTORS = {
    "any": frozenset(Actor),
    "customer": frozenset({Actor.CUSTOMER}),
    "rep": frozenset({Actor.REP}),
}


class Tagger:
    """Tags text and events with the behaviour signals of one taxonomy. Pure after construction."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._matcher = SignalMatcher(taxonomy)
        self._allowed = {
            signal: _SPEAKER_ACTORS[rule.speaker] for signal, rule in taxonomy.rules.items()
        }
        self._material_actors = self._allowed.get("material_sent", _SPEAKER_ACTORS["rep"])
        # Chat lines repeat (收到, 好的, 报价单请查收): answers are kept per speaker and text.
        self._message_cache: dict[Actor, dict[str, tuple[str, ...]]] = {a: {} for a in Actor}

    @property
    def segmenter(self) -> Segmenter:
        """The segmenter with this taxonomy's dictionary (for keyword tools and benchmarks)."""
        return self._matcher.segmenter

    def known_words(self) -> frozenset[str]:
        """Every term, exclusion and dictionary word the taxonomy already has."""
        taxonomy = self.taxonomy
        words = {word for rule in taxonomy.rules.values() for word in rule.terms}
        words |= {word for rule in taxonomy.rules.values() for word in rule.exclusions}
        return frozenset(words | set(taxonomy.dictionary_words))

    @classmethod
    def from_file(cls, path: Path | None = None) -> Tagger:
        """Build from a taxonomy file; None means the packaged default. Raises TaxonomyError."""
        return cls(load_taxonomy(path))

    def tag(self, text: str, actor: Actor, kind: EventKind = EventKind.MESSAGE) -> tuple[str, ...]:
        """Sorted unique signal ids for something `actor` said or did."""
        if kind is not EventKind.MESSAGE:
            return self._tag_any_kind(text, actor, kind)
        cache = self._message_cache[actor]
        found = cache.get(text)
        if found is None:
            found = self._tag_any_kind(text, actor, kind)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[text] = found
        return found

    def _tag_any_kind(self, text: str, actor: Actor, kind: EventKind) -> tuple[str, ...]:
        found: set[str] = set()
        if kind in CONVERSATIONAL_KINDS and text:
            signals = self._matcher.match(normalize_text(text))
            found.update(self._speaker_filter(signals, actor))
        if kind in MATERIAL_KINDS and actor in self._material_actors:
            found.add("material_sent")
        if kind in RECORD_CHANGE_KINDS:
            found.add("customer_update")
        return tuple(sorted(found))

    def tag_reference(
        self, text: str, actor: Actor, kind: EventKind = EventKind.MESSAGE
    ) -> tuple[str, ...]:
        """`tag` computed by plain jieba over the whole text, without caches (for proofs)."""
        found: set[str] = set()
        if kind in CONVERSATIONAL_KINDS and text:
            signals = self._matcher.match_reference(normalize_text(text))
            found.update(self._speaker_filter(signals, actor))
        if kind in MATERIAL_KINDS and actor in self._material_actors:
            found.add("material_sent")
        if kind in RECORD_CHANGE_KINDS:
            found.add("customer_update")
        return tuple(sorted(found))

    def tag_event(self, event: CanonicalEvent) -> CanonicalEvent:
        """`event` with `signals` filled from its subject, text, kind and actor (a copy if they
        differ from the ones it carries)."""
        subject = event.attrs.get("subject", "")
        text = f"{subject}\n{event.text}" if subject else event.text
        signals = set(self.tag(text, event.actor, event.kind))
        if (
            event.kind == EventKind.EMAIL_SENT
            and event.attrs.get("attachments", "").strip()
            and event.actor in self._material_actors
        ):
            signals.add("material_sent")
        found = tuple(sorted(signals))
        if found == event.signals:  # the event is frozen: an equal copy would be waste
            return event
        return event.model_copy(update={"signals": found})

    def _speaker_filter(self, signals: frozenset[str], actor: Actor) -> list[str]:
        return [signal for signal in signals if actor in self._allowed[signal]]
