"""A test-only copy of res_agi's `parse_args` (res/res_agi.c), to check what Asterisk reads out of a command line.

Kept byte for byte to the C: a double quote toggles quoting and starts a word when it follows whitespace; an
unquoted, unescaped space or tab ends a word; a backslash makes the next character literal; words past
MAX_ARGS - 1 lose their characters.
"""

from __future__ import annotations

MAX_ARGS = 128


def parse_args(line: bytes) -> list[bytes]:
    words: list[bytearray] = []
    quoted = escaped = False
    whitespace = True
    for byte in line:
        if byte == ord('"') and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                words.append(bytearray())
                whitespace = False
            continue
        if byte in (ord(" "), ord("\t")) and not (quoted or escaped):
            whitespace = True
            continue
        if byte == ord("\\") and not escaped:
            escaped = True
            continue
        if whitespace:
            if len(words) >= MAX_ARGS - 1:
                continue
            words.append(bytearray())
            whitespace = False
        words[-1].append(byte)
        escaped = False
    return [bytes(word) for word in words]
