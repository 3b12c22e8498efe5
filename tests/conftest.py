"""Shared fixtures: the repository paths, the generated build, and a live PostgreSQL the suite starts itself.

The live server is started once per test session (embedded PostgreSQL 18, or $PGSPEC_TEST_DSN). The generated
schema is applied once to a template database; each test that needs a database gets a fresh copy of it
(CREATE DATABASE ... TEMPLATE), which is much faster than applying the schema again. Timings are printed in the
test summary.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from generator import live
from generator.pipeline import Build, build

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
    server = live.start_server()
    record(f"server start (PostgreSQL {server.version})", server.start_seconds)
    return server


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests using a database fixture are marked `live` (so `pytest -m live` runs exactly those)."""
    for item in items:
        if {"pg_server", "schema_db", "empty_db", "schema_template"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)
