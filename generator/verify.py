"""Verify generated SQL: pglast parses every statement, and the parse trees declare exactly what the model does.

Two independent inventories are compared: one computed from the model (what the spec declares), one read from the
parse trees of the rendered SQL (what the output actually creates). Each entry is a readable line such as
`policy public.t."name" FOR SELECT TO authenticated USING (...)`; expressions appear in pglast's canonical form,
so the comparison is by parse tree, not by spelling. PL/pgSQL bodies are parsed too, statement by statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pglast import enums

from . import sqlparse
from .derive import SEED_REGISTRY_SCHEMA, Catalog, parse_reference
from .model import Function, Grant, Index, Policy, Role, SchemaDef, Sequence, Table, Trigger, View
from .order import Item, Placed
from .sqlparse import ast
from .sqltext import QName, SqlType, parse_type, qname


@dataclass(frozen=True)
class Mismatch:
    file: str
    missing: tuple[str, ...]  # declared by the spec, absent from the SQL
    unexpected: tuple[str, ...]  # in the SQL, not declared by the spec

    def lines(self) -> list[str]:
        return ([f"{self.file}: missing from SQL: {m}" for m in self.missing]
                + [f"{self.file}: not in spec: {u}" for u in self.unexpected])


def canon(node: Any) -> str:
    return sqlparse.deparse(node)


@lru_cache(maxsize=16384)
def canon_expr(text: str | None) -> str:
    """An expression in canonical form; cached, as the same expression is expected in a module file and in
    schema.sql, and specs repeat expressions."""
    return "" if text is None else canon(sqlparse.parse_expression(text))


@lru_cache(maxsize=4096)
def canon_query(text: str) -> str:
    return canon(sqlparse.parse_query(text))


def _type(tn: Any) -> str:
    names = [s.sval for s in tn.names]
    base = names[-1]
    args = tuple(m.val.ival for m in (tn.typmods or ()) if type(m) is ast.A_Const)
    parsed = parse_type(base)
    return str(SqlType(parsed.base, args, len(tn.arrayBounds or ())))


def _int(node: Any) -> int:
    """An integer option value; the parser keeps integers beyond int32 as Float nodes holding the digits."""
    return int(node.fval) if type(node) is ast.Float else int(node.ival)


def _rv(rv: Any) -> str:
    return str(QName(rv.schemaname or "public", rv.relname))


def _spec_type(text: str) -> str:
    return str(parse_type(text))


# -- expected, from the model ------------------------------------------------------------------------------------
def _grants(kind: str, target: str, grants: Iterable[Grant], revoke_from: Iterable[str] = ()) -> set[str]:
    """The object's ACL: each granted privilege, and the blanket revokes that make the grants exact."""
    return ({f"grant {p} on {kind} {target} to {g.role}" for g in grants for p in g.privileges}
            | {f"revoke all on {kind} {target} from {role}" for role in revoke_from})


def _revoked(catalog: Catalog) -> list[str]:
    return ["public", *catalog.roles]


def _signature(function: Function) -> str:
    return f"{qname(function.name)}({', '.join(_spec_type(a.type) for a in function.args)})"


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


def expected(placed: Iterable[Placed], catalog: Catalog) -> set[str]:
    out: set[str] = set()
    for p in placed:
        if p.item.kind not in _EXPECT:
            raise RuntimeError(f"verify has no rule for item kind {p.item.kind!r}")
        out |= _EXPECT[p.item.kind](p.item.obj, p.item, catalog)
    return out


def _owner(item: Item) -> QName:
    assert item.table is not None, item.key
    return qname(item.table.name)


def _comment(kind: str, name: object, text: str | None) -> set[str]:
    return {f"comment {kind} {name}"} if text else set()


@expects("role")
def _expect_role(role: Role, item: Item, catalog: Catalog) -> set[str]:
    return {f"role {role.name} login={role.login} bypassrls={role.bypass_rls}"}


@expects("schema")
def _expect_schema(schema: SchemaDef, item: Item, catalog: Catalog) -> set[str]:
    return ({f"schema {schema.name}"} | _grants("schema", schema.name, schema.grants)
            | _comment("schema", schema.name, schema.comment))


@expects("sequence")
def _expect_sequence(seq: Sequence, item: Item, catalog: Catalog) -> set[str]:
    name = qname(seq.name)
    return ({f"sequence {name} start={seq.start} max={seq.max_value}"}
            | _grants("sequence", str(name), seq.grants, _revoked(catalog))
            | _comment("sequence", name, seq.comment))


@expects("function")
def _expect_function(fn: Function, item: Item, catalog: Catalog) -> set[str]:
    sig = _signature(fn)
    return ({f"function {sig} returns {_spec_type(fn.returns)} {fn.language} {fn.volatility} "
             f"security={fn.security} search_path={fn.search_path!r}"}
            | _grants("function", sig, fn.grants, _revoked(catalog)) | _comment("function", sig, fn.comment))


@expects("table")
def _expect_table(table: Table, item: Item, catalog: Catalog) -> set[str]:
    name = qname(table.name)
    out = ({f"table {name}"} | _grants("table", str(name), table.grants, _revoked(catalog))
           | _comment("table", name, table.comment))
    for c in table.columns:
        has_default = c.default_sql is not None or c.default is not None
        out.add(f"column {name}.{c.name} {_spec_type(c.type)} not_null={c.not_null} "
                f"default={'yes' if has_default else 'no'}")
        out |= _comment("column", f"{name}.{c.name}", c.comment)
    for con in catalog.constraints(table):
        if con.kind == "check":
            out.add(f"constraint {name}.{con.name} check {canon_expr(con.expr)}")
            continue
        line = f"constraint {name}.{con.name} {con.kind} ({', '.join(con.columns)})"
        if con.kind == "foreign key":
            target, cols = parse_reference(con.ref_text or "")
            line += f" -> {target}({', '.join(cols)}) on delete {con.on_delete or 'no action'}"
        out.add(line)
    return out


@expects("index")
def _expect_index(index: Index, item: Item, catalog: Catalog) -> set[str]:
    table = _owner(item)
    keys = ", ".join(canon_expr(k) if k.startswith("(") else k.split()[0] for k in index.columns)
    return {f"index {table.schema}.{index.name} on {table} using {index.method} ({keys}) unique={index.unique} "
            f"where {canon_expr(index.where)}"} | _comment("index", f"{table.schema}.{index.name}", index.comment)


@expects("trigger")
def _expect_trigger(trigger: Trigger, item: Item, catalog: Catalog) -> set[str]:
    return {f"trigger {_owner(item)}.{trigger.name} {trigger.timing} {'/'.join(sorted(trigger.events))} "
            f"each {trigger.for_each} -> {qname(trigger.function)} when {canon_expr(trigger.when)}"} \
        | _comment("trigger", f"{_owner(item)}.{trigger.name}", trigger.comment)


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
    return ({f"view {name} security_invoker={view.security_invoker} query {canon_query(view.query)}"}
            | _grants("table", str(name), view.grants, _revoked(catalog)) | _comment("view", name, view.comment))


# -- found, from the SQL -----------------------------------------------------------------------------------------
_OBJ = {enums.ObjectType.OBJECT_TABLE: "table", enums.ObjectType.OBJECT_FUNCTION: "function",
        enums.ObjectType.OBJECT_SCHEMA: "schema", enums.ObjectType.OBJECT_SEQUENCE: "sequence",
        enums.ObjectType.OBJECT_COLUMN: "column", enums.ObjectType.OBJECT_VIEW: "view",
        enums.ObjectType.OBJECT_INDEX: "index", enums.ObjectType.OBJECT_TRIGGER: "trigger",
        enums.ObjectType.OBJECT_POLICY: "policy"}
_TIMING = {0: "after", 2: "before", 64: "instead of"}
_EVENTS = {4: "insert", 8: "delete", 16: "update", 32: "truncate"}


SEED_REGISTRY = f"seed registry {SEED_REGISTRY_SCHEMA}.seed_rows"


class VerifyError(Exception):
    """Output SQL that does not parse."""


def found(sql: str, memo: dict[str, frozenset[str]] | None = None) -> set[str]:
    """The inventory of a script. With `memo`, each distinct statement is parsed and read once: schema.sql
    repeats every module file's statements, which need not be verified twice."""
    try:
        texts = sqlparse.split_texts(sql)
    except sqlparse.SqlSyntaxError as exc:
        raise VerifyError(f"does not parse: {exc}") from None
    memo = {} if memo is None else memo
    out: set[str] = set()
    for text in texts:
        got = memo.get(text)
        if got is None:
            got = memo[text] = frozenset().union(*(_found_statement(stmt, text)
                                                   for stmt, _ in sqlparse.split_statements(text)))
        out |= got
    return out


def _objname(obj: Any) -> str:
    if isinstance(obj, ast.RangeVar):
        return _rv(obj)
    if isinstance(obj, ast.ObjectWithArgs):
        return f"{'.'.join(s.sval for s in obj.objname)}({', '.join(_type(t) for t in obj.objargs or ())})"
    if isinstance(obj, ast.String):
        return str(obj.sval)
    if isinstance(obj, tuple | list):
        return ".".join(s.sval for s in obj)
    raise VerifyError(f"unexpected object {obj!r}")


_HANDLERS: dict[type, Callable[[Any, str], set[str]]] = {}


def handles(node_type: type) -> Callable[[Callable[[Any, str], set[str]]], Callable[[Any, str], set[str]]]:
    """Register the inventory reader of one statement type (pglast trees are typed all-Optional: handlers take Any)."""

    def register(fn: Callable[[Any, str], set[str]]) -> Callable[[Any, str], set[str]]:
        if node_type in _HANDLERS:
            raise RuntimeError(f"{node_type.__name__} registered twice")
        _HANDLERS[node_type] = fn
        return fn

    return register


def _found_statement(stmt: Any, text: str) -> set[str]:
    handler = _HANDLERS.get(type(stmt))
    return handler(stmt, text) if handler else {f"unexpected statement {type(stmt).__name__}"}


@handles(ast.DoStmt)
def _do_stmt(stmt: Any, text: str) -> set[str]:
    return set()  # the role creation guard; the role itself is declared by the ALTER ROLE that follows


@handles(ast.AlterRoleStmt)
def _alter_role_stmt(stmt: Any, text: str) -> set[str]:
    out: set[str] = set()
    opts = {o.defname: o.arg.boolval for o in stmt.options}
    out.add(f"role {stmt.role.rolename} login={opts['canlogin']} bypassrls={opts['bypassrls']}")
    return out


@handles(ast.CreateSchemaStmt)
def _create_schema_stmt(stmt: Any, text: str) -> set[str]:
    if stmt.schemaname == SEED_REGISTRY_SCHEMA and stmt.if_not_exists:
        return {SEED_REGISTRY}
    out: set[str] = set()
    out.add(f"schema {stmt.schemaname}")
    return out


@handles(ast.CreateSeqStmt)
def _create_seq_stmt(stmt: Any, text: str) -> set[str]:
    out: set[str] = set()
    opts = {o.defname: o.arg for o in stmt.options or ()}
    maxv = _int(opts["maxvalue"]) if "maxvalue" in opts else None
    out.add(f"sequence {_rv(stmt.sequence)} start={_int(opts['start'])} max={maxv}")
    return out


@handles(ast.CreateFunctionStmt)
def _create_function_stmt(stmt: Any, text: str) -> set[str]:
    out: set[str] = set()
    opts = {o.defname: o.arg for o in stmt.options}
    name = ".".join(s.sval for s in stmt.funcname)
    sig = f"{name}({', '.join(_type(p.argType) for p in stmt.parameters or ())})"
    language = opts["language"].sval
    search_path = None
    if "set" in opts:
        setting = opts["set"]
        # One argument per schema; `''` (an empty name) is how the empty path is written.
        search_path = tuple(a.val.sval for a in setting.args if a.val.sval) if setting.name == "search_path" else None
    security = "definer" if "security" in opts and opts["security"].boolval else "invoker"
    out.add(f"function {sig} returns {_type(stmt.returnType)} {language} {opts['volatility'].sval} "
            f"security={security} search_path={search_path!r}")
    body = opts["as"][0].sval
    try:
        if language == "plpgsql":
            sqlparse.plpgsql_fragments(text)
        else:
            sqlparse.statement_references(body)
    except sqlparse.SqlSyntaxError as exc:
        raise VerifyError(f"function {sig}: {exc}") from None
    return out


@handles(ast.CreateStmt)
def _create_stmt(stmt: Any, text: str) -> set[str]:
    if stmt.relation.schemaname == SEED_REGISTRY_SCHEMA and stmt.if_not_exists:
        return {SEED_REGISTRY}
    out: set[str] = set()
    table = _rv(stmt.relation)
    out.add(f"table {table}")
    for elt in stmt.tableElts:
        if isinstance(elt, ast.ColumnDef):
            kinds = {c.contype for c in elt.constraints or ()}
            out.add(f"column {table}.{elt.colname} {_type(elt.typeName)} "
                    f"not_null={enums.ConstrType.CONSTR_NOTNULL in kinds} "
                    f"default={'yes' if enums.ConstrType.CONSTR_DEFAULT in kinds else 'no'}")
        elif isinstance(elt, ast.Constraint):
            out.add(_constraint(table, elt))
    return out


@handles(ast.IndexStmt)
def _index_stmt(stmt: Any, text: str) -> set[str]:
    out: set[str] = set()
    keys = ", ".join(p.name if p.name else canon(p.expr) for p in stmt.indexParams)
    schema = stmt.relation.schemaname or "public"
    out.add(f"index {schema}.{stmt.idxname} on {_rv(stmt.relation)} using {stmt.accessMethod or 'btree'} "
            f"({keys}) unique={bool(stmt.unique)} where {canon(stmt.whereClause)}")
    return out


@handles(ast.CreateTrigStmt)
def _create_trig_stmt(stmt: Any, text: str) -> set[str]:
    out: set[str] = set()
    events = sorted(name for bit, name in _EVENTS.items() if stmt.events & bit)
    out.add(f"trigger {_rv(stmt.relation)}.{stmt.trigname} {_TIMING[stmt.timing]} {'/'.join(events)} "
            f"each {'row' if stmt.row else 'statement'} -> {'.'.join(s.sval for s in stmt.funcname)} "
            f"when {canon(stmt.whenClause)}")
    return out


@handles(ast.AlterTableStmt)
def _alter_table_stmt(stmt: Any, text: str) -> set[str]:
    out: set[str] = set()
    for cmd in stmt.cmds:
        if cmd.subtype == enums.AlterTableType.AT_EnableRowSecurity:
            out.add(f"rls enable {_rv(stmt.relation)}")
        elif cmd.subtype == enums.AlterTableType.AT_ForceRowSecurity:
            out.add(f"rls force {_rv(stmt.relation)}")
        else:
            out.add(f"alter table {_rv(stmt.relation)} {cmd.subtype.name}")
    return out


@handles(ast.CreatePolicyStmt)
def _create_policy_stmt(stmt: Any, text: str) -> set[str]:
    out: set[str] = set()
    roles = sorted("public" if r.roletype == enums.RoleSpecType.ROLESPEC_PUBLIC else r.rolename
                   for r in stmt.roles)
    out.add(f"policy {_rv(stmt.table)}.{stmt.policy_name!r} {'permissive' if stmt.permissive else 'restrictive'}"
            f" for {stmt.cmd_name} to {', '.join(roles)} using {canon(stmt.qual)} "
            f"check {canon(stmt.with_check)}")
    return out


@handles(ast.ViewStmt)
def _view_stmt(stmt: Any, text: str) -> set[str]:
    out: set[str] = set()
    opts = {o.defname: o.arg for o in stmt.options or ()}
    invoker = "security_invoker" in opts and getattr(opts["security_invoker"], "sval", "") == "true"
    out.add(f"view {_rv(stmt.view)} security_invoker={invoker} query {canon(stmt.query)}")
    return out


@handles(ast.GrantStmt)
def _grant_stmt(stmt: Any, text: str) -> set[str]:
    out: set[str] = set()
    kind = _OBJ[stmt.objtype]
    privileges = [p.priv_name for p in stmt.privileges] if stmt.privileges else ["all"]
    for target in stmt.objects:
        for grantee in stmt.grantees:
            role = "public" if grantee.roletype == enums.RoleSpecType.ROLESPEC_PUBLIC else grantee.rolename
            if stmt.is_grant:
                out |= {f"grant {p} on {kind} {_objname(target)} to {role}" for p in privileges}
            else:
                out |= {f"revoke {p} on {kind} {_objname(target)} from {role}" for p in privileges}
    return out


@handles(ast.CommentStmt)
def _comment_stmt(stmt: Any, text: str) -> set[str]:
    out: set[str] = set()
    out.add(f"comment {_OBJ.get(stmt.objtype, str(stmt.objtype))} {_objname(stmt.object)}")
    return out


@handles(ast.InsertStmt)
def _insert_stmt(stmt: Any, text: str) -> set[str]:
    rows = stmt.selectStmt.valuesLists
    if stmt.relation.schemaname == SEED_REGISTRY_SCHEMA:
        tables = {r[0].val.sval for r in rows if isinstance(r[0], ast.A_Const)}
        return {f"seed keys {t} rows={len(rows)}" for t in tables}
    out: set[str] = set()
    out.add(f"seed {_rv(stmt.relation)} rows={len(rows)}")
    return out

_FK_ACTION = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}


def _constraint(table: str, c: Any) -> str:
    t = enums.ConstrType
    cols = ", ".join(s.sval for s in (c.keys or c.fk_attrs or ()))
    if c.contype == t.CONSTR_PRIMARY:
        return f"constraint {table}.{c.conname} primary key ({cols})"
    if c.contype == t.CONSTR_UNIQUE:
        return f"constraint {table}.{c.conname} unique ({cols})"
    if c.contype == t.CONSTR_FOREIGN:
        target = ", ".join(s.sval for s in c.pk_attrs)
        return (f"constraint {table}.{c.conname} foreign key ({cols}) -> {_rv(c.pktable)}({target}) "
                f"on delete {_FK_ACTION[c.fk_del_action]}")
    if c.contype == t.CONSTR_CHECK:
        return f"constraint {table}.{c.conname} check {canon(c.raw_expr)}"
    return f"constraint {table}.{c.conname} {c.contype.name}"


def verify_sql(file: str, sql: str, placed: Iterable[Placed], catalog: Catalog, *,
               registry: bool = False, memo: dict[str, frozenset[str]] | None = None) -> Mismatch | None:
    """Compare one output file's SQL with the items placed in it (and the seed registry when the file creates
    it); None when they agree. `memo` is shared by the files of one build (see `found`)."""
    want = expected(placed, catalog) | ({SEED_REGISTRY} if registry else set())
    try:
        got = found(sql, memo)
    except VerifyError as exc:
        return Mismatch(file, (), (str(exc),))
    if want == got:
        return None
    return Mismatch(file, tuple(sorted(want - got)), tuple(sorted(got - want)))
