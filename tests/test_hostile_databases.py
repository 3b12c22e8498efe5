"""Hostile databases (issue 10 point 4): `import`, `verify --db`, `lint --db` and `plan --db` on databases that a
spec author did not write: names that need quoting everywhere, many objects, a role that cannot read the catalog.
Each gives correct output or a clear error with exit 2, never a traceback.

The odd-names database round-trips like the import cases (test_import's round trip: import, generate, apply to a
fresh database, `verify` finds no drift, pg_dump of both equal), so `verify` is proven on every quoted name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_import import CASES, _drop_databases, fresh_database, round_trip, run  # noqa: F401 - fixture reused

from generator import live

ODD = (CASES / "odd_names.sql").read_text(encoding="utf-8")

pytestmark = pytest.mark.live


def test_odd_names_round_trip(pg_server: live.Server, tmp_path: Path, capsys: Any) -> None:
    spec = round_trip(pg_server, ODD, tmp_path, capsys, "odd names")
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(spec.iterdir()))
    for name in ('Odd Schema', 'we"ird table', "Ünïcode", "Readers' \"view\" ☺", "touch$", "Seq $ ünï"):
        assert name in text, f"{name!r} missing from the imported spec"


def test_odd_names_lint_and_plan(pg_server: live.Server, tmp_path: Path, capsys: Any) -> None:
    source = fresh_database(pg_server, ODD)
    code, out, err = run(["import", "--db", source, "--out", str(tmp_path / "spec")], capsys)
    assert code == 0, err
    code, out, err = run(["lint", "--db", source], capsys)
    # One finding (the foreign key without an index), naming the table as it is and its fix in SQL's spelling.
    assert code == 0 and "Traceback" not in err, err
    findings = [line for line in out.splitlines() if "unindexed_foreign_keys" in line]
    assert len(findings) == 1 and findings[0].startswith('Odd Schema.Grand "Child": '), out
    assert findings[0].endswith('(add an index on ("child id"))'), out
    # The database is what the spec says: the plan is empty.
    code, out, err = run(["plan", "--spec", str(tmp_path / "spec"), "--db", source], capsys)
    assert code == 0, err
    assert not [line for line in out.splitlines() if line.strip() and not line.startswith("--")], out
    # From an empty database, the plan creates it all; applied, the database verifies clean.
    empty = fresh_database(pg_server)
    code, out, err = run(["apply", "--spec", str(tmp_path / "spec"), "--db", empty], capsys)
    assert code == 0, err
    code, out, err = run(["verify", "--spec", str(tmp_path / "spec"), "--db", empty], capsys)
    assert (code, out.strip()) == (0, "no drift"), out + err
