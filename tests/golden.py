"""Build the seed cache into tests/golden/ (run `make golden` after an intended output change).

The golden test builds again and diffs the two trees, so every change in output shows up
in review as a change under tests/golden/.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from digest.build import build
from digest.config import load_config

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
# The search index (gzip-compressed JSON, named by content hashes) is left out of the golden
# tree: it is not reviewable as a diff. Its determinism and contents are proved in
# tests/test_site_search.py and tests/test_fulltext.py instead.
EXCLUDED = ("search-index/",)


def golden_files(root: Path) -> dict[str, bytes]:
    """A built tree as path → bytes, without the excluded parts."""
    return {rel: p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not (rel := p.relative_to(root).as_posix()).startswith(EXCLUDED)}


def build_golden(out: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    build(replace(load_config(ROOT), out_dir=out), environ=env)


def main() -> int:
    if GOLDEN.exists():
        shutil.rmtree(GOLDEN)
    build_golden(GOLDEN)
    for excluded in EXCLUDED:
        shutil.rmtree(GOLDEN / excluded, ignore_errors=True)
    count = sum(1 for p in GOLDEN.rglob("*") if p.is_file())
    print(f"wrote {count} files to {GOLDEN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
