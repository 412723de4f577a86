"""What espeak-ng is given to read: syllables with tone numbers, hotline digits as they are spoken, pauses kept."""

from __future__ import annotations

import pytest

from ivr.prompts.pinyin import to_pinyin


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param("幺二三四五", "yao1 er4 san1 si4 wu3", id="yao-for-one"),
        pytest.param("请拨打12396", "qing3 bo1 da3 yao1 er4 san1 jiu3 liu4", id="digits-one-by-one"),
        pytest.param("0871-12345", "ling2 ba1 qi1 yao1 yao1 er4 san1 si4 wu3", id="area-code"),
        pytest.param("１１０", "yao1 yao1 ling2", id="full-width-digits"),
        pytest.param("您好，请稍候。", "nin2 hao3, qing3 shao1 hou4.", id="comma-and-full-stop"),
        pytest.param("幺幺零、幺幺九", "yao1 yao1 ling2, yao1 yao1 jiu3", id="enumeration-comma"),
        pytest.param("请问；是吗？好！", "qing3 wen4; shi4 ma5? hao3!", id="other-pauses-and-neutral-tone"),
        pytest.param("“请”（不要）挂机", "qing3 bu2 yao4 gua4 ji1", id="quotes-and-brackets-dropped"),
        pytest.param("，您好", "nin2 hao3", id="no-pause-before-the-first-word"),
        pytest.param("您拨打的号码", "nin2 bo1 da3 de5 hao4 ma3", id="de-not-di-taxi"),
        pytest.param("为您转接", "wei4 nin2 zhuan3 jie1", id="wei4-for"),
        pytest.param("你好", "ni2 hao3", id="third-tone-sandhi-in-a-word"),
        pytest.param("请拨打 hotline", "qing3 bo1 da3 hotline", id="latin-kept-for-the-fallback-check"),
    ],
)
def test_text_is_read_as(text, spoken):
    assert to_pinyin(text) == spoken
