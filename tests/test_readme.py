"""The README tells the truth: its quickstart produces the SQL it shows, and its key reference is current."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from generator.pipeline import Build
from generator.readme import refresh

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(after: str, lang: str) -> str:
    match = re.search(re.escape(after) + r".*?```" + lang + r"\n(.*?)```", README, re.S)
    assert match, f"no {lang} block after {after!r}"
    return match.group(1)


def _run(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", "generate"], cwd=cwd, capture_output=True, text=True,
                          check=False, env={"PYTHONPATH": str(ROOT)})


def test_quickstart_output_is_what_the_readme_shows(tmp_path: Path) -> None:
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "01-notes.yaml").write_text(_block("`spec/01-notes.yaml`:", "yaml"))
    result = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert _block("writes `output/01-notes.sql`", "sql") in (tmp_path / "output" / "01-notes.sql").read_text()


def test_quickstart_typo_is_reported_as_shown(tmp_path: Path) -> None:
    (tmp_path / "spec").mkdir()
    spec = _block("`spec/01-notes.yaml`:", "yaml").replace("default: draft", "defualt: draft")
    (tmp_path / "spec" / "01-notes.yaml").write_text(spec)
    result = _run(tmp_path)
    shown = _block("A typo is reported", "").splitlines()
    assert result.returncode == 2
    assert result.stderr.splitlines() == shown[1:]
    assert not (tmp_path / "output").exists()


def test_generated_sections_are_current(spec_build: Build) -> None:
    """The key reference and the access matrix in the README are what the code and the spec say."""
    assert refresh(README, spec_build.catalog) == README, "README is stale: run `make docs`"
    assert "| customer | own |" in README  # the access section is really there


def test_setup_is_two_commands() -> None:
    setup = _block("## Set-up (two commands)", "sh")
    assert [line.split("#")[0].strip() for line in setup.splitlines()] == ["make generate", "make test"]
