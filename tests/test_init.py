"""`digest init`: a new site that builds at once, never over an existing one, and carries
this repository's own workflows; every workflow passes actionlint."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import main
from digest.config import load_config
from digest.scaffold import FILES, PIP_LINE

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = Path(sys.executable).parent / "actionlint"  # from the test extra (a wheel with the binary)
PIP = "digest @ git+https://example.org/digest@0123abc"


def _init(tmp_path: Path, *args: str):
    return CliRunner().invoke(main, ["init", str(tmp_path / "mysite"), "--pip", PIP, *args])


def test_init_writes_a_site_that_builds_at_once(tmp_path, monkeypatch):
    result = _init(tmp_path, "--title", 'The "Steppe" Desk')
    assert result.exit_code == 0, result.output
    site = tmp_path / "mysite"
    assert sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()) == sorted(n for _, n in FILES)
    assert list((site / "content_cache").iterdir()) == [site / "content_cache" / ".gitkeep"]
    config = load_config(site)
    assert config.title == 'The "Steppe" Desk' and config.feeds == ()
    assert "# [[feeds]]" in (site / "digest.toml").read_text() and "# [countries." in (site / "digest.toml").read_text()
    assert ".digest-cache/" in (site / ".gitignore").read_text().splitlines()

    monkeypatch.chdir(site)
    built = CliRunner().invoke(main, ["build", "--strict"])
    assert built.exit_code == 0, built.output
    assert "warning" not in built.output and "0 stories" in built.output
    home = (site / "dist" / "index.html").read_text(encoding="utf-8")
    assert "No stories yet." in home and "<code>[[feeds]]</code> in <code>digest.toml</code>" in home
    assert "as of" not in home, "an empty site has no date to show"
    assert (site / "dist" / "search" / "index.html").is_file()
    fetched = CliRunner().invoke(main, ["fetch"])
    assert fetched.exit_code == 1 and "add [[feeds]] entries" in fetched.output, "fetch says what to do next"


def test_init_refuses_to_overwrite_a_site(tmp_path):
    assert _init(tmp_path).exit_code == 0
    readme = tmp_path / "mysite" / "README.md"
    readme.write_text("mine\n")
    again = _init(tmp_path)
    assert again.exit_code == 1 and "never overwrites" in again.output and "digest.toml" in again.output
    assert readme.read_text() == "mine\n"
    for existing in ("digest.toml", "content_cache"):  # a site made by hand is a site too
        other = tmp_path / existing
        other.mkdir()
        (other / existing).mkdir()
        result = CliRunner().invoke(main, ["init", str(other)])
        assert result.exit_code == 1 and existing in result.output
        assert [p.name for p in other.iterdir()] == [existing]
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.digest]\ntitle = "x"\n')
    assert "[tool.digest]" in CliRunner().invoke(main, ["init", str(project)]).output


def test_init_writes_this_repositorys_workflows_pointed_at_its_digest(tmp_path):
    assert _init(tmp_path).exit_code == 0
    for name in ("pages.yml", "refresh.yml"):
        ours = (WORKFLOWS / name).read_text(encoding="utf-8")
        theirs = (tmp_path / "mysite" / ".github" / "workflows" / name).read_text(encoding="utf-8")
        assert ours.count(PIP_LINE) == 1
        assert theirs == ours.replace(PIP_LINE, f'DIGEST_PIP: "{PIP}"'), f"{name} drifted from the repository's"


def test_the_example_note_is_a_valid_note(tmp_path):
    assert _init(tmp_path).exit_code == 0
    note = tomllib.loads((tmp_path / "mysite" / "newsletter" / "example.toml").read_text(encoding="utf-8"))
    assert set(note) <= {"subject", "intro", "top"} and note["top"] == []


def _actionlint(root: Path) -> subprocess.CompletedProcess:
    assert ACTIONLINT.is_file(), "actionlint is missing: make venv installs it (test extra)"
    files = sorted(str(p) for p in (root / ".github" / "workflows").glob("*.yml"))
    assert files
    return subprocess.run([str(ACTIONLINT), "-no-color", *files], cwd=root, capture_output=True, text=True)


@pytest.mark.parametrize("where", ["repository", "init"])
def test_workflows_pass_actionlint(tmp_path, where):
    root = ROOT
    if where == "init":
        assert _init(tmp_path).exit_code == 0
        root = tmp_path / "mysite"
        (root / ".git").mkdir()  # actionlint finds the project by its .git
    result = _actionlint(root)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    assert _init(tmp_path).exit_code == 0
    root = tmp_path / "mysite"
    (root / ".git").mkdir()
    pages = root / ".github" / "workflows" / "pages.yml"
    pages.write_text(pages.read_text().replace("needs: build", "needs: biuld"))
    result = _actionlint(root)
    assert result.returncode == 1 and 'needs job "biuld"' in result.stdout


def _commit_step() -> str:
    """The shell script of refresh.yml's "Commit what changed" step (a `run: |` block)."""
    lines = (WORKFLOWS / "refresh.yml").read_text(encoding="utf-8").splitlines()
    start = lines.index("      - id: commit")
    at = next(i for i in range(start, len(lines)) if lines[i].strip() == "run: |")
    body = []
    for line in lines[at + 1:]:
        if line.strip() and not line.startswith(" " * 10):
            break
        body.append(line[10:])
    return "\n".join(body) + "\n"


def test_the_refresh_commits_only_when_the_cache_changed(tmp_path):
    def git(*args, cwd=tmp_path / "work"):
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout

    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(tmp_path / "origin.git")], check=True)
    subprocess.run(["git", "clone", "-q", str(tmp_path / "origin.git"), str(tmp_path / "work")], check=True,
                   capture_output=True)
    work = tmp_path / "work"
    (work / "content_cache").mkdir()
    (work / "content_cache" / "a.rss.xml").write_text("old\n")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "start")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "seed")
    git("push", "-q", "origin", "HEAD:main")
    script, output = _commit_step(), tmp_path / "output"

    def step():
        output.write_text("")
        done = subprocess.run(["bash", "-e", "-c", script], cwd=work, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(output), "HOME": str(tmp_path)})
        assert done.returncode == 0, done.stdout + done.stderr
        return output.read_text()

    assert step() == "" and git("log", "--format=%s", cwd=tmp_path / "origin.git").splitlines()[0] == "seed"
    (work / "content_cache" / "a.rss.xml").write_text("new\n")
    (work / "content_cache" / "archive" / "b.json").mkdir(parents=True)
    (work / "content_cache" / "archive" / "b.json" / "20260620T000000Z-b.json").write_text("{}")
    (work / "content_cache" / "b.json.meta.json").write_text("{}")
    out = step()
    head = git("rev-parse", "HEAD", cwd=tmp_path / "origin.git").strip()
    assert out == f"commit={head}\n", "the new commit is on origin's main and handed to the deploy job"
    subject = git("log", "-1", "--format=%s", cwd=tmp_path / "origin.git")
    assert re.fullmatch(r"Refresh feeds \d{4}-\d\d-\d\d: a\.rss\.xml b\.json\n", subject), subject
    assert step() == "", "nothing new: no commit"
