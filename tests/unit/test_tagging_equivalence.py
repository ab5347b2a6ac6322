"""The fast path (Aho-Corasick pre-filter, per-block cached segmentation) must give exactly the
tags of plain jieba over the whole message: speed may not cost accuracy."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.tagging import Tagger
from pipeline.tagging.evaluate import load_rows
from schemas.events import Actor

EVAL_FILE = Path(__file__).resolve().parents[1] / "data" / "tagging_eval.jsonl"
NOISE = [
    "，",
    "。",
    "？",
    " ",
    "😂",
    "👍",
    "@王总 ",
    "https://x.cn/a?b=1 ",
    "demo",
    "PO",
    "12.5万",
    "不",
    "没",
    "没问题",
    "不用",
    "\n",
    "報價",
    "ok",
    "a",
    "的",
    "了",
]


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.from_file()


@pytest.fixture(scope="module")
def eval_texts() -> list[str]:
    return [row["text"] for row in load_rows(EVAL_FILE)]


def _same(tagger: Tagger, text: str) -> None:
    for actor in (Actor.CUSTOMER, Actor.REP):
        assert tagger.tag(text, actor) == tagger.tag_reference(text, actor), text


def test_identical_on_the_whole_eval_set(tagger: Tagger, eval_texts: list[str]) -> None:
    for text in eval_texts:
        _same(tagger, text)


def test_identical_on_generated_chat(tagger: Tagger, eval_texts: list[str]) -> None:
    """Splices of real messages and noise: new block boundaries, negations, mixed scripts."""
    rng = random.Random(20261129)
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(1, 4)):
            text = rng.choice(eval_texts)
            start = rng.randrange(len(text))
            parts.append(text[start : start + rng.randint(1, 14)])
            parts.append(rng.choice(NOISE))
        _same(tagger, "".join(parts))


def _alphabet() -> str:
    taxonomy = Tagger.from_file().taxonomy
    chars = {ch for rule in taxonomy.rules.values() for term in rule.terms for ch in term}
    chars |= {ch for word in taxonomy.negation_before | taxonomy.negation_after for ch in word}
    return "".join(sorted(chars)) + "，。？! 😂123abc"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_alphabet(), max_size=30))
def test_identical_on_arbitrary_text(text: str) -> None:
    _same(_SHARED, text)


_SHARED = Tagger.from_file()


def test_cache_does_not_change_answers(tagger: Tagger) -> None:
    text = "太贵了，能不能再优惠点"
    first = tagger.tag(text, Actor.CUSTOMER)
    assert tagger.tag(text, Actor.REP) == tagger.tag_reference(text, Actor.REP)
    assert tagger.tag(text, Actor.CUSTOMER) == first
