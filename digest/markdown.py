"""Markdown written by a template, as markdownify would write it from the same page in HTML.

The newsletter's Markdown used to be an HTML template converted by markdownify: BeautifulSoup
parsing the page, then markdownify walking the tree, 27 ms an edition and 7 % of a cold build's
CPU at 10,000 stories. ``newsletter/edition.md`` now writes the Markdown itself, and these
filters do to each piece of text what markdownify does to the text node it would have been:
whitespace collapsed, special characters escaped (by markdownify's own escaper, so its rules
are not written twice), and the spaces around block elements, links and emphasis dropped the
way it drops them. ``tests/test_markdown.py`` checks the result against markdownify, byte for
byte, on random editions.

The pieces are those of a block (a paragraph or heading) and the inline pieces in it; a block's
text and link labels are single lines in an edition (titles, names and dates are cleaned to
one line), which is what keeps the joins of inline pieces as simple as plain concatenation.
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace


@lru_cache(maxsize=1)
def _rules() -> SimpleNamespace:
    """markdownify's escaper and whitespace patterns, imported on first use: markdownify brings
    BeautifulSoup, a sixth of digest's import time, and most builds write no edition."""
    import markdownify

    converter = markdownify.MarkdownConverter(heading_style="ATX", bullets="-", escape_misc=True)
    return SimpleNamespace(escape=lambda value: converter.escape(value, set()),
                           newlines=markdownify.re_newline_whitespace, spaces=markdownify.re_whitespace,
                           all_whitespace=markdownify.re_all_whitespace)


def text(value: object, first: bool = False, last: bool = False) -> str:
    """A text node: whitespace collapsed, Markdown's special characters escaped. ``first``: it
    opens its block (leading whitespace dropped); ``last``: it closes it (trailing dropped)."""
    rules = _rules()
    out = str(value)
    if "\n" in out or "\r" in out:
        out = rules.newlines.sub("\n", out)
    if "\t" in out or "  " in out:  # else the pattern would only put each space back
        out = rules.spaces.sub(" ", out)
    out = rules.escape(out) if out else ""
    if first:
        out = out.lstrip(" \t\r\n")
    if last:
        out = out.rstrip()
    return out


def _chomp(inner: str) -> tuple[str, str, str]:
    """A space that opens or closes an inline element's text moves outside its markup."""
    return (" " if inner[:1] == " " else ""), (" " if inner[-1:] == " " else ""), inner.strip()


def link(label: object, href: str) -> str:
    """``<a href>label</a>``: ``[label](href)``, ``<href>`` when the label is the address."""
    prefix, suffix, inner = _chomp(text(label))
    if not inner:
        return ""
    if not href:
        return inner
    if inner.replace(r"\_", "_") == href:
        return f"<{href}>"
    return f"{prefix}[{inner}]({href}){suffix}"


def emphasis(label: object) -> str:
    """``<em>label</em>``."""
    prefix, suffix, inner = _chomp(text(label))
    return f"{prefix}*{inner}*{suffix}" if inner else ""


def paragraph(markdown: str) -> str:
    """A paragraph's converted content, trimmed ('' when there is none: no paragraph)."""
    return markdown.strip(" \t\r\n")


def heading(markdown: str, level: int) -> str:
    """An ATX heading of converted content (written even when empty, as markdownify does)."""
    return "#" * max(1, min(6, level)) + " " + _rules().all_whitespace.sub(" ", markdown.strip())


def image(src: str, alt: str) -> str:
    """``<img src alt>``: markdownify writes the alt text as it is, unescaped."""
    return f"![{alt or ''}]({src or ''})"


FILTERS = {"md": text, "md_link": link, "md_em": emphasis, "md_paragraph": paragraph, "md_heading": heading,
           "md_image": image}
