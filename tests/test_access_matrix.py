"""Live proof of the access matrix: for random worlds, every actor can read, insert, update and delete exactly
what the spec's `access:` says, through every table and view, and nothing else.

The expected outcome comes from the matrix (tests/access_oracle.py), never from the policies. Each world is built
as the superuser inside one transaction; each actor then acts through the API roles (SET ROLE + JWT claims) in a
savepoint, every probe in its own savepoint, and everything is rolled back. A violation is reported in words:
"customer c1 (member of tenant A) read support_tickets TKT-00000003, owned by customer c2 ... but the matrix says
it may not".
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from access_oracle import Oracle, Row, User, describe_row, table_key
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import engine as hypothesis_engine
from psycopg import errors, sql
from psycopg.types.json import Jsonb
from strategies import trigger_assignments

from generator import live
from generator.derive import Catalog
from generator.model import COMMANDS
from generator.pipeline import Build
from generator.sqltext import QName

STAFF_ROLES = ("platform_admin", "support_admin", "support_manager", "support_lead", "support_agent")
PRIORITIES = ("critical", "high", "medium", "low")
STATUSES = ("new", "open", "in_progress", "waiting_customer", "waiting_internal", "resolved", "closed", "cancelled")
# Random worlds per run, besides FIXED_WORLD and COVERAGE_WORLD: every actor x table x command is probed in each.
# HYPOTHESIS_PROFILE=thorough deepens the proof. Coverage of the matrix's cells does not depend on this number
# (COVERAGE_WORLD reaches every cell both ways); it buys variety, at some 2.5 s a world on 2 cores.
WORLDS = 300 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else int(os.environ.get("XW", "8"))
# A failing world is shrunk for at most this long before it is reported (Hypothesis's own limit is 5 minutes).
SHRINK_SECONDS = 40
CHECKED: Counter[tuple[str, str, str]] = Counter()
OUTCOMES: Counter[tuple[str, bool]] = Counter()  # (command, allowed by the matrix): proof the probes are not one-sided
# Probes actually run (a statement that reached PostgreSQL and was judged), per single-role actor, table, command and
# what the matrix predicted; a probe stopped by a data error (inconclusive) is not counted.
PROBED: Counter[tuple[str, str, str, bool]] = Counter()


# -- worlds --------------------------------------------------------------------------------------------------------
@dataclass
class Ticket:
    tenant: int
    customer: int
    priority: str
    status: str
    assignee: int | None
    tags: list[str]


@dataclass
class World:
    tenants: int
    customers: list[frozenset[int]]  # tenant memberships
    staff: list[frozenset[str]]  # staff role sets; one user per single role first, then random sets
    staff_tenants: list[frozenset[int]]  # tenant memberships of the staff (a staff member may also be a customer)
    tickets: list[Ticket]
    messages: list[tuple[int, int | None, bool, str]]  # (ticket, staff author or None = the customer, internal, type)
    attachments: list[tuple[int, int | None, int | None]]  # (ticket, message or None, staff uploader or None)
    canned: list[tuple[int, bool, bool]]  # (staff author, is_public, is_active)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    tenants = draw(st.integers(2, 3))
    customers = draw(st.lists(st.frozensets(st.integers(0, tenants - 1), max_size=2), min_size=2, max_size=3))
    extra = draw(st.lists(st.frozensets(st.sampled_from(STAFF_ROLES), min_size=1, max_size=3), max_size=2))
    staff = [frozenset({r}) for r in STAFF_ROLES] + extra
    staff_tenants = draw(st.lists(st.frozensets(st.integers(0, tenants - 1), max_size=1), min_size=len(staff),
                                  max_size=len(staff)))
    tickets = draw(st.lists(st.builds(
        Ticket, st.integers(0, tenants - 1), st.integers(0, len(customers) - 1), st.sampled_from(PRIORITIES),
        st.sampled_from(STATUSES), st.none() | st.integers(0, len(staff) - 1),
        st.lists(st.sampled_from(["billing", "urgent", "vip"]), max_size=2, unique=True)), min_size=2, max_size=5))
    messages = draw(st.lists(st.tuples(
        st.integers(0, len(tickets) - 1), st.none() | st.integers(0, len(staff) - 1), st.booleans(),
        st.sampled_from(["comment", "note", "escalation"])), max_size=6))
    # Only staff write internal notes or non-comment messages; a customer's message is a public comment.
    messages = [(t, a, i and a is not None, kind if a is not None else "comment") for t, a, i, kind in messages]
    attachments = draw(st.lists(st.tuples(
        st.integers(0, len(tickets) - 1), st.none() | st.integers(0, max(len(messages) - 1, 0)),
        st.none() | st.integers(0, len(staff) - 1)), max_size=4))
    # An attachment's message must be on the same ticket (the composite foreign key); otherwise none.
    attachments = [(t, m if messages and m is not None and messages[m][0] == t else None, u)
                   for t, m, u in attachments]
    canned = draw(st.lists(st.tuples(st.integers(0, len(staff) - 1), st.booleans(), st.booleans()), max_size=3))
    return World(tenants, customers, staff, staff_tenants, tickets, messages, attachments, canned)


def uid(kind: int, n: int) -> str:
    return str(uuid.UUID(int=(kind << 64) + n + 1))


@dataclass
class Built:
    users: list[User]
    labels: dict[str, str]
    tenant_names: dict[str, str]
    customer_ids: list[str]
    staff_ids: list[str]
    ticket_ids: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)


def build_world(conn: psycopg.Connection[Any], world: World, roles: dict[str, str]) -> Built:
    """Insert the world as the superuser (inside the caller's transaction). `roles`: each actor's database role, as
    the spec's `actors:` declare it (a staff member acts as the role of their staff actors, which must agree)."""
    tenant_ids = [uid(1, i) for i in range(world.tenants)]
    customer_ids = [uid(2, i) for i in range(len(world.customers))]
    staff_ids = [uid(3, i) for i in range(len(world.staff))]
    tenant_names = {t: f"tenant {chr(65 + i)}" for i, t in enumerate(tenant_ids)}
    labels = dict(tenant_names)
    users = [User(None, "anon", frozenset({"anon"}), "anon"),
             User(None, "service_role", frozenset({"service_role"}), "service_role")]
    for i, (cid, tenants) in enumerate(zip(customer_ids, world.customers, strict=True)):
        labels[cid] = f"customer c{i + 1}"
        users.append(User(cid, labels[cid], frozenset({"customer"}), roles["customer"],
                          frozenset(tenant_ids[t] for t in tenants)))
    for i, (sid, staff_roles, tenants) in enumerate(zip(staff_ids, world.staff, world.staff_tenants, strict=True)):
        labels[sid] = f"{'+'.join(sorted(staff_roles))} s{i + 1}"
        # A staff member who belongs to a tenant is also one of its customers (asking for help in their own name).
        kinds = staff_roles | {"customer"} if tenants else staff_roles
        (role,) = {roles[r] for r in staff_roles}
        users.append(User(sid, labels[sid], kinds, role, frozenset(tenant_ids[t] for t in tenants)))
    cur = conn.cursor()
    cur.executemany("INSERT INTO auth.users (id, email) VALUES (%s, %s)",
                    [(u, f"{labels[u].replace(' ', '.')}@example.com") for u in customer_ids + staff_ids])
    cur.executemany("INSERT INTO public.tenants (id, name) VALUES (%s, %s)", list(tenant_names.items()))
    cur.executemany("INSERT INTO public.tenant_members (tenant_id, user_id) VALUES (%s, %s)",
                    [(tenant_ids[t], uid_) for uid_, ts in zip(customer_ids + staff_ids,
                                                               world.customers + world.staff_tenants, strict=True)
                     for t in sorted(ts)])
    cur.executemany("INSERT INTO public.user_roles (user_id, role_name) VALUES (%s, %s)",
                    [(sid, r) for sid, roles in zip(staff_ids, world.staff, strict=True) for r in sorted(roles)])
    # Leave one priority unconfigured so that inserting an SLA row is a possible action.
    cur.execute("DELETE FROM public.support_sla_config WHERE priority = 'critical'")
    built = Built(users, labels, tenant_names, customer_ids, staff_ids)
    for i, t in enumerate(world.tickets):
        row = cur.execute(
            "INSERT INTO public.support_tickets (tenant_id, customer_id, subject, description, priority, status, "
            "assigned_to, tags) VALUES (%s, %s, %s, 'd', %s, %s, %s, %s) RETURNING id",
            (tenant_ids[t.tenant], customer_ids[t.customer], f"ticket {i + 1}", t.priority, t.status,
             staff_ids[t.assignee] if t.assignee is not None else None, t.tags)).fetchone()
        assert row is not None
        built.ticket_ids.append(str(row[0]))
    for ticket, author, internal, kind in world.messages:
        user = staff_ids[author] if author is not None else customer_ids[world.tickets[ticket].customer]
        row = cur.execute("INSERT INTO public.ticket_messages (ticket_id, user_id, message, is_internal, message_type) "
                          "VALUES (%s, %s, 'hello', %s, %s) RETURNING id",
                          (built.ticket_ids[ticket], user, internal, kind)).fetchone()
        assert row is not None
        built.message_ids.append(str(row[0]))
    for ticket, message, uploader in world.attachments:
        user = staff_ids[uploader] if uploader is not None else customer_ids[world.tickets[ticket].customer]
        cur.execute("INSERT INTO public.ticket_attachments (ticket_id, message_id, file_name, file_size, "
                    "storage_path, uploaded_by) VALUES (%s, %s, 'f.txt', 10, 'p/f.txt', %s)",
                    (built.ticket_ids[ticket], built.message_ids[message] if message is not None else None, user))
    for author, public, active in world.canned:
        cur.execute("INSERT INTO public.support_canned_responses (title, content, is_public, is_active, created_by) "
                    "VALUES ('hi', 'hello', %s, %s, %s)", (public, active, staff_ids[author]))
    return built


def read_world(conn: psycopg.Connection[Any], catalog: Catalog) -> dict[QName, list[Row]]:
    """Every row of every table and view with an access matrix, as the superuser sees it (uuids as text)."""
    world: dict[QName, list[Row]] = {}
    for name in access_objects(catalog):
        cur = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(name.schema, name.name)))
        columns = [d.name for d in cur.description or ()]
        world[name] = [{c: _plain(v) for c, v in zip(columns, r, strict=True)} for r in cur.fetchall()]
    return world


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def access_objects(catalog: Catalog) -> list[QName]:
    tables = [n for n, t in catalog.tables.items() if t.access is not None]
    views = [n for n, v in catalog.views.items() if v.access is not None]
    return sorted(tables) + sorted(views)


# -- probes --------------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    allowed: bool
    error: str | None = None
    ran: bool = True  # False: a data error (a CHECK, a foreign key, ...) stopped it before access was judged


@dataclass
class Probe:
    """One attempted action with what the matrix predicts and what happened."""

    command: str
    name: QName
    what: str
    expected: bool
    actual: Outcome
    by_kind: dict[str, bool] = field(default_factory=dict)  # the prediction for each actor kind of the user alone


def judged(user: User, predicate: Callable[[User], bool]) -> tuple[bool, dict[str, bool]]:
    """What the matrix predicts for the user, and for each actor kind they embody taken alone (so a probe counts
    for the coverage of the kinds whose own rules decide it)."""
    return predicate(user), {k: predicate(replace(user, kinds=frozenset({k}))) for k in user.kinds}


DENIED = (errors.InsufficientPrivilege,)  # RLS WITH CHECK, a guard trigger, or a missing grant: all 42501


def attempt(conn: psycopg.Connection[Any], statement: sql.Composable, params: tuple[Any, ...],
            integrity_counts_as_allowed: bool = False) -> Outcome:
    try:
        result = isolated(conn, statement, params)
    except DENIED as exc:
        return Outcome(False, str(exc).splitlines()[0])
    except errors.ForeignKeyViolation as exc:
        if integrity_counts_as_allowed:  # RLS let the delete through; the data's integrity refused it
            return Outcome(True, str(exc).splitlines()[0])
        return Outcome(False, str(exc).splitlines()[0], ran=False)
    except (errors.IntegrityError, errors.DataError) as exc:  # a generated value the data refuses
        return Outcome(False, str(exc).splitlines()[0], ran=False)
    return Outcome(result.rowcount == 1)


# A probe's savepoint, its statement and the rollback travel as one simple query: one round trip per probe instead
# of three (some 50,000 probes a run). The values are bound on the client (ClientCursor), as literals of their types.
_UNDO = b"ROLLBACK TO SAVEPOINT probe; RELEASE SAVEPOINT probe"


def isolated(conn: psycopg.Connection[Any], statement: sql.Composable,
             params: tuple[Any, ...] = ()) -> psycopg.ClientCursor[Any]:
    """Run one statement in a savepoint rolled back at once; the cursor is on the statement's result. An error is
    raised after the savepoint is undone."""
    cur = psycopg.ClientCursor(conn)
    text = cur.mogrify(statement, params).encode()
    try:
        cur.execute(b"SAVEPOINT probe; " + text + b"; " + _UNDO)
    except psycopg.Error:
        conn.execute(_UNDO)
        raise
    cur.nextset()
    return cur


def _where(key: tuple[str, ...], row: Row) -> tuple[sql.Composable, tuple[Any, ...]]:
    return (sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in key),
            tuple(row[k] for k in key))


def insert_candidates(name: QName, user: User, b: Built, world: dict[QName, list[Row]]) -> Iterator[Row]:
    """Rows an actor might try to insert: their own and others', in their tenants and not, with and without
    staff-only columns."""
    me = user.id or b.customer_ids[0]
    other = next(c for c in b.customer_ids if c != me) if me in b.customer_ids else b.customer_ids[0]
    tenants = sorted(b.tenant_names)
    tickets = world[QName("public", "support_tickets")]
    messages = world[QName("public", "ticket_messages")]
    table = name.name
    if table == "support_tickets":
        for tenant, customer in itertools.product(tenants[:2], (me, other)):
            yield {"tenant_id": tenant, "customer_id": customer, "subject": "s", "description": "d"}
        yield {"tenant_id": tenants[0], "customer_id": me, "subject": "s", "description": "d", "priority": "high"}
        for column, value in (("status", "open"), ("assigned_to", b.staff_ids[0]), ("satisfaction_rating", 5)):
            for tenant in tenants[:2]:
                yield {"tenant_id": tenant, "customer_id": me, "subject": "s", "description": "d", column: value}
    elif table == "ticket_messages":
        for ticket in tickets[:4]:
            for author, internal, kind in ((me, False, "comment"), (me, True, "note"), (other, False, "comment"),
                                           (me, False, "system")):
                yield {"ticket_id": ticket["id"], "user_id": author, "message": "m", "is_internal": internal,
                       "message_type": kind}
    elif table == "ticket_attachments":
        for ticket in tickets[:3]:
            on_ticket = [m for m in messages if m["ticket_id"] == ticket["id"]][:2]
            for message in [None, *on_ticket]:
                base = {"ticket_id": ticket["id"], "message_id": message["id"] if message else None,
                        "file_name": "a.txt", "file_size": 5, "storage_path": "x/a.txt"}
                yield {**base, "uploaded_by": me}
                yield {**base, "uploaded_by": other}
                yield {**base, "uploaded_by": me, "is_public": True}
    elif table == "ticket_activity_log":
        yield {"ticket_id": tickets[0]["id"], "user_id": me, "activity_type": "created", "description": "forged"}
    elif table == "support_canned_responses":
        yield {"title": "t", "content": "c", "created_by": me}
        yield {"title": "t", "content": "c", "created_by": other}
    elif table == "support_ticket_categories":
        yield {"name": "New", "slug": f"new-{uuid.uuid4().hex[:8]}"}
    elif table == "support_sla_config":
        yield {"priority": "critical", "display_name": "Critical", "color": "#DC2626",
               "first_response_minutes": 15, "resolution_minutes": 120}
    elif table == "tenants":
        yield {"name": "New tenant"}
    elif table == "tenant_members":  # joining a tenant one is not a member of yet
        members = {(r["tenant_id"], r["user_id"]) for r in world[name]}
        yield from ({"tenant_id": t, "user_id": me} for t in tenants if (t, me) not in members)
    elif table == "user_roles":  # granting oneself a staff role one does not hold yet
        held = {r["role_name"] for r in world[name] if r["user_id"] == me}
        yield from ({"user_id": me, "role_name": r} for r in STAFF_ROLES[:2] if r not in held)
    else:
        raise AssertionError(f"no insert candidates for {name}: add them so the matrix is exercised")


# -- candidates generated from the matrix and the model --------------------------------------------------------------
def matrix_values(catalog: Catalog, name: QName) -> list[tuple[str, Any]]:
    """(column, value) pairs the matrix names for a table: every `values:` and `when:` entry on its own columns,
    and every enum value of those columns (the values the matrix does not allow are the interesting ones)."""
    table = catalog.tables[name]
    assert table.access is not None
    columns = {c.name: c for c in table.columns}
    out: list[tuple[str, Any]] = []
    for entry in table.access.actors:
        for command in COMMANDS:
            for rule in entry.rules(command):
                for condition in (*rule.values, *rule.when):
                    column = columns.get(condition.path)
                    if column is None:
                        continue  # a path through a foreign key: a condition on another table's row
                    out += [(column.name, v) for v in condition.values]
                    if column.enum:
                        out += [(column.name, v) for v in catalog.enums[column.enum].values]
    return list(dict.fromkeys(out))


def outside_columns(catalog: Catalog, name: QName, command: str) -> list[str]:
    """Columns that some actor's `columns:` for the command leaves out: setting one must be refused to that actor."""
    table = catalog.tables[name]
    assert table.access is not None
    limits = [r.columns for e in table.access.actors for r in e.rules(command) if r.columns]
    return [c.name for c in table.columns if any(c.name not in limit for limit in limits)]


def some_value(catalog: Catalog, name: QName, column: str, old: Any, b: Built,
               world: dict[QName, list[Row]]) -> Any:
    """A value of the column's type other than `old` (the data may still refuse it: the probe is then not counted)."""
    col = next(c for c in catalog.tables[name].columns if c.name == column)
    kind = col.type.lower()
    if col.enum:
        return next((v for v in catalog.enums[col.enum].values if v != old), None)
    if col.references:
        target = col.references.split("(")[0]
        if target == "auth.users":
            return next((u for u in b.staff_ids + b.customer_ids if u != old), None)
        rows = world.get(QName("public", target), [])
        return next((r["id"] for r in rows if r["id"] != old), None)
    if kind == "boolean":
        return not old if isinstance(old, bool) else True
    if kind.startswith("timestamp"):
        return datetime(2030, 1, 1, tzinfo=UTC)
    if kind in ("integer", "bigint", "smallint"):
        return 3 if old != 3 else 4
    if kind.startswith(("varchar", "text")) and not kind.endswith("[]"):
        return "x" if old != "x" else "y"
    if kind == "text[]":
        return ["x"]
    if kind == "jsonb":
        return Jsonb({"probe": 1})
    if kind == "inet":
        return "10.0.0.1"
    return None


def generated_inserts(catalog: Catalog, name: QName, base: Row, b: Built,
                      world: dict[QName, list[Row]]) -> Iterator[Row]:
    """The first hand-written candidate with one column changed: to each value the matrix names, and (each in
    turn) every column some actor may not set. Left out: writing a column's literal default (the same row as not
    writing it) and columns a BEFORE INSERT trigger always assigns (the value written is replaced, never stored)."""
    table = catalog.tables[name]
    defaults = {c.name: c.default for c in table.columns if c.default is not None}
    assigned = trigger_assignments(catalog, table)
    candidates = [*matrix_values(catalog, name),
                  *((c, some_value(catalog, name, c, base.get(c), b, world))
                    for c in outside_columns(catalog, name, "insert") if c not in base)]
    for column, value in candidates:
        if value is not None and column not in assigned and defaults.get(column, object()) != value:
            yield {**base, column: value}


def generated_updates(catalog: Catalog, name: QName, rows: list[Row], b: Built,
                      world: dict[QName, list[Row]]) -> Iterator[tuple[Row, str, Any]]:
    """(row, column, new value): each value the matrix names, and each column some actor may not change, each on
    one row of the world (rotating, so that different rows meet different changes)."""
    if not rows:
        return
    changes = [*matrix_values(catalog, name), *((c, None) for c in outside_columns(catalog, name, "update"))]
    for i, (column, value) in enumerate(changes):
        row = rows[i % len(rows)]
        new = value if value is not None else some_value(catalog, name, column, row[column], b, world)
        if new is not None and new != row[column]:
            yield row, column, new


# Updates to try on each row: (column, new value from the old row, or None to skip this row).
UpdateRule = Callable[[Row, Built], Any]
UPDATES: dict[str, list[tuple[str, UpdateRule]]] = {
    "support_tickets": [
        ("subject", lambda r, b: r["subject"] + "!"),
        ("status", lambda r, b: "cancelled" if r["status"] != "cancelled" else None),
        ("status", lambda r, b: "open" if r["status"] != "open" else None),
        ("satisfaction_rating", lambda r, b: 4 if r["satisfaction_rating"] != 4 else None),
        ("assigned_to", lambda r, b: b.staff_ids[0] if r["assigned_to"] != b.staff_ids[0] else None),
        ("priority", lambda r, b: "high" if r["priority"] != "high" else "low"),
    ],
    "ticket_messages": [("message", lambda r, b: r["message"] + "!"),
                        ("is_internal", lambda r, b: not r["is_internal"])],
    "ticket_attachments": [("file_name", lambda r, b: r["file_name"] + "x"),
                           ("is_public", lambda r, b: not r["is_public"])],
    "ticket_activity_log": [("description", lambda r, b: "forged")],
    "support_canned_responses": [("title", lambda r, b: r["title"] + "!")],
    "support_ticket_categories": [("name", lambda r, b: r["name"] + "!")],
    "support_sla_config": [("display_name", lambda r, b: r["display_name"] + "!")],
    "tenants": [("name", lambda r, b: r["name"] + "!")],
    "tenant_members": [("created_at", lambda r, b: r["created_at"] + timedelta(days=1))],
    "user_roles": [("created_at", lambda r, b: r["created_at"] + timedelta(days=1))],
}


def probe_user(conn: psycopg.Connection[Any], catalog: Catalog, oracle: Oracle, user: User, b: Built,
               world: dict[QName, list[Row]]) -> list[Probe]:
    probes: list[Probe] = []
    with live.acting_as(conn, user.id, user.role):
        for name in access_objects(catalog):
            probes += probe_select(conn, catalog, oracle, user, name, world, b)
            if name not in catalog.tables:
                continue
            ident = sql.Identifier(name.schema, name.name)
            written = list(insert_candidates(name, user, b, world))
            generated = list(generated_inserts(catalog, name, written[0], b, world)) if written else []
            for row in written + generated:
                statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                    ident, sql.SQL(", ").join(map(sql.Identifier, row)),
                    sql.SQL(", ").join(sql.Placeholder() * len(row)))
                expected, by_kind = judged(user, lambda u, row=row, name=name: oracle.can_insert(
                    name, u, row, set(row)))
                probes.append(Probe("insert", name, f"insert {row}", expected,
                                    attempt(conn, statement, tuple(row.values())), by_kind))
            key = table_key(catalog, name)
            rows = world[name][:12]
            updates = [(row, column, rule(row, b)) for row in rows for column, rule in UPDATES[name.name]]
            for row, column, value in updates + list(generated_updates(catalog, name, rows, b, world)):
                if value is None or value == row[column]:
                    continue
                where, params = _where(key, row)
                statement = sql.SQL("UPDATE {} SET {} = %s WHERE ").format(ident, sql.Identifier(column)) + where
                new_row = {**row, column: value}
                expected, by_kind = judged(user, lambda u, row=row, name=name, new_row=new_row, column=column: (
                    oracle.can_update(name, u, row, new_row, {column})))
                what = f"set {column} = {value!r} on {describe_row(oracle, name, row, b.labels)}"
                probes.append(Probe("update", name, what, expected, attempt(conn, statement, (value, *params)),
                                    by_kind))
            for row in rows:
                where, params = _where(key, row)
                statement = sql.SQL("DELETE FROM {} WHERE ").format(ident) + where
                expected, by_kind = judged(user, lambda u, row=row, name=name: oracle.can_delete(name, u, row))
                what = f"delete {describe_row(oracle, name, row, b.labels)}"
                probes.append(Probe("delete", name, what, expected,
                                    attempt(conn, statement, params, integrity_counts_as_allowed=True), by_kind))
    return probes


def probe_select(conn: psycopg.Connection[Any], catalog: Catalog, oracle: Oracle, user: User, name: QName,
                 world: dict[QName, list[Row]], b: Built) -> list[Probe]:
    ident = sql.Identifier(name.schema, name.name)
    if name.name == "v_agent_ticket_stats":  # an aggregate: per agent, over the tickets the actor may read
        expected_counts = Counter(r["assigned_to"] for r in oracle.visible(QName("public", "support_tickets"), user)
                                  if r["assigned_to"] is not None)
        rows = _select(conn, sql.SQL("SELECT agent_id, total_assigned FROM {}").format(ident))
        actual_counts = {str(a): n for a, n in rows} if rows is not None else {}
        what = f"see agent totals {actual_counts} where the tickets it may read give {dict(expected_counts)}"
        # One probe of the whole aggregate: it counts for every kind of the user (no kind can be isolated in it).
        return [Probe("select", name, what, dict(expected_counts) == actual_counts, Outcome(True),
                      dict.fromkeys(user.kinds, True))]
    key = table_key(catalog, name)
    rows = _select(conn, sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(map(sql.Identifier, key)), ident))
    seen = {tuple(_plain(v) for v in r) for r in rows} if rows is not None else set()
    probes = []
    for row in world[name]:
        row_key = tuple(row[k] for k in key)
        expected, by_kind = judged(user, lambda u, row=row: oracle.can_select(name, u, row))
        probes.append(Probe("select", name, f"read {describe_row(oracle, name, row, b.labels)}", expected,
                            Outcome(row_key in seen), by_kind))
    if not world[name]:  # still count the check: nothing to read is a statement too
        probes.append(Probe("select", name, "read an empty table", True, Outcome(True)))
    return probes


def _select(conn: psycopg.Connection[Any], statement: sql.Composable) -> list[tuple[Any, ...]] | None:
    try:
        return isolated(conn, statement).fetchall()
    except errors.InsufficientPrivilege:
        return None  # no grant: the actor reads nothing


def check_world(dsn: str, catalog: Catalog, world: World) -> None:
    """Build one world, probe it as every user, and fail with every violation in plain words."""
    violations: list[str] = []
    with psycopg.connect(dsn) as conn, conn.transaction(force_rollback=True):
        b = build_world(conn, world, {a.name: a.role for _, a in catalog.schema.all("actors")})
        data = read_world(conn, catalog)
        oracle = Oracle(catalog, data)
        for user in b.users:
            for p in probe_user(conn, catalog, oracle, user, b, data):
                if not p.actual.ran:
                    continue
                OUTCOMES[(p.command, p.expected)] += 1
                for kind, alone in p.by_kind.items():
                    if alone == p.expected:
                        PROBED[(kind, p.name.name, p.command, p.expected)] += 1
                if p.expected != p.actual.allowed:
                    verb = "could" if p.actual.allowed else "could not"
                    may = "may not" if p.actual.allowed else "may"
                    detail = f" ({p.actual.error})" if p.actual.error else ""
                    violations.append(f"{user.describe(b.tenant_names)} {verb} {p.what} in {p.name.name}{detail}, "
                                      f"but the access matrix says it {may}")
            for kind in user.kinds:
                for name in access_objects(catalog):
                    for command in COMMANDS if name in catalog.tables else ("select",):
                        CHECKED[(kind, name.name, command)] += 1
    if violations:
        raise AssertionError(f"{len(violations)} access violation(s):\n" + "\n".join(violations[:20]))


# -- tests ---------------------------------------------------------------------------------------------------------
# Directions no world can show, with the reason.
UNREACHABLE = {
    ("customer", "user_roles", "select", True): "a customer has no staff role, so no user_roles row of their own",
}


def matrix_cells(catalog: Catalog) -> dict[tuple[str, str, str], tuple[bool, bool]]:
    """(actor, table, command) -> (the matrix allows some such action, the matrix refuses some such action). A
    view's rows are what its query returns; what it refuses is proven on its tables, so only its allowed side
    counts here."""
    cells = {}
    for name in access_objects(catalog):
        obj = catalog.tables.get(name) or catalog.views.get(name)
        assert obj is not None and obj.access is not None
        for entry in obj.access.actors:
            for command in COMMANDS if name in catalog.tables else ("select",):
                rules = entry.rules(command)
                allows = any("none" not in r.rows for r in rules)
                unlimited = any(r.rows == ("all",) and not (r.when or r.columns or r.values) for r in rules)
                cells[(entry.actor, name.name, command)] = (allows, not unlimited and name in catalog.tables)
    return cells


def test_matrix_holds_in_random_worlds(schema_db: str, spec_build: Build, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = spec_build.catalog
    CHECKED.clear()
    OUTCOMES.clear()
    PROBED.clear()
    # A failing world is reported after at most SHRINK_SECONDS of shrinking (a world holds dozens of rows, and each
    # shrink step rebuilds and re-probes one). Hypothesis reads this limit when it starts shrinking.
    monkeypatch.setattr(hypothesis_engine, "MAX_SHRINKING_SECONDS", SHRINK_SECONDS)

    # The example database (.hypothesis/) replays a world that failed before, first.
    @settings(max_examples=WORLDS, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(world=worlds())
    # The fixed world too: its probes (an agent reading a canned response, ...) do not rest on chance.
    @example(world=FIXED_WORLD)
    @example(world=COVERAGE_WORLD)
    def run(world: World) -> None:
        check_world(schema_db, catalog, world)

    run()
    actors = [a.name for _, a in catalog.schema.all("actors")]
    for name in access_objects(catalog):
        for command in COMMANDS if name in catalog.tables else ("select",):
            for actor in actors:
                assert CHECKED[(actor, name.name, command)] >= WORLDS, (actor, name.name, command)
    # Every cell of the matrix was probed in each direction it has: where it allows something, some probe the
    # matrix allows ran; where it refuses something, some probe it refuses ran.
    unprobed = [f"{actor} {command} {table}: never probed where the matrix {'allows' if direction else 'refuses'}"
                for (actor, table, command), sides in sorted(matrix_cells(catalog).items())
                for direction, present in zip((True, False), sides, strict=True)
                if present and PROBED[(actor, table, command, direction)] == 0
                and (actor, table, command, direction) not in UNREACHABLE]
    assert unprobed == [], "\n".join(unprobed)
    print(f"\naccess matrix: {WORLDS} random worlds and 2 fixed ones, {len(actors)} actors, "
          f"{len(access_objects(catalog))} tables/views, "
          f"{sum(CHECKED.values())} actor x object x command checks, probes (command, allowed): {dict(OUTCOMES)}, "
          f"cells probed both ways: {sum(1 for c, (a, r) in matrix_cells(catalog).items() if a and r)}")


FIXED_WORLD = World(
    tenants=2, customers=[frozenset({0}), frozenset({1})], staff=[frozenset({r}) for r in STAFF_ROLES],
    staff_tenants=[frozenset({0})] + [frozenset()] * (len(STAFF_ROLES) - 1),
    tickets=[Ticket(0, 0, "high", "open", 4, []), Ticket(1, 1, "low", "resolved", None, ["vip"])],
    messages=[(0, 4, True, "note"), (0, None, False, "comment")], attachments=[(0, 0, 4)], canned=[(4, False, True)])


# Every staff role a member of a tenant (FIXED_WORLD: of none); tickets assigned to each role, in and out of their
# tenants; public and internal messages and attachments by staff and customers; canned responses of every kind. Its
# probes reach both directions of every cell the matrix has, so coverage does not rest on the random worlds' luck.
COVERAGE_WORLD = World(
    tenants=3, customers=[frozenset({0}), frozenset({1}), frozenset({0, 2})],
    staff=[frozenset({r}) for r in STAFF_ROLES] + [frozenset(STAFF_ROLES[2:4])],
    staff_tenants=[frozenset({0}), frozenset({1}), frozenset({0}), frozenset({2}), frozenset({2}), frozenset({1})],
    tickets=[Ticket(0, 0, "critical", "new", None, []), Ticket(1, 1, "medium", "in_progress", 1, ["billing"]),
             Ticket(2, 2, "low", "waiting_customer", 2, ["urgent", "vip"]), Ticket(0, 2, "high", "open", 3, []),
             Ticket(1, 1, "low", "closed", 4, ["vip"])],
    messages=[(0, None, False, "comment"), (1, 1, True, "note"), (2, 2, False, "escalation"), (3, 3, True, "note"),
              (4, 4, False, "comment"), (3, None, False, "comment")],
    attachments=[(1, 1, 1), (2, None, 2), (3, 3, 3), (0, 0, None), (4, None, 4), (3, 5, None)],
    canned=[(1, True, True), (2, False, True), (3, True, False), (4, False, False)])


def test_fixed_world_holds(schema_db: str, spec_build: Build) -> None:
    check_world(schema_db, spec_build.catalog, FIXED_WORLD)


@pytest.mark.parametrize(("breakage", "expected"), [
    ('ALTER POLICY "Customers can view their own tickets" ON public.support_tickets USING (true)',
     "customer c1 (member of tenant A) could read support_tickets TKT-"),
    ("ALTER VIEW public.v_active_tickets_with_sla SET (security_invoker = false)",
     "v_active_tickets_with_sla"),
    ('DROP POLICY "Customers can add comments to their own tickets" ON public.ticket_messages',
     "customer c1 (member of tenant A) could not insert"),
])
def test_broken_policy_is_caught_with_a_readable_counterexample(schema_db: str, spec_build: Build, breakage: str,
                                                                 expected: str) -> None:
    with psycopg.connect(schema_db, autocommit=True) as conn:
        conn.execute(breakage)
    with pytest.raises(AssertionError) as failure:
        check_world(schema_db, spec_build.catalog, FIXED_WORLD)
    assert expected in str(failure.value)
