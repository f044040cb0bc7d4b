"""Golden output: the seed site must match tests/golden/ byte for byte (`make golden` updates it)."""

import difflib

from tests.golden import GOLDEN, golden_files as _tree


def test_seed_site_matches_golden_tree(seed_build):
    out, _ = seed_build
    expected, actual = _tree(GOLDEN), _tree(out)
    assert sorted(actual) == sorted(expected), "file list differs from tests/golden (run `make golden` if intended)"
    changed = [path for path in expected if expected[path] != actual[path]]
    if changed:
        first = changed[0]
        diff = "\n".join(difflib.unified_diff(
            expected[first].decode("utf-8", "replace").splitlines(),
            actual[first].decode("utf-8", "replace").splitlines(),
            f"golden/{first}", f"built/{first}", lineterm="", n=2))
        raise AssertionError(f"{len(changed)} file(s) differ, first {first}:\n{diff[:4000]}")
