"""`salesradar tag` and `salesradar keywords suggest`, and the suggestion logic under them."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.commands import keywords, tag
from pipeline.tagging import Tagger
from pipeline.tagging.suggest import UNASSIGNED, suggest_keywords
from schemas.events import Actor

REPO = Path(__file__).resolve().parents[2]
EVAL_FILE = REPO / "tests" / "data" / "tagging_eval.jsonl"


def _run(module, argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv))


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_tag_adds_signals_and_rejects_bad_lines(monkeypatch, capsys) -> None:
    lines = [
        json.dumps({"text": "太贵了", "actor": "customer", "id": 7}, ensure_ascii=False),
        "not json",
        json.dumps({"text": "太贵了", "actor": "boss"}),
        json.dumps({"actor": "rep"}),
        json.dumps({"text": "报价单请查收", "actor": "rep"}, ensure_ascii=False),
    ]
    monkeypatch.setattr("sys.stdin", _Stdin("\n".join(lines).encode()))
    assert _run(tag, []) == 1
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out[0] == {
        "text": "太贵了",
        "actor": "customer",
        "id": 7,
        "signals": ["objection_price"],
    }
    assert [row.get("error") for row in out[1:4]] == ["invalid_json", "bad_actor", "missing_text"]
    assert [row.get("line") for row in out[1:4]] == [2, 3, 4]
    assert out[4]["signals"] == ["material_sent", "quote"]


def test_tag_clean_input_exits_zero(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin(b'{"text": "ok"}\n\n'))
    assert _run(tag, []) == 0
    assert json.loads(capsys.readouterr().out) == {"text": "ok", "signals": []}


def test_tag_eval_prints_each_split(capsys) -> None:
    assert _run(tag, ["--eval", str(EVAL_FILE)]) == 0
    out = capsys.readouterr().out
    assert out.index("dev:") < out.index("test:")
    assert out.count("macro") == 2 and "objection_price" in out


def test_tag_eval_single_split_and_bad_taxonomy(tmp_path: Path, capsys) -> None:
    assert _run(tag, ["--eval", str(EVAL_FILE), "--split", "dev"]) == 0
    assert "test:" not in capsys.readouterr().out
    bad = tmp_path / "t.toml"
    bad.write_text("[signals.quote]\nspeaker = 3\n", encoding="utf-8")
    assert _run(tag, ["--taxonomy", str(bad), "--eval", str(EVAL_FILE)]) == 2
    assert "t.toml:2: signals.quote.speaker" in capsys.readouterr().err


MESSAGES = [
    ("太贵了，超出我们的盘子", Actor.CUSTOMER),
    ("太贵了，这个盘子装不下", Actor.CUSTOMER),
    ("盘子就这么大，没办法", Actor.CUSTOMER),
    ("我们的盘子太小", Actor.CUSTOMER),
    ("机房搬迁后再说", Actor.CUSTOMER),
    ("机房搬迁要两个月", Actor.CUSTOMER),
    ("好的", Actor.REP),
]


@pytest.mark.parametrize("method", ["tfidf", "textrank"])
def test_suggestions_are_placed_under_the_signal_they_accompany(method: str) -> None:
    result = suggest_keywords(Tagger.from_file(), MESSAGES, method=method)
    assert [s.word for s in result["objection_price"]][:1] == ["盘子"]
    assert result["objection_price"][0].untagged_count == 2
    assert "机房" in [s.word for s in result[UNASSIGNED]]
    assert all(s.word != "太贵" for items in result.values() for s in items)  # already known


def test_keywords_suggest_command(tmp_path: Path, capsys) -> None:
    path = tmp_path / "chat.jsonl"
    rows = [json.dumps({"text": t, "actor": a.value}, ensure_ascii=False) for t, a in MESSAGES]
    path.write_text("\n".join([*rows, "机房搬迁的事", '{"actor": "rep"}']), encoding="utf-8")
    assert _run(keywords, ["suggest", "--input", str(path)]) == 0
    captured = capsys.readouterr()
    assert "[objection_price]" in captured.out and "盘子" in captured.out
    assert "chat.jsonl:9: skipped" in captured.err


def test_building_the_cli_leaves_jiebas_keyword_tables_unloaded() -> None:
    """They cost every worker ~75 MB at import; only `keywords suggest` needs them."""
    code = (
        "import sys; from pipeline.cli import build_parser; build_parser(); "
        "print(sorted(m for m in sys.modules if m in ('jieba.analyse', 'jieba.posseg')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"
