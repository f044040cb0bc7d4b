"""GitHub Pages publishing: the workflow builds with `make build` and deploys dist/ with the
official actions, and BASE_URL reaches the build."""

import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def test_workflow_builds_with_digest_and_deploys_dist_with_the_official_actions():
    text = WORKFLOW.read_text()
    uses = re.findall(r"uses: (actions/[\w-]+)@v\d+", text)
    for action in ("actions/checkout", "actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages"):
        assert action in uses
    assert uses.index("actions/configure-pages") < uses.index("actions/upload-pages-artifact") < uses.index("actions/deploy-pages")
    assert re.search(r"run: digest build --base-url \"\$\{\{ steps\.pages\.outputs\.base_url \}\}/\"", text)
    # The parse cache and dist/ survive between runs; an older cache still restores.
    assert re.search(r"actions/cache@v\d+\n\s+with:\n\s+path: \|\n\s+\.digest-cache\n\s+dist\n", text)
    assert re.search(r"restore-keys: \|\n\s+digest-\$\{\{ steps\.digest\.outputs\.code \}\}-\n\s+digest-\n", text)
    assert uses.index("actions/cache") < uses.index("actions/upload-pages-artifact")
    assert re.search(r"upload-pages-artifact@v\d+\n\s+with:\n\s+path: dist\n", text)
    for permission in ("pages: write", "id-token: write"):
        assert permission in text
    assert "\t" not in text  # YAML forbids tabs for indentation


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_build_passes_base_url_to_the_cli():
    dry = subprocess.run(["make", "-n", "build", "BASE_URL=https://me.github.io/repo/"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert 'digest build --base-url "https://me.github.io/repo/"' in dry
    plain = subprocess.run(["make", "-n", "build"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "--base-url" not in plain
