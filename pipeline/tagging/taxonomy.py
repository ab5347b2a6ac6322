"""Load, merge and validate a signal taxonomy file (TOML).

The taxonomy is configuration users edit, so every mistake must point at the file, the line
and the setting; a tenant file may extend the packaged default instead of copying it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.tagging.normalize import normalize_text
from pipeline.tagging.segmenter import HAN_BLOCK

SIGNAL_IDS = (
    "screening",
    "demo",
    "quote",
    "contract",
    "payment",
    "delivery",
    "objection_price",
    "objection_tech",
    "objection_decision",
    "competitor",
    "material_sent",
    "customer_update",
)
SPEAKERS = ("any", "customer", "rep")
DEFAULT_BASE = "default"

_TOP_KEYS = {"extends", "negation", "competitors", "dictionary", "signals"}
_NEGATION_KEYS = {"before", "after", "window"}
_SIGNAL_LISTS = (
    "keywords",
    "synonyms",
    "patterns",
    "exclusions",
    "cancel_before",
    "cancel_after",
    "remove",
)
_WORD_LISTS = ("keywords", "synonyms", "exclusions", "cancel_before", "cancel_after")
_SIGNAL_KEYS = {"name", "speaker", "negatable", *_SIGNAL_LISTS}


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be used; the message names file, line and setting."""

    def __init__(self, path: Path | str, line: int, setting: str, problem: str) -> None:
        self.path, self.line, self.setting, self.problem = str(path), line, setting, problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {setting}: {problem}")


@dataclass(frozen=True)
class SignalRule:
    """How one signal is found in text."""

    signal: str
    speaker: str
    negatable: bool
    terms: tuple[str, ...]  # keywords and synonyms, normalized
    patterns: tuple[re.Pattern[str], ...]
    exclusions: tuple[str, ...]
    # words anywhere before / after a hit in its clause that make it about something else
    cancel_before: tuple[str, ...] = ()
    cancel_after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    """A validated, merged taxonomy ready to build a tagger from."""

    rules: dict[str, SignalRule]
    negation_before: frozenset[str]
    negation_after: frozenset[str]
    window: int
    dictionary_words: tuple[str, ...]
    sources: tuple[Path, ...]  # every file that went into it, for change detection


def default_taxonomy_path() -> Path:
    """The taxonomy shipped inside the package."""
    return Path(__file__).resolve().parent.parent / "data" / "taxonomy.toml"


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read `path` (None = packaged default), follow `extends`, validate, and normalize terms."""
    layers = _read_layers(path or default_taxonomy_path(), seen=())
    merged: dict[str, Any] = {}
    for _, _, data in layers:
        merged = _merge(merged, data)
    return _build(merged, layers)


_Layer = tuple[Path, str, dict[str, Any]]


def _read_layers(path: Path, seen: tuple[Path, ...]) -> list[_Layer]:
    """The chain of files from the base-most to `path`."""
    path = path.resolve()
    if path in seen:
        raise TaxonomyError(path, 0, "extends", "circular extends chain")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(path, 0, "file", f"cannot read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _line_from_message(str(exc), text)
        raise TaxonomyError(path, line, "syntax", str(exc)) from exc
    _check_shape(path, text, data)
    base = data.pop("extends", None)
    if base is None:
        return [(path, text, data)]
    base_path = default_taxonomy_path() if base == DEFAULT_BASE else path.parent / base
    return [*_read_layers(base_path, (*seen, path)), (path, text, data)]


def _line_from_message(message: str, text: str) -> int:
    """tomllib puts the position in its message: "(at line 3, column 5)" or "end of document"."""
    found = re.search(r"line (\d+)", message)
    if found:
        return int(found.group(1))
    return len(text.splitlines()) if "end of document" in message else 0


def _check_shape(path: Path, text: str, data: dict[str, Any]) -> None:
    """Reject unknown settings and wrong types before anything is merged."""

    def fail(section: str, key: str, problem: str) -> TaxonomyError:
        setting = f"{section}.{key}" if section else key
        return TaxonomyError(path, locate_line(text, section, key), setting, problem)

    for key in data:
        if key not in _TOP_KEYS:
            raise fail("", key, f"unknown setting; expected one of {sorted(_TOP_KEYS)}")
    if "extends" in data and not isinstance(data["extends"], str):
        raise fail("", "extends", 'must be "default" or a path to a taxonomy file')
    negation = _table(data, "negation", fail)
    for key, value in negation.items():
        if key not in _NEGATION_KEYS:
            raise fail("negation", key, f"unknown setting; expected {sorted(_NEGATION_KEYS)}")
        if key == "window":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10:
                raise fail("negation", key, "must be an integer from 0 to 10")
        else:
            _string_list(value, lambda problem, k=key: fail("negation", k, problem))
    for section in ("competitors", "dictionary"):
        table = _table(data, section, fail)
        expected = "brands" if section == "competitors" else "words"
        for key, value in table.items():
            if key != expected:
                raise fail(section, key, f"unknown setting; expected {expected!r}")
            _string_list(value, lambda problem, s=section, k=key: fail(s, k, problem))
            if section == "competitors":
                for word in value:
                    _check_one_clause(path, text, section, key, word)
    for signal, rule in _table(data, "signals", fail).items():
        section = f"signals.{signal}"
        if signal not in SIGNAL_IDS:
            raise fail("signals", signal, f"unknown signal; expected one of {list(SIGNAL_IDS)}")
        if not isinstance(rule, dict):
            raise fail("signals", signal, "must be a table")
        for key, value in rule.items():
            if key not in _SIGNAL_KEYS:
                raise fail(section, key, f"unknown setting; expected {sorted(_SIGNAL_KEYS)}")
            if key == "speaker" and value not in SPEAKERS:
                raise fail(section, key, f"must be one of {list(SPEAKERS)}, got {value!r}")
            if key == "negatable" and not isinstance(value, bool):
                raise fail(section, key, "must be true or false")
            if key == "name" and not isinstance(value, str):
                raise fail(section, key, "must be a string")
            if key in _SIGNAL_LISTS:
                _string_list(value, lambda problem, s=section, k=key: fail(s, k, problem))
        for key in _WORD_LISTS:
            for word in rule.get(key, ()):
                _check_one_clause(path, text, section, key, word)
        for index, pattern in enumerate(rule.get("patterns", ())):
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                line = locate_line(text, section, "patterns", pattern)
                raise TaxonomyError(
                    path, line, f"{section}.patterns[{index}]", f"invalid regex: {exc}"
                ) from exc
            if compiled.match(""):
                line = locate_line(text, section, "patterns", pattern)
                raise TaxonomyError(
                    path, line, f"{section}.patterns[{index}]", "pattern matches empty text"
                )


def _check_one_clause(path: Path, text: str, section: str, key: str, word: str) -> None:
    """Matching works within a clause, so a term with a space or punctuation could never hit."""
    if not HAN_BLOCK.fullmatch(normalize_text(word).strip()):
        raise TaxonomyError(
            path,
            locate_line(text, section, key, word),
            f"{section}.{key}",
            f"{word!r} contains a space, punctuation or emoji; a term must be one clause "
            "(Chinese characters, letters, digits), e.g. 'casestudy' or a pattern instead",
        )


def _table(data: dict[str, Any], key: str, fail: Any) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise fail("", key, "must be a table")
    return value


def _string_list(value: Any, fail: Any) -> None:
    if not isinstance(value, list):
        raise fail("must be a list of strings")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise fail(f"every entry must be a non-empty string, got {item!r}")


def locate_line(text: str, section: str, key: str, value: str | None = None) -> int:
    """1-based line of `key` in table `section` (and of `value` after it), 0 when not found."""
    lines = text.splitlines()
    table_line = _header_line(lines, f"{section}.{key}" if section else key)
    if table_line and value is None:
        return table_line
    start = 0
    if section:
        start = _header_line(lines, section)
        if not start:
            return 0
    key_line = re.compile(r'^\s*"?' + re.escape(key) + r'"?\s*=')
    for index in range(start, len(lines)):
        if section and index > start and lines[index].lstrip().startswith("["):
            break
        if key_line.match(lines[index]):
            if value is None:
                return index + 1
            for offset in range(index, len(lines)):
                if value in lines[offset] or _toml_escaped(value) in lines[offset]:
                    return offset + 1
            return index + 1
    return 0


def _header_line(lines: list[str], dotted: str) -> int:
    """1-based line of the `[a.b]` header for `dotted`, 0 when absent."""
    parts = r"\s*\.\s*".join(map(re.escape, dotted.split(".")))
    header = re.compile(r"^\s*\[\s*" + parts + r"\s*\]")
    return next((i + 1 for i, line in enumerate(lines) if header.match(line)), 0)


def _toml_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key, lists extend, scalars replace."""
    merged = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = [*merged[key], *value]
        else:
            merged[key] = value
    return merged


def _build(merged: dict[str, Any], layers: list[_Layer]) -> Taxonomy:
    negation = merged.get("negation", {})
    brands = merged.get("competitors", {}).get("brands", [])
    rules: dict[str, SignalRule] = {}
    for signal, raw in merged.get("signals", {}).items():
        removed = {normalize_text(word) for word in raw.get("remove", ())}
        words = [*raw.get("keywords", ()), *raw.get("synonyms", ())]
        if signal == "competitor":
            words += brands
        terms = _unique(normalize_text(word).strip() for word in words)
        rules[signal] = SignalRule(
            signal=signal,
            speaker=raw.get("speaker", "any"),
            negatable=raw.get("negatable", True),
            terms=tuple(term for term in terms if term and term not in removed),
            patterns=tuple(re.compile(pattern) for pattern in _unique(raw.get("patterns", ()))),
            exclusions=_normalized(raw.get("exclusions", ())),
            cancel_before=_normalized(raw.get("cancel_before", ())),
            cancel_after=_normalized(raw.get("cancel_after", ())),
        )
    return Taxonomy(
        rules=rules,
        negation_before=frozenset(normalize_text(w) for w in negation.get("before", ())),
        negation_after=frozenset(normalize_text(w) for w in negation.get("after", ())),
        window=negation.get("window", 3),
        dictionary_words=_unique(
            normalize_text(w) for w in merged.get("dictionary", {}).get("words", ())
        ),
        sources=tuple(path for path, _, _ in layers),
    )


def _normalized(words: Any) -> tuple[str, ...]:
    return _unique(normalize_text(word).strip() for word in words)


def _unique(items: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))
