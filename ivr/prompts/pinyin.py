"""Mandarin text to tone-numbered pinyin, the only form of Chinese Debian's espeak-ng reads well.

Its `cmn` voice knows few characters and reads the rest as English letters and numbers; its `cmn-latn-pinyin`
voice reads syllables with tone numbers (`nin2 hao3`) as Mandarin. So the characters never reach espeak-ng:
pypinyin turns them into syllables, with the tone changes of 不, 一 and two third tones inside a word. Digits are
read one by one with 1 as 幺, the way hotline numbers are spoken, and punctuation becomes ASCII punctuation, so
espeak-ng still pauses there. Latin letters are left as they are: espeak-ng then switches to English, which the
phoneme dump shows and `ivr check` reports.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin, load_phrases_dict

DIGITS = dict(
    zip("0123456789", ("ling2", "yao1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3"), strict=True)
)
# After NFKC, full-width ，；：！？ are already ASCII; these two have no ASCII form.
PAUSES = {"。": ".", "、": ","}
PUNCTUATION = frozenset(",.;:!?")

# Readings pypinyin's phrase table gets wrong in prompt texts: 拨打的 holds 打的 (dǎ dī, to take a taxi).
load_phrases_dict({"拨打的": [["bō"], ["dǎ"], ["de"]]})


def to_pinyin(text: str) -> str:
    """`您好，请拨打12345。` -> `nin2 hao3, qing3 bo1 da3 yao1 er4 san1 si4 wu3.`"""
    tokens = lazy_pinyin(
        unicodedata.normalize("NFKC", text),
        style=Style.TONE3,
        neutral_tone_with_five=True,
        tone_sandhi=True,
        errors=_not_han,
    )
    words: list[str] = []
    for token in tokens:
        if token not in PUNCTUATION:
            words.append(token)
        elif words:
            words[-1] += token
    return " ".join(words)


def _not_han(chars: str) -> list[str]:
    """Digits, pauses and words between the characters; other punctuation and symbols (quotes, brackets) go."""
    tokens = []
    for part in re.findall(r"[^\W\d_]+|\S", chars):
        part = PAUSES.get(part, part)
        if part in DIGITS:
            tokens.append(DIGITS[part])
        elif part in PUNCTUATION or unicodedata.category(part[0])[0] not in "PS":
            tokens.append(part)
    return tokens
