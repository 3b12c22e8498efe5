"""Verify generated SQL: pglast parses every statement, and the parse trees declare exactly what the model does.

Two independent inventories are compared: one computed from the model (what the spec declares), one read from the
parse trees of the rendered SQL (what the output actually creates). Each entry is a readable line such as
`policy public.t."name" FOR SELECT TO authenticated USING (...)`; expressions appear in pglast's canonical form,
so the comparison is by parse tree, not by spelling. PL/pgSQL bodies are parsed too, statement by statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pglast import ast, enums
from pglast.stream import RawStream

from . import sqlparse
from .derive import Catalog, parse_reference
from .model import Function, Grant
from .order import Placed
from .sqltext import QName, SqlType, parse_type, qname


@dataclass(frozen=True)
class Mismatch:
    file: str
    missing: tuple[str, ...]  # declared by the spec, absent from the SQL
    unexpected: tuple[str, ...]  # in the SQL, not declared by the spec

    def lines(self) -> list[str]:
        return ([f"{self.file}: missing from SQL: {m}" for m in self.missing]
                + [f"{self.file}: not in spec: {u}" for u in self.unexpected])


def canon(node: ast.Node | None) -> str:
    return "" if node is None else str(RawStream()(node))


def canon_expr(text: str | None) -> str:
    return "" if text is None else canon(sqlparse.parse_expression(text))


def _type(tn: ast.TypeName) -> str:
    names = [s.sval for s in tn.names]
    base = names[-1]
    args = tuple(m.val.ival for m in (tn.typmods or ()) if isinstance(m, ast.A_Const))
    parsed = parse_type(base)
    return str(SqlType(parsed.base, args, len(tn.arrayBounds or ())))


def _int(node: ast.Node) -> int:
    """An integer option value; the parser keeps integers beyond int32 as Float nodes holding the digits."""
    return int(node.fval) if isinstance(node, ast.Float) else int(node.ival)


def _rv(rv: ast.RangeVar) -> str:
    return str(QName(rv.schemaname or "public", rv.relname))


def _spec_type(text: str) -> str:
    return str(parse_type(text))


# -- expected, from the model ------------------------------------------------------------------------------------
def _grants(kind: str, target: str, grants: Iterable[Grant]) -> set[str]:
    return {f"grant {p} on {kind} {target} to {g.role}" for g in grants for p in g.privileges}


def _signature(function: Function) -> str:
    return f"{qname(function.name)}({', '.join(_spec_type(a.type) for a in function.args)})"


def expected(placed: Iterable[Placed], catalog: Catalog) -> set[str]:
    out: set[str] = set()
    for p in placed:
        item, obj = p.item, p.item.obj
        if item.kind == "role":
            out.add(f"role {obj.name} login={obj.login} bypassrls={obj.bypass_rls}")
        elif item.kind == "schema":
            out.add(f"schema {obj.name}")
            out |= _grants("schema", obj.name, obj.grants)
            out |= {f"comment schema {obj.name}"} if obj.comment else set()
        elif item.kind == "sequence":
            name = qname(obj.name)
            out.add(f"sequence {name} start={obj.start} max={obj.max_value}")
            out |= _grants("sequence", str(name), obj.grants)
            out |= {f"comment sequence {name}"} if obj.comment else set()
        elif item.kind == "function":
            sig = _signature(obj)
            out.add(f"function {sig} returns {_spec_type(obj.returns)} {obj.language} {obj.volatility} "
                    f"security={obj.security} search_path={obj.search_path!r}")
            out.add(f"revoke all on function {sig} from public")
            out |= _grants("function", sig, obj.grants)
            out |= {f"comment function {sig}"} if obj.comment else set()
        elif item.kind == "table":
            name = qname(obj.name)
            out.add(f"table {name}")
            for c in obj.columns:
                default = c.default_sql if c.default_sql is not None else (
                    None if c.default is None else "literal")
                out.add(f"column {name}.{c.name} {_spec_type(c.type)} not_null={c.not_null} "
                        f"default={'yes' if default else 'no'}")
                out |= {f"comment column {name}.{c.name}"} if c.comment else set()
            for con in catalog.constraints(obj):
                line = f"constraint {name}.{con.name} {con.kind} ({', '.join(con.columns)})"
                if con.kind == "foreign key":
                    target, cols = parse_reference(con.ref_text or "")
                    line += f" -> {target}({', '.join(cols)}) on delete {con.on_delete or 'no action'}"
                if con.kind == "check":
                    line = f"constraint {name}.{con.name} check {canon_expr(con.expr)}"
                out.add(line)
            out |= {f"comment table {name}"} if obj.comment else set()
            out |= _grants("table", str(name), obj.grants)
        elif item.kind == "index":
            table = qname(item.table.name)
            keys = ", ".join(k.split()[0] if not k.startswith("(") else canon_expr(k) for k in obj.columns)
            out.add(f"index {table.schema}.{obj.name} on {table} using {obj.method} ({keys}) unique={obj.unique} "
                    f"where {canon_expr(obj.where)}")
        elif item.kind == "trigger":
            table = qname(item.table.name)
            out.add(f"trigger {table}.{obj.name} {obj.timing} {'/'.join(sorted(obj.events))} "
                    f"each {obj.for_each} -> {qname(obj.function)} when {canon_expr(obj.when)}")
        elif item.kind == "rls":
            out.add(f"rls enable {qname(obj.name)}")
            out |= {f"rls force {qname(obj.name)}"} if obj.rls == "forced" else set()
        elif item.kind == "policy":
            table = qname(item.table.name)
            out.add(f"policy {table}.{obj.name!r} {obj.mode} for {obj.command} to {', '.join(sorted(obj.roles))} "
                    f"using {canon_expr(obj.using)} check {canon_expr(obj.with_check)}")
        elif item.kind == "seed":
            out.add(f"seed {qname(obj.name)} rows={len(obj.seed)}")
        elif item.kind == "view":
            name = qname(obj.name)
            out.add(f"view {name} security_invoker={obj.security_invoker} "
                    f"query {canon(sqlparse.parse_query(obj.query))}")
            out |= _grants("table", str(name), obj.grants)
            out |= {f"comment view {name}"} if obj.comment else set()
        else:
            raise RuntimeError(f"verify has no rule for item kind {item.kind!r}")
    return out


# -- found, from the SQL -----------------------------------------------------------------------------------------
_OBJ = {enums.ObjectType.OBJECT_TABLE: "table", enums.ObjectType.OBJECT_FUNCTION: "function",
        enums.ObjectType.OBJECT_SCHEMA: "schema", enums.ObjectType.OBJECT_SEQUENCE: "sequence",
        enums.ObjectType.OBJECT_COLUMN: "column", enums.ObjectType.OBJECT_VIEW: "view"}
_TIMING = {0: "after", 2: "before", 64: "instead of"}
_EVENTS = {4: "insert", 8: "delete", 16: "update", 32: "truncate"}


class VerifyError(Exception):
    """Output SQL that does not parse."""


def found(sql: str) -> set[str]:
    try:
        statements = sqlparse.split_statements(sql)
    except sqlparse.SqlSyntaxError as exc:
        raise VerifyError(f"does not parse: {exc}") from None
    out: set[str] = set()
    for stmt, text in statements:
        out |= _found_statement(stmt, text)
    return out


def _objname(obj: object) -> str:
    if isinstance(obj, ast.RangeVar):
        return _rv(obj)
    if isinstance(obj, ast.ObjectWithArgs):
        return f"{'.'.join(s.sval for s in obj.objname)}({', '.join(_type(t) for t in obj.objargs or ())})"
    if isinstance(obj, ast.String):
        return obj.sval
    if isinstance(obj, tuple | list):
        return ".".join(s.sval for s in obj)
    raise VerifyError(f"unexpected object {obj!r}")


def _found_statement(stmt: ast.Node, text: str) -> set[str]:  # noqa: C901 - one branch per statement kind
    out: set[str] = set()
    if isinstance(stmt, ast.DoStmt):
        return out  # role creation guard; the role itself is declared by the ALTER ROLE that follows
    if isinstance(stmt, ast.AlterRoleStmt):
        opts = {o.defname: o.arg.boolval for o in stmt.options}
        out.add(f"role {stmt.role.rolename} login={opts['canlogin']} bypassrls={opts['bypassrls']}")
    elif isinstance(stmt, ast.CreateSchemaStmt):
        out.add(f"schema {stmt.schemaname}")
    elif isinstance(stmt, ast.CreateSeqStmt):
        opts = {o.defname: o.arg for o in stmt.options or ()}
        maxv = _int(opts["maxvalue"]) if "maxvalue" in opts else None
        out.add(f"sequence {_rv(stmt.sequence)} start={_int(opts['start'])} max={maxv}")
    elif isinstance(stmt, ast.CreateFunctionStmt):
        opts = {o.defname: o.arg for o in stmt.options}
        name = ".".join(s.sval for s in stmt.funcname)
        sig = f"{name}({', '.join(_type(p.argType) for p in stmt.parameters or ())})"
        language = opts["language"].sval
        search_path = None
        if "set" in opts:
            setting = opts["set"]
            search_path = "".join(a.val.sval for a in setting.args) if setting.name == "search_path" else None
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
    elif isinstance(stmt, ast.CreateStmt):
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
    elif isinstance(stmt, ast.IndexStmt):
        keys = ", ".join(p.name if p.name else canon(p.expr) for p in stmt.indexParams)
        schema = stmt.relation.schemaname or "public"
        out.add(f"index {schema}.{stmt.idxname} on {_rv(stmt.relation)} using {stmt.accessMethod or 'btree'} "
                f"({keys}) unique={bool(stmt.unique)} where {canon(stmt.whereClause)}")
    elif isinstance(stmt, ast.CreateTrigStmt):
        events = sorted(name for bit, name in _EVENTS.items() if stmt.events & bit)
        out.add(f"trigger {_rv(stmt.relation)}.{stmt.trigname} {_TIMING[stmt.timing]} {'/'.join(events)} "
                f"each {'row' if stmt.row else 'statement'} -> {'.'.join(s.sval for s in stmt.funcname)} "
                f"when {canon(stmt.whenClause)}")
    elif isinstance(stmt, ast.AlterTableStmt):
        for cmd in stmt.cmds:
            if cmd.subtype == enums.AlterTableType.AT_EnableRowSecurity:
                out.add(f"rls enable {_rv(stmt.relation)}")
            elif cmd.subtype == enums.AlterTableType.AT_ForceRowSecurity:
                out.add(f"rls force {_rv(stmt.relation)}")
            else:
                out.add(f"alter table {_rv(stmt.relation)} {cmd.subtype.name}")
    elif isinstance(stmt, ast.CreatePolicyStmt):
        roles = sorted("public" if r.roletype == enums.RoleSpecType.ROLESPEC_PUBLIC else r.rolename
                       for r in stmt.roles)
        out.add(f"policy {_rv(stmt.table)}.{stmt.policy_name!r} {'permissive' if stmt.permissive else 'restrictive'}"
                f" for {stmt.cmd_name} to {', '.join(roles)} using {canon(stmt.qual)} "
                f"check {canon(stmt.with_check)}")
    elif isinstance(stmt, ast.ViewStmt):
        opts = {o.defname: o.arg for o in stmt.options or ()}
        invoker = "security_invoker" in opts and getattr(opts["security_invoker"], "sval", "") == "true"
        out.add(f"view {_rv(stmt.view)} security_invoker={invoker} query {canon(stmt.query)}")
    elif isinstance(stmt, ast.GrantStmt):
        kind = _OBJ[stmt.objtype]
        privileges = [p.priv_name for p in stmt.privileges] if stmt.privileges else ["all"]
        for target in stmt.objects:
            for grantee in stmt.grantees:
                role = "public" if grantee.roletype == enums.RoleSpecType.ROLESPEC_PUBLIC else grantee.rolename
                if stmt.is_grant:
                    out |= {f"grant {p} on {kind} {_objname(target)} to {role}" for p in privileges}
                else:
                    out.add(f"revoke {' '.join(privileges)} on {kind} {_objname(target)} from {role}")
    elif isinstance(stmt, ast.CommentStmt):
        out.add(f"comment {_OBJ.get(stmt.objtype, str(stmt.objtype))} {_objname(stmt.object)}")
    elif isinstance(stmt, ast.InsertStmt):
        out.add(f"seed {_rv(stmt.relation)} rows={len(stmt.selectStmt.valuesLists)}")
    else:
        out.add(f"unexpected statement {type(stmt).__name__}")
    return out


_FK_ACTION = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}


def _constraint(table: str, c: ast.Constraint) -> str:
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


def verify_sql(file: str, sql: str, placed: Iterable[Placed], catalog: Catalog) -> Mismatch | None:
    """Compare one output file's SQL with the items placed in it; None when they agree."""
    want = expected(placed, catalog)
    try:
        got = found(sql)
    except VerifyError as exc:
        return Mismatch(file, (), (str(exc),))
    if want == got:
        return None
    return Mismatch(file, tuple(sorted(want - got)), tuple(sorted(got - want)))
