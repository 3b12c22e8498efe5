"""Random spec mutations, planned and applied live: the SPEC-131 spec and the notes-app example are edited by a
hypothesis strategy (columns, constraints, indexes, policies, functions, grants, RLS, views, sequences, seed rows,
comments and renames, several at once), and each edited spec must be reachable from a database built from the
original output, and back:

    plan --db to the edit -> apply -> verify: no drift -> plan again: empty
    plan --from the edit back to the original (renames inverted) -> apply -> verify: no drift -> plan: empty

Edits that `check` refuses are discarded (hypothesis draws again): everything `check` accepts must migrate.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, SPEC
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from specs import sql_of

from generator import introspect, live
from generator.check import check
from generator.diagnostics import SpecError
from generator.load import load_spec
from generator.migrate import database
from generator.migrate.planner import plan
from generator.migrate.snapshot import declared, inverted, of_spec
from generator.pipeline import build

Spec = dict[str, dict[str, Any]]  # file name -> module
NOTES_APP = ROOT / "examples" / "notes-app" / "spec"
MUTATIONS_RUN: list[str] = []  # names of the mutations applied by the test's examples
MUTATION_BUDGET = int(os.environ.get("PGSPEC_PLAN_MUTATIONS", "100"))


def read(spec_dir: Path) -> Spec:
    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(spec_dir.glob("*.yaml"))}


def write(spec: Spec, root: Path) -> Path:
    out = root / "spec"
    out.mkdir(parents=True, exist_ok=True)
    for name, module in spec.items():
        (out / name).write_text(yaml.safe_dump(module, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def tables(spec: Spec) -> list[tuple[str, str, dict[str, Any]]]:
    return [(f, n, t) for f, m in spec.items() for n, t in (m.get("tables") or {}).items()]


def columns(table: dict[str, Any]) -> dict[str, Any]:
    cols = table["columns"]
    for name, value in list(cols.items()):
        if isinstance(value, str):
            cols[name] = {"type": value}
    return dict(cols)


Mutation = Callable[[Spec, st.DataObject], str | None]
MUTATIONS: dict[str, Mutation] = {}


def mutation(fn: Mutation) -> Mutation:
    MUTATIONS[fn.__name__] = fn
    return fn


def pick(data: st.DataObject, items: list[Any]) -> Any:
    assume(items)
    return data.draw(st.sampled_from(items))


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8)


@mutation
def add_column(spec: Spec, data: st.DataObject) -> str:
    _, name, table = pick(data, tables(spec))
    column = "m_" + data.draw(_WORD)
    kind = data.draw(st.sampled_from([{"type": "text"}, {"type": "integer", "default": 7},
                                      {"type": "boolean", "not_null": True, "default": False},
                                      {"type": "timestamptz", "default_sql": "now()"}]))
    assume(column not in table["columns"])
    table["columns"][column] = kind
    return f"add column {name}.{column}"


@mutation
def drop_column(spec: Spec, data: st.DataObject) -> str:
    _, name, table = pick(data, tables(spec))
    # Only columns nothing else may name: ones a previous mutation added.
    column = pick(data, [c for c in table["columns"] if c.startswith("m_")])
    del table["columns"][column]
    return f"drop column {name}.{column}"


@mutation
def comment(spec: Spec, data: st.DataObject) -> str:
    _, name, table = pick(data, tables(spec))
    column = pick(data, list(columns(table)))
    table["columns"][column]["comment"] = "mutated " + data.draw(_WORD)
    return f"comment {name}.{column}"


@mutation
def widen_varchar(spec: Spec, data: st.DataObject) -> str:
    candidates = [(n, t, c) for _, n, t in tables(spec) for c, v in columns(t).items()
                  if re.fullmatch(r"varchar\(\d+\)", str(v.get("type", "")))]
    name, table, column = pick(data, candidates)
    table["columns"][column]["type"] = "text"
    return f"widen {name}.{column}"


@mutation
def add_index(spec: Spec, data: st.DataObject) -> str:
    _, name, table = pick(data, tables(spec))
    column = pick(data, list(columns(table)))
    index = f"m_idx_{data.draw(_WORD)}"
    table.setdefault("indexes", {})[index] = {"columns": [column], "comment": "mutated"}
    return f"add index {index}"


@mutation
def drop_index(spec: Spec, data: st.DataObject) -> str:
    _, name, table = pick(data, [t for t in tables(spec) if t[2].get("indexes")])
    index = pick(data, list(table["indexes"]))
    del table["indexes"][index]
    return f"drop index {index}"


@mutation
def rename_index(spec: Spec, data: st.DataObject) -> str:
    _, name, table = pick(data, [t for t in tables(spec) if t[2].get("indexes")])
    old = pick(data, [i for i in table["indexes"] if not isinstance(table["indexes"][i], dict)
                      or "renamed_from" not in table["indexes"][i]])
    value = table["indexes"].pop(old)
    value = value if isinstance(value, dict) else {"columns": value}
    table["indexes"][f"r_{old}"[:63]] = {**value, "renamed_from": old}
    return f"rename index {old}"


@mutation
def add_check(spec: Spec, data: st.DataObject) -> str:
    _, name, table = pick(data, tables(spec))
    column = pick(data, list(columns(table)))
    check_name = f"m_check_{data.draw(_WORD)}"
    table.setdefault("checks", {})[check_name] = f"{column} IS NOT NULL OR {column} IS NULL"
    return f"add check {name}.{check_name}"


@mutation
def drop_check(spec: Spec, data: st.DataObject) -> str:
    _, name, table = pick(data, [t for t in tables(spec) if t[2].get("checks")])
    check_name = pick(data, list(table["checks"]))
    del table["checks"][check_name]
    return f"drop check {name}.{check_name}"


@mutation
def widen_policy(spec: Spec, data: st.DataObject) -> str:
    candidates = [(n, t, p) for _, n, t in tables(spec) for p, v in (t.get("policies") or {}).items()
                  if v.get("using")]
    name, table, policy = pick(data, candidates)
    table["policies"][policy]["using"] = f"({table['policies'][policy]['using']}) OR false"
    return f"alter policy {name}.{policy}"


@mutation
def policy_roles(spec: Spec, data: st.DataObject) -> str:
    candidates = [(n, t, p) for _, n, t in tables(spec) for p in (t.get("policies") or {})]
    name, table, policy = pick(data, candidates)
    roles = table["policies"][policy]["roles"]
    table["policies"][policy]["roles"] = ["anon"] if roles != ["anon"] else ["authenticated"]
    return f"policy roles {name}.{policy}"


@mutation
def rename_policy(spec: Spec, data: st.DataObject) -> str:
    candidates = [(n, t, p) for _, n, t in tables(spec) for p, v in (t.get("policies") or {}).items()
                  if "renamed_from" not in v]
    name, table, policy = pick(data, candidates)
    table["policies"][f"{policy} (renamed)"] = {**table["policies"].pop(policy), "renamed_from": policy}
    return f"rename policy {name}.{policy}"


@mutation
def drop_policy(spec: Spec, data: st.DataObject) -> str:
    candidates = [(n, t, p) for _, n, t in tables(spec) for p in (t.get("policies") or {})]
    name, table, policy = pick(data, candidates)
    del table["policies"][policy]
    return f"drop policy {name}.{policy}"


@mutation
def force_rls(spec: Spec, data: st.DataObject) -> str:
    _, name, table = pick(data, [t for t in tables(spec) if t[2].get("rls") in ("enabled", "forced")])
    table["rls"] = "forced" if table["rls"] == "enabled" else "enabled"
    return f"toggle FORCE on {name}"


@mutation
def grant(spec: Spec, data: st.DataObject) -> str:
    _, name, table = pick(data, tables(spec))
    grants = table.setdefault("grants", {})
    role = pick(data, ["anon", "authenticated"])
    current = grants.get(role, [])
    grants[role] = sorted(set(current) ^ {"select"}) or ["references"]
    return f"grants of {role} on {name}"


@mutation
def function_body(spec: Spec, data: st.DataObject) -> str:
    functions = [(m, n) for m in spec.values() for n, f in (m.get("functions") or {}).items()
                 if f.get("language", "plpgsql") == "plpgsql"]
    module, name = pick(data, functions)
    module["functions"][name]["body"] = module["functions"][name]["body"].rstrip("\n") + "\n-- mutated\n"
    return f"function body {name}"


@mutation
def function_comment(spec: Spec, data: st.DataObject) -> str:
    module, name = pick(data, [(m, n) for m in spec.values() for n in (m.get("functions") or {})])
    module["functions"][name]["comment"] = "mutated " + data.draw(_WORD)
    return f"function comment {name}"


@mutation
def view_option(spec: Spec, data: st.DataObject) -> str:
    module, name = pick(data, [(m, n) for m in spec.values() for n in (m.get("views") or {})])
    view = module["views"][name]
    view["security_barrier"] = not view.get("security_barrier", False)
    return f"view option {name}"


@mutation
def sequence_cache(spec: Spec, data: st.DataObject) -> str:
    module, name = pick(data, [(m, n) for m in spec.values() for n in (m.get("sequences") or {})])
    module["sequences"][name]["cache"] = data.draw(st.integers(2, 50))
    return f"sequence {name}"


@mutation
def seed_rows(spec: Spec, data: st.DataObject) -> str:
    _, name, table = pick(data, [t for t in tables(spec) if t[2].get("seed")])
    rows = table["seed"]
    if data.draw(st.booleans()) and len(rows) > 1:
        rows.pop(data.draw(st.integers(0, len(rows) - 1)))
        return f"delete a seed row of {name}"
    row = copy.deepcopy(rows[0])
    types = {c: v.get("type", "") for c, v in columns(table).items()}
    for column, value in row.items():  # a new row: every text value changed, so keys stay unique
        if isinstance(value, str) and types.get(column) == "uuid":
            row[column] = value[:-1] + ("0" if value[-1] != "0" else "1")
        elif isinstance(value, str) and str(types.get(column)).startswith(("text", "varchar", "citext")) \
                and column not in ("color",):
            row[column] = value + "-m"
    assume(all(r != row for r in rows))
    rows.append(row)
    return f"add a seed row to {name}"


SOURCES = {"spec131": SPEC, "notes": NOTES_APP}


@pytest.fixture(scope="module")
def originals(pg_server: live.Server) -> dict[str, tuple[Spec, str]]:
    """Each source spec and a template database holding its output."""
    out = {}
    for key, spec_dir in SOURCES.items():
        name = f"pgspec_mut_{key}_{os.getpid()}"
        dsn = live.create_database(pg_server, name)
        live.apply_sql(dsn, sql_of(build(spec_dir).files, "schema.sql"))
        out[key] = (read(spec_dir), name)
    yield out
    for _, name in out.values():
        live.drop_database(pg_server, name)


def converge(dsn: str, reader: Any, catalog: Any, p: Any) -> None:
    """Apply; then one read of the database: no drift (the differences `verify` reports) and nothing to plan."""
    database.apply(dsn, p)
    again = database.plan_connection(reader, catalog)
    assert [str(d) for d in again.differences] == []
    assert [s.change.describe() for s in again.steps] == []


_counter = iter(range(1_000_000))


def test_random_mutations_migrate_both_ways(pg_server: live.Server, originals: dict[str, tuple[Spec, str]],
                                           tmp_path_factory: Any) -> None:
    """At least the budgeted number of mutations (PGSPEC_PLAN_MUTATIONS, default 100), of many kinds, each
    planned forward against the live database and back between the specs; both converge."""
    MUTATIONS_RUN.clear()

    # No shrinking: a failure reports the mutations it applied at once (shrinking live migrations takes minutes).
    @settings(max_examples=max(1, MUTATION_BUDGET // 4), deadline=None,
              phases=[Phase.explicit, Phase.reuse, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
    @given(data=st.data())
    def mutate(data: st.DataObject) -> None:
        source = data.draw(st.sampled_from(sorted(SOURCES)))
        original, template = originals[source]
        spec = copy.deepcopy(original)
        names = data.draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=4, max_size=8))
        applied = [MUTATIONS[n](spec, data) for n in names]
        root = tmp_path_factory.mktemp("mutation")
        try:
            new = check(load_spec(write(spec, root / "new")))
        except SpecError:
            assume(False)
            return
        old = check(load_spec(SOURCES[source]))
        name = f"pgspec_mut{os.getpid()}_{next(_counter)}"
        dsn = live.create_database(pg_server, name, template=template)
        try:
            note = f"{source}: {'; '.join(a for a in applied if a)}"
            with introspect.connect(dsn) as reader:  # one reading session through the example, as plan --db's
                forward = database.plan_connection(reader, new)
                converge(dsn, reader, new, forward)
                back = plan(old, of_spec(new), renames=inverted(declared(new)))
                converge(dsn, reader, old, back)
            MUTATIONS_RUN.extend(applied)
        except AssertionError as exc:
            raise AssertionError(f"{note}\n{exc}") from None
        finally:
            live.drop_database(pg_server, name)

    mutate()
    assert len(MUTATIONS_RUN) >= MUTATION_BUDGET, len(MUTATIONS_RUN)
    assert len({m.split(" ")[0] for m in MUTATIONS_RUN}) >= 10  # many kinds, not one repeated
