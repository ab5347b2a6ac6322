"""Messages that close a thread rather than ask for something: 好的, 收到谢谢, 👍.

A customer's "好的，谢谢" after the answer expects no reply; counting it as a wait would turn
every polite conversation into a breach. Only a message made entirely of acknowledgement
phrases, emoji and punctuation qualifies: "好的，报价单什么时候发？" still starts a wait.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

DEFAULT_PHRASES = (
    "好的",
    "好",
    "好嘞",
    "好滴",
    "嗯",
    "嗯嗯",
    "哦",
    "噢",
    "收到",
    "收到了",
    "谢谢",
    "谢了",
    "多谢",
    "感谢",
    "辛苦",
    "辛苦了",
    "明白",
    "明白了",
    "了解",
    "了解了",
    "知道了",
    "没问题",
    "行",
    "可以",
    "ok",
    "okay",
    "thanks",
    "thank",
    "you",
    "thx",
    "谢谢您",
    "谢谢你",
    "麻烦了",
    "麻烦您了",
    "那就这样",
    "先这样",
    "再见",
    "拜拜",
    "我看一下",
    "我看看",
    "我先看看",
)
#: Punctuation, symbols and emoji carry no request.
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


class AcknowledgementRule:
    """Decides whether a text is only an acknowledgement, by greedy phrase cover."""

    def __init__(self, phrases: Iterable[str] = DEFAULT_PHRASES) -> None:
        cleaned = {p.strip().lower() for p in phrases if p.strip()}
        self._phrases = sorted(cleaned, key=len, reverse=True)

    def is_acknowledgement(self, text: str) -> bool:
        stripped = text.strip()
        if not stripped or len(stripped) > 40:
            return False
        remainder = _NOISE.sub("", unicodedata.normalize("NFKC", stripped).lower())
        return self._covered(remainder) if remainder else _only_symbols(stripped)

    def _covered(self, text: str) -> bool:
        """True when ``text`` splits entirely into known phrases (longest first, backtracking)."""
        reachable = [False] * (len(text) + 1)
        reachable[0] = True
        for start in range(len(text)):
            if not reachable[start]:
                continue
            for phrase in self._phrases:
                if text.startswith(phrase, start):
                    reachable[start + len(phrase)] = True
        return reachable[len(text)]


def _only_symbols(text: str) -> bool:
    """Emoji and punctuation alone (👍, 🙏, 👌, OK hand): a thumbs-up, not a question mark."""
    return (
        "?" not in text
        and "？" not in text
        and all(unicodedata.category(ch)[0] in "PSZ" for ch in text)
    )
