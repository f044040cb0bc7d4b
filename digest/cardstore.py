"""Article cards kept between builds, in the parse cache (``cards/``).

A card (the ``card`` and ``row`` macros of ``_macros.html``, templating.Cards) is rendered once
per process, but every build started from none: a template edit rendered all 10,000 cards again
in each render worker (0.5–0.6 s of its 5.5 s), and a new feed a few thousand. A card depends
only on its article's view, the macro's arguments and the macros' templates, so it is kept
under the view's digest (fingerprint.memo_of) in a file named for everything else (the code,
the config and the sources of ``_macros.html`` and what it reaches): editing ``base.html``
keeps every card, editing ``_macros.html`` starts a new file.

Workers add the cards they had to render to a file of their own (``new-<namespace>-<pid>``) after each
batch of pages; the build's process folds those in once the pages are done. The kept cards are
a whole (``<namespace>.pickle``) plus the cards added since (``<namespace>-<n>.add``), so a new
feed writes its few hundred cards, not the archive's (7.8 MB at 10,000 stories, ten times that
at 100,000); the whole is written again, with only the cards of this build's views, when a
quarter of it is gone or after ``MAX_ADDED`` additions. A file that cannot be read or written
only means the cards are rendered, as before.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Collection

MAX_ADDED = 16  # additions kept beside the whole before it is written again

class CardStore:
    """The kept cards of one namespace in ``folder`` (None: nothing is kept)."""

    def __init__(self, folder: Path | None, namespace: str):
        self.folder, self.namespace = folder, namespace

    @property
    def _kept_file(self) -> Path:
        return self.folder / f"{self.namespace}.pickle"

    def _added(self) -> list[tuple[int, Path]]:
        """The additions since the whole was written, numbered, oldest first."""
        found = []
        for path in self.folder.glob(f"{self.namespace}-*.add"):
            number = path.name[len(self.namespace) + 1:-len(".add")]
            if number.isdigit():
                found.append((int(number), path))
        return sorted(found)

    def load(self) -> dict[tuple, str]:
        """The kept cards: (view digest, variant) → the card's HTML with link placeholders."""
        if self.folder is None:
            return {}
        try:
            kept = pickle.loads(self._kept_file.read_bytes())
            for _, path in self._added():
                kept.update(pickle.loads(path.read_bytes()))
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
        """Fold the workers' new cards into the kept ones (``kept`` as ``load`` gave them) and
        keep those of ``digests`` (this build's views); other namespaces' files and the
        workers' files are removed."""
        if self.folder is None or not self.folder.is_dir():
            return
        new: dict[tuple, str] = {}
        for path in self.folder.glob(f"new-{self.namespace}-*"):
            try:
                with open(path, "rb") as fh:
                    while True:
                        try:
                            part = pickle.load(fh)
                        except EOFError:
                            break
                        if isinstance(part, list):
                            new.update(part)
            except Exception:  # a worker killed mid-write: what it wrote before still counts
                pass
            _unlink(path)
        added = self._added()
        keep = {self._kept_file.name, *(p.name for _, p in added)}
        for path in self.folder.iterdir():  # other namespaces' cards, and their killed builds' new ones
            if path.name not in keep and not path.name.startswith(f"new-{self.namespace}-"):
                _unlink(path)
        live = set(digests)

        def alive(cards: dict) -> dict:  # the cards of this build's views (and only cards)
            return {k: v for k, v in cards.items() if type(k) is tuple and k and k[0] in live and type(v) is str}

        new = alive(new)
        whole = alive(kept)
        gone = len(kept) - len(whole)
        if kept and gone * 4 < len(kept) and len(added) < MAX_ADDED and self._kept_file.exists():
            if new:  # the whole stays; these are added beside it
                number = added[-1][0] + 1 if added else 1
                self._write(self.folder / f"{self.namespace}-{number}.add", new)
            return
        if not new and not gone and not added and self._kept_file.exists():
            return
        whole.update(new)
        if self._write(self._kept_file, whole):
            for _, path in added:
                _unlink(path)

    def _write(self, path: Path, cards: dict) -> bool:
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".cards-")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(cards, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
            return True
        except OSError:
            _unlink(tmp)
            return False


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except (OSError, TypeError):
        pass
