import functools
import http.server
import io
import json
import os
import threading
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

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


SUB_PATH = "/repo/"  # the site is served like a GitHub project page: https://user.github.io/repo/


class _PagesHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site under SUB_PATH the way GitHub Pages does: folders give their
    index.html, anything missing gives 404.html with status 404, nothing outside SUB_PATH."""

    def translate_path(self, path):
        if not urlsplit(path).path.startswith(SUB_PATH):
            return ""
        return super().translate_path(path[len(SUB_PATH) - 1:])

    def send_head(self):
        local = self.translate_path(self.path)
        if not local or not (os.path.isfile(local) or os.path.isfile(os.path.join(local, "index.html"))):
            body = (Path(self.directory) / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        return super().send_head()

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="session")
def served_site(seed_build):
    """The seed site on http://127.0.0.1:<port>/repo/ (a real HTTP server in a thread)."""
    out, _ = seed_build
    handler = functools.partial(_PagesHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{SUB_PATH}"
    server.shutdown()
    server.server_close()
