"""Text normalization applied identically to messages and to taxonomy terms.

Chat arrives in full-width forms, mixed case, traditional characters, with URLs and
@mentions. Matching runs on one normalized form so a keyword written once covers them all.
"""

from __future__ import annotations

import re

import opencc


def _traditional_to_simplified() -> dict[int, int]:
    """Every one-character Traditional -> Simplified pair of OpenCC's t2s dictionary.

    Matching is per character (a translate table) so it stays cheap on every message; the
    pairs come from OpenCC rather than a hand list so Hong Kong and Taiwan chat is covered
    beyond the most common characters. Built once at import (about 30 ms).
    """
    characters = [
        chr(code)
        for first, last in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
        for code in range(first, last + 1)
    ]
    # one character per line: OpenCC converts whole phrases, a line break keeps them apart
    converted = opencc.OpenCC("t2s").convert("\n".join(characters)).split("\n")
    return {
        ord(traditional): ord(simplified)
        for traditional, simplified in zip(characters, converted, strict=True)
        if traditional != simplified and len(simplified) == 1
    }


_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_TABLE = {
    **_FULL_WIDTH,
    0x3000: 0x20,  # ideographic space
    0x2005: 0x20,  # the four-per-em space WeCom puts after an @mention
    # 、 joins the items of one list (海康、大华的平台我们都对接过): read as 和 it keeps the list
    # in one clause, so a word that cancels a hit after the last item covers every item
    0x3001: "和",
    **_traditional_to_simplified(),
}

# Hong Kong chat is often written Cantonese: read its own words as their Mandarin
# equivalents so one taxonomy covers both (唔使演示 = 不用演示, 我哋老细 = 我们老板).
# Applied only to text holding a character that only Cantonese writes.
_CANTONESE_WORDS = {
    "唔该": "谢谢",
    "唔使": "不用",
    "系咪": "是不是",
    "老细": "老板",
    "而家": "现在",
    "平啲": "便宜些",
    "几钱": "多少钱",
    "点解": "为什么",
    "边个": "谁",
    "仲有": "还有",
}
_CANTONESE_CHARACTERS = str.maketrans(
    {
        "唔": "不",
        "冇": "没",
        "哋": "们",
        "嘅": "的",
        "咗": "了",
        "啲": "些",
        "喺": "在",
        "嚟": "来",
        "佢": "他",
        "睇": "看",
        "揾": "找",
        "畀": "给",
        "俾": "给",
        "嘢": "东西",
        "咩": "什么",
    }
)
_CANTONESE_MARK = re.compile("[" + "".join(map(chr, _CANTONESE_CHARACTERS)) + "]")
_CANTONESE_WORD = re.compile("|".join(_CANTONESE_WORDS))

# Only text holding a character the table changes needs the (slower) translate call.
_NEEDS_TABLE = re.compile("[" + re.escape("".join(chr(code) for code in _TABLE)) + "]")
_URL = re.compile(r"(?:https?://|www\.)[^\s\u4e00-\u9fff]*", re.IGNORECASE)
_MENTION = re.compile(r"@[^\s@,，:：。!！?？]{1,16}(?=\s|$)")
# Phone and voice-to-text chat uses a space between two Chinese characters as its comma
# (价格没问题 安全这块也不担心): it ends a clause, so a cancelling word does not reach across.
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def normalize_text(text: str) -> str:
    """Return the matching form: half-width, lowercase, simplified, mentions blanked.

    A URL becomes the token `url`: its path words (…/demo/…) say nothing about the message,
    but the fact that a link was pasted does (a rep sharing a link is material sent).
    """
    if _NEEDS_TABLE.search(text):
        text = text.translate(_TABLE)
    if _CANTONESE_MARK.search(text):
        text = _CANTONESE_WORD.sub(lambda word: _CANTONESE_WORDS[word.group()], text)
        text = text.translate(_CANTONESE_CHARACTERS)
    text = text.lower()
    if "http" in text or "www." in text:
        text = _URL.sub(" url ", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if "@" in text:
        text = _MENTION.sub(" ", text)
    if " " in text or "\t" in text:
        text = _CJK_SPACE.sub(",", text)
    return text
