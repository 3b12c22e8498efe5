"""The package as users get it: a wheel built from the sources, installed into a fresh virtualenv outside the
repository, its `pgspec` command run from other directories. Nothing may be written into the installed package.

The wheel and the virtualenv are built once per test session (about 15 s); the virtualenv gets no pip of its own
(the suite's pip installs into it with --python), which saves most of the time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from generator.jsonschema import json_schema_text

EXAMPLE = ROOT / "examples" / "notes-app"


def _run(command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # so the package directory must stay byte-identical
    return subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, check=False, env=env)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the sources (an in-tree build would leave build/ behind in the checkout)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "generator", src / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path_factory.mktemp("dist")
    built = _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                  "--wheel-dir", dist, src], cwd=src)
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = dist.glob("pgspec-*.whl")
    return found


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel (and its dependencies) installed; returns its bin directory."""
    root = tmp_path_factory.mktemp("venv")
    made = _run([sys.executable, "-m", "venv", "--without-pip", root], cwd=root)
    assert made.returncode == 0, made.stderr
    installed = _run([sys.executable, "-m", "pip", "--python", root / "bin" / "python", "install", "--quiet",
                      wheel], cwd=root)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return root / "bin"


def _package_dir(venv: Path) -> Path:
    (found,) = venv.parent.glob("lib/python*/site-packages/generator")
    return found


def _snapshot(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_wheel_ships_templates_catalog_sql_and_schema(venv: Path) -> None:
    package = _package_dir(venv)
    assert not str(package).startswith(str(ROOT))
    assert {p.name for p in (package / "templates").glob("*.j2")} == \
        {p.name for p in (ROOT / "generator" / "templates").glob("*.j2")}
    assert {p.name for p in (package / "sql").glob("*.sql")} == \
        {p.name for p in (ROOT / "generator" / "sql").glob("*.sql")}
    assert (package / "spec.schema.json").read_text() == json_schema_text()


def test_installed_pgspec_works_from_any_directory(venv: Path, tmp_path: Path) -> None:
    """generate from a parent directory, check and schema --write from the project: same bytes as the repo's."""
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE / "spec", project / "spec")
    for spec_file in (project / "spec").glob("*.yaml"):  # point the editor at the project's own schema copy
        lines = spec_file.read_text().splitlines(keepends=True)
        spec_file.write_text("# yaml-language-server: $schema=../spec.schema.json\n" + "".join(lines[1:]))
    package = _package_dir(venv)
    before = _snapshot(package)

    generated = _run([venv / "pgspec", "generate", "--spec", "project/spec", "--out", "project/output"], cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    assert _snapshot(project / "output") == _snapshot(EXAMPLE / "output")
    assert "`make generate`" not in (project / "output" / "schema.sql").read_text()

    stale = _run([venv / "pgspec", "check"], cwd=project)
    assert stale.returncode == 1 and "spec.schema.json: missing" in stale.stderr
    written = _run([venv / "pgspec", "schema", "--write", "spec.schema.json"], cwd=project)
    assert written.returncode == 0, written.stderr
    checked = _run([venv / "pgspec", "check"], cwd=project)
    assert checked.returncode == 0, checked.stderr
    assert _snapshot(package) == before, "the installed package was written to"
