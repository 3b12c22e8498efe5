"""Shared fixtures: the repository paths, the generated build, and a live PostgreSQL the suite starts itself.

The live server is started once per test session (embedded PostgreSQL 18, or $PGSPEC_TEST_DSN). The generated
schema is applied once to a template database; each test that needs a database gets a fresh copy of it
(CREATE DATABASE ... TEMPLATE), which is much faster than applying the schema again. Timings are printed in the
test summary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from generator import drift, judge, live
from generator.pipeline import Build, build

# The build cache (generator/buildcache.py) is off for the suite, CLI subprocesses included: tests replace parts of
# the generator in-process, which its key (the generator's files) cannot see. tests/test_buildcache.py turns it on.
os.environ["PGSPEC_CACHE"] = "0"

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"
OUTPUT = ROOT / "output"
SEED_DOC = ROOT / "docs" / "seed" / "SPEC-131-support-ticket-schema.md"

settings.register_profile("ci", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_TIMINGS: dict[str, list[float]] = {}


def record(name: str, seconds: float) -> None:
    _TIMINGS.setdefault(name, []).append(seconds)


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Under pytest-xdist each worker sends its timings to the controller, which prints them all.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["pgspec_timings"] = _TIMINGS


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    for name, values in getattr(node, "workeroutput", {}).get("pgspec_timings", {}).items():
        _TIMINGS.setdefault(name, []).extend(values)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _TIMINGS:
        return
    terminalreporter.section("live database timings")
    for name, values in _TIMINGS.items():
        terminalreporter.write_line(f"{name}: n={len(values)} mean={1000 * sum(values) / len(values):.0f} ms "
                                    f"max={1000 * max(values):.0f} ms")


@pytest.fixture(scope="session")
def spec_build() -> Build:
    return build(SPEC)


@pytest.fixture(scope="session")
def pg_server() -> live.Server:
    server = live.start_server(throwaway=True)
    record(f"server start (PostgreSQL {server.version})", server.start_seconds)
    return server


@pytest.fixture(scope="session", autouse=True)
def judge_dsn(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Every `generate` and `check` the tests run (in this process or in a subprocess, which inherits the
    environment) is judged on the suite's own server, in an empty database of its own, never on a second server.

    The server is requested here, not as an argument: an argument would put pg_server among every test's fixtures,
    marking every test `live` (see pytest_collection_modifyitems). Under mutmut (each mutant a pytest session of
    its own, tests not live) no server is started: the judge uses its own embedded server, started once and kept."""
    if "MUTANT_UNDER_TEST" in os.environ:
        yield None
        return
    pg_server: live.Server = request.getfixturevalue("pg_server")
    name = f"pgspec_judge_{os.getpid()}"
    dsn = live.create_database(pg_server, name)
    previous = os.environ.get(judge.ENV_DSN)
    os.environ[judge.ENV_DSN] = dsn
    yield dsn
    if previous is None:
        os.environ.pop(judge.ENV_DSN, None)
    else:
        os.environ[judge.ENV_DSN] = previous
    live.drop_database(pg_server, name)


@pytest.fixture(scope="session")
def schema_template(pg_server: live.Server) -> str:
    """A database with output/schema.sql applied, used as the template of per-test databases."""
    name = f"pgspec_template_{os.getpid()}"
    started = time.perf_counter()
    dsn = live.create_database(pg_server, name)
    live.apply_sql(dsn, (OUTPUT / "schema.sql").read_text(encoding="utf-8"))
    record("template database (create + apply schema.sql)", time.perf_counter() - started)
    yield name
    live.drop_database(pg_server, name)


_counter = iter(range(1_000_000))


@pytest.fixture
def schema_db(pg_server: live.Server, schema_template: str) -> Iterator[str]:
    """A fresh database holding the generated schema; dropped after the test."""
    name = f"pgspec_t{os.getpid()}_{next(_counter)}"
    started = time.perf_counter()
    dsn = live.create_database(pg_server, name, template=schema_template)
    record("per-test database (from template)", time.perf_counter() - started)
    yield dsn
    live.drop_database(pg_server, name)


@pytest.fixture
def empty_db(pg_server: live.Server) -> Iterator[str]:
    name = f"pgspec_e{os.getpid()}_{next(_counter)}"
    dsn = live.create_database(pg_server, name)
    yield dsn
    live.drop_database(pg_server, name)


# -- the package as users install it (test_install.py, test_precommit.py) -------------------------------------------
def run_isolated(command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
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
    built = run_isolated([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                          "--wheel-dir", dist, src], cwd=src)
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = dist.glob("pgspec-*.whl")
    return found


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel (and its dependencies) installed; returns its bin directory. It gets no
    pip of its own (the suite's pip installs into it with --python), which saves most of the time."""
    root = tmp_path_factory.mktemp("venv")
    made = run_isolated([sys.executable, "-m", "venv", "--without-pip", root], cwd=root)
    assert made.returncode == 0, made.stderr
    installed = run_isolated([sys.executable, "-m", "pip", "--python", root / "bin" / "python", "install",
                              "--quiet", wheel], cwd=root)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return root / "bin"


@pytest.fixture(autouse=True)
def forget_normal_forms() -> None:
    """Under mutmut each mutant runs in a process forked from the one that ran the unmutated tests, so drift's
    cache of normal forms (module-level, kept across comparisons) would hand the mutant the unmutated code's
    answers: a mutant of the normaliser would survive every test. The cache is emptied before each test there;
    in a normal run it stays, as in the tool."""
    if "MUTANT_UNDER_TEST" in os.environ:
        drift._MEMO.clear()


# tryfirst: xdist's own hook (its worker plugin, registered after this file) reads the xdist_group markers to
# group the tests; run after it, the markers came too late and each worker built the wheel and venv (~12 s each).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests using a database fixture are marked `live` (so `pytest -m live` runs exactly those). Tests of the
    installed wheel run on one xdist worker (`--dist loadgroup`), so the wheel and its virtualenv are built once."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if {"pg_server", "schema_db", "empty_db", "schema_template"} & fixtures:
            item.add_marker(pytest.mark.live)
        if "venv" in fixtures:
            item.add_marker(pytest.mark.xdist_group("installed"))
    if os.environ.get("MUTANT_UNDER_TEST"):
        quickest_files_first(items)


def quickest_files_first(items: list[pytest.Item]) -> None:
    """Under mutmut: the test files in order of their tests' total time (from its stats run), each file's tests in
    their own order. mutmut hands a mutant's tests over as a set (in no order) and stops at the first failure, so a
    killed mutant costs what ran before the failing test; the tests and what `killed` means are unchanged."""
    stats = ROOT / "mutmut-stats.json"  # mutmut runs the tests in its mutants/ copy, where it keeps its stats
    durations: dict[str, float] = json.loads(stats.read_text(encoding="utf-8"))["duration_by_test"] \
        if stats.exists() else {}
    cost: dict[str, float] = {}
    for item in items:
        cost[item.location[0]] = cost.get(item.location[0], 0.0) + durations.get(item.nodeid, 1.0)
    items.sort(key=lambda item: (cost[item.location[0]], item.location[0]))  # stable: keeps each file's order
