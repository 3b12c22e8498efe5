"""The README tells the truth: its quickstart produces the SQL it shows, and its key reference is current."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from specs import run_in_process

from generator.pipeline import Build
from generator.readme import refresh

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(after: str, lang: str) -> str:
    match = re.search(re.escape(after) + r".*?```" + lang + r"\n(.*?)```", README, re.S)
    assert match, f"no {lang} block after {after!r}"
    return match.group(1)


def _pgspec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`pgspec ARGS` as the README shows it, run from the sources (the installed command is tested in
    test_install.py)."""
    if os.environ.get("MUTANT_UNDER_TEST"):  # under mutmut (bench/mutation.py): in this process, where it mutates
        return run_in_process(cwd, list(args))
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={"PYTHONPATH": str(ROOT)})


def _quickstart(tmp_path: Path) -> Path:
    """Run the quickstart's pgspec commands in order (pip and psql are tested in test_install.py and
    test_init.py); returns the project directory."""
    cwd = tmp_path
    for line in _block("## Quickstart", "sh").splitlines():
        words = line.split("#")[0].split()
        if words[:1] == ["cd"]:
            cwd = cwd / words[1]
        elif words[:1] == ["pgspec"]:
            result = _pgspec(*words[1:], cwd=cwd)
            assert result.returncode == 0, f"{line}: {result.stderr}"
        else:
            assert words[:1] in (["pip"], ["psql"]), line
    return cwd


def test_quickstart_works_and_shows_what_init_and_generate_write(tmp_path: Path) -> None:
    project = _quickstart(tmp_path)
    assert project != tmp_path and (project / "output" / "schema.sql").exists()
    assert _block("`spec/01-notes.yaml`:", "yaml") == (project / "spec" / "01-notes.yaml").read_text()
    assert _block("writes `output/01-notes.sql`", "sql") in (project / "output" / "01-notes.sql").read_text()


def test_quickstart_typo_is_reported_as_shown(tmp_path: Path) -> None:
    project = _quickstart(tmp_path)
    spec = project / "spec" / "01-notes.yaml"
    spec.write_text(spec.read_text().replace("default: draft", "defualt: draft"))
    before = {p.name: p.read_bytes() for p in (project / "output").iterdir()}
    shown = _block("A typo is reported", "").splitlines()
    result = _pgspec(*shown[0].split()[2:], cwd=project)
    assert result.returncode == 2
    assert result.stderr.splitlines() == shown[1:]
    assert {p.name: p.read_bytes() for p in (project / "output").iterdir()} == before


def test_generated_sections_are_current(spec_build: Build) -> None:
    """The key reference and the access matrix in the README are what the code and the spec say."""
    assert refresh(README, spec_build.catalog) == README, "README is stale: run `make docs`"
    assert "| customer | own |" in README  # the access section is really there


def test_setup_is_two_commands() -> None:
    setup = _block("## Set-up (two commands)", "sh")
    assert [line.split("#")[0].strip() for line in setup.splitlines()] == ["make generate", "make test"]


def test_command_table_lists_every_command() -> None:
    """Every subcommand of the CLI has a row in the README's command table, and the exit codes one table."""
    from generator.cli import parser

    commands = next(a for a in parser()._actions if a.dest == "command").choices
    assert commands is not None
    table = README.split("## Command line", 1)[1].split("**Exit codes**", 1)[0]
    for name in commands:
        assert f"| `{name}" in table, f"{name} is missing from the README's command table"
    codes = _block_table(README.split("**Exit codes**", 1)[1])
    assert [row[0] for row in codes] == ["0", "1", "2"]


def _block_table(text: str) -> list[list[str]]:
    """The body rows of the first Markdown table in `text`."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows
