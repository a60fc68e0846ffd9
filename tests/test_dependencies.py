"""Apps depend downwards only (huiliu ← partners ← matching ← exchange; api, frontend and demo on
top): the import-linter contract in pyproject.toml, checked on the real tree, and shown to break
when a lower app imports a higher one."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only ``cwd``'s packages
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_no_app_imports_a_higher_one():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_contract_breaks_when_partners_imports_matching(tmp_path):
    """The same contract on a stand-in tree (empty packages of the same names) with one upward import."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "matching" / "exclusions.py").write_text("")
    (tmp_path / "partners" / "selectors.py").write_text("from matching import exclusions\n")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())

    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "partners is not allowed to import matching" in result.stdout
    assert "partners.selectors -> matching.exclusions" in result.stdout
