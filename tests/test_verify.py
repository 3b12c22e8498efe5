"""The pglast cross-check: the generated SQL declares exactly what the model declares, and tampering shows."""

from __future__ import annotations

import re

import pytest

from generator.order import order
from generator.pipeline import Build
from generator.verify import SEED_REGISTRY, TOOL_SCHEMA, expected, found, verify_sql


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
