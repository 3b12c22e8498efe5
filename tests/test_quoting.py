"""Property: any text a user puts in a spec (seed values, comments, string defaults, policy names) comes out of
the generated SQL unchanged, as PostgreSQL's parser (pglast) and a live server read it back.

The oracle is the input text itself: whatever quoting the generator applies, parsing must undo it exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pglast import ast, parse_sql

from generator import live
from generator.derive import SEED_REGISTRY_SCHEMA
from generator.pipeline import build

# PostgreSQL text cannot hold NUL; surrogates are not valid UTF-8. Everything else is fair game.
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
NAME = TEXT.filter(lambda s: 0 < len(s.encode()) <= 63)
TRICKY = ["'", "''", "\\", "\\'", "$$", "$function$", "\n", "-- not a comment", "/* x */", "é€😀", "\"", " "]


def _spec(tmp: Path, value: str, comment: str, default: str, policy: str, items: list[str] | None = None) -> Path:
    module = {
        "module": "quoting",
        "tables": {"t": {
            "comment": comment,
            "columns": {"id": {"type": "integer", "primary_key": True},
                        "s": {"type": "text", "default": default, "comment": comment},
                        "tags": {"type": "text[]"},
                        "doc": {"type": "jsonb"}},
            "rls": "enabled",
            "policies": {policy: {"command": "select", "roles": ["public"], "using": "true"}},
            "seed": [{"id": 1, "s": value, "tags": items or [], "doc": {"v": value, "items": items or []}}],
        }},
    }
    text = yaml.safe_dump(module, allow_unicode=True, sort_keys=False)
    assume(yaml.safe_load(text) == module)  # only texts YAML itself can carry
    spec = tmp / "spec"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "01-quoting.yaml").write_text(text, encoding="utf-8")
    return spec


def _parsed_values(sql: str) -> dict[str, Any]:
    found: dict[str, Any] = {"comments": []}
    for raw in parse_sql(sql):
        stmt = raw.stmt
        if isinstance(stmt, ast.CommentStmt):
            found["comments"].append(stmt.comment)
        elif isinstance(stmt, ast.InsertStmt) and stmt.relation.schemaname != SEED_REGISTRY_SCHEMA:
            found["seed"] = stmt.selectStmt.valuesLists[0][1].val.sval
        elif isinstance(stmt, ast.CreatePolicyStmt):
            found["policy"] = stmt.policy_name
        elif isinstance(stmt, ast.CreateStmt) and stmt.relation.schemaname != SEED_REGISTRY_SCHEMA:
            column = stmt.tableElts[1]
            found["default"] = next(c.raw_expr.val.sval for c in column.constraints if c.raw_expr is not None)
    return found


@given(value=TEXT, comment=TEXT.filter(bool), default=TEXT, policy=NAME)
@example(value="'; DROP TABLE t; --", comment="$$", default="\\", policy='a "quoted" name')
@example(value="\n\t", comment="it's", default="$function$", policy="select")
@example(value="", comment="0", default="", policy="_\n")  # a name ending in a newline (pglast left it bare)
def test_text_round_trips_through_pglast(tmp_path_factory: Any, value: str, comment: str, default: str,
                                         policy: str) -> None:
    spec = _spec(tmp_path_factory.mktemp("q"), value, comment, default, policy)
    result = build(spec)
    assert not result.mismatches
    sql = next(f.text for f in result.files if f.name == "schema.sql")
    found = _parsed_values(sql)
    assert found["seed"] == value
    assert found["default"] == default
    assert found["policy"] == policy
    assert found["comments"] == [comment, comment]


# One database serves every example: each runs in a transaction that is rolled back, so examples cannot interfere.
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(TEXT, st.sampled_from(TRICKY)), comment=st.one_of(TEXT.filter(bool), st.sampled_from(TRICKY)),
       items=st.lists(st.one_of(TEXT, st.sampled_from(TRICKY + ["NULL", "{}", ","])), max_size=4))
def test_text_round_trips_through_postgres(tmp_path_factory: Any, pg_server: live.Server, empty_db: str,
                                           value: str, comment: str, items: list[str]) -> None:
    """Also arrays (text[] seed values, PostgreSQL's own array syntax) and jsonb documents."""
    spec = _spec(tmp_path_factory.mktemp("q"), value, comment, value, "p", items)
    sql = next(f.text for f in build(spec).files if f.name == "schema.sql")
    with psycopg.connect(empty_db) as conn:
        conn.execute(sql.encode())
        stored = conn.execute("SELECT s, tags, doc, obj_description('public.t'::regclass) FROM public.t").fetchone()
        conn.execute("INSERT INTO public.t (id) VALUES (2)")
        defaulted = conn.execute("SELECT s FROM public.t WHERE id = 2").fetchone()
        conn.rollback()
    assert stored == (value, items, {"v": value, "items": items}, comment)
    assert defaulted == (value,)
