"""The pglast cross-check: the generated SQL declares exactly what the model declares, and tampering shows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from specs import lost_clause, write_spec

from generator.diagnostics import Pos
from generator.order import Item, Placed, order
from generator.pipeline import Build, build
from generator.render import render_item
from generator.verify import (
    _EXPECT,
    _HANDLERS,
    SEED_REGISTRY,
    TOOL_SCHEMA,
    Mismatch,
    _operator,
    canon_expr,
    expected,
    expects,
    found,
    handles,
    readable,
    verify_sql,
)


def _schema_sql(spec_build: Build) -> str:
    return next(f.text for f in spec_build.files if f.name == "schema.sql")


def _check(spec_build: Build, sql: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    mismatch = verify_sql("schema.sql", sql, order(spec_build.catalog), spec_build.catalog, registry=True)
    assert mismatch is not None, "tampering went unnoticed"
    return mismatch.missing, mismatch.unexpected


def test_generated_output_matches_model(spec_build: Build) -> None:
    assert spec_build.mismatches == []


def test_inventory_is_complete(spec_build: Build) -> None:
    """Every kind of object is in the inventory, so the comparison covers all of them."""
    kinds = {line.split()[0] for line in found(_schema_sql(spec_build))}
    assert kinds == {"role", "schema", "function", "revoke", "grant", "comment", "table", "column", "constraint",
                     "index", "trigger", "rls", "policy", "view", "seed", "sequence", "tool"}
    assert expected(order(spec_build.catalog), spec_build.catalog) | {SEED_REGISTRY, TOOL_SCHEMA} == \
        found(_schema_sql(spec_build))


def test_dropped_policy_is_missing(spec_build: Build) -> None:
    sql = re.sub(r'CREATE POLICY "Customers can view their own tickets".*?;\n', "", _schema_sql(spec_build),
                 flags=re.S)
    missing, unexpected = _check(spec_build, sql)
    assert len(missing) == 1 and "Customers can view their own tickets" in missing[0] and not unexpected


def test_loosened_check_differs(spec_build: Build) -> None:
    sql = _schema_sql(spec_build).replace("file_size <= 26214400", "file_size <= 262144000")
    missing, unexpected = _check(spec_build, sql)
    assert [m.split()[1] for m in missing] == ["public.ticket_attachments.valid_file_size"]
    assert "262144000" in unexpected[0]


def test_view_without_security_invoker_differs(spec_build: Build) -> None:
    sql = _schema_sql(spec_build).replace("WITH (security_invoker = true)", "", 1)
    missing, unexpected = _check(spec_build, sql)
    assert "security_invoker=True" in missing[0] and "security_invoker=False" in unexpected[0]


def test_seed_registry_is_verified(spec_build: Build) -> None:
    """The registry statements are part of the inventory: leaving out a seed row's key is a mismatch."""
    low = """'{"priority":"medium"}'::jsonb),\n    ('public.support_sla_config', '{"priority":"low"}'::jsonb)"""
    assert low in _schema_sql(spec_build)
    sql = _schema_sql(spec_build).replace(low, """'{"priority":"medium"}'::jsonb)""")
    missing, unexpected = _check(spec_build, sql)
    assert missing == ("seed keys public.support_sla_config rows=4",)
    assert unexpected == ("seed keys public.support_sla_config rows=3",)


def test_extra_grant_is_unexpected(spec_build: Build) -> None:
    sql = _schema_sql(spec_build) + "\nGRANT SELECT ON TABLE public.support_tickets TO anon;\n"
    missing, unexpected = _check(spec_build, sql)
    assert not missing and unexpected == ("grant select on table public.support_tickets to anon",)


def test_changed_policy_expression_differs(spec_build: Build) -> None:
    sql = _schema_sql(spec_build).replace("USING (customer_id = (SELECT auth.uid()))", "USING (true)", 1)
    missing, unexpected = _check(spec_build, sql)
    assert len(missing) == 1 and len(unexpected) == 1 and "using TRUE check" in unexpected[0]


def test_broken_function_body_is_reported(spec_build: Build) -> None:
    sql = _schema_sql(spec_build).replace("NEW.updated_at := now();", "NEW.updated_at := ;", 1)
    _, unexpected = _check(spec_build, sql)
    assert "update_updated_at_column" in unexpected[0] and "missing expression" in unexpected[0]


def test_unparseable_sql_is_reported(spec_build: Build) -> None:
    _, unexpected = _check(spec_build, _schema_sql(spec_build) + "\nCREATE TABLE (;\n")
    assert unexpected[0].startswith("does not parse")


@pytest.mark.parametrize("module", ["03-support-tickets.sql", "06-ticket-activity-log.sql"])
def test_each_module_file_verifies(spec_build: Build, module: str) -> None:
    placed = [p for p in order(spec_build.catalog)
              if f"{spec_build.catalog.schema.modules[p.module].stem}.sql" == module]
    text = next(f.text for f in spec_build.files if f.name == module)
    assert verify_sql(module, text, placed, spec_build.catalog) is None


# -- clauses of keys, types and exclusions (written against mutmut's survivors, bench/RESULTS.md) ----------------
CLAUSES: dict[str, Any] = {
    "module": "Clauses",
    "extensions": {"btree_gist": {}},
    "schemas": {"app": {}},
    "types": {"code": {"domain": "text", "collation": "C"}, "app.mood": {"enum": ["ok", "meh"]},
              "pair": {"attributes": {"label": {"type": "text", "collation": "C"}, "n": "integer"}}},
    "tables": {"things": {
        "columns": {"id": {"type": "integer", "primary_key": True, "identity": {"generated": "always", "min_value": 0}},
                    "name": "text", "room": "integer", "during": "tsrange", "mood": "app.mood",
                    "amount": "numeric(10, 0)", "slug": {"type": "text", "collation": "C", "generated": "lower(name)"}},
        "indexes": {"things_name_idx": {"columns": ['name COLLATE "C" text_pattern_ops DESC NULLS LAST', "room"],
                                        "include": ["id", "during"]}},
        # the operator as OPERATOR(schema.op), in any case and spacing: the parser names it `pg_catalog.=`
        "excludes": {"no_overlap": {"using": "gist", "elements": {"room": "operator( pg_catalog.= )",
                                                                  "during": "&&"}}}}},
}


@pytest.fixture(scope="module")
def clauses_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spec(tmp_path_factory.mktemp("clauses"), {"01-clauses.yaml": CLAUSES})


def test_collations_operator_classes_orderings_and_zero_options_verify(clauses_dir: Path) -> None:
    """Each clause read from the SQL's parse tree agrees with the spec (an identity's MINVALUE 0 is a parse-tree
    integer without a value; an OPERATOR(...) spelled any way is the same operator)."""
    assert build(clauses_dir).mismatches == []


@pytest.mark.parametrize(("old", "new", "object_line"), [
    ('name COLLATE "C" text_pattern_ops DESC NULLS LAST', "name text_pattern_ops DESC NULLS LAST", "index"),
    ('name COLLATE "C" text_pattern_ops DESC NULLS LAST', 'name COLLATE "C" DESC NULLS LAST', "index"),
    ('name COLLATE "C" text_pattern_ops DESC NULLS LAST', 'name COLLATE "C" text_pattern_ops DESC', "index"),
    ('name COLLATE "C" text_pattern_ops DESC NULLS LAST', 'name COLLATE "C" text_pattern_ops NULLS LAST', "index"),
    ("INCLUDE (id, during)", "INCLUDE (id)", "index"),
    ('AS text COLLATE "C"', "AS text", "domain"),
    ('label text COLLATE "C"', "label text", "type"),
    ("operator( pg_catalog.= )", "operator(pg_catalog.<>)", "constraint"),
    ("MINVALUE 0", "MINVALUE 1", "column"),
    ('slug   text COLLATE "C" GENERATED', "slug   text GENERATED", "column"),
    ("mood   app.mood", "mood   public.mood", "column"),
    ("amount numeric(10, 0)", "amount numeric(10, 1)", "column"),
])
def test_a_clause_the_sql_lost_is_reported(clauses_dir: Path, old: str, new: str, object_line: str) -> None:
    mismatch = lost_clause(clauses_dir, old, new)  # which asks for the seed registry: this spec has no seed rows
    assert [m.split()[0] for m in mismatch.missing if m not in (SEED_REGISTRY, TOOL_SCHEMA)] == [object_line]
    assert [u.split()[0] for u in mismatch.unexpected] == [object_line]


@pytest.mark.parametrize("expr", [
    "x = 0", "x IN (1, 2.5, 'a')", "flag = false OR flag IS NOT TRUE", "b = B'101'", "y IS NULL",
    "z = NULL::text", "a = ANY (ARRAY[0, -1])", "lower(name) LIKE 'a%' AND n BETWEEN 0 AND 10", "name <> ''",
])
def test_a_mismatch_shows_each_expression_as_sql_meaning_the_same(expr: str) -> None:
    """readable() prints an inventory line's parse trees as SQL: that SQL parses back to the same tree."""
    line = f"policy x using {canon_expr(expr)}"
    shown = readable(line)
    assert shown.startswith("policy x using ") and "\u27e6" not in shown
    assert canon_expr(shown.removeprefix("policy x using ")) == canon_expr(expr)


def test_mismatch_lines_list_the_missing_then_the_unexpected() -> None:
    assert Mismatch("f.sql", ("a", "b"), ("c",)).lines() == [
        "f.sql: missing from SQL: a", "f.sql: missing from SQL: b", "f.sql: not in spec: c"]


def test_operator_names_as_the_parser_gives_them() -> None:
    assert _operator(" && ") == "&&"
    assert _operator("OPERATOR(pg_catalog.=)") == "pg_catalog.="
    assert _operator("operator (\n  public . && )") == "public.&&"


def test_a_kind_has_one_expectation_and_one_reader() -> None:
    """Registering a kind twice is refused (the second would silently replace the first); a new one is kept."""
    with pytest.raises(RuntimeError, match="registered twice"):
        expects("table")(lambda obj, item, catalog: set())
    with pytest.raises(RuntimeError, match="registered twice"):
        handles("CreateStmt")(lambda stmt, text: set())

    def fn(*args: Any) -> set[str]:
        return set()

    try:
        assert expects("test kind")(fn) is fn and _EXPECT["test kind"] is fn
        assert handles("TestStmt")(fn) is fn and _HANDLERS["TestStmt"] is fn
    finally:
        _EXPECT.pop("test kind", None)
        _HANDLERS.pop("TestStmt", None)


def test_a_mismatch_is_reported_under_its_file(spec_build: Build) -> None:
    mismatch = verify_sql("03-x.sql", "CREATE TABLE (;", [], spec_build.catalog)
    assert mismatch is not None and mismatch.file == "03-x.sql"
    assert mismatch.lines() == ['03-x.sql: not in spec: does not parse: syntax error at or near "(", at index 13']
    other = verify_sql("04-y.sql", "CREATE TABLE public.t (a integer);", [], spec_build.catalog)
    assert other is not None and other.file == "04-y.sql" and other.missing == ()


def test_a_grant_on_several_columns_reads_as_one_line_per_column() -> None:
    """GRANT UPDATE (a, b) is GRANT UPDATE (a) and GRANT UPDATE (b): the inventory has a line per column."""
    assert found("GRANT SELECT, UPDATE (a, b) ON TABLE public.t TO r;") == {
        "grant select on table public.t to r", "grant update (a) on table public.t to r",
        "grant update (b) on table public.t to r"}


def test_an_item_kind_without_a_rule_fails_loudly(spec_build: Build) -> None:
    bogus = Placed(Item("bogus", ("bogus", "x"), None, 0, Pos("spec/x.yaml", 1, 1)), 0)
    with pytest.raises(RuntimeError, match="verify has no rule for item kind 'bogus'"):
        expected([bogus], spec_build.catalog)
    with pytest.raises(RuntimeError, match="no renderer for item kind 'bogus'"):
        render_item(bogus, spec_build.catalog)
