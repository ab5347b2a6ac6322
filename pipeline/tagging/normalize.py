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
    "閒閱陽陰際險隨雜雖雙離難靈順須頓顧顯風飛飯飲館馬髮鬆魚黃齒龍嗎兒冊凍勞勢勵嚴圍國園圓塊壞"
    "夠夢奪婦嬰寧寬尋屬歲島崗帶庫廳張強彈歸彙匯徑復複徵慣戰擁擴擺攜斷於暫曆歷曉極構樂樓樹橋檔"
    "櫃欄歐殺氣滿溝漲灣無煙熱爾牆獨獲畫當疊盡監盤確礎禮種筆簡籌紀紅純終組結絡綜維緊緣編練總績"
    "罰義聞聲職腦舉艱藝藥虧補製覽覺觀訓記訪許訴診詢詳誤調談諮護讀財質貼賠賺贈贊趕趨跡軟輕較輛"
    "農邊適遲遠邏鄉針銀鋪錯鍵長閉陸隱雲靜顏類養餘騰驚鬧黨齡週裡裏麵檯臺颱鐘濟淨涼湯溫災爐爛猶"
    "獎畝異盜礦穀窮糧糾紐絲綁綠緒緩縣繳纖罷羅聖脫膠臉臨興艙莊華葉蓋薦蘇蘭術衛衝見親詞誠諾謹譯"
    "豐豬貝貢貸貿賀賓賴賽贏趙踐蹤軍軌軸輔輪輯辭遞遺郵鄰醬釋鋼錦鍋鎖鎮鐵鑑鑒閃闊雞頂顆願飄飽餅"
    "饋駐駕騎驅髒鬥魯鮮鳳鴻鵬麗灑懷懶懸戲捨掃掛採揀損搖搶撐撫擋擠擱攝敗敵斬暢曬棄棟棧榮槍樁樞"
    "橫歎殘毀氫淺濕滬滯漁潔潛濃濱濾瀏煉燈燒牽獻瑣畢磚礙禍窩篩籃籤粵紋納紛紡紮綱緻繩繪繼纜罵聰"
    "肅脹腫膚艦蓮薑薩藍蘋虛蝦衆眾襯註詐誇諒諸謊謠譜譽讚豎貫賭輝輩轄轎邁遼鄭醜鉅鉛銅鋁鋒錶鏡鑰"
    "閩闖闡陣陳陝階霧頗頸飼餵鴨鵝鹽沒為囉僅傷倆偉債傾僱償儘剛劇劉勝勁廢廟廈廚彎徹惡惱愛慶懲戀"
    "攤攢敘斃朮棲殼氈沖洩淚渾湊滾漢漸潤澤濁煩牠犢狹猙獄玀瓏痠瘋癒皺盃碩禪穌窯筍篤簾粧紳絕綫緝"
    "縫繞罈翹聳脈腳膽臟艷蒼蔔蕭蘆虜蟲蠶襪覓諧進違遙閘奮"
)
_SIMPLIFIED = (
    "报价单内部讨论会议决场规范评应对购买卖费价贵广划剂务宝实验证资讯订签约联系系机关开发"
    "预算额装运输货仓储线网页业经营销员团队项专门负责与间题问语说话请谢还这样么们来时间"
    "试过从后数据据迁移稳态两个点头条产币钱转帐户账单据发票税称号码标准达标层级领导板"
    "决议协系统响应体验户续约图纸样书参数传输环节拟将会对齐办理变动况况态齐疗医设备车厂"
    "处启动课师学习选择区别只计划检测验收审核权责任务务优惠帮几让给压缩减虑担忧东现状规模"
    "绍细节节点欢认识谁该点击链接载换竞争商厂牌们旧细凭触达写录视频拨听响电话讲解万亿"
    "闲阅阳阴际险随杂虽双离难灵顺须顿顾显风飞饭饮馆马发松鱼黄齿龙吗儿册冻劳势励严围国园圆块坏"
    "够梦夺妇婴宁宽寻属岁岛岗带库厅张强弹归汇汇径复复征惯战拥扩摆携断于暂历历晓极构乐楼树桥档"
    "柜栏欧杀气满沟涨湾无烟热尔墙独获画当叠尽监盘确础礼种笔简筹纪红纯终组结络综维紧缘编练总绩"
    "罚义闻声职脑举艰艺药亏补制览觉观训记访许诉诊询详误调谈咨护读财质贴赔赚赠赞赶趋迹软轻较辆"
    "农边适迟远逻乡针银铺错键长闭陆隐云静颜类养余腾惊闹党龄周里里面台台台钟济净凉汤温灾炉烂犹"
    "奖亩异盗矿谷穷粮纠纽丝绑绿绪缓县缴纤罢罗圣脱胶脸临兴舱庄华叶盖荐苏兰术卫冲见亲词诚诺谨译"
    "丰猪贝贡贷贸贺宾赖赛赢赵践踪军轨轴辅轮辑辞递遗邮邻酱释钢锦锅锁镇铁鉴鉴闪阔鸡顶颗愿飘饱饼"
    "馈驻驾骑驱脏斗鲁鲜凤鸿鹏丽洒怀懒悬戏舍扫挂采拣损摇抢撑抚挡挤搁摄败敌斩畅晒弃栋栈荣枪桩枢"
    "横叹残毁氢浅湿沪滞渔洁潜浓滨滤浏炼灯烧牵献琐毕砖碍祸窝筛篮签粤纹纳纷纺扎纲致绳绘继缆骂聪"
    "肃胀肿肤舰莲姜萨蓝苹虚虾众众衬注诈夸谅诸谎谣谱誉赞竖贯赌辉辈辖轿迈辽郑丑巨铅铜铝锋表镜钥"
    "闽闯阐阵陈陕阶雾颇颈饲喂鸭鹅盐没为啰仅伤俩伟债倾雇偿尽刚剧刘胜劲废庙厦厨弯彻恶恼爱庆惩恋"
    "摊攒叙毙术栖壳毡冲泄泪浑凑滚汉渐润泽浊烦它犊狭狰狱猡珑酸疯愈皱杯硕禅稣窑笋笃帘妆绅绝线缉"
    "缝绕坛翘耸脉脚胆脏艳苍卜萧芦虏虫蚕袜觅谐进违遥闸奋"
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
