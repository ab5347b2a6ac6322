"""Tagging throughput on realistic chat, against plain jieba on the same messages.

Run: python tests/bench/bench_tagging.py [--messages 200000] [--seed 7]

The stream mimics a sales team's chat: most lines are acknowledgements, logistics and small
talk, a minority carries a signal; names, amounts, dates and times vary so lines rarely repeat
exactly. Prints messages/s for:
  * plain jieba: the private tokenizer with the user dictionary, HMM off, `lcut` per message
  * reference path: plain jieba plus the full matching rules (`Tagger.tag_reference`)
  * tagger: `Tagger.tag` as the pipeline calls it (pre-filter, block cache, message cache)
and checks that the tagger and the reference path agree on every message.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.tagging import Tagger
from pipeline.tagging.evaluate import load_rows
from pipeline.tagging.normalize import normalize_text
from schemas.events import Actor

EVAL_FILE = Path(__file__).resolve().parents[1] / "data" / "tagging_eval.jsonl"

SMALL_TALK = [
    "好的",
    "收到",
    "嗯嗯",
    "好的，谢谢",
    "👍",
    "OK",
    "稍等",
    "在开会，晚点回你",
    "辛苦了",
    "明天{h}点可以吗",
    "我{h}点到",
    "到楼下了",
    "好的{name}，我{day}再联系您",
    "{name}早上好",
    "周末愉快",
    "在路上",
    "刚到公司",
    "哈哈哈",
    "没事没事",
    "客气了",
    "收到，谢谢{name}",
    "{day}上午我都在",
    "电话打不通，方便回一下吗",
    "群里说吧",
    "我问下同事",
    "马上到",
    "地址是{city}{road}路{num}号",
    "您看{day}{h}点方便吗",
    "{name}，您好",
    "好滴",
    "[图片]",
    "嗯，知道了",
    "今天{city}下雨了",
    "我把{name}拉进群了",
    "这周出差，{day}回来",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
TITLES = ["总", "经理", "工", "主任", "老师", "姐", "哥", "校长", "院长", "总监"]
NAMES = [surname + title for surname in SURNAMES for title in TITLES]
TAILS = ["", "", "", "～", "哈", "😊", "!", "。", "呢", "哈哈", "🙏", "啊"]
DAYS = ["明天", "后天", "周一", "周二", "周三", "周四", "下周", "月底"]
CITIES = ["上海", "苏州", "杭州", "深圳", "成都", "武汉", "宁波", "昆山"]
ROADS = ["人民", "建设", "解放", "中山", "长江", "科技"]


def realistic_chat(count: int, seed: int) -> list[tuple[str, Actor]]:
    """About a quarter of the lines come from the labelled set (signal-bearing or hard), with a
    varying name, time or amount spliced in; the rest is everyday chat."""
    rng = random.Random(seed)
    labelled = [(row["text"], Actor(row["actor"])) for row in load_rows(EVAL_FILE)]
    messages = []
    for _ in range(count):
        fill = {
            "name": rng.choice(NAMES),
            "day": rng.choice(DAYS),
            "h": f"{rng.randint(8, 18)}" + rng.choice(["", "", "半", ":30", ":15"]),
            "city": rng.choice(CITIES),
            "road": rng.choice(ROADS),
            "num": rng.randint(1, 999),
        }
        if rng.random() < 0.25:
            text, actor = rng.choice(labelled)
            if rng.random() < 0.5:
                text = f"{rng.choice(NAMES)}，{text}"
            if rng.random() < 0.3:
                text = f"{text} {rng.randint(2, 99)}"
        else:
            text = rng.choice(SMALL_TALK).format(**fill) + rng.choice(TAILS)
            actor = rng.choice((Actor.CUSTOMER, Actor.REP))
        messages.append((text, actor))
    return messages


def rate(
    label: str, messages: list[tuple[str, Actor]], call: Callable[[str, Actor], object]
) -> float:
    start = time.perf_counter()
    for text, actor in messages:
        call(text, actor)
    per_second = len(messages) / (time.perf_counter() - start)
    print(f"{label:<44}{per_second:>12,.0f} msgs/s")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    messages = realistic_chat(args.messages, args.seed)
    unique = len({text for text, _ in messages})
    print(f"{len(messages):,} messages, {unique:,} distinct ({unique / len(messages):.0%})")

    tagger = Tagger.from_file()
    segmenter = tagger.segmenter
    sample = messages[: max(1, len(messages) // 10)]
    jieba_rate = rate(
        "plain jieba lcut (user dict, HMM off)",
        sample,
        lambda text, _: segmenter.cut(normalize_text(text)),
    )
    rate("reference path (plain jieba + rules)", sample, tagger.tag_reference)
    fast = rate("tagger.tag (one core)", messages, tagger.tag)

    fresh = Tagger.from_file()
    distinct = list(dict.fromkeys(messages))
    rate("tagger.tag, distinct messages, cold caches", distinct, fresh.tag)

    mismatches = sum(tagger.tag(t, a) != tagger.tag_reference(t, a) for t, a in sample)
    print(
        f"speed-up over plain jieba: {fast / jieba_rate:.1f}x; "
        f"fast vs reference mismatches: {mismatches} of {len(sample):,}"
    )


if __name__ == "__main__":
    main()
