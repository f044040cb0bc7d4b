"""The site's feeds: Atom 1.0 and JSON Feed 1.1 for the whole site and for every country, tag,
author and language, written with an XML serializer so nothing from a feed can break the markup
(titles and bodies are escaped, never spliced in)."""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring
from datetime import datetime
from itertools import islice
from typing import Callable, Iterator
from xml.etree import ElementTree as ET

from digest import urls, workers
from digest.artifact import Artifact, Staged, Unchanged
from digest.config import Config
from digest.model import Site

ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FEED_ITEMS = 20
PARALLEL_FEEDS = 100  # below this many feeds to write, workers cost more than they save


def atom(*, title: str, feed_url: str, page_url: str, updated: datetime, entries: list[str]) -> bytes:
    """An Atom feed of ``entries``, each the XML of one ``<entry>`` as ``atom_entry`` writes it."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "title", title)
    _sub(feed, "id", feed_url)
    _sub(feed, "updated", _iso(updated))
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=feed_url, type="application/atom+xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=page_url, type="text/html")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _sub(author, "name", title)
    ET.SubElement(feed, f"{{{ATOM}}}generator").text = "digest"
    head = ET.tostring(feed, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + head[:-len("</feed>")] + "".join(entries)
            + "</feed>\n").encode("utf-8")


def atom_entry(e: dict, updated: datetime) -> str:
    """One ``<entry>``, as ElementTree writes it inside the feed (where the Atom namespace is
    the feed's default). ``e`` is an article view with absolute ``link`` and ``body_html``
    (None: a summary entry); ``updated`` stands in for a missing publication date.

    Written as text with ElementTree's own escaping, not built as a tree: the same bytes
    (tests/test_feeds_valid.py checks them against the feed built whole) in an eighth of the
    time, and a story's entry is made for each process that writes one of its feeds."""
    out = ['<entry xml:lang="', _attr(e["language"]), '">'] if e.get("language") else ["<entry>"]
    out += [_element("title", e["title"]), _element("id", e["link"]),
            '<link rel="alternate" href="', _attr(e["link"]), '" type="text/html" />']
    if e.get("source_url"):
        out += ['<link rel="related" href="', _attr(e["source_url"]), '" type="text/html" />']
    out.append(_element("updated", _iso(e["published"] or updated)))
    if e["published"]:
        out.append(_element("published", _iso(e["published"])))
    for name in e["authors"] or [e["publisher"]]:
        out += ["<author>", _element("name", name), "</author>"]
    for tag in e["tags"] + e["countries"]:
        out += ['<category term="', _attr(tag), '" />']
    out.append(_element("summary", e["excerpt"]))
    if e["body_html"] is not None:  # None: a summary feed, or an archived story (budget.py)
        out.append(_element("content", e["body_html"], ' type="html"'))
    out.append("</entry>")
    return "".join(out)


_attr = ET._escape_attrib  # ElementTree's own escaping, so the text is what it would write
_cdata = ET._escape_cdata


def _element(tag: str, text: str, attributes: str = "") -> str:
    """``<tag>text</tag>`` as ElementTree writes a ``_sub`` element ("<tag />" when empty)."""
    text = _xml_safe(text)
    return f"<{tag}{attributes}>{_cdata(text)}</{tag}>" if text else f"<{tag}{attributes} />"


def json_feed(*, title: str, feed_url: str, page_url: str, description: str, items: list[str]) -> bytes:
    """A JSON Feed of ``items``, each one item's JSON as ``json_item`` writes it: the bytes
    ``json.dumps(feed, ensure_ascii=False, indent=1)`` gives for the whole feed."""
    head = json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": page_url,
        "feed_url": feed_url,
        "description": description,
    }, ensure_ascii=False, indent=1)
    # An item sits two levels deep (in the feed, in "items"): two more spaces on each line.
    listed = "[\n" + ",\n".join("  " + item.replace("\n", "\n  ") for item in items) + "\n ]" if items else "[]"
    return (head[:-2] + ',\n "items": ' + listed + "\n}\n").encode("utf-8")


def json_item(e: dict) -> str:
    """One JSON Feed item (at the top level of its own text: ``json_feed`` indents it), as
    ``json.dumps(item, ensure_ascii=False, indent=1)`` writes it. Written field by field with
    json's own string encoder: with an indent ``json.dumps`` runs in Python, and this was half
    of writing a feed."""
    q = encode_basestring
    lines = ['{\n "id": ', q(e["link"]), ',\n "url": ', q(e["link"])]
    if e.get("source_url"):
        lines += [',\n "external_url": ', q(e["source_url"])]
    lines += [',\n "title": ', q(e["title"])]
    # JSON Feed needs content_html or content_text: a summary entry's text is its excerpt
    if e["body_html"] is not None:
        lines += [',\n "content_html": ', q(e["body_html"]), ',\n "summary": ', q(e["excerpt"])]
    else:
        lines += [',\n "content_text": ', q(e["excerpt"])]
    if e["published"]:
        lines += [',\n "date_published": ', q(_iso(e["published"]))]
    names = e["authors"] or [e["publisher"]]
    lines += [',\n "authors": [\n  {\n   "name": ', '\n  },\n  {\n   "name": '.join(map(q, names)), "\n  }\n ]"]
    tags = e["tags"] + e["countries"]
    lines += [',\n "tags": ', "[\n  " + ",\n  ".join(map(q, tags)) + "\n ]" if tags else "[]"]
    if e.get("language"):
        lines += [',\n "language": ', q(e["language"])]
    lines.append("\n}")
    return "".join(lines)


class Entries:
    """Each story's Atom entry and JSON Feed item, written once per process and reused by every
    feed that lists it (the site's, its countries', tags', authors', language's: up to eight),
    as the text each feed would have written for it."""

    def __init__(self, views: dict[str, dict], base_url: str):
        self._views, self._base_url = views, base_url
        self._atom: dict[tuple, str] = {}
        self._json: dict[tuple, str] = {}

    def _entry(self, key: str, full: bool) -> dict:
        view = self._views[key]
        e = dict(view)
        e["link"] = urls.absolute(self._base_url, view["path"])
        e["tags"] = [t["name"] for t in view["tags"]]
        e["countries"] = [c["name"] for c in view["countries"]]
        e["authors"] = [a["name"] for a in view["authors"]]
        e["body_html"] = str(view["body_html"]) if full else None
        return e

    def both(self, key: str, full: bool, updated: datetime) -> tuple[str, str]:
        """The story's Atom entry and JSON Feed item; its view is copied (and its body read from
        the store) once, whichever of the two is not made yet."""
        view = self._views[key]
        full = full and not view.get("archived")
        atom_key = (key, full, None if view["published"] else updated)  # undated: the feed's date
        text, item = self._atom.get(atom_key), self._json.get((key, full))
        if text is None or item is None:
            e = self._entry(key, full)
            if text is None:
                text = self._atom[atom_key] = atom_entry(e, updated)
            if item is None:
                item = self._json[key, full] = json_item(e)
        return text, item


def _sub(parent, tag: str, text: str):
    el = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    el.text = _xml_safe(text)
    return el


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry at all (control characters from broken feeds)."""
    return _NOT_XML.sub("", text)  # one regex pass: a per-character loop was a third of a 10k build


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def iter_feed_files(site: Site, config: Config, views: dict[str, dict], keys: Callable | None = None,
                    fresh: Callable[[str, str], bool] | None = None, jobs: int = 1,
                    stage=None) -> Iterator[Artifact | Unchanged | Staged]:
    """Atom + JSON Feed for the whole site and for every country, tag, author and language. With
    ``keys`` (the key of a feed's inputs) each artifact carries its key, and a feed that ``fresh`` says
    is unchanged comes as ``Unchanged``. ``jobs`` > 1 writes many feeds in forked workers
    (full-text feeds are megabytes of XML and JSON); with ``stage`` (stage.Stage) the workers
    write them into the writer's staging folder and hand back ``Staged`` receipts, so the
    bytes do not cross a pipe and the writer's process does not write them one by one."""
    # The site feed carries full text; a group's carries it only with feed_content = "full"
    # (about 1,400 feeds of 20 bodies were 40% of a 10,000-story site).
    group_full = config.feed_content == "full"
    targets = [("", config.title, site.order, True)] + [
        (urls.group(g.kind, g.slug), f"{g.name} — {config.title}", g.keys, group_full)
        for g in site.countries + site.tags + site.authors + site.languages
    ]
    todo = []
    for base, title, keys_, full in targets:
        # A feed is as new as its newest story (not the build), so it changes only with them.
        updated = max((views[k]["published"] for k in keys_[:FEED_ITEMS] if views[k]["published"]), default=site.now)
        # A group's feed announces what is new: archived stories (full_text_weeks) stay out of it.
        shown = list(islice((k for k in keys_ if not base or not views[k]["archived"]), FEED_ITEMS))
        key = keys(base, title, updated, [views[k] for k in shown], full) if keys else None
        files = urls.feed_files(base)
        if fresh and key and all(fresh(f, key) for f in files):
            yield from (Unchanged(f, key) for f in files)
            continue
        todo.append((base, title, updated, shown, key, full))
    jobs = jobs if len(todo) >= PARALLEL_FEEDS else 1
    # Each worker fills its own copy (after the fork) as it writes its feeds.
    entries = Entries(views, config.base_url)
    for part in workers.iter_ranges(_feed_range, (todo, entries, config, stage), len(todo), jobs, batch=25):
        yield from part


def _feed_range(todo: list, entries: Entries, config: Config, stage, start: int,
                end: int) -> list[Artifact | Staged]:
    out = []
    for base, title, updated, shown, key, full in todo[start:end]:
        page_url = urls.absolute(config.base_url, base)
        atom_file, json_file = urls.feed_files(base)
        made_for = [entries.both(k, full, updated) for k in shown]
        made = ((atom_file, atom(title=title, feed_url=urls.absolute(config.base_url, atom_file), page_url=page_url,
                                 updated=updated, entries=[text for text, _ in made_for])),
                (json_file, json_feed(title=title, feed_url=urls.absolute(config.base_url, json_file),
                                      page_url=page_url, description=config.description,
                                      items=[item for _, item in made_for])))
        out += [stage.put(path, data, key) if stage is not None else Artifact(path, data, key) for path, data in made]
    return out
