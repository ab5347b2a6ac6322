"""A realistic week of a Chinese B2B sales team, as raw vendor records, for the demo and tests.

Reps chat with customers on WeCom (archive records, a few XML contact callbacks) and DingTalk
(robot callbacks), work leads in a Chinese CRM (operation logs), and write email (mailbox
threads, SendGrid event batches). Customer waits range from minutes to more than a day, some
are never answered, a few leads stay unassigned for more than 48 hours, and about 1% of the
records are malformed so the dead-letter queue has something to show. Same seed, same bytes.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.compact_json import dumps_kept
from pipeline.identity import Customer, Directory, Rep

CORP = "ww4a9d7b5c1f2e3a60"
DING_CORP = "dingb3a1c9f2e7d4"
STAFF_DOMAIN = "xinghe-soft.cn"
MALFORMED_SHARE = 0.01
BEIJING = timedelta(hours=8)

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "婷",
    "强",
    "军",
    "平",
    "刚",
    "桂英",
    "辉",
    "鹏",
    "晨",
    "雪",
    "宇",
    "欣",
    "浩",
]
_PINYIN = [
    "wang",
    "li",
    "zhang",
    "liu",
    "chen",
    "yang",
    "zhao",
    "huang",
    "zhou",
    "wu",
    "xu",
    "sun",
    "hu",
    "zhu",
    "gao",
    "lin",
    "he",
    "guo",
    "ma",
    "luo",
    "liang",
    "song",
    "zheng",
]
_CITIES = [
    "杭州",
    "苏州",
    "上海",
    "南京",
    "宁波",
    "无锡",
    "合肥",
    "深圳",
    "广州",
    "成都",
    "武汉",
    "青岛",
    "厦门",
    "长沙",
    "天津",
    "西安",
]
_WORDS = [
    "云帆",
    "精密",
    "远景",
    "华创",
    "启明",
    "恒信",
    "博远",
    "新材",
    "智造",
    "鼎盛",
    "瑞丰",
    "海川",
    "联达",
    "天合",
    "嘉禾",
    "星辰",
    "汇通",
    "卓越",
    "宏图",
    "力拓",
]
_TRADES = ["科技", "制造", "新材料", "医疗器械", "物流", "电子", "机械", "生物", "供应链", "信息"]
_TEAMS = ["华东一部", "华东二部", "华南大客户部"]
_COMPETITORS = ["销售易", "纷享销客", "Salesforce", "HubSpot", "用友"]

CUSTOMER_LINES = [
    "你好，我们想了解一下你们的系统，目前用的是Excel管客户，痛点是跟进记录散。",
    "我们公司规模大概三百人，销售团队六十人左右，需求主要是线索分配和过程管理。",
    "方便电话沟通一下吗？想介绍一下我们现状。",
    "能不能安排一次演示？我们IT负责人也想看一下。",
    "方案收到了，能开个测试账号试用两周吗？",
    "报价单什么时候能发过来？",
    "这个价格太贵了，超预算了，能不能便宜点？",
    "单价还能再优惠吗？我们比价了好几家。",
    "和{competitor}对比，你们的优势在哪里？",
    "{competitor}那边报价低不少，你们考虑一下。",
    "你们的系统和我们的ERP兼容吗？接口怎么对接？",
    "私有化部署支持吗？数据安全这块我们比较关注。",
    "数据迁移怎么做？历史数据有二十万条。",
    "稳定性怎么样，有没有第三方的验证报告？",
    "这个要我们领导拍板，我先内部讨论一下。",
    "老板出差了，等他回来再商量，有结果等通知。",
    "采购部那边要走流程，可能要两周。",
    "合同我们法务在看，账期能不能改成月结60天？",
    "合同条款第五条需要修改一下，盖章流程我们这边走。",
    "首付款今天已经打款了，麻烦查收一下水单。",
    "发票开好了吗？财务这边要对公转账。",
    "上线时间能不能提前？培训安排在下周可以吗？",
    "实施顾问什么时候到？启动会我们定在周三。",
    "验收报告我们签好了，谢谢你们团队。",
    "好的，收到。",
    "谢谢，我看一下。",
    "在吗？",
    "明天上午我在公司，下午要开会。",
    "👍",
    "麻烦尽快回复一下，我们这边比较急。",
]
REP_LINES = [
    "您好，我是星河软件的{rep}，很高兴为您服务，方便了解一下贵司目前的销售管理现状吗？",
    "好的，我约个时间给您做一次方案演示，周四下午可以吗？",
    "测试账号已经开通，功能介绍的视频也一并发您。",
    "报价单已经发您邮箱，请查收，年付可以给到九折优惠。",
    "价格方面我跟领导申请一下，看能不能再给些折扣。",
    "我们和友商最大的区别是线索自动分配和过程数据，可以做个对比演示。",
    "接口这块没问题，我们有标准API，私有化部署也支持。",
    "合同模板发您了，条款有问题可以让法务直接标注。",
    "合同已经盖章寄出，单号稍后发您。",
    "款项已经到账，感谢！发票今天开出。",
    "实施排期已经定了，下周一开启动会，顾问会到现场培训。",
    "系统已经部署完成，账号都开通了，有问题随时找我。",
    "案例资料和白皮书发您了，请查收附件。",
    "好的，收到，我马上处理。",
    "不好意思刚才在开会，现在回复您。",
    "没问题，我跟进一下。",
    "周末愉快，有需要随时联系。",
]
_MATERIAL = [
    ("file", "星河CRM产品白皮书2026.pdf"),
    ("file", "报价单-{company}.xlsx"),
    ("file", "合同模板-标准版.docx"),
    ("link", "制造业客户案例：三个月上线销售过程管理"),
    ("docmsg", "{company}实施排期表"),
    ("weapp", "星河在线演示"),
]
_STAGES = ["初步沟通", "方案演示", "报价", "合同谈判", "赢单"]


#: Customer-profile fields a rep fills in the CRM; placeholders (待确认, 暂无) are not a real value.
_PROFILE_FIELDS = [
    ("决策人", ["采购总监王总", "CTO 李工", "待确认", "老板本人"]),
    ("预算", ["30-50万", "20万以内", "暂无", "100万"]),
    ("时间窗口", ["本季度内", "明年Q1", "待确认", "下个月上线"]),
    ("痛点", ["线索分配靠人工", "跟进记录散落在微信", "暂无", "报价审批慢"]),
    ("employee_count", ["100-499", "500-999"]),
]


def _reply_delay(rng: random.Random) -> timedelta | None:
    """Minutes mostly, hours sometimes, more than a day rarely; None = never answered."""
    roll = rng.random()
    if roll < 0.03:
        return None
    if roll < 0.60:
        return timedelta(minutes=rng.uniform(1, 30))
    if roll < 0.85:
        return timedelta(minutes=rng.uniform(30, 180))
    if roll < 0.96:
        return timedelta(hours=rng.uniform(3, 9))
    return timedelta(hours=rng.uniform(24, 40))


def _work_instant(rng: random.Random, start: datetime, day: int) -> datetime:
    """A Beijing working-hours instant (09:00-19:00, some evenings) on day `day`, as UTC."""
    hour = rng.choice([9, 9, 10, 10, 10, 11, 11, 13, 14, 14, 15, 15, 16, 16, 17, 18, 20, 21])
    local = timedelta(days=day, hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))
    return start + local - BEIJING


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def _token(
    rng: random.Random, length: int, alphabet: str = string.ascii_letters + string.digits
) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


@dataclass
class DemoData:
    """Raw records per source family plus the identity directory that explains them."""

    records: dict[str, list[bytes]]
    directory: Directory

    def write_directory(self, path: Path | str) -> None:
        """Writes the directory as a TOML file that Directory.load reads back."""
        Path(path).write_text(directory_toml(self.directory), encoding="utf-8")


def _toml_value(value: str | tuple[str, ...]) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def directory_toml(directory: Directory) -> str:
    lines: list[str] = []
    for table, entries in (("rep", directory.reps), ("customer", directory.customers)):
        for entry in entries:
            lines.append(f"[[{table}]]")
            for key, value in vars(entry).items():
                if value:
                    lines.append(f"{key} = {_toml_value(value)}")
            lines.append("")
    return "\n".join(lines)


@dataclass
class _Week:
    """Accumulates (instant, record) pairs per source while the week is simulated."""

    rng: random.Random
    start: datetime
    reps: list[Rep]
    customers: list[Customer]
    rep_of: dict[str, Rep]
    out: dict[str, list[tuple[datetime, bytes]]] = field(default_factory=dict)
    counter: int = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:07d}"

    def emit(self, source: str, instant: datetime, doc: Any) -> None:
        self.out.setdefault(source, []).append((instant, dumps_kept(doc)))

    def emit_raw(self, source: str, instant: datetime, raw: bytes) -> None:
        self.out.setdefault(source, []).append((instant, raw))

    def within_week(self, instant: datetime) -> bool:
        return instant < self.start + timedelta(days=7)


def _fill(template: str, rng: random.Random, rep: Rep, customer: Customer) -> str:
    return template.format(competitor=rng.choice(_COMPETITORS), rep=rep.name, company=customer.name)


def _build_people(
    rng: random.Random, reps: int, customers: int
) -> tuple[list[Rep], list[Customer]]:
    rep_list: list[Rep] = []
    for index in range(reps):
        surname = rng.randrange(len(_PINYIN))
        userid = f"{_PINYIN[surname]}{index + 1:02d}"
        team = _TEAMS[index % len(_TEAMS)]
        leader = f"r{(index % len(_TEAMS)) + 1:02d}"
        rep_list.append(
            Rep(
                rep_id=f"r{index + 1:02d}",
                name=_SURNAMES[surname] + rng.choice(_GIVEN),
                wecom_userid=userid,
                dingtalk_staff_id=f"0155{200000 + index:06d}",
                emails=(f"{userid}@{STAFF_DOMAIN}",),
                crm_owner_id=str(1001 + index),
                team=team,
                manager="" if leader == f"r{index + 1:02d}" else leader,
            )
        )
    customer_list: list[Customer] = []
    for index in range(customers):
        name = rng.choice(_CITIES) + rng.choice(_WORDS) + rng.choice(_TRADES) + "有限公司"
        domain = f"{rng.choice(_PINYIN)}{_token(rng, 4, string.ascii_lowercase)}.com"
        contact = f"{rng.choice(_PINYIN)}.{rng.choice(_PINYIN)}@{domain}"
        tier = rng.choices("ABC", weights=(2, 3.5, 4.5))[0]
        customer_list.append(
            Customer(
                customer_id=f"c{index + 1:04d}",
                name=name,
                tier=tier,
                wecom_external_userids=(rng.choice(("wm", "wo")) + _token(rng, 20),),
                dingtalk_ids=(f"$:LWCP_v1:${_token(rng, 16)}",),
                crm_customer_id=f"AC-{index + 1:05d}",
                emails=(contact,),
                domains=(domain,),
                owner=rep_list[index % reps].rep_id,
            )
        )
    return rep_list, customer_list


def _wecom_message(
    week: _Week,
    instant: datetime,
    sender: str,
    receiver: str,
    text: str,
    room: str = "",
    members: tuple[str, ...] = (),
) -> None:
    week.emit(
        "wecom",
        instant,
        {
            "msgid": week.next_id("wx") + ("_external" if sender.startswith(("wm", "wo")) else ""),
            "action": "send",
            "from": sender,
            "tolist": list(members) or [receiver],
            "roomid": room,
            "msgtime": _ms(instant),
            "msgtype": "text",
            "text": {"content": text},
        },
    )


def _wecom_material(week: _Week, instant: datetime, rep: Rep, customer: Customer) -> None:
    kind, title = week.rng.choice(_MATERIAL)
    title = title.format(company=customer.name[:6])
    payloads = {
        "file": {
            "filename": title,
            "fileext": title.rsplit(".", 1)[-1],
            "filesize": week.rng.randrange(10_000, 5_000_000),
            "sdkfileid": _token(week.rng, 24),
        },
        "link": {
            "title": title,
            "description": "实施周期与验收标准",
            "link_url": f"https://www.{STAFF_DOMAIN}/cases/{week.counter}",
        },
        "docmsg": {
            "title": title,
            "doc_creator": rep.wecom_userid,
            "link_url": f"https://doc.weixin.qq.com/sheet/{_token(week.rng, 10)}",
        },
        "weapp": {"title": title, "description": "预约产品演示", "displayname": "星河软件"},
    }
    week.emit(
        "wecom",
        instant,
        {
            "msgid": week.next_id("wx"),
            "action": "send",
            "from": rep.wecom_userid,
            "tolist": [customer.wecom_external_userids[0]],
            "roomid": "",
            "msgtime": _ms(instant),
            "msgtype": kind,
            "doc" if kind == "docmsg" else kind: payloads[kind],
        },
    )


def _exchange(
    week: _Week, rep: Rep, customer: Customer, day: int, send: Callable[[datetime, bool, str], None]
) -> None:
    """A customer asks (1-3 messages), the rep answers after a delay, maybe a follow-up."""
    rng = week.rng
    instant = _work_instant(rng, week.start, day)
    for _ in range(rng.choice((1, 1, 2, 3))):
        send(instant, False, _fill(rng.choice(CUSTOMER_LINES), rng, rep, customer))
        instant += timedelta(seconds=rng.randrange(10, 240))
    delay = _reply_delay(rng)
    if delay is None:
        return
    instant += delay
    for _ in range(rng.choice((1, 2, 2, 3))):
        if not week.within_week(instant):
            return
        send(instant, True, _fill(rng.choice(REP_LINES), rng, rep, customer))
        instant += timedelta(seconds=rng.randrange(20, 600))
    if rng.random() < 0.4 and week.within_week(instant):
        instant += timedelta(minutes=rng.uniform(2, 90))
        follow_up = _fill(rng.choice(CUSTOMER_LINES[-6:]), rng, rep, customer)
        send(instant, False, follow_up)
        answer_after = _reply_delay(rng)
        if answer_after is not None and week.within_week(instant + answer_after):
            send(instant + answer_after, True, _fill(rng.choice(REP_LINES), rng, rep, customer))


def _wecom_week(week: _Week, rep: Rep, customer: Customer, exchanges: int) -> None:
    rng = week.rng
    external = customer.wecom_external_userids[0]
    in_group = customer.tier == "A" and rng.random() < 0.5
    room = f"wr{_token(rng, 26)}" if in_group else ""
    members = (rep.wecom_userid, external, f"wm{_token(rng, 20)}") if in_group else ()

    def send(instant: datetime, by_rep: bool, text: str) -> None:
        sender, receiver = (rep.wecom_userid, external) if by_rep else (external, rep.wecom_userid)
        others = tuple(m for m in members if m != sender)
        _wecom_message(week, instant, sender, receiver, text, room, others)

    for _ in range(exchanges):
        _exchange(week, rep, customer, rng.randrange(7), send)
    for _ in range(rng.choice((0, 1, 1, 2))):
        _wecom_material(week, _work_instant(rng, week.start, rng.randrange(7)), rep, customer)


def _wecom_extras(week: _Week, pairs: list[tuple[Rep, Customer]]) -> None:
    """Media, recalls, consent notices, switch records and XML contact callbacks."""
    rng = week.rng
    for rep, customer in rng.sample(pairs, min(len(pairs), 60)):
        instant = _work_instant(rng, week.start, rng.randrange(7))
        external = customer.wecom_external_userids[0]
        base = {
            "action": "send",
            "from": external,
            "tolist": [rep.wecom_userid],
            "roomid": "",
            "msgtime": _ms(instant),
        }
        week.emit(
            "wecom",
            instant,
            base
            | {
                "msgid": week.next_id("wx"),
                "msgtype": "image",
                "image": {"md5sum": _token(rng, 32), "filesize": 70961, "sdkfileid": "x"},
            },
        )
        week.emit(
            "wecom",
            instant,
            base
            | {
                "msgid": week.next_id("wx"),
                "msgtype": "agree",
                "agree": {"userid": external, "agree_time": _ms(instant)},
            },
        )
        recalled = week.next_id("wx")
        week.emit(
            "wecom",
            instant,
            base
            | {
                "msgid": week.next_id("wx"),
                "action": "recall",
                "from": rep.wecom_userid,
                "tolist": [external],
                "msgtype": "revoke",
                "revoke": {"pre_msgid": recalled},
            },
        )
        week.emit(
            "wecom",
            instant,
            {
                "msgid": week.next_id("wx"),
                "action": "switch",
                "time": _ms(instant),
                "user": rep.wecom_userid,
            },
        )
        change = rng.choice(("add_external_contact", "edit_external_contact", "del_follow_user"))
        xml = (
            f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]>"
            f"</FromUserName><CreateTime>{int(instant.timestamp())}</CreateTime><MsgType>"
            "<![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event>"
            f"<ChangeType><![CDATA[{change}]]></ChangeType><UserID><![CDATA[{rep.wecom_userid}]]>"
            f"</UserID><ExternalUserID><![CDATA[{external}]]></ExternalUserID></xml>"
        )
        week.emit_raw("wecom", instant, xml.encode())


def _dingtalk_week(week: _Week, rep: Rep, customer: Customer, exchanges: int) -> None:
    rng = week.rng
    conversation = f"cid{_token(rng, 22)}=="
    title = f"星河×{customer.name[:4]} 项目群"

    def send(instant: datetime, by_rep: bool, text: str) -> None:
        doc: dict[str, Any] = {
            "conversationId": conversation,
            "chatbotCorpId": DING_CORP,
            "chatbotUserId": "$:LWCP_v1:$robot01",
            "msgId": week.next_id("msg"),
            "createAt": _ms(instant),
            "conversationType": "2",
            "conversationTitle": title,
            "isInAtList": True,
            "msgtype": "text",
            "text": {"content": " " + text},
            "robotCode": "dingrobot01",
        }
        if by_rep:
            doc |= {
                "senderStaffId": rep.dingtalk_staff_id,
                "senderCorpId": DING_CORP,
                "senderNick": rep.name,
                "senderId": f"$:LWCP_v1:${rep.rep_id}",
            }
        else:
            doc |= {
                "senderId": customer.dingtalk_ids[0],
                "senderNick": customer.name[2:4] + "经理",
                "senderCorpId": f"ding{_token(rng, 12).lower()}",
            }
        week.emit("dingtalk", instant, doc)

    for _ in range(exchanges):
        _exchange(week, rep, customer, rng.randrange(7), send)


def _email_threads(week: _Week, rep: Rep, customer: Customer) -> None:
    rng = week.rng
    contact = customer.emails[0]
    rep_mail = rep.emails[0]
    for _ in range(rng.choice((1, 1, 2))):
        instant = _work_instant(rng, week.start, rng.randrange(6))
        root = f"{week.next_id('m')}.{_token(rng, 8)}@{contact.split('@')[1]}"
        subject = rng.choice(
            (
                "关于贵司CRM系统的咨询",
                "报价单确认",
                "合同条款修改意见",
                "付款及发票事宜",
                "上线培训安排",
            )
        )
        thread = [root]
        by_rep = False
        body = _fill(rng.choice(CUSTOMER_LINES[:24]), rng, rep, customer)
        for step in range(rng.choice((1, 2, 3, 4))):
            sender, receiver = (rep_mail, contact) if by_rep else (contact, rep_mail)
            own = thread[-1] if step == 0 else f"{week.next_id('m')}@{sender.split('@')[1]}"
            headers = {
                "Message-ID": f"<{own}>",
                "Date": (instant + BEIJING).strftime("%a, %d %b %Y %H:%M:%S +0800"),
                "From": sender,
                "To": receiver,
                "Subject": ("Re: " * step) + subject,
            }
            if step:
                headers["In-Reply-To"] = f"<{thread[-1]}>"
                headers["References"] = " ".join(f"<{m}>" for m in thread)
                thread.append(own)
            week.emit("email", instant, {"headers": headers, "body": body})
            if by_rep:
                _sendgrid_batch(week, instant, contact, own, rep)
            delay = _reply_delay(rng)
            if delay is None:
                return
            instant += delay
            if not week.within_week(instant):
                return
            by_rep = not by_rep
            lines = REP_LINES if by_rep else CUSTOMER_LINES
            body = _fill(rng.choice(lines), rng, rep, customer)


def _sendgrid_batch(
    week: _Week, instant: datetime, recipient: str, message_id: str, rep: Rep
) -> None:
    rng = week.rng
    batch = []
    for offset, status in enumerate(("processed", "delivered", "open", "click")):
        if status in ("open", "click") and rng.random() < 0.5:
            break
        batch.append(
            {
                "email": recipient,
                "timestamp": int(instant.timestamp()) + offset * rng.randrange(5, 900),
                "smtp-id": f"<{message_id}>",
                "event": status,
                "sg_event_id": week.next_id("sg"),
                "sg_message_id": f"{_token(rng, 22)}.filter0001",
                "rep_id": rep.rep_id,
            }
        )
    week.emit("email", instant, batch)


def _crm_week(week: _Week, leads: int) -> None:
    rng = week.rng
    for index in range(leads):
        created = _work_instant(rng, week.start, rng.randrange(6))
        lead_id = f"LD-{week.start:%Y%m%d}-{index + 1:04d}"
        company = rng.choice(_CITIES) + rng.choice(_WORDS) + rng.choice(_TRADES)
        base = {"objectApiName": "LeadsObj", "dataId": lead_id}
        week.emit(
            "crm",
            created,
            base
            | {
                "logId": week.next_id("OPL"),
                "operationType": "create",
                "operationTime": _ms(created),
                "operator": {"id": "api_user", "name": "官网表单", "department": "市场部"},
                "origin": "api",
                "message": f"通过官网表单新建线索：{company}",
                "changes": [],
            },
        )
        # a few leads created early in the week are never assigned: red after 48 h
        if index % 25 == 0 and created < week.start + timedelta(days=3):
            continue
        assigned = created + rng.choice(
            (timedelta(minutes=rng.uniform(5, 240)), timedelta(hours=rng.uniform(4, 30)))
        )
        owner = rng.choice(week.reps)
        if not week.within_week(assigned):
            continue
        if rng.random() < 0.3:
            week.emit(
                "crm",
                assigned,
                base
                | {
                    "logId": week.next_id("OPL"),
                    "operationType": "claim",
                    "operationTime": _ms(assigned),
                    "operator": {
                        "id": owner.crm_owner_id,
                        "name": owner.name,
                        "department": owner.team,
                    },
                    "origin": "ui",
                    "message": "从线索池【华东公海】领取",
                    "changes": [],
                },
            )
        else:
            week.emit(
                "crm",
                assigned,
                base
                | {
                    "logId": week.next_id("OPL"),
                    "operationType": "分配",
                    "operationTime": _ms(assigned),
                    "origin": "自动分配",
                    "message": "线索池规则自动分配",
                    "changes": [
                        {
                            "fieldApiName": "owner",
                            "fieldLabel": "负责人",
                            "oldValue": "",
                            "newValue": {"id": owner.crm_owner_id, "name": owner.name},
                        }
                    ],
                },
            )
    for customer in week.customers:
        owner = week.rep_of[customer.owner]
        operator = {"id": owner.crm_owner_id, "name": owner.name, "department": owner.team}
        base = {
            "objectApiName": "AccountObj",
            "dataId": customer.crm_customer_id,
            "origin": "ui",
            "operator": operator,
        }
        if rng.random() < 0.6:
            instant = _work_instant(rng, week.start, rng.randrange(7))
            old, new = rng.sample(_STAGES, 2)
            week.emit(
                "crm",
                instant,
                base
                | {
                    "logId": week.next_id("OPL"),
                    "operationType": "change_stage",
                    "operationTime": _ms(instant),
                    "message": f"阶段由 {old} 变更为 {new}",
                    "changes": [{"fieldApiName": "stage", "oldValue": old, "newValue": new}],
                },
            )
        if rng.random() < 0.2:
            instant = _work_instant(rng, week.start, rng.randrange(7))
            week.emit(
                "crm",
                instant,
                base
                | {
                    "logId": week.next_id("OPL"),
                    "operationType": "更改级别",
                    "operationTime": _ms(instant),
                    "message": "客户级别调整",
                    "changes": [
                        {
                            "fieldApiName": "customer_level",
                            "oldValue": customer.tier,
                            "newValue": customer.tier,
                        }
                    ],
                },
            )
        for field_name, values in rng.sample(_PROFILE_FIELDS, rng.randrange(len(_PROFILE_FIELDS))):
            instant = _work_instant(rng, week.start, rng.randrange(7))
            week.emit(
                "crm",
                instant,
                base
                | {
                    "logId": week.next_id("OPL"),
                    "operationType": "edit",
                    "operationTime": _ms(instant),
                    "message": "编辑客户信息",
                    "changes": [
                        {"fieldApiName": field_name, "oldValue": "", "newValue": rng.choice(values)}
                    ],
                },
            )


def _malformed(rng: random.Random, raw: bytes) -> bytes:
    """Truncated JSON or a timestamp that cannot be trusted: what real feeds deliver."""
    if raw.startswith(b"<") or rng.random() < 0.5:
        return raw[: max(1, len(raw) // 2)]
    for key in (b'"msgtime":', b'"createAt":', b'"operationTime":', b'"timestamp":', b'"Date":'):
        position = raw.find(key)
        if position >= 0:
            end = position + len(key)
            stop = raw.find(b",", end)
            return raw[:end] + b'"\xe6\x98\xa8\xe5\xa4\xa9"' + raw[stop:]
    return raw[: max(1, len(raw) // 2)]


def generate_week(seed: int, start: datetime, reps: int = 12, customers: int = 200) -> DemoData:
    """Raw records for the week beginning at `start` (aware), deterministic for `seed`."""
    rng = random.Random(seed)
    rep_list, customer_list = _build_people(rng, reps, customers)
    week = _Week(
        rng=rng,
        start=start,
        reps=rep_list,
        customers=customer_list,
        rep_of={rep.rep_id: rep for rep in rep_list},
    )
    pairs = []
    for customer in customer_list:
        rep = week.rep_of[customer.owner]
        pairs.append((rep, customer))
        exchanges = {"A": 26, "B": 16, "C": 9}[customer.tier] + rng.randrange(-2, 3)
        if rng.random() < 0.25:
            _dingtalk_week(week, rep, customer, max(2, exchanges // 2))
        _wecom_week(week, rep, customer, exchanges)
        if rng.random() < 0.5:
            _email_threads(week, rep, customer)
    _wecom_extras(week, pairs)
    _crm_week(week, leads=max(10, customers * 3 // 4))
    records: dict[str, list[bytes]] = {}
    for source, items in sorted(week.out.items()):
        items.sort(key=lambda item: item[0])
        raws = [raw for _, raw in items]
        for position in rng.sample(range(len(raws)), max(1, int(len(raws) * MALFORMED_SHARE))):
            raws[position] = _malformed(rng, raws[position])
        records[source] = raws
    return DemoData(records=records, directory=Directory(reps=rep_list, customers=customer_list))
