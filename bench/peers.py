"""Pelican and Hugo sites that build the benchmark stories with our page set: article pages,
paginated country/tag/author listings of 10, overview pages, and a 20-item feed per group."""

from __future__ import annotations

from pathlib import Path

PELICAN_CONF = '''\
AUTHOR = "Bench"
SITENAME = "Central Asia Reading Digest"
SITEURL = ""
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%d %B %Y"
DEFAULT_PAGINATION = 10
PAGINATED_TEMPLATES = {"index": None, "tag": None, "category": None, "author": None}
DIRECT_TEMPLATES = ["index", "tags", "categories", "authors", "archives"]
ARTICLE_URL = "articles/{slug}/"
ARTICLE_SAVE_AS = "articles/{slug}/index.html"
FEED_MAX_ITEMS = 20
FEED_ALL_ATOM = "feed.xml"
CATEGORY_FEED_ATOM = "countries/{slug}/feed.xml"
TAG_FEED_ATOM = "tags/{slug}/feed.xml"
AUTHOR_FEED_ATOM = "authors/{slug}/feed.xml"
CATEGORY_URL = "countries/{slug}/"
CATEGORY_SAVE_AS = "countries/{slug}/index.html"
TAG_URL = "tags/{slug}/"
TAG_SAVE_AS = "tags/{slug}/index.html"
AUTHOR_URL = "authors/{slug}/"
AUTHOR_SAVE_AS = "authors/{slug}/index.html"
TRANSLATION_FEED_ATOM = None
LOAD_CONTENT_CACHE = False
'''

HUGO_CONF = '''\
baseURL = "https://example.org/"
title = "Central Asia Reading Digest"
locale = "en"
disableKinds = ["sitemap", "robotsTXT", "404"]

[security]
allowContent = ["^text/html$", "^text/markdown$"]

[taxonomies]
country = "countries"
tag = "tags"
author = "authors"

[pagination]
pagerSize = 10

[services.rss]
limit = 20

[permalinks.page]
posts = "/articles/:slug/"

[outputs]
home = ["html", "rss"]
section = ["html"]
taxonomy = ["html"]
term = ["html", "rss"]
page = ["html"]
'''

HUGO_LAYOUTS = {
    "baseof.html": '''<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · {{ site.Title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><header><a href="{{ "/" | relURL }}">{{ site.Title }}</a>
<nav><a href="{{ "countries/" | relURL }}">Countries</a> <a href="{{ "tags/" | relURL }}">Tags</a>
<a href="{{ "authors/" | relURL }}">Authors</a></nav></header>
<main>{{ block "main" . }}{{ end }}</main></body></html>
''',
    "_partials/card.html": '''<article><h3><a href="{{ .RelPermalink }}">{{ .Title }}</a></h3>
<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "2 January 2006" }}</time>
{{ with .GetTerms "authors" }} · {{ range . }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}{{ end }}</p>
<p>{{ .Summary }}</p></article>
''',
    "home.html": '''{{ define "main" }}<h1>{{ site.Title }}</h1>
{{ range first 12 (where site.RegularPages "Section" "posts") }}{{ partial "card.html" . }}{{ end }}
<h2>Coverage</h2><ul>{{ range site.Taxonomies.countries.ByCount }}
<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> ({{ .Count }})</li>{{ end }}</ul>{{ end }}
''',
    "page.html": '''{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p><time>{{ .Date.Format "2 January 2006" }}</time></p>
{{ .Content }}
<p>{{ range .GetTerms "countries" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}
{{ range .GetTerms "tags" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</p></article>{{ end }}
''',
    "section.html": '''{{ define "main" }}<h1>{{ .Title }}</h1>
{{ $p := .Paginate .Pages }}{{ range $p.Pages }}{{ partial "card.html" . }}{{ end }}
{{ with $p.Prev }}<a href="{{ .URL }}">Newer</a>{{ end }} {{ with $p.Next }}<a href="{{ .URL }}">Older</a>{{ end }}{{ end }}
''',
    "taxonomy.html": '''{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Data.Terms.Alphabetical }}
<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> ({{ .Count }})</li>{{ end }}</ul>{{ end }}
''',
    "term.html": '''{{ define "main" }}<h1>{{ .Title }}</h1>
{{ $p := .Paginate .Pages }}{{ range $p.Pages }}{{ partial "card.html" . }}{{ end }}
<p>Page {{ $p.PageNumber }} of {{ $p.TotalPages }}
{{ with $p.Prev }}<a href="{{ .URL }}">Newer</a>{{ end }} {{ with $p.Next }}<a href="{{ .URL }}">Older</a>{{ end }}</p>
<a href="{{ with .OutputFormats.Get "rss" }}{{ .RelPermalink }}{{ end }}">Feed</a>{{ end }}
''',
}


def write_pelican_site(site: Path) -> None:
    site.mkdir(parents=True, exist_ok=True)
    (site / "pelicanconf.py").write_text(PELICAN_CONF, encoding="utf-8")


def write_hugo_site(site: Path) -> None:
    site.mkdir(parents=True, exist_ok=True)
    (site / "hugo.toml").write_text(HUGO_CONF, encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        path = site / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
