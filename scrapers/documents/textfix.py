"""Text decoding for everything a source sends (HTTP bodies and document files) and mojibake repair.

One implementation, strict: a body is read in its declared charset when that works; otherwise as UTF-8,
with stray windows-1250 bytes in an otherwise UTF-8 page repaired and logged (a page assembled from two
systems); otherwise in the Polish single-byte charset (windows-1250 or ISO-8859-2) that reads it without
undefined bytes; otherwise `UndecodableText` is raised. A silent U+FFFD never reaches the catalog.

Names are sometimes double-encoded (UTF-8 bytes read as CP1250 or CP437: "SpoĹ‚eczna", "spo┼éeczna").
ftfy undoes such round trips when they are unambiguous; a character that was lost entirely ("spoéeczna")
cannot be recovered and is left as it is."""
from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

import ftfy

log = logging.getLogger(__name__)

# Characters that show up when UTF-8 bytes are read as a single-byte code page; clean Polish text has none.
_MOJIBAKE_HINTS = frozenset("ĹÄĂÅÃÂ┼Ă‚„ˇ˘")
_WORD = re.compile(r"\S+")
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)
_ESCAPED = re.compile("[\udc80-\udcff]+")     # undecodable bytes, as surrogateescape keeps them
# Polish registers are UTF-8, windows-1250 or ISO-8859-2; detection never picks a western codepage.
SINGLE_BYTE_CANDIDATES = ("cp1250", "iso8859_2")
_POLISH_LETTERS = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
_BOMS = ((codecs.BOM_UTF8, "utf_8_sig"), (codecs.BOM_UTF16_LE, "utf_16"), (codecs.BOM_UTF16_BE, "utf_16"))


class UndecodableText(ValueError):
    """Bytes that are neither their declared charset nor a repairable mix nor a Polish code page."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    repaired_bytes: int = 0    # bytes invalid in UTF-8 that were read as cp1250


def decode_text(content: bytes, content_type: str | None = None, where: str = "") -> DecodedText:
    """Decode strictly (see the module docstring); `where` names the body in log lines and errors.

    A byte-order mark beats a declared charset: it is the stronger evidence (as in the WHATWG rules)."""
    for bom, name in _BOMS:
        if content.startswith(bom):
            try:
                return DecodedText(content.decode(name), name)
            except UnicodeDecodeError as exc:
                raise UndecodableText(f"{where}: text after a {name} byte-order mark is not {name}") from exc
    match = _CHARSET.search(content_type or "")
    declared = match.group(1).lower() if match else None
    if declared:
        try:
            return DecodedText(content.decode(declared), declared)
        except LookupError:
            declared = None
        except UnicodeDecodeError:
            pass
    escaped = content.decode("utf-8", "surrogateescape")
    invalid = sum(len(run) for run in _ESCAPED.findall(escaped))
    if not invalid:
        return DecodedText(escaped, "utf-8")
    valid_multibyte = sum(1 for ch in escaped if "\x7f" < ch < "\udc80" or ch > "\udcff")
    if valid_multibyte >= invalid:
        return _repaired_utf8(escaped, invalid, where)
    detected = _detect_single_byte(content)
    if detected is None:
        raise UndecodableText(f"text is not valid {declared or 'UTF-8'} and its charset cannot be "
                              f"detected ({invalid} undecodable bytes)")
    log.warning("%s: text is not %s; decoded as %s", where, declared or "UTF-8", detected.encoding)
    return detected


def _detect_single_byte(content: bytes) -> DecodedText | None:
    """The Polish single-byte charset that reads the bytes strictly with the most Polish letters and the
    fewest stray symbols (the two differ exactly on ą, ś, ź and their capitals)."""
    best: tuple[int, DecodedText] | None = None
    for encoding in SINGLE_BYTE_CANDIDATES:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        high = [ch for ch in text if ch > "\x7f"]
        if any(ch <= "\x9f" for ch in high):    # C1 controls: bytes this charset leaves undefined
            continue
        score = sum(1 if ch in _POLISH_LETTERS else -1 for ch in high)
        if best is None or score > best[0]:
            best = (score, DecodedText(text, encoding))
    return best[1] if best else None


def _repaired_utf8(escaped: str, invalid: int, where: str) -> DecodedText:
    try:
        text = _ESCAPED.sub(lambda m: m.group().encode("utf-8", "surrogateescape").decode("cp1250"), escaped)
    except UnicodeDecodeError as exc:
        raise UndecodableText(f"text mixes UTF-8 with bytes of no known charset ({invalid} "
                              "undecodable bytes)") from exc
    log.warning("%s: %d byte(s) outside UTF-8 read as windows-1250", where, invalid)
    return DecodedText(text, "utf-8+cp1250", invalid)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """A text document (CSV, HTML file) without a declared charset; returns (text, encoding name)."""
    decoded = decode_text(data)
    return decoded.text, decoded.encoding


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
