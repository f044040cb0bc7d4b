"""Bytes → text for every reader: a BOM wins, then a declared encoding that actually fits,
then UTF-8, then a guess between windows-1251 (Cyrillic) and windows-1252 (Western).

Central Asian sites still serve legacy Cyrillic, often without saying so; feedparser alone
would read such a file as windows-1252 and turn "Новости" into "Íîâîñòè".
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?\?>", re.S)
_DECLARED = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_XML_DECL_TEXT = re.compile(r"^\s*<\?xml[^>]*?\?>", re.S)
_WORD = re.compile(r"[^\W\d_]+")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "utf-16"))


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # what the bytes were read as: "utf-8", "windows-1251", …
    how: str  # "BOM", "declared", "default" (UTF-8) or "detected"
    note: str = ""  # a declaration that did not fit, for the source's problems

    @property
    def label(self) -> str:
        return self.encoding if self.how in ("default", "declared") else f"{self.encoding} ({self.how})"


def decode(data: bytes) -> Decoded:
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return Decoded(data.decode(codec, errors="replace"), name, "BOM")
    if _looks_utf16(data):
        codec = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        return Decoded(data.decode(codec, errors="replace"), "utf-16", "detected")
    note = ""
    declared = declared_encoding(data)
    if declared:
        name = _codec_name(declared)
        if name is None:
            note = f"declares an unknown encoding {declared!r}"
        elif not name.startswith("utf") and not data.isascii() and _is_utf8(data):
            # A single-byte declaration over bytes that are valid multi-byte UTF-8: a CMS
            # template kept its old header. Chance UTF-8 sequences in legacy text are rare.
            return Decoded(data.decode("utf-8"), "utf-8", "detected", f"declares {declared} but is UTF-8")
        else:
            try:
                return Decoded(data.decode(name), _display(name), "declared")
            except UnicodeDecodeError:
                note = f"declares {declared} but is not valid {declared}"
    try:
        text = data.decode("utf-8")
        return Decoded(text, "utf-8", "default" if not note else "detected", note)
    except UnicodeDecodeError:
        pass
    guess = guess_legacy(data)
    return Decoded(data.decode(guess, errors="replace"), guess, "detected", note)


def declared_encoding(data: bytes) -> str | None:
    """The encoding named in an XML declaration or an HTML/XHTML meta tag near the top."""
    head = data[:1024]
    decl = _XML_DECL.match(head)
    if decl:
        found = _DECLARED.search(decl.group(0))
        return found.group(1).decode("ascii") if found else None
    meta = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", head, re.I)
    return meta.group(1).decode("ascii") if meta else None


def guess_legacy(data: bytes) -> str:
    """windows-1251 when reading the bytes that way gives Cyrillic words rather than Cyrillic
    letters stuck inside Latin words (which is what Western text read as 1251 looks like)."""
    text = data.decode("windows-1251", errors="replace")
    cyrillic = mixed = 0
    for word in _WORD.findall(text):
        has_cyr = any("\u0400" <= ch <= "\u04ff" for ch in word)
        has_lat = any(ch.isascii() for ch in word)
        if has_cyr and has_lat:
            mixed += 1
        elif has_cyr:
            cyrillic += 1
    return "windows-1251" if cyrillic > mixed else "windows-1252"


def as_utf8_xml(decoded: Decoded) -> bytes:
    """The document re-encoded as UTF-8, its XML declaration saying so, for feedparser."""
    text = decoded.text.lstrip("\ufeff")
    decl = _XML_DECL_TEXT.match(text)
    if decl:
        fixed = re.sub(r"""encoding\s*=\s*["'][^"']*["']""", 'encoding="utf-8"', decl.group(0))
        if "encoding" not in fixed:
            fixed = fixed[:-2].rstrip() + ' encoding="utf-8"?>'
        text = fixed + text[decl.end():]
    else:
        text = '<?xml version="1.0" encoding="utf-8"?>\n' + text.lstrip()
    return text.encode("utf-8", errors="replace")


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a BOM: every other byte of '<?xml' or '{' is zero."""
    head = data[:64]
    return len(head) >= 8 and (head[0:1] in (b"<", b"{") and head[1:2] == b"\x00" and head[3:4] == b"\x00"
                               or head[0:1] == b"\x00" and head[1:2] in (b"<", b"{") and head[2:3] == b"\x00")


def _codec_name(declared: str) -> str | None:
    try:
        return codecs.lookup(declared).name
    except LookupError:
        return None


def _display(codec: str) -> str:
    return {"cp1251": "windows-1251", "cp1252": "windows-1252", "utf-8": "utf-8", "koi8-r": "koi8-r",
            "latin-1": "iso-8859-1", "iso8859-1": "iso-8859-1", "iso8859-5": "iso-8859-5"}.get(codec, codec)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
