"""Management hint templates and Chinese names, from the hints TOML users edit."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import DEFAULT_HINTS_PATH, AlertConfigError


class _KeepUnknown(dict[str, str]):
    """format_map leaves an unknown placeholder as written instead of failing the alert."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Hints:
    default: str = ""
    signal_priority: tuple[str, ...] = ()
    signal_names: dict[str, str] = field(default_factory=dict)
    kind_names: dict[str, str] = field(default_factory=dict)
    stage_titles: dict[str, str] = field(default_factory=dict)
    by_signal: dict[str, str] = field(default_factory=dict)
    by_kind: dict[str, str] = field(default_factory=dict)

    def signal_name(self, signal: str) -> str:
        return self.signal_names.get(signal, signal)

    def hint(self, signals: tuple[str, ...], kind: str, values: dict[str, str]) -> str:
        """The first signal in priority order wins, then the kind, then the default."""
        ordered = [s for s in self.signal_priority if s in signals]
        ordered += [s for s in signals if s not in ordered]
        template = next((self.by_signal[s] for s in ordered if s in self.by_signal), None)
        if template is None:
            template = self.by_kind.get(kind, self.default)
        return template.format_map(_KeepUnknown(values))


def _table(raw: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = raw.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise AlertConfigError(f"{where}: {key}: must be a table of strings")
    return dict(value)


def load_hints(path: Path = DEFAULT_HINTS_PATH) -> Hints:
    """Load and validate the hints file; errors name the file and the setting."""
    where = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AlertConfigError(f"{where}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise AlertConfigError(f"{where}: invalid TOML: {exc}") from exc
    default = raw.get("default", "")
    priority = raw.get("signal_priority", [])
    if not isinstance(default, str):
        raise AlertConfigError(f"{where}: default: must be a string")
    if not isinstance(priority, list) or not all(isinstance(s, str) for s in priority):
        raise AlertConfigError(f"{where}: signal_priority: must be a list of signal ids")
    hints = Hints(
        default=default,
        signal_priority=tuple(priority),
        signal_names=_table(raw, "signal_names", where),
        kind_names=_table(raw, "kind_names", where),
        stage_titles=_table(raw, "stage_titles", where),
        by_signal=_table(raw, "signal", where),
        by_kind=_table(raw, "kind", where),
    )
    for table, templates in (("signal", hints.by_signal), ("kind", hints.by_kind)):
        for key, template in templates.items():
            _check_template(template, f"{where}: {table}.{key}")
    _check_template(hints.default, f"{where}: default")
    return hints


def _check_template(template: str, where: str) -> None:
    try:
        template.format_map(_KeepUnknown())
    except (ValueError, IndexError) as exc:
        raise AlertConfigError(f"{where}: bad template: {exc}") from None
