"""Checks of the editor's newsletter notes (``newsletter/<yyyy>-w<ww>.toml``) against the site.

A "top story" pick that is not in its week (a typo, a story that moved to another week, a
note written ahead) must not take the site down: the edition is built without it and the
build reports one line naming the file and the pick, so ``--strict`` can still refuse.
"""

from __future__ import annotations

from digest.config import Config
from digest.model import Site
from digest.newsletter import EDITOR_DIR, EditionFileError, _find, load_picks, parse_week

HOW = "use an article id, its publisher link or its slug"


def stale_picks(site: Site, config: Config) -> tuple[str, ...]:
    """One problem line per pick that names no story of its week, in file order."""
    folder = config.path(EDITOR_DIR)
    if not folder.is_dir():
        return ()
    weeks = {w.name: w for w in site.weeks}
    problems = []
    for path in sorted(folder.glob("*.toml")):
        try:
            name = parse_week(path.stem)
        except ValueError:
            continue  # not a week's note (e.g. example.toml); the build reads only week files
        week = weeks.get(name)
        if week is None:
            try:
                picks = load_picks(config, name)
            except EditionFileError as exc:  # no edition will read it, so it cannot stop the build
                problems.append(f"{exc}; no edition uses it")
                continue
            problems += [f"{picks.origin}: top story {p!r} is not in week {name}, which has no stories; "
                         "no edition uses it" for p in picks.top]
            continue
        picks = load_picks(config, name)  # a broken note of a built week stays an error (the edition needs it)
        problems += [f"{picks.origin}: top story {p!r} is not in week {name}; left out of the edition ({HOW})"
                     for p in picks.top if _find(site, week.keys, p) is None]
    return tuple(problems)
