"""The body store: every article's cleaned body, once, in one SQLite file of the parse cache
(``.digest-cache/bodies.sqlite``), so the model holds light records (id, title, dates, groups,
summary) and a body is read only by whatever renders it: its page, the full-text feed entries,
its search document. At 10,000 stories that keeps about 100 MB of bodies (and 150 MB of raw
feed bodies, see parsecache.py) out of the build's memory.

A body's key is a hash of the body itself, so a key always names the same bytes: the store can
never hand a page someone else's or an old version's body, and a key that is missing only means
"clean that story again". Each process opens its own connection (render workers are forked).

A store that cannot be used (corrupt, from another version, locked by another build, on a
read-only disk) is never trusted: it is set aside and rebuilt, or the build keeps its bodies in
memory, and ``problem`` says so in one line for the build's warnings.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from digest.model import SourceReport

FILE = "bodies.sqlite"
SCHEMA = 2  # PRAGMA user_version of a store this code reads (1: a WITHOUT ROWID table)
BUSY_MS = 2000  # how long to wait for another build's write before giving up on the file


def body_key(html: str) -> str:
    """The key of a body: a hash of its bytes."""
    return hashlib.blake2b(html.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _create(conn: sqlite3.Connection) -> None:
    # A rowid table, not WITHOUT ROWID: a body (10 kB on average) then sits in the table's own
    # pages, where a WITHOUT ROWID table, made for small rows, spills it over a chain of
    # overflow pages; a render worker's reads took three times as long (135 against 45 µs a
    # body, 10,000-story benchmark) and the file was a fifth larger.
    conn.execute("CREATE TABLE bodies (key TEXT PRIMARY KEY, html TEXT NOT NULL)")
    conn.execute(f"PRAGMA user_version={SCHEMA}")


class Corrupt(RuntimeError):
    """The store could not give a body back as written; the build discards it and starts over."""


def discard(folder: Path) -> None:
    """Delete the store in ``folder`` (it is only a cache: its stories are cleaned again)."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            os.unlink(f"{Path(folder) / FILE}{suffix}")
        except OSError:
            pass


class Bodies:
    """Bodies by key, in ``folder/bodies.sqlite``; with ``folder=None``, in memory (a build
    without a parse cache, and tests)."""

    def __init__(self, folder: Path | None):
        self.path = Path(folder) / FILE if folder is not None else None
        self.problem: str | None = None  # why the file on disk was not used as it was
        # Bodies this build could not write to the file (no file, or it refused): read first.
        self._memory: dict[str, str] = {}
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._writable = self._readable = self.path is not None
        if self.path is not None:
            self._open_checked()

    def __reduce__(self):  # a worker or a page key gets the place, never the connection
        return (_reopen, (self.path if self._readable else None, self._memory))

    @property
    def all_in_file(self) -> bool:
        """Every body is in the file, which another process can open and read."""
        return self._readable and not self._memory

    @property
    def in_memory(self) -> bool:
        """No file to read bodies from later: views should take them now."""
        return not self._readable

    # -- opening -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # The default rollback journal, not WAL: bodies are written before rendering starts, so
        # readers never wait, and WAL's memory-mapped index would let a damaged file crash the
        # process (SIGBUS) instead of raising an error the build can recover from.
        return sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False)

    def _open_checked(self) -> None:
        """Open the file, or set a bad one aside and start an empty one, or fall back to memory."""
        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connect()
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if version == 0 and not tables:
                _create(conn)
            elif version != SCHEMA or "bodies" not in tables:
                conn.close()
                self._reset(f"made by another version of digest (schema {version})")
                return
            # No integrity check here: it reads the whole file (1.2 s at 10,000 stories) on every
            # build. A damaged page raises when it is read, and every body is checked against
            # its key when read (get), which raises Corrupt: the build then starts over.
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                self._to_memory(f"locked by another build ({exc}); bodies kept in memory for this build",
                                readable=False)
                return
            self._reset(f"unreadable ({exc})")
            return
        except sqlite3.DatabaseError as exc:
            self._reset(f"corrupt ({exc})")
            return
        except OSError as exc:
            self._to_memory(f"cannot be written ({exc}); bodies kept in memory for this build", readable=False)
            return
        self._conn, self._pid = conn, os.getpid()

    def _reset(self, why: str) -> None:
        """Set the unusable file aside (deleted: it is only a cache) and start an empty store."""
        assert self.path is not None
        self.problem = f"{self.path}: the body store was {why}; rebuilt it (stories are cleaned again)"
        discard(self.path.parent)
        try:
            conn = self._connect()
            _create(conn)
        except (sqlite3.Error, OSError) as exc:
            self._to_memory(f"{why}, and could not be rebuilt ({exc}); bodies kept in memory for this build",
                            readable=False)
            return
        self._conn, self._pid = conn, os.getpid()

    def _to_memory(self, why: str, readable: bool = True) -> None:
        """Keep this build's bodies in memory; the file, if ``readable``, is still read."""
        self.problem = self.problem or f"{self.path}: the body store was {why}"
        self._writable = False
        self._readable = self._readable and readable

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():  # a forked worker opens its own
            self._conn, self._pid = self._connect(), os.getpid()
        return self._conn

    # -- reading and writing ------------------------------------------------------------

    def put_many(self, rows: Iterable[tuple[str, str]]) -> None:
        """Store ``(body_key(html), html)`` pairs (keys as the articles already hold them: a
        body is hashed once), in one transaction. A wrong key is caught when read (``get``)."""
        rows = dict(rows)
        if not self._writable:
            self._memory.update(rows)
            return
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT OR IGNORE INTO bodies (key, html) VALUES (?, ?)", rows.items())
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._to_memory(f"not writable ({exc}); bodies kept in memory for this build")
            self._memory.update(rows)

    def _file(self) -> sqlite3.Connection | None:
        return self.conn if self._readable else None

    def get(self, key: str) -> str:
        """The body under ``key``. Raises ``Corrupt`` when the file cannot give it back as it was
        written (unreadable, missing, or bytes that no longer hash to the key): a page is never
        made with a damaged or missing body."""
        if key in self._memory:
            return self._memory[key]
        conn = self._file()
        if conn is None:
            raise Corrupt(f"{self.path}: the body store lost a body ({key})")
        try:
            row = conn.execute("SELECT html FROM bodies WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise Corrupt(f"{self.path}: the body store could not be read ({exc})") from None
        if row is None or body_key(row[0]) != key:
            raise Corrupt(f"{self.path}: the body store {'lost' if row is None else 'damaged'} a body ({key})")
        return row[0]

    def keys(self) -> set[str]:
        """Every key held (about 40 bytes each: 0.4 MB at 10,000 stories)."""
        conn = self._file()
        try:
            return set(self._memory) | ({r[0] for r in conn.execute("SELECT key FROM bodies")} if conn else set())
        except sqlite3.DatabaseError as exc:
            raise Corrupt(f"{self.path}: the body store could not be read ({exc})") from None

    def keep_only(self, keys: set[str]) -> int:
        """Delete the bodies no article of this build has (stories gone, bodies edited)."""
        gone = self.keys() - keys
        for k in gone & set(self._memory):
            del self._memory[k]
        if not gone or not self._writable:
            return len(gone)
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("DELETE FROM bodies WHERE key = ?", ((k,) for k in gone))
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return 0
        return len(gone)

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None


def _reopen(path: Path | None, memory: dict | None) -> Bodies:
    """A store unpickled in another process: the same file, opened there on first use, unchecked
    (the build that made the model checked it)."""
    store = Bodies.__new__(Bodies)
    store.path, store.problem, store._memory, store._conn, store._pid = path, None, memory, None, 0
    store._writable, store._readable = False, path is not None  # workers read; the build's process writes
    return store


def without_bodies(report: SourceReport) -> SourceReport:
    """The report without its items' raw bodies (150 MB at 10,000 stories), each item keeping
    its body's key: what the model and the sources page need. ``to_articles`` gets the bodies
    back from the file when it has stories to clean."""
    if not any(i.content_html for i in report.items):
        return report
    return replace(report, items=tuple(
        replace(i, content_html="", content_digest=body_key(i.content_html)) if i.content_html else i
        for i in report.items))
