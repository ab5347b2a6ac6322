"""The evaluation arithmetic, and the accuracy targets on the labelled set (dev and test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.tagging import Tagger
from pipeline.tagging.evaluate import EvalFileError, evaluate, load_rows

EVAL_FILE = Path(__file__).resolve().parents[1] / "data" / "tagging_eval.jsonl"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.from_file()


def test_counts_precision_recall_f1(tagger: Tagger) -> None:
    rows = [
        {"text": "太贵了", "actor": "customer", "labels": ["objection_price"]},  # TP
        {"text": "太贵了", "actor": "customer", "labels": []},  # FP
        {"text": "好的", "actor": "customer", "labels": ["objection_price"]},  # FN
        {"text": "好的", "actor": "customer", "labels": []},  # nothing
    ]
    report = evaluate(tagger, rows)
    (score,) = report.scores
    assert (score.true_positives, score.false_positives, score.false_negatives) == (1, 1, 1)
    assert score.precision == pytest.approx(0.5) and score.recall == pytest.approx(0.5)
    assert score.f1 == pytest.approx(0.5) and report.macro_f1 == pytest.approx(0.5)
    assert report.messages == 4 and len(report.mistakes) == 2


def test_load_rows_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    path.write_text('{"text": "a", "actor": "rep", "labels": []}\n{"text": 1}\n', "utf-8")
    with pytest.raises(EvalFileError, match=r"eval.jsonl:2: `text`"):
        load_rows(path)


def test_labelled_set_has_the_promised_shape() -> None:
    rows = load_rows(EVAL_FILE)
    assert len(rows) >= 400
    assert sum(not row["labels"] for row in rows) / len(rows) >= 0.30
    assert sum(row["hard"] for row in rows) / len(rows) >= 0.30
    assert 0.25 <= sum(row["split"] == "test" for row in rows) / len(rows) <= 0.35
    assert len({row["id"] for row in rows}) == len(rows)


#: The issue's targets. Until 2026-11-30 the dev split (the tuning loop) met them; that day
#: four fresh batches joined it (the dev quarter of V and W, all of Z, ZQ and ZD: 644 rows,
#: each tuned for one round) and it measures 0.943 F1 / 0.922 precision: the target test is
#: kept, as a strict expected failure that turns red the day it passes, next to a floor.
TARGET_F1, TARGET_PRECISION = 0.92, 0.93
TUNING_FLOOR_F1, TUNING_FLOOR_PRECISION = 0.94, 0.92
#: The held-out split does NOT meet them. Floors guard it against regression on messages the
#: taxonomy was never tuned on (see docs/tagging.md); each floor keeps the rows it was set on:
#: * the rows held out before the fresh batches were added (ids m…, n…; 318 rows): macro F1 /
#:   precision measured 0.881 / 0.888 on 2026-11-30;
#: * the 493 rows held out before 2026-11-30 (ids m… to u…, which adds fresh batches written
#:   across industries the set did not cover): 0.847 / 0.859;
#: * the whole split, which since 2026-11-30 also holds the test quarter of batches V and W
#:   (66 rows) and all of batches X, Y, ZZ and ZT (560 rows, written in new voices, each
#:   scored once with the taxonomy frozen, never tuned on: 0.767 / 0.791 together):
#:   1,119 rows, 0.795 / 0.811.
EARLIER_HELD_OUT_IDS = ("m", "n")
HELD_OUT_FLOOR_F1, HELD_OUT_FLOOR_PRECISION = 0.87, 0.88
BEFORE_2026_11_30_IDS = ("m", "n", "p", "q", "r", "s", "t", "u")
BEFORE_2026_11_30_FLOOR_F1, BEFORE_2026_11_30_FLOOR_PRECISION = 0.84, 0.85
WHOLE_HELD_OUT_FLOOR_F1, WHOLE_HELD_OUT_FLOOR_PRECISION = 0.79, 0.81


def _macro(tagger: Tagger, split: str, ids: tuple[str, ...] = ()) -> tuple[float, float, str]:
    rows = [row for row in load_rows(EVAL_FILE) if row["split"] == split]
    if ids:
        rows = [row for row in rows if row["id"].startswith(ids)]
    report = evaluate(tagger, rows)
    # only the aggregate table on failure: the test split's messages stay out of the tuning loop
    return report.macro_f1, report.macro_precision, report.format(split)


@pytest.mark.xfail(
    strict=True, reason="dev precision 0.922 < 0.93 since batches V, W, Z, ZQ, ZD joined the split"
)
def test_accuracy_targets_on_the_tuning_split(tagger: Tagger) -> None:
    macro_f1, macro_precision, summary = _macro(tagger, "dev")
    assert macro_f1 >= TARGET_F1, summary
    assert macro_precision >= TARGET_PRECISION, summary


def test_no_regression_on_the_tuning_split(tagger: Tagger) -> None:
    macro_f1, macro_precision, summary = _macro(tagger, "dev")
    assert macro_f1 >= TUNING_FLOOR_F1, summary
    assert macro_precision >= TUNING_FLOOR_PRECISION, summary


def test_no_regression_on_the_earlier_held_out_rows(tagger: Tagger) -> None:
    macro_f1, macro_precision, summary = _macro(tagger, "test", EARLIER_HELD_OUT_IDS)
    assert macro_f1 >= HELD_OUT_FLOOR_F1, summary
    assert macro_precision >= HELD_OUT_FLOOR_PRECISION, summary


def test_no_regression_on_the_rows_held_out_before_2026_11_30(tagger: Tagger) -> None:
    macro_f1, macro_precision, summary = _macro(tagger, "test", BEFORE_2026_11_30_IDS)
    assert macro_f1 >= BEFORE_2026_11_30_FLOOR_F1, summary
    assert macro_precision >= BEFORE_2026_11_30_FLOOR_PRECISION, summary


def test_no_regression_on_the_whole_held_out_split(tagger: Tagger) -> None:
    macro_f1, macro_precision, summary = _macro(tagger, "test")
    assert macro_f1 >= WHOLE_HELD_OUT_FLOOR_F1, summary
    assert macro_precision >= WHOLE_HELD_OUT_FLOOR_PRECISION, summary
