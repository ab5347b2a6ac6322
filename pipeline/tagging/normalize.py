"""Text normalization applied identically to messages and to taxonomy terms.

Chat arrives in full-width forms, mixed case, traditional characters, with URLs and
@mentions. Matching runs on one normalized form so a keyword written once covers them all.
"""

from __future__ import annotations

import re

# Common traditional characters in business chat and their simplified forms (pairwise).
_TRADITIONAL = (
    "報價單內部討論會議決場規範評應對購買賣費價貴廣劃劑務寶實驗證資訊訂簽約聯繫係機關開發"
    "預算額裝運輸貨倉儲線網頁業經營銷員團隊項專門負責與間題問語說話請謝還這樣麼們來時間"
    "試過從後數據據遷移穩態兩個點頭條產幣錢轉帳戶賬單據發票稅稱號碼標準達標層級領導闆"
    "決議協係統響應體驗戶續約圖紙樣書參數傳輸環節擬將會對齊辦理變動況況態齊療醫設備車廠"
    "處啟動課師學習選擇區別隻計劃檢測驗收審核權責任務務優惠幫幾讓給壓縮減慮擔憂東現狀規模"
    "紹細節節點歡認識誰該點擊鏈接載換競爭商廠牌們舊細憑觸達寫錄視頻撥聽響電話講解萬億"
)
_SIMPLIFIED = (
    "报价单内部讨论会议决场规范评应对购买卖费价贵广划剂务宝实验证资讯订签约联系系机关开发"
    "预算额装运输货仓储线网页业经营销员团队项专门负责与间题问语说话请谢还这样么们来时间"
    "试过从后数据据迁移稳态两个点头条产币钱转帐户账单据发票税称号码标准达标层级领导板"
    "决议协系统响应体验户续约图纸样书参数传输环节拟将会对齐办理变动况况态齐疗医设备车厂"
    "处启动课师学习选择区别只计划检测验收审核权责任务务优惠帮几让给压缩减虑担忧东现状规模"
    "绍细节节点欢认识谁该点击链接载换竞争商厂牌们旧细凭触达写录视频拨听响电话讲解万亿"
)

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_TABLE = {
    **_FULL_WIDTH,
    0x3000: 0x20,  # ideographic space
    0x2005: 0x20,  # the four-per-em space WeCom puts after an @mention
    **str.maketrans(_TRADITIONAL, _SIMPLIFIED),
}

# Only text holding a character the table changes needs the (slower) translate call.
_NEEDS_TABLE = re.compile("[" + re.escape("".join(chr(code) for code in _TABLE)) + "]")
_URL = re.compile(r"(?:https?://|www\.)[^\s\u4e00-\u9fff]*", re.IGNORECASE)
_MENTION = re.compile(r"@[^\s@,，:：。!！?？]{1,16}(?=\s|$)")
# A space between two Chinese characters is a typing habit, not a word break.
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def normalize_text(text: str) -> str:
    """Return the matching form: half-width, lowercase, simplified, mentions blanked.

    A URL becomes the token `url`: its path words (…/demo/…) say nothing about the message,
    but the fact that a link was pasted does (a rep sharing a link is material sent).
    """
    if _NEEDS_TABLE.search(text):
        text = text.translate(_TABLE)
    text = text.lower()
    if "http" in text or "www." in text:
        text = _URL.sub(" url ", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if "@" in text:
        text = _MENTION.sub(" ", text)
    if " " in text or "\t" in text:
        text = _CJK_SPACE.sub("", text)
    return text
