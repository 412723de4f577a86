"""The wallboard page: one HTML response with its CSS, its script and every string inlined, so it needs nothing
else (no CDN: a call-centre's wall screen often has no internet). The files live in `ivr/web/static/`; every word
the page shows is in STRINGS, in Mandarin and English, and nowhere else.
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib.resources import files

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "title": "12345 热线实时看板",
        "switch": "English",
        "live": "实时",
        "not_live": "数据不可信",
        "updated": "更新于",
        "calls_today": "今日来电",
        "answered_today": "今日接通",
        "abandoned_today": "今日放弃",
        "waiting_now": "当前排队",
        "longest_now": "最长等待",
        "queues": "队列",
        "queue": "队列",
        "waiting": "排队",
        "longest_wait": "最长等待",
        "free": "空闲",
        "busy": "通话中",
        "paused": "暂停",
        "unavailable": "离线",
        "answered": "接通",
        "abandoned": "放弃",
        "service_level": "15秒服务水平",
        "connection_rate": "接通率",
        "lines": "各原号码今日来电",
        "line": "号码",
        "name": "名称",
        "calls": "来电",
        "chart": "今日每小时来电（按并入方式）",
        "hour": "时",
        "stubs": "最新工单",
        "time": "时间",
        "ticket": "工单号",
        "caller": "来电号码",
        "outcome": "结果",
        "wait": "等待",
        "answered_by": "接听",
        "no_calls": "今日暂无来电",
        "seconds": "秒",
        "mode.absorbed": "整体并入",
        "mode.dual-transfer": "双号并行（转接）",
        "mode.dual-merged": "双号并行（座席并入）",
        "mode.main": "12345 主号",
        "mode.unknown": "其他",
        "outcome.in-progress": "进行中",
        "outcome.answered": "已接通",
        "outcome.transferred": "已转接",
        "outcome.abandoned": "放弃",
        "outcome.hung-up-in-prompt": "提示中挂机",
        "outcome.instructed": "已告知",
        "outcome.unfinished": "未完成",
        "alert.no-monitor": "无队列数据：AMI 监控（ivr monitor）没有写入队列状态",
        "alert.stale": "数据已过时：队列状态 {age} 秒未更新",
        "alert.link-down": "AMI 连接中断：{why}",
        "alert.store": "无法读取工单库：{why}",
        "alert.offline": "看板服务器失联：{age} 秒没有收到更新",
        "alert.link": "数据对接异常：{name}：{failed} 条发送失败，{pending} 条待发",
        "alert.link_age": "，最早已等 {age} 秒",
        "ratings_lines": "今日满意度评价（按原号码）",
        "ratings_agents": "今日满意度评价（按坐席）",
        "agent": "坐席",
        "asked": "邀评",
        "satisfied": "满意",
        "basically_satisfied": "基本满意",
        "dissatisfied": "不满意",
        "not_rated": "未评价",
        "satisfaction": "满意率",
        "no_ratings": "今日暂无评价",
        "callbacks": "回拨（放弃的来电者）",
        "callbacks_due": "待回拨",
        "gave_up": "原因",
        "attempts": "已回拨",
        "state": "状态",
        "no_callbacks": "没有待处理的回拨",
        "more": "另有 {n} 条未显示",
        "until": "{time} 后再拨",
        "caller.withheld": "隐藏号码",
        "caller.unknown": "未知号码",
        "callback.due": "待回拨",
        "callback.waiting": "等待重拨",
        "callback.done": "已回拨",
        "callback.reached-agent": "已再次接通",
        "callback.duplicate": "重复",
        "callback.not-diallable": "无法回拨",
        "callback.gave-up": "已停止回拨",
    },
    "en": {
        "html_lang": "en",
        "title": "12345 hotline wallboard",
        "switch": "中文",
        "live": "Live",
        "not_live": "Not live",
        "updated": "Updated",
        "calls_today": "Calls today",
        "answered_today": "Answered today",
        "abandoned_today": "Abandoned today",
        "waiting_now": "Waiting now",
        "longest_now": "Longest wait",
        "queues": "Queues",
        "queue": "Queue",
        "waiting": "Waiting",
        "longest_wait": "Longest wait",
        "free": "Free",
        "busy": "Busy",
        "paused": "Paused",
        "unavailable": "Unavail.",
        "answered": "Answered",
        "abandoned": "Abandoned",
        "service_level": "Service level 15 s",
        "connection_rate": "Connection rate",
        "lines": "Today by original line",
        "line": "Line",
        "name": "Name",
        "calls": "Calls",
        "chart": "Calls per hour today, by merge mode",
        "hour": "h",
        "stubs": "Newest ticket stubs",
        "time": "Time",
        "ticket": "Ticket",
        "caller": "Caller",
        "outcome": "Outcome",
        "wait": "Wait",
        "answered_by": "Answered by",
        "no_calls": "No calls today yet",
        "seconds": "s",
        "mode.absorbed": "Absorbed",
        "mode.dual-transfer": "Dual-number, transfer",
        "mode.dual-merged": "Dual-number, merged seats",
        "mode.main": "12345 main line",
        "mode.unknown": "Other",
        "outcome.in-progress": "in progress",
        "outcome.answered": "answered",
        "outcome.transferred": "transferred",
        "outcome.abandoned": "abandoned",
        "outcome.hung-up-in-prompt": "hung up in prompt",
        "outcome.instructed": "instructed",
        "outcome.unfinished": "unfinished",
        "alert.no-monitor": "No queue data: no AMI monitor (ivr monitor) has written a queue board",
        "alert.stale": "Data is stale: the queue board has not been updated for {age} s",
        "alert.link-down": "AMI link down: {why}",
        "alert.store": "Ticket store cannot be read: {why}",
        "alert.offline": "Wallboard server unreachable: no update for {age} s",
        "alert.link": "Data link failing: {name}: {failed} failed, {pending} pending",
        "alert.link_age": ", the oldest waiting {age} s",
        "ratings_lines": "Satisfaction today, by original line",
        "ratings_agents": "Satisfaction today, by agent",
        "agent": "Agent",
        "asked": "Asked",
        "satisfied": "Satisfied",
        "basically_satisfied": "Basically",
        "dissatisfied": "Dissatisfied",
        "not_rated": "Not rated",
        "satisfaction": "Satisfaction",
        "no_ratings": "No ratings today yet",
        "callbacks": "Call-backs (callers who gave up)",
        "callbacks_due": "Call-backs due",
        "gave_up": "Why",
        "attempts": "Attempts",
        "state": "State",
        "no_callbacks": "No call-back to make",
        "more": "{n} more not shown",
        "until": "next at {time}",
        "caller.withheld": "withheld",
        "caller.unknown": "unknown",
        "callback.due": "due",
        "callback.waiting": "waiting",
        "callback.done": "done",
        "callback.reached-agent": "reached an agent",
        "callback.duplicate": "duplicate",
        "callback.not-diallable": "not diallable",
        "callback.gave-up": "gave up",
    },
}


def language(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE


def render(lang: str) -> tuple[bytes, str]:
    """The whole page in `lang` (the script switches language without asking the server again), and the
    Content-Security-Policy that lets exactly its own script and style run and connect to this server only."""
    static = files("ivr.web") / "static"
    words = STRINGS[language(lang)]
    strings = json.dumps({"lang": language(lang), "strings": STRINGS}, ensure_ascii=False).replace("</", "<\\/")
    css = (static / "wallboard.css").read_text(encoding="utf-8")
    script = (static / "wallboard.js").read_text(encoding="utf-8")
    html = (static / "wallboard.html").read_text(encoding="utf-8")
    for key, value in (
        ("{{HTML_LANG}}", words["html_lang"]),
        ("{{TITLE}}", words["title"]),
        ("{{CSS}}", css),
        ("{{STRINGS}}", strings),
        ("{{SCRIPT}}", script),
    ):
        html = html.replace(key, value)
    policy = (
        f"default-src 'none'; script-src {_digest(script)}; style-src {_digest(css)}; "
        "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'"
    )
    return html.encode(), policy


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
