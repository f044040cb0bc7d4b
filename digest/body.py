"""Article body HTML: repair, drop boilerplate, sanitize.

lxml does the structural work (it parses broken feed HTML the way browsers do); nh3, a
Rust sanitizer with an allow-list, has the last word, so whatever the cleanup misses,
nothing active (script, handlers, javascript: URLs, iframes, forms, styles) survives.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

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

# Publisher chrome inside bodies: newsletter boxes, donation appeals, social footers, feed ads.
BOILERPLATE_CLASS = re.compile(
    r"\b(hp-newsletter|newsletter|subscribe|subscription|donat\w*|mc4wp\w*|sharedaddy|jp-relatedposts|wpcnt"
    r"|share-?buttons?|social-share|sharethis|related-posts|yarpp\w*|feedflare|wpdiscuz\w*)\b", re.I)
BOILERPLATE_TEXT = re.compile(
    r"^(The post .+ appeared first on .+"
    r"|This post .+ appeared first on .+"
    r"|L[’']article .+ est apparu en premier sur .+"
    r"|Der Beitrag .+ erschien zuerst auf .+"
    r"|(Запись|Сообщение|Статья) .+ (впервые |сначала )?появил\w* (сначала |впервые )?на .+"
    r"|Faites un don\b.*"
    r"|Novastan est le seul média\b.*"
    r"|Want more Central Asia in your inbox\?.*"
    r"|Thank you for reading this article!.*"
    r"|For more news and analysis from Central Asia, follow us\b.*"
    r"|Find all of our photos of the day\b.*"
    r"|Support Novastan\b.*"
    r"|The whole of Central Asia in your inbox\b.*"
    r"|Click here for the latest issue"
    r"|(Please )?(consider )?(support|donate to) (our|independent) (journalism|reporting|work)\b.*"
    r"|(Donate|Make a donation|Become a (patron|member|supporter))( now| today)?\b[^.]{0,80}[.!]?"
    r"|(Subscribe|Sign up) (to|for) our (free )?((daily|weekly|monthly) )?newsletter\b.*"
    r"|Abonnez-vous à (notre|la) newsletter\b.*"
    r"|Jetzt spenden\b.*|Unterstützen Sie (uns|unsere Arbeit)\b.*"
    r"|Подпишитесь на (наш|нашу|наши) .{0,80}"
    r"|Поддержите (нас|редакцию|проект)\b.*"
    r"|Share this:|Like this:"
    r")$",
    re.S | re.I,
)
# The first word of every BOILERPLATE_TEXT line: text that starts otherwise is not squashed.
_START_WORDS = ("the", "this", "l[’']article", "der", "запись", "сообщение", "статья", "faites", "novastan",
                "want", "thank", "for", "find", "support", "click", "please", "consider", "donate", "make",
                "become", "subscribe", "sign", "abonnez", "jetzt", "unterstützen", "подпишитесь", "поддержите",
                "share", "like")
_BOILERPLATE_START = re.compile(r"\s*(?:" + "|".join(_START_WORDS) + r")\b", re.I)
# More than this many characters after the leading space decide whether _BOILERPLATE_START
# matches: its longest word (a [class] is one character) and the one after it.
_START_CHARS = max(len(re.sub(r"\[[^\]]*\]", "x", w)) for w in _START_WORDS) + 1
# WordPress shortcodes that leak into feeds when a plugin is switched off. Only these names:
# a general "[word]" pattern would eat "[sic]" and "[1]".
_SHORTCODE_NAMES = (r"(?:caption|wp_caption|gallery|embed|audio|video|playlist|contact-form(?:-7)?|mc4wp_form"
                    r"|give_form|newsletter\w*|vc_\w+|et_pb_\w+|su_\w+|fusion_\w+|av_\w+|tweet|instagram|youtube"
                    r"|soundcloud|jetpack\w*|wpforms|ninja_form|gravityform|sharethis\w*|donate\w*)")
_CAPTION_BLOCK = re.compile(r"\[(?:wp_)?caption\b[^\]]*\](.*?)\[/(?:wp_)?caption\]", re.S | re.I)
_CAPTION_IMAGE = re.compile(r"^\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)$", re.S | re.I)
_EMBED = re.compile(r"\[embed\b[^\]]*\]\s*(https?://[^\s\[<\"]+)\s*\[/embed\]", re.I)
SHORTCODE = re.compile(rf"\[/?{_SHORTCODE_NAMES}\b[^\]]*\]", re.I)
_BLANK_LINE = re.compile(r"\n[ \t\xa0]*\n\s*")
_BETWEEN_BLOCKS = re.compile(r">\s*\n\s*<")
_DOUBLED_URL = re.compile(r"^(https?://.+?)\1$")
_WHITESPACE = re.compile(r"\s")
# Characters lxml refuses in text it is given (a JSON Feed can carry them): moving the text of a
# dropped tag would fail on them. They show nothing in a browser and are invalid in XML feeds.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# An absolute http(s) URL that urljoin() and urlsplit() return unchanged whatever the base:
# lower-case scheme, a plain host, no port, params, query, fragment, spaces or controls.
_PLAIN_ABSOLUTE = re.compile(r"https?://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~%!$&'()*+,=:@/-]*)?")
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figure", "section", "li", "ul", "ol"}


def strip_shortcodes(text: str, *, html: bool = True) -> str:
    """WordPress shortcodes out. In HTML a [caption] around an image becomes a <figure> with its
    <figcaption>; in plain text (page scrapes, where the image is gone) the caption goes too."""
    def caption(match: re.Match) -> str:
        image = _CAPTION_IMAGE.match(match.group(1)) if html else None
        if image:
            return f"<figure>{image.group(1)}<figcaption>{image.group(2).strip()}</figcaption></figure>"
        return ""

    text = _CAPTION_BLOCK.sub(caption, text)
    if html:
        text = _EMBED.sub(lambda m: f'<p><a href="{m.group(1)}">{m.group(1)}</a></p>', text)
    return SHORTCODE.sub("", text)


def clean_body(fragment: str, *, title: str = "", base_url: str | None = None) -> str:
    """Cleaned, sanitized body HTML ('' when nothing readable is left)."""
    if not fragment or not fragment.strip():
        return ""
    fragment = _NOT_XML.sub("", strip_shortcodes(fragment))
    try:
        html = _tidy(fragment, title, base_url)
    except Exception:  # noqa: BLE001 - unparseable, or a cleanup bug on odd input: the story is kept, sanitized as it came
        return _sanitize(fragment)
    return _BETWEEN_BLOCKS.sub(">\n<", _sanitize(html)).strip()


def _tidy(fragment: str, title: str, base_url: str | None) -> str:
    """The fragment repaired and without boilerplate, not yet sanitized."""
    root = _fragment(fragment)
    for bad in root.xpath("//comment() | //processing-instruction()"):
        _drop(bad)
    for el in list(root.iter(*DROP_WITH_CONTENT)):
        _drop(el)
    for el in list(root.iter("div", "section", "p", "aside", "ul", "figure")):
        if el.getparent() is None and el is not root:
            continue  # already dropped with an ancestor
        cls, ident = el.get("class"), el.get("id")
        if (cls or ident) and BOILERPLATE_CLASS.search(f"{cls or ''} {ident or ''}") \
                or el.tag in ("p", "div") and _is_boilerplate_text(el):
            _drop(el)
    _drop_title_paragraph(root, title)
    for p in list(root.iter("p")):
        _split_blank_lines(p)
    _repair_links(root, base_url)
    _prepare_images(root, base_url)
    _drop_empty(root)
    if not len(root) and not root.text:
        return ""
    return etree.tostring(root, method="html", encoding="unicode")[len("<div>"):-len("</div>")]


# Plain lxml.etree, not lxml.html: lxml.html looks up a Python element class for every
# element it hands out, a fifth of the cleaning's time; nothing here needs its methods.
_PARSER = etree.HTMLParser()
_FULL_HTML = re.compile(r"^\s*<(?:html|!doctype)", re.I)


def _fragment(fragment: str):
    """The fragment's nodes under a new ``<div>``, as ``lxml.html.fragment_fromstring(fragment,
    create_parent="div")`` makes it."""
    html = fragment if _FULL_HTML.match(fragment) else f"<html><body>{fragment}</body></html>"
    doc = etree.fromstring(html, _PARSER)
    if doc is None:
        raise etree.ParserError("Document is empty")
    bodies = [e for e in doc if e.tag == "body"]
    if len(bodies) != 1:
        raise ValueError("not one body")
    body = bodies[0]
    root = _PARSER.makeelement("div")  # in an HTML document, as lxml.html makes it: it serializes as HTML
    if body.text and body.text.strip():
        root.text = body.text
    root.extend(body)
    return root


# Made once: nh3.clean() builds the same allow-lists again on every call (a tenth of its time).
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=DROP_WITH_CONTENT - ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def _sanitize(html: str) -> str:
    return _CLEANER.clean(html)


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


_STRING = etree.XPath("string()")  # an element's text, as lxml.html's text_content()


def _text(el) -> str:
    return squash(_STRING(el))


def _blank(el) -> bool:
    """``not _text(el)``: squash() leaves nothing exactly when the text is all whitespace."""
    if el.text and not el.text.isspace():
        return False  # its text starts with words: no need to gather all of it
    return not _STRING(el).strip()


def _drop_tag(el) -> None:
    """Remove the tag of ``el`` but keep its text and children in its place (lxml.html's drop_tag)."""
    parent = el.getparent()
    previous = el.getprevious()
    if el.text:
        if previous is None:
            parent.text = (parent.text or "") + el.text
        else:
            previous.tail = (previous.tail or "") + el.text
    if el.tail:
        if len(el):
            last = el[-1]
            last.tail = (last.tail or "") + el.tail
        elif previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    index = parent.index(el)
    parent[index:index + 1] = el[:]


def _is_boilerplate_text(el) -> bool:
    lead = el.text
    if lead and len(lead.lstrip()) > _START_CHARS and not _BOILERPLATE_START.match(lead):
        return False  # the start of its own text decides, without gathering its children's
    raw = _STRING(el)
    if not _BOILERPLATE_START.match(raw):
        return False  # every boilerplate line starts with one of these words: no squashing needed
    if len(raw) > 1500:
        # squash() of a prefix is a prefix of squash() of the whole: 600 characters in the
        # first 1,500 mean the whole is too long to be boilerplate, without squashing it all.
        if len(squash(raw[:1500])) >= 600:
            return False
    text = squash(raw)
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
    if not any("\n" in t and _BLANK_LINE.search(t) for t in pieces):
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
        doubled = _DOUBLED_URL.match(href) if href.count("://") > 1 else None  # the pattern backtracks: ask only then
        if doubled:
            href = doubled.group(1)
        if href and not href.startswith(("#", "mailto:")) and not _WHITESPACE.search(href):
            href = _absolute(href, base_url)
        scheme = (_scheme(href) or "") if href else ""
        if not href or href.startswith("#") or _WHITESPACE.search(href) or scheme not in ("http", "https", "mailto"):
            # Not a link a reader can follow (link text pasted as href, "#", relative with no
            # base, javascript:): keep the words only.
            _drop_tag(a)
        else:
            a.set("href", href)


def _absolute(url: str, base_url: str | None) -> str:
    """``url`` resolved against the item's base; '' when it stays relative or cannot parse."""
    if _PLAIN_ABSOLUTE.fullmatch(url) and (not base_url or _scheme(base_url) is not None):
        return url  # what urljoin and urlsplit would give back, without asking them
    return _resolve(url, base_url)


@lru_cache(maxsize=8192)
def _resolve(url: str, base_url: str | None) -> str:
    try:
        resolved = urljoin(base_url, url) if base_url else url
        parts = urlsplit(resolved)
    except ValueError:
        return ""
    return resolved if parts.scheme and (parts.netloc or parts.scheme.lower() == "mailto") else ""


@lru_cache(maxsize=8192)
def _scheme(url: str) -> str | None:
    """The lower-cased scheme of ``url``; None when it does not parse."""
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return None


def _prepare_images(root, base_url: str | None) -> None:
    for img in list(root.iter("img")):
        src = _absolute((img.get("src") or img.get("data-src") or img.get("data-lazy-src") or "").strip(), base_url)
        if not src or urlsplit(src).scheme.lower() not in ("http", "https") or _is_pixel(img, src):
            _drop(img)  # nothing a reader could load, or a tracking pixel
            continue
        img.set("src", src)
        srcset = img.get("srcset") or img.get("data-srcset") or ""
        candidates = []
        for part in srcset.split(","):
            words = part.split()
            url = _absolute(words[0], base_url) if words else ""
            if url.lower().startswith(("http://", "https://")):
                candidates.append(" ".join([url] + words[1:2]))
        if candidates:
            img.set("srcset", ", ".join(candidates))
        else:
            img.attrib.pop("srcset", None)
            img.attrib.pop("sizes", None)
        img.set("alt", squash(img.get("alt") or ""))
        img.set("loading", "lazy")
        img.set("decoding", "async")
        for attr in ("width", "height"):
            if not (img.get(attr) or "").isdigit():
                img.attrib.pop(attr, None)


def _is_pixel(img, src: str) -> bool:
    host = urlsplit(src).netloc.lower()
    return (img.get("width") in ("0", "1") and img.get("height") in ("0", "1")) or \
        host.startswith("feeds.feedburner.com") or "/~r/" in src or host.endswith("feedsportal.com")


def _drop_empty(root) -> None:
    for el in reversed(list(root.iter("p", "div", "span", "strong", "em", "b", "i", "h2", "h3", "h4", "h5", "h6",
                                      "figure", "figcaption", "li", "ul", "ol", "blockquote", "section"))):
        if el is root:
            continue
        if _blank(el) and (next(el.iter("img", "br", "hr"), None) is None
                           or all(c.tag == "br" for c in el.iter() if c is not el)):
            _drop(el)
