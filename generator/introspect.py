"""Read a live database's catalog back into the model classes the YAML builds.

The result is a :class:`Snapshot`: a ``Schema`` of one module holding the tables (columns, keys, checks, indexes,
triggers, RLS, policies, grants, comments), views, functions, sequences, schemas and roles of the database, as
model objects, so the code that reads a spec can read a database too (``drift.py`` compares the two). What the
model has no field for (FORCE without ENABLE, the constraints as PostgreSQL names them) is kept beside it.

Only the schemas and roles the caller names are read: the spec's schemas (public plus the declared ones) and the
spec's roles, since roles are cluster-wide and a database has many the spec never mentions.

Texts are kept as PostgreSQL prints them (expressions via pg_get_expr, views via pg_get_viewdef, CHECKs via
pg_get_constraintdef); indexes and triggers are read as the CREATE statements PostgreSQL writes for them and
parsed with pglast. The session's search_path is `public`, so names in public print unqualified and every other
schema's are qualified: the same convention for every text read.

One catalog query per object kind lives in ``generator/sql/*.sql``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, cast

from . import model, sqlparse
from .derive import RAW_REGISTRY_TABLE, SEED_REGISTRY_SCHEMA, Constraint, identity_from_options
from .diagnostics import NOWHERE
from .model import (
    PRIVILEGE_ORDER,
    Argument,
    Check,
    Column,
    Deferrable,
    Exclude,
    ExcludeElement,
    ForeignKey,
    Function,
    Grant,
    Index,
    MaterializedView,
    Module,
    Policy,
    PrimaryKey,
    Referencing,
    Role,
    Schema,
    SchemaDef,
    Sql,
    Table,
    Trigger,
    Unique,
    View,
)
from .sqlparse import SqlSyntaxError, ast
from .sqltext import DEFAULT_SCHEMA, QName, Returns, SqlType, TypeSyntaxError, ident, parse_returns, parse_type

# psycopg takes a third of the start-up time of every command; only the commands that talk to a database load it.
if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT = 5  # seconds: an unreachable server should fail fast, not hang a CI job
# The search_path of the reading session: public names print unqualified, every other schema's qualified.
SESSION_SEARCH_PATH = DEFAULT_SCHEMA


class DatabaseError(Exception):
    """The database cannot be reached or read; the message is one line."""


@cache
def query(kind: str) -> str:
    """The catalog query of one object kind (`generator/sql/KIND.sql`), each line `-- include: PART` replaced by
    generator/sql/parts/PART.sql (an expression two queries share)."""
    sql_dir = resources.files("generator").joinpath("sql")
    text = sql_dir.joinpath(f"{kind}.sql").read_text(encoding="utf-8")
    return re.sub(r"^[ \t]*-- include: (\w+)[ \t]*$",
                  lambda m: sql_dir.joinpath("parts", f"{m.group(1)}.sql").read_text(encoding="utf-8").rstrip(),
                  text, flags=re.M)


@dataclass(frozen=True)
class Snapshot:
    """A database as the spec sees it: model objects, plus what the model has no field for."""

    schema: Schema
    # Every constraint of each table with its real name and kind (primary key, unique, foreign key, check, exclude).
    constraints: Mapping[QName, tuple[Constraint, ...]]
    # Tables with FORCE ROW LEVEL SECURITY, whether or not RLS is enabled (the model only knows "forced" = both).
    rls_forced: frozenset[QName]
    # Column names of each table and view, in order (expressions are resolved against them).
    relation_columns: Mapping[QName, tuple[str, ...]]
    # What GRANT ALL means per kind on this server: table, sequence, function, schema.
    all_privileges: Mapping[str, tuple[str, ...]]
    # Seed rows recorded in the seed registry, per table: key (derive.seed_key_text) -> fingerprint of the row
    # (seed_fingerprint of the values it holds; MISSING_ROW when the row is gone). Filled by plans.
    seeds: Mapping[QName, Mapping[str, str]] = field(default_factory=dict)
    seed_registry: bool = False  # whether the registry table exists
    # The reading session's user: default privileges of theirs are read with no role (a spec's entry without
    # `for_role:`). None for an older spec read as a snapshot.
    user: str | None = None
    # The database's other schemas (not the spec's, not PostgreSQL's own): not compared, but named by verify.
    other_schemas: tuple[str, ...] = ()
    # Raw SQL objects recorded in pgspec.raw_objects: name -> (fingerprint of the SQL applied, its drop SQL).
    raw: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)
    raw_registry: bool = False  # whether the raw SQL registry table exists
    raw_unread: bool = False  # the registry exists but the reading role may not read it (raw not compared)
    # Partitioned tables and partitions: the type of each partition key's values (a bound's constants are of
    # these types), and what a partition holds of its own (`index name`, `trigger name`, ...), not its parent's.
    partition_key_types: Mapping[QName, tuple[str, ...]] = field(default_factory=dict)
    partition_own: Mapping[QName, tuple[str, ...]] = field(default_factory=dict)
    # Per partitioned table or partition, per key of its partition key: what its printed key leaves unsaid, as
    # index_unsaid below.
    partition_unsaid: Mapping[QName, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # Per index (table, name), per key: the operator class and collation its definition leaves unsaid because they
    # are the defaults ('' where it says them): a spec naming them says the same thing.
    index_unsaid: Mapping[tuple[QName, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @property
    def module(self) -> Module:
        return self.schema.modules[0]


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def connect(dsn: str) -> psycopg.Connection[Any]:
    """A read-only session with the search_path the texts are read under."""
    import psycopg
    from psycopg import sql

    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                               application_name="pgspec verify")
    except psycopg.Error as exc:
        raise DatabaseError(one_line(exc)) from None
    try:
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(SESSION_SEARCH_PATH)))
        conn.execute("SET default_transaction_read_only = on")
    except psycopg.Error as exc:
        conn.close()
        raise DatabaseError(one_line(exc)) from None
    return conn


def in_transaction(conn: psycopg.Connection[Any]) -> bool:
    """Whether the session is inside a transaction block (of its own or of a caller's)."""
    from psycopg import pq

    return conn.info.transaction_status != pq.TransactionStatus.IDLE


SYSTEM_SCHEMA = re.compile(r"\A(pg_.*|information_schema)\Z")


def user_schemas(conn: psycopg.Connection[Any]) -> list[str]:
    """Every schema but PostgreSQL's own, pgspec's (its seed registry) and those an extension created."""
    rows = conn.execute("""SELECT n.nspname FROM pg_namespace n
                           WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                                             AND d.objid = n.oid AND d.deptype = 'e')
                           ORDER BY 1""").fetchall()
    return [r[0] for r in rows if not SYSTEM_SCHEMA.match(r[0]) and r[0] != SEED_REGISTRY_SCHEMA]


def read_database(dsn: str, schemas: Sequence[str], roles: Sequence[str] = ()) -> Snapshot:
    """Connect, read, disconnect."""
    with connect(dsn) as conn:
        return read(conn, schemas, roles)


def read(conn: psycopg.Connection[Any], schemas: Sequence[str], roles: Sequence[str] = ()) -> Snapshot:
    """Everything in `schemas`, and the `roles` that exist, from one consistent snapshot of the catalog. Inside a
    transaction of the caller's, what that transaction sees (its isolation is the caller's to choose)."""
    import psycopg

    try:
        idle = not in_transaction(conn)
        with conn.transaction():
            if idle:
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return _Reader(conn, list(schemas)).read(list(roles))
    except psycopg.Error as exc:
        raise DatabaseError(one_line(exc)) from None
    except SqlSyntaxError as exc:  # a server newer than pglast's parser printed something it cannot read
        raise DatabaseError(f"cannot parse what the server printed: {one_line(exc)}") from None


class Constants:
    """Spells a typed literal as the database prints it: '15 minutes' as an interval is '00:15:00', a jsonb literal
    has its keys sorted. PostgreSQL stores such constants already converted, so only the server can say whether a
    spec's literal is the one it holds. Unconvertible values are returned unchanged."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.cache: dict[tuple[str, str], str] = {}
        # The answers depend on the server (its version and settings such as DateStyle and IntervalStyle), not on
        # the database: comparisons may remember normal forms per server.
        info = conn.info
        self.server_key = (info.server_version, info.parameter_status("DateStyle"),
                           info.parameter_status("IntervalStyle"), info.host, info.port)

    def __call__(self, type_sql: str, value: str) -> str:
        import psycopg
        from psycopg import sql

        key = (type_sql, value)
        if key not in self.cache:
            statement = sql.SQL("SELECT CAST(%s::text AS {})::text").format(sql.SQL(type_sql))
            try:
                # A savepoint inside a caller's transaction: a value its type refuses must not abort that.
                with self.conn.transaction() if in_transaction(self.conn) else contextlib.nullcontext():
                    row = self.conn.execute(statement, (value,)).fetchone()
            except psycopg.Error:
                row = None
            self.cache[key] = str(row[0]) if row and row[0] is not None else value
        return self.cache[key]


# -- building model objects --------------------------------------------------------------------------------------
_COMMAND = {"r": "select", "a": "insert", "w": "update", "d": "delete", "*": "all"}
_FK_ACTION = {"a": None, "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}
_VOLATILITY = {"v": "volatile", "s": "stable", "i": "immutable"}
_ARG_MODE = {"i": "in", "o": "out", "b": "inout", "v": "variadic"}
_PARALLEL = {"u": "unsafe", "r": "restricted", "s": "safe"}
_IDENTITY_KINDS: dict[str, Literal["always", "by default"]] = {"a": "always", "d": "by default"}
_CONSTRAINT_KIND = {"p": "primary key", "u": "unique", "f": "foreign key", "c": "check", "x": "exclude"}
_ACL_KIND = {"r": "table", "s": "sequence", "f": "function", "n": "schema", "T": "type"}
_TRUE = frozenset({"true", "on", "yes", "1"})
# pg_get_constraintdef of a CHECK: `CHECK (expr)` and possibly flags after it.
_CHECK = re.compile(r"CHECK \((?P<expr>.*)\)(?:\s+(?:NO INHERIT|NOT VALID|NOT ENFORCED))*\s*\Z", re.S)
_TIMING = {2: "before", 64: "instead of"}  # TRIGGER_TYPE_BEFORE, TRIGGER_TYPE_INSTEAD; neither: after
_EVENTS = ((4, "insert"), (16, "update"), (8, "delete"), (32, "truncate"))
_TRIGGER_MODE: dict[str, Any] = {"O": "origin", "A": "always", "R": "replica", "D": "disabled"}  # pg_trigger.tgenabled


def _referencing(stmt: Any) -> Referencing | None:
    """The transition tables of a parsed CREATE TRIGGER (REFERENCING OLD TABLE AS ... NEW TABLE AS ...)."""
    names = {bool(t.isNew): t.name for t in stmt.transitionRels or ()}
    return Referencing(old_table=names.get(False), new_table=names.get(True)) if names else None


def canonical_type(text: str) -> str:
    """A type as the spec spells it (`character varying(20)` -> `varchar(20)`); unknown types stay as printed."""
    try:
        return str(parse_type(text))
    except TypeSyntaxError:
        return text


def canonical_returns(text: str) -> Returns:
    """A return type as the spec spells it; one PostgreSQL prints that the spec cannot name stays as printed."""
    try:
        return parse_returns(text)
    except TypeSyntaxError:
        return Returns(SqlType(text))


def grants(rows: Sequence[Sequence[str]]) -> tuple[Grant, ...]:
    """ACL rows (role, privilege) as one Grant per role, privileges in PostgreSQL's order."""
    return _grants(tuple((role, privilege) for role, privilege in rows))


@lru_cache(maxsize=4096)
def _grants(rows: tuple[tuple[str, str], ...]) -> tuple[Grant, ...]:
    """grants(), once per distinct ACL: tables share theirs (the same roles and privileges on every table), and the
    Grants are frozen, so one tuple serves them all."""
    by_role: dict[str, set[str]] = {}
    for role, privilege in rows:
        by_role.setdefault(role, set()).add(privilege)

    def order(p: str) -> tuple[int, str]:
        return (PRIVILEGE_ORDER.index(p) if p in PRIVILEGE_ORDER else len(PRIVILEGE_ORDER), p)

    # aclexplode spells privileges PostgreSQL's way; one the spec has no name for (MAINTAIN) still counts.
    return tuple(Grant(role=role, privileges=cast(Any, tuple(sorted(privs, key=order))))
                 for role, privs in sorted(by_role.items()))


def search_path_items(text: str) -> tuple[str, ...]:
    """The schemas of a search_path setting: `a, "b c"` -> (a, b c). Empty names are dropped, so `''` (the spec's
    way to pin it empty) and `""` (how PostgreSQL stores that) are both ()."""
    items = re.findall(r'\s*("(?:[^"]|"")*"|[^,]*)\s*(?:,|\Z)', text.strip())
    out = []
    for item in items:
        item = item.strip()
        if item.startswith('"') and item.endswith('"') and len(item) > 1:
            item = item[1:-1].replace('""', '"')
        elif item.startswith("'") and item.endswith("'") and len(item) > 1:
            item = item[1:-1]
        if item:
            out.append(item)
    return tuple(out)


def _bool_option(options: Sequence[str], name: str) -> bool:
    values = [o.split("=", 1)[1].lower() for o in options if o.split("=", 1)[0] == name and "=" in o]
    return bool(values) and values[-1] in _TRUE


def _text_option(options: Sequence[str], name: str) -> str | None:
    values = [o.split("=", 1)[1].lower() for o in options if o.split("=", 1)[0] == name and "=" in o]
    return values[-1] if values else None


def _statement(text: str) -> Any:
    """The one statement PostgreSQL printed (CREATE INDEX, CREATE TRIGGER, ...), parsed."""
    return sqlparse.split_statements(text)[0][0]


def _names(nodes: Any) -> tuple[str, ...]:
    return tuple(n.sval for n in nodes or () if isinstance(n, ast.String))


def _json_names(nodes: list[dict[str, Any]] | None) -> tuple[str, ...]:
    """_names of a JSON parse tree's list of String nodes."""
    return tuple(n["String"]["sval"] for n in nodes or () if "String" in n)


def index_key(elem: Any) -> str:
    """One key of an index as the spec writes it: `col`, `col DESC`, `(expression)`, with collation, operator
    class and NULLS."""
    text = ident(elem.name) if elem.name else f"({sqlparse.deparse(elem.expr)})"
    if elem.collation:
        text += " COLLATE " + ".".join(ident(n) for n in _names(elem.collation))
    if elem.opclass:
        text += " " + ".".join(ident(n) for n in _names(elem.opclass))
    if elem.ordering == 2:  # SORTBY_DESC
        text += " DESC"
    if elem.nulls_ordering:  # SORTBY_NULLS_FIRST = 1, SORTBY_NULLS_LAST = 2
        text += " NULLS FIRST" if elem.nulls_ordering == 1 else " NULLS LAST"
    return text


def _index_shape(definition: str, printed_name: str, printed_table: str) -> str:
    """pg_get_indexdef's `CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING ...` with the two names replaced
    by `i` and `t`: what is left (method, keys, INCLUDE, WHERE) names columns only, so tables that index alike
    share one shape. The prefix is matched exactly as PostgreSQL writes it (`printed_*` quoted by the server), so
    a name holding ` ON ` or ` USING ` cannot mislead; a definition of another form is returned unchanged."""
    for head in ("CREATE INDEX ", "CREATE UNIQUE INDEX "):
        for only in ("", "ONLY "):
            prefix = f"{head}{printed_name} ON {only}{printed_table} USING "
            if definition.startswith(prefix):
                return f"{head}i ON {only}t USING {definition[len(prefix):]}"
    return definition


@lru_cache(maxsize=4096)
def _index_parts(definition: str) -> tuple[tuple[str, ...], tuple[str, ...], str, bool, bool]:
    """Keys, INCLUDE columns, method, UNIQUE and NULLS NOT DISTINCT of a CREATE INDEX statement, once per distinct
    text (an index's keys are printed from the parse tree, which costs more than the parse)."""
    stmt = _statement(definition)
    return (tuple(index_key(e) for e in stmt.indexParams),
            tuple(e.name for e in stmt.indexIncludingParams or ()),
            stmt.accessMethod or "btree", bool(stmt.unique), bool(stmt.nulls_not_distinct))


def constraint(name: str, kind: str, definition: str, deferrable: bool = False, deferred: bool = False,
               validated: bool = True, where: str | None = None) -> Constraint:
    """A constraint from its pg_get_constraintdef text and pg_constraint's flags, as derive.Constraint (the spec
    side's representation)."""
    label = _CONSTRAINT_KIND[kind]
    if kind == "c":
        m = _CHECK.match(definition)
        return Constraint(name, label, (), NOWHERE, expr=m["expr"] if m else definition, not_valid=not validated)
    if kind in ("f", "p", "u"):  # read from libpg_query's JSON tree, built in C (no Python nodes for thousands)
        tree = sqlparse.parse_json(f"ALTER TABLE t ADD CONSTRAINT c {definition}")
        con = tree[0]["AlterTableStmt"]["cmds"][0]["AlterTableCmd"]["def"]["Constraint"]
        if kind == "f":
            pktable = con["pktable"]
            target = QName(pktable.get("schemaname") or DEFAULT_SCHEMA, pktable["relname"])
            reference = f"{target}({', '.join(_json_names(con.get('pk_attrs')))})"
            return Constraint(name, label, _json_names(con.get("fk_attrs")), NOWHERE, reference,
                              _FK_ACTION[con.get("fk_del_action", "a")], _FK_ACTION[con.get("fk_upd_action", "a")],
                              deferrable=deferrable, deferred=deferred, not_valid=not validated)
        return Constraint(name, label, _json_names(con.get("keys")), NOWHERE, deferrable=deferrable,
                          deferred=deferred, nulls_not_distinct=bool(con.get("nulls_not_distinct")))
    # An exclusion constraint: its elements are index keys, printed from pglast's tree.
    node = _statement(f"ALTER TABLE t ADD CONSTRAINT c {definition}").cmds[0].def_
    elements = tuple((index_key(elem), _operator(_names(op))) for elem, op in node.exclusions)
    if where is None and node.where_clause:
        where = sqlparse.deparse(node.where_clause)
    return Constraint(name, label, (), NOWHERE, using=node.access_method, elements=elements, where=where,
                      deferrable=deferrable, deferred=deferred)


def _operator(names: tuple[str, ...]) -> str:
    """An operator as the spec writes it: `&&`, or `OPERATOR(schema.&&)` when PostgreSQL qualified it."""
    return names[-1] if len(names) == 1 else f"OPERATOR({'.'.join(names)})"


@dataclass
class _Relation:
    """A table or view being assembled from several catalog queries."""

    name: QName
    kind: str
    rls_enabled: bool
    rls_forced: bool
    options: list[str]
    query: str | None
    comment: str | None
    grants: tuple[Grant, ...]
    unlogged: bool
    owner: str
    populated: bool
    columns: list[Column] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    partition_by: str | None = None
    partitions: tuple[model.Partition, ...] = ()

    def table(self) -> Table:
        rls = "forced" if self.rls_enabled and self.rls_forced else "enabled" if self.rls_enabled else "off"
        by_kind: dict[str, list[Constraint]] = {}
        for c in self.constraints:
            by_kind.setdefault(c.kind, []).append(c)
        primary = by_kind.get("primary key", [])
        return Table(
            name=str(self.name), comment=self.comment, columns=tuple(self.columns),
            primary_key=_primary_key(self.name, primary[0]) if primary else None,
            unique=tuple(Unique(name=c.name, columns=c.columns, nulls_not_distinct=c.nulls_not_distinct,
                                deferrable=_deferrable(c)) for c in by_kind.get("unique", [])),
            foreign_keys=tuple(ForeignKey(name=c.name, columns=c.columns, references=c.ref_text or "",
                                          on_delete=cast(Any, c.on_delete), on_update=cast(Any, c.on_update),
                                          deferrable=_deferrable(c), not_valid=c.not_valid)
                               for c in by_kind.get("foreign key", [])),
            checks=tuple(Check(name=c.name, expr=Sql(c.expr or ""), not_valid=c.not_valid)
                         for c in by_kind.get("check", [])),
            excludes=tuple(Exclude(name=c.name, using=cast(Any, c.using), where=Sql(c.where) if c.where else None,
                                   elements=tuple(ExcludeElement(key=k, operator=op) for k, op in c.elements),
                                   deferrable=_deferrable(c)) for c in by_kind.get("exclude", [])),
            indexes=tuple(self.indexes), triggers=tuple(self.triggers), rls=cast(Any, rls),
            policies=tuple(self.policies), grants=self.grants, unlogged=self.unlogged, owner=self.owner,
            partition_by=Sql(self.partition_by) if self.partition_by else None, partitions=self.partitions)

    def matview(self) -> MaterializedView:
        return MaterializedView(name=str(self.name), query=self.view().query, with_data=self.populated,
                                indexes=tuple(self.indexes), grants=self.grants, comment=self.comment,
                                owner=self.owner)

    def view(self) -> View:
        return View(name=str(self.name), query=Sql((self.query or "").strip().rstrip(";").strip()),
                    security_invoker=_bool_option(self.options, "security_invoker"),
                    security_barrier=_bool_option(self.options, "security_barrier"),
                    check_option=cast(Any, _text_option(self.options, "check_option")),
                    triggers=tuple(self.triggers), grants=self.grants, comment=self.comment, owner=self.owner)


def _primary_key(table: QName, con: Constraint) -> PrimaryKey:
    """A primary key as the spec writes it: its name only when it is not the default TABLE_pkey."""
    return PrimaryKey(columns=con.columns, name=None if con.name == f"{table.name}_pkey" else con.name,
                      deferrable=_deferrable(con))


def _partition_by(keydef: str) -> str:
    """pg_get_partkeydef's `RANGE (created_at)` as the spec writes it: `range (created_at)`."""
    strategy, _, keys = keydef.partition(" ")
    return f"{strategy.lower()} {keys}"


def _deferrable(con: Constraint) -> Deferrable:
    """A constraint's two flags as the spec's `deferrable:`."""
    return "initially deferred" if con.deferred else con.deferrable


class _Reader:
    def __init__(self, conn: psycopg.Connection[Any], schemas: list[str]) -> None:
        self.conn = conn
        self.schemas = schemas
        self.relations: dict[int, _Relation] = {}
        self.index_unsaid: dict[tuple[QName, str], tuple[tuple[str, str], ...]] = {}
        self.sent: dict[str, Any] = {}  # kind -> the cursor of its query, sent ahead

    def rows(self, kind: str, **params: Any) -> list[tuple[Any, ...]]:
        """The rows of one kind's query: the answer to the query sent ahead (send), or asked now."""
        sent = self.sent.pop(kind, None)
        return (sent if sent is not None else self.conn.execute(query(kind), params)).fetchall()

    def send(self, requests: Mapping[str, Mapping[str, Any]]) -> None:
        """Send the queries of `requests` (kind -> parameters) ahead, for rows() to take."""
        for kind, params in requests.items():
            self.sent[kind] = self.conn.execute(query(kind), params)

    def pipeline(self) -> Any:
        """Pipeline mode where libpq has it: the queries sent ahead run one after another on the server while the
        answers already in are turned into model objects (and while the caller's other threads hold the
        interpreter), instead of the server waiting for each next query."""
        import psycopg

        return self.conn.pipeline() if psycopg.Pipeline.is_supported() else contextlib.nullcontext()

    def read(self, roles: list[str]) -> Snapshot:
        self.read_relations()
        oids = list(self.relations)
        with self.pipeline():
            schemas = {"schemas": self.schemas}
            self.send({"columns": {"oids": oids}, "constraints": {"oids": oids}, "indexes": {"oids": oids},
                       "triggers": {"oids": oids}, "policies": {"oids": oids}, "partitions": schemas,
                       "functions": schemas, "roles": {"roles": roles}, "schemas": schemas, "extensions": {},
                       "default_privileges": schemas, "type_acls": schemas, "enum_types": schemas,
                       "composite_types": schemas, "domains": schemas, "sequences": schemas, "privileges": {},
                       "other_schemas": schemas})
            return self._read(roles, oids)

    def _read(self, roles: list[str], oids: list[int]) -> Snapshot:
        self.read_columns(oids)
        self.read_constraints(oids)
        self.read_indexes(oids)
        self.read_triggers(oids)
        self.read_policies(oids)
        partitioning = self.read_partitions()
        tables = [r for r in self.relations.values() if r.kind not in ("v", "m")]
        views = [r for r in self.relations.values() if r.kind == "v"]
        matviews = [r for r in self.relations.values() if r.kind == "m"]
        routines = [self.function(*row) for row in self.rows("functions", schemas=self.schemas)]
        module = Module(
            module="database",
            roles=tuple(Role(name=n, login=login, bypass_rls=bypass)
                        for n, login, bypass in self.rows("roles", roles=roles)),
            schemas=tuple(SchemaDef(name=n, comment=comment, grants=grants(acl), owner=owner)
                          for n, comment, acl, owner in self.rows("schemas", schemas=self.schemas)),
            extensions=tuple(model.Extension(name=n, schema=schema, version=version)
                             for n, schema, version in self.rows("extensions")),
            default_privileges=self.default_privileges(),
            types=self.types(),
            sequences=tuple(self.sequence(*row) for row in self.rows("sequences", schemas=self.schemas)),
            functions=tuple(f for f in routines if not isinstance(f, model.Procedure)),
            procedures=tuple(f for f in routines if isinstance(f, model.Procedure)),
            tables=tuple(r.table() for r in tables), views=tuple(r.view() for r in views),
            materialized_views=tuple(r.matview() for r in matviews))
        return Snapshot(
            schema=Schema((module,)),
            constraints={r.name: tuple(r.constraints) for r in tables},
            rls_forced=frozenset(r.name for r in tables if r.rls_forced),
            relation_columns={r.name: tuple(c.name for c in r.columns) for r in self.relations.values()},
            all_privileges={_ACL_KIND[k]: tuple(privs) for k, privs in self.rows("privileges")},
            user=self.conn.execute("SELECT current_user::text").fetchone()[0],  # type: ignore[index]
            other_schemas=tuple(n for n, in self.rows("other_schemas", schemas=self.schemas)),
            index_unsaid=self.index_unsaid, **partitioning, **self.raw_objects())

    def raw_objects(self) -> dict[str, Any]:
        """The raw SQL registry's records, when the table exists (Snapshot.raw and raw_registry)."""
        table = f"{SEED_REGISTRY_SCHEMA}.{RAW_REGISTRY_TABLE}"
        row = self.conn.execute("SELECT has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT') "
                                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                "WHERE n.nspname = %s AND c.relname = %s",
                                (SEED_REGISTRY_SCHEMA, RAW_REGISTRY_TABLE)).fetchone()
        if row is None:
            return {}
        if not row[0]:  # a role that may read the catalog but not the tool's schema: raw objects are not compared
            return {"raw_registry": True, "raw_unread": True}
        rows = self.conn.execute(f"SELECT name, fingerprint, drop_sql FROM {table} ORDER BY name").fetchall()
        return {"raw": {name: (fp, drop) for name, fp, drop in rows}, "raw_registry": True}

    def read_relations(self) -> None:
        for oid, schema, name, kind, rls, forced, options, viewdef, comment, acl, unlogged, owner, populated in \
                self.rows("relations", schemas=self.schemas):
            self.relations[oid] = _Relation(QName(schema, name), kind, rls, forced, list(options), viewdef,
                                            comment, grants(acl), unlogged, owner, populated)

    def read_partitions(self) -> dict[str, Any]:
        """Partitioned tables' keys and their partitions, as the spec nests them (a partition in its parent's
        schema by its name alone); the keys' value types and each partition's objects of its own for the
        Snapshot (partition_key_types, partition_own, partition_unsaid)."""
        rows = self.rows("partitions", schemas=self.schemas)
        children: dict[int, list[tuple[Any, ...]]] = {}
        key_types: dict[QName, tuple[str, ...]] = {}
        own: dict[QName, tuple[str, ...]] = {}
        unsaid: dict[QName, tuple[tuple[str, str], ...]] = {}
        for row in rows:
            oid, schema, name, parent = row[:4]
            children.setdefault(parent, []).append(row)
            key_types[QName(schema, name)] = tuple(row[8])
            if row[12]:
                own[QName(schema, name)] = tuple(row[12])
            if row[13]:
                unsaid[QName(schema, name)] = tuple((opc, coll) for opc, coll in row[13])

        def partitions(oid: int) -> tuple[model.Partition, ...]:
            out = []
            for (child, schema, name, _, parent_schema, _, bound, keydef, _, comment, acl, owner,
                 _, _) in children.get(oid, ()):
                default = bound.strip().upper() == "DEFAULT"
                values = None if default else re.sub(r"\AFOR VALUES\s+", "", bound.strip())
                out.append(model.Partition(
                    name=name if schema == parent_schema else str(QName(schema, name)),
                    values=Sql(values) if values else None, default=default,
                    partition_by=Sql(_partition_by(keydef)) if keydef else None, partitions=partitions(child),
                    comment=comment, grants=grants(acl), owner=owner))
            return tuple(sorted(out, key=lambda p: p.name))

        for row in children.get(None, ()):  # type: ignore[call-overload]
            rel = self.relations.get(row[0])
            if rel is not None:
                rel.partition_by = _partition_by(row[7])
                rel.partitions = partitions(row[0])
        return {"partition_key_types": key_types, "partition_own": own, "partition_unsaid": unsaid}

    def read_columns(self, oids: list[int]) -> None:
        for (oid, name, type_text, not_null, default, comment, acl, generated, identity, options, cycle,
             collation) in self.rows("columns", oids=oids):
            rel = self.relations[oid]
            column_type = canonical_type(type_text)
            expression = Sql(default) if default is not None else None
            rel.columns.append(Column(
                name=name, type=column_type, not_null=not_null, comment=comment, collation=collation,
                grants=grants(acl) if acl else (),
                default_sql=None if generated else expression, generated=expression if generated else None,
                identity=None if not identity else identity_from_options(
                    _IDENTITY_KINDS[identity], column_type, (*options, cycle))))

    def read_constraints(self, oids: list[int]) -> None:
        for oid, name, kind, definition, deferrable, deferred, validated, where in self.rows("constraints",
                                                                                            oids=oids):
            self.relations[oid].constraints.append(constraint(name, kind, definition, deferrable, deferred,
                                                              validated, where))

    def read_indexes(self, oids: list[int]) -> None:
        for oid, name, definition, predicate, comment, unsaid, printed_name, printed_table in \
                self.rows("indexes", oids=oids):
            columns, include, method, unique, nulls_not_distinct = _index_parts(
                _index_shape(definition, printed_name, printed_table))
            self.index_unsaid[(self.relations[oid].name, name)] = tuple((opc, coll) for opc, coll in unsaid)
            self.relations[oid].indexes.append(Index(
                name=name, columns=columns, include=include, method=cast(Any, method), unique=unique,
                nulls_not_distinct=nulls_not_distinct,
                where=Sql(predicate) if predicate is not None else None, comment=comment))

    def read_triggers(self, oids: list[int]) -> None:
        for oid, name, definition, fn_schema, fn_name, enabled, comment in self.rows("triggers", oids=oids):
            rel = self.relations[oid]
            stmt = _statement(definition)
            rel.triggers.append(Trigger(
                name=name, timing=cast(Any, _TIMING.get(stmt.timing, "after")),
                events=cast(Any, tuple(event for bit, event in _EVENTS if stmt.events & bit)),
                columns=_names(stmt.columns), for_each="row" if stmt.row else "statement",
                when=Sql(sqlparse.deparse(stmt.whenClause)) if stmt.whenClause is not None else None,
                function=str(QName(fn_schema, fn_name)), comment=comment, enabled=_TRIGGER_MODE[enabled],
                constraint=bool(stmt.isconstraint), deferrable=bool(stmt.deferrable),
                initially_deferred=bool(stmt.initdeferred), referencing=_referencing(stmt),
                args=tuple(a.sval for a in stmt.args or ())))

    def read_policies(self, oids: list[int]) -> None:
        for oid, name, cmd, permissive, roles, using, with_check, comment in self.rows("policies", oids=oids):
            self.relations[oid].policies.append(Policy(
                name=name, command=cast(Any, _COMMAND[cmd]), mode="permissive" if permissive else "restrictive",
                roles=tuple(roles), using=Sql(using) if using is not None else None,
                with_check=Sql(with_check) if with_check is not None else None, comment=comment))

    @staticmethod
    def function(schema: str, name: str, args: list[list[str]], returns: str, language: str, volatility: str,
                 definer: bool, strict: bool, leakproof: bool, parallel: str, cost: int, rows: int,
                 config: list[str], body: str, comment: str | None, acl: list[list[str]], owner: str,
                 kind: str = "f") -> Function:
        setting = next((c.split("=", 1)[1] for c in config if c.startswith("search_path=")), None)
        # As the model holds it: one item per schema, () when pinned empty (stored as `""`).
        search_path = None if setting is None else search_path_items(setting)
        # language and volatility may lie beyond the spec's choices (c, internal, ...): the model types are
        # Literals, the database's values are what they are.
        # COST and ROWS as the spec leaves them unsaid: PostgreSQL's defaults (100; 1000 rows for a set, else 0).
        arguments = tuple(Argument(name=n, type=canonical_type(t), default=Sql(d) if d is not None else None,
                                   mode=cast(Any, _ARG_MODE[m])) for n, t, d, m in args)
        if kind == "p":  # a procedure: no result (pg_get_function_result gives none), nor what describes one
            return model.Procedure(name=str(QName(schema, name)), args=arguments, language=cast(Any, language),
                                   security="definer" if definer else "invoker", search_path=search_path,
                                   body=Sql(body), grants=grants(acl), comment=comment, owner=owner)
        setof = canonical_returns(returns).setof
        return Function(name=str(QName(schema, name)),
                        args=arguments,
                        returns=str(canonical_returns(returns)), language=cast(Any, language),
                        volatility=cast(Any, _VOLATILITY.get(volatility, volatility)),
                        security="definer" if definer else "invoker", search_path=search_path, strict=strict,
                        leakproof=leakproof, parallel=cast(Any, _PARALLEL.get(parallel, parallel)),
                        cost=None if cost == 100 else cost, rows=None if rows == (1000 if setof else 0) else rows,
                        body=Sql(body), grants=grants(acl), comment=comment, owner=owner)

    def default_privileges(self) -> tuple[model.DefaultPrivileges, ...]:
        """pg_default_acl as the spec's entries, one per role and schema. The kinds a row exists for are marked
        present (`at`), as a spec marks the kinds it lists: in the global defaults, a kind without a row keeps
        PostgreSQL's built-in default, and one with a row is what the row says (even nothing)."""
        entries: dict[tuple[str | None, str | None], dict[str, tuple[Grant, ...]]] = {}
        for role, schema, kind, acl in self.rows("default_privileges", schemas=self.schemas):
            entries.setdefault((role, schema), {})[kind] = grants(acl)
        return tuple(model.DefaultPrivileges(for_role=role, schema=schema, at={k: NOWHERE for k in kinds},
                                             **cast(dict[str, Any], kinds))
                     for (role, schema), kinds in entries.items())

    def types(self) -> tuple[model.TypeDef, ...]:
        """The enum types (generator/sql/enum_types.sql, labels in their sort order), composite types and domains,
        with their privileges. Each states its kind's key and its grants, as a spec that writes them does."""
        acls = {QName(schema, name): (grants(acl), owner)
                for schema, name, acl, owner in self.rows("type_acls", schemas=self.schemas)}

        def stated(key: str, schema: str, name: str) -> dict[str, Any]:
            acl, owner = acls.get(QName(schema, name), ((), None))
            return {"name": str(QName(schema, name)), "grants": acl, "owner": owner,
                    "at": {key: NOWHERE, "grants": NOWHERE}}

        out = [model.TypeDef(**stated("enum", schema, name), enum=tuple(labels), comment=comment)
               for schema, name, labels, comment in self.rows("enum_types", schemas=self.schemas)]
        out += [model.TypeDef(**stated("attributes", schema, name), comment=comment, attributes=tuple(
                    model.Attribute(name=a, type=t, collation=c) for a, t, c in attributes))
                for schema, name, attributes, comment in self.rows("composite_types", schemas=self.schemas)]
        out += [model.TypeDef(**stated("domain", schema, name), domain=base, collation=collation,
                              not_null=not_null, default=Sql(default) if default is not None else None,
                              comment=comment,
                              checks=tuple(model.DomainCheck(name=n, expr=Sql(e)) for n, e in checks))
                for schema, name, base, collation, not_null, default, checks, comment
                in self.rows("domains", schemas=self.schemas)]
        return tuple(out)

    @staticmethod
    def sequence(schema: str, name: str, type_text: str, start: int, increment: int, min_value: int,
                 max_value: int, cache_size: int, cycle: bool, comment: str | None,
                 acl: list[list[str]], owner: str, owned_by: list[str] | None) -> model.Sequence:
        return model.Sequence(name=str(QName(schema, name)), type=cast(Any, canonical_type(type_text)),
                              start=start, increment=increment, min_value=min_value, max_value=max_value,
                              cache=cache_size, cycle=cycle, grants=grants(acl), comment=comment, owner=owner,
                              owned_by=".".join(owned_by) if owned_by else None)

