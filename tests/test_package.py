"""A regular install works away from the repository: the wheel (built directly, and from the
sdist) carries the templates, static files, workflows and starter; installed into a fresh venv
it starts a site with `digest init` and builds the seed cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

from digest.resources import BUILTIN_STATIC, BUILTIN_TEMPLATES, STARTER, WORKFLOWS

ROOT = Path(__file__).resolve().parent.parent
# What a build reads: the sdist must carry all of it, so the copy holds no more.
SOURCES = ("pyproject.toml", "README.md", "digest", "templates", "static", ".github/workflows")


def _run(*args, cwd: Path, stdout_only: bool = False) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout if stdout_only else done.stdout + done.stderr


def _hook(hook: str, src: Path, out: Path) -> Path:
    """Call setuptools' PEP 517 hook offline (pip would fetch setuptools for an isolated build)."""
    out.mkdir(parents=True, exist_ok=True)
    code = f"from setuptools import build_meta as b; print(b.{hook}({str(out)!r}))"
    name = _run(sys.executable, "-c", code, cwd=src, stdout_only=True).strip().splitlines()[-1]
    return out / name


def _package_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return {n for n in zf.namelist() if n.startswith("digest/") and not n.endswith(".py")}


def _expected() -> set[str]:
    files = set()
    for folder, inside in ((BUILTIN_TEMPLATES, "templates"), (BUILTIN_STATIC, "static"), (WORKFLOWS, "workflows"),
                           (STARTER, "starter")):
        files |= {f"digest/{inside}/{p.relative_to(folder).as_posix()}" for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts}
    return files


def test_wheel_and_sdist_install_and_build_away_from_the_repository(tmp_path):
    src = tmp_path / "src"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)

    wheel = _hook("build_wheel", src, tmp_path / "wheel")
    sdist = _hook("build_sdist", src, tmp_path / "sdist")
    with tarfile.open(sdist) as tf:
        tf.extractall(tmp_path / "unpacked", filter="data")
    from_sdist = _hook("build_wheel", next((tmp_path / "unpacked").iterdir()), tmp_path / "wheel-from-sdist")
    expected = _expected()
    assert {"digest/templates/index.html", "digest/templates/newsletter/email.html", "digest/static/style.css",
            "digest/workflows/pages.yml", "digest/starter/digest.toml"} <= expected
    assert _package_files(wheel) == expected, "the wheel carries every built-in file"
    assert _package_files(from_sdist) == expected, "the sdist carries every built-in file"

    # A fresh venv with the wheel alone; the dependencies come from this environment through a
    # path entry (no network, and not its editable digest: a .pth there is not run from here).
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    py, digest = venv / "bin" / "python", venv / "bin" / "digest"
    site_packages = Path(_run(py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path,
                              stdout_only=True).strip())
    (site_packages / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run(py, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    where = json.loads(_run(py, "-c", "import json, digest.resources as r; print(json.dumps("
                            "[str(r.PACKAGE), str(r.BUILTIN_TEMPLATES), str(r.BUILTIN_STATIC), str(r.WORKFLOWS)]))",
                            cwd=tmp_path, stdout_only=True))
    assert all(Path(p).is_relative_to(site_packages / "digest") for p in where), where

    # Away from the repository: init, build the empty site, then build the seed cache.
    _run(digest, "init", "mysite", "--title", "Seed Desk", cwd=tmp_path)
    site = tmp_path / "mysite"
    out = _run(digest, "build", "--strict", cwd=site)
    assert "0 stories" in out and "warning" not in out
    assert "No stories yet." in (site / "dist" / "index.html").read_text(encoding="utf-8")
    (site / "content_cache" / ".gitkeep").unlink()
    shutil.rmtree(site / "content_cache")
    shutil.copytree(ROOT / "content_cache", site / "content_cache")
    out = _run(digest, "build", cwd=site)
    assert "Built dist: 40 stories from 5 sources" in out, out
    home = (site / "dist" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Seed Desk</h1>" in home and "This week’s edition" in home
    assert (site / "dist" / "static" / "style.css").read_bytes() == (ROOT / "static" / "style.css").read_bytes()
    assert any((site / "dist" / "search-index").iterdir()), "the search index was built"
