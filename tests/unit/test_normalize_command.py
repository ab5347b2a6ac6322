"""`salesradar normalize` output streams and the dead-letter grouping for `dlq list`."""

import argparse
import io
from pathlib import Path

import orjson

from pipeline.commands import dlq, normalize
from pipeline.identity import Directory
from pipeline.normalize import NormalizeContext

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_normalize_file_writes_events_and_rejections(tmp_path):
    good = (FIXTURES / "wecom" / "text_one_to_one.json").read_bytes().strip()
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(good + b'\n\n{"msgid": \n' + good + b"\r\n")
    out, err = io.BytesIO(), io.BytesIO()
    counts = normalize.normalize_file(path, "wecom", NormalizeContext(Directory()), out, err)
    assert counts == (2, 1)
    events = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event_id"] for e in events] == ["wecom:CAQQluDa4QUY0On2rYSAgAMgzPrShAE="] * 2
    assert events[0]["occurred_at"] == "2026-11-20T02:00:00Z"
    [rejected] = [orjson.loads(line) for line in err.getvalue().splitlines()]
    assert rejected["reason"] == "invalid_json"
    assert rejected["raw"] == '{"msgid": '


def test_run_prints_summary_and_exits_zero(tmp_path, capsysbinary):
    parser = argparse.ArgumentParser()
    normalize.add_arguments(parser)
    args = parser.parse_args(
        [
            "--source",
            "crm",
            str(FIXTURES / "crm" / "cn_field_edited.json"),
            "--directory",
            str(FIXTURES / "directory.csv"),
        ]
    )
    assert normalize.run(args) == 0
    captured = capsysbinary.readouterr()
    assert len(captured.out.splitlines()) == 2
    assert captured.err.decode().strip().endswith("normalize: 2 good, 0 rejected")


def test_run_reports_a_bad_directory(tmp_path, capsys):
    bad = tmp_path / "d.toml"
    bad.write_text('[[rep]]\nname = "x"\n', encoding="utf-8")
    parser = argparse.ArgumentParser()
    normalize.add_arguments(parser)
    args = parser.parse_args(["--source", "crm", str(bad), "--directory", str(bad)])
    assert normalize.run(args) == 2
    assert "d.toml:1: rep_id is required" in capsys.readouterr().err


def test_dead_letters_grouped_by_reason_biggest_first():
    rows = [
        {"reason": "invalid_json", "source": "wecom", "message": "eof", "raw": b'{"a":'},
        {"reason": "bad_timestamp", "source": "crm", "message": "x", "raw": "{}"},
        {"reason": "invalid_json", "source": "email", "message": "eof", "raw": b"\xff"},
        {"reason": "invalid_json", "source": "wecom", "message": "eof", "raw": b"["},
    ]
    groups = dlq.group_by_reason(rows)
    assert [(g.reason, g.count) for g in groups] == [("invalid_json", 3), ("bad_timestamp", 1)]
    assert groups[0].by_source == {"wecom": 2, "email": 1}
    text = dlq.format_groups(groups)
    assert text.splitlines()[0] == "dead letters: 4"
    assert "invalid_json" in text.splitlines()[1] and "email=1, wecom=2" in text.splitlines()[1]
    assert "\ufffd" in text


def test_no_dead_letters():
    assert dlq.format_groups(dlq.group_by_reason([])) == "dead letters: none"


def test_samples_are_capped():
    rows = [{"reason": "empty", "source": "crm", "message": "", "raw": b""}] * 10
    [group] = dlq.group_by_reason(rows)
    assert (group.count, len(group.samples)) == (10, dlq.SAMPLES_PER_REASON)


def test_replay_plan_filters_by_reason_and_keeps_truncated_back():
    rows = [
        {"reason": "invalid_json", "source": "wecom", "raw": b'{"a":', "raw_truncated": False},
        {"reason": "too_large", "source": "email", "raw": b"[", "raw_truncated": True},
        {"reason": "invalid_json", "source": "crm", "raw": "{", "raw_truncated": False},
        {"reason": "bad_timestamp", "source": "crm", "raw": b"{}", "raw_truncated": False},
    ]
    plan = dlq.plan_replay(rows, reason="invalid_json")
    assert plan.records == {"wecom": [b'{"a":'], "crm": [b"{"]}
    assert plan.skipped_truncated == 0
    everything = dlq.plan_replay(rows)
    assert sum(len(v) for v in everything.records.values()) == 3
    assert everything.skipped_truncated == 1


def test_replay_keeps_back_dead_letters_that_are_not_raw_input():
    rows = [
        {"reason": "invalid_json", "source": "wecom", "raw": b"{", "raw_truncated": False},
        {"reason": "sink_decode", "source": "sink", "raw": b"x", "raw_truncated": False},
        {"reason": "sink_refused", "source": "sink", "raw": b"y", "raw_truncated": True},
        {"reason": "state_unreadable", "source": "state", "raw": b"z", "raw_truncated": False},
    ]
    plan = dlq.plan_replay(rows)
    assert plan.records == {"wecom": [b"{"]}
    assert plan.not_input == {"sink": 2, "state": 1}
    assert plan.skipped_truncated == 0
