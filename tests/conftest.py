import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from digest.build import build
from digest.config import load_config

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "content_cache"
GOLD = ROOT / "tests" / "data" / "gold.json"


@pytest.fixture(scope="session")
def gold() -> dict:
    return json.loads(GOLD.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def seed_config():
    return load_config(ROOT)


@pytest.fixture(scope="session")
def seed_build(tmp_path_factory, seed_config):
    """The shipped cache built once into a temporary dist/ (what `make build` does)."""
    out = tmp_path_factory.mktemp("site") / "dist"
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    result = build(replace(seed_config, out_dir=out), environ=env)
    return out, result


@pytest.fixture(scope="session")
def catalog(seed_build) -> dict:
    out, _ = seed_build
    return {a["id"]: a for a in json.loads((out / "articles.json").read_text(encoding="utf-8"))["articles"]}


def make_site(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    """A throwaway site folder with just a content_cache/ holding ``files``."""
    cache = tmp_path / "content_cache"
    cache.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (cache / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return tmp_path
