"""Precision, recall and F1 per signal against a labelled set of messages.

Managers act on heatmaps built from these tags, so the tagger's accuracy is measured, not
assumed. Rows are JSON objects with `text`, `actor`, `labels` and optionally `kind`, `split`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from pipeline.tagging.tagger import Tagger
from schemas.events import Actor, EventKind


class EvalFileError(ValueError):
    """A labelled file that cannot be evaluated; names the file and line."""


@dataclass(frozen=True)
class SignalScore:
    signal: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass(frozen=True)
class Mistake:
    text: str
    actor: str
    missed: tuple[str, ...]
    extra: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    """Scores for every signal that occurs in the labels or the predictions."""

    messages: int
    scores: tuple[SignalScore, ...]
    mistakes: tuple[Mistake, ...]

    def _macro(self, attribute: str) -> float:
        if not self.scores:
            return 0.0
        return sum(getattr(score, attribute) for score in self.scores) / len(self.scores)

    @property
    def macro_precision(self) -> float:
        return self._macro("precision")

    @property
    def macro_recall(self) -> float:
        return self._macro("recall")

    @property
    def macro_f1(self) -> float:
        return self._macro("f1")

    def format(self, title: str) -> str:
        lines = [
            f"{title}: {self.messages} messages",
            f"{'signal':<20}{'P':>7}{'R':>7}{'F1':>7}{'TP':>6}{'FP':>5}{'FN':>5}",
        ]
        for score in self.scores:
            lines.append(
                f"{score.signal:<20}{score.precision:>7.3f}{score.recall:>7.3f}{score.f1:>7.3f}"
                f"{score.true_positives:>6}{score.false_positives:>5}{score.false_negatives:>5}"
            )
        lines.append(
            f"{'macro':<20}{self.macro_precision:>7.3f}{self.macro_recall:>7.3f}"
            f"{self.macro_f1:>7.3f}"
        )
        return "\n".join(lines)


def evaluate(tagger: Tagger, rows: Iterable[Mapping[str, Any]]) -> Report:
    """Tag every row and compare with its labels."""
    counts: dict[str, list[int]] = {}
    mistakes: list[Mistake] = []
    messages = 0
    for row in rows:
        messages += 1
        kind = EventKind(row.get("kind", EventKind.MESSAGE))
        predicted = set(tagger.tag(row["text"], Actor(row["actor"]), kind))
        expected = set(row["labels"])
        for signal in predicted | expected:
            tp_fp_fn = counts.setdefault(signal, [0, 0, 0])
            if signal in predicted and signal in expected:
                tp_fp_fn[0] += 1
            elif signal in predicted:
                tp_fp_fn[1] += 1
            else:
                tp_fp_fn[2] += 1
        if predicted != expected:
            mistakes.append(
                Mistake(
                    text=row["text"],
                    actor=row["actor"],
                    missed=tuple(sorted(expected - predicted)),
                    extra=tuple(sorted(predicted - expected)),
                )
            )
    scores = tuple(SignalScore(signal, *counts[signal]) for signal in sorted(counts))
    return Report(messages=messages, scores=scores, mistakes=tuple(mistakes))


def load_rows(path: Path) -> list[dict[str, Any]]:
    """Read a labelled JSON-lines file, checking each row has what `evaluate` needs."""
    rows = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise EvalFileError(f"{path}:{number}: invalid JSON: {exc}") from exc
            problem = _row_problem(row)
            if problem:
                raise EvalFileError(f"{path}:{number}: {problem}")
            rows.append(row)
    return rows


def _row_problem(row: Any) -> str:
    if not isinstance(row, dict):
        return "each line must be a JSON object"
    if not isinstance(row.get("text"), str):
        return "`text` must be a string"
    if row.get("actor") not in {actor.value for actor in Actor}:
        return f"`actor` must be one of {[actor.value for actor in Actor]}"
    labels = row.get("labels")
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        return "`labels` must be a list of signal ids"
    if "kind" in row and row["kind"] not in {kind.value for kind in EventKind}:
        return f"unknown `kind` {row['kind']!r}"
    return ""
