"""The site's size budget: which article pages keep their full text (``full_text_weeks``), and
how big ``dist/`` came out against ``size_limit`` (GitHub Pages refuses a site over 1 GB).

"Now" is the site's (``site.now``: SOURCE_DATE_EPOCH or the newest input), never the clock, so
the same inputs archive the same stories."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from markupsafe import Markup, escape

from digest.config import Config
from digest.model import UNKNOWN, Article


def full_text_since(now: datetime, weeks: int) -> datetime | None:
    """The start (Monday 00:00 UTC) of the oldest ISO week whose stories keep their full text:
    this week and the ``weeks - 1`` before it. None when every story keeps it (``weeks`` 0).
    Whole weeks, like the weekly editions, so a week's stories are archived together."""
    if weeks <= 0:
        return None
    now = now.astimezone(timezone.utc)
    monday = datetime(now.year, now.month, now.day, tzinfo=timezone.utc) - timedelta(days=now.weekday())
    return monday - timedelta(weeks=weeks - 1)


def keeps_full_text(article: Article, since: datetime | None) -> bool:
    """An undated story keeps its text: nothing says it is old."""
    if since is None or article.published is None or article.date_precision == UNKNOWN:
        return True
    return article.published >= since


def human(n: int) -> str:
    """Bytes in decimal units, as hosts state their limits (GitHub Pages: 1 GB)."""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def size_warning(total: int, config: Config) -> str | None:
    """One line when ``dist/`` is over ``size_limit``, naming the settings that shrink it (only
    those not already at their smallest)."""
    if not config.size_limit or total <= config.size_limit:
        return None
    levers = []
    if not config.full_text_weeks:
        levers.append("full_text_weeks (e.g. 4: older article pages keep their summary and link)")
    elif config.full_text_weeks > 4:
        levers.append(f"a smaller full_text_weeks (now {config.full_text_weeks})")
    if config.feed_content != "summary":
        levers.append('feed_content = "summary"')
    levers.append(f"a larger per_page (now {config.per_page})")
    return (f"dist/ is {human(total)}, over size_limit {human(config.size_limit)} "
            f"(GitHub Pages refuses a site over 1 GB); to shrink it set {', '.join(levers)}")


def archived(view: dict) -> dict:
    """An article view without its body: the summary stands in for it (so search still finds
    the story by its title and summary), and ``archived`` tells the page, the feeds and the
    search index that the full text is at the publisher."""
    summary = Markup(f"<p>{escape(view['excerpt'])}</p>") if view["excerpt"] else Markup("")
    return {**view, "body_html": summary, "archived": True}


def keeps_newsletter(week: str, since: datetime | None) -> bool:
    """Whether week ``YYYY-Www`` gets its newsletter files (Markdown, email HTML, text; about
    2.8 kB per story in all): every week without ``full_text_weeks``, else the weeks that keep
    their full text. An archived week keeps its page; ``digest newsletter --week`` still prints it."""
    if since is None:
        return True
    year, number = int(week[:4]), int(week[6:])
    return datetime.fromisocalendar(year, number, 1).replace(tzinfo=timezone.utc) >= since
