"""Taxonomy files: validation names file, line and setting; tenants extend the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.tagging import Tagger, TaxonomyError
from pipeline.tagging.taxonomy import default_taxonomy_path, load_taxonomy
from schemas.events import Actor

MINIMAL = """\
[negation]
before = ["不"]
after = ["没问题"]
window = 2

[signals.quote]
keywords = ["报价"]
patterns = ["价格.{0,2}多少"]
"""


def _write(tmp_path: Path, text: str, name: str = "taxonomy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> TaxonomyError:
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy(path)
    return caught.value


def test_minimal_file_tags_with_its_own_rules(tmp_path: Path) -> None:
    tagger = Tagger.from_file(_write(tmp_path, MINIMAL))
    assert tagger.tag("报价发我", Actor.CUSTOMER) == ("quote",)
    assert tagger.tag("价格是多少", Actor.CUSTOMER) == ("quote",)
    assert tagger.tag("不报价", Actor.CUSTOMER) == ()
    assert tagger.tag("太贵了", Actor.CUSTOMER) == ()


def test_cancel_words_apply_anywhere_in_the_clause_but_not_beyond(tmp_path: Path) -> None:
    text = MINIMAL + 'cancel_before = ["原材料"]\ncancel_after = ["锁定"]\n'
    tagger = Tagger.from_file(_write(tmp_path, text))
    assert tagger.tag("最近原材料的报价涨了", Actor.CUSTOMER) == ()
    assert tagger.tag("报价单价格两年不变要锁定", Actor.CUSTOMER) == ()
    assert tagger.tag("原材料涨了，报价发我", Actor.CUSTOMER) == ("quote",)
    assert tagger.tag("报价发我。锁定", Actor.CUSTOMER) == ("quote",)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + 'keywords = ["a"\n')
    error = _error(path)
    assert error.path == str(path.resolve()) and error.setting == "syntax"
    assert error.line == 9


@pytest.mark.parametrize(
    ("bad_line", "setting", "line"),
    [
        ('speaker = "manager"', "signals.quote.speaker", 9),
        ("negatable = 1", "signals.quote.negatable", 9),
        ('colour = "red"', "signals.quote.colour", 9),
        ('synonyms = ["ok", 3]', "signals.quote.synonyms", 9),
        ('exclusions = [""]', "signals.quote.exclusions", 9),
        ('cancel_before = [""]', "signals.quote.cancel_before", 9),
        ('cancel_after = ["a b"]', "signals.quote.cancel_after", 9),
    ],
)
def test_semantic_errors_name_the_line_and_setting(
    tmp_path: Path, bad_line: str, setting: str, line: int
) -> None:
    error = _error(_write(tmp_path, MINIMAL + bad_line + "\n"))
    assert (error.setting, error.line) == (setting, line)
    assert f":{line}: {setting}:" in str(error)


def test_invalid_regex_points_at_the_pattern_line(tmp_path: Path) -> None:
    broken = 'patterns = [\n  "ok",\n  "(未闭合",\n]'
    text = MINIMAL.replace('patterns = ["价格.{0,2}多少"]', broken)
    error = _error(_write(tmp_path, text))
    assert error.setting == "signals.quote.patterns[1]" and error.line == 10
    assert "invalid regex" in error.problem


def test_pattern_matching_empty_text_is_rejected(tmp_path: Path) -> None:
    text = MINIMAL.replace('"价格.{0,2}多少"', '"(报价)?"')
    assert "empty" in _error(_write(tmp_path, text)).problem


def test_unknown_signal_and_window_are_rejected(tmp_path: Path) -> None:
    error = _error(_write(tmp_path, MINIMAL + "[signals.objection_prce]\nkeywords = []\n"))
    assert error.setting == "signals.objection_prce" and error.line == 9
    error = _error(_write(tmp_path, MINIMAL.replace("window = 2", "window = -1")))
    assert (error.setting, error.line) == ("negation.window", 4)


def test_tenant_file_extends_the_default(tmp_path: Path) -> None:
    tenant = _write(
        tmp_path,
        'extends = "default"\n'
        "[competitors]\n"
        'brands = ["星河云"]\n'
        "[signals.demo]\n"
        'remove = ["试用"]\n'
        "[signals.quote]\n"
        'synonyms = ["开个价"]\n',
        "tenant.toml",
    )
    taxonomy = load_taxonomy(tenant)
    assert taxonomy.sources == (default_taxonomy_path().resolve(), tenant.resolve())
    tagger = Tagger(taxonomy)
    assert "competitor" in tagger.tag("我们也在看星河云", Actor.CUSTOMER)
    assert "quote" in tagger.tag("您先开个价", Actor.CUSTOMER)
    assert "demo" not in tagger.tag("可以试用吗", Actor.CUSTOMER)
    assert "demo" in tagger.tag("可以安排演示吗", Actor.CUSTOMER)  # the rest is inherited


def test_extends_cycle_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    _write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    assert "circular" in _error(tmp_path / "a.toml").problem


def test_domain_terms_are_never_split() -> None:
    tagger = Tagger.from_file()
    segmenter = tagger._matcher.segmenter
    words = {term for rule in tagger.taxonomy.rules.values() for term in rule.terms}
    words |= set(tagger.taxonomy.dictionary_words)
    for word in sorted(words):
        if " " not in word:
            assert segmenter.cut(word) == [word], word


def test_private_tokenizer_leaves_global_jieba_alone() -> None:
    import jieba

    Tagger.from_file()
    assert "星河云报价单" not in jieba.dt.FREQ
    assert jieba.lcut("对接人", HMM=False) == jieba.dt.lcut("对接人", HMM=False)
