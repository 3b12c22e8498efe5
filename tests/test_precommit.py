"""Other repositories run pgspec as a pre-commit hook: the hooks of .pre-commit-hooks.yaml, run by pip's
`pre-commit` in a temporary git repository holding a pgspec project, pass on a fresh project and fail on a stale
output file and on a spec mistake.

The hooks are taken from .pre-commit-hooks.yaml as they are (id, entry, files, pass_filenames) and run as a
`repo: local` config with `language: system`, the `pgspec` command coming from the wheel installed in
conftest.py's session virtualenv. (With `language: python` and a remote `repo:`, pre-commit would build its own
virtualenv from this repository first: about 30 s more, and only pip's part of the work.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

HOOKS = ROOT / ".pre-commit-hooks.yaml"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


@pytest.fixture
def project(tmp_path: Path, venv: Path) -> Path:
    """A git repository with an init'd, generated pgspec project and a pre-commit config using our hooks."""
    repo = tmp_path / "repo"
    for command in (["init", str(repo)], ["generate", "--spec", str(repo / "spec"), "--out", str(repo / "output")]):
        done = subprocess.run([str(venv / "pgspec"), *command], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    hooks = yaml.safe_load(HOOKS.read_text())
    assert {h["id"] for h in hooks} == {"pgspec-check", "pgspec-lint"}
    local = [{**h, "language": "system"} for h in hooks]
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    return repo


def _pre_commit(repo: Path, venv: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}",
           "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home")}
    pre_commit = Path(sys.executable).parent / "pre-commit"  # the suite's virtualenv has it (the dev extra)
    return subprocess.run([str(pre_commit), "run", "--all-files"], cwd=repo, capture_output=True, text=True,
                          check=False, env=env)


def test_hooks_pass_on_a_fresh_project(project: Path, venv: Path) -> None:
    result = _pre_commit(project, venv)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pgspec check" in result.stdout and "Passed" in result.stdout


def test_check_hook_fails_on_stale_output_and_on_a_spec_mistake(project: Path, venv: Path) -> None:
    (project / "output" / "01-notes.sql").write_text("-- edited by hand\n")
    _git(project, "add", "-A")
    stale = _pre_commit(project, venv)
    assert stale.returncode == 1
    assert "output/01-notes.sql: out of date" in stale.stdout
    spec = project / "spec" / "01-notes.yaml"
    spec.write_text(spec.read_text().replace("default: draft", "defualt: draft"))
    _git(project, "add", "-A")
    broken = _pre_commit(project, venv)
    assert broken.returncode == 1
    assert "spec/01-notes.yaml:13:43: column 'state': unknown key 'defualt'" in broken.stdout
