"""Suggest new taxonomy keywords from a team's own chat.

Messages the tagger leaves untagged are where the dictionary falls short. Their most
characteristic words (jieba.analyse TF-IDF or TextRank, on the tagger's own tokenizer) are
candidates; each is placed under the signal it most often accompanies in the messages that
were tagged, so a user sees "盘子 → objection_price" rather than a bare word list.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.tagging.normalize import normalize_text
from pipeline.tagging.segmenter import HAN_BLOCK
from pipeline.tagging.tagger import Tagger
from schemas.events import Actor

UNASSIGNED = "unassigned"
METHODS = ("tfidf", "textrank")
_CANDIDATE_POOL = 300
# Content words only: nouns, verbal nouns, verbs, adjectives, idioms, English.
_PARTS_OF_SPEECH = ("n", "nz", "vn", "v", "a", "an", "l", "i", "eng")
# Chat verbs and fillers that accompany every signal and name none.
_CHAT_FILLERS = frozenset(
    [
        "可以",
        "需要",
        "谢谢",
        "收到",
        "知道",
        "觉得",
        "没有",
        "看看",
        "一下",
        "一起",
        "准备",
        "安排",
        "回复",
        "打扰",
        "方便",
        "麻烦",
        "辛苦",
        "联系",
        "沟通",
        "确认",
        "问题",
        "东西",
        "时候",
        "事情",
        "情况",
        "这边",
        "那边",
        "这块",
    ]
)


@dataclass(frozen=True)
class Suggestion:
    word: str
    score: float  # keyword weight x share of tagged messages with the word that carry the signal
    untagged_count: int  # untagged messages containing the word
    example: str  # one untagged message containing it


def suggest_keywords(
    tagger: Tagger,
    messages: Iterable[tuple[str, Actor]],
    *,
    top: int = 10,
    method: str = "tfidf",
    min_count: int = 2,
) -> dict[str, list[Suggestion]]:
    """Candidate keywords per signal (and `unassigned`), best first, at most `top` each.

    A word must appear in at least `min_count` untagged messages: one message is an anecdote.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    segmenter = tagger.segmenter
    untagged: list[tuple[str, set[str]]] = []
    tagged: list[tuple[set[str], set[str]]] = []
    for text, actor in messages:
        words = set(segmenter.cut(normalize_text(text)))
        signals = set(tagger.tag(text, actor))
        if signals:
            tagged.append((words, signals))
        else:
            untagged.append((text, words))
    known = tagger.known_words()
    weights = _keyword_weights(tagger, [text for text, _ in untagged], method)
    with_signal: dict[str, Counter[str]] = defaultdict(Counter)
    with_word: Counter[str] = Counter()
    for words, signals in tagged:
        for word in words & weights.keys():
            with_word[word] += 1
            with_signal[word].update(signals)
    result: dict[str, list[Suggestion]] = defaultdict(list)
    for word, weight in weights.items():
        if (
            word in known
            or word in _CHAT_FILLERS
            or len(word) < 2
            or not HAN_BLOCK.fullmatch(word)
            or word.isdigit()
        ):
            continue
        containing = [text for text, words in untagged if word in words]
        if len(containing) < min_count:
            continue
        if with_signal[word]:
            signal, together = with_signal[word].most_common(1)[0]
            score = weight * together / with_word[word]
        else:
            signal, score = UNASSIGNED, weight
        result[signal].append(Suggestion(word, score, len(containing), containing[0]))
    return {
        signal: sorted(items, key=lambda s: (-s.score, s.word))[:top]
        for signal, items in sorted(result.items())
    }


def _keyword_weights(tagger: Tagger, texts: list[str], method: str) -> dict[str, float]:
    document = "\n".join(normalize_text(text) for text in texts)
    if not document.strip():
        return {}
    # Imported here: at import they load ~75 MB of word-tag and IDF tables, which every worker
    # would carry for a command it never runs.
    import jieba.analyse
    import jieba.posseg

    tagging = jieba.posseg.POSTokenizer(tagger.segmenter.tokenizer)
    extractor = jieba.analyse.TFIDF() if method == "tfidf" else jieba.analyse.TextRank()
    extractor.tokenizer = extractor.postokenizer = tagging
    extract = extractor.extract_tags if method == "tfidf" else extractor.textrank
    pairs = extract(document, topK=_CANDIDATE_POOL, withWeight=True, allowPOS=_PARTS_OF_SPEECH)
    return dict(pairs)
