"""order.py's dependency edges, tested against mutmut's survivors (bench/RESULTS.md): a spec whose first module
uses what later modules declare. What must come first is PostgreSQL's rule, not the tool's: ALTER DEFAULT
PRIVILEGES needs its FOR ROLE, its IN SCHEMA and every grantee to exist; CREATE INDEX needs its table (or
materialized view), the functions its expressions call and the extension of its operator class; so does
everything else a statement names. Each statement of schema.sql must come after the ones creating what it names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from specs import sql_of, write_spec

from generator.diagnostics import SpecError
from generator.pipeline import Build, build

USERS: dict[str, Any] = {
    "module": "Users first",
    "default_privileges": [{"for_role": "owner_role", "schema": "app", "tables": {"reader": ["select"]}}],
    "materialized_views": {"app.totals": {"query": "SELECT 1 AS n", "indexes": {
        "totals_n": {"columns": ["(app.twice(n))"]}}}},
    "tables": {"app.words": {"columns": {"id": {"type": "integer", "primary_key": True}, "word": "text",
                                         "nick": "citext"},
                             "indexes": {"words_trgm": {"columns": ["word gin_trgm_ops"], "method": "gin"}}}},
    "types": {"app.positive": {"domain": "integer", "default": "app.twice(1)",
                               "checks": {"big": "app.twice(VALUE) > 0"}, "grants": {"reader": ["usage"]}}},
    "functions": {"app.label": {"args": {"m": "app.mood", "n": {"type": "integer", "default": "app.twice(2)"}},
                                "returns": "app.mood", "language": "sql", "body": "SELECT m",
                                "owner": "owner_role", "grants": {"reader": ["execute"]}}},
    "views": {"app.counted": {"query": "SELECT count(*) AS n FROM app.items", "owner": "owner_role",
                              "grants": {"reader": ["select"]}}},
}
DECLARED_LATER: dict[str, Any] = {
    "module": "What they use",
    "roles": {"owner_role": {}, "reader": {}},
    "schemas": {"app": {}},
    "extensions": {"pg_trgm": {}, "citext": {}},
    "types": {"app.mood": {"enum": ["ok", "meh"]}},
    "tables": {"app.items": {"columns": {"id": {"type": "integer", "primary_key": True}}}},
    "functions": {"app.twice": {"args": {"x": "integer"}, "returns": "integer", "language": "sql",
                                "volatility": "immutable", "body": "SELECT x * 2"}},
}


def built(factory: pytest.TempPathFactory, first: dict[str, Any], later: dict[str, Any]) -> Build:
    """A spec of two modules, `first` using what `later` declares, built (and its SQL verified)."""
    result = build(write_spec(factory.mktemp("order"), {"01-first.yaml": first, "02-later.yaml": later}))
    assert result.mismatches == []
    return result


@pytest.fixture  # per test: mutmut maps a test to the code it runs, a shared fixture only to its first user
def schema_sql(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sql_of(built(tmp_path_factory, USERS, DECLARED_LATER).files, "schema.sql")


@pytest.mark.parametrize(("statement", "needs"), [
    ("ALTER DEFAULT PRIVILEGES FOR ROLE owner_role IN SCHEMA app",
     ["ALTER ROLE owner_role", "ALTER ROLE reader", "CREATE SCHEMA app"]),
    ("CREATE INDEX totals_n", ["CREATE MATERIALIZED VIEW app.totals", "CREATE FUNCTION app.twice"]),
    ("CREATE INDEX words_trgm", ["CREATE TABLE app.words", "CREATE EXTENSION IF NOT EXISTS pg_trgm"]),
    ("CREATE MATERIALIZED VIEW app.totals", ["CREATE SCHEMA app"]),
    ("CREATE TABLE app.words", ["CREATE EXTENSION IF NOT EXISTS citext"]),
    ("CREATE DOMAIN app.positive", ["CREATE FUNCTION app.twice", "ALTER ROLE reader"]),
    ("CREATE FUNCTION app.label", ["CREATE TYPE app.mood", "CREATE FUNCTION app.twice", "ALTER ROLE reader",
                                   "ALTER ROLE owner_role"]),
    ("CREATE VIEW app.counted", ["CREATE TABLE app.items", "ALTER ROLE reader", "ALTER ROLE owner_role"]),
])
def test_each_statement_comes_after_what_it_names(schema_sql: str, statement: str, needs: list[str]) -> None:
    at = schema_sql.index(statement)
    for need in needs:
        assert schema_sql.index(need) < at, f"{statement} before {need}"


# -- one need each, declared in a later module: the statement moves there, after it -----------------------------
# Every object of USES has exactly one thing it needs in LATER (roles come first, in USES itself), so a lost edge
# leaves the statement in the first module, before what it names, where PostgreSQL refuses it.
USES: dict[str, Any] = {
    "module": "Uses one later object each",
    "roles": {"writer": {}},
    "default_privileges": [{"for_role": "writer", "tables": {"writer": ["select"]}}],
    "types": {"later_s.in_later_schema": {"enum": ["a"]},
              "d_default": {"domain": "integer", "default": "public.later_fn(1)"},
              "d_check": {"domain": "integer", "checks": {"positive": "public.later_fn(VALUE) > 0"}}},
    "tables": {
        "t_check": {"columns": {"n": "integer"}, "checks": {"n_ok": "public.later_fn(n) > 0"}},
        "t_default": {"columns": {"n": {"type": "integer", "default_sql": "public.later_fn(1)"}}},
        "t_generated": {"columns": {"n": "integer", "m": {"type": "integer", "generated": "public.later_fn(n)"}}},
        "t_excl_where": {"columns": {"r": "int4range"},
                         "excludes": {"r_apart_where": {"elements": {"r": "&&"}, "where": "public.later_fn(1) > 0"}}},
        "t_excl_expr": {"columns": {"r": "int4range"},
                        "excludes": {"r_apart_expr": {"elements": {"(public.later_range(r))": "&&"}}}},
        "t_excl_ext": {"columns": {"n": "integer"}, "excludes": {"n_apart": {"elements": {"n": "="}}}},
        "t_trig_seeded": {"columns": {"id": {"type": "integer", "primary_key": True}},
                          "triggers": {"stamp": {"timing": "before", "events": ["insert"], "function": "later_trg"}},
                          "seed": [{"id": 1}]},
        "t_child_seeded": {"columns": {"id": {"type": "integer", "primary_key": True},
                                       "parent_id": {"type": "integer", "references": "t_trig_seeded(id)"}},
                           "seed": [{"id": 1, "parent_id": 1}]},
        "t_tree": {"columns": {"id": {"type": "integer", "primary_key": True},
                               "parent_id": {"type": "integer", "references": "t_tree(id)"}},
                   "seed": [{"id": 1}, {"id": 2, "parent_id": 1}]},
        "t_part_seeded": {"columns": {"n": {"type": "integer", "not_null": True}}, "partition_by": "range (n)",
                          "partitions": {"later_s.p_low": {"comment": "values under 10", "values": "from (0) to (10)"}},
                          "seed": [{"n": 1}]},
        "t_part_late": {"columns": {"n": {"type": "integer", "not_null": True}}, "partition_by": "range (n)",
                        "checks": {"n_ok": "public.later_fn(n) > 0"},
                        "partitions": {"p_late": {"values": "from (0) to (10)"}}},
        # a sub-partition whose parent partition waits for its schema; a partition whose own key calls a function
        "t_nested": {"columns": {"n": {"type": "integer", "not_null": True}}, "partition_by": "range (n)",
                     "partitions": {"later_s.z_outer": {
                         "values": "from (0) to (10)", "partition_by": "range (n)",
                         "partitions": {"public.a_inner": {"values": "from (0) to (5)"}}}}},
        "t_keyed": {"columns": {"n": {"type": "integer", "not_null": True}}, "partition_by": "range (n)",
                    "partitions": {"p_keyed": {"values": "from (0) to (10)",
                                               "partition_by": "range ((public.later_fn(n)))",
                                               "partitions": {"p_keyed_a": {"values": "from (0) to (100)"}}}}},
        "t_indexed": {"columns": {"n": "integer"}, "indexes": {
            "i_expression": ["(public.later_fn(n))"],
            "i_partial": {"columns": ["n"], "where": "public.later_fn(n) > 0"},
            "i_gist": {"columns": ["n"], "method": "gist"}}},  # gist has no integer operator class but btree_gist's
        "t_triggered": {"columns": {"n": "integer"}, "triggers": {
            "t_overloaded": {"timing": "before", "events": ["insert"], "function": "later_overloaded()"}}},
        "t_part_key": {"columns": {"n": {"type": "integer", "not_null": True}},
                       "partition_by": "range ((public.later_fn(n)))"},
        # a table that waits for a function, with its policies (RLS on and off)
        "t_pol_late": {"columns": {"n": "integer"}, "checks": {"n_ok": "public.later_fn(n) > 0"}, "rls": "enabled",
                       "policies": {"p_late": {"command": "select", "roles": ["writer"], "using": "true"}}},
        "t_pol_off": {"columns": {"n": "integer"}, "checks": {"n_ok": "public.later_fn(n) > 0"},
                      "policies": {"p_off": {"command": "select", "roles": ["writer"], "using": "true"}}},
        "t_pol": {"columns": {"n": "integer"}, "rls": "enabled", "policies": {
            "p_using": {"command": "select", "roles": ["writer"], "using": "public.later_fn(n) > 0"},
            "p_check": {"command": "insert", "roles": ["writer"], "with_check": "public.later_fn(n) > 0"}}},
    },
    "functions": {"f_returns": {"returns": "later_mood", "body": "BEGIN RETURN 'ok'; END"},
                  "f_takes": {"args": {"m": "later_mood"}, "returns": "integer", "body": "BEGIN RETURN 1; END"}},
    "views": {"v_seq": {"query": "SELECT last_value FROM public.later_seq"},
              "v_relation": {"query": "SELECT id FROM later_s.other_t"},
              "v_partition": {"query": "SELECT n FROM later_s.p_low"},
              "v_qualified": {"query": "SELECT later_s.other_fn() AS x"},
              "v_type": {"query": "SELECT NULL::later_mood AS m"},
              "v_extension": {"query": "SELECT public.similarity('a', 'b') AS s"}},
    "raw": {"r_depends": {"sql": "SELECT 1 AS r_depends_marker", "depends_on": ["later_t"]},
            "r_names": {"sql": "CREATE VIEW public.r_view AS SELECT * FROM public.later_t"}},
}
LATER: dict[str, Any] = {
    "module": "Declared later",
    "schemas": {"later_s": {}},
    "extensions": {"btree_gist": {}, "pg_trgm": {}},
    "types": {"later_mood": {"enum": ["ok"]}},
    "sequences": {"later_seq": {}},
    "tables": {"later_t": {"columns": {"id": "integer"}}, "later_s.other_t": {"columns": {"id": "integer"}}},
    "functions": {
        "later_fn": {"args": {"x": "integer"}, "returns": "integer", "language": "sql", "volatility": "immutable",
                     "body": "SELECT x * 2"},
        "later_range": {"args": {"r": "int4range"}, "returns": "int4range", "language": "sql",
                        "volatility": "immutable", "body": "SELECT r"},
        "later_trg": {"returns": "trigger", "body": "BEGIN RETURN NEW; END"},
        "later_s.other_fn": {"returns": "integer", "language": "sql", "body": "SELECT 1"},
        # a trigger names the overload without arguments
        "later_overloaded()": {"returns": "trigger", "body": "BEGIN RETURN NEW; END"},
        "later_overloaded(integer)": {"args": {"x": "integer"}, "returns": "integer", "language": "sql",
                                      "body": "SELECT x"},
    },
}


@pytest.fixture  # per test: mutmut maps a test to the code it runs, a shared fixture only to its first user
def single_edges(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return built(tmp_path_factory, USES, LATER)


@pytest.mark.parametrize(("statement", "need"), [
    ("CREATE DOMAIN public.d_default", "CREATE FUNCTION public.later_fn"),
    ("CREATE DOMAIN public.d_check", "CREATE FUNCTION public.later_fn"),
    ("CREATE TABLE public.t_check", "CREATE FUNCTION public.later_fn"),
    ("CREATE TABLE public.t_default", "CREATE FUNCTION public.later_fn"),
    ("CREATE TABLE public.t_generated", "CREATE FUNCTION public.later_fn"),
    ("CREATE TABLE public.t_excl_where", "CREATE FUNCTION public.later_fn"),
    ("CREATE TABLE public.t_excl_expr", "CREATE FUNCTION public.later_range"),
    ("CREATE TABLE public.t_excl_ext", "CREATE EXTENSION IF NOT EXISTS btree_gist"),  # `=` under gist
    # seed rows fire the table's triggers and go into its partitions; a row referencing a seeded row follows it
    ("CREATE INDEX i_expression", "CREATE FUNCTION public.later_fn"),
    ("CREATE INDEX i_partial", "CREATE FUNCTION public.later_fn"),
    ("CREATE INDEX i_gist", "CREATE EXTENSION IF NOT EXISTS btree_gist"),
    ("CREATE TRIGGER t_overloaded", "CREATE FUNCTION public.later_overloaded()"),
    ("CREATE TABLE public.t_part_key", "CREATE FUNCTION public.later_fn"),
    ("CREATE POLICY p_late", "CREATE TABLE public.t_pol_late"),
    ("CREATE POLICY p_off", "CREATE TABLE public.t_pol_off"),
    ("CREATE FUNCTION public.f_returns", "CREATE TYPE public.later_mood"),
    ("CREATE FUNCTION public.f_takes", "CREATE TYPE public.later_mood"),
    ("CREATE VIEW public.v_relation", "CREATE TABLE later_s.other_t"),
    ("CREATE VIEW public.v_partition", "CREATE TABLE later_s.p_low PARTITION OF"),  # a partition read directly
    ("INSERT INTO public.t_trig_seeded", "CREATE TRIGGER stamp"),
    ("INSERT INTO public.t_child_seeded", "INSERT INTO public.t_trig_seeded"),
    ("INSERT INTO public.t_part_seeded", "CREATE TABLE later_s.p_low PARTITION OF"),
    ("CREATE TABLE later_s.p_low PARTITION OF", "CREATE SCHEMA later_s"),
    ("CREATE TABLE public.p_late PARTITION OF", "CREATE TABLE public.t_part_late"),
    ("CREATE TABLE public.a_inner PARTITION OF", "CREATE TABLE later_s.z_outer PARTITION OF"),
    ("CREATE TABLE public.p_keyed PARTITION OF", "CREATE FUNCTION public.later_fn"),
    ("CREATE TYPE later_s.in_later_schema", "CREATE SCHEMA later_s"),
    ('CREATE POLICY p_using', "CREATE FUNCTION public.later_fn"),
    ('CREATE POLICY p_check', "CREATE FUNCTION public.later_fn"),
    ("CREATE VIEW public.v_seq", "CREATE SEQUENCE public.later_seq"),
    ("CREATE VIEW public.v_qualified", "CREATE FUNCTION later_s.other_fn"),
    ("CREATE VIEW public.v_type", "CREATE TYPE public.later_mood"),
    ("CREATE VIEW public.v_extension", "CREATE EXTENSION IF NOT EXISTS pg_trgm"),  # similarity() is pg_trgm's
    ("SELECT 1 AS r_depends_marker", "CREATE TABLE public.later_t"),
    ("CREATE VIEW public.r_view", "CREATE TABLE public.later_t"),
])
def test_a_statement_waits_for_the_one_later_object_it_needs(single_edges: Build, statement: str, need: str) -> None:
    text = sql_of(single_edges.files, "schema.sql")
    assert text.index(need) < text.index(statement), f"{statement} before {need}"


def test_a_seeded_table_referencing_itself_is_seeded(single_edges: Build) -> None:
    text = sql_of(single_edges.files, "schema.sql")
    assert text.index("CREATE TABLE public.t_tree") < text.index("INSERT INTO public.t_tree")


def test_each_item_points_at_its_place_in_the_spec(single_edges: Build) -> None:
    """The judge maps PostgreSQL's errors back through each item's position: where the object is declared (the
    value under its name, or for those statements its `rls:`, its `seed:` rows or a partition's `values:`)."""
    key = {"rls": "rls", "seed": "seed", "partition": "values", "default_privileges": "for_role"}
    for placed in single_edges.placed:
        item = placed.item
        lines = Path(item.pos.file).read_text(encoding="utf-8").splitlines()
        name = key.get(item.kind, item.key[1].split("(")[0].rsplit(".", 1)[-1])
        # the name is on the line of the position (`name: {}`) or on the line above (a block under it)
        declared = re.compile(rf"\s*(- )?'?([\w.]*\.)?{name}(\([\w, ]*\))?'?:")  # `name:`, `'f(integer)':`
        assert any(declared.match(line) for line in lines[item.pos.line - 2:item.pos.line]), (item.key, item.pos)


# -- roles declared after what names them ---------------------------------------------------------------------------
# An object whose privileges the spec states exactly starts with REVOKE ALL ... FROM PUBLIC and every declared role
# (render.acl), and REVOKE, GRANT, OWNER TO and CREATE EXTENSION ... SCHEMA fail on a role or schema that does not
# exist yet: such statements wait for every role of the spec, wherever it is declared.
BEFORE_ROLES: dict[str, Any] = {
    "module": "Objects first",
    "schemas": {"s_owned": {"owner": "later_owner"}, "s_granted": {"grants": {"later_reader": ["usage"]}}},
    "extensions": {"citext": {"schema": "ext"}},
    "types": {"e_owned": {"enum": ["a"], "owner": "later_owner"}, "e_granted": {"enum": ["a"], "grants": {}}},
    "sequences": {"seq_plain": {}},
    "functions": {"f_plain": {"returns": "integer", "language": "sql", "body": "SELECT 1"}},
    "tables": {"t_plain": {"columns": {"n": "integer"}}},
    "views": {"v_plain": {"query": "SELECT 1 AS n"}},
    "materialized_views": {"mv_plain": {"query": "SELECT 1 AS n"}},
}
ROLES_LATER: dict[str, Any] = {"module": "Roles later", "roles": {"later_owner": {}, "later_reader": {}},
                               "schemas": {"ext": {}}}


@pytest.fixture  # per test: mutmut maps a test to the code it runs, a shared fixture only to its first user
def roles_later_sql(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sql_of(built(tmp_path_factory, BEFORE_ROLES, ROLES_LATER).files, "schema.sql")


@pytest.mark.parametrize(("statement", "needs"), [
    ("REVOKE ALL ON SEQUENCE public.seq_plain FROM PUBLIC, later_owner, later_reader", ["later_owner", "later_reader"]),
    ("REVOKE ALL ON FUNCTION public.f_plain() FROM PUBLIC, later_owner, later_reader", ["later_owner", "later_reader"]),
    ("REVOKE ALL ON TABLE public.t_plain FROM PUBLIC, later_owner, later_reader", ["later_owner", "later_reader"]),
    ("REVOKE ALL ON TABLE public.v_plain FROM PUBLIC, later_owner, later_reader", ["later_owner", "later_reader"]),
    ("REVOKE ALL ON TABLE public.mv_plain FROM PUBLIC, later_owner, later_reader", ["later_owner", "later_reader"]),
    ("REVOKE ALL ON TYPE public.e_granted FROM PUBLIC, later_owner, later_reader", ["later_owner", "later_reader"]),
    ("ALTER TYPE public.e_owned OWNER TO later_owner", ["later_owner"]),
    ("ALTER SCHEMA s_owned OWNER TO later_owner", ["later_owner"]),
    ("GRANT USAGE ON SCHEMA s_granted TO later_reader", ["later_reader"]),
])
def test_what_names_a_role_comes_after_it(roles_later_sql: str, statement: str, needs: list[str]) -> None:
    at = roles_later_sql.index(statement)
    for role in needs:
        assert roles_later_sql.index(f"CREATE ROLE {role};") < at, f"{statement} before {role}"


def test_an_extension_comes_after_the_schema_it_is_installed_in(roles_later_sql: str) -> None:
    assert roles_later_sql.index("CREATE SCHEMA ext;") < roles_later_sql.index("CREATE EXTENSION IF NOT EXISTS citext")


def test_a_cycle_names_each_waiting_object_what_it_waits_for_and_where(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"01-ring.yaml": {"module": "Ring", "types": {
        "ring_a": {"domain": "ring_b"}, "ring_b": {"attributes": {"x": "ring_a"}},
        "ring_c": {"attributes": {"x": "ring_a", "y": "ring_b"}}, "free": {"enum": ["a"]}}}})
    with pytest.raises(SpecError) as refused:
        build(spec)
    lines = (spec / "01-ring.yaml").read_text(encoding="utf-8").splitlines()
    got = [(lines[d.pos.line - 2].strip(), d.message) for d in refused.value.diagnostics]
    assert sorted(got) == [
        ("ring_a:", "dependency cycle: type public.ring_a waits for type public.ring_b"),
        ("ring_b:", "dependency cycle: type public.ring_b waits for type public.ring_a"),
        ("ring_c:", "dependency cycle: type public.ring_c waits for type public.ring_a, type public.ring_b"),
    ]


def test_default_privileges_of_two_roles_in_one_schema_are_both_altered(tmp_path: Path) -> None:
    """ALTER DEFAULT PRIVILEGES FOR ROLE applies to the objects that role creates: one statement per role."""
    module = {"module": "Defaults", "roles": {"maker": {}, "other_maker": {}, "reader": {}},
              "default_privileges": [{"for_role": "maker", "tables": {"reader": ["select"]}},
                                     {"for_role": "other_maker", "tables": {"reader": ["select"]}},
                                     {"tables": {"reader": ["select"]}}]}
    text = sql_of(build(write_spec(tmp_path, {"01-defaults.yaml": module})).files, "schema.sql")
    assert "ALTER DEFAULT PRIVILEGES FOR ROLE maker" in text and "ALTER DEFAULT PRIVILEGES FOR ROLE other_maker" in text
    assert "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO reader" in text


# ALTER DEFAULT PRIVILEGES needs its FOR ROLE, its IN SCHEMA and its grantees to exist; it comes after the extensions
# (default privileges apply to every object created afterwards: an extension's own objects keep what its script
# gives them). One need at a time in the later module, so that no other need moves it there.
@pytest.mark.parametrize(("later", "need"), [
    ({"schemas": {"later_s": {}}}, "CREATE SCHEMA later_s"),
    ({"roles": {"maker": {}}}, "CREATE ROLE maker;"),
    ({"roles": {"reader": {}}}, "CREATE ROLE reader;"),
    ({"extensions": {"pg_trgm": {}}}, "CREATE EXTENSION IF NOT EXISTS pg_trgm"),
])
def test_default_privileges_wait_for_each_thing_they_need(tmp_path_factory: pytest.TempPathFactory,
                                                          later: dict[str, Any], need: str) -> None:
    everything = {"roles": {"maker": {}, "reader": {}}, "schemas": {"later_s": {}}}
    first = {"module": "Defaults", **{kind: {name: body for name, body in objects.items()
                                             if name not in later.get(kind, {})}
                                      for kind, objects in everything.items()},
             "default_privileges": [{"for_role": "maker", "schema": "later_s", "tables": {"reader": ["select"]}}]}
    text = sql_of(built(tmp_path_factory, first, {"module": "Later", **later}).files, "schema.sql")
    assert text.index(need) < text.index("ALTER DEFAULT PRIVILEGES FOR ROLE maker IN SCHEMA later_s")


def test_what_needs_nothing_later_stays_in_its_module(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Placement: an item goes to the module declaring it unless something it needs comes later; a btree index with
    the built-in operator classes needs no extension."""
    first = {"module": "Plain", "tables": {"t": {"columns": {"n": "integer"}, "indexes": {"i_plain": ["n"]}}}}
    text = sql_of(built(tmp_path_factory, first, {"module": "Later", "extensions": {"btree_gist": {}}}).files,
                  "schema.sql")
    assert text.index("CREATE INDEX i_plain") < text.index("CREATE EXTENSION IF NOT EXISTS btree_gist")


# An exclusion constraint waits for every extension (its operator classes may be one's): with none declared later,
# what decides is the function its predicate or an expression element calls.
@pytest.mark.parametrize("exclude", [{"elements": {"r": "&&"}, "where": "public.later_fn(1) > 0"},
                                     {"elements": {"(public.later_range(r))": "&&"}}])
def test_an_exclusion_constraint_waits_for_the_functions_it_calls(tmp_path_factory: pytest.TempPathFactory,
                                                                   exclude: dict[str, Any]) -> None:
    first = {"module": "Excludes", "tables": {"t": {"columns": {"r": "int4range"}, "excludes": {"apart": exclude}}}}
    later = {"module": "Later", "functions": {name: LATER["functions"][name] for name in ("later_fn", "later_range")}}
    text = sql_of(built(tmp_path_factory, first, later).files, "schema.sql")
    assert text.index("CREATE FUNCTION public.later_") < text.index("CREATE TABLE public.t")


@pytest.mark.parametrize("cast", ["NULL::later_mood", "NULL::public.later_mood"])
def test_a_view_waits_for_the_type_it_casts_to(tmp_path_factory: pytest.TempPathFactory, cast: str) -> None:
    first = {"module": "Casts", "views": {"v": {"query": f"SELECT {cast} AS m"}}}
    later = {"module": "Later", "types": {"later_mood": {"enum": ["ok"]}}}
    text = sql_of(built(tmp_path_factory, first, later).files, "schema.sql")
    assert text.index("CREATE TYPE public.later_mood") < text.index("CREATE VIEW public.v")
