"""Verify generated SQL: pglast parses every statement, and the parse trees declare exactly what the model does.

Two independent inventories are compared: one computed from the model (what the spec declares), one read from the
parse trees of the rendered SQL (what the output actually creates). Each entry is a readable line such as
`policy public.t."name" FOR SELECT TO authenticated USING (...)`; expressions appear in pglast's canonical form,
so the comparison is by parse tree, not by spelling. PL/pgSQL bodies are parsed too, statement by statement.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import sqlparse
from .derive import RAW_REGISTRY_TABLE, SEED_REGISTRY_SCHEMA, Catalog, default_acls, parse_reference
from .diagnostics import Mismatch
from .model import (
    DefaultPrivileges,
    Extension,
    Function,
    Grant,
    Index,
    MaterializedView,
    Policy,
    RawSql,
    Role,
    SchemaDef,
    Sequence,
    Table,
    Trigger,
    TypeDef,
    View,
)
from .order import Item, Placed
from .partitions import PartitionEntry, values_text
from .sqlparse import ast
from .sqltext import (
    BUILTIN_TYPES,
    INDEX_KEY,
    QName,
    Returns,
    SqlType,
    ident,
    parse_returns,
    parse_type,
    qname,
    qualified_parts,
    routine_name,
    unquote_ident,
)

# An expression or query inside an inventory line: its parse tree as compact JSON without positions, between
# markers, so that lines compare by parse tree. Mismatch lines show it as SQL again (`readable`).
_OPEN, _CLOSE = "\u27e6", "\u27e7"


def canon(node: Json | None) -> str:
    return "" if node is None else _OPEN + sqlparse.positionless(json.dumps(node, separators=(",", ":"))) + _CLOSE


@lru_cache(maxsize=16384)
def canon_expr(text: str | None) -> str:
    """An expression in canonical form; cached, as the same expression is expected in a module file and in
    schema.sql, and specs repeat expressions."""
    if text is None:
        return ""
    select = sqlparse.parse_json(f"SELECT {text}")[0]["SelectStmt"]
    return canon(select["targetList"][0]["ResTarget"]["val"])


@lru_cache(maxsize=4096)
def canon_query(text: str) -> str:
    return canon(sqlparse.parse_json(text)[0])


def readable(line: str) -> str:
    """An inventory line with each parse tree printed as SQL (pglast's canonical spelling), for people."""
    return re.sub(f"{_OPEN}(.*?){_CLOSE}", lambda m: _deparse_json(m.group(1)), line)


def _deparse_json(text: str) -> str:
    try:
        return sqlparse.deparse(_to_ast(json.loads(text)))
    except Exception:  # display only: show the tree rather than hide the mismatch
        return text


def _to_ast(value: Any, ctype: str = "") -> Any:
    """A JSON parse tree as pglast nodes (only to print a mismatch)."""
    if isinstance(value, list):
        return tuple(_to_ast(v) for v in value)
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and "List" in value:  # pglast has no List node: a list is a tuple
        return tuple(_to_ast(v) for v in value["List"].get("items", ()))
    if len(value) == 1 and isinstance(getattr(ast, next(iter(value)), None), type):
        kind, fields = _unwrap(value)
        return _to_ast(fields, kind + "*")
    cls = getattr(ast, ctype.rstrip("*"))
    if cls is ast.A_Const:  # the value is a field named after its kind: {"ival": {"ival": 5}}
        if "isnull" in value:
            return ast.A_Const(isnull=True)
        ((key, inner),) = value.items()
        kinds = {"ival": ast.Integer, "fval": ast.Float, "sval": ast.String, "boolval": ast.Boolean,
                 "bsval": ast.BitString}
        return ast.A_Const(val=kinds[key](**{key: inner.get(key, 0 if key == "ival" else False)}))
    defaults: dict[str, Any] = {"ival": 0} if cls is ast.Integer else {"boolval": False} if cls is ast.Boolean else {}
    return cls(**defaults | {k: _to_ast(v, cls.__slots__[k].c_type) for k, v in value.items()})


def _spec_type(text: str) -> str:
    return str(parse_type(text))


# -- expected, from the model ------------------------------------------------------------------------------------
def _grants(kind: str, target: str, grants: Iterable[Grant], revoke_from: Iterable[str] = ()) -> set[str]:
    """The object's ACL: each granted privilege, and the blanket revokes that make the grants exact."""
    return ({f"grant {p} on {kind} {target} to {g.role}" for g in grants for p in g.privileges}
            | {f"revoke all on {kind} {target} from {role}" for role in revoke_from})


def _per_column(privilege: str) -> list[str]:
    """`update (a) (b)` -> `update (a)`, `update (b)`; a privilege without columns as it is."""
    name, *columns = privilege.split(" ")
    return [f"{name} {c}" for c in columns] or [name]


def _column_grants(table: Table) -> set[str]:
    """GRANT privilege (column) ON TABLE: one line per column privilege."""
    name = qname(table.name)
    return {f"grant {p} ({c.name}) on table {name} to {g.role}" for c in table.columns for g in c.grants
            for p in g.privileges}


def _revoked(catalog: Catalog) -> list[str]:
    return ["public", *catalog.roles]


def _signature(function: Function) -> str:
    return f"{qname(function.name)}({', '.join(_spec_type(a.type) for a in function.inputs)})"


Expect = Callable[[Any, Item, Catalog], set[str]]
_EXPECT: dict[str, Expect] = {}


def expects(kind: str) -> Callable[[Expect], Expect]:
    """Register what one item kind must put into the inventory; a kind without a rule fails loudly."""

    def register(fn: Expect) -> Expect:
        if kind in _EXPECT:
            raise RuntimeError(f"expectation for {kind!r} registered twice")
        _EXPECT[kind] = fn
        return fn

    return register


def expected(placed: Iterable[Placed], catalog: Catalog, memo: dict[int, set[str]] | None = None) -> set[str]:
    """What the items must put into the inventory. `memo` (by item identity) is shared by the files of one
    build: schema.sql expects every item a module file does."""
    memo = {} if memo is None else memo
    out: set[str] = set()
    for p in placed:
        if p.item.kind not in _EXPECT:
            raise RuntimeError(f"verify has no rule for item kind {p.item.kind!r}")
        want = memo.get(id(p.item))
        if want is None:
            want = memo[id(p.item)] = _EXPECT[p.item.kind](p.item.obj, p.item, catalog)
        out |= want
    return out


def _owner(item: Item) -> QName:
    assert item.table is not None, item.key
    return qname(item.table.name)


def _comment(kind: str, name: object, text: str | None) -> set[str]:
    return {f"comment {kind} {name}"} if text else set()


def _owned(kind: str, name: object, owner: str | None) -> set[str]:
    """ALTER ... OWNER TO, when the spec names an owner."""
    return {f"owner of {kind} {name}: {owner}"} if owner else set()


@expects("role")
def _expect_role(role: Role, item: Item, catalog: Catalog) -> set[str]:
    return {f"role {role.name} login={role.login} bypassrls={role.bypass_rls}"}


@expects("schema")
def _expect_schema(schema: SchemaDef, item: Item, catalog: Catalog) -> set[str]:
    return ({f"schema {schema.name}"} | _grants("schema", schema.name, schema.grants)
            | _comment("schema", schema.name, schema.comment) | _owned("schema", schema.name, schema.owner))


@expects("extension")
def _expect_extension(extension: Extension, item: Item, catalog: Catalog) -> set[str]:
    return {f"extension {extension.name} schema={extension.schema} version={extension.version}"}


@expects("default_privileges")
def _expect_default_privileges(defaults: DefaultPrivileges, item: Item, catalog: Catalog) -> set[str]:
    scope = f"default privileges for {defaults.for_role or '-'} in {defaults.schema or '*'}"
    return {f"{scope}: {'grant' if acl.grant else 'revoke'} {p} on {acl.kind} {'to' if acl.grant else 'from'} "
            f"{acl.role}" for acl in default_acls(defaults) for p in acl.privileges}


@expects("type")
def _expect_type(type_def: TypeDef, item: Item, catalog: Catalog) -> set[str]:
    name = qname(type_def.name)
    out = _comment("type", name, type_def.comment) | _owned("type", name, type_def.owner)
    if "grants" in type_def.at:
        out |= _grants("type", str(name), type_def.grants, _revoked(catalog))
    if type_def.kind == "composite":
        attributes = [(a.name, _spec_type(a.type), a.collation) for a in type_def.attributes]
        return out | {f"type {name} attributes {attributes!r}"}
    if type_def.kind == "domain":
        return out | {_domain_line(name, _spec_type(type_def.domain or ""), type_def.collation, type_def.not_null,
                                   canon_expr(type_def.default))} \
            | {f"domain {name} check {c.name} {canon_expr(c.expr)}" for c in type_def.checks}
    return out | {f"type {name} enum {list(type_def.enum)!r}"}


def _domain_line(name: QName, base: str, collation: str | None, not_null: bool, default: str) -> str:
    """One line per domain, the same from the model and from a parse tree."""
    return f"domain {name} as {base} collate {collation} not_null={not_null} default {default}"


@expects("sequence")
def _expect_sequence(seq: Sequence, item: Item, catalog: Catalog) -> set[str]:
    name = qname(seq.name)
    return (_with_acl(f"sequence {name} start={seq.start} max={seq.max_value}", "sequence", seq, catalog)
            | _owned("sequence", name, seq.owner))


@expects("owned_by")
def _expect_owned_by(seq: Sequence, item: Item, catalog: Catalog) -> set[str]:
    parts = seq.owning_column
    assert parts is not None, seq.name
    return {_owned_by_line(qname(seq.name), str(qname(parts[0])), parts[1])}


def _owned_by_line(name: QName, table: str, column: str) -> str:
    return f"sequence {name} owned by {table}.{column}"


def _with_acl(line: str, kind: str, obj: Sequence | View | MaterializedView, catalog: Catalog) -> set[str]:
    """The statement's line, its grants (a view's are a table's) and its comment."""
    name = qname(obj.name)
    return ({line} | _grants("sequence" if kind == "sequence" else "table", str(name), obj.grants, _revoked(catalog))
            | _comment(kind, name, obj.comment))


def _function_line(sig: str, returns: Returns, language: str, volatility: str, security: str,
                   search_path: tuple[str, ...] | None, options: tuple[Any, ...],
                   defaults: tuple[tuple[str, str, str | None], ...]) -> str:
    """One line per function, the same from the model and from a parse tree (options: strict, leakproof,
    parallel, cost, rows)."""
    strict, leakproof, parallel, cost, rows = options
    if returns.type is None and not returns.columns:  # a procedure: no result, nor what describes one
        return f"procedure {sig} {language} security={security} search_path={search_path!r} defaults={defaults!r}"
    return (f"function {sig} returns {returns} {language} {volatility} security={security} "
            f"search_path={search_path!r} strict={strict} leakproof={leakproof} parallel={parallel} cost={cost} "
            f"rows={rows} defaults={defaults!r}")


_MODES = {"FUNC_PARAM_IN": "in", "FUNC_PARAM_DEFAULT": "in", "FUNC_PARAM_OUT": "out", "FUNC_PARAM_INOUT": "inout",
          "FUNC_PARAM_VARIADIC": "variadic"}


@expects("function")
def _expect_function(fn: Function, item: Item, catalog: Catalog) -> set[str]:
    sig = _signature(fn)
    options = (fn.strict, fn.leakproof, fn.parallel, fn.cost, fn.rows)
    returns = parse_returns(fn.result) if fn.result is not None else Returns(None)
    return ({_function_line(sig, returns, fn.language, fn.volatility, fn.security,
                            fn.search_path, options,
                            tuple((a.mode, _spec_type(a.type), canon_expr(a.default)) for a in fn.args))}
            | _grants(fn.KIND, sig, fn.grants, _revoked(catalog)) | _comment(fn.KIND, sig, fn.comment)
            | _owned(fn.KIND, sig, fn.owner))


@expects("table")
def _expect_table(table: Table, item: Item, catalog: Catalog) -> set[str]:
    name = qname(table.name)
    out = ({f"table {name}" + (" unlogged" if table.unlogged else "")}
           | _grants("table", str(name), table.grants, _revoked(catalog)) | _column_grants(table)
           | _comment("table", name, table.comment) | _owned("table", name, table.owner))
    if table.partition_by is not None:
        out.add(f"table {name} partition by {_partition_spec(table.partition_by)}")
    for c in table.columns:
        has_default = c.default_sql is not None or c.default is not None
        i = c.identity
        identity = None if i is None else (i.generated, i.start, i.increment, i.min_value, i.max_value, i.cache,
                                           i.cycle)
        out.add(f"column {name}.{c.name} {_spec_type(c.type)} not_null={c.not_null} "
                f"default={'yes' if has_default else 'no'}"
                + _column_extras(c.collation, identity, canon_expr(c.generated) if c.generated is not None else None))
        out |= _comment("column", f"{name}.{c.name}", c.comment)
    for con in catalog.constraints(table):
        extras = _constraint_extras(con.deferrable, con.deferred, con.not_valid, con.nulls_not_distinct)
        if con.kind == "check":
            out.add(f"constraint {name}.{con.name} check {canon_expr(con.expr)}{extras}")
            continue
        if con.kind == "exclude":
            elements = ", ".join(f"{_spec_index_key(k)} WITH {_operator(op)}"
                                 for k, op in con.elements)
            out.add(f"constraint {name}.{con.name} exclude using {con.using} ({elements}) "
                    f"where {canon_expr(con.where)}{extras}")
            continue
        line = f"constraint {name}.{con.name} {con.kind} ({', '.join(con.columns)})"
        if con.kind == "foreign key":
            target, cols = parse_reference(con.ref_text or "")
            line += f" -> {target}({', '.join(cols)}) on delete {con.on_delete or 'no action'}"
        out.add(line + extras)
    return out


def _partition_spec(text: str) -> str:
    """A `partition_by:` as the parse tree of the PARTITION BY clause it stands for."""
    return canon(sqlparse.parse_json(f"CREATE TABLE t () PARTITION BY {text}")[0]["CreateStmt"]["partspec"])


@expects("partition")
def _expect_partition(entry: PartitionEntry, item: Item, catalog: Catalog) -> set[str]:
    p = entry.partition
    bound = "DEFAULT" if p.default else f"FOR VALUES {values_text(str(p.values))}"
    tree = sqlparse.parse_json(f"CREATE TABLE p PARTITION OF t {bound}")[0]["CreateStmt"]["partbound"]
    line = f"partition {entry.name} of {entry.parent} {canon(tree)}"
    if p.partition_by is not None:
        line += f" partition by {_partition_spec(p.partition_by)}"
    return ({line} | _grants("table", str(entry.name), p.grants, _revoked(catalog))
            | _comment("table", entry.name, p.comment) | _owned("table", entry.name, p.owner))


def _operator(text: str) -> str:
    """An operator as the parser names it: `&&`, `OPERATOR(s.&&)` -> `s.&&`."""
    m = re.fullmatch(r"\s*OPERATOR\s*\((.*)\)\s*", text, re.I | re.S)
    return re.sub(r"\s+", "", m[1]) if m else text.strip()


def _constraint_extras(deferrable: bool, deferred: bool, not_valid: bool, nulls_not_distinct: bool) -> str:
    """The inventory line's tail for DEFERRABLE, INITIALLY DEFERRED, NOT VALID and NULLS NOT DISTINCT; empty for
    a constraint with none of them."""
    return ((" deferrable" if deferrable else "") + (" initially deferred" if deferred else "")
            + (" not valid" if not_valid else "") + (" nulls not distinct" if nulls_not_distinct else ""))


def _index_key_line(head: str, collation: tuple[str, ...], opclass: tuple[str, ...], desc: bool, nulls: str) -> str:
    """One index key in the inventory: column or expression, collation, operator class, DESC, NULLS as written."""
    return (head + (f" collate {'.'.join(collation)}" if collation else "")
            + (f" {'.'.join(opclass)}" if opclass else "") + (" desc" if desc else "")
            + (f" nulls {nulls}" if nulls else ""))


def _spec_index_key(key: str) -> str:
    """A key of an index or an exclusion constraint as the spec writes it, as an inventory key."""
    m = INDEX_KEY.match(key.strip())
    if m is None:  # check refuses it; shown as written
        return key
    head = canon_expr(m["expr"]) if m["expr"] is not None else unquote_ident(m["col"])
    return _index_key_line(head, qualified_parts(m["collation"] or ""), qualified_parts(m["opclass"] or ""),
                           (m["dir"] or "").lower() == "desc", (m["nulls"] or "").lower())


def _index_line(name: str, table: str, method: str, keys: Iterable[str], include: Iterable[str], unique: bool,
                nulls_not_distinct: bool, where: str) -> str:
    return (f"index {name} on {table} using {method} ({', '.join(keys)}) include ({', '.join(include)}) "
            f"unique={unique} nulls_not_distinct={nulls_not_distinct} where {where}")


@expects("index")
def _expect_index(index: Index, item: Item, catalog: Catalog) -> set[str]:
    table = _owner(item)
    return ({_index_line(f"{table.schema}.{index.name}", str(table), index.method,
                         (_spec_index_key(k) for k in index.columns), index.include, index.unique,
                         index.nulls_not_distinct, canon_expr(index.where))}
            | _comment("index", f"{table.schema}.{index.name}", index.comment))


@expects("trigger")
def _expect_trigger(trigger: Trigger, item: Item, catalog: Catalog) -> set[str]:
    ref = trigger.referencing
    enable = {f"trigger {_owner(item)}.{trigger.name} enabled {trigger.enabled}"} if trigger.enabled != "origin" \
        else set()
    return {f"trigger {_owner(item)}.{trigger.name} {trigger.timing} {'/'.join(sorted(trigger.events))} "
            f"each {trigger.for_each} -> {routine_name(trigger.function)} when {canon_expr(trigger.when)}"
            + _trigger_clauses(trigger.columns, trigger.constraint, trigger.deferrable, trigger.initially_deferred,
                               ref.old_table if ref else None, ref.new_table if ref else None, trigger.args)} | enable \
        | _comment("trigger", f"{_owner(item)}.{trigger.name}", trigger.comment)


def _trigger_clauses(columns: Iterable[str], constraint: bool, deferrable: bool, deferred: bool,
                     old_table: str | None, new_table: str | None, args: Iterable[str]) -> str:
    """The clauses of CREATE TRIGGER beyond timing, events, level, function and WHEN, in one spelling."""
    return (f" of ({', '.join(columns)}) constraint={constraint} deferrable={deferrable} "
            f"initially_deferred={deferred} old_table={old_table} new_table={new_table} args={list(args)!r}")


@expects("rls")
def _expect_rls(table: Table, item: Item, catalog: Catalog) -> set[str]:
    name = qname(table.name)
    return {f"rls enable {name}"} | ({f"rls force {name}"} if table.rls == "forced" else set())


@expects("policy")
def _expect_policy(policy: Policy, item: Item, catalog: Catalog) -> set[str]:
    return {f"policy {_owner(item)}.{policy.name!r} {policy.mode} for {policy.command} "
            f"to {', '.join(sorted(policy.roles))} using {canon_expr(policy.using)} "
            f"check {canon_expr(policy.with_check)}"} \
        | _comment("policy", f"{_owner(item)}.{policy.name}", policy.comment)


@expects("seed")
def _expect_seed(table: Table, item: Item, catalog: Catalog) -> set[str]:
    return {f"seed {qname(table.name)} rows={len(table.seed)}",
            f"seed keys {qname(table.name)} rows={len(table.seed)}"}


@expects("view")
def _expect_view(view: View, item: Item, catalog: Catalog) -> set[str]:
    name = qname(view.name)
    return (_with_acl(f"view {name} security_invoker={view.security_invoker} check_option={view.check_option} "
                      f"query {canon_query(view.query)}", "view", view, catalog)
            | _owned("view", name, view.owner))


@expects("matview")
def _expect_matview(matview: MaterializedView, item: Item, catalog: Catalog) -> set[str]:
    return _with_acl(f"materialized view {qname(matview.name)} with_data={matview.with_data} "
                     f"query {canon_query(matview.query)}", "materialized view", matview, catalog) \
        | _owned("materialized view", qname(matview.name), matview.owner)


@expects("raw")
def _expect_raw(raw: RawSql, item: Item, catalog: Catalog) -> set[str]:
    """Each statement as the spec writes it (by parse tree), and the record the output writes of it."""
    return {f"raw {raw.name}: {canon(stmt)}" for stmt in sqlparse.parse_json(raw.sql)} | {_raw_record(
        raw.name, sqlparse.fingerprint(raw.sql), raw.drop)}


def _raw_record(name: str, fingerprint: str, drop: str | None) -> str:
    return (f"raw record {name} fingerprint={fingerprint} "
            f"drop={sqlparse.fingerprint(drop) if drop is not None else None}")


def raw_statements(catalog: Catalog) -> dict[str, str]:
    """Every raw SQL object's statements in canonical form -> the object's name: in the output, a statement equal
    to one of them is that object's (raw SQL may hold any statement, so it is known by its parse tree)."""
    return {canon(stmt): raw.name for raw in catalog.raw.values() for stmt in sqlparse.parse_json(raw.sql)}


# -- found, from the SQL -----------------------------------------------------------------------------------------
# The SQL side is read from pglast's JSON parse tree (libpg_query's, built in C): building pglast's Python node
# objects and deparsing them cost most of `generate` on large specs. Fields that are false, zero or empty are
# absent from the JSON; enums are names.
_OBJ = {"OBJECT_TABLE": "table", "OBJECT_FUNCTION": "function", "OBJECT_SCHEMA": "schema",
        "OBJECT_SEQUENCE": "sequence", "OBJECT_COLUMN": "column", "OBJECT_VIEW": "view", "OBJECT_INDEX": "index",
        "OBJECT_TRIGGER": "trigger", "OBJECT_POLICY": "policy", "OBJECT_TYPE": "type", "OBJECT_DOMAIN": "type",
        "OBJECT_MATVIEW": "materialized view", "OBJECT_PROCEDURE": "procedure"}
_TIMING = {0: "after", 2: "before", 64: "instead of"}
_EVENTS = {4: "insert", 8: "delete", 16: "update", 32: "truncate"}
_TRIGGER_MODES = {"AT_EnableTrig": "origin", "AT_EnableAlwaysTrig": "always", "AT_EnableReplicaTrig": "replica",
                  "AT_DisableTrig": "disabled"}
_FK_ACTION = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}

Json = dict[str, Any]
SEED_REGISTRY = f"seed registry {SEED_REGISTRY_SCHEMA}.seed_rows"
RAW_REGISTRY = f"raw SQL registry {SEED_REGISTRY_SCHEMA}.{RAW_REGISTRY_TABLE}"
TOOL_SCHEMA = f"tool schema {SEED_REGISTRY_SCHEMA}"


class VerifyError(Exception):
    """Output SQL that does not parse."""


def found(sql: str, memo: dict[str, frozenset[str]] | None = None, raw: dict[str, str] | None = None, *,
          repeats: bool = False) -> set[str]:
    """The inventory of a script. With `memo`, each distinct statement is parsed and read once: schema.sql
    repeats every module file's statements, which need not be verified twice. `raw`: the raw SQL objects'
    statements (raw_statements), known by their parse trees. `repeats`: a script whose statements were mostly
    read before (schema.sql), split without parse trees and only the new statements parsed; any other script is
    parsed whole, once, into trees with their texts."""
    memo = {} if memo is None else memo
    try:
        statements = ([(None, text) for text in sqlparse.split_texts(sql)] if repeats
                      else sqlparse.split_json(sql))
    except sqlparse.SqlSyntaxError as exc:
        raise VerifyError(f"does not parse: {exc}") from None
    out: set[str] = set()
    for tree, text in statements:
        got = memo.get(text)
        if got is None:
            trees = sqlparse.parse_json(text) if tree is None else [tree]
            got = memo[text] = frozenset().union(*(_found_statement(stmt, text, raw) for stmt in trees))
        out |= got
    return out


def _unwrap(node: Json) -> tuple[str, Json]:
    """A JSON node `{"Kind": {fields}}` as its kind and fields."""
    ((kind, fields),) = node.items()
    return kind, fields


def _names(nodes: list[Json]) -> list[str]:
    return [n["String"]["sval"] for n in nodes if "String" in n]


# datetime.h: the typmod field mask of an interval (INTERVAL_MASK of YEAR 2, MONTH 1, DAY 3, HOUR 10, MINUTE 11,
# SECOND 12), as the parser puts it before the precision; 0x7FFF is no restriction (INTERVAL_FULL_RANGE).
_FIELD_BITS = {"year": 4, "month": 2, "day": 8, "hour": 1024, "minute": 2048, "second": 4096}


def _field_mask(fields: str) -> int:
    """`day to second` -> the bits of day, hour, minute and second."""
    first, _, last = fields.partition(" to ")
    names = list(_FIELD_BITS)
    return sum(_FIELD_BITS[f] for f in names[names.index(first):names.index(last or first) + 1])


INTERVAL_FIELDS = {0x7FFF: "interval", **{_field_mask(t.removeprefix("interval ")): t
                                          for t in BUILTIN_TYPES if t.startswith("interval ")}}


def _type(tn: Json) -> str:
    return str(SqlType(*_type_parts(tn)))


def _type_parts(tn: Json) -> tuple[str, tuple[int, ...], int]:
    names = _names(tn["names"])
    # A built-in type may be spelled pg_catalog.int4; a declared one keeps its schema (`app.mood`).
    base = names[-1] if names[0] == "pg_catalog" else ".".join(ident(n) for n in names)
    args = tuple(m["A_Const"].get("ival", {}).get("ival", 0) for m in tn.get("typmods", ()) if "A_Const" in m)
    if base == "interval" and args:  # the parser's field mask comes first, then the precision
        base = INTERVAL_FIELDS.get(args[0], base)
        args = args[1:]
    return parse_type(base).base, args, len(tn.get("arrayBounds", ()))


def _int(node: Json) -> int:
    """An integer option value; the parser keeps integers beyond int32 as Float nodes holding the digits."""
    return int(node["Float"]["fval"]) if "Float" in node else int(node["Integer"].get("ival", 0))


def _rv(rv: Json) -> str:
    return str(QName(rv.get("schemaname") or "public", rv["relname"]))


def _options(stmt: Json) -> dict[str, Json]:
    return {o["DefElem"]["defname"]: o["DefElem"].get("arg", {}) for o in stmt.get("options", ())}


def _role(spec: Json) -> str:
    return "public" if spec["roletype"] == "ROLESPEC_PUBLIC" else str(spec["rolename"])


def _objname(obj: Json) -> str:
    kind, fields = _unwrap(obj)
    if kind == "RangeVar":
        return _rv(fields)
    if kind == "ObjectWithArgs":
        return (f"{'.'.join(_names(fields['objname']))}"
                f"({', '.join(_type(t['TypeName']) for t in fields.get('objargs', ()))})")
    if kind == "String":
        return str(fields["sval"])
    if kind == "List":
        return ".".join(_names(fields.get("items", [])))
    if kind == "TypeName":
        return _type(fields)
    raise VerifyError(f"unexpected object {obj!r}")


_HANDLERS: dict[str, Callable[[Json, str], set[str]]] = {}


def handles(kind: str) -> Callable[[Callable[[Json, str], set[str]]], Callable[[Json, str], set[str]]]:
    """Register the inventory reader of one statement kind."""

    def register(fn: Callable[[Json, str], set[str]]) -> Callable[[Json, str], set[str]]:
        if kind in _HANDLERS:
            raise RuntimeError(f"{kind} registered twice")
        _HANDLERS[kind] = fn
        return fn

    return register


def _found_statement(node: Json, text: str, raw: dict[str, str] | None = None) -> set[str]:
    if raw:
        tree = canon(node)
        if tree in raw:
            return {f"raw {raw[tree]}: {tree}"}
    kind, stmt = _unwrap(node)
    handler = _HANDLERS.get(kind)
    return handler(stmt, text) if handler else {f"unexpected statement {kind}"}


@handles("DoStmt")
def _do_stmt(stmt: Json, text: str) -> set[str]:
    return set()  # the role creation guard; the role itself is declared by the ALTER ROLE that follows


@handles("AlterRoleStmt")
def _alter_role_stmt(stmt: Json, text: str) -> set[str]:
    opts = {name: arg["Boolean"].get("boolval", False) for name, arg in _options(stmt).items()}
    return {f"role {stmt['role']['rolename']} login={opts['canlogin']} bypassrls={opts['bypassrls']}"}


@handles("CreateSchemaStmt")
def _create_schema_stmt(stmt: Json, text: str) -> set[str]:
    if stmt["schemaname"] == SEED_REGISTRY_SCHEMA and stmt.get("if_not_exists"):
        return {TOOL_SCHEMA}
    return {f"schema {stmt['schemaname']}"}


@handles("CreateExtensionStmt")
def _create_extension_stmt(stmt: Json, text: str) -> set[str]:
    # Without IF NOT EXISTS the output would fail where a platform pre-installs the extension.
    opts = {name: arg["String"]["sval"] for name, arg in _options(stmt).items()}
    created = "extension" if stmt.get("if_not_exists") else "extension (not IF NOT EXISTS)"
    return {f"{created} {stmt['extname']} schema={opts.get('schema')} version={opts.get('new_version')}"}


@handles("AlterDefaultPrivilegesStmt")
def _alter_default_privileges_stmt(stmt: Json, text: str) -> set[str]:
    opts = _options(stmt)
    roles = [_role(r["RoleSpec"]) for r in opts.get("roles", {}).get("List", {}).get("items", [])] or ["-"]
    schemas = _names(opts.get("schemas", {}).get("List", {}).get("items", [])) or ["*"]
    action = stmt["action"]
    kind = {"OBJECT_TABLE": "tables", "OBJECT_SEQUENCE": "sequences", "OBJECT_FUNCTION": "functions",
            "OBJECT_TYPE": "types"}.get(action["objtype"], action["objtype"])
    privileges = [p["AccessPriv"]["priv_name"] for p in action.get("privileges", ())] or ["all"]
    verb, to = ("grant", "to") if action.get("is_grant") else ("revoke", "from")
    return {f"default privileges for {role} in {schema}: {verb} {p} on {kind} {to} {_role(g['RoleSpec'])}"
            for role in roles for schema in schemas for p in privileges for g in action["grantees"]}


@handles("CreateEnumStmt")
def _create_enum_stmt(stmt: Json, text: str) -> set[str]:
    name = _names(stmt["typeName"])
    labels = _names(stmt.get("vals", []))
    return {f"type {QName(name[0] if len(name) > 1 else 'public', name[-1])} enum {labels!r}"}


@handles("CompositeTypeStmt")
def _composite_type_stmt(stmt: Json, text: str) -> set[str]:
    attributes = [(c["ColumnDef"]["colname"], _type(c["ColumnDef"]["typeName"]), _collation(c["ColumnDef"]))
                  for c in stmt.get("coldeflist", ())]
    return {f"type {_rv(stmt['typevar'])} attributes {attributes!r}"}


def _collation(node: Json) -> str | None:
    """The collation a COLLATE clause names (one name: the spec's collations are unqualified)."""
    names = _names(node.get("collClause", {}).get("collname", []))
    return names[-1] if names else None


@handles("CreateDomainStmt")
def _create_domain_stmt(stmt: Json, text: str) -> set[str]:
    parts = _names(stmt["domainname"])
    name = QName(parts[0] if len(parts) > 1 else "public", parts[-1])
    constraints = [c["Constraint"] for c in stmt.get("constraints", ())]
    default = next((canon(c.get("raw_expr")) for c in constraints if c["contype"] == "CONSTR_DEFAULT"), "")
    not_null = any(c["contype"] == "CONSTR_NOTNULL" for c in constraints)
    return {_domain_line(name, _type(stmt["typeName"]), _collation(stmt), not_null, default)} \
        | {f"domain {name} check {c.get('conname')} {canon(c.get('raw_expr'))}" for c in constraints
           if c["contype"] == "CONSTR_CHECK"} \
        | {f"domain {name} {c['contype']}" for c in constraints
           if c["contype"] not in ("CONSTR_DEFAULT", "CONSTR_NOTNULL", "CONSTR_CHECK")}


@handles("CreateSeqStmt")
def _create_seq_stmt(stmt: Json, text: str) -> set[str]:
    opts = _options(stmt)
    maxv = _int(opts["maxvalue"]) if "maxvalue" in opts else None
    return {f"sequence {_rv(stmt['sequence'])} start={_int(opts['start'])} max={maxv}"}


@handles("AlterSeqStmt")
def _alter_seq_stmt(stmt: Json, text: str) -> set[str]:
    """ALTER SEQUENCE ... OWNED BY (the output alters a sequence for nothing else)."""
    name = QName(stmt["sequence"].get("schemaname") or "public", stmt["sequence"]["relname"])
    out = set()
    for option, arg in _options(stmt).items():
        if option != "owned_by":
            out.add(f"sequence {name} altered: {option}")
            continue
        parts = _names(arg["List"]["items"])
        if len(parts) == 1:  # OWNED BY NONE
            out.add(f"sequence {name} owned by none")
        else:
            table = QName(parts[0], parts[1]) if len(parts) == 3 else QName("public", parts[0])
            out.add(_owned_by_line(name, str(table), parts[-1]))
    return out


@handles("CreateFunctionStmt")
def _create_function_stmt(stmt: Json, text: str) -> set[str]:
    opts = _options(stmt)
    name = ".".join(_names(stmt["funcname"]))
    every = [p["FunctionParameter"] for p in stmt.get("parameters", ())]
    params = [p for p in every if p["mode"] != "FUNC_PARAM_TABLE"]
    inputs = [p for p in params if p["mode"] != "FUNC_PARAM_OUT"]
    columns = tuple((p["name"], SqlType(*_type_parts(p["argType"]))) for p in every if p["mode"] == "FUNC_PARAM_TABLE")
    sig = f"{name}({', '.join(_type(p['argType']) for p in inputs)})"
    if stmt.get("is_procedure"):
        returns = Returns(None)
    else:
        returns = Returns(None, True, columns) if columns else Returns(SqlType(*_type_parts(stmt["returnType"])),
                                                                       bool(stmt["returnType"].get("setof")))
    language = opts["language"]["String"]["sval"]
    search_path = None
    if "set" in opts:
        setting = opts["set"]["VariableSetStmt"]
        # One argument per schema; `''` (an empty name) is how the empty path is written.
        values = [a["A_Const"].get("sval", {}).get("sval", "") for a in setting.get("args", ())]
        search_path = tuple(v for v in values if v) if setting["name"] == "search_path" else None
    security = "definer" if "security" in opts and opts["security"]["Boolean"].get("boolval") else "invoker"
    options = (*(bool(key in opts and opts[key]["Boolean"].get("boolval")) for key in ("strict", "leakproof")),
               opts["parallel"]["String"]["sval"] if "parallel" in opts else "unsafe",
               *(_int(opts[key]) if key in opts else None for key in ("cost", "rows")))
    defaults = tuple((_MODES[p["mode"]], _type(p["argType"]), canon(p.get("defexpr"))) for p in params)
    volatility = opts["volatility"]["String"]["sval"] if "volatility" in opts else "volatile"
    out = {_function_line(sig, returns, language, volatility, security, search_path,
                          options, defaults)}
    body = opts["as"]["List"]["items"][0]["String"]["sval"]
    try:
        if language == "plpgsql":
            # Valid for PostgreSQL, unreadable for pglast: lint's plpgsql_body_unchecked reports it.
            with contextlib.suppress(sqlparse.PlpgsqlUnsupported):
                sqlparse.plpgsql_fragments(text)
        else:
            sqlparse.statement_references(body)
    except sqlparse.SqlSyntaxError as exc:
        raise VerifyError(f"function {sig}: {exc}") from None
    return out


@handles("CreateStmt")
def _create_stmt(stmt: Json, text: str) -> set[str]:
    if stmt["relation"].get("schemaname") == SEED_REGISTRY_SCHEMA and stmt.get("if_not_exists"):
        return {RAW_REGISTRY if stmt["relation"]["relname"] == RAW_REGISTRY_TABLE else SEED_REGISTRY}
    table = _rv(stmt["relation"])
    partition_by = f" partition by {canon(stmt['partspec'])}" if "partspec" in stmt else ""
    if "partbound" in stmt:  # CREATE TABLE ... PARTITION OF parent FOR VALUES ...: no columns of its own
        return {f"partition {table} of {_rv(stmt['inhRelations'][0]['RangeVar'])} {canon(stmt['partbound'])}"
                + partition_by} | {f"unexpected column {table}.{_unwrap(e)[1].get('colname')}"
                                   for e in stmt.get("tableElts", ())}
    out = {f"table {table}" + (" unlogged" if stmt["relation"].get("relpersistence") == "u" else "")}
    if partition_by:
        out.add(f"table {table}{partition_by}")
    for elt in stmt.get("tableElts", ()):
        kind, fields = _unwrap(elt)
        if kind == "ColumnDef":
            by_kind = {c["Constraint"]["contype"]: c["Constraint"] for c in fields.get("constraints", ())}
            collation = fields.get("collClause", {}).get("collname")
            generated = by_kind.get("CONSTR_GENERATED")
            out.add(f"column {table}.{fields['colname']} {_type(fields['typeName'])} "
                    f"not_null={'CONSTR_NOTNULL' in by_kind} default={'yes' if 'CONSTR_DEFAULT' in by_kind else 'no'}"
                    + _column_extras(collation and ".".join(n["String"]["sval"] for n in collation),
                                     _identity(by_kind.get("CONSTR_IDENTITY")),
                                     canon(generated["raw_expr"]) if generated else None))
        elif kind == "Constraint":
            out.add(_constraint(table, fields))
    return out


def _column_extras(collation: str | None, identity: tuple[object, ...] | None, generated: str | None) -> str:
    """The inventory line's tail for a collation, an identity (kind and sequence options as written) and a
    generation expression; empty for a plain column."""
    return ((f" collate={collation}" if collation is not None else "")
            + (f" identity={identity}" if identity else "")
            + (f" generated={generated}" if generated is not None else ""))


# GENERATED ... AS IDENTITY options as the parser names them, in the order of the spec's identity tuple.
_IDENTITY_OPTIONS = ("start", "increment", "minvalue", "maxvalue", "cache")


def _identity(constraint: Json | None) -> tuple[object, ...] | None:
    if constraint is None:
        return None
    options = {o["DefElem"]["defname"]: o["DefElem"].get("arg") for o in constraint.get("options", ())}
    cycle = options.get("cycle")
    return ("always" if constraint["generated_when"] == "a" else "by default",
            *(_int(options[k]) if options.get(k) is not None else None for k in _IDENTITY_OPTIONS),
            bool(cycle and cycle["Boolean"].get("boolval")))


_NULLS = {"SORTBY_NULLS_FIRST": "first", "SORTBY_NULLS_LAST": "last"}


def _index_elem(e: Json) -> str:
    """A key of an index or an exclusion constraint from its parse tree, as an inventory key."""
    return _index_key_line(e.get("name") or canon(e.get("expr")), tuple(_names(e.get("collation", ()))),
                           tuple(_names(e.get("opclass", ()))), e.get("ordering") == "SORTBY_DESC",
                           _NULLS.get(e.get("nulls_ordering", ""), ""))


@handles("IndexStmt")
def _index_stmt(stmt: Json, text: str) -> set[str]:
    keys = (_index_elem(p["IndexElem"]) for p in stmt["indexParams"])
    include = (p["IndexElem"]["name"] for p in stmt.get("indexIncludingParams", ()))
    schema = stmt["relation"].get("schemaname") or "public"
    return {_index_line(f"{schema}.{stmt['idxname']}", _rv(stmt["relation"]), stmt.get("accessMethod", "btree"),
                        keys, include, bool(stmt.get("unique")), bool(stmt.get("nulls_not_distinct")),
                        canon(stmt.get("whereClause")))}


@handles("CreateTrigStmt")
def _create_trig_stmt(stmt: Json, text: str) -> set[str]:
    events = sorted(name for bit, name in _EVENTS.items() if stmt.get("events", 0) & bit)
    transition = {bool(t["TriggerTransition"].get("isNew")): t["TriggerTransition"]["name"]
                  for t in stmt.get("transitionRels", ())}
    return {f"trigger {_rv(stmt['relation'])}.{stmt['trigname']} {_TIMING[stmt.get('timing', 0)]} "
            f"{'/'.join(events)} each {'row' if stmt.get('row') else 'statement'} -> "
            f"{'.'.join(_names(stmt['funcname']))} when {canon(stmt.get('whenClause'))}"
            + _trigger_clauses(_names(stmt.get("columns", [])), bool(stmt.get("isconstraint")),
                               bool(stmt.get("deferrable")), bool(stmt.get("initdeferred")),
                               transition.get(False), transition.get(True),
                               (a["String"]["sval"] for a in stmt.get("args", ())))}


@handles("AlterTableStmt")
def _alter_table_stmt(stmt: Json, text: str) -> set[str]:
    out: set[str] = set()
    for cmd in stmt["cmds"]:
        subtype = cmd["AlterTableCmd"]["subtype"]
        if subtype == "AT_EnableRowSecurity":
            out.add(f"rls enable {_rv(stmt['relation'])}")
        elif subtype == "AT_ForceRowSecurity":
            out.add(f"rls force {_rv(stmt['relation'])}")
        elif subtype == "AT_AddConstraint":  # a NOT VALID constraint, added after CREATE TABLE
            out.add(_constraint(_rv(stmt["relation"]), cmd["AlterTableCmd"]["def"]["Constraint"]))
        elif subtype == "AT_ChangeOwner":
            out.add(f"owner of {_OBJ[stmt['objtype']]} {_rv(stmt['relation'])}: "
                    f"{_role(cmd['AlterTableCmd']['newowner'])}")
        elif subtype in _TRIGGER_MODES:
            out.add(f"trigger {_rv(stmt['relation'])}.{cmd['AlterTableCmd']['name']} enabled "
                    f"{_TRIGGER_MODES[subtype]}")
        else:
            out.add(f"alter table {_rv(stmt['relation'])} {subtype}")
    return out


@handles("AlterOwnerStmt")
def _alter_owner_stmt(stmt: Json, text: str) -> set[str]:
    return {f"owner of {_OBJ[stmt['objectType']]} {_objname(stmt['object'])}: {_role(stmt['newowner'])}"}


@handles("CreatePolicyStmt")
def _create_policy_stmt(stmt: Json, text: str) -> set[str]:
    roles = sorted(_role(r["RoleSpec"]) for r in stmt["roles"])
    return {f"policy {_rv(stmt['table'])}.{stmt['policy_name']!r} "
            f"{'permissive' if stmt.get('permissive') else 'restrictive'} for {stmt['cmd_name']} "
            f"to {', '.join(roles)} using {canon(stmt.get('qual'))} check {canon(stmt.get('with_check'))}"}


@handles("ViewStmt")
def _view_stmt(stmt: Json, text: str) -> set[str]:
    opts = _options(stmt)
    invoker = opts.get("security_invoker", {}).get("String", {}).get("sval") == "true"
    check = {"LOCAL_CHECK_OPTION": "local", "CASCADED_CHECK_OPTION": "cascaded"}.get(stmt.get("withCheckOption", ""))
    return {f"view {_rv(stmt['view'])} security_invoker={invoker} check_option={check} query {canon(stmt['query'])}"}


@handles("CreateTableAsStmt")
def _create_table_as_stmt(stmt: Json, text: str) -> set[str]:
    into = stmt["into"]
    kind = "materialized view" if stmt.get("objtype") == "OBJECT_MATVIEW" else "table as"
    return {f"{kind} {_rv(into['rel'])} with_data={not into.get('skipData')} query {canon(stmt['query'])}"}


@handles("GrantStmt")
def _grant_stmt(stmt: Json, text: str) -> set[str]:
    kind = _OBJ[stmt["objtype"]]
    # A column privilege names its columns: `update (meta)` (each column a line of its own).
    privileges = [p["AccessPriv"]["priv_name"]
                  + "".join(f" ({c['String']['sval']})" for c in p["AccessPriv"].get("cols", ()))
                  for p in stmt["privileges"]] if stmt.get("privileges") else ["all"]
    privileges = [q for p in privileges for q in _per_column(p)]
    out: set[str] = set()
    for target in stmt["objects"]:
        for grantee in stmt["grantees"]:
            role = _role(grantee["RoleSpec"])
            if stmt.get("is_grant"):
                out |= {f"grant {p} on {kind} {_objname(target)} to {role}" for p in privileges}
            else:
                out |= {f"revoke {p} on {kind} {_objname(target)} from {role}" for p in privileges}
    return out


@handles("CommentStmt")
def _comment_stmt(stmt: Json, text: str) -> set[str]:
    return {f"comment {_OBJ.get(stmt['objtype'], stmt['objtype'])} {_objname(stmt['object'])}"}


@handles("InsertStmt")
def _insert_stmt(stmt: Json, text: str) -> set[str]:
    rows = stmt["selectStmt"]["SelectStmt"]["valuesLists"]
    if stmt["relation"].get("schemaname") == SEED_REGISTRY_SCHEMA and stmt["relation"]["relname"] == RAW_REGISTRY_TABLE:
        values = [[v["A_Const"].get("sval", {}).get("sval") for v in r["List"]["items"]] for r in rows]
        return {_raw_record(name, fp, drop) for name, fp, drop in values}
    if stmt["relation"].get("schemaname") == SEED_REGISTRY_SCHEMA:
        firsts = (r["List"]["items"][0] for r in rows)
        tables = {f["A_Const"]["sval"]["sval"] for f in firsts if "A_Const" in f}
        return {f"seed keys {t} rows={len(rows)}" for t in tables}
    return {f"seed {_rv(stmt['relation'])} rows={len(rows)}"}


def _constraint(table: str, c: Json) -> str:
    cols = ", ".join(_names(c.get("keys") or c.get("fk_attrs") or []))
    contype, name = c["contype"], c.get("conname")
    extras = _constraint_extras(bool(c.get("deferrable")), bool(c.get("initdeferred")),
                                bool(c.get("skip_validation")), bool(c.get("nulls_not_distinct")))
    if contype == "CONSTR_PRIMARY":
        return f"constraint {table}.{name} primary key ({cols}){extras}"
    if contype == "CONSTR_UNIQUE":
        return f"constraint {table}.{name} unique ({cols}){extras}"
    if contype == "CONSTR_FOREIGN":
        target = ", ".join(_names(c["pk_attrs"]))
        return (f"constraint {table}.{name} foreign key ({cols}) -> {_rv(c['pktable'])}({target}) "
                f"on delete {_FK_ACTION[c['fk_del_action']]}{extras}")
    if contype == "CONSTR_CHECK":
        return f"constraint {table}.{name} check {canon(c['raw_expr'])}{extras}"
    if contype == "CONSTR_EXCLUSION":
        elements = []
        for pair in c["exclusions"]:
            elem, op = pair["List"]["items"]
            elements.append(f"{_index_elem(elem['IndexElem'])} WITH {'.'.join(_names(op['List']['items']))}")
        return (f"constraint {table}.{name} exclude using {c.get('access_method')} ({', '.join(elements)}) "
                f"where {canon(c.get('where_clause'))}{extras}")
    return f"constraint {table}.{name} {contype}"


@dataclass
class Memo:
    """What the files of one build share: schema.sql repeats the module files (see `expected` and `found`)."""

    expected: dict[int, set[str]] = field(default_factory=dict)
    found: dict[str, frozenset[str]] = field(default_factory=dict)
    raw: dict[str, str] | None = None  # raw_statements of the build's catalog, computed once


def verify_sql(file: str, sql: str, placed: Iterable[Placed], catalog: Catalog, *,
               registry: bool = False, raw_registry: bool = False, memo: Memo | None = None,
               repeats: bool = False) -> Mismatch | None:
    """Compare one output file's SQL with the items placed in it (and the seed and raw SQL registries when the
    file creates them); None when they agree. `repeats`: the file repeats files verified before with `memo`."""
    memo = Memo() if memo is None else memo
    if memo.raw is None:
        memo.raw = raw_statements(catalog)
    want = (expected(placed, catalog, memo.expected) | ({SEED_REGISTRY, TOOL_SCHEMA} if registry else set())
            | ({RAW_REGISTRY, TOOL_SCHEMA} if raw_registry else set()))
    try:
        got = found(sql, memo.found, memo.raw, repeats=repeats)
    except VerifyError as exc:
        return Mismatch(file, (), (str(exc),))
    if want == got:
        return None
    return Mismatch(file, tuple(sorted(readable(x) for x in want - got)),
                    tuple(sorted(readable(x) for x in got - want)))
