"""The page's words: one table, both languages complete, every key the page and its script use is in it."""

from __future__ import annotations

import re
from importlib.resources import files

from ivr.rules.model import Mode
from ivr.tickets.callbacks import State
from ivr.tickets.stub import StubOutcome
from ivr.web.model import MODES
from ivr.web.page import STRINGS, language, render

STATIC = files("ivr.web") / "static"


def test_both_languages_have_every_string():
    assert set(STRINGS["zh"]) == set(STRINGS["en"])
    assert all(STRINGS["zh"][k] and STRINGS["en"][k] for k in STRINGS["zh"])


def test_every_key_the_page_uses_is_in_the_table():
    html = (STATIC / "wallboard.html").read_text(encoding="utf-8")
    script = (STATIC / "wallboard.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-t="([^"]+)"', html)) | set(re.findall(r'\bt\("([a-z_-]+(?:\.[a-z_-]+)?)"[,)]', script))
    used |= {f"mode.{m}" for m in (*MODES, "unknown")} | {f"outcome.{o.value}" for o in StubOutcome}
    used |= {f"alert.{kind}" for kind in ("no-monitor", "stale", "link-down", "store", "offline")}
    used |= {f"callback.{s.value}" for s in State} | {"caller.withheld", "caller.unknown"}
    assert used - set(STRINGS["zh"]) == set()
    assert {m.value for m in Mode} == set(MODES)


def test_mandarin_by_default_english_on_request():
    assert (language(None), language("en"), language("fr")) == ("zh", "en", "zh")
    zh, _ = render("zh")
    en, _ = render("en")
    assert b'<html lang="zh-CN">' in zh and "<title>12345 热线实时看板</title>".encode() in zh
    assert b'<html lang="en">' in en and b"<title>12345 hotline wallboard</title>" in en


def test_the_page_is_whole_and_its_policy_allows_only_its_own_script_and_style():
    html, policy = render("zh")
    assert b"{{" not in html
    assert b"https://" not in html and b"http://" not in html.replace(b"http://www.w3.org/2000/svg", b""), "no CDN"
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert policy.count("'sha256-") == 2 and "unsafe-inline" not in policy
