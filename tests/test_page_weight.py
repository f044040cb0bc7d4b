"""Bytes every page repeats (issue 12): the frame, card summaries and "more from" stay light
without losing what a reader or a link preview needs."""

import re

from digest.templating import CARD_EXCERPT, clip


def test_clip_keeps_short_text_whole_sentences_or_whole_words():
    assert clip("A short summary.") == "A short summary."
    first = "The first sentence is long enough to fill more than half of the card's summary, and it ends here."
    assert clip(first + " The second one does not fit in what is left of the limit at all, not even close.") == first
    words = clip("word " * 60)
    assert words.endswith("word…") and len(words) <= CARD_EXCERPT
    assert clip("x" * 300) == "x" * (CARD_EXCERPT - 1) + "…"
    assert clip("Short. " + "y " * 200).endswith("y…")  # one short sentence is not enough of a summary


def test_cards_carry_a_clipped_summary_and_the_page_the_whole_one(seed_build, catalog):
    out, _ = seed_build
    home = (out / "index.html").read_text(encoding="utf-8")
    excerpts = re.findall(r'<p class="excerpt"[^>]*>([^<]*)</p>', home)
    assert excerpts and all(len(e) <= CARD_EXCERPT for e in excerpts)
    page = (out / "articles" / "almira-saifullina-the-steppe-is-an-archive-of-violence-memory-and-silence" / "index.html")
    description = re.search(r'<meta name="description" property="og:description" content="([^"]+)">',
                            page.read_text(encoding="utf-8")).group(1)
    assert len(description) > CARD_EXCERPT
    assert any(description.startswith(e.rstrip("…")) and e != description for e in excerpts)


def test_the_frame_every_page_repeats_stays_small(seed_build):
    """Skip link, masthead and footer: on every one of 10,000 article pages and every listing."""
    out, _ = seed_build
    for page in ("index.html", "articles/another-time/index.html", "countries/kazakhstan/index.html", "404.html"):
        html = (out / page).read_text(encoding="utf-8")
        body = html.split("<body>", 1)[1]
        frame = body.split("<main", 1)[0] + body.split("</main>", 1)[1]
        assert len(frame.encode()) < 1100, (page, len(frame.encode()))
        # what it must still have: the skip link to the main landmark, the site's sections, the feeds
        assert '<a class="skip" href="#main"' in frame and '<nav aria-label="Sections">' in frame
        assert ">Atom feed</a>" in frame and ">Catalog (JSON)</a>" in frame and 'id="main"' in html
        assert "brand-mark" not in html and '<a class="chip' not in html and "card-title" not in html


def test_more_from_is_one_list_of_up_to_five_other_stories(seed_build, catalog):
    out, _ = seed_build
    by_url = {a["url"]: a for a in catalog.values()}
    seen = 0
    for article in catalog.values():
        html = (out / article["url"] / "index.html").read_text(encoding="utf-8")
        sections = re.findall(r'<section class="more" aria-label="More from ([^"]+)"[^>]*>(.*?)</section>', html, re.S)
        links = [href for _, body in sections for href in re.findall(r'<li><a href="\.\./([^"]+)index\.html"', body)]
        assert len(links) <= 5 and len(set(links)) == len(links), article["url"]
        assert "articles/" + article["url"].split("/")[1] + "/" not in ["articles/" + h for h in links]
        for label, body in sections:
            for href in re.findall(r'<li><a href="\.\./([^"]+)index\.html"', body):
                other = by_url["articles/" + href]
                assert label in other["countries"] or label in other["tags"], (article["url"], label, href)
        seen += bool(links)
        if len(article["countries"]) == 1 and sum(article["countries"][0] in a["countries"] for a in catalog.values()) > 6:
            assert len(sections) == 1 and len(links) == 5, article["url"]  # a big country fills it alone
    assert seen > 30
