"""A running worker picks up taxonomy edits, at most one file check per second, and keeps the
old tagger when an edit is broken."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from pipeline.tagging import TaggerReloader, TaxonomyError
from schemas.events import Actor

BASE = '[signals.quote]\nkeywords = ["报价"]\n'
GROWN = '[signals.quote]\nkeywords = ["报价", "开个价"]\n'


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _rewrite(path: Path, text: str, bump: int) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump * 1_000_000_000))


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, FakeClock, TaggerReloader]:
    path = tmp_path / "tenant.toml"
    path.write_text(BASE, encoding="utf-8")
    clock = FakeClock()
    return path, clock, TaggerReloader(path, clock=clock)


def test_picks_up_an_edit_after_the_check_interval(setup) -> None:
    path, clock, reloader = setup
    assert reloader.current().tag("开个价吧", Actor.CUSTOMER) == ()
    _rewrite(path, GROWN, bump=5)
    clock.now += 0.5
    assert reloader.current().tag("开个价吧", Actor.CUSTOMER) == ()  # not checked yet
    clock.now += 0.6
    assert reloader.current().tag("开个价吧", Actor.CUSTOMER) == ("quote",)


def test_same_tagger_object_while_nothing_changes(setup) -> None:
    _, clock, reloader = setup
    first = reloader.current()
    clock.now += 5
    assert reloader.current() is first


def test_broken_edit_keeps_the_previous_tagger_and_logs(setup, caplog) -> None:
    path, clock, reloader = setup
    before = reloader.current()
    _rewrite(path, '[signals.quote]\nspeaker = "boss"\n', bump=5)
    clock.now += 2
    with caplog.at_level(logging.ERROR, logger="pipeline.tagging.reloader"):
        assert reloader.current() is before
    assert "speaker" in caplog.text and "tenant.toml:2" in caplog.text
    _rewrite(path, GROWN, bump=10)
    clock.now += 2
    assert reloader.current().tag("开个价吧", Actor.CUSTOMER) == ("quote",)


def test_broken_file_at_start_up_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[signals.quote\n", encoding="utf-8")
    with pytest.raises(TaxonomyError):
        TaggerReloader(path)


def test_none_means_the_packaged_default() -> None:
    reloader = TaggerReloader(None)
    assert reloader.current().tag("太贵了", Actor.CUSTOMER) == ("objection_price",)
