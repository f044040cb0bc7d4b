"""Article body HTML: repair, drop boilerplate, sanitize.

lxml does the structural work (it parses broken feed HTML the way browsers do); nh3, a
Rust sanitizer with an allow-list, has the last word, so whatever the cleanup misses,
nothing active (script, handlers, javascript: URLs, iframes, forms, styles) survives.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html
import nh3
from lxml import etree

from digest.text import fold, squash

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "time", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "srcset", "sizes", "loading", "decoding"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "abbr": {"title"},
    "ol": {"start"},
}
# Removed with everything inside them (nh3 would otherwise keep their text).
DROP_WITH_CONTENT = {"script", "style", "form", "button", "select", "textarea", "noscript", "template",
                     "iframe", "object", "embed", "svg", "math", "input", "nav", "aside", "head", "title"}

# Publisher chrome inside bodies: newsletter boxes, donation appeals, social footers.
BOILERPLATE_CLASS = re.compile(r"\b(hp-newsletter|newsletter|subscribe|donat\w*|mc4wp\w*|sharedaddy|jp-relatedposts|wpcnt)\b")
BOILERPLATE_TEXT = re.compile(
    r"^(The post .+ appeared first on .+"
    r"|Faites un don\b.*"
    r"|Novastan est le seul média\b.*"
    r"|Want more Central Asia in your inbox\?.*"
    r"|Thank you for reading this article!.*"
    r"|For more news and analysis from Central Asia, follow us\b.*"
    r"|Find all of our photos of the day\b.*"
    r"|Support Novastan\b.*"
    r"|The whole of Central Asia in your inbox\b.*"
    r"|Click here for the latest issue"
    r")$",
    re.S,
)
_BLANK_LINE = re.compile(r"\n[ \t\xa0]*\n\s*")
_BETWEEN_BLOCKS = re.compile(r">\s*\n\s*<")
_DOUBLED_URL = re.compile(r"^(https?://.+?)\1$")
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figure", "section", "li", "ul", "ol"}


def clean_body(fragment: str, *, title: str = "", base_url: str | None = None) -> str:
    """Cleaned, sanitized body HTML ('' when nothing readable is left)."""
    if not fragment or not fragment.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return _sanitize(fragment)
    for bad in root.xpath("//comment() | //processing-instruction()"):
        _drop(bad)
    for el in list(root.iter(*DROP_WITH_CONTENT)):
        _drop(el)
    for el in list(root.iter("div", "section", "p", "aside")):
        if BOILERPLATE_CLASS.search(el.get("class", "")) or _is_boilerplate_text(el):
            _drop(el)
    _drop_title_paragraph(root, title)
    for p in list(root.iter("p")):
        _split_blank_lines(p)
    _repair_links(root, base_url)
    _prepare_images(root, base_url)
    _drop_empty(root)
    html = "".join(
        [root.text or ""] + [lxml.html.tostring(child, encoding="unicode") for child in root]
    )
    return _BETWEEN_BLOCKS.sub(">\n<", _sanitize(html)).strip()


def _sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROP_WITH_CONTENT - ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _drop(el) -> None:
    """Remove an element but keep the text that follows it (its tail)."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    prev = el.getprevious()
    parent.remove(el)
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def _text(el) -> str:
    return squash(el.text_content())


def _is_boilerplate_text(el) -> bool:
    text = _text(el)
    return bool(text) and len(text) < 600 and bool(BOILERPLATE_TEXT.match(text))


def _drop_title_paragraph(root, title: str) -> None:
    """Feeds often open the body with the title again, as a link; a page already shows it."""
    if not title:
        return
    for el in root:
        if not isinstance(el.tag, str):
            continue
        if fold(_text(el)) == fold(title) and el.tag in _BLOCKS:
            _drop(el)
        return


def _split_blank_lines(p) -> None:
    """A blank line inside one <p> was meant as a paragraph break; browsers collapse it."""
    pieces = [p.text or ""] + [c.tail or "" for c in p]
    if not any(_BLANK_LINE.search(t) for t in pieces):
        return
    parent = p.getparent()
    if parent is None:
        return
    out = [etree.Element("p")]

    def add_text(text: str) -> None:
        parts = _BLANK_LINE.split(text)
        for i, part in enumerate(parts):
            if i:
                out.append(etree.Element("p"))
            cur = out[-1]
            if len(cur):
                cur[-1].tail = (cur[-1].tail or "") + part
            else:
                cur.text = (cur.text or "") + part

    add_text(p.text or "")
    for child in list(p):
        tail = child.tail or ""
        child.tail = None
        out[-1].append(child)
        add_text(tail)
    index = parent.index(p)
    out[-1].tail = p.tail
    parent.remove(p)
    for offset, new in enumerate(out):
        parent.insert(index + offset, new)


def _repair_links(root, base_url: str | None) -> None:
    for a in list(root.iter("a")):
        href = (a.get("href") or "").strip()
        doubled = _DOUBLED_URL.match(href)
        if doubled:
            href = doubled.group(1)
        if base_url and href and not href.startswith(("#", "mailto:")):
            href = urljoin(base_url, href)
        scheme = urlsplit(href).scheme.lower() if href else ""
        if not href or href == "#" or scheme not in ("http", "https", "mailto") or " " in href:
            # Not a link a reader can follow (link text pasted as href, "#"): keep the words only.
            a.drop_tag()
        else:
            a.set("href", href)


def _prepare_images(root, base_url: str | None) -> None:
    for img in list(root.iter("img")):
        src = (img.get("src") or img.get("data-src") or "").strip()
        if not src:
            _drop(img)
            continue
        img.set("src", urljoin(base_url, src) if base_url else src)
        if img.get("srcset") and base_url:
            img.set("srcset", ", ".join(
                " ".join([urljoin(base_url, part.split()[0])] + part.split()[1:])
                for part in img.get("srcset").split(",") if part.strip()
            ))
        img.set("alt", squash(img.get("alt") or ""))
        img.set("loading", "lazy")
        img.set("decoding", "async")
        for attr in ("width", "height"):
            if not (img.get(attr) or "").isdigit():
                img.attrib.pop(attr, None)


def _drop_empty(root) -> None:
    for el in reversed(list(root.iter("p", "div", "span", "strong", "em", "b", "i", "h2", "h3", "h4", "h5", "h6",
                                      "figure", "figcaption", "li", "ul", "ol", "blockquote", "section"))):
        if el is root:
            continue
        if not _text(el) and not list(el.iter("img", "br", "hr")) or (
            not _text(el) and all(c.tag == "br" for c in el.iter() if c is not el)
        ):
            _drop(el)
