"""Article cards kept between builds, in the parse cache (``cards/``).

A card (the ``card`` and ``row`` macros of ``_macros.html``, templating.Cards) is rendered once
per process, but every build started from none: a template edit rendered all 10,000 cards again
in each render worker (0.5–0.6 s of its 5.5 s), and a new feed a few thousand. A card depends
only on its article's view, the macro's arguments and the macros' templates, so it is kept
under the view's digest (fingerprint.memo_of) in a file named for everything else (the code,
the config and the sources of ``_macros.html`` and what it reaches): editing ``base.html``
keeps every card, editing ``_macros.html`` starts a new file.

Workers add the cards they had to render to a file of their own (``new-<namespace>-<pid>``) after each
batch of pages; the build's process folds those into the kept file once the pages are done,
keeping only the cards of this build's views. A file that cannot be read or written only
means the cards are rendered, as before.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Collection


class CardStore:
    """The kept cards of one namespace in ``folder`` (None: nothing is kept)."""

    def __init__(self, folder: Path | None, namespace: str):
        self.folder, self.namespace = folder, namespace

    @property
    def _kept_file(self) -> Path:
        return self.folder / f"{self.namespace}.pickle"

    def load(self) -> dict[tuple, str]:
        """The kept cards: (view digest, variant) → the card's HTML with link placeholders."""
        if self.folder is None:
            return {}
        try:
            kept = pickle.loads(self._kept_file.read_bytes())
        except Exception:  # missing, damaged or from another version: rendered again
            return {}
        return kept if isinstance(kept, dict) else {}

    def add(self, cards: list[tuple[tuple, str]]) -> None:
        """Append cards this process rendered (called in the render workers)."""
        if self.folder is None or not cards:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.folder / f"new-{self.namespace}-{os.getpid()}", "ab") as fh:
                fh.write(pickle.dumps(cards, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass

    def fold(self, kept: dict[tuple, str], digests: Collection[bytes]) -> None:
        """Fold the workers' new cards into ``kept`` and store the cards of ``digests`` (this
        build's views); other namespaces' files and the workers' files are removed."""
        if self.folder is None or not self.folder.is_dir():
            return
        added = 0
        cards = dict(kept)
        for path in self.folder.glob(f"new-{self.namespace}-*"):
            try:
                with open(path, "rb") as fh:
                    while True:
                        try:
                            part = pickle.load(fh)
                        except EOFError:
                            break
                        if isinstance(part, list):
                            cards.update(part)
                            added += len(part)
            except Exception:  # a worker killed mid-write: what it wrote before still counts
                pass
            _unlink(path)
        live = set(digests)
        wanted = {k: v for k, v in cards.items() if type(k) is tuple and k and k[0] in live and type(v) is str}
        for path in self.folder.iterdir():  # other namespaces' cards, and their killed builds' new ones
            if path.name != self._kept_file.name and not path.name.startswith(f"new-{self.namespace}-"):
                _unlink(path)
        if not added and len(wanted) == len(kept):
            return  # nothing new, nothing gone
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".cards-")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(wanted, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._kept_file)
        except OSError:
            _unlink(tmp)


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except (OSError, TypeError):
        pass
