"""derive.py's pure functions, tested where the suite only reached them on a live PostgreSQL (or not at all):
identity sequence defaults, the identity options read back from a database, raw SQL's `depends_on` names, the
built-in default privileges, seed row fingerprints. Written against mutmut's survivors (bench/RESULTS.md).

Expectations come from PostgreSQL's documentation: CREATE SEQUENCE (an ascending sequence's MINVALUE defaults to 1
and MAXVALUE to the type's maximum, a descending one's to the type's minimum and -1; START defaults to MINVALUE
going up and MAXVALUE going down; INCREMENT and CACHE default to 1), ALTER DEFAULT PRIVILEGES (functions are
executable and types usable by PUBLIC unless the global defaults revoke it), and from the spec's documented
`depends_on` forms (README: `KIND NAME` for a schema, extension, role or raw object, else a relation's name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from specs import write_spec

from generator.derive import (
    Catalog,
    default_acls,
    identity_bounds,
    identity_from_options,
    identity_options,
    identity_sql,
    index_key_sql,
    seed_fingerprint,
    seed_key,
    seed_key_text,
)
from generator.diagnostics import Pos
from generator.load import load_spec
from generator.model import DefaultPrivileges, Grant, Identity
from generator.order import build_items

INT4_MAX, INT8_MAX, INT2_MAX = 2**31 - 1, 2**63 - 1, 2**15 - 1


# -- identity columns: the sequence PostgreSQL creates ------------------------------------------------------------
@pytest.mark.parametrize(("base", "top"), [("smallint", INT2_MAX), ("integer", INT4_MAX), ("bigint", INT8_MAX)])
def test_identity_bounds_default_to_the_type_range_in_the_direction_of_the_increment(base: str, top: int) -> None:
    assert identity_bounds(Identity(generated="always"), base) == (1, top)
    assert identity_bounds(Identity(generated="always", increment=5), base) == (1, top)
    assert identity_bounds(Identity(generated="always", increment=-1), base) == (-top - 1, -1)
    assert identity_bounds(Identity(generated="always", increment=-3, min_value=-50), base) == (-50, -1)
    assert identity_bounds(Identity(generated="always", increment=-3, max_value=-7), base) == (-top - 1, -7)
    assert identity_bounds(Identity(generated="always", min_value=10, max_value=20), base) == (10, 20)


def test_identity_bounds_of_an_unknown_base_are_bigint_ones() -> None:
    """A domain or other name the table does not resolve: the sequence is bigint's (PostgreSQL's default)."""
    assert identity_bounds(Identity(generated="always"), "my_domain") == (1, INT8_MAX)
    assert identity_bounds(Identity(generated="always", increment=-1), "my_domain") == (-INT8_MAX - 1, -1)


def test_identity_options_fill_in_every_default() -> None:
    assert identity_options(Identity(generated="always"), "integer") == (1, 1, 1, INT4_MAX, 1, False)
    assert identity_options(Identity(generated="by default", increment=-2), "smallint") == \
        (-1, -2, -INT2_MAX - 1, -1, 1, False)
    assert identity_options(Identity(generated="always", min_value=100), "bigint") == (100, 1, 100, INT8_MAX, 1, False)
    assert identity_options(Identity(generated="always", increment=-1, max_value=-10), "integer") == \
        (-10, -1, -INT4_MAX - 1, -10, 1, False)
    given = Identity(generated="always", start=7, increment=3, min_value=5, max_value=90, cache=20, cycle=True)
    assert identity_options(given, "integer") == (7, 3, 5, 90, 20, True)
    # a start given is kept, even one equal to a default
    assert identity_options(Identity(generated="always", start=1), "integer")[0] == 1
    assert identity_options(Identity(generated="always", start=0, min_value=-5), "integer")[0] == 0


IDENTITIES = [
    Identity(generated="always"),
    Identity(generated="by default"),
    Identity(generated="always", start=1000),
    Identity(generated="always", increment=10, cache=50),
    Identity(generated="by default", increment=-1),
    Identity(generated="always", increment=-5, start=-100, min_value=-1000, max_value=-100, cycle=True),
    Identity(generated="always", min_value=0),
    Identity(generated="by default", max_value=500, start=2, cycle=True),
    Identity(generated="always", increment=2, min_value=-4),
]


@pytest.mark.parametrize("base", ["smallint", "integer", "bigint"])
@pytest.mark.parametrize("identity", IDENTITIES, ids=lambda i: identity_sql(i))
def test_identity_read_back_from_its_options_keeps_only_what_differs_from_the_defaults(identity: Identity,
                                                                                       base: str) -> None:
    """introspect turns a database's sequence options into the spec's Identity: written without the defaults,
    and the same options again."""
    options = identity_options(identity, base)
    back = identity_from_options(identity.generated, base, options)
    assert identity_options(back, base) == options
    assert back.generated == identity.generated
    start, increment, low, high, cache, cycle = options
    d_low, d_high = (1, {"smallint": INT2_MAX, "integer": INT4_MAX, "bigint": INT8_MAX}[base]) if increment > 0 \
        else (-{"smallint": INT2_MAX, "integer": INT4_MAX, "bigint": INT8_MAX}[base] - 1, -1)
    assert back.increment == (None if increment == 1 else increment)
    assert back.min_value == (None if low == d_low else low)
    assert back.max_value == (None if high == d_high else high)
    assert back.start == (None if start == (low if increment > 0 else high) else start)
    assert back.cache == (None if cache == 1 else cache)
    assert back.cycle is cycle


def test_identity_from_the_database_defaults_is_the_bare_identity() -> None:
    assert identity_from_options("always", "integer", (1, 1, 1, INT4_MAX, 1, False)) == Identity(generated="always")
    assert identity_from_options("by default", "bigint", (-1, -1, -INT8_MAX - 1, -1, 1, False)) == \
        Identity(generated="by default", increment=-1)
    assert identity_from_options("always", "smallint", (5, 1, 5, 300, 10, True)) == \
        Identity(generated="always", min_value=5, max_value=300, cache=10, cycle=True)
    assert identity_from_options("always", "integer", (50, 1, 1, INT4_MAX, 1, False)) == \
        Identity(generated="always", start=50)


def test_identity_sql_writes_the_options_in_postgresql_s_spelling_and_order() -> None:
    every = Identity(generated="by default", start=10, increment=2, min_value=1, max_value=99, cache=5, cycle=True)
    assert identity_sql(every) == ("GENERATED BY DEFAULT AS IDENTITY (START WITH 10 INCREMENT BY 2 MINVALUE 1 "
                                   "MAXVALUE 99 CACHE 5 CYCLE)")
    assert identity_sql(Identity(generated="always")) == "GENERATED ALWAYS AS IDENTITY"


# -- index keys --------------------------------------------------------------------------------------------------
def test_index_key_sql_quotes_columns_and_keeps_an_expression_and_a_key_outside_the_grammar() -> None:
    assert index_key_sql("created_at DESC NULLS LAST") == "created_at DESC NULLS LAST"
    assert index_key_sql("User") == '"user"'  # folded to lower case, and quoted: USER is a reserved word
    assert index_key_sql('"Mixed" DESC') == '"Mixed" DESC'
    assert index_key_sql("(lower(email))") == "(lower(email))"
    assert index_key_sql("a b c d e") == "a b c d e"  # check refuses it; shown as written


# -- default privileges --------------------------------------------------------------------------------------------
def _defaults(kind: str, schema: str | None = None, **grants: tuple[str, ...]) -> DefaultPrivileges:
    """An entry as decoded from `KIND: {role: [privileges]}` (a global entry speaks for the kinds it lists)."""
    return DefaultPrivileges(schema=schema, at={kind: Pos("spec/x.yaml", 1, 1)},
                             **{kind: tuple(Grant(role=r, privileges=p) for r, p in grants.items())})


@pytest.mark.parametrize(("kind", "privilege"), [("functions", "execute"), ("types", "usage")])
def test_global_defaults_revoke_public_s_builtin_privilege_unless_they_keep_it(kind: str, privilege: str) -> None:
    revoke = [(False, (privilege,), kind, "public")]
    as_tuples = lambda d: [(a.grant, a.privileges, a.kind, a.role) for a in default_acls(d)]  # noqa: E731
    assert as_tuples(_defaults(kind, app=(privilege,))) == [*revoke, (True, (privilege,), kind, "app")]
    assert as_tuples(_defaults(kind, public=())) == revoke
    # PUBLIC keeps it (by name or as ALL): nothing revoked
    assert as_tuples(_defaults(kind, public=(privilege,))) == [(True, (privilege,), kind, "public")]
    assert as_tuples(_defaults(kind, public=("all",))) == [(True, ("all",), kind, "public")]
    # another role holding the privilege does not keep PUBLIC's
    assert as_tuples(_defaults(kind, app=("all",)))[0] == revoke[0]
    # IN SCHEMA defaults add to the global ones: nothing of the built-in default is revoked there
    assert as_tuples(_defaults(kind, schema="app", app=(privilege,))) == [(True, (privilege,), kind, "app")]
    assert default_acls(_defaults(kind, public=()))[0].sql() == \
        f"REVOKE {privilege.upper()} ON {kind.upper()} FROM PUBLIC"


# -- seed rows ------------------------------------------------------------------------------------------------------
def test_seed_fingerprint_is_compact_sorted_json_of_every_value() -> None:
    import datetime

    row = {"b": 2, "a": "x", "when": datetime.date(2026, 1, 2)}
    assert seed_fingerprint(row) == '{"a":"x","b":2,"when":"2026-01-02"}'
    assert seed_fingerprint({"when": datetime.date(2026, 1, 2), "a": "x", "b": 2}) == seed_fingerprint(row)
    assert seed_fingerprint({"a": "x", "b": 3}) != seed_fingerprint({"a": "x", "b": 2})


# -- raw SQL's depends_on ---------------------------------------------------------------------------------------------
SPEC: dict[str, Any] = {
    "module": "Everything",
    "roles": {"app": {}},
    "schemas": {"app": {}},
    "extensions": {"citext": {}},
    "types": {"app.mood": {"enum": ["happy", "sad"]}},
    "sequences": {"counter_seq": {"start": 1}},
    "functions": {"app.answer": {"returns": "integer", "language": "sql", "body": "SELECT 42"}},
    "tables": {"items": {"columns": {"id": {"type": "bigint", "primary_key": True}}},
               "app.things": {"columns": {"id": {"type": "bigint", "primary_key": True}}}},
    "views": {"item_ids": {"query": "SELECT id FROM public.items"}},
    "raw": {"stats": {"sql": "CREATE STATISTICS public.s ON id, id FROM public.items", "drop": "DROP STATISTICS s"}},
}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return Catalog(load_spec(write_spec(tmp_path_factory.mktemp("derive"), {"01-all.yaml": SPEC})))


ENTRIES = {  # a depends_on entry -> the object it names (kind, name as the order of the output knows it)
    "schema app": ("schema", "app"), "extension citext": ("extension", "citext"), "role app": ("role", "app"),
    "raw stats": ("raw", "stats"), "items": ("table", "public.items"), "public.items": ("table", "public.items"),
    "app.things": ("table", "app.things"), "item_ids": ("view", "public.item_ids"),
    "public.item_ids": ("view", "public.item_ids"), "counter_seq": ("sequence", "public.counter_seq"),
    "public.counter_seq": ("sequence", "public.counter_seq"), "app.answer": ("function", "app.answer()"),
    "app.mood": ("type", "app.mood"),
}


def test_each_depends_on_form_names_the_object_the_output_orders(catalog: Catalog) -> None:
    keys = {item.key for item in build_items(catalog)}
    for entry, key in ENTRIES.items():
        assert catalog.raw_dependency(entry) == key, entry
        assert key in keys, key  # the same node of the order's graph: the raw SQL is placed after it


@pytest.mark.parametrize("entry", ["schema nowhere", "role nobody", "extension hstore", "raw other", "things",
                                   "view item_ids", "app items", "nothing at all"])
def test_a_depends_on_entry_naming_nothing_is_none(catalog: Catalog, entry: str) -> None:
    assert catalog.raw_dependency(entry) is None


def test_the_names_suggested_for_depends_on_are_exactly_the_valid_ones(catalog: Catalog) -> None:
    names = catalog.raw_dependency_names()
    assert sorted(names) == sorted(ENTRIES)  # public needs no entry: the spec does not create it
    assert all(catalog.raw_dependency(n) is not None for n in names)


# -- seed keys: which columns identify a seed row (README: the first primary key or unique constraint every row
# gives, else every column the rows give) ----------------------------------------------------------------------------
def _seeded(tmp_path: Path, table: dict[str, Any]) -> tuple[tuple[str, ...], Catalog]:
    catalog = Catalog(load_spec(write_spec(tmp_path, {"01-seed.yaml": {"module": "Seed", "tables": {"t": table}}})))
    (t,) = catalog.tables.values()
    return seed_key(t, catalog.constraints(t)), catalog


def test_seed_key_is_the_primary_key_in_its_own_column_order(tmp_path: Path) -> None:
    key, _ = _seeded(tmp_path, {"columns": {"a": "integer", "b": "integer", "label": "text"},
                                "primary_key": ["b", "a"],
                                "seed": [{"a": 1, "b": 2, "label": "x"}, {"a": 1, "b": 3}]})
    assert key == ("b", "a")


def test_seed_key_is_a_unique_constraint_the_rows_give_when_they_leave_out_the_primary_key(tmp_path: Path) -> None:
    key, _ = _seeded(tmp_path, {"columns": {"id": {"type": "integer", "primary_key": True},
                                            "slug": {"type": "text", "unique": True}, "label": "text"},
                                "seed": [{"slug": "a", "label": "x"}, {"slug": "b"}]})
    assert key == ("slug",)


def test_seed_key_is_every_column_the_rows_give_without_such_a_constraint(tmp_path: Path) -> None:
    key, _ = _seeded(tmp_path, {"columns": {"id": {"type": "integer", "primary_key": True}, "label": "text",
                                            "note": "text", "unused": "text"},
                                "seed": [{"label": "x"}, {"note": "y"}]})
    assert key == ("label", "note")


def test_seed_key_text_is_the_key_s_values_as_json_with_sorted_keys() -> None:
    import datetime
    import json

    values = {"b": 2, "a": datetime.date(2026, 1, 2), "c": "not in the key"}
    text = seed_key_text(values, ("b", "a"))
    assert json.loads(text) == {"a": "2026-01-02", "b": 2}
    assert text == seed_key_text(dict(reversed(values.items())), ("a", "b"))
    assert text.index('"a"') < text.index('"b"')


# -- the constraints a table declares, as derived: every field the spec gives, carried to render, verify and plans --
CONSTRAINED = """\
module: Constraints
enums:
  channel:
    values: [email, phone]
tables:
  rooms:
    columns:
      id: integer
      code: text
    primary_key: [id, code]
  bookings:
    columns:
      id: {type: integer, primary_key: true}
      room_id: {type: integer, references: rooms(id), on_delete: set null, on_update: cascade}
      room_code: text
      during: tsrange
      via: {type: text, enum: channel}
    unique:
      bookings_during_key: {columns: [during], renamed_from: bookings_when_key, deferrable: true}
    foreign_keys:
      bookings_room_fkey2:
        columns: [room_id, room_code]
        references: rooms(id, code)
        on_delete: cascade
        on_update: restrict
        renamed_from: bookings_old_fkey
        not_valid: true
        deferrable: initially deferred
    checks:
      short_stay: {expr: upper(during) - lower(during) < interval '30 days', renamed_from: stay_check}
    excludes:
      no_overlap:
        elements: {room_id: '=', during: '&&'}
        note: one booking per room at a time
        renamed_from: no_double_booking
        deferrable: initially deferred
"""


def _where(text: str, needle: str) -> tuple[int, int]:
    """Line and column (from 1) where `needle` starts in the YAML text."""
    before = text[:text.index(needle)]
    return before.count("\n") + 1, len(before.rsplit("\n", 1)[-1]) + 1


@pytest.fixture(scope="module")
def constrained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    spec = tmp_path_factory.mktemp("constraints") / "spec"
    spec.mkdir()
    (spec / "01-constraints.yaml").write_text(CONSTRAINED, encoding="utf-8")
    catalog = Catalog(load_spec(spec))
    return {table.name: {c.name: c for c in catalog.constraints(table)} for table in catalog.tables.values()}


def test_a_table_level_primary_key_is_placed_at_its_key(constrained: dict[str, dict[str, Any]]) -> None:
    pk = constrained["rooms"]["rooms_pkey"]
    assert pk.columns == ("id", "code") and (pk.pos.line, pk.pos.col) == _where(CONSTRAINED, "[id, code]")


def test_each_declared_constraint_field_is_derived(constrained: dict[str, dict[str, Any]]) -> None:
    got = constrained["bookings"]
    column_fk = got["bookings_room_id_fkey"]
    assert (column_fk.on_delete, column_fk.on_update) == ("set null", "cascade")
    fk = got["bookings_room_fkey2"]
    assert (fk.columns, fk.ref_text, fk.on_delete, fk.on_update, fk.renamed_from, fk.not_valid, fk.deferrable,
            fk.deferred) == (("room_id", "room_code"), "rooms(id, code)", "cascade", "restrict", "bookings_old_fkey",
                             True, True, True)
    unique = got["bookings_during_key"]
    assert (unique.renamed_from, unique.deferrable, unique.deferred) == ("bookings_when_key", True, False)
    check = got["short_stay"]
    assert (check.renamed_from, check.not_valid) == ("stay_check", False)
    exclude = got["no_overlap"]
    assert (exclude.note, exclude.renamed_from, exclude.deferrable, exclude.deferred) == \
        ("one booking per room at a time", "no_double_booking", True, True)
    assert (exclude.pos.line, exclude.pos.col) == _where(CONSTRAINED, "elements: {room_id")
    enum_check = got["valid_via"]
    assert (enum_check.pos.line, enum_check.pos.col) == _where(CONSTRAINED, "channel}")
