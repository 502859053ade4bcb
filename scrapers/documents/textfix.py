"""Text decoding for documents from Polish offices: BOMs, CP1250 / ISO-8859-2 and mojibake.

Polish BIP attachments are often CP1250, and names are sometimes double-encoded (UTF-8 bytes read as
CP1250 or CP437: "SpoĹ‚eczna", "spo┼éeczna"). ftfy undoes such round trips when they are unambiguous;
a character that was lost entirely ("spoéeczna") cannot be recovered and is left as it is."""
from __future__ import annotations

import codecs
import re

import ftfy
from charset_normalizer import from_bytes

# Encodings Polish documents actually use; charset-normalizer only chooses among these.
POLISH_ENCODINGS = ("utf_8", "cp1250", "iso8859_2")
# Characters that show up when UTF-8 bytes are read as a single-byte code page; clean Polish text has none.
_MOJIBAKE_HINTS = frozenset("ĹÄĂÅÃÂ┼Ă‚„ˇ˘")
_WORD = re.compile(r"\S+")


_POLISH_LETTERS = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
_WRONG_GUESS = frozenset("±¶¬Ľ¦ˇ¤¨˝") | frozenset(chr(c) for c in range(0x80, 0xA0))


def _polish_score(data: bytes, encoding: str) -> int:
    text = data.decode(encoding, errors="replace")
    good = sum(1 for ch in text if ch in _POLISH_LETTERS)
    bad = sum(1 for ch in text if ch in _WRONG_GUESS or ch == "\ufffd")
    return good - 3 * bad


def fix_mojibake(text: str) -> str:
    """Repair double-encoded text; leaves clean text (and anything ftfy is unsure about) untouched."""
    if not _suspicious(text):
        return text
    fixed = ftfy.fix_encoding(text)
    if fixed != text:
        return fixed
    # A cell mixing clean and double-encoded words ("SpoĹ‚ecznej w Przykładowie") cannot be re-encoded
    # as a whole; each suspicious word on its own usually can.
    return _WORD.sub(lambda m: ftfy.fix_encoding(m.group()) if _suspicious(m.group()) else m.group(), text)


def _suspicious(text: str) -> bool:
    return any(ch in _MOJIBAKE_HINTS for ch in text)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a text document; returns (text, encoding name)."""
    for bom, name in ((codecs.BOM_UTF8, "utf_8_sig"), (codecs.BOM_UTF16_LE, "utf_16"), (codecs.BOM_UTF16_BE, "utf_16")):
        if data.startswith(bom):
            return data.decode(name), name
    try:
        return data.decode("utf_8"), "utf_8"
    except UnicodeDecodeError:
        pass
    # CP1250 and ISO-8859-2 differ exactly on ą, ś, ź, Ą, Ś, Ź: score both by Polish letters versus
    # the odd symbols the wrong choice produces ("±", "¶", "¬", "Ľ", C1 controls).
    scored = sorted(((_polish_score(data, name), name) for name in ("cp1250", "iso8859_2")), reverse=True)
    if scored[0][0] > 0:
        encoding = scored[0][1]
    else:
        best = from_bytes(data, cp_isolation=list(POLISH_ENCODINGS)).best()
        encoding = best.encoding if best is not None else "cp1250"
    return data.decode(encoding, errors="replace"), encoding
