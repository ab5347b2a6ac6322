"""What the default taxonomy must and must not tag, by meaning."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.tagging import Tagger
from pipeline.tagging.normalize import normalize_text
from schemas.events import Actor, CanonicalEvent, EventKind, Source

C, R, S = Actor.CUSTOMER, Actor.REP, Actor.SYSTEM


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.from_file()


@pytest.mark.parametrize(
    ("text", "actor", "expected"),
    [
        ("太贵了，超出我们的预算", C, {"objection_price"}),
        ("这个数超出我们的盘子了", C, {"objection_price"}),
        ("稳定性怎么保证？会不会经常宕机", C, {"objection_tech"}),
        ("我们IT比较关心数据会不会泄露出去", C, {"objection_tech"}),
        ("这事我得跟老板汇报一下", C, {"objection_decision"}),
        ("我们也在看销售易", C, {"competitor"}),
        ("报价单发您了，请查收", R, {"quote", "material_sent"}),
        ("首付款已经转账了", C, {"payment"}),
        ("下周一开启动会，周三培训", R, {"delivery"}),
        ("合同条款法务还在看", C, {"contract"}),
        ("下周二约个时间给您演示一下", R, {"demo"}),
        ("想了解一下贵司目前的销售团队规模", R, {"screening"}),
        ("EPC总包大概三块二一瓦", R, {"quote"}),
        ("这事得等新来的总经理到岗再定", C, {"objection_decision"}),
        ("你们跟极飞比有什么优势", C, {"competitor"}),
    ],
)
def test_finds_signals_by_meaning(tagger: Tagger, text: str, actor: Actor, expected: set) -> None:
    assert set(tagger.tag(text, actor)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "不贵",
        "价格没问题",
        "暂时不需要演示",
        "合同不用改",
        "稳定性我们不担心",
        "这台显示器的对比度很高",
        "员工用了以后安全感强了很多",
        "贵司在哪个城市？",
        "好的，收到",
        "https://example.com/demo/price @王总 好的",
    ],
)
def test_negations_lookalikes_and_chatter_are_not_hits(tagger: Tagger, text: str) -> None:
    assert tagger.tag(text, C) == ()


@pytest.mark.parametrize(
    ("text", "actor", "absent"),
    [
        ("我们公司下周组织消防培训", C, "delivery"),
        ("我们自己的系统明天上线新版本", C, "delivery"),
        ("包装材料涨价了，纸箱贵了不少", C, "objection_price"),
        ("回头我把白皮书找出来再发给您", R, "material_sent"),
        ("上次的演示我们看过了，没什么问题", C, "demo"),
        ("这套系统能不能跟我们的金蝶对接", C, "competitor"),
        ("能不能改成三三四的付款比例", C, "payment"),
    ],
)
def test_the_customers_own_affairs_promises_and_past_events_are_not_hits(
    tagger: Tagger, text: str, actor: Actor, absent: str
) -> None:
    assert absent not in tagger.tag(text, actor)


def test_objections_count_only_when_the_customer_says_them(tagger: Tagger) -> None:
    text = "友商那边太贵了，而且不稳定，领导也不拍板"
    assert {"objection_price", "objection_tech", "objection_decision"} <= set(tagger.tag(text, C))
    for actor in (R, S):
        assert not {"objection_price", "objection_tech", "objection_decision"} & set(
            tagger.tag(text, actor)
        )


def test_rep_quoting_a_competitor_price_is_not_a_price_objection(tagger: Tagger) -> None:
    assert set(tagger.tag("友商那边报价太贵了，我们这边更划算", R)) == {"competitor", "quote"}


def test_material_sent_in_text_needs_a_rep(tagger: Tagger) -> None:
    assert "material_sent" in tagger.tag("产品白皮书在附件里，请查收", R)
    assert "material_sent" not in tagger.tag("产品白皮书在附件里，请查收", C)


def test_mixed_text_traditional_english_emoji(tagger: Tagger) -> None:
    assert set(tagger.tag("報價單收到了", C)) == {"quote"}
    assert set(tagger.tag("Can you arrange a DEMO next week?", C)) == {"demo"}
    assert set(tagger.tag("@张经理 这个价太贵了吧😂", C)) == {"objection_price", "quote"}
    assert "payment" in tagger.tag("Invoice已经发到您邮箱了", R)


@pytest.mark.parametrize(
    "text", ["Hi Linda, see you", "a rapid rollout", "since the epoch", "Abbott and Sapphire"]
)
def test_english_terms_count_only_as_whole_words(tagger: Tagger, text: str) -> None:
    # nda, api, poc, abb, sap are terms; inside linda, rapid, epoch, abbott, sapphire they are not
    assert tagger.tag(text, C) == ()
    assert tagger.tag_reference(text, C) == ()


def test_english_terms_next_to_chinese_or_digits_still_count(tagger: Tagger) -> None:
    assert set(tagger.tag("NDA签了吗", C)) == {"contract"}
    assert set(tagger.tag("先做个POC测试", C)) == {"demo"}
    assert set(tagger.tag("有没有ISO9001认证", C)) == {"objection_tech"}


def test_traditional_characters_beyond_the_most_common(tagger: Tagger) -> None:
    # 沒 and 蓋 were outside a first hand-written table: 沒問題 did not cancel, 蓋章 was no term
    assert tagger.tag("這個價錢沒問題", C) == ()
    assert set(tagger.tag("價格沒問題，什麼時候能簽？", C)) == {"contract"}
    assert set(tagger.tag("已經蓋章了", C)) == {"contract"}
    # 恆, 啓 and 丟 were outside the hand-written table of 760 characters
    assert normalize_text("恆溫") == "恒温"
    assert set(tagger.tag("啓動會定在下週一", R)) == {"delivery"}
    assert set(tagger.tag("數據會不會丟", C)) == {"objection_tech"}


def test_hong_kong_cantonese_reads_as_its_mandarin_words(tagger: Tagger) -> None:
    assert normalize_text("我哋老細未決定") == "我们老板未决定"
    assert tagger.tag("唔使演示啦", C) == ()
    assert tagger.tag("價錢冇問題", C) == ()
    assert set(tagger.tag("可唔可以平啲", C)) == {"objection_price", "quote"}
    assert set(tagger.tag("個系統穩唔穩定", C)) == {"objection_tech"}
    assert normalize_text("老细") == "老细"  # Mandarin text is left alone


def test_a_space_between_chinese_characters_ends_a_clause(tagger: Tagger) -> None:
    # typed on a phone, the space is the comma: 不用客气 does not negate the demo after it
    text = "不用客气 演示约在周三下午"
    assert tagger.tag(text, C) == ("demo",)
    assert tagger.tag_reference(text, C) == ("demo",)
    assert tagger.tag("不用演示", C) == ()


def test_a_list_joined_by_the_enumeration_comma_is_one_clause(tagger: Tagger) -> None:
    # brands named as integration targets, not as rival vendors: 对接 covers the whole list
    assert tagger.tag("海康、大华的平台我们都对接过", R) == ()
    assert tagger.tag("海康的平台我们都对接过", R) == ()


def test_a_reassurance_cancels_a_worry_but_agrees_to_a_stage(tagger: Tagger) -> None:
    assert tagger.tag("价格没问题", C) == ()
    assert tagger.tag("安全这块我们也不担心", C) == ()
    assert tagger.tag("参观没问题", C) == ("demo",)
    assert tagger.tag("演示先不急", C) == ()


def test_result_is_sorted_and_unique(tagger: Tagger) -> None:
    signals = tagger.tag("报价太贵了，报价单再优惠点，合同和发票一起寄", C)
    assert list(signals) == sorted(set(signals))


@pytest.mark.parametrize(
    "kind", [EventKind.FILE, EventKind.LINK, EventKind.DOCUMENT, EventKind.MINI_PROGRAM]
)
def test_material_kinds_by_a_rep_are_material_sent(tagger: Tagger, kind: EventKind) -> None:
    assert tagger.tag("", R, kind) == ("material_sent",)
    assert tagger.tag("", C, kind) == ()


@pytest.mark.parametrize(
    "kind",
    [
        EventKind.STAGE_CHANGED,
        EventKind.TAG_CHANGED,
        EventKind.CONTACT_CHANGED,
        EventKind.RATING_CHANGED,
    ],
)
def test_record_changes_are_customer_update(tagger: Tagger, kind: EventKind) -> None:
    assert tagger.tag("", S, kind) == ("customer_update",)


def test_text_of_non_conversational_kinds_is_not_tagged(tagger: Tagger) -> None:
    assert tagger.tag("报价单", R, EventKind.EMAIL_STATUS) == ()
    assert tagger.tag("报价单", R, EventKind.RECALL) == ()


def _event(**changes: object) -> CanonicalEvent:
    fields: dict[str, object] = {
        "event_id": "email:1",
        "source": Source.EMAIL,
        "source_format": "mailbox",
        "occurred_at": datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        "kind": EventKind.EMAIL_SENT,
        "actor": R,
        "conversation_id": "email:<a@b>",
    }
    fields.update(changes)
    return CanonicalEvent(**fields)  # type: ignore[arg-type]


def test_tag_event_reads_subject_and_attachments(tagger: Tagger) -> None:
    attrs = {"subject": "关于合同条款", "attachments": "a.pdf"}
    event = _event(text="您好，详见正文。", attrs=attrs)
    tagged = tagger.tag_event(event)
    assert tagged.signals == ("contract", "material_sent")
    assert tagged.event_id == event.event_id and event.signals == ()


def test_tag_event_customer_attachment_is_not_material_sent(tagger: Tagger) -> None:
    event = _event(actor=C, text="需求文档见附件", attrs={"attachments": "req.docx"})
    assert "material_sent" not in tagger.tag_event(event).signals
