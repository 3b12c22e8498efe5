"""check.py's rules that the bad-spec corpus cannot reach, written against mutmut's survivors
(bench/mutation/check-survivors-notes.md): the corpus asserts only that a mistake is reported, so a rule that
refuses too much (a spec PostgreSQL accepts) needs a spec that check must accept. No database: check only.

The oracle is PostgreSQL's CREATE TRIGGER: an UPDATE trigger sees both the old and the new rows, so it may name
both an OLD TABLE and a NEW TABLE; an INSERT trigger only a NEW TABLE; a DELETE trigger only an OLD TABLE.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from specs import write_spec

from generator.check import check
from generator.diagnostics import SpecError
from generator.load import load_spec


def trigger_module(event: str, referencing: dict[str, str]) -> dict[str, Any]:
    return {
        "module": "Transition tables",
        "functions": {"log_fire": {"returns": "trigger", "language": "plpgsql", "body": "BEGIN RETURN NULL; END"}},
        "tables": {"entries": {
            "columns": {"id": {"type": "integer", "primary_key": True}},
            "triggers": {"audit": {"timing": "after", "events": [event], "for_each": "statement",
                                   "function": "log_fire", "referencing": referencing}}}}}


def diagnostics(tmp_path: Path, module: dict[str, Any]) -> list[str]:
    try:
        check(load_spec(write_spec(tmp_path, {"01-base.yaml": module})))
    except SpecError as refused:
        return [str(d) for d in refused.diagnostics]
    return []


@pytest.mark.parametrize(("event", "referencing"), [
    ("update", {"old_table": "before_rows", "new_table": "after_rows"}),
    ("update", {"new_table": "after_rows"}),
    ("update", {"old_table": "before_rows"}),
    ("insert", {"new_table": "after_rows"}),
    ("delete", {"old_table": "before_rows"}),
], ids=["update-both", "update-new", "update-old", "insert-new", "delete-old"])
def test_transition_tables_postgresql_accepts_are_accepted(tmp_path: Path, event: str,
                                                            referencing: dict[str, str]) -> None:
    assert diagnostics(tmp_path, trigger_module(event, referencing)) == []


@pytest.mark.parametrize(("event", "referencing", "refused"), [
    ("insert", {"old_table": "before_rows"}, "old_table is only for UPDATE or DELETE triggers"),
    ("delete", {"new_table": "after_rows"}, "new_table is only for INSERT or UPDATE triggers"),
], ids=["insert-old", "delete-new"])
def test_transition_tables_postgresql_refuses_are_refused(tmp_path: Path, event: str, referencing: dict[str, str],
                                                          refused: str) -> None:
    got = diagnostics(tmp_path, trigger_module(event, referencing))
    assert len(got) == 1 and f"trigger audit: {refused}" in got[0], got
